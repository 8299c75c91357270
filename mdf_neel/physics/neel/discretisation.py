"""The spherical-harmonic Galerkin discretisation of the Néel operator in the easy-axis frame:
``A(B) = A0 + Σ_k B_k A_k`` (easy axis ẑ) on the harmonics with |m| <= M, its unknowns
permuted to a narrow band, with the discrete stationary states and the moment read-out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..particles import ParticleParameters
from . import band
from .lapack import single_threaded_blas
from .sh_operators import sh_operators

__all__ = ["NeelDiscretisation", "azimuthal_orders"]


def _m_major_order(N: int) -> np.ndarray:
    """Band-friendly order of the real SH basis (new index -> old index l²+l+m).

    |m| outer, l inner, the cos/sin pair (m, −m) adjacent: the anisotropy (same |m|) is
    then local and the field couples neighbouring |m| blocks, so the half-bandwidth is
    ~2N+3 independent of N's parity (reverse Cuthill–McKee gave up to 5N at N = 40)."""
    order = [l * l + l for l in range(N + 1)]
    for k in range(1, N + 1):
        for l in range(k, N + 1):
            order += [l * l + l + k, l * l + l - k]
    return np.array(order, dtype=np.int64)


def _l_major_order(N: int, M: int) -> np.ndarray:
    """Degree-major order of the harmonics with |m| <= M (new index -> old index): the
    anisotropy couples l to l±2 and the field l±1, so the half-bandwidth is ~4M+2 —
    smaller than the m-major ~2N+3 once M < N/2."""
    return np.array([l * l + l + m for l in range(N + 1) for m in range(-min(l, M), min(l, M) + 1)], dtype=np.int64)


def _band_order(pattern, N: int, M: int):
    """(perm, kl, ku): the narrower-band of the m-major and l-major orders of the
    harmonics with |m| <= M (new index -> old index); untruncated (M = N) always the
    m-major one (band ~2N against ~4N)."""
    best = None
    orders = (_m_major_order(N),) if M >= N else (_m_major_order(N), _l_major_order(N, M))
    for order in orders:
        keep = np.abs(azimuthal_orders(N)[order]) <= M
        perm = order[keep]
        P = pattern[perm][:, perm].tocoo()
        kl = int(np.max(P.row - P.col, initial=0))
        ku = int(np.max(P.col - P.row, initial=0))
        if best is None or kl + ku < best[1] + best[2]:
            best = (perm, kl, ku)
    return best


def azimuthal_orders(N: int) -> np.ndarray:
    """Azimuthal order m of every basis index l²+l+m, shape ((N+1)²,)."""
    return np.concatenate([np.arange(-l, l + 1) for l in range(N + 1)])


@dataclass
class NeelDiscretisation:
    """The discrete operator A(B) = A0 + Σ B_k A_k (easy axis ẑ) in band-friendly order."""

    N: int
    M: int  # largest azimuthal order |m| kept (= N: untruncated)
    n: int
    indptr: np.ndarray
    indices: np.ndarray
    vals: np.ndarray  # (4, nnz)
    kl: int
    ku: int
    perm: np.ndarray  # new index -> old index
    mom_idx: np.ndarray
    mom_scale: np.ndarray
    i0: int
    c00: float
    tail_idx: np.ndarray  # coefficients of the highest kept order |m| = M (empty if M = N)

    @classmethod
    def build(cls, particle: ParticleParameters, N: int, M: int | None = None) -> "NeelDiscretisation":
        """Discretisation of degree N, azimuthal orders |m| <= M (default: all, M = N)."""
        N = int(N)
        M = N if M is None else max(1, min(int(M), N))
        ops = sh_operators(N)
        A0, Ak = ops.assemble(particle.tau_s, particle.p1, particle.p2, particle.p3, particle.p4)
        pattern = (abs(A0) + abs(Ak[0]) + abs(Ak[1]) + abs(Ak[2])).tocsr()
        pattern = pattern + pattern.T
        perm, kl, ku = _band_order(pattern, N, M)
        inv = np.full(pattern.shape[0], -1, dtype=np.int64)
        inv[perm] = np.arange(perm.size)
        mats = [A0] + list(Ak)
        union = pattern.tocsr()
        union.sort_indices()
        # values of every piece on the union pattern, rows/cols permuted
        Pu = union[perm][:, perm].tocsr()
        Pu.sort_indices()
        vals = np.zeros((4, Pu.nnz))
        rows = np.repeat(np.arange(Pu.shape[0]), np.diff(Pu.indptr))
        for k, mat in enumerate(mats):
            Mp = mat[perm][:, perm].tocsr()
            vals[k] = np.asarray(Mp[rows, Pu.indices]).ravel()
        n = perm.size
        mom_old = np.array([3, 1, 2])  # Y_{1,1}~x, Y_{1,-1}~y, Y_{1,0}~z
        return cls(
            N=N,
            M=M,
            n=n,
            indptr=Pu.indptr.astype(np.int64),
            indices=Pu.indices.astype(np.int64),
            vals=np.ascontiguousarray(vals),
            kl=kl,
            ku=ku,
            perm=perm,
            mom_idx=inv[mom_old].astype(np.int64),
            mom_scale=np.full(3, math.sqrt(4.0 * math.pi / 3.0)),
            i0=int(inv[0]),
            c00=float(ops.c00),
            tail_idx=(np.nonzero(np.abs(azimuthal_orders(N)[perm]) == M)[0] if M < N else np.zeros(0, dtype=np.int64)),
        )

    def operator(self, B) -> sp.csr_matrix:
        """A(B) as a scipy CSR matrix (permuted order), e.g. for a scipy baseline."""
        v = self.vals[0] + B[0] * self.vals[1] + B[1] * self.vals[2] + B[2] * self.vals[3]
        return sp.csr_matrix((v, self.indices, self.indptr), shape=(self.n, self.n))

    def equilibrium(self, fields) -> np.ndarray:
        """Discrete stationary coefficient vectors for fields (nb, 3) in the axis frame."""
        f = np.ascontiguousarray(np.asarray(fields, dtype=float).reshape(-1, 3))
        with single_threaded_blas():  # LAPACK inside numba threads: no BLAS threads
            return band.equilibrium_batch(f, self.indptr, self.indices, self.vals, self.kl, self.ku, self.i0, self.c00)

    def uniform(self, nb: int) -> np.ndarray:
        y = np.zeros((nb, self.n))
        y[:, self.i0] = self.c00
        return y

    def moments(self, y) -> np.ndarray:
        return y[..., self.mom_idx] * self.mom_scale
