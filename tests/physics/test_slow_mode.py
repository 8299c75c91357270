"""Slow-mode model (high barriers): kernel against dense linear algebra, table symmetries,
and the model against the full Fokker–Planck solution of the same discretisation."""

import numpy as np
import pytest

from mdf_neel.physics._slow_mode import EIGEN_MAXIT, EIGEN_TOL, SlowModeTables, solve_slow_mode
from mdf_neel.physics._slow_mode_kernels import N_OUT, slow_mode_point
from mdf_neel.physics.fokker_planck import NeelDiscretisation, _steady_state, _local_tolerance
from mdf_neel.physics.particles import ParticleParameters

PARTICLE = ParticleParameters(diameter_m=22e-9, anisotropy_Jm3=9000.0)  # σ = 12.4


@pytest.fixture(scope="module")
def disc():
    return NeelDiscretisation.build(PARTICLE, 24)


def _point(disc, bx, bz):
    out = np.empty(N_OUT)
    slow_mode_point(out, bx, bz, disc.indptr, disc.indices, disc.vals, disc.kl, disc.ku,
                    disc.i0, disc.c00, disc.mom_idx, disc.mom_scale, EIGEN_TOL, EIGEN_MAXIT)
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


def test_slow_mode_point_matches_dense_eigendecomposition_and_finite_differences(disc):
    B = np.array([3e-3, 0.0, 5e-3])
    out = _point(disc, B[0], B[2])
    lam, feq, phi, psi = _dense(disc, B)
    assert out[11] == 1.0
    assert out[0] == pytest.approx(lam, rel=1e-9)
    np.testing.assert_allclose(out[1:4], disc.moments(feq), atol=1e-10)
    np.testing.assert_allclose(out[4:7], disc.moments(phi), atol=1e-8)
    # couplings (x and z derivatives) by central differences of the dense decomposition
    h = 1e-6
    g_eq, g_phi = np.empty(2), np.empty(2)
    for q, k in enumerate((0, 2)):
        e = np.zeros(3)
        e[k] = h
        _, fp, php, _ = _dense(disc, B + e)
        _, fm, phm, _ = _dense(disc, B - e)
        g_eq[q] = psi @ (fp - fm) / (2 * h)
        g_phi[q] = psi @ (php - phm) / (2 * h)
    np.testing.assert_allclose(out[7:9], g_eq, atol=1e-5 * np.abs(g_eq).max())
    np.testing.assert_allclose(out[9:11], g_phi, atol=1e-5 * np.abs(g_phi).max())


def test_table_symmetry_extension_equals_direct_computation(disc):
    tables = SlowModeTables.build(disc, 2e-3, 2e-3, spacing=1e-3)
    for ix in range(tables.bx.size):
        for iz in range(tables.bz.size):
            if not tables.converged[ix, iz]:
                continue
            out = _point(disc, tables.bx[ix], tables.bz[iz])
            assert out[11] == 1.0, (tables.bx[ix], tables.bz[iz])
            direct = np.concatenate([[np.log(out[0])], out[1:11]])
            np.testing.assert_allclose(tables.values[ix, iz], direct, rtol=1e-7, atol=1e-9)


def test_slow_mode_model_matches_the_full_model_where_switching_is_thermal():
    """A drive along a direction 40° off the easy axis, far below the switching field
    (38 mT): the particle switches by thermal activation, with a large hysteresis. The
    slow-mode model and the full Fokker–Planck steady state (same discretisation) agree
    to 1e-3, while the equilibrium alone is off by percent."""
    disc = NeelDiscretisation.build(PARTICLE, 24)
    P = 204
    dt = 1.0 / 2.5e6
    t = np.arange(P) * dt
    drive = 9e-3 * np.cos(2 * np.pi * t / (P * dt))
    fr = np.zeros((1, P, 3))
    fr[0, :, 0] = np.sin(np.radians(40.0)) * drive
    fr[0, :, 2] = np.cos(np.radians(40.0)) * drive + 1e-3
    m_sm, info = solve_slow_mode(t, fr, disc)
    m_full, *_ = _steady_state(disc, PARTICLE, t, fr, dt, _local_tolerance(1e-5), 1e-5, 6)
    m_eq = disc.moments(disc.equilibrium(fr[0]))
    scale = np.linalg.norm(m_full)
    assert np.linalg.norm(m_eq - m_full[0]) / scale > 1e-2  # the dynamics matter here
    assert np.linalg.norm(m_sm - m_full) / scale < 1e-3
    assert info["slow_mode_gap"][0] > 1e-3  # it does switch within a period
