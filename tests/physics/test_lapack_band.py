"""LAPACK banded LU (dgbtrf/dgbtrs) called from the numba kernels (``_lapack``)."""

import numba
import numpy as np
import pytest

from mdf_neel.physics import ParticleParameters
from mdf_neel.physics.neel import band
from mdf_neel.physics.neel.discretisation import NeelDiscretisation
from mdf_neel.physics.neel.lapack import LAPACK_INT, single_threaded_blas


def random_band(rng, n, kl, ku):
    """Dense random (not diagonally dominant: pivoting happens) band matrix."""
    A = np.zeros((n, n))
    for d in range(-min(kl, n - 1), min(ku, n - 1) + 1):
        A += np.diag(rng.standard_normal(n - abs(d)), d)
    return A


def to_band(A, kl, ku):
    """The kernels' storage ab[j, kl + ku + i - j] = A[i, j], shape (n, 2 kl + ku + 1)."""
    n = A.shape[0]
    kv = kl + ku
    ab = np.zeros((n, 2 * kl + ku + 1))
    for j in range(n):
        for i in range(max(0, j - ku), min(n, j + kl + 1)):
            ab[j, kv + i - j] = A[i, j]
    return ab


@pytest.mark.parametrize(
    "n, kl, ku",
    [
        (1, 0, 0),
        (7, 2, 3),
        (5, 6, 6),  # band wider than the matrix
        (60, 4, 1),
        (60, 1, 5),  # unblocked path (kl below LAPACK's block size)
        (300, 40, 35),
        (400, 45, 45),  # blocked dgbtrf (kl > 32)
    ],
)
def test_solves_random_band_systems(n, kl, ku):
    rng = np.random.default_rng(n + 100 * kl + ku)
    A = random_band(rng, n, kl, ku)
    x_true = rng.standard_normal(n)
    b = A @ x_true
    ab = to_band(A, kl, ku)
    ipiv = np.empty(n, dtype=LAPACK_INT)
    assert band.band_lu(ab, ipiv, kl, ku) == 0
    # LAPACK convention: 1-based, row j swapped with a row of j..j+kl
    j = np.arange(n)
    assert np.all(ipiv >= j + 1) and np.all(ipiv <= np.minimum(j + 1 + kl, n))
    if n >= 60:
        assert np.any(ipiv != j + 1)  # the test really exercises pivoting
    x = b.copy()
    band.band_solve(ab, ipiv, kl, ku, x)
    x_ref = np.linalg.solve(A, b)  # dense, independent of the band code
    scale = np.linalg.norm(x_ref) * np.linalg.cond(A) * 1e-13
    assert np.linalg.norm(x - x_ref) <= scale
    assert np.linalg.norm(A @ x - b) <= 1e-10 * np.linalg.norm(A, 1) * np.linalg.norm(x)


@pytest.mark.parametrize("n, kl, ku, k", [(50, 3, 2, 17), (300, 40, 40, 123)])
def test_singular_band_matrix_reports_zero_pivot(n, kl, ku, k):
    rng = np.random.default_rng(k)
    A = random_band(rng, n, kl, ku)
    A[:, k] = 0.0  # column k zero: U[k, k] = 0 exactly, earlier pivots nonzero
    ab = to_band(A, kl, ku)
    ipiv = np.empty(n, dtype=LAPACK_INT)
    assert band.band_lu(ab, ipiv, kl, ku) == k + 1


def test_batched_equilibrium_in_numba_threads_matches_dense_solve():
    """dgbtrf/dgbtrs from concurrent prange workers (thread safety, no shared state):
    the discrete stationary states against a dense solve of the same operator."""
    particle = ParticleParameters(diameter_m=20e-9, anisotropy_Jm3=3000.0)
    disc = NeelDiscretisation.build(particle, 16)  # n = 289, kl > 32: blocked dgbtrf
    assert disc.kl > 32
    rng = np.random.default_rng(3)
    fields = rng.uniform(-0.02, 0.02, (8, 3))
    old = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        y = disc.equilibrium(fields)
    finally:
        numba.set_num_threads(old)
    for b, B in enumerate(fields):
        A = disc.operator(B).toarray()
        A[disc.i0, :] = 0.0
        A[disc.i0, disc.i0] = 1.0
        rhs = np.zeros(disc.n)
        rhs[disc.i0] = disc.c00
        ref = np.linalg.solve(A, rhs)
        np.testing.assert_allclose(y[b], ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_single_threaded_blas_limits_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]
    with single_threaded_blas():
        inside = [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]
    after = [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]
    assert inside and all(t == 1 for t in inside)
    assert after == before
