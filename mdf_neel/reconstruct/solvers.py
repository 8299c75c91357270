"""Regularised least-squares solvers for ``A x ≈ b``: Kaczmarz (ART) and CGNR.

Both minimise the Tikhonov functional

    ‖diag(s) (A x − b)‖² + λ ‖x‖²,     λ = λ_rel · ‖diag(s) A‖_F² / N

with row scale factors ``s`` (weighting / whitening) and λ given relative to the trace
of ``(diag(s) A)^H (diag(s) A)`` divided by the number of columns N, the convention of
MPIReco.jl / RegularizedLeastSquares.jl (``SystemMatrixBasedNormalization``: the summed
squared row energies over N). λ_rel is therefore independent of the scale of the data.

Kaczmarz follows RegularizedLeastSquares.jl: each row update also updates one auxiliary
variable ``v_i`` of the augmented system ``[A, √λ I] [x; v] = b``, whose minimum-norm
solution (where Kaczmarz converges from zero) has ``x`` equal to the Tikhonov solution.
After every sweep ``x`` is projected onto the reals and onto ``x >= 0`` when asked (the
projections of MPIReco's ``enforceReal`` / ``enforcePositive``).
"""

from __future__ import annotations

import logging
import math

import numpy as np

__all__ = ["kaczmarz", "cgnr", "absolute_lambda"]

logger = logging.getLogger("mdf_neel.reconstruct")


def _check_problem(A, b, row_scale):
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"A must be a non-empty 2-D matrix (M, N), got shape {A.shape}")
    M, N = A.shape
    b = np.asarray(b)
    single = b.ndim == 1
    B = b[None, :] if single else b
    if B.ndim != 2 or B.shape[1] != M:
        raise ValueError(f"b must have shape ({M},) or (F, {M}) for A of shape {A.shape}, got {b.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise ValueError("A and b must be finite")
    A = np.ascontiguousarray(A, dtype=np.complex128)
    B = np.ascontiguousarray(B, dtype=np.complex128)
    if row_scale is not None:
        s = np.asarray(row_scale, dtype=np.float64).reshape(-1)
        if s.shape != (M,) or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError(f"row_scale must be finite and >= 0 with shape ({M},), got shape {s.shape}")
        A = A * s[:, None]
        B = B * s[None, :]
    return A, B, single


def absolute_lambda(A, lambda_rel: float, row_scale=None) -> float:
    """λ in absolute units: ``λ_rel · ‖diag(s) A‖_F² / N``.

    Parameters
    ----------
    A : array_like, shape (M, N)
        System matrix.
    lambda_rel : float
        Relative regularisation (>= 0).
    row_scale : array_like, shape (M,), optional
        Row scale factors ``s`` (default 1).

    Returns
    -------
    float
        The weight of ``‖x‖²`` in the functional (units of ``|A|²``).

    Examples
    --------
    >>> import numpy as np
    >>> absolute_lambda(np.eye(4), 0.5)  # trace 4 over N = 4 columns, times 0.5
    0.5
    """
    lam = float(lambda_rel)
    if not (lam >= 0 and math.isfinite(lam)):
        raise ValueError(f"lambda_rel must be finite and >= 0, got {lambda_rel!r}")
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[1] == 0:
        raise ValueError(f"A must be 2-D (M, N) with N > 0, got shape {A.shape}")
    energy = np.sum(np.abs(A) ** 2, axis=1)
    if row_scale is not None:
        energy = energy * np.asarray(row_scale, dtype=np.float64).reshape(-1) ** 2
    return lam * float(energy.sum()) / A.shape[1]


def kaczmarz(
    A,
    b,
    *,
    lambda_rel: float = 0.0,
    iterations: int = 10,
    row_scale=None,
    enforce_real: bool = False,
    enforce_nonnegative: bool = False,
    shuffle: bool = False,
    seed: int = 0,
):
    """Regularised Kaczmarz sweeps (module docstring), several right-hand sides at once.

    Parameters
    ----------
    A : array_like, complex, shape (M, N)
        System matrix (rows: measured values; columns: unknowns).
    b : array_like, complex, shape (M,) or (F, M)
        Measurement(s), one per row of a 2-D ``b`` (e.g. frames).
    lambda_rel : float
        Tikhonov weight relative to ``‖diag(s) A‖_F² / N`` (>= 0).
    iterations : int
        Sweeps over all rows (>= 1).
    row_scale : array_like, shape (M,), optional
        Row factors ``s`` (weighting, whitening); rows with ``s = 0`` are unused.
    enforce_real, enforce_nonnegative : bool
        Project ``x`` after every sweep onto the reals / onto ``Re x >= 0``.
    shuffle : bool
        Visit the rows in a random order (the same permutation in every sweep).
    seed : int
        Seed of that permutation.

    Returns
    -------
    numpy.ndarray, complex128, shape (N,) or (F, N)
        The solution(s), shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> x = kaczmarz(A, A @ np.array([1.0, 3.0]), iterations=200)
    >>> np.round(x.real, 6).tolist()
    [1.0, 3.0]
    """
    from ._kernels import kaczmarz_sweeps

    A, B, single = _check_problem(A, b, row_scale)
    iterations = int(iterations)
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    lam = absolute_lambda(A, lambda_rel)  # A already carries the row scale
    energy2 = np.ascontiguousarray(np.sum(A.real**2 + A.imag**2, axis=1))
    order = np.arange(A.shape[0], dtype=np.int64)
    if shuffle:
        order = np.random.default_rng(int(seed)).permutation(order)
    X = np.zeros((B.shape[0], A.shape[1]), dtype=np.complex128)
    V = np.zeros(B.shape, dtype=np.complex128)
    kaczmarz_sweeps(A, B, energy2, lam, order, iterations, bool(enforce_real), bool(enforce_nonnegative), X, V)
    logger.debug("kaczmarz: %d x %d, %d rhs, lambda = %.3g, %d sweeps", *A.shape, B.shape[0], lam, iterations)
    return X[0] if single else X


def cgnr(
    A,
    b,
    *,
    lambda_rel: float = 0.0,
    iterations: int = 10,
    row_scale=None,
    real: bool = False,
    enforce_nonnegative: bool = False,
):
    """Conjugate gradients on the regularised normal equations (CGNR).

    Solves ``(A_s^H A_s + λ I) x = A_s^H b_s`` with ``A_s = diag(s) A`` without forming
    the normal matrix (two matrix products per iteration). With ``real=True`` the
    unknowns are real and the equations are ``(Re(A_s^H A_s) + λ I) x = Re(A_s^H b_s)``,
    i.e. the least-squares problem of the stacked real system ``[Re A_s; Im A_s]``.

    Parameters
    ----------
    A, b, lambda_rel, iterations, row_scale
        As in :func:`kaczmarz`.
    real : bool
        Real unknowns (see above).
    enforce_nonnegative : bool
        Clip the final iterate at 0 (CG itself is unconstrained).

    Returns
    -------
    numpy.ndarray, shape (N,) or (F, N)
        complex128, or float64 with ``real=True``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> x = cgnr(A, A @ np.array([1.0, 3.0]), iterations=2, real=True)
    >>> np.round(x, 6).tolist()
    [1.0, 3.0]
    """
    A, B, single = _check_problem(A, b, row_scale)
    iterations = int(iterations)
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    lam = absolute_lambda(A, lambda_rel)
    AH = A.conj().T

    def normal(x):  # (N, F) -> (N, F)
        y = AH @ (A @ x)
        return (y.real if real else y) + lam * x

    rhs = AH @ B.T
    if real:
        rhs = rhs.real
    x = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    rr = np.sum(np.abs(r) ** 2, axis=0)
    stop = rr * np.finfo(np.float64).eps ** 2
    for _ in range(iterations):
        if np.all(rr <= stop):
            break
        q = normal(p)
        pq = np.real(np.sum(p.conj() * q, axis=0))
        alpha = np.where(pq > 0, rr / np.where(pq > 0, pq, 1.0), 0.0)
        x = x + alpha * p
        r = r - alpha * q
        rr_new = np.sum(np.abs(r) ** 2, axis=0)
        beta = np.where(rr > 0, rr_new / np.where(rr > 0, rr, 1.0), 0.0)
        p = r + beta * p
        rr = rr_new
    if enforce_nonnegative:
        x = np.maximum(x, 0.0) if real else np.maximum(x.real, 0.0) + 1j * x.imag
    X = np.ascontiguousarray(x.T)
    return X[0] if single else X
