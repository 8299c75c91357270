"""numba kernels of the banded operator: assembly of ``diag·I + scale·A(B)`` in band
storage, LAPACK's banded LU and solve, the sparse affine matrix-vector product, and the
discrete stationary states.

The operator is ``A(B) = V0 + B0 V1 + B1 V2 + B2 V3`` on a fixed sparsity pattern given in
CSR form (``indptr``, ``indices``, ``vals`` of shape (4, nnz)); the unknowns are already
permuted to a narrow-band order (:mod:`.discretisation`). Band storage: row-major
(n, ldab) with ``ab[j, kv + i - j] = A[i, j]``, ``kv = kl + ku``, ``ldab = 2 kl + ku + 1``
(the first ``kl`` slots of each column hold pivoting fill-in) -- read column-major, exactly
LAPACK's ``dgbtrf`` AB, which :func:`band_lu` / :func:`band_solve` call (:mod:`.lapack`).

Conventions: every kernel takes contiguous float64/int64 arrays (pivots: ``LAPACK_INT``,
int32); inputs are checked in Python before the call (kernels raise nothing meant for
users and log nothing).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# registers the LAPACK symbols: must precede loading any cached kernel below
from .lapack import LAPACK_INT, dgbtrf, dgbtrs


@njit(cache=True)
def band_assemble(ab, indptr, indices, vals, bx, by, bz, scale, diag, kl, ku):
    """ab <- diag*I + scale*A(B) in band storage (zeroes the fill-in rows)."""
    n = ab.shape[0]
    kv = kl + ku
    ab[:, :] = 0.0
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = vals[0, p] + bx * vals[1, p] + by * vals[2, p] + bz * vals[3, p]
            ab[j, kv + i - j] += scale * v
        ab[i, kv] += diag


@njit(cache=True)
def band_lu(ab, ipiv, kl, ku):
    """In-place LU with partial pivoting of a band matrix: LAPACK ``dgbtrf`` (blocked).

    ab (n, 2 kl + ku + 1) C-contiguous, the module's band layout (= dgbtrf's column-major
    AB); ipiv (n,) ``LAPACK_INT`` (int32), set to LAPACK's 1-based row interchanges.
    Returns 0 or the 1-based index of the first zero pivot (LAPACK's info > 0)."""
    n = ab.shape[0]
    iw = np.empty(6, dtype=LAPACK_INT)  # m, n, kl, ku, ldab, info
    iw[0] = n
    iw[1] = n
    iw[2] = kl
    iw[3] = ku
    iw[4] = ab.shape[1]
    iw[5] = 0
    dgbtrf(
        iw[0:].ctypes, iw[1:].ctypes, iw[2:].ctypes, iw[3:].ctypes, ab.ctypes, iw[4:].ctypes, ipiv.ctypes, iw[5:].ctypes
    )
    return iw[5]


@njit(cache=True)
def band_solve(ab, ipiv, kl, ku, b, transposed=False):
    """Solve A x = b (``transposed``: Aᵀ x = b) in place (b (n,) contiguous) with the
    factors of :func:`band_lu`: LAPACK ``dgbtrs`` (one right-hand side)."""
    n = ab.shape[0]
    iw = np.empty(7, dtype=LAPACK_INT)  # n, kl, ku, nrhs, ldab, ldb, info
    iw[0] = n
    iw[1] = kl
    iw[2] = ku
    iw[3] = 1
    iw[4] = ab.shape[1]
    iw[5] = max(n, 1)
    iw[6] = 0
    trans = np.empty(1, dtype=np.uint8)
    trans[0] = 84 if transposed else 78  # ord("T"), ord("N")
    dgbtrs(
        trans.ctypes,
        iw[0:].ctypes,
        iw[1:].ctypes,
        iw[2:].ctypes,
        iw[3:].ctypes,
        ab.ctypes,
        iw[4:].ctypes,
        ipiv.ctypes,
        b.ctypes,
        iw[5:].ctypes,
        iw[6:].ctypes,
    )


@njit(cache=True)
def op_matvec(out, indptr, indices, vals, c0, c1, c2, c3, x, accumulate):
    """out (+)= (c0 V0 + c1 V1 + c2 V2 + c3 V3) x."""
    n = out.shape[0]
    for i in range(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            v = c0 * vals[0, p] + c1 * vals[1, p] + c2 * vals[2, p] + c3 * vals[3, p]
            s += v * x[indices[p]]
        if accumulate:
            out[i] += s
        else:
            out[i] = s


@njit(cache=True, parallel=True)
def equilibrium_batch(fields, indptr, indices, vals, kl, ku, i0, c00):
    """Discrete stationary states: A(B) c = 0 with the l=0 coefficient (index i0) = c00.

    fields (nb, 3) [T] -> (nb, n) coefficient vectors (permuted order)."""
    nb = fields.shape[0]
    n = indptr.shape[0] - 1
    ldab = 2 * kl + ku + 1
    res = np.zeros((nb, n))
    for b in prange(nb):
        ab = np.empty((n, ldab))
        ipiv = np.empty(n, dtype=LAPACK_INT)
        band_assemble(ab, indptr, indices, vals, fields[b, 0], fields[b, 1], fields[b, 2], 1.0, 0.0, kl, ku)
        kv = kl + ku
        # the l=0 row of A is zero: replace it by the normalisation c[i0] = c00
        ab[i0, kv] = 1.0
        rhs = res[b]
        rhs[i0] = c00
        band_lu(ab, ipiv, kl, ku)
        band_solve(ab, ipiv, kl, ku, rhs)
    return res
