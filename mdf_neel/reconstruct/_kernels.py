"""Compiled inner loops of the reconstruction solvers (numba, cached on disk).

The Kaczmarz sweep is sequential over rows by construction, so it is written as an
explicit loop and compiled; each row update touches every column and every right-hand
side, which is where the time goes.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def kaczmarz_sweeps(A, B, energy2, lam, order, iterations, enforce_real, enforce_nonnegative, X, V):  # pragma: no cover
    """Regularised Kaczmarz sweeps on the augmented system ``[A, √λ·I] [x; v] = b``.

    Parameters
    ----------
    A : complex128 (M, N), C-contiguous
        Rows of the (weighted) system matrix.
    B : complex128 (F, M)
        Right-hand sides (weighted), one per frame.
    energy2 : float64 (M,)
        ``‖a_i‖²``; rows with 0 are skipped.
    lam : float
        Absolute Tikhonov weight λ >= 0.
    order : int64 (S,)
        Row indices visited in one sweep.
    iterations : int
        Number of sweeps.
    enforce_real, enforce_nonnegative : bool
        Projection of x after every sweep (imaginary part to 0; negative real part to 0).
    X : complex128 (F, N), C-contiguous
        Start and result (updated in place).
    V : complex128 (F, M)
        Auxiliary variables of the augmented system (updated in place).
    """
    N = A.shape[1]
    F = B.shape[0]
    sq = np.sqrt(lam)
    for _ in range(iterations):
        for i in order:
            e = energy2[i]
            if e <= 0.0:
                continue
            denom = e + lam
            for f in range(F):
                acc = 0.0j
                for n in range(N):
                    acc += A[i, n] * X[f, n]
                tau = (B[f, i] - acc - sq * V[f, i]) / denom
                for n in range(N):
                    X[f, n] += tau * np.conj(A[i, n])
                V[f, i] += sq * tau
        if enforce_real or enforce_nonnegative:
            for f in range(F):
                for n in range(N):
                    re = X[f, n].real
                    im = 0.0 if enforce_real else X[f, n].imag
                    if enforce_nonnegative and re < 0.0:
                        re = 0.0
                    X[f, n] = re + 1j * im
