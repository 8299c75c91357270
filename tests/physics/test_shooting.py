"""Newton–Krylov shooting of the periodic steady state by linearity of the period map.

The corrected period is not run again: its end state and its m̄ are combined from the
GMRES vectors' period runs. Checked against explicit linear algebra, and against a
replayed run of the corrected period (the path taken when the states are saved)."""

import numpy as np

from mdf_neel.physics import ParticleParameters
from mdf_neel.physics.neel.discretisation import NeelDiscretisation
from mdf_neel.physics.neel.full import steady_state
from mdf_neel.physics.neel.integration import local_tolerance, warmup_samples
from mdf_neel.physics.neel.shooting import linear_shooting


def test_linear_shooting_matches_dense_linear_algebra():
    rng = np.random.default_rng(3)
    n, nb = 12, 3
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    phi = Q @ np.diag(np.r_[0.999, 0.9, 0.5, rng.uniform(-0.1, 0.1, n - 3)]) @ Q.T
    C = rng.normal(size=(4, 2, n))  # a linear "recording" of the trajectory, shape (4, 2)
    residual = rng.normal(size=(nb, n))
    calls = []

    def period_map(v, idx):
        calls.append(idx.size)
        return v @ phi.T, (np.einsum("abn,kn->kab", C, v),), (np.linalg.norm(v, axis=1),)

    tol = np.full(nb, 1e-11)
    delta, phi_delta, (rec,), (bound,) = linear_shooting(period_map, residual, tol)
    exact = np.linalg.solve(np.eye(n) - phi, residual.T).T
    np.testing.assert_allclose(delta, exact, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(phi_delta, delta @ phi.T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(rec, np.einsum("abn,kn->kab", C, delta), rtol=1e-10, atol=1e-10)
    assert np.all(bound >= np.linalg.norm(delta, axis=1) * (1 - 1e-12))
    assert len(calls) <= n  # GMRES: at most n vectors


def test_corrected_period_by_linearity_equals_a_replayed_run():
    """A drive period of about 2 τ: the warm-up cannot settle, every member shoots. The
    m̄ of the corrected period combined by linearity must equal the replayed run of it
    (save=True) to round-off, and the returned residual must be the GMRES tolerance."""
    particle = ParticleParameters(diameter_m=18e-9, anisotropy_Jm3=2000.0)
    P = 96
    dt = 2e-10
    times = np.arange(P) * dt
    t = np.arange(P) / P
    fr = np.zeros((2, P, 3))
    fr[..., 0] = 12e-3 * np.cos(2 * np.pi * 8 * t)
    fr[..., 2] = 13e-3 * np.cos(2 * np.pi * 9 * t)
    fr += np.array([[0.004, 0.0, -0.003], [-0.01, 0.0, 0.008]])[:, None, :]
    rtol = 1e-3
    assert not warmup_samples(particle, rtol, dt, P)[1]
    disc = NeelDiscretisation.build(particle, 9)
    tol = local_tolerance(rtol)
    m_lin, res_lin, per_lin, *_ = steady_state(disc, particle, times, fr, dt, tol, rtol, 4)
    m_run, res_run, per_run, *_ = steady_state(disc, particle, times, fr, dt, tol, rtol, 4, save=True)
    assert np.all(per_lin > 2)  # shot
    np.testing.assert_array_equal(per_run - per_lin, 1.0)  # the replay: one more period
    np.testing.assert_allclose(m_lin, m_run, rtol=0, atol=1e-11)
    np.testing.assert_allclose(res_lin, res_run, rtol=0, atol=1e-11)
    assert np.max(res_lin) <= 0.1 * rtol
