"""numba kernels of the reduced-basis Néel solver: dense LU, the ROS34PW2 step on the
reduced affine operator ``A_r(B) = A0 + Bx A1 + By A2 + Bz A3`` (r × r, dense), batched
trajectories, with local bases: one per cell of the field (easy-axis frame), the state
projected when the field crosses into another cell.

The reduced state w (r,) has w[0] = the l=0 coefficient (constant): row 0 of every
reduced matrix is zero, so probability is conserved exactly, as in the full model.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import (clip_to_record, field_at, fill_records, push_endpoint, ros_a_c,
                       ros_b_c, ros_bhat_c, ros_c_c, ros_g_c, ros_gi_c, gamma_ros)


@njit(cache=True)
def dense_lu(a, ipiv):
    """In-place LU with partial pivoting of a square matrix (row-major). 0 or 1-based
    index of a zero pivot."""
    n = a.shape[0]
    info = 0
    for j in range(n):
        p = j
        amax = abs(a[j, j])
        for i in range(j + 1, n):
            v = abs(a[i, j])
            if v > amax:
                amax = v
                p = i
        ipiv[j] = p
        if amax == 0.0:
            if info == 0:
                info = j + 1
            continue
        if p != j:
            for c in range(n):
                t = a[j, c]
                a[j, c] = a[p, c]
                a[p, c] = t
        inv = 1.0 / a[j, j]
        for i in range(j + 1, n):
            lij = a[i, j] * inv
            a[i, j] = lij
            if lij != 0.0:
                for c in range(j + 1, n):
                    a[i, c] -= lij * a[j, c]
    return info


@njit(cache=True)
def dense_solve(a, ipiv, b):
    """Solve in place with the factors of :func:`dense_lu`."""
    n = a.shape[0]
    for j in range(n):
        p = ipiv[j]
        if p != j:
            t = b[j]
            b[j] = b[p]
            b[p] = t
    for i in range(n):
        s = b[i]
        for c in range(i):
            s -= a[i, c] * b[c]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for c in range(i + 1, n):
            s -= a[i, c] * b[c]
        b[i] = s / a[i, i]


@njit(cache=True)
def _assemble(out, ops, c0, bx, by, bz):
    """out = c0 A0 + bx A1 + by A2 + bz A3 (terms with a zero coefficient skipped: in the
    canonical easy-axis frame the paper's fields have B_y = 0)."""
    r = out.shape[0]
    out[:, :] = 0.0
    coefs = (c0, bx, by, bz)
    for k in range(4):
        c = coefs[k]
        if c != 0.0:
            for i in range(r):
                for j in range(r):
                    out[i, j] += c * ops[k, i, j]


@njit(cache=True)
def _matvec(out, a, x, scale, accumulate):
    r = a.shape[0]
    for i in range(r):
        s = 0.0
        for j in range(r):
            s += a[i, j] * x[j]
        if accumulate:
            out[i] += scale * s
        else:
            out[i] = scale * s


@njit(cache=True)
def _moment(m, cmom, w, r):
    """m̄ (3,) of the reduced state w (first r coordinates)."""
    for a in range(3):
        s = 0.0
        for j in range(r):
            s += cmom[a, j] * w[j]
        m[a] = s


@njit(cache=True)
def cell_of(b, ring_edges, n_sectors):
    """Local-basis cell of a field (easy-axis frame): ring of |B| (edges ascending; ring 0 is
    one cell), then sector of the angle atan2(B_x, B_z) in the outer rings."""
    mag = np.sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2])
    ring = 0
    for e in ring_edges:
        if mag >= e:
            ring += 1
    if ring == 0:
        return 0
    ang = np.arctan2(b[0], b[2])  # (-pi, pi]
    sec = int(np.floor((ang + np.pi) / (2.0 * np.pi) * n_sectors))
    if sec >= n_sectors:
        sec = n_sectors - 1
    if sec < 0:
        sec = 0
    return 1 + (ring - 1) * n_sectors + sec


@njit(cache=True)
def _switch(Y, trans, c_new, c_old, rdim, tmp):
    """Y (ncols, rmax) from the coordinates of cell c_old to those of c_new (projection)."""
    rn = rdim[c_new]
    ro = rdim[c_old]
    for col in range(Y.shape[0]):
        for i in range(rn):
            s = 0.0
            for j in range(ro):
                s += trans[c_new, c_old, i, j] * Y[col, j]
            tmp[i] = s
        for i in range(rn):
            Y[col, i] = tmp[i]
        for i in range(rn, Y.shape[1]):
            Y[col, i] = 0.0


@njit(cache=True)
def rb_member(Y, t_start, t_end, coef, dt, period, t0, out, tol, h_init, h_max, replay,
              steps, nsteps_io, ops_all, cmom_all, rdim, trans, ring_edges, n_sectors, clip):
    """Integrate the local reduced model for one member from t_start to t_end in place.

    Y (ncols, rmax): state columns in the coordinates of the cell of B(t_start); on return
    in those of the cell of B(t_end) (ncols > 1 only with replay, e.g. the period map).
    The basis of the cell of B(t) at the start of each step is used (switches project the
    state). out (nrec, 3) gets m̄ at the record times t0 + k dt: with clip = 1 the steps
    end there, with clip = 0 the steps are free and the records interpolated (cubic
    Lagrange through the step ends, as in the full model). replay = 0: adaptive steps
    (embedded error of column 0 ≤ tol) stored in ``steps``; replay = 1: the
    nsteps_io[0] stored steps.
    Returns (info, number of LU factorisations)."""
    ncols, rmax = Y.shape
    An = np.empty((rmax, rmax))
    As = np.empty((3, rmax, rmax))
    Ad = np.empty((rmax, rmax))
    M = np.empty((rmax, rmax))
    ipiv = np.empty(rmax, dtype=np.int64)
    k = np.empty((4, ncols, rmax))
    ys = np.empty(rmax)
    acc = np.empty(rmax)
    rhs = np.empty(rmax)
    ady = np.empty(rmax)
    tmp = np.empty(rmax)
    bfield = np.empty(3)
    dfield = np.empty(3)
    bst = np.empty(3)
    dst = np.empty(3)
    mcur = np.empty(3)
    tb = np.empty(4)
    mb = np.empty((4, 3))
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
    cur = cell_of(bfield, ring_edges, n_sectors)
    r = rdim[cur]
    ops = ops_all[cur, :, :r, :r]
    cmom = cmom_all[cur]
    _assemble(An[:r, :r], ops, 1.0, bfield[0], bfield[1], bfield[2])
    _moment(mcur, cmom, Y[0], r)
    cnt = push_endpoint(tb, mb, 0, t, mcur)
    if krec < nrec and abs(t0 + krec * dt - t) <= 1e-9 * dt:
        krec = fill_records(out, krec, t0, dt, tb, mb, 1, t)
    while t < t_end - 1e-12 * dt:
        if replay == 1:
            if nst >= nmax:
                break
            h = steps[nst]
        else:
            h = clip_to_record(t, h, t_end, krec, nrec, t0, dt, clip)
        for i in range(r):
            for j in range(r):
                M[i, j] = -h * gamma_ros * An[i, j]
            M[i, i] += 1.0
        Mv = M[:r, :r]
        info = dense_lu(Mv, ipiv)
        nlu += 1
        if info != 0:
            return info, nlu
        _assemble(Ad[:r, :r], ops, 0.0, dfield[0], dfield[1], dfield[2])
        for st in range(1, 4):
            field_at(coef, dt, period, t0, t + ros_c_c[st] * h, bst, dst)
            _assemble(As[st - 1, :r, :r], ops, 1.0, bst[0], bst[1], bst[2])
        for col in range(ncols):
            y = Y[col, :r]
            _matvec(ady[:r], Ad[:r, :r], y, 1.0, False)
            for st in range(4):
                for i in range(r):
                    ys[i] = y[i]
                    acc[i] = 0.0
                for j in range(st):
                    aij = ros_a_c[st, j]
                    gij = ros_g_c[st, j]
                    for i in range(r):
                        ys[i] += aij * k[j, col, i]
                        acc[i] += gij * k[j, col, i]
                if st == 0:
                    _matvec(rhs[:r], An[:r, :r], ys[:r], h, False)
                else:
                    _matvec(rhs[:r], As[st - 1, :r, :r], ys[:r], h, False)
                    _matvec(rhs[:r], An[:r, :r], acc[:r], h, True)
                gi = ros_gi_c[st] * h * h
                for i in range(r):
                    rhs[i] += gi * ady[i]
                dense_solve(Mv, ipiv, rhs[:r])
                for i in range(r):
                    k[st, col, i] = rhs[i]
        fac = 1.0
        if replay == 0:
            e2 = 0.0
            for i in range(r):
                e = 0.0
                for j in range(4):
                    e += (ros_b_c[j] - ros_bhat_c[j]) * k[j, 0, i]
                e2 += e * e
            en = np.sqrt(e2) / tol
            if en > 1.0 and h > 1e-6 * dt:
                h = h * max(0.2, 0.85 * en ** (-1.0 / 3.0))
                continue
            fac = min(3.0, max(0.2, 0.85 * (en + 1e-12) ** (-1.0 / 3.0)))
        for col in range(ncols):
            for j in range(4):
                bj = ros_b_c[j]
                for i in range(r):
                    Y[col, i] += bj * k[j, col, i]
        if replay == 0:
            if nst < cap:
                steps[nst] = h
            else:
                nsteps_io[0] = -1
        nst += 1
        t = t + h
        field_at(coef, dt, period, t0, t, bfield, dfield)
        new = cell_of(bfield, ring_edges, n_sectors)
        if new != cur:
            _switch(Y, trans, new, cur, rdim, tmp)
            cur = new
            r = rdim[cur]
            ops = ops_all[cur, :, :r, :r]
            cmom = cmom_all[cur]
            _assemble(An[:r, :r], ops, 1.0, bfield[0], bfield[1], bfield[2])
        else:
            for i in range(r):
                for j in range(r):
                    An[i, j] = As[2, i, j]  # A(B(t + h)), c_4 = 1
        _moment(mcur, cmom, Y[0], r)
        cnt = push_endpoint(tb, mb, cnt, t, mcur)
        if clip:  # the step ends on the record: its value (the newest point)
            j = min(cnt, 4) - 1
            krec = fill_records(out, krec, t0, dt, tb[j:], mb[j:], 1, t)
        elif cnt >= 4:
            krec = fill_records(out, krec, t0, dt, tb, mb, 4, tb[2])
        if replay == 0:
            h = min(h * fac, h_max)
    krec = fill_records(out, krec, t0, dt, tb, mb, min(cnt, 4), t)
    if replay == 0 and nsteps_io[0] != -1:
        nsteps_io[0] = nst
    return 0, nlu


@njit(cache=True, parallel=True)
def rb_batch(Y, t_start, t_end, coef, dt, period, t0, out, tol, h_init, h_max, replay, steps,
             nsteps, ops_all, cmom_all, rdim, trans, ring_edges, n_sectors, clip):
    """Batched :func:`rb_member`: Y (nb, ncols, rmax), coef (nb, 4, nseg, 3),
    out (nb, nrec, 3), steps (nb, cap), nsteps (nb,). Returns (info, nlu) arrays."""
    nb = Y.shape[0]
    info = np.zeros(nb, dtype=np.int64)
    nlu = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        i1, i2 = rb_member(Y[b], t_start, t_end, coef[b], dt, period, t0, out[b], tol, h_init,
                           h_max, replay, steps[b], nsteps[b:b + 1], ops_all, cmom_all, rdim,
                           trans, ring_edges, n_sectors, clip)
        info[b] = i1
        nlu[b] = i2
    return info, nlu
