"""numba kernels of the reduced-basis Néel solver: LAPACK LU, the Rodas5P step on the
reduced affine operator ``A_r(B) = A0 + Bx A1 + By A2 + Bz A3`` (r × r, dense), batched
trajectories.

The reduced state w (r,) has w[0] = the l=0 coefficient (constant): row 0 of every
reduced matrix is zero, so probability is conserved exactly, as in the full model.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .lapack import GETRF_INT, dgetrf
from .stepping import (
    INTERP_POINTS,
    RODAS_A,
    RODAS_ALPHA,
    RODAS_C,
    RODAS_D,
    RODAS_GAMMA,
    RODAS_STAGES,
    field_at,
    fill_records,
    push_endpoint,
    record_step_end,
    step_factor,
)


@njit(cache=True)
def lu_factor(a, n, ipiv):
    """LAPACK ``getrf`` of the leading n × n block of the C-contiguous buffer ``a``
    (leading dimension a.shape[1]) in place. Read column-major, that block is Mᵀ, so
    the factors are those of Mᵀ = P L U; :func:`lu_solve` solves M x = b with them.
    ipiv: ``GETRF_INT`` integers, 1-based. Returns LAPACK's info (0 = ok)."""
    return dgetrf(100, n, n, a.ctypes, a.shape[1], ipiv.ctypes)  # 100 = ord("d")


@njit(cache=True, fastmath=True)
def lu_solve(a, n, ipiv, b):
    """Solve M x = b in place with :func:`lu_factor`'s factors of Mᵀ = P L U, i.e.
    M = Uᵀ Lᵀ Pᵀ: Uᵀ y = b (the lower triangle of the row-major buffer, diagonal
    included), Lᵀ w = y (the strict upper triangle, unit diagonal), x = P w."""
    for j in range(n):
        s = b[j]
        for i in range(j):
            s -= a[j, i] * b[i]
        b[j] = s / a[j, j]
    for j in range(n - 1, -1, -1):
        s = b[j]
        for i in range(j + 1, n):
            s -= a[j, i] * b[i]
        b[j] = s
    for i in range(n - 1, -1, -1):
        p = ipiv[i] - 1
        if p != i:
            t = b[i]
            b[i] = b[p]
            b[p] = t


@njit(cache=True)
def _step_matrix(M, ops, r, kact, coefs, scale):
    """M[:r, :r] = I + scale · Σ_k coefs[k] A_k over the active operators."""
    for i in range(r):
        for j in range(r):
            M[i, j] = 0.0
    for q in range(kact.shape[0]):
        c = scale * coefs[kact[q]]
        if c != 0.0:
            for i in range(r):
                for j in range(r):
                    M[i, j] += c * ops[kact[q], i, j]
    for i in range(r):
        M[i, i] += 1.0


@njit(cache=True)
def _moment(m, cmom, w, r):
    """m̄ (3,) of the reduced state w (first r coordinates)."""
    for a in range(3):
        s = 0.0
        for j in range(r):
            s += cmom[a, j] * w[j]
        m[a] = s


@njit(cache=True)
def _stage_vector(v, r, kact, cst, ys, dd, dfield, y):
    """v (nact·r) with A_stack · v = A(B_st) ys + dd A'(t) y, where A_stack =
    [A_k1 | A_k2 | ...] over the active operators k (A0 first, coefficient 1)."""
    for q in range(kact.shape[0]):
        k = kact[q]
        base = q * r
        if k == 0:
            for i in range(r):
                v[base + i] = ys[i]
        else:
            a = cst[k - 1]
            g = dd * dfield[k - 1]
            for i in range(r):
                v[base + i] = a * ys[i] + g * y[i]


@njit(cache=True)
def rb_member(
    Y, t_start, t_end, coef, dt, period, t0, out, tol, h_init, h_max, replay, steps, nsteps_io, ops, S, kact, cmom
):
    """Integrate the reduced model for one member from t_start to t_end in place.

    Y (ncols, r): state columns (ncols > 1 only with replay, e.g. the period map).
    ops (4, r, r): A0..A3; S: the C-contiguous (r, nact·r) block [A_k for k in kact]
    (one BLAS gemv per stage); kact: the operators whose field component is not
    identically zero (0 always); cmom (3, r): the moment read-out.
    out (nrec, 3) gets m̄ at the record times t0 + k dt, interpolated through the ends of
    the (free) steps as in the full model. replay = 0: adaptive steps
    (embedded error of column 0 ≤ tol) stored in ``steps``; replay = 1: the
    nsteps_io[0] stored steps.
    Returns (info, number of LU factorisations)."""
    ncols, r = Y.shape
    nact = kact.shape[0]
    ns = RODAS_STAGES
    M = np.empty((r, r))
    ipiv = np.empty(r, dtype=GETRF_INT)
    u = np.empty((ns, ncols, r))
    ys = np.empty((ncols, r))
    v = np.empty(nact * r)
    rhs = np.empty(r)
    tmp = np.empty(r)
    bfield = np.empty(3)
    dfield = np.empty(3)
    bst = np.empty((ns, 3))
    dst = np.empty(3)
    coefs = np.empty(4)
    m1 = np.empty(3)
    tb = np.empty(INTERP_POINTS)
    mb = np.empty((INTERP_POINTS, 3))
    nrec = out.shape[0]
    krec = 0
    while krec < nrec and t0 + krec * dt < t_start - 1e-9 * dt:
        krec += 1
    t = t_start
    h = min(h_init, h_max)
    nlu = 0
    nst = 0
    cap = steps.shape[0]
    nmax = nsteps_io[0]
    field_at(coef, dt, period, t0, t, bfield, dfield)
    _moment(m1, cmom, Y[0], r)
    cnt = push_endpoint(tb, mb, 0, t, m1)
    while t < t_end - 1e-12 * dt:
        if replay == 1:
            if nst >= nmax:
                break
            h = steps[nst]
        else:
            if t + h > t_end - 1e-9 * dt:
                h = t_end - t
        hg = h * RODAS_GAMMA
        coefs[0] = 1.0
        coefs[1] = bfield[0]
        coefs[2] = bfield[1]
        coefs[3] = bfield[2]
        _step_matrix(M, ops, r, kact, coefs, -hg)
        info = lu_factor(M, r, ipiv)
        nlu += 1
        if info != 0:
            return info, nlu
        for c in range(3):
            bst[0, c] = bfield[c]
        for st in range(1, ns):
            if RODAS_ALPHA[st] != RODAS_ALPHA[st - 1]:
                field_at(coef, dt, period, t0, t + RODAS_ALPHA[st] * h, bst[st], dst)
            else:
                for c in range(3):
                    bst[st, c] = bst[st - 1, c]
        for col in range(ncols):
            y = Y[col, :r]
            yst = ys[col]
            for st in range(ns):
                for i in range(r):
                    yst[i] = y[i]
                    tmp[i] = 0.0
                for j in range(st):
                    aij = RODAS_A[st, j]
                    cij = RODAS_C[st, j] / h
                    for i in range(r):
                        yst[i] += aij * u[j, col, i]
                        tmp[i] += cij * u[j, col, i]
                _stage_vector(v, r, kact, bst[st], yst, RODAS_D[st] * h, dfield, y)
                np.dot(S, v[: nact * r], rhs[:r])
                for i in range(r):
                    rhs[i] = hg * (rhs[i] + tmp[i])
                lu_solve(M, r, ipiv, rhs)
                for i in range(r):
                    u[st, col, i] = rhs[i]
        fac = 1.0
        if replay == 0:
            e2 = 0.0
            for i in range(r):
                e2 += u[ns - 1, 0, i] * u[ns - 1, 0, i]
            en = np.sqrt(e2) / tol
            fac = step_factor(en)
            if en > 1.0 and h > 1e-6 * dt:
                h = h * fac
                continue
        # accepted: Y_new = Y_s + u_s (ys holds the last stage's input Y_s)
        for col in range(ncols):
            for i in range(r):
                Y[col, i] = ys[col, i] + u[ns - 1, col, i]
        if replay == 0:
            if nst < cap:
                steps[nst] = h
            else:
                nsteps_io[0] = -1
        nst += 1
        # m̄ (column 0) at the step end
        _moment(m1, cmom, Y[0], r)
        cnt, krec = record_step_end(out, krec, t0, dt, tb, mb, cnt, t + h, m1)
        t = t + h
        field_at(coef, dt, period, t0, t, bfield, dfield)
        if replay == 0:
            h = min(h * fac, h_max)
    krec = fill_records(out, krec, t0, dt, tb, mb, min(cnt, INTERP_POINTS), t)
    if replay == 0 and nsteps_io[0] != -1:
        nsteps_io[0] = nst
    return 0, nlu


@njit(cache=True, parallel=True)
def rb_batch(
    Y, t_start, t_end, coef, dt, period, t0, out, tol, h_init, h_max, replay, steps, nsteps, ops, S, kact, cmom
):
    """Batched :func:`rb_member`: Y (nb, ncols, r), coef (nb, 4, nseg, 3),
    out (nb, nrec, 3), steps (nb, cap), nsteps (nb,). Returns (info, nlu) arrays."""
    nb = Y.shape[0]
    info = np.zeros(nb, dtype=np.int64)
    nlu = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        i1, i2 = rb_member(
            Y[b],
            t_start,
            t_end,
            coef[b],
            dt,
            period,
            t0,
            out[b],
            tol,
            h_init,
            h_max,
            replay,
            steps[b],
            nsteps[b : b + 1],
            ops,
            S,
            kact,
            cmom,
        )
        info[b] = i1
        nlu[b] = i2
    return info, nlu
