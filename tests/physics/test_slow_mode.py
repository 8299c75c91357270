"""Slow-mode model (high barriers): kernel against dense linear algebra, table symmetries,
and the model against the full Fokker–Planck solution of the same discretisation."""

import numpy as np
import pytest

from mdf_neel.physics.neel.discretisation import NeelDiscretisation
from mdf_neel.physics.neel.full import steady_state
from mdf_neel.physics.neel.integration import local_tolerance
from mdf_neel.physics.neel.slow_mode import (
    EIGEN_MAXIT,
    EIGEN_TOL,
    SlowModeTables,
    boltzmann_reference,
    integrate_periodic,
    solve_slow_mode,
    table_values,
)
from mdf_neel.physics.neel.slow_mode_kernels import (
    A_COL,
    DMEQ_Z,
    FLAG,
    N_OUT,
    N_VALUES,
    POINT_COLUMNS,
    TABLE_COLUMNS,
    slow_mode_point,
)
from mdf_neel.physics.particles import ParticleParameters

PARTICLE = ParticleParameters(diameter_m=22e-9, anisotropy_Jm3=9000.0)  # σ = 12.4


@pytest.fixture(scope="module")
def disc():
    return NeelDiscretisation.build(PARTICLE, 24)


def _point(disc, bx, bz):
    out = np.empty(N_OUT)
    slow_mode_point(
        out,
        bx,
        bz,
        disc.indptr,
        disc.indices,
        disc.vals,
        disc.kl,
        disc.ku,
        disc.i0,
        disc.c00,
        disc.mom_idx,
        disc.mom_scale,
        EIGEN_TOL,
        EIGEN_MAXIT,
    )
    return out


def _dense(disc, B):
    """Slowest mode of the dense A(B) by numpy's eig (right and left), gauge m_z(φ) = 1."""
    A = disc.operator(B).toarray()
    w, V = np.linalg.eig(A)
    nonzero = np.argsort(np.abs(w))[1:]  # drop the stationary eigenvalue 0
    j = nonzero[0]
    assert abs(w[j].imag) < 1e-9 * abs(w[j].real)
    phi = V[:, j].real
    wl, U = np.linalg.eig(A.T)
    psi = U[:, np.argmin(np.abs(wl - w[j]))].real
    phi = phi / disc.moments(phi)[2]
    psi = psi / (psi @ phi)
    null = V[:, np.argmin(np.abs(w))].real
    feq = null / null[disc.i0] * disc.c00
    return -w[j].real, feq, phi, psi


def _fast_inverse(disc, B, drop_slow=True):
    """A⁻¹ on the fast modes (without the stationary and, with drop_slow, the slowest
    mode), dense, from the eigendecomposition."""
    A = disc.operator(B).toarray()
    w, V = np.linalg.eig(A)
    order = np.argsort(np.abs(w))
    keep = order[2:] if drop_slow else order[1:]
    inv = np.zeros_like(w)
    inv[keep] = 1.0 / w[keep]
    return (V @ np.diag(inv) @ np.linalg.inv(V)).real


def _derivatives(disc, B, h=1e-6):
    """Central differences of f_eq and φ1 (gauge m_z = 1) along B_x and B_z."""
    d_feq, d_phi = [], []
    for k in (0, 2):
        e = np.zeros(3)
        e[k] = h
        _, fp, php, _ = _dense(disc, B + e)
        _, fm, phm, _ = _dense(disc, B - e)
        d_feq.append((fp - fm) / (2 * h))
        d_phi.append((php - phm) / (2 * h))
    return d_feq, d_phi


#: (particle, degree, field [T], relative tolerance of the φ1-derivative couplings) of
#: the dense checks of slow_mode_point
DENSE_POINTS = {
    # σ = 12.4, well inside the thermal-switching range: a large spectral gap
    "gap": (PARTICLE, 24, (3e-3, 0.0, 5e-3), 1e-5),
    # σ = 3.1: λ1 is close to the next rates and a complex (precession) pair is the
    # smallest Ritz value for the first dozen plain inverse iterations, so the pair comes
    # from the shift-and-invert phase of the subspace iteration. The central differences
    # of the dense φ1 scatter by ~1e-4 there (g_φ,z -2707.3, -2706.9, -2706.7 for steps
    # 2, 1, 0.25 µT), hence the looser check of g_φ and j
    "no-gap": (ParticleParameters(diameter_m=28e-9, anisotropy_Jm3=1100.0), 22, (15e-3, 0.0, 10e-3), 5e-4),
}


@pytest.mark.parametrize("case", list(DENSE_POINTS))
def test_slow_mode_point_matches_dense_eigendecomposition_and_finite_differences(case):
    particle, degree, field, rtol_phi = DENSE_POINTS[case]
    disc = NeelDiscretisation.build(particle, degree)
    B = np.array(field)
    out = _point(disc, B[0], B[2])
    lam, feq, phi, psi = _dense(disc, B)
    assert out[FLAG] == 1.0
    assert out[0] == pytest.approx(lam, rel=1e-9)
    np.testing.assert_allclose(out[1:4], disc.moments(feq), atol=1e-10)
    np.testing.assert_allclose(out[4:7], disc.moments(phi), atol=1e-8)
    # couplings (x and z derivatives) by central differences of the dense decomposition
    d_feq, d_phi = _derivatives(disc, B)
    g_eq = np.array([psi @ d for d in d_feq])
    g_phi = np.array([psi @ d for d in d_phi])
    np.testing.assert_allclose(out[7:9], g_eq, atol=1e-5 * np.abs(g_eq).max())
    np.testing.assert_allclose(out[9:11], g_phi, atol=rtol_phi * np.abs(g_phi).max())
    # lag moments: A⁻¹ on the fast modes (dense eigendecomposition) of the derivatives
    inv = _fast_inverse(disc, B)
    h_lag = np.concatenate([disc.moments(inv @ d) for d in d_feq])
    j_lag = np.concatenate([disc.moments(inv @ d) for d in d_phi])
    np.testing.assert_allclose(out[11:17], h_lag, atol=1e-5 * np.abs(h_lag).max())
    np.testing.assert_allclose(out[17:23], j_lag, atol=rtol_phi * np.abs(j_lag).max())


def test_slow_mode_point_beyond_the_switching_field_keeps_the_stationary_state(disc):
    """45 mT across the easy axis is beyond the switching field (2K/Ms = 38 mT): the one
    well left has no slow inter-well mode, so the point is flagged, but the stationary
    moment and the lag of all (fast) modes are still exact there."""
    B = np.array([45e-3, 0.0, 0.5e-3])
    out = _point(disc, B[0], B[2])
    assert out[FLAG] == 0.0
    _, feq, _, _ = _dense(disc, B)
    np.testing.assert_allclose(out[1:4], disc.moments(feq), atol=1e-10)
    d_feq, _ = _derivatives(disc, B)
    inv = _fast_inverse(disc, B, drop_slow=False)
    h_lag = np.concatenate([disc.moments(inv @ d) for d in d_feq])
    np.testing.assert_allclose(out[11:17], h_lag, atol=1e-5 * np.abs(h_lag).max())


def test_slow_mode_point_with_a_rate_below_rounding():
    """σ = 25.6 (28 nm, 9000 J/m³) at the degree the solver picks for it, near zero field:
    λ1 ≈ 0.03 1/s emerges from cancellations of entries up to ~1e12 1/s, so its value is
    rounding noise, but the mode itself is well defined. The point must count as a slow
    mode (not be filled with the fastest rate), with a rate negligible over a period,
    and the stationary state and the mode's moment as the dense decomposition has them."""
    particle = ParticleParameters(diameter_m=28e-9, anisotropy_Jm3=9000.0)
    disc = NeelDiscretisation.build(particle, 43)
    B = np.array([0.3e-3, 0.0, -3e-3])
    out = _point(disc, B[0], B[2])
    assert out[FLAG] == 1.0
    assert out[0] < 10.0  # 1/s, against 1/period ≈ 1.5e3 1/s
    # the stationary state by the full model's own solve (l = 0 row replaced)
    np.testing.assert_allclose(out[1:4], disc.moments(disc.equilibrium(B[None]))[0], atol=1e-8)
    # dense: 0 and λ1 are both at rounding level, so eig returns two mixtures of f_eq and
    # φ1; φ1 is their combination without an l = 0 coefficient
    w, V = np.linalg.eig(disc.operator(B).toarray())
    v1, v2 = V[:, np.argsort(np.abs(w))[:2]].real.T
    assert np.sort(np.abs(w))[1] < 10.0
    phi = v1 * v2[disc.i0] - v2 * v1[disc.i0]
    np.testing.assert_allclose(out[4:7], disc.moments(phi) / disc.moments(phi)[2], atol=1e-6)


def test_column_signs_follow_from_the_vector_quantities():
    """The derivatives along B_k (h_k of m, j_k of μ1, ∂m_eq,z/∂B) carry the sign of their
    quantity times that of B_k under both symmetries, and the shift a that of m_z."""
    cols = {name: (r, s) for name, r, s, _ in TABLE_COLUMNS + POINT_COLUMNS}
    field = {"R": (-1, +1), "S": (-1, -1)}  # signs of (B_x, B_z)
    for i, sym in enumerate("RS"):
        for k, axis in enumerate("xz"):
            assert cols[f"h_{axis}"][i] == tuple(c * field[sym][k] for c in cols["m"][i])
            assert cols[f"j_{axis}"][i] == tuple(c * field[sym][k] for c in cols["mu"][i])
            assert cols["dmeq_z"][i][k] == cols["m"][i][2] * field[sym][k]
        assert cols["a"][i] == (cols["m"][i][2],)


def test_table_symmetry_extension_equals_direct_computation(disc):
    tables = SlowModeTables.build(disc, PARTICLE, 2e-3, 2e-3, spacing=1e-3)
    for ix in range(tables.bx.size):
        for iz in range(tables.bz.size):
            if not tables.converged[ix, iz]:
                continue
            bx, bz = tables.bx[ix], tables.bz[iz]
            out = _point(disc, bx, bz)
            assert out[FLAG] == 1.0, (bx, bz)
            m_b, dmz = boltzmann_reference(PARTICLE, np.array([bx]), np.array([bz]))
            direct = table_values(out[None, None], m_b, dmz)[0, 0]
            # atol: the central differences of the Boltzmann moment (g columns) round at ~1e-9
            np.testing.assert_allclose(tables.values[ix, iz], direct, rtol=1e-7, atol=1e-8)


def test_mirror_image_members_have_mirror_image_moments():
    """The model keeps the exact symmetry B_z -> -B_z (rotation by π about the frame x
    axis: m -> (m_x, -m_y, -m_z)) also where the slow mode is gone and the tables are
    filled: at σ = 0.4 that is most of the line B_z = 0 beyond the anisotropy field, which
    these fields cross. (A fill on the quadrant alone would leave the odd columns non-zero
    on that line, and the members would differ by ~1e-4.)"""
    particle = ParticleParameters(diameter_m=14e-9, anisotropy_Jm3=1100.0)
    d = NeelDiscretisation.build(particle, 9)
    P = 256
    t = np.arange(P) * 1e-6
    ph = 2 * np.pi * np.arange(P) / P
    bx = 8e-3 + 6e-3 * np.cos(ph)
    bz = 3e-3 * np.sin(ph) + 1.5e-3 * np.cos(2 * ph)
    fr = np.zeros((2, P, 3))
    fr[0, :, 0] = fr[1, :, 0] = bx
    fr[0, :, 2], fr[1, :, 2] = bz, -bz
    m, info = solve_slow_mode(t, fr, d, particle)
    assert info["slow_mode_unconverged_points"] > 0  # the filled region is visited
    np.testing.assert_allclose(m[1], m[0] * np.array([1.0, -1.0, -1.0]), rtol=0, atol=1e-10)


CASES = {
    # 40° off the easy axis, far below the switching field (38 mT): thermal switching
    # with a large hysteresis
    "thermal": (PARTICLE, 24, 9e-3, 40.0, 1e-3),
    # 80° off the axis and beyond the switching field: the field passes through points
    # without a slow mode, where only the stationary state and the fast lag remain
    "beyond-switching": (PARTICLE, 24, 45e-3, 80.0, 1e-3),
}


@pytest.mark.parametrize("case", list(CASES))
def test_slow_mode_model_matches_the_full_model(case):
    """The slow-mode model and the full Fokker–Planck steady state of the same
    discretisation agree to 1e-3 (relative L2 of m̄), while the equilibrium alone is off
    by percent."""
    particle, N, amplitude, angle, offset = CASES[case]
    disc = NeelDiscretisation.build(particle, N)
    P = 204
    dt = 1.0 / 2.5e6
    t = np.arange(P) * dt
    drive = amplitude * np.cos(2 * np.pi * t / (P * dt))
    fr = np.zeros((1, P, 3))
    fr[0, :, 0] = np.sin(np.radians(angle)) * drive
    fr[0, :, 2] = np.cos(np.radians(angle)) * drive + offset
    m_sm, info = solve_slow_mode(t, fr, disc, particle)
    m_full, *_ = steady_state(disc, particle, t, fr, dt, local_tolerance(1e-5), 1e-5, 6)
    m_eq = disc.moments(disc.equilibrium(fr[0]))
    scale = np.linalg.norm(m_full)
    err = np.linalg.norm(m_sm - m_full) / scale
    assert np.linalg.norm(m_eq - m_full[0]) / scale > 1e-2  # the dynamics matter here
    assert err < 1e-3
    assert info["slow_mode_gap"][0] > 1e-3  # it does switch within a period


def test_table_evaluation_equals_scipy_splines():
    """The joint numba evaluation is the same bicubic spline as RectBivariateSpline.ev,
    inside the grid and (clamped) at its edges."""
    from scipy.interpolate import RectBivariateSpline

    rng = np.random.default_rng(3)
    bx = np.linspace(-3e-3, 3e-3, 13)
    bz = np.linspace(-2e-3, 2e-3, 9)
    values = rng.normal(size=(bx.size, bz.size, N_VALUES))
    tables = SlowModeTables(bx, bz, values, np.ones(values.shape[:2], dtype=bool), 0.0)
    x = np.concatenate([rng.uniform(-3e-3, 3e-3, 200), bx[[0, -1]]])
    z = np.concatenate([rng.uniform(-2e-3, 2e-3, 200), bz[[0, -1]]])
    got = tables.evaluate(x.reshape(2, -1), z.reshape(2, -1))
    assert got.shape == (2, x.size // 2, N_VALUES)
    for k in range(N_VALUES):
        ref = RectBivariateSpline(bx, bz, values[..., k]).ev(x, z)
        np.testing.assert_allclose(got[..., k].ravel(), ref, rtol=1e-12, atol=1e-12)


def test_periodic_solution_of_the_scalar_equation_against_solve_ivp():
    """dc/dt = −(λ1 + g_φ·Ḃ) c − λ1 a − g·Ḃ with smooth periodic coefficients, λ1·dt < 1
    everywhere and a decay rate that turns negative for part of the period (legitimate
    there: blocked particle, the gauge of φ1 changes): the integrator's periodic c must
    match an independent solve_ivp shooting solution, with no floor applied."""
    from scipy.integrate import solve_ivp

    from mdf_neel.physics.neel.slow_mode import integrate_periodic

    period, S = 1e-4, 4000
    dt = period / S
    t = np.arange(S) * dt
    w = 2 * np.pi / period

    def coeffs(tt):
        lam = 4e4 * (1.2 + np.sin(w * tt))  # 8e3 … 8.8e4 1/s, λ1·dt <= 2.2e-3
        gphi_bdot = -6e4 * np.cos(w * tt)  # the decay rate λ1 + g_φ·Ḃ dips below zero
        src = 3e4 * np.sin(2 * w * tt + 0.3)
        shift = 0.2 * np.cos(w * tt + 0.5)  # a: the reference state's offset
        return lam, gphi_bdot, src, shift

    lam, gb, src, shift = coeffs(t)
    values = np.zeros((1, S, N_VALUES))
    values[0, :, A_COL] = shift
    values[0, :, 0] = np.log(lam)
    values[0, :, 6] = 1.0  # μ1 = ẑ, m_eq = 0: m_z = c
    values[0, :, 9] = gb  # g_φ,x with Ḃ_x = 1 T/s
    values[0, :, 7] = -src  # g_eq,x
    bdot = np.zeros((1, S, 3))
    bdot[0, :, 0] = 1.0
    m, gap, clamped = integrate_periodic(values, bdot, dt)
    assert clamped[0] == 0 and np.min(lam + gb) < 0

    def rhs(tt, c):
        l_, g_, s_, a_ = coeffs(tt)
        return -(l_ + g_) * c + s_ - l_ * a_

    def hom_rhs(tt, c):
        l_, g_, _, _ = coeffs(tt)
        return -(l_ + g_) * c

    kw = dict(rtol=1e-11, atol=1e-14, method="DOP853", dense_output=True)
    part = solve_ivp(rhs, (0, period), [0.0], **kw)
    hom = solve_ivp(hom_rhs, (0, period), [1.0], **kw)
    c0 = part.y[0, -1] / (1.0 - hom.y[0, -1])
    ref = part.sol(t)[0] + c0 * hom.sol(t)[0]
    assert gap[0] == pytest.approx(1.0 - hom.y[0, -1], rel=1e-6)
    np.testing.assert_allclose(m[0, :, 2], ref, atol=1e-5 * np.abs(ref).max())


def _fine_fields(t, fr, substeps):
    """The fields and their time derivatives on the sub-step grid, as solve_slow_mode
    interpolates them (periodic, band-limited)."""
    P = t.size
    dt = t[1] - t[0]
    F = np.fft.rfft(fr, axis=1)
    omega = 2 * np.pi * np.fft.rfftfreq(P, dt)
    fine = np.fft.irfft(F, n=P * substeps, axis=1) * substeps
    fdot = np.fft.irfft(F * (1j * omega)[None, :, None], n=P * substeps, axis=1) * substeps
    return fine, fdot


def _direct_values(disc, particle, fine, shift=None, points=None):
    """Table values computed directly (no interpolation) at every sub-step field of one
    member; ``shift(bx, bz)`` -> (a, ∂a/∂B_x, ∂a/∂B_z) replaces the Boltzmann reference
    by f_eq + a φ1 (a = 0: the discrete stationary state itself). ``points``: the kernel
    outputs at those fields, if already computed."""
    pts = points if points is not None else np.stack([_point(disc, bx, bz) for bx, bz in fine[0][:, [0, 2]]])
    if shift is None:
        m_b = np.empty((pts.shape[0], 3))
        dmz = np.empty((pts.shape[0], 2))
        for i, (bx, bz) in enumerate(fine[0][:, [0, 2]]):
            mb, d = boltzmann_reference(particle, np.array([bx]), np.array([bz]))
            m_b[i], dmz[i] = mb[0, 0], d[0, 0]
    else:
        a, dax, daz = shift(fine[0, :, 0], fine[0, :, 2])
        m_b = pts[:, 1:4].copy()
        m_b[:, 2] += a
        dmz = pts[:, DMEQ_Z : DMEQ_Z + 2] + np.stack([dax, daz], axis=-1)
    return table_values(pts, m_b, dmz)[None]


def test_reference_state_shift_leaves_the_model_unchanged(disc):
    """The slow mode may be referred to any f_eq + a(B) φ1 (table_values): the
    integrated m̄ along a switching trajectory is the same for a = 0 (the discrete
    stationary state), the Boltzmann reference and a large synthetic a(B), up to the time
    discretisation, whose share must shrink at second order under sub-step refinement. A
    wrong sign or a missing term (λ1 a, a g_φ, ∂a/∂B, a μ1, a j) in the shifted equation
    leaves a difference of order a that does not shrink."""
    P = 102
    dt = 1.0 / 2.5e6
    t = np.arange(P) * dt
    drive = 9e-3 * np.cos(2 * np.pi * t / (P * dt))
    fr = np.zeros((1, P, 3))
    fr[0, :, 0] = np.sin(np.radians(40.0)) * drive
    fr[0, :, 2] = np.cos(np.radians(40.0)) * drive + 1e-3

    def synthetic(bx, bz):
        kx, kz = 1 / 2e-3, 1 / 3e-3
        a = 0.3 * np.sin(kx * bx) * np.cos(kz * bz) + 0.1
        return (a, 0.3 * kx * np.cos(kx * bx) * np.cos(kz * bz), -0.3 * kz * np.sin(kx * bx) * np.sin(kz * bz))

    def zero(bx, bz):
        return np.zeros_like(bx), np.zeros_like(bx), np.zeros_like(bx)

    diff = {}
    for substeps in (4, 8):
        fine, fdot = _fine_fields(t, fr, substeps)
        pts = np.stack([_point(disc, bx, bz) for bx, bz in fine[0][:, [0, 2]]])
        runs = {}
        for name, shift in (("none", zero), ("boltzmann", None), ("synthetic", synthetic)):
            v = _direct_values(disc, PARTICLE, fine, shift, points=pts)
            m, gap, _ = integrate_periodic(v, fdot, dt / substeps)
            assert gap[0] > 1e-3  # the particle switches: the periodic solution is unique
            runs[name] = m[0, ::substeps]
        scale = np.linalg.norm(runs["none"])
        assert np.linalg.norm(runs["none"][:, 2] - runs["none"][0, 2]) > 0.1 * scale
        for name in ("boltzmann", "synthetic"):
            diff[name, substeps] = np.linalg.norm(runs[name] - runs["none"]) / scale
    assert diff["boltzmann", 8] < 1e-6
    assert diff["synthetic", 8] < 5e-5
    assert diff["synthetic", 4] / diff["synthetic", 8] > 3.0


def test_tables_follow_a_blocked_zero_field_crossing():
    """28 nm / 9000 J/m³ (σ = 25.6): near zero field λ1 is at rounding level (~0.03 1/s),
    so the discrete stationary state's population split is poorly determined (its m_z
    oscillates along B_x), and the population switch of m_eq is kT/m0 = 0.74 mT wide. A
    fast diagonal pass close to the origin, with the particle blocked: the tables
    (interpolated) must give the m̄ of the same model evaluated directly at every
    sub-step. Without the refinement near zero field they are off by ~4e-3, referred to the
    discrete f_eq (no Boltzmann reference) by ~0.4."""
    particle = ParticleParameters(diameter_m=28e-9, anisotropy_Jm3=9000.0)
    disc43 = NeelDiscretisation.build(particle, 43)
    P, substeps = 32, 4
    period = 5.5e-6
    t = np.arange(P) * period / P
    w = 2 * np.pi / period
    fr = np.zeros((1, P, 3))
    fr[0, :, 0] = -0.9e-3 * np.cos(w * t) + 0.1e-3 * np.sin(w * t)
    fr[0, :, 2] = 1.2e-3 * np.cos(w * t) + 0.6e-3  # the upper well wins on average
    m_tab, info = solve_slow_mode(t, fr, disc43, particle, substeps=substeps)
    assert info["slow_mode_gap"][0] < 1e-6  # blocked: the population is frozen
    fine, fdot = _fine_fields(t, fr, substeps)
    m, _, _ = integrate_periodic(_direct_values(disc43, particle, fine), fdot, t[1] / substeps)
    m_direct = m[0, ::substeps]
    # the equilibrium moment flips while m̄ stays in its well
    m_eq = disc43.moments(disc43.equilibrium(fr[0]))
    assert np.ptp(m_eq[:, 2]) > 1.0 and np.ptp(m_direct[:, 2]) < 0.05
    assert np.min(m_direct[:, 2]) > 0.3
    # the frozen population itself (the periodic solution over 1e7 Néel periods) rests on
    # rates of ~1e-2 1/s; compared is m̄'s course through the crossing
    np.testing.assert_allclose(m_tab[0] - m_tab[0, :1], m_direct - m_direct[:1], atol=1e-3)
    np.testing.assert_allclose(m_tab[0], m_direct, atol=1e-2)
