"""Néel Fokker-Planck solver against analytic limits and independent references.

No test compares against numbers produced by this solver itself (except the refinement
and symmetry tests, which compare the solver with itself under a transformation)."""

import math

import numpy as np
import pytest

from tests.physics import _reference_physics as _reference  # independent references
from scipy.integrate import solve_ivp

from mdf_neel.physics import ParticleParameters, integral_relaxation_time, mean_magnetization
from mdf_neel.physics.neel.discretisation import NeelDiscretisation
from mdf_neel.physics.neel.frame import rotation_to_z
from mdf_neel.physics.neel.full import run
from mdf_neel.physics.neel.integration import spline_coefficients
from mdf_neel.physics.neel.resolution import choose_resolution

AXIS30 = (math.cos(math.radians(30)), math.sin(math.radians(30)), 0.0)


def sphere_boltzmann_mean(xi_vec, sigma, n, n_theta=300, n_phi=600):
    """Independent reference (see tests/physics/_reference_physics.py)."""
    return _reference.sphere_boltzmann_mean(xi_vec, sigma, n, n_theta, n_phi)


def drive(t, amp=(12e-3, 0.0, 0.0), freq=25e3, offset=(0.0, 0.0, 0.0)):
    b = np.zeros((t.size, 3))
    for c in range(3):
        b[:, c] = amp[c] * np.cos(2 * np.pi * freq * t) + offset[c]
    return b


def test_static_field_gives_boltzmann_density():
    p = ParticleParameters(22e-9, 1100)
    t = np.arange(200) * 2e-8  # 4 µs >> tau_N = 37 ns
    b0 = np.array([0.004, 0.002, 0.001])
    ref = sphere_boltzmann_mean(p.xi_per_tesla * b0, p.sigma, np.array(AXIS30))
    m = mean_magnetization(
        t,
        np.tile(b0, (200, 1)),
        diameter_m=22e-9,
        anisotropy_Jm3=1100,
        easy_axis=AXIS30,
        steady_state=False,
        initial="uniform",
        rtol=1e-7,
        resolution=18,
    )
    np.testing.assert_allclose(m[-1], ref, atol=1e-6)
    ms = mean_magnetization(
        t[:16],
        np.tile(b0, (16, 1)),
        diameter_m=22e-9,
        anisotropy_Jm3=1100,
        easy_axis=AXIS30,
        steady_state=True,
        rtol=1e-6,
    )
    np.testing.assert_allclose(ms, np.tile(ref, (16, 1)), atol=1e-6)


def test_k0_static_field_is_langevin():
    p = ParticleParameters(28e-9, 0.0)
    b0 = np.array([0.006, -0.009, 0.002])
    bn = np.linalg.norm(b0)
    xi = p.xi_per_tesla * bn
    ref = (1 / math.tanh(xi) - 1 / xi) * b0 / bn
    t = np.arange(8) * 1e-7
    m = mean_magnetization(t, np.tile(b0, (8, 1)), diameter_m=28e-9, anisotropy_Jm3=0.0, steady_state=True, rtol=1e-6)
    np.testing.assert_allclose(m, np.tile(ref, (8, 1)), atol=1e-6)


def _decay_run(p, n_axis, b_init, t_end, n_samples, N, tol):
    disc = NeelDiscretisation.build(p, N)
    R = rotation_to_z(n_axis)
    y0 = disc.equilibrium((R @ b_init)[None])
    t = np.linspace(0.0, t_end, n_samples)
    coef = spline_coefficients(t, np.zeros((1, n_samples, 3)), periodic=False)
    yT, mom, *_ = run(disc, y0, coef, 0.0, t_end, t[1], 0.0, 0.0, n_samples, tol)
    return t, mom[0] @ R, disc, yT


def test_zero_field_decay_is_exp_minus_t_over_tau_at_k0():
    p = ParticleParameters(20e-9, 0.0)
    t, m, _, _ = _decay_run(p, (0, 0, 1), np.array([0.01, 0.004, -0.003]), 6 * p.tau_s, 300, 10, 1e-9)
    ref = m[0][None, :] * np.exp(-t / p.tau_s)[:, None]
    np.testing.assert_allclose(m, ref, atol=1e-7 * np.abs(m[0]).max())
    assert np.abs(m[0]).max() > 0.3


@pytest.mark.parametrize("sigma", [10.0, 14.0])
def test_integral_relaxation_time_vs_brown_asymptote(sigma):
    d = 22e-9
    vol = math.pi * d**3 / 6
    p0 = ParticleParameters(d)
    k = sigma * p0.thermal_energy_J / vol
    p = ParticleParameters(d, k)
    assert p.sigma == pytest.approx(sigma)
    brown = p.tau_s * (math.sqrt(math.pi) / 2) * sigma**-1.5 * math.exp(sigma)
    brown1 = brown * (1 + 1 / sigma)
    t_end = 10 * brown
    # linear response: equilibrium in a weak field along n, then zero field
    N = choose_resolution(0.0, sigma, 1e-6)
    t, m, _, _ = _decay_run(p, AXIS30, 2e-5 * np.array(AXIS30), t_end, 801, N, 1e-8)
    u = m @ np.array(AXIS30)
    tail = u[-1] * brown  # remaining single-exponential tail (tiny)
    tau_int = (np.trapezoid(u, t) + tail) / u[0]
    # independent quadrature of the exact integral relaxation time
    assert tau_int / p.tau_s == pytest.approx(integral_relaxation_time(sigma), rel=3e-3)
    # Brown's asymptote with its first correction: within 1.8 % at sigma >= 10
    assert tau_int == pytest.approx(brown1, rel=0.02)
    # plain Brown underestimates by ~11 % at sigma=10, ~8 % at 14 (its known accuracy)
    assert 0.85 < brown / tau_int < 0.95


def test_probability_conserved_and_moment_bounded():
    p = ParticleParameters(25e-9, 5000)
    disc = NeelDiscretisation.build(p, 14)
    t = np.arange(200) * 2e-7
    b = drive(t, amp=(0.012, 0.008, 0.0), offset=(0.002, 0, 0))[None]
    coef = spline_coefficients(t, b, periodic=False)
    y0 = disc.uniform(1)
    yT, mom, _, nsteps, _ = run(disc, y0, coef, t[0], t[-1], t[1], 0.0, 0.0, t.size, 1e-5)
    # the l=0 row of the operator is zero, so mass changes only by rounding: at most one
    # rounding of c00 per Rodas5P stage and one for the update, in each accepted step
    stages = 8
    bound = (stages + 1) * int(nsteps[0]) * np.finfo(float).eps * disc.c00
    assert abs(yT[0, disc.i0] - disc.c00) <= bound
    assert np.all(np.linalg.norm(mom[0], axis=1) <= 1.0)
    assert np.abs(mom).max() > 0.3


def _random_rotation(rng):
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_rotation_covariance_and_axis_sign():
    rng = np.random.default_rng(7)
    t = np.arange(120) * 2e-7
    b = drive(t, amp=(0.012, 0.006, 0.0), offset=(0.001, 0.002, 0))
    n = np.array(AXIS30)
    kw = dict(diameter_m=22e-9, anisotropy_Jm3=3000, steady_state=False, initial="uniform", rtol=1e-5, resolution=12)
    m = mean_magnetization(t, b, easy_axis=n, **kw)
    for _ in range(2):
        Q = _random_rotation(rng)
        mq = mean_magnetization(t, b @ Q.T, easy_axis=Q @ n, **kw)
        np.testing.assert_allclose(mq, m @ Q.T, atol=1e-9)
    mneg = mean_magnetization(t, b, easy_axis=-n, **kw)
    np.testing.assert_allclose(mneg, m, atol=1e-10)
    # precession terms make m_z non-zero although n and B are in-plane (not a symmetry)
    assert np.abs(m[:, 2]).max() > 1e-5


def test_against_scipy_bdf_same_discretisation():
    p = ParticleParameters(22e-9, 1100)
    N = 8
    disc = NeelDiscretisation.build(p, N)
    R = rotation_to_z(AXIS30)
    t = np.arange(150) / 2.5e6

    def blab(tt):
        return np.array(
            [12.59e-3 * np.cos(2 * np.pi * 2.5e6 / 102 * tt), 13.55e-3 * np.cos(2 * np.pi * 2.5e6 / 96 * tt), 0.0]
        )

    b = np.array([blab(x) for x in t])
    m = mean_magnetization(
        t,
        b,
        diameter_m=22e-9,
        anisotropy_Jm3=1100,
        easy_axis=AXIS30,
        steady_state=False,
        initial="equilibrium",
        rtol=1e-6,
        resolution=N,
    )
    y0 = disc.equilibrium((R @ b[0])[None])[0]
    sol = solve_ivp(
        lambda tt, y: disc.operator(R @ blab(tt)) @ y,
        (0, t[-1]),
        y0,
        method="BDF",
        jac=lambda tt, y: disc.operator(R @ blab(tt)),
        t_eval=t,
        rtol=1e-10,
        atol=1e-13,
    )
    ref = disc.moments(sol.y.T) @ R
    assert np.linalg.norm(m - ref) / np.linalg.norm(ref) < 1e-5


def test_doubling_resolution_changes_less_than_rtol():
    t = np.arange(120) / 2.5e6
    b = np.stack(
        [12.59e-3 * np.cos(2 * np.pi * 2.5e6 / 102 * t) + 0.003, 13.55e-3 * np.cos(2 * np.pi * 2.5e6 / 96 * t), 0 * t],
        -1,
    )
    kw = dict(diameter_m=22e-9, anisotropy_Jm3=1100, easy_axis=AXIS30, steady_state=False, rtol=1e-3)
    m, info = mean_magnetization(t, b, return_info=True, **kw)
    N = info["resolution"]
    m2 = mean_magnetization(t, b, resolution=2 * N, **{**kw, "rtol": 1e-4})
    assert np.linalg.norm(m - m2) / np.linalg.norm(m2) < 1e-3
    assert N == choose_resolution(info["xi_max"], info["sigma"], 1e-3)


@pytest.mark.parametrize(
    "D, K, offset",
    [
        (22e-9, 9000.0, (0.0, 0.0)),  # sigma = 12.4: switching over the barrier sets N
        (28e-9, 100.0, (0.0144, 0.0147)),  # xi = 52 at the largest field: the well width sets N
    ],
)
def test_automatic_degree_is_converged_but_not_wasteful(D, K, offset):
    # two drive periods of the paper's Lissajous drive from equilibrium; the automatic
    # degree must agree with 8 more degrees to 0.3 rtol, and 6 fewer must already spend
    # more than half of rtol: the rule neither under- nor grossly over-resolves (the old
    # kappa^0.85 rule gave 34 at 28 nm / 100, where 28 is converged)
    t = np.arange(204) / 2.5e6
    b = np.stack(
        [
            12.59e-3 * np.cos(2 * np.pi * 2.5e6 / 102 * t) + offset[0],
            13.55e-3 * np.cos(2 * np.pi * 2.5e6 / 96 * t) + offset[1],
            0 * t,
        ],
        -1,
    )
    kw = dict(diameter_m=D, anisotropy_Jm3=K, easy_axis=AXIS30, steady_state=False, rtol=1e-3)
    m, info = mean_magnetization(t, b, return_info=True, **kw)
    N = info["resolution"]
    ref = mean_magnetization(t, b, resolution=N + 8, **kw)
    low = mean_magnetization(t, b, resolution=N - 6, **kw)
    assert np.linalg.norm(m - ref) / np.linalg.norm(ref) < 3e-4
    assert np.linalg.norm(low - ref) / np.linalg.norm(ref) > 5e-4


@pytest.mark.parametrize("D, K, N", [(22e-9, 1100.0, 12), (28e-9, 5000.0, 22)])
def test_periodic_steady_state_half_period_symmetry(D, K, N):
    # zero-offset sinusoid: (mx, my)(t+T/2) = -(mx, my)(t), mz(t+T/2) = mz(t)
    P = 100
    t = np.arange(P) * (1 / 25e3) / P
    b = drive(t, amp=(0.012, 0.004, 0.0))
    m, info = mean_magnetization(
        t,
        b,
        diameter_m=D,
        anisotropy_Jm3=K,
        easy_axis=AXIS30,
        steady_state=True,
        rtol=1e-4,
        resolution=N,
        return_info=True,
    )
    h = P // 2
    np.testing.assert_allclose(m[h:, :2], -m[:h, :2], atol=2e-4)
    np.testing.assert_allclose(m[h:, 2], m[:h, 2], atol=2e-4)
    assert np.all(info["steady_state_residual"] < 1e-4)
