"""Numerical kernels of the M0/M1/M2 fits (no estimator logic, no I/O).

Shapes used throughout
----------------------
* measured data ``S``: (A, C, F, O) complex = angles x channels x rows x positions;
* dictionary ``phi``: (n_D, n_K, n_A', C', F', O) complex (``mdf_neel.simulate``
  layout); a :class:`DictionaryView` maps the fit angles, channels and rows onto it;
* ``J = n_D·n_K`` dictionary atoms, flattened D-major (``j = i_d·n_K + i_k``);
* row weights ``ω = 1/‖S_{a,c,f}‖_∞²`` (the paper's Σ_ϑ, §4.8), shape (A, C, F).

Every pass over the dictionary goes block by block over (angle, channel), so the
stacked M2 matrix (A·C·F·O rows x J columns) is never formed; see
``docs/fitting.md`` for the derivations.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.linalg import blas

logger = logging.getLogger("mdf_neel.fitting")

__all__ = [
    "transfer_function_lstsq",
    "FitData",
    "DictionaryView",
    "row_statistics",
    "per_angle_gram",
    "per_row_gram",
    "tsvd_nnls",
    "objective_from_gram",
]


def transfer_function_lstsq(measured, phi):
    """Closed-form per-row transfer function, eq. 15 (with the complex conjugate).

    ``â_k = Σ_ν S_{kν} conj(Φ_{kν}) / Σ_ν |Φ_{kν}|²`` minimises ``‖â_k Φ_k − S_k‖²``
    row by row.

    Parameters
    ----------
    measured, phi : array_like, complex, shape (..., O)
        Measured rows and dictionary rows (broadcastable).

    Returns
    -------
    numpy.ndarray, complex, shape (...)
        â per row; 0 where ``‖Φ_k‖ = 0`` (the row carries no model signal).
    """
    s = np.asarray(measured)
    p = np.asarray(phi)
    num = np.sum(s * np.conj(p), axis=-1)
    den = np.sum(p.real**2 + p.imag**2, axis=-1)
    return _safe_ratio(num, den)


def _safe_ratio(num, den):
    den = np.asarray(den)
    ok = den > 0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


class FitData:
    """Measured rows of A angles and the per-row quantities every fit needs.

    Parameters
    ----------
    measured : numpy.ndarray, complex, shape (A, C, F, O)

    Attributes
    ----------
    S : (A, C, F, O) complex128
    peak : (A, C, F) ``‖S_row‖_∞``
    omega : (A, C, F) ``1/peak²`` (0 for an all-zero row, which then does not count)
    energy : (A, C, F) ``‖S_row‖₂²``
    """

    def __init__(self, measured):
        S = np.asarray(measured, dtype=np.complex128)
        if S.ndim != 4:
            raise ValueError(f"measured data must have shape (angles, channels, frequencies, positions), got {S.shape}")
        self.S = S
        self.peak = np.max(np.abs(S), axis=-1)
        self.omega = _safe_ratio(1.0, self.peak**2).real
        self.energy = np.sum(S.real**2 + S.imag**2, axis=-1)

    @property
    def shape(self):
        return self.S.shape

    @property
    def num_positions(self) -> int:
        return int(self.S.shape[-1])


class DictionaryView:
    """Maps fit angles, channels and rows onto a dictionary array without copying it.

    Parameters
    ----------
    phi : numpy.ndarray, complex, shape (n_D, n_K, n_A', C', F', O)
    angle_index : array_like of int, shape (A,)
        Dictionary angle of each fit angle (repeats allowed, e.g. all 0 for M0).
    channel_index : array_like of int, shape (C,)
    row_index : array_like of int, shape (F,)
    """

    def __init__(self, phi, angle_index, channel_index, row_index):
        if phi.ndim != 6:
            raise ValueError(f"dictionary phi must have shape (n_D, n_K, n_angles, C, F, O), got {phi.shape}")
        self.phi = phi
        self.angle_index = np.asarray(angle_index, dtype=np.int64)
        self.channel_index = np.asarray(channel_index, dtype=np.int64)
        self.row_index = np.asarray(row_index, dtype=np.int64)
        self._all_rows = np.array_equal(self.row_index, np.arange(phi.shape[4]))

    @property
    def num_atoms(self) -> int:
        return int(self.phi.shape[0] * self.phi.shape[1])

    def block(self, a: int, c: int) -> np.ndarray:
        """Atoms of fit angle ``a`` and channel ``c``: (J, F, O) (a view when possible)."""
        b = self.phi[:, :, self.angle_index[a], self.channel_index[c]]
        if not self._all_rows:
            b = b[:, :, self.row_index]
        return b.reshape((self.num_atoms,) + b.shape[2:])

    def atoms(self, a: int, atoms) -> np.ndarray:
        """Selected atoms (flat indices) at fit angle ``a``: (n, C, F, O) copy."""
        atoms = np.asarray(atoms, dtype=np.int64)
        n_k = self.phi.shape[1]
        sub = self.phi[atoms // n_k, atoms % n_k, self.angle_index[a]]  # (n, C', F', O)
        sub = sub[:, self.channel_index]
        return sub[:, :, self.row_index]


def _inner(block, s):
    """``Σ_ν conj(block[j, f, ν]) · s[f, ν]`` -> (J, F)."""
    return np.conj(np.einsum("jfv,fv->jf", block, np.conj(s)))


def _norm2(block):
    """``Σ_ν |block[j, f, ν]|²`` -> (J, F), without a complex temporary."""
    re = block.real
    im = block.imag
    return np.einsum("jfv,jfv->jf", re, re) + np.einsum("jfv,jfv->jf", im, im)


def row_statistics(data: FitData, view: DictionaryView):
    """Cross and auto products of every atom with the measured rows (one dictionary pass).

    Returns
    -------
    num : numpy.ndarray, complex, shape (J, A, C, F)
        ``Σ_ν conj(Φ_j) S`` (numerator of eq. 15).
    den : numpy.ndarray, float, shape (J, A, C, F)
        ``Σ_ν |Φ_j|²``.
    """
    A, C, F, _ = data.shape
    J = view.num_atoms
    num = np.empty((J, A, C, F), dtype=np.complex128)
    den = np.empty((J, A, C, F), dtype=np.float64)
    for a in range(A):
        for c in range(C):
            blk = view.block(a, c)
            num[:, a, c] = _inner(blk, data.S[a, c])
            den[:, a, c] = _norm2(blk)
    return num, den


def per_angle_residuals(data: FitData, num, den):
    """Per-angle TF (eq. 15) and its row residual in closed form (paper §4.5).

    Returns
    -------
    tf : (J, A, C, F) complex
    residual : (J, A, C, F) float, ``‖S − â Φ‖²`` per row (clipped at 0)
    """
    tf = _safe_ratio(num, den)
    res = data.energy[None] - (num.real**2 + num.imag**2) * _safe_ratio(1.0, den).real
    return tf, np.maximum(res, 0.0)


def shared_residuals(data: FitData, num, den):
    """One TF per (channel, row) shared by all angles, fitted with the ε weights ω.

    ``â_{c,f} = Σ_a ω num / Σ_a ω den`` minimises ``Σ_a ω_{a,c,f} ‖S − âΦ‖²``, i.e.
    eq. 22 for a fixed atom.

    Returns
    -------
    tf : (J, C, F) complex
    residual : (J, A, C, F) float
    """
    w = data.omega[None]
    tf = _safe_ratio(np.sum(w * num, axis=1), np.sum(w * den, axis=1))
    t = tf[:, None]
    res = data.energy[None] - 2.0 * (np.conj(t) * num).real + (t.real**2 + t.imag**2) * den
    return tf, np.maximum(res, 0.0)


def row_errors_from_residuals(data: FitData, residual):
    """ε per row (eq. 20) from ``‖S − S_model‖²`` of shape (..., A, C, F)."""
    return np.sqrt(residual * data.omega / data.num_positions)


def global_errors(row_errors, channel_reduction="mean"):
    """ε_global (eq. 22) over the last three axes (A, C, F) of ``row_errors``."""
    factor = 1.0 if channel_reduction == "mean" else float(row_errors.shape[-2])
    return np.sqrt(factor * np.mean(row_errors**2, axis=(-3, -2, -1)))


def per_angle_gram(data: FitData, view: DictionaryView):
    """Gram matrix of the stacked, weighted M2 matrix (eqs. 12, 16–17), block by block.

    Column j of M holds ``sqrt(ω)·â_j·Φ_j`` over all (angle, channel, row, position),
    with â_j the per-angle TF of atom j (eq. 15, computed here from the same block);
    y holds ``sqrt(ω)·S``. Each (angle, channel) block is accumulated with a
    Hermitian rank-k update (BLAS ``zherk``); M itself is never formed.

    Returns
    -------
    H : (J, J) complex, ``M^H M``
    r : (J,) complex, ``M^H y``
    yy : float, ``‖y‖²``
    num, den : as returned by :func:`row_statistics`
    """
    A, C, F, O = data.shape
    J = view.num_atoms
    H = np.zeros((J, J), dtype=np.complex128)
    r = np.zeros(J, dtype=np.complex128)
    num = np.empty((J, A, C, F), dtype=np.complex128)
    den = np.empty((J, A, C, F), dtype=np.float64)
    for a in range(A):
        for c in range(C):
            blk = view.block(a, c)
            num[:, a, c] = _inner(blk, data.S[a, c])
            den[:, a, c] = _norm2(blk)
            sw = np.sqrt(data.omega[a, c])  # (F,)
            scale = _safe_ratio(num[:, a, c], den[:, a, c]) * sw[None, :]  # sqrt(ω)·â, (J, F)
            Z = (blk * scale[:, :, None]).reshape(J, F * O)  # new array
            y = (data.S[a, c] * sw[:, None]).reshape(-1)
            H += blas.zherk(1.0, Z.T, trans=2)  # upper triangle of this block's M^H M
            r += np.conj(Z @ np.conj(y))
            del Z
    return _hermitian_from_upper(H), r, float(np.sum(data.omega * data.energy)), num, den


def per_row_gram(data: FitData, view: DictionaryView):
    """Per-(channel, row) Gram matrices for the shared-TF dictionary model.

    Returns
    -------
    Q : (C, F, J, J) complex, ``Q[c, f] = Σ_a ω_{a,c,f} Σ_ν conj(Φ_i) Φ_j``
    n : (J, C, F) complex, ``Σ_a ω Σ_ν conj(Φ_j) S``
    yy : (C, F) float, ``Σ_a ω ‖S‖²``
    """
    A, C, F, O = data.shape
    J = view.num_atoms
    Q = np.zeros((C, F, J, J), dtype=np.complex128)
    n = np.zeros((J, C, F), dtype=np.complex128)
    for a in range(A):
        for c in range(C):
            blk = view.block(a, c)
            n[:, c] += data.omega[a, c][None, :] * _inner(blk, data.S[a, c])
            for f in range(F):
                w = float(data.omega[a, c, f])
                if w > 0:
                    Q[c, f] += blas.zherk(w, np.asarray(blk[:, f, :]).T, trans=2)
    for c in range(C):
        for f in range(F):
            Q[c, f] = _hermitian_from_upper(Q[c, f])
    return Q, n, np.sum(data.omega * data.energy, axis=0)


def _hermitian_from_upper(H):
    upper = np.triu(H)
    return upper + np.conj(np.triu(H, 1)).T


def objective_from_gram(H, r, yy, w):
    """``‖M w − y‖²`` for real w from ``H = M^H M``, ``r = M^H y``, ``yy = ‖y‖²``."""
    w = np.asarray(w, dtype=np.float64)
    return float(max(w @ (H.real @ w) - 2.0 * (r.real @ w) + yy, 0.0))


def tsvd_nnls(H, r, rank=None, *, svd_domain="complex", rtol=None):
    """Non-negative least squares on the TSVD-projected problem (eqs. 17–18) from the Gram.

    With the thin SVD ``M = U Σ V^H`` one has ``U_s^H M = Σ_s V_s^H`` and
    ``U_s^H y = Σ_s^{-1} V_s^H M^H y``; both follow from the eigen-decomposition
    ``M^H M = V Σ² V^H`` without M. The projected problem
    ``min_{w ≥ 0} ‖Σ_s V_s^H w − Σ_s^{-1} V_s^H r‖²`` is solved exactly on its real
    stacking ``[Re; Im]`` with :func:`scipy.optimize.nnls`.

    Parameters
    ----------
    H : (J, J) complex Hermitian, ``M^H M``
    r : (J,) complex, ``M^H y``
    rank : int or None
        Singular values kept (s). ``None``: all numerically non-zero ones.
    svd_domain : {"complex", "real"}
        SVD of the complex M (as the paper) or of its real stacking ``[Re M; Im M]``
        (Gram ``Re(M^H M)``).
    rtol : float, optional
        Eigenvalues ``σ² <= rtol·σ_1²`` count as zero (default ``J·eps``·10).

    Returns
    -------
    w : (J,) float, non-negative
    singular_values : (J,) float, descending (all, not only the kept ones)
    kept : int, the rank actually used
    """
    if svd_domain not in ("complex", "real"):
        raise ValueError(f"svd_domain must be 'complex' or 'real', got {svd_domain!r}")
    J = H.shape[0]
    if svd_domain == "real":
        G = H.real
        b = r.real
    else:
        G = H
        b = r
    lam, V = scipy.linalg.eigh(G)
    lam = lam[::-1]
    V = V[:, ::-1]
    lam = np.maximum(lam, 0.0)
    sv = np.sqrt(lam)
    if rtol is None:
        rtol = 10.0 * J * np.finfo(np.float64).eps
    numerical = int(np.sum(lam > rtol * (lam[0] if lam.size else 0.0)))
    s = numerical if rank is None else min(int(rank), numerical)
    if rank is not None and int(rank) > numerical:
        logger.info("rank %d exceeds the numerical rank %d of the dictionary matrix; using %d", rank, numerical, s)
    if s == 0:
        return np.zeros(J), sv, 0
    Vs = V[:, :s]
    A_red = sv[:s, None] * np.conj(Vs).T  # Σ_s V_s^H, (s, J)
    b_red = (np.conj(Vs).T @ b) / sv[:s]  # Σ_s^{-1} V_s^H r
    if svd_domain == "complex":
        A_real = np.vstack([A_red.real, A_red.imag])
        b_real = np.concatenate([b_red.real, b_red.imag])
    else:
        A_real = A_red.real
        b_real = b_red.real
    w, _ = scipy.optimize.nnls(A_real, b_real, maxiter=50 * J)
    return w, sv, s
