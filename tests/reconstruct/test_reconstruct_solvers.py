"""The solvers against dense least squares with the same Tikhonov term."""

import numpy as np
import pytest

from mdf_neel.reconstruct import absolute_lambda, cgnr, kaczmarz


def _problem(rng, M=40, N=15):
    A = rng.normal(size=(M, N)) + 1j * rng.normal(size=(M, N))
    b = rng.normal(size=M) + 1j * rng.normal(size=M)
    return A, b


def _tikhonov(A, b, lam, s=None):
    """Dense solution of min ‖diag(s)(Ax − b)‖² + λ‖x‖² via the stacked system [sA; √λ I]."""
    s = np.ones(A.shape[0]) if s is None else s
    N = A.shape[1]
    big = np.vstack([A * s[:, None], np.sqrt(lam) * np.eye(N)])
    return np.linalg.lstsq(big, np.concatenate([b * s, np.zeros(N)]), rcond=None)[0]


def _rel(x, ref):
    return np.linalg.norm(x - ref) / np.linalg.norm(ref)


def test_lambda_is_relative_to_the_trace_over_columns(rng):
    A, _ = _problem(rng)
    trace = np.trace(A.conj().T @ A).real
    assert absolute_lambda(A, 0.3) == pytest.approx(0.3 * trace / A.shape[1], rel=1e-12)
    s = rng.random(A.shape[0])
    trace_s = np.trace((A * s[:, None]).conj().T @ (A * s[:, None])).real
    assert absolute_lambda(A, 0.3, s) == pytest.approx(0.3 * trace_s / A.shape[1], rel=1e-12)


@pytest.mark.parametrize("lambda_rel", [0.05, 1.0])
def test_kaczmarz_converges_to_the_dense_tikhonov_solution(rng, lambda_rel):
    A, b = _problem(rng)
    ref = _tikhonov(A, b, absolute_lambda(A, lambda_rel))
    # linear convergence: a few sweeps are visibly off, many reach the solution
    assert _rel(kaczmarz(A, b, lambda_rel=lambda_rel, iterations=2), ref) > 1e-3
    assert _rel(kaczmarz(A, b, lambda_rel=lambda_rel, iterations=600), ref) < 1e-9


def test_row_scale_is_a_weighted_least_squares(rng):
    A, b = _problem(rng)
    s = 0.2 + rng.random(A.shape[0])
    lam_rel = 0.1
    ref = _tikhonov(A, b, absolute_lambda(A, lam_rel, s), s)
    unweighted = _tikhonov(A, b, absolute_lambda(A, lam_rel))
    assert _rel(unweighted, ref) > 1e-2  # the weights change the answer
    assert _rel(kaczmarz(A, b, lambda_rel=lam_rel, iterations=800, row_scale=s), ref) < 1e-8
    assert _rel(cgnr(A, b, lambda_rel=lam_rel, iterations=200, row_scale=s), ref) < 1e-8


def test_shuffled_rows_and_several_frames_reach_the_same_solutions(rng):
    A, _ = _problem(rng)
    B = rng.normal(size=(3, A.shape[0])) + 1j * rng.normal(size=(3, A.shape[0]))
    X = kaczmarz(A, B, lambda_rel=0.2, iterations=600, shuffle=True, seed=4)
    assert X.shape == (3, A.shape[1])
    for f in range(3):
        assert _rel(X[f], _tikhonov(A, B[f], absolute_lambda(A, 0.2))) < 1e-9


def test_cgnr_complex_and_real_unknowns(rng):
    A, b = _problem(rng)
    lam = absolute_lambda(A, 0.1)
    assert _rel(cgnr(A, b, lambda_rel=0.1, iterations=100), _tikhonov(A, b, lam)) < 1e-10
    # real unknowns: least squares of the stacked real system [Re A; Im A]
    Ar = np.vstack([A.real, A.imag])
    br = np.concatenate([b.real, b.imag])
    ref = np.linalg.lstsq(
        np.vstack([Ar, np.sqrt(lam) * np.eye(A.shape[1])]), np.concatenate([br, np.zeros(A.shape[1])]), rcond=None
    )[0]
    x = cgnr(A, b, lambda_rel=0.1, iterations=100, real=True)
    assert x.dtype == np.float64
    assert _rel(x, ref) < 1e-10


def test_projections_give_real_nonnegative_solutions(rng):
    A = rng.random((50, 12)) + 1j * rng.random((50, 12))
    x_true = rng.random(12) + 0.1
    b = A @ x_true
    x = kaczmarz(A, b, iterations=400, enforce_real=True, enforce_nonnegative=True)
    assert np.all(x.imag == 0) and np.all(x.real >= 0)
    # consistent data with a positive solution: the projections are inactive at the limit
    assert _rel(x.real, x_true) < 1e-8
    # data of a solution with negative entries: the result stays >= 0
    x_neg = x_true.copy()
    x_neg[:4] = -1.0
    y = kaczmarz(A, A @ x_neg, iterations=50, enforce_real=True, enforce_nonnegative=True)
    assert np.all(y.real >= 0) and np.any(y.real == 0)


def test_zero_rows_are_skipped_and_bad_input_is_refused(rng):
    A, b = _problem(rng)
    A[3] = 0
    x = kaczmarz(A, b, lambda_rel=0.1, iterations=600)
    keep = np.ones(A.shape[0], bool)
    keep[3] = False
    assert _rel(x, _tikhonov(A[keep], b[keep], absolute_lambda(A, 0.1))) < 1e-9
    with pytest.raises(ValueError, match=r"b must have shape \(40,\)"):
        kaczmarz(A, b[:-1])
    with pytest.raises(ValueError, match="row_scale"):
        kaczmarz(A, b, row_scale=-np.ones(A.shape[0]))
    with pytest.raises(ValueError, match="lambda_rel"):
        kaczmarz(A, b, lambda_rel=-1.0)
    with pytest.raises(ValueError, match="finite"):
        kaczmarz(A, b * np.nan)
