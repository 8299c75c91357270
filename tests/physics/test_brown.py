"""Brownian rotation (``model="brown"``) against analytic limits and independent references.

The references are closed forms (Langevin, exp(−t/τ_B), Debye), a Legendre-moment ODE
system derived and integrated here with scipy, and a stochastic (Euler–Maruyama)
simulation of rotating particles; none uses the package's solver."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from mdf_neel.physics import ParticleParameters, mean_magnetization
from mdf_neel.physics.brown import brown_rotation
from mdf_neel.physics.neel.discretisation import NeelDiscretisation
from mdf_neel.physics.neel.frame import rotation_to_z
from mdf_neel.physics.neel.full import run
from mdf_neel.physics.neel.integration import spline_coefficients

KB = 1.38064852e-23


def langevin(x):
    return 1.0 / math.tanh(x) - 1.0 / x


def test_brown_time_and_drift_are_the_stokes_values():
    # written out from the definitions: V_h = π D_h³/6, τ_B = 3ηV_h/(kB T), drift m0/(6ηV_h)
    d, dh, eta, temp, ms = 18e-9, 35e-9, 2.5e-3, 300.0, 400e3
    p = ParticleParameters(d, 5000.0, temperature_K=temp, saturation_magnetization_Am=ms, hydrodynamic_diameter_m=dh,
                           viscosity_Pas=eta)  # fmt: skip
    vh = math.pi * dh**3 / 6
    m0 = ms * math.pi * d**3 / 6
    assert p.brown_time_s == pytest.approx(3 * eta * vh / (KB * temp), rel=1e-14)
    op = brown_rotation(p)
    assert op.tau_s == pytest.approx(3 * eta * vh / (KB * temp), rel=1e-14)
    assert op.p2 == pytest.approx(m0 / (6 * eta * vh), rel=1e-14)
    assert (op.p1, op.p3, op.p4, op.sigma, op.anisotropy_Jm3) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert op.neel_time_s() == pytest.approx(op.tau_s, rel=1e-14)  # the warm-up's bound
    # default hydrodynamic diameter: the core
    assert ParticleParameters(d).hydrodynamic_diameter_m == d


def test_static_field_gives_langevin_from_equilibrium_and_from_uniform():
    p = ParticleParameters(25e-9, hydrodynamic_diameter_m=30e-9)
    b0 = np.array([[0.006, -0.009, 0.002], [0.0, 0.0, -0.02], [0.003, 0.0, 0.0]])
    xi = p.xi_per_tesla * np.linalg.norm(b0, axis=1)  # 5 ... 19
    ref = np.array([langevin(x) for x in xi])[:, None] * b0 / np.linalg.norm(b0, axis=1)[:, None]
    kw = dict(diameter_m=25e-9, hydrodynamic_diameter_m=30e-9, model="brown", rtol=1e-6)
    t = np.arange(8) * 1e-6
    m = mean_magnetization(t, np.repeat(b0[:, None], 8, 1), steady_state=True, **kw)
    np.testing.assert_allclose(m, np.repeat(ref[:, None], 8, 1), atol=1e-6)
    # from the isotropic density: after 15 τ_B the transient (slowest rate >= 1/τ_B) is < 3e-7
    t = np.linspace(0.0, 15 * p.brown_time_s, 300)
    m = mean_magnetization(t, np.repeat(b0[:, None], 300, 1), steady_state=False, initial="uniform", **kw)
    np.testing.assert_allclose(m[:, -1], ref, atol=2e-6)
    assert np.all(np.abs(m[:, 0]) < 1e-12)


def test_zero_field_decay_is_exp_minus_t_over_tau_b_from_a_saturated_start():
    # every l = 1 harmonic decays at 2 D_r = 1/τ_B whatever the start; ξ = 12 is far from linear
    p = ParticleParameters(22e-9, hydrodynamic_diameter_m=50e-9, viscosity_Pas=0.01)
    op = brown_rotation(p)
    disc = NeelDiscretisation.build(op, 30)
    b_init = 12.0 / p.xi_per_tesla * np.array([0.6, 0.0, 0.8])
    R = rotation_to_z((1.0, 0.0, 0.0))
    y0 = disc.equilibrium((R @ b_init)[None])
    t = np.linspace(0.0, 5 * p.brown_time_s, 300)
    coef = spline_coefficients(t, np.zeros((1, t.size, 3)), periodic=False)
    _, mom, *_ = run(disc, y0, coef, 0.0, t[-1], t[1], 0.0, 0.0, t.size, 1e-9)
    m = mom[0] @ R
    np.testing.assert_allclose(np.linalg.norm(m[0]), langevin(12.0), atol=1e-7)
    np.testing.assert_allclose(m, m[0][None] * np.exp(-t / p.brown_time_s)[:, None], atol=1e-7)


def test_weak_field_susceptibility_is_debye_over_a_frequency_sweep():
    # ξ0 = 0.01 along x; harmonic k of member k: χ(ω)/χ0 = 1/(1 + iωτ_B), χ0 = ξ/3 per unit ξ.
    # The nonlinear correction of the first harmonic is ~ξ0²/20 = 5e-6; a relative error of
    # 1e-4 in τ_B would show as 5e-5 at ωτ_B = 1.
    p = ParticleParameters(25e-9, hydrodynamic_diameter_m=30e-9)
    tau = p.brown_time_s
    T, period = 1024, 16 * math.pi * tau  # ω0 τ_B = 1/8
    t = np.arange(T) * period / T
    xi0 = 0.01
    ks = np.array([1, 2, 4, 8, 16, 32, 64])  # ωτ_B from 0.125 to 8
    f = np.zeros((ks.size, T, 3))
    f[:, :, 0] = xi0 / p.xi_per_tesla * np.cos(2 * np.pi * ks[:, None] * t / period)
    m = mean_magnetization(t, f, diameter_m=25e-9, hydrodynamic_diameter_m=30e-9, model="brown", rtol=1e-8)
    chi = np.array([2 * np.fft.rfft(m[i, :, 0])[k] / T for i, k in enumerate(ks)]) / (xi0 / 3)
    debye = 1.0 / (1.0 + 1j * ks * 2 * np.pi / period * tau)
    np.testing.assert_allclose(chi, debye, atol=3e-5, rtol=0)
    np.testing.assert_allclose(m[..., 1:], 0.0, atol=1e-12)


def legendre_reference(times, xi_of_t, n_max=70):
    """⟨P_n(cos θ)⟩ for a field along a fixed axis, from the uniform density.

    Adjoint of 2τ ∂t f = ∂x[(1−x²)(∂x f − ξ f)], x = cos θ, applied to P_n, with
    (1−x²) P_n' = n(n+1)/(2n+1) (P_{n−1} − P_{n+1}):
    2τ du_n/dt = −n(n+1) [u_n − ξ(t)/(2n+1) (u_{n−1} − u_{n+1})],  u_0 = 1.
    Time in units of τ_B; returns u_1 = ⟨cos θ⟩ at ``times``."""
    n = np.arange(1, n_max + 1)

    def rhs(s, u):
        up = np.concatenate([[1.0], u, [0.0]])
        return -0.5 * n * (n + 1) * (u - xi_of_t(s) / (2 * n + 1) * (up[:-2] - up[2:]))

    sol = solve_ivp(rhs, (times[0], times[-1]), np.zeros(n_max), t_eval=times, method="BDF", rtol=1e-11, atol=1e-13)
    assert sol.success
    return sol.y[0]


@pytest.mark.parametrize("axis", [(0.0, 0.0, 1.0), (1.0, 0.0, 0.0)])
def test_field_along_a_fixed_axis_matches_the_legendre_moment_equations(axis):
    # the solver's frame axis is x̂: a field along ẑ is transverse to it (all azimuthal
    # orders of the frame carry the density), along x̂ it is axial
    p = ParticleParameters(24e-9, hydrodynamic_diameter_m=40e-9, viscosity_Pas=2e-3)
    tau = p.brown_time_s

    def xi_of_s(s):  # s = t/τ_B: offset plus a drive reaching ξ = 14
        return 4.0 + 10.0 * np.cos(1.3 * s) + 2.0 * np.sin(0.4 * s)

    s = np.linspace(0.0, 12.0, 1200)
    b = np.outer(xi_of_s(s) / p.xi_per_tesla, axis)
    m = mean_magnetization(s * tau, b, diameter_m=24e-9, hydrodynamic_diameter_m=40e-9, viscosity_Pas=2e-3,
                           model="brown", steady_state=False, initial="uniform", rtol=1e-6)  # fmt: skip
    ref = legendre_reference(s, xi_of_s)
    np.testing.assert_allclose(m @ np.array(axis), ref, atol=2e-5)
    np.testing.assert_allclose(m - np.outer(m @ np.array(axis), axis), 0.0, atol=1e-9)


def test_rotating_field_matches_a_stochastic_simulation():
    """Steady state in a rotating field (ξ0 = 3, ωτ_B = 1) against Euler–Maruyama.

    Itô SDE of the direction e on the sphere (D = 1/(2τ_B)):
    de = D (ξ − (ξ·e) e) dt − 2D e dt + √(2D) (I − e eᵀ) dW, then renormalised.
    With precession (a Néel-like p1 term) the moment would leave the plane of the field."""
    p = ParticleParameters(25e-9, hydrodynamic_diameter_m=35e-9)
    tau, xi0, w = p.brown_time_s, 3.0, 1.0  # ω in units of 1/τ_B
    period = 2 * np.pi / w
    # solver: one period, steady state, in the lab frame
    T = 256
    s = np.arange(T) * period / T
    b = xi0 / p.xi_per_tesla * np.stack([np.cos(w * s), np.sin(w * s), 0 * s], -1)
    m = mean_magnetization(s * tau, b, diameter_m=25e-9, hydrodynamic_diameter_m=35e-9, model="brown", rtol=1e-6)
    # in the frame rotating with the field: component along it, lagging component, out of plane
    along = m[:, 0] * np.cos(w * s) + m[:, 1] * np.sin(w * s)
    lag = m[:, 0] * np.sin(w * s) - m[:, 1] * np.cos(w * s)
    assert np.ptp(along) < 1e-5 and np.ptp(lag) < 1e-5  # a steady rotation
    np.testing.assert_allclose(m[:, 2], 0.0, atol=1e-9)
    # stochastic reference: 4000 particles, Δs = 2e-3, one period of burn-in (the
    # transient decays faster than e^{-2π}), moments averaged over the next 3 periods
    rng = np.random.default_rng(2024)
    n_p, ds = 4000, 2e-3
    e = rng.normal(size=(n_p, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    D = 0.5
    acc, count, steps = np.zeros(3), 0, int(round(4 * period / ds))
    for i in range(steps):
        si = i * ds
        xi = xi0 * np.array([np.cos(w * si), np.sin(w * si), 0.0])
        dot = e @ xi
        dw = rng.normal(scale=math.sqrt(ds), size=(n_p, 3))
        dw -= (np.sum(dw * e, axis=1))[:, None] * e
        e = e + D * (xi[None] - dot[:, None] * e) * ds - 2 * D * e * ds + math.sqrt(2 * D) * dw
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        if si >= period:
            mean = e.mean(axis=0)
            c, sn = math.cos(w * si), math.sin(w * si)
            acc += (mean[0] * c + mean[1] * sn, mean[0] * sn - mean[1] * c, mean[2])
            count += 1
    sde = acc / count
    # statistical error over seeds ≈ 2.5e-3 per component (4σ = 1e-2); the Euler–Maruyama
    # bias at Δs = 2e-3 is O(Δs) ≈ 1e-3 of the ξ-sized drift terms
    assert abs(sde[0] - along.mean()) < 1e-2
    assert abs(sde[1] - lag.mean()) < 1e-2
    assert abs(sde[2]) < 1e-2
    assert lag.mean() > 0.1  # the lag is resolved, not hidden by the tolerance


def test_neel_only_parameters_and_the_easy_axis_do_not_enter():
    t = np.arange(64) * 2e-7
    b = np.zeros((2, 64, 3))
    b[:, :, 0] = 8e-3 * np.cos(2 * np.pi * np.arange(64) / 64)
    b[:, :, 1] = 5e-3 * np.sin(4 * np.pi * np.arange(64) / 64) + np.array([0.0, 2e-3])[:, None]
    kw = dict(diameter_m=20e-9, hydrodynamic_diameter_m=28e-9, model="brown", rtol=1e-5)
    ref = mean_magnetization(t, b, **kw)
    other = mean_magnetization(t, b, anisotropy_Jm3=9000.0, easy_axis=[(0, 1, 0), (0.3, 0.2, 0.9)], alpha=1.0,
                               gamma=1e10, **kw)  # fmt: skip
    np.testing.assert_array_equal(other, ref)
    # the solver's frame axis is an implementation detail: rotated fields give rotated moments
    rng = np.random.default_rng(5)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    rot = mean_magnetization(t, b @ q.T, **kw)
    np.testing.assert_allclose(rot, ref @ q.T, atol=2e-5)


def test_viscosity_and_hydrodynamic_volume_set_the_time_scale_only():
    # the equation depends on t/τ_B only: doubling η on a doubled time grid, or raising D_h
    # by 2^(1/3), gives the same moments (to the stepper's tolerance)
    n = 128
    b = np.zeros((n, 3))
    b[:, 0] = 10e-3 * np.cos(2 * np.pi * np.arange(n) / n)
    b[:, 1] = 6e-3 * np.sin(2 * np.pi * np.arange(n) / n) + 1e-3
    t = np.arange(n) * 4e-7
    kw = dict(diameter_m=22e-9, model="brown", rtol=1e-7)
    ref = mean_magnetization(t, b, hydrodynamic_diameter_m=30e-9, viscosity_Pas=1e-3, **kw)
    slow = mean_magnetization(2 * t, b, hydrodynamic_diameter_m=30e-9, viscosity_Pas=2e-3, **kw)
    big = mean_magnetization(2 * t, b, hydrodynamic_diameter_m=30e-9 * 2 ** (1 / 3), viscosity_Pas=1e-3, **kw)
    np.testing.assert_allclose(slow, ref, atol=1e-6)
    np.testing.assert_allclose(big, ref, atol=1e-6)
    faster = mean_magnetization(t, b, hydrodynamic_diameter_m=30e-9, viscosity_Pas=0.5e-3, **kw)
    assert np.max(np.abs(faster - ref)) > 1e-2  # and the time scale does matter here


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(hydrodynamic_diameter_m=10e-9), "hydrodynamic_diameter_m"),
        (dict(hydrodynamic_diameter_m=-1.0), "hydrodynamic_diameter_m"),
        (dict(viscosity_Pas=0.0), "viscosity_Pas"),
        (dict(viscosity_Pas=float("nan")), "viscosity_Pas"),
    ],
)
def test_bad_liquid_parameters_raise_naming_them(kwargs, word):
    t = np.arange(8) * 1e-7
    with pytest.raises(ValueError, match=word):
        mean_magnetization(t, np.zeros((8, 3)), diameter_m=20e-9, model="brown", **kwargs)


def test_auto_takes_the_reduced_basis_for_large_batches_and_slow_mode_is_refused():
    # 49 members (7 x 7 offsets of a 2-D drive): "auto" uses the reduced basis, verified
    # against full solves, and agrees with the full model to the reduced basis's 0.5·rtol
    n = 64
    s = np.arange(n) / n
    b = np.stack([12e-3 * np.cos(2 * np.pi * s), 12e-3 * np.sin(4 * np.pi * s), 0 * s], -1)
    g = np.linspace(-6e-3, 6e-3, 7)
    off = np.array([[x, y, 0.0] for y in g for x in g])
    f = b[None] + off[:, None, :]
    t = s * 40e-6
    kw = dict(diameter_m=16e-9, hydrodynamic_diameter_m=30e-9, model="brown", rtol=1e-3)
    m, info = mean_magnetization(t, f, return_info=True, **kw)
    assert info["method"] == "reduced"
    full = mean_magnetization(t, f, method="full", **kw)
    err = np.linalg.norm(m - full, axis=(1, 2)) / np.sqrt(n)
    assert err.max() < 5e-4
    with pytest.raises(ValueError, match="slow-mode"):
        mean_magnetization(t, f, method="slow-mode", **kw)
