"""numba kernels of the Fokker–Planck solver: banded LU, sparse affine operator, the
ROS34PW2 Rosenbrock–Wanner step, batched trajectories.

Conventions: every kernel takes contiguous float64/int64 arrays (pivots: ``LAPACK_INT``,
int32); inputs are checked in Python before the call (kernels raise nothing meant for
users and log nothing).

The operator is ``A(B) = V0 + B0 V1 + B1 V2 + B2 V3`` on a fixed sparsity pattern given in
CSR form (``indptr``, ``indices``, ``vals`` of shape (4, nnz)); the unknowns are already
permuted to a narrow-band order.  Band storage: row-major (n, ldab) with
``ab[j, kv + i - j] = A[i, j]``, ``kv = kl + ku``, ``ldab = 2 kl + ku + 1`` (the first
``kl`` slots of each column hold pivoting fill-in) -- read column-major, exactly LAPACK's
``dgbtrf`` AB, which :func:`band_lu` / :func:`band_solve` call (``_lapack``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# registers the LAPACK symbols: must precede loading any cached kernel below
from ._lapack import LAPACK_INT, dgbtrf, dgbtrs

# ROS34PW2 (Rang & Angermann 2005): 4 stages, order 3, L-stable, W-method.
ROS_GAMMA = 4.3586652150845900e-01
ROS_A = np.array([
    [0.0, 0.0, 0.0, 0.0],
    [8.7173304301691801e-01, 0.0, 0.0, 0.0],
    [8.4457060015369423e-01, -1.1299064236484185e-01, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0],
])
ROS_G = np.array([  # strictly lower Γ
    [0.0, 0.0, 0.0, 0.0],
    [-8.7173304301691801e-01, 0.0, 0.0, 0.0],
    [-9.0338057013044082e-01, 5.4180672388095326e-02, 0.0, 0.0],
    [2.4212380706095346e-01, -1.2232505839045147e+00, 5.4526025533510214e-01, 0.0],
])
ROS_B = np.array([2.4212380706095346e-01, -1.2232505839045147e+00,
                  1.5452602553351020e+00, 4.3586652150845900e-01])
ROS_C = np.array([0.0, 8.7173304301691801e-01, 7.3157995778885237e-01, 1.0])
# γ_i = γ + Σ_j Γ_ij  (coefficient of h² f_t)
ROS_GI = ROS_GAMMA + ROS_G.sum(axis=1)


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
    dgbtrf(iw[0:].ctypes, iw[1:].ctypes, iw[2:].ctypes, iw[3:].ctypes, ab.ctypes,
           iw[4:].ctypes, ipiv.ctypes, iw[5:].ctypes)
    return iw[5]


@njit(cache=True)
def band_solve(ab, ipiv, kl, ku, b):
    """Solve A x = b in place (b (n,) contiguous) with the factors of :func:`band_lu`:
    LAPACK ``dgbtrs`` (no transpose, one right-hand side)."""
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
    trans[0] = 78  # ord("N")
    dgbtrs(trans.ctypes, iw[0:].ctypes, iw[1:].ctypes, iw[2:].ctypes, iw[3:].ctypes,
           ab.ctypes, iw[4:].ctypes, ipiv.ctypes, b.ctypes, iw[5:].ctypes, iw[6:].ctypes)


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
        band_assemble(ab, indptr, indices, vals, fields[b, 0], fields[b, 1], fields[b, 2],
                      1.0, 0.0, kl, ku)
        kv = kl + ku
        # the l=0 row of A is zero: replace it by the normalisation c[i0] = c00
        ab[i0, kv] = 1.0
        rhs = res[b]
        rhs[i0] = c00
        band_lu(ab, ipiv, kl, ku)
        band_solve(ab, ipiv, kl, ku, rhs)
    return res


# ---------------------------------------------------------------------------------------
# dense output: cubic Lagrange interpolation of m̄ through the last four step ends


@njit(cache=True)
def push_endpoint(tb, mb, cnt, t, m):
    """Append the step end (t, m (3,)) to the 4-point history tb (4,), mb (4, 3) (oldest
    first); returns the number of points seen so far."""
    if cnt < 4:
        j = cnt
    else:
        for q in range(3):
            tb[q] = tb[q + 1]
            for a in range(3):
                mb[q, a] = mb[q + 1, a]
        j = 3
    tb[j] = t
    for a in range(3):
        mb[j, a] = m[a]
    return cnt + 1


@njit(cache=True)
def fill_records(out, krec, t_rec0, dt, tb, mb, npts, t_hi):
    """Fill the records out[krec:] (times t_rec0 + k dt) up to t_hi by Lagrange
    interpolation through the npts points tb[:npts], mb[:npts]; returns the next record.

    m̄ is a smooth, non-stiff read-out of the state: interpolating its values (never the
    stiff derivative A·y) keeps the method's order, so steps need not end on samples."""
    nrec = out.shape[0]
    while krec < nrec:
        tr = t_rec0 + krec * dt
        if tr > t_hi + 1e-9 * dt:
            break
        for a in range(3):
            out[krec, a] = 0.0
        for q in range(npts):
            w = 1.0
            for r in range(npts):
                if r != q:
                    w *= (tr - tb[r]) / (tb[q] - tb[r])
            for a in range(3):
                out[krec, a] += w * mb[q, a]
        krec += 1
    return krec


@njit(cache=True)
def clip_to_record(t, h, t_end, krec, nrec, t_rec0, dt, clip):
    """Proposed step h shortened to end at t_end and, with ``clip``, on the next record
    time (or halfway to it when a full step would overshoot it by less than half)."""
    if t + h > t_end - 1e-9 * dt:
        h = t_end - t
    if clip and krec < nrec:
        tr = t_rec0 + krec * dt
        if t + h > tr - 1e-9 * dt:
            h = tr - t
        elif t + 1.5 * h > tr:
            h = 0.5 * (tr - t)
    return h


# ---------------------------------------------------------------------------------------
# adaptive stepping with an embedded error estimate

ROS_BHAT = np.array([3.7810903145819369e-01, -9.6042292212423178e-02, 0.5,
                     2.1793326075422950e-01])


@njit(cache=True)
def field_at(coef, dt, period, t0, t, out, dout):
    """Piecewise-cubic field and its derivative at time t.

    coef (4, nseg, 3): polynomial coefficients in (t - t0 - j dt) (scipy ``CubicSpline.c``);
    period > 0 wraps t into [t0, t0 + period)."""
    nseg = coef.shape[1]
    x = t - t0
    if period > 0.0:
        x = x - period * np.floor(x / period)
    j = int(np.floor(x / dt))
    if j < 0:
        j = 0
    if j > nseg - 1:
        j = nseg - 1
    u = x - j * dt
    for c in range(3):
        a3 = coef[0, j, c]
        a2 = coef[1, j, c]
        a1 = coef[2, j, c]
        a0 = coef[3, j, c]
        out[c] = ((a3 * u + a2) * u + a1) * u + a0
        dout[c] = (3.0 * a3 * u + 2.0 * a2) * u + a1


@njit(cache=True)
def run_member_adaptive(y, t_start, t_end, coef, dt, period, t0, t_rec0, out,
                        tol, h_init, h_max, replay, steps, nsteps_io,
                        indptr, indices, vals, kl, ku, mom_idx, mom_scale, ab, ipiv, work,
                        ysave, clip, tail_idx, tail_max):
    """Integrate one trajectory from t_start to t_end in place (adaptive or replayed steps).

    out (nrec, 3): m̄ at t_rec0 + k dt. clip = 1: steps end on the record times (needed
    for ``ysave``); clip = 0: free steps, the records interpolated (cubic Lagrange through
    the step ends, :func:`fill_records`).
    replay = 0: choose steps by the embedded error estimate (2-norm of the coefficient
    error <= tol) and store the accepted step sizes in ``steps`` (capacity steps.size;
    beyond it the stored sequence is truncated and ``nsteps_io[0] = -1``).
    replay = 1: take exactly the nsteps_io[0] step sizes stored in ``steps``.
    ysave (nrec, n) or (0, n): the coefficient vectors at the record times (clip = 1).
    tail_idx (k,): coefficients whose 2-norm is monitored (the highest azimuthal order
    kept; it ranks the members for :func:`mdf_neel.physics.fokker_planck._solve_truncated`);
    tail_max (1,) gets the largest such norm at the accepted step ends (running maximum).
    Returns (info, number of LU factorisations)."""
    n = y.shape[0]
    k = work[0:4]
    ystage = work[4]
    acc = work[5]
    rhs = work[6]
    err = work[7]
    bfield = np.empty(3)
    dfield = np.empty(3)
    bst = np.empty(3)
    dst = np.empty(3)
    m_new = np.empty(3)
    tb = np.empty(4)
    mb = np.empty((4, 3))
    nrec = out.shape[0]
    # next record index
    krec = 0
    while krec < nrec and t_rec0 + krec * dt < t_start - 1e-9 * dt:
        krec += 1
    t = t_start
    h = min(h_init, h_max)
    nlu = 0
    nst = 0
    cap = steps.shape[0]
    nmax = nsteps_io[0]
    field_at(coef, dt, period, t0, t, bfield, dfield)
    for a in range(3):
        m_new[a] = mom_scale[a] * y[mom_idx[a]]
    cnt = push_endpoint(tb, mb, 0, t, m_new)
    save = ysave.shape[0] > 0
    if krec < nrec and abs(t_rec0 + krec * dt - t) <= 1e-9 * dt:
        if save:
            ysave[krec, :] = y
        krec = fill_records(out, krec, t_rec0, dt, tb, mb, 1, t)
    while t < t_end - 1e-12 * dt:
        if replay == 1:
            if nst >= nmax:
                break
            h = steps[nst]
        else:
            h = clip_to_record(t, h, t_end, krec, nrec, t_rec0, dt, clip)
        band_assemble(ab, indptr, indices, vals, bfield[0], bfield[1], bfield[2],
                      -h * gamma_ros, 1.0, kl, ku)
        info = band_lu(ab, ipiv, kl, ku)
        nlu += 1
        if info != 0:
            return info, nlu
        for st in range(4):
            for i in range(n):
                ystage[i] = y[i]
                acc[i] = 0.0
            for j in range(st):
                aij = ros_a_c[st, j]
                gij = ros_g_c[st, j]
                if aij != 0.0 or gij != 0.0:
                    for i in range(n):
                        ystage[i] += aij * k[j, i]
                        acc[i] += gij * k[j, i]
            if st == 0:
                for c in range(3):
                    bst[c] = bfield[c]
            else:
                field_at(coef, dt, period, t0, t + ros_c_c[st] * h, bst, dst)
            op_matvec(rhs, indptr, indices, vals, h, h * bst[0], h * bst[1], h * bst[2],
                      ystage, False)
            if st > 0:
                op_matvec(rhs, indptr, indices, vals, h, h * bfield[0], h * bfield[1],
                          h * bfield[2], acc, True)
            gi = ros_gi_c[st] * h * h
            op_matvec(rhs, indptr, indices, vals, 0.0, gi * dfield[0], gi * dfield[1],
                      gi * dfield[2], y, True)
            band_solve(ab, ipiv, kl, ku, rhs)
            for i in range(n):
                k[st, i] = rhs[i]
        accept = True
        fac = 1.0
        if replay == 0:
            e2 = 0.0
            for i in range(n):
                e = 0.0
                for j in range(4):
                    e += (ros_b_c[j] - ros_bhat_c[j]) * k[j, i]
                e2 += e * e
            en = np.sqrt(e2) / tol
            if en > 1.0 and h > 1e-6 * dt:
                accept = False
                fac = max(0.2, 0.85 * en ** (-1.0 / 3.0))
            else:
                fac = min(3.0, max(0.2, 0.85 * (en + 1e-12) ** (-1.0 / 3.0)))
        if not accept:
            h = h * fac
            continue
        for j in range(4):
            bj = ros_b_c[j]
            for i in range(n):
                y[i] += bj * k[j, i]
        if replay == 0:
            if nst < cap:
                steps[nst] = h
            else:
                nsteps_io[0] = -1
        nst += 1
        if tail_idx.shape[0] > 0:
            s = 0.0
            for i in tail_idx:
                s += y[i] * y[i]
            s = np.sqrt(s)
            if s > tail_max[0]:
                tail_max[0] = s
        t_new = t + h
        field_at(coef, dt, period, t0, t_new, bfield, dfield)
        for a in range(3):
            m_new[a] = mom_scale[a] * y[mom_idx[a]]
        cnt = push_endpoint(tb, mb, cnt, t_new, m_new)
        if save and krec < nrec and abs(t_rec0 + krec * dt - t_new) <= 1e-9 * dt:
            ysave[krec, :] = y
        if clip:  # the step ends on the record: its value (the newest point)
            j = min(cnt, 4) - 1
            krec = fill_records(out, krec, t_rec0, dt, tb[j:], mb[j:], 1, t_new)
        elif cnt >= 4:
            krec = fill_records(out, krec, t_rec0, dt, tb, mb, 4, tb[2])
        t = t_new
        if replay == 0:
            h = min(h * fac, h_max)
    krec = fill_records(out, krec, t_rec0, dt, tb, mb, min(cnt, 4), t)
    if replay == 0 and nsteps_io[0] != -1:
        nsteps_io[0] = nst
    return 0, nlu


gamma_ros = ROS_GAMMA
ros_a_c = ROS_A
ros_g_c = ROS_G
ros_b_c = ROS_B
ros_bhat_c = ROS_BHAT
ros_c_c = ROS_C
ros_gi_c = ROS_GI


@njit(cache=True, parallel=True)
def run_batch_adaptive(y, t_start, t_end, coef, dt, period, t0, t_rec0, out, tol, h_init,
                       h_max, replay, steps, nsteps, indptr, indices, vals, kl, ku,
                       mom_idx, mom_scale, ysave, clip, tail_idx, tail_max):
    """Batched :func:`run_member_adaptive`: y (nb, n), coef (nb, 4, nseg, 3),
    out (nb, nrec, 3), steps (nb, cap), nsteps (nb,) (in/out), ysave (nb, nrec, n) or
    (nb, 0, n), tail_max (nb,) (running maxima). Returns (info, nlu) arrays."""
    nb = y.shape[0]
    n = y.shape[1]
    ldab = 2 * kl + ku + 1
    info = np.zeros(nb, dtype=np.int64)
    nlu = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        ab = np.empty((n, ldab))
        ipiv = np.empty(n, dtype=LAPACK_INT)
        work = np.empty((8, n))
        i1, i2 = run_member_adaptive(y[b], t_start, t_end, coef[b], dt, period, t0, t_rec0,
                                     out[b], tol, h_init, h_max, replay, steps[b],
                                     nsteps[b:b + 1], indptr, indices, vals, kl, ku,
                                     mom_idx, mom_scale, ab, ipiv, work, ysave[b], clip,
                                     tail_idx, tail_max[b:b + 1])
        info[b] = i1
        nlu[b] = i2
    return info, nlu
