"""Galerkin operators of the Néel Fokker–Planck equation in an orthonormal real
spherical-harmonic basis (easy axis along ẑ).

Basis: real orthonormal harmonics Y_{l,m}, index ``l*l + l + m`` (|m| <= l), built from
scipy's complex ``sph_harm_y`` (Condon–Shortley phase) as
``Y_{l,m} = √2 (−1)^m Re Y_l^m`` (m > 0), ``√2 (−1)^m Im Y_l^{|m|}`` (m < 0), ``Y_l^0``
(m = 0), so that Y_{1,1} ∝ x, Y_{1,−1} ∝ y, Y_{1,0} ∝ z.

Weak form. With f = Σ c_j Y_j the Fokker–Planck equation
``∂t f = div((1/2τ) grad f − b f)`` gives ``dc_i/dt = −l_i(l_i+1)/(2τ) c_i + Σ_j ⟨b·∇Y_i, Y_j⟩ c_j``,
i.e. ``A = −diag(l(l+1))/(2τ) + Gᵀ`` where G is the matrix of the operator ``g ↦ b·∇g``.
That operator is written with two exact building blocks,

* ``M_a``: multiplication by m_a (couples l ↔ l±1), by exact quadrature;
* ``J_a = (m × ∇)_a``: rotation generators (keep l); ``J_z = ∂φ`` in closed form,
  ``J_x, J_y`` by conjugating with the (quadrature-exact) rotation that maps ẑ → x̂ → ŷ;

using ``(B×m)·∇ = B·J``, ``∇_S = −m × J`` (so ``D_k := (∇_S)_k = −ε_kab M_a J_b``):

* field precession ``p1 Σ_k B_k J_k``; field damping ``p2 Σ_k B_k D_k``;
* anisotropy precession ``p3 M_z J_z``; anisotropy damping ``p4 M_z D_z``.

Products are formed in the basis extended to degree N+2 and then truncated, which makes
every truncated matrix the exact Galerkin matrix (no aliasing). The l = 0 row of every
matrix is zero, so probability is conserved exactly.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.special import sph_harm_y, sph_harm_y_all

__all__ = ["SHOperators", "sh_operators", "real_sh_degree", "n_coeffs", "degrees"]


def n_coeffs(N: int) -> int:
    """Number of real harmonics of degree <= N."""
    return (N + 1) ** 2


def degrees(N: int) -> np.ndarray:
    """Degree l of every basis index, shape ((N+1)²,)."""
    return np.concatenate([np.full(2 * l + 1, l) for l in range(N + 1)])


def real_sh_degree(l: int, theta, phi) -> np.ndarray:
    """Real orthonormal harmonics of degree l at points (θ, φ): shape (2l+1, npts), rows m=−l..l."""
    theta = np.asarray(theta, dtype=float)
    phi = np.asarray(phi, dtype=float)
    out = np.empty((2 * l + 1,) + theta.shape)
    for m in range(0, l + 1):
        y = sph_harm_y(l, m, theta, phi)
        if m == 0:
            out[l] = y.real
        else:
            s = np.sqrt(2.0) * (-1.0) ** m
            out[l + m] = s * y.real
            out[l - m] = s * y.imag
    return out


def real_sh_all(L: int, theta, phi) -> list:
    """Real orthonormal harmonics of all degrees <= L: list of (2l+1, npts) arrays."""
    y = sph_harm_y_all(L, L, np.asarray(theta, dtype=float), np.asarray(phi, dtype=float))
    out = []
    for l in range(L + 1):
        a = np.empty((2 * l + 1,) + y.shape[2:])
        a[l] = y[l, 0].real
        for m in range(1, l + 1):
            s = np.sqrt(2.0) * (-1.0) ** m
            a[l + m] = s * y[l, m].real
            a[l - m] = s * y[l, m].imag
        out.append(a)
    return out


def _quadrature(L: int):
    """Product Gauss–Legendre × uniform-φ rule exact for polynomials of degree <= 2L+2."""
    nth = L + 3
    nph = 2 * L + 4
    x, w = np.polynomial.legendre.leggauss(nth)
    theta = np.arccos(x)
    phi = np.arange(nph) * (2.0 * np.pi / nph)
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    wts = w[:, None] * np.full(nph, 2.0 * np.pi / nph)[None, :]
    return th.ravel(), ph.ravel(), wts.ravel()


def _cart(theta, phi):
    st = np.sin(theta)
    return np.stack([st * np.cos(phi), st * np.sin(phi), np.cos(theta)])


def _to_sph(xyz):
    z = np.clip(xyz[2], -1.0, 1.0)
    return np.arccos(z), np.mod(np.arctan2(xyz[1], xyz[0]), 2.0 * np.pi)


def _build_unit_operators(L: int):
    """M_x, M_y, M_z, J_x, J_y, J_z on degree <= L (sparse CSR)."""
    th, ph, w = _quadrature(L)
    xyz = _cart(th, ph)
    n = n_coeffs(L)
    Y = real_sh_all(L, th, ph)
    # multiplication operators (blocks l, l+1 and transposes)
    rows = [[], [], []]
    cols = [[], [], []]
    vals = [[], [], []]
    for l in range(L):
        a0 = l * l
        b0 = (l + 1) * (l + 1)
        for k in range(3):
            blk = (Y[l] * (w * xyz[k])) @ Y[l + 1].T  # (2l+1, 2l+3)
            ii, jj = np.nonzero(np.abs(blk) > 1e-14)
            v = blk[ii, jj]
            rows[k] += [a0 + ii, b0 + jj]
            cols[k] += [b0 + jj, a0 + ii]
            vals[k] += [v, v]
    Ms = [
        sp.csr_matrix((np.concatenate(vals[k]), (np.concatenate(rows[k]), np.concatenate(cols[k]))), shape=(n, n))
        for k in range(3)
    ]
    # J_z = d/dphi: Y_{l,m} -> -m Y_{l,-m},  Y_{l,-m} -> m Y_{l,m}  (m > 0)
    r, c, v = [], [], []
    for l in range(1, L + 1):
        for m in range(1, l + 1):
            ip = l * l + l + m
            im = l * l + l - m
            # operator matrix Op[out, in]
            r += [im, ip]
            c += [ip, im]
            v += [-float(m), float(m)]
    Jz = sp.csr_matrix((v, (r, c)), shape=(n, n))
    # rotation Q: x->y, y->z, z->x ;  (U g)(m) = g(Q^T m);  U J_a U^T = J_{Qa}
    Q = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    th_r, ph_r = _to_sph(Q.T @ xyz)
    Yr = real_sh_all(L, th_r, ph_r)
    blocks = [(Y[l] * w) @ Yr[l].T for l in range(L + 1)]
    U = sp.block_diag(blocks, format="csr")
    U.data[np.abs(U.data) < 1e-14] = 0.0
    U.eliminate_zeros()
    Jx = (U @ Jz @ U.T).tocsr()
    Jy = (U @ Jx @ U.T).tocsr()
    for J in (Jx, Jy):
        J.data[np.abs(J.data) < 1e-13] = 0.0
        J.eliminate_zeros()
    return Ms, [Jx, Jy, Jz]


class SHOperators:
    """Parameter-free Galerkin building blocks for degree N (easy axis ẑ).

    Attributes (all ``scipy.sparse.csr_matrix`` of shape ((N+1)², (N+1)²), already in the
    ``A = Opᵀ`` orientation, i.e. they act on coefficient vectors):

    ``lap``          diag(l(l+1))
    ``field_prec``   [Jxᵀ, Jyᵀ, Jzᵀ]          (multiply by p1 B_k)
    ``field_damp``   [Dxᵀ, Dyᵀ, Dzᵀ]          (multiply by p2 B_k)
    ``aniso_prec``   (M_z J_z)ᵀ               (multiply by p3)
    ``aniso_damp``   (M_z D_z)ᵀ               (multiply by p4)
    ``moment``       (3, (N+1)²) dense: m̄_a = moment[a] @ c
    ``c00``          coefficient of the normalised uniform density
    """

    def __init__(self, N: int):
        if N < 1:
            raise ValueError("resolution must be >= 1")
        self.N = int(N)
        L = self.N + 2
        Ms, Js = _build_unit_operators(L)
        n = n_coeffs(self.N)
        Mx, My, Mz = Ms
        Jx, Jy, Jz = Js
        Dx = -(My @ Jz - Mz @ Jy)
        Dy = -(Mz @ Jx - Mx @ Jz)
        Dz = -(Mx @ Jy - My @ Jx)

        def trunc(op):
            out = op.tocsr()[:n, :n].T.tocsr()
            # drop quadrature round-off (entries that vanish exactly by the selection rules)
            out.data[np.abs(out.data) < 1e-11 * max(1.0, np.abs(out.data).max(initial=0.0))] = 0.0
            out.eliminate_zeros()
            return out

        self.field_prec = [trunc(J) for J in (Jx, Jy, Jz)]
        self.field_damp = [trunc(D) for D in (Dx, Dy, Dz)]
        self.aniso_prec = trunc(Mz @ Jz)
        self.aniso_damp = trunc(Mz @ Dz)
        ls = degrees(self.N).astype(float)
        self.lap = sp.diags(ls * (ls + 1.0)).tocsr()
        self.c00 = 1.0 / np.sqrt(4.0 * np.pi)
        mom = np.zeros((3, n))
        k = np.sqrt(4.0 * np.pi / 3.0)
        mom[0, 3] = k  # Y_{1,1} ∝ x
        mom[1, 1] = k  # Y_{1,-1} ∝ y
        mom[2, 2] = k  # Y_{1,0} ∝ z
        self.moment = mom

    def assemble(self, tau, p1, p2, p3, p4):
        """Affine pieces of A(B) = A0 + Σ_k B_k A_k for given coefficients [1/s, 1/(s T)]."""
        A0 = (-0.5 / tau) * self.lap + p3 * self.aniso_prec + p4 * self.aniso_damp
        Ak = [p1 * self.field_prec[k] + p2 * self.field_damp[k] for k in range(3)]
        return A0.tocsr(), [a.tocsr() for a in Ak]


@lru_cache(maxsize=16)
def sh_operators(N: int) -> SHOperators:
    """Cached :class:`SHOperators` for degree N."""
    return SHOperators(N)
