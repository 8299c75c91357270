"""numba kernels of the full spherical-harmonic model: the adaptive (or replayed) Rodas5P
integration of one trajectory on the banded operator, and the batch over trajectories.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .band import band_assemble, band_lu, band_solve, op_matvec
from .lapack import LAPACK_INT
from .stepping import (
    INTERP_POINTS,
    RODAS_A,
    RODAS_ALPHA,
    RODAS_C,
    RODAS_D,
    RODAS_GAMMA,
    RODAS_STAGES,
    dense_states,
    field_at,
    fill_records,
    push_endpoint,
    record_step_end,
    step_factor,
)


@njit(cache=True)
def run_member_adaptive(
    y,
    t_start,
    t_end,
    coef,
    dt,
    period,
    t0,
    t_rec0,
    out,
    tol,
    h_init,
    h_max,
    replay,
    steps,
    nsteps_io,
    indptr,
    indices,
    vals,
    kl,
    ku,
    mom_idx,
    mom_scale,
    ab,
    ipiv,
    work,
    ysave,
    tail_idx,
    tail_max,
):
    """Integrate one trajectory from t_start to t_end in place (adaptive or replayed steps).

    Rodas5P steps (module constants ``RODAS_*``): one banded LU of I − hγA(B(t)) per step
    for all stages. Steps are free; out (nrec, 3) gets m̄ at the record times t_rec0 + k dt
    by Lagrange interpolation through the step ends (:func:`record_step_end`).
    replay = 0: choose steps by the embedded error estimate (2-norm of the coefficient
    error <= tol) and store the accepted step sizes in ``steps`` (capacity steps.size;
    beyond it the stored sequence is truncated and ``nsteps_io[0] = -1``).
    replay = 1: take exactly the nsteps_io[0] step sizes stored in ``steps``.
    work (RODAS_STAGES + 7, n) scratch. ysave (nrec, n) or (0, n): the coefficient vectors
    at the record times (the method's dense output of the whole state).
    tail_idx (k,): coefficients whose 2-norm is monitored (the highest azimuthal order
    kept; it ranks the members for :func:`.truncation.solve_truncated`);
    tail_max (1,) gets the largest such norm at the accepted step ends (running maximum).
    Returns (info, number of LU factorisations)."""
    n = y.shape[0]
    s = RODAS_STAGES
    u = work[0:s]
    ystage = work[s]
    rhs = work[s + 1]
    ft = work[s + 2]
    yold = work[s + 3]
    kvec = work[s + 4 : s + 7]
    bfield = np.empty(3)
    dfield = np.empty(3)
    bst = np.empty(3)
    dst = np.empty(3)
    m1 = np.empty(3)
    tb = np.empty(INTERP_POINTS)
    mb = np.empty((INTERP_POINTS, 3))
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
        m1[a] = mom_scale[a] * y[mom_idx[a]]
    cnt = push_endpoint(tb, mb, 0, t, m1)
    save = ysave.shape[0] > 0
    ksave = krec  # next state record (ahead of the m̄ records, which wait for later ends)
    if save and krec < nrec and abs(t_rec0 + krec * dt - t) <= 1e-9 * dt:
        ysave[krec, :] = y
        ksave += 1
    while t < t_end - 1e-12 * dt:
        if replay == 1:
            if nst >= nmax:
                break
            h = steps[nst]
        else:
            if t + h > t_end - 1e-9 * dt:
                h = t_end - t
        hg = h * RODAS_GAMMA
        band_assemble(ab, indptr, indices, vals, bfield[0], bfield[1], bfield[2], -hg, 1.0, kl, ku)
        info = band_lu(ab, ipiv, kl, ku)
        nlu += 1
        if info != 0:
            return info, nlu
        # f_t = A'(t) y (the operator's time derivative through the field)
        op_matvec(ft, indptr, indices, vals, 0.0, dfield[0], dfield[1], dfield[2], y, False)
        for st in range(s):
            for i in range(n):
                ystage[i] = y[i]
            dd = RODAS_D[st] * h
            for i in range(n):
                rhs[i] = dd * ft[i]
            for j in range(st):
                aij = RODAS_A[st, j]
                cij = RODAS_C[st, j] / h
                for i in range(n):
                    ystage[i] += aij * u[j, i]
                    rhs[i] += cij * u[j, i]
            if st == 0:
                for c in range(3):
                    bst[c] = bfield[c]
            elif RODAS_ALPHA[st] != RODAS_ALPHA[st - 1]:
                field_at(coef, dt, period, t0, t + RODAS_ALPHA[st] * h, bst, dst)
            op_matvec(rhs, indptr, indices, vals, 1.0, bst[0], bst[1], bst[2], ystage, True)
            for i in range(n):
                rhs[i] *= hg
            band_solve(ab, ipiv, kl, ku, rhs)
            for i in range(n):
                u[st, i] = rhs[i]
        fac = 1.0
        if replay == 0:
            e2 = 0.0
            for i in range(n):
                e2 += u[s - 1, i] * u[s - 1, i]
            en = np.sqrt(e2) / tol
            fac = step_factor(en)
            if en > 1.0 and h > 1e-6 * dt:
                h = h * fac
                continue
        # accepted: y_new = Y_s + u_s (ystage holds the last stage's input Y_s)
        if save:
            for i in range(n):
                yold[i] = y[i]
        for i in range(n):
            y[i] = ystage[i] + u[s - 1, i]
        if replay == 0:
            if nst < cap:
                steps[nst] = h
            else:
                nsteps_io[0] = -1
        nst += 1
        if tail_idx.shape[0] > 0:
            sq = 0.0
            for i in tail_idx:
                sq += y[i] * y[i]
            sq = np.sqrt(sq)
            if sq > tail_max[0]:
                tail_max[0] = sq
        t_new = t + h
        field_at(coef, dt, period, t0, t_new, bfield, dfield)
        for a in range(3):
            m1[a] = mom_scale[a] * y[mom_idx[a]]
        cnt, krec = record_step_end(out, krec, t_rec0, dt, tb, mb, cnt, t_new, m1)
        if save:
            ksave = dense_states(ysave, ksave, t_rec0, dt, t, h, yold, y, u, kvec, s)
        t = t_new
        if replay == 0:
            h = min(h * fac, h_max)
    krec = fill_records(out, krec, t_rec0, dt, tb, mb, min(cnt, INTERP_POINTS), t)
    if replay == 0 and nsteps_io[0] != -1:
        nsteps_io[0] = nst
    return 0, nlu


@njit(cache=True, parallel=True)
def run_batch_adaptive(
    y,
    t_start,
    t_end,
    coef,
    dt,
    period,
    t0,
    t_rec0,
    out,
    tol,
    h_init,
    h_max,
    replay,
    steps,
    nsteps,
    indptr,
    indices,
    vals,
    kl,
    ku,
    mom_idx,
    mom_scale,
    ysave,
    tail_idx,
    tail_max,
):
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
        work = np.empty((RODAS_STAGES + 7, n))
        i1, i2 = run_member_adaptive(
            y[b],
            t_start,
            t_end,
            coef[b],
            dt,
            period,
            t0,
            t_rec0,
            out[b],
            tol,
            h_init,
            h_max,
            replay,
            steps[b],
            nsteps[b : b + 1],
            indptr,
            indices,
            vals,
            kl,
            ku,
            mom_idx,
            mom_scale,
            ab,
            ipiv,
            work,
            ysave[b],
            tail_idx,
            tail_max[b : b + 1],
        )
        info[b] = i1
        nlu[b] = i2
    return info, nlu
