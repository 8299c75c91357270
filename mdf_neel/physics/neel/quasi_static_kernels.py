"""numba kernels of the quasi-static (adiabatic) expansion (:mod:`.quasi_static`).

At one static field b = (B_x, B_z) of the easy-axis frame the kernels factor
``Ã(b)`` -- the operator A(b) with its zero l = 0 row replaced by the normalisation
row, scaled like the operator's rows -- once, and carry every coefficient function of the expansion as a *jet*: its
Taylor coefficients in (δB_x, δB_z) about b up to the order the later terms still
differentiate. Because A is affine in the field, Ã(b + δ) = Ã(b) + δ_x V_x + δ_z V_z
exactly, so the inverse applied to a jet is solved order by order with the one LU:

    Ã(b) Y_α = W_α − V_x Y_{α−e_x} − V_z Y_{α−e_z}.

Jets are stored as (J, n) blocks, the coefficient of δ_x^a δ_z^c at index
``(a + c)(a + c + 1)/2 + c``. Same operator storage as :mod:`.band`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .band import band_assemble, band_lu, band_solve, op_matvec
from .lapack import LAPACK_INT


@njit(cache=True)
def jet_index(a, c):
    """Index of the Taylor coefficient δ_x^a δ_z^c in a jet."""
    s = a + c
    return s * (s + 1) // 2 + c


@njit(cache=True)
def _invert_jet(ab, ipiv, kl, ku, indptr, indices, vals, rhs, out, order):
    """out[α] = Ã(b + δ)⁻¹ rhs as jets up to ``order`` (rhs[α][i0] = 0 for α ≠ 0 is the
    caller's business); ``rhs`` is left unchanged."""
    n = out.shape[1]
    tmp = np.empty(n)
    for s in range(order + 1):
        for c in range(s + 1):
            a = s - c
            k = jet_index(a, c)
            for i in range(n):
                tmp[i] = rhs[k, i]
            if a > 0:  # − V_x Y_{α−e_x}
                op_matvec(tmp, indptr, indices, vals, 0.0, -1.0, 0.0, 0.0, out[jet_index(a - 1, c)], True)
            if c > 0:  # − V_z Y_{α−e_z}
                op_matvec(tmp, indptr, indices, vals, 0.0, 0.0, 0.0, -1.0, out[jet_index(a, c - 1)], True)
            band_solve(ab, ipiv, kl, ku, tmp)
            for i in range(n):
                out[k, i] = tmp[i]


@njit(cache=True)
def series_point(
    out, bx, bz, indptr, indices, vals, kl, ku, i0, c00, rate, mom_idx, mom_scale, term_order, src, kind, coef, top
):
    """The moments of every term's coefficient function at the field (bx, bz).

    Terms are listed order by order (``term_order`` (nt,)); term 0 is the stationary
    state, and term t > 0 is Ã⁻¹ of the time derivative of the previous order collected
    as ``Σ coef · (∂_kind C_src or C_src)`` over its contributions ``src[t, :], kind[t, :],
    coef[t, :]`` (kind 0: ∂/∂B_x, 1: ∂/∂B_z, 2: the function itself, −1: unused slot;
    coef is the integer multiplicity). ``top`` is the highest order. out (nt, 3) receives
    the axis-frame moments (m0 units) of each term at δ = 0."""
    n = indptr.shape[0] - 1
    nt = term_order.shape[0]
    nj = (top + 1) * (top + 2) // 2
    ldab = 2 * kl + ku + 1
    ab = np.empty((n, ldab))
    ipiv = np.empty(n, dtype=LAPACK_INT)
    band_assemble(ab, indptr, indices, vals, bx, 0.0, bz, 1.0, 0.0, kl, ku)
    # the zero l = 0 row of A becomes the normalisation row, scaled like the operator's
    # rows (a unit row next to rows of 1e8-1e12 1/s cost 4-6 digits in the moments)
    ab[i0, kl + ku] = rate
    band_lu(ab, ipiv, kl, ku)
    jets = np.zeros((nt, nj, n))
    rhs = np.zeros((nj, n))
    rhs[0, i0] = rate * c00
    _invert_jet(ab, ipiv, kl, ku, indptr, indices, vals, rhs, jets[0], top)
    for t in range(1, nt):
        q = top - term_order[t]
        rhs[:, :] = 0.0
        for p in range(src.shape[1]):
            kd = kind[t, p]
            if kd < 0:
                continue
            s = src[t, p]
            w = coef[t, p]
            for sa in range(q + 1):
                for cc in range(sa + 1):
                    a = sa - cc
                    k = jet_index(a, cc)
                    if kd == 0:
                        ks, f = jet_index(a + 1, cc), w * (a + 1)
                    elif kd == 1:
                        ks, f = jet_index(a, cc + 1), w * (cc + 1)
                    else:
                        ks, f = k, w
                    for i in range(n):
                        rhs[k, i] += f * jets[s, ks, i]
        _invert_jet(ab, ipiv, kl, ku, indptr, indices, vals, rhs, jets[t], q)
    for t in range(nt):
        for j in range(3):
            out[t, j] = jets[t, 0, mom_idx[j]] * mom_scale[j]


@njit(cache=True, parallel=True)
def series_table(
    nodes_x,
    nodes_z,
    needed,
    indptr,
    indices,
    vals,
    kl,
    ku,
    i0,
    c00,
    rate,
    mom_idx,
    mom_scale,
    term_order,
    src,
    kind,
    coef,
    top,
):
    """:func:`series_point` on the grid nodes_x × nodes_z where ``needed`` (nx, nz) is
    true; returns (nx, nz, nt · 3), zero elsewhere."""
    nx = nodes_x.shape[0]
    nz = nodes_z.shape[0]
    nt = term_order.shape[0]
    res = np.zeros((nx, nz, nt * 3))
    flat = np.flatnonzero(needed.ravel())
    for p in prange(flat.shape[0]):
        ix = flat[p] // nz
        iz = flat[p] % nz
        point = np.empty((nt, 3))
        series_point(
            point,
            nodes_x[ix],
            nodes_z[iz],
            indptr,
            indices,
            vals,
            kl,
            ku,
            i0,
            c00,
            rate,
            mom_idx,
            mom_scale,
            term_order,
            src,
            kind,
            coef,
            top,
        )
        for t in range(nt):
            for j in range(3):
                res[ix, iz, 3 * t + j] = point[t, j]
    return res


@njit(cache=True)
def _lagrange_weights(u, w):
    """Weights of Lagrange interpolation on the nodes 0 … len(w)−1 at u."""
    m = w.shape[0]
    for a in range(m):
        p = 1.0
        for b in range(m):
            if b != a:
                p *= (u - b) / (a - b)
        w[a] = p


@njit(cache=True)
def stencil_start(x, x0, h, m, nx):
    """First node of the m-point stencil around x on the grid x0 + h·i, i < nx (clamped)."""
    i = int(np.floor((x - x0) / h)) - (m // 2 - 1)
    return min(max(i, 0), nx - m)


@njit(cache=True, parallel=True)
def mark_needed(bx, bz, x0, z0, h, m, nx, nz):
    """(nx, nz) bool: the nodes some stencil of the points (bx, bz) (any shape) reads."""
    need = np.zeros((nx, nz), dtype=np.bool_)
    fx = bx.ravel()
    fz = bz.ravel()
    for p in range(fx.shape[0]):
        ix = stencil_start(fx[p], x0, h, m, nx)
        iz = stencil_start(fz[p], z0, h, m, nz)
        for a in range(m):
            for c in range(m):
                need[ix + a, iz + c] = True
    return need


@njit(cache=True, parallel=True)
def evaluate_series(qtable, half, x0, h, m, fields, derivs, exponents, signs, term_order):
    """m̄(t) of every member from the interpolated table.

    qtable (half + 1, half + 1, nt · 3) the quadrant B_x, B_z >= 0 of the table on the grid
    x0 + h·i, i <= 2·half (node i = half is zero field); the other quadrants are read from it
    with ``signs`` (4, nt · 3), the factor of each column in the quadrant (B_x < 0) + 2 (B_z < 0)
    (:func:`.quasi_static.quadrant_signs`). fields (nb, T, 2) the axis-frame (B_x, B_z) [T];
    derivs (nb, T, nv) the time derivatives the monomials use (variable v = 2(r − 1) + k is
    the r-th derivative of B_k) [T/s^r]; exponents (nt, nv) each term's monomial and
    term_order (nt,) its order. Returns (nb, T, 3), Σ_t table_t(b(t)) · Π_v derivs_v^e, and
    (nb, T, 2, 3), the contributions of the two highest orders (the last one second)."""
    ncol = qtable.shape[2]
    n = 2 * half + 1
    nt = exponents.shape[0]
    nv = exponents.shape[1]
    nb, T, _ = fields.shape
    out = np.zeros((nb, T, 3))
    top = term_order.max()
    increments = np.zeros((nb, T, 2, 3))
    for b in prange(nb):
        wx = np.empty(m)
        wz = np.empty(m)
        acc = np.empty(ncol)
        for t in range(T):
            x = fields[b, t, 0]
            z = fields[b, t, 1]
            ix = stencil_start(x, x0, h, m, n)
            iz = stencil_start(z, x0, h, m, n)
            _lagrange_weights((x - x0) / h - ix, wx)
            _lagrange_weights((z - x0) / h - iz, wz)
            acc[:] = 0.0
            for a in range(m):
                qx = ix + a - half
                for c in range(m):
                    qz = iz + c - half
                    w = wx[a] * wz[c]
                    code = (1 if qx < 0 else 0) + (2 if qz < 0 else 0)
                    row = qtable[abs(qx), abs(qz)]
                    sign = signs[code]
                    for k in range(ncol):
                        acc[k] += w * sign[k] * row[k]
            for tt in range(nt):
                mono = 1.0
                for v in range(nv):
                    e = exponents[tt, v]
                    for _ in range(e):
                        mono *= derivs[b, t, v]
                slot = term_order[tt] - top + 1  # 1: the highest order, 0: the one below
                for j in range(3):
                    out[b, t, j] += acc[3 * tt + j] * mono
                    if slot >= 0:
                        increments[b, t, slot, j] += acc[3 * tt + j] * mono
    return out, increments
