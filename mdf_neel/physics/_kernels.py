"""numba kernels of the Fokker–Planck solver: banded LU, sparse affine operator, the
Rodas5P Rosenbrock step with its dense output, batched trajectories.

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

# Rodas5P (Steinebach 2023; coefficients as in OrdinaryDiffEq.jl): 8 stages, order 5 with
# an embedded order-4 solution, L-stable and stiffly accurate, with an order-4 dense
# output. Written in the implementation form of Hairer & Wanner (IV.7): with
# W = I/(h γ) − A(B(t)),
#     W u_i = A(B(t + α_i h)) (y + Σ_j a_ij u_j) + Σ_j (C_ij / h) u_j + d_i h A'(t) y,
# the last stage input Y_s = y + Σ_j a_sj u_j is the embedded solution, y_new = Y_s + u_s,
# and u_s is the error estimate. Dense output (θ in [0, 1]):
#     y(t + θh) = (1 − θ) y + θ (y_new + (1 − θ)(K_0 + θ (K_1 + θ K_2))), K_q = Σ_j H_qj u_j.
RODAS_GAMMA = 0.21193756319429014
RODAS_A = np.zeros((8, 8))
RODAS_A[1, 0] = 3.0
RODAS_A[2, :2] = [2.849394379747939, 0.45842242204463923]
RODAS_A[3, :3] = [-6.954028509809101, 2.489845061869568, -10.358996098473584]
RODAS_A[4, :4] = [2.8029986275628964, 0.5072464736228206, -0.3988312541770524,
                  -0.04721187230404641]
RODAS_A[5, :5] = [-7.502846399306121, 2.561846144803919, -11.627539656261098,
                  -0.18268767659942256, 0.030198172008377946]
RODAS_A[6, :5] = RODAS_A[5, :5]
RODAS_A[6, 5] = 1.0
RODAS_A[7, :6] = RODAS_A[6, :6]
RODAS_A[7, 6] = 1.0
RODAS_C = np.zeros((8, 8))
RODAS_C[1, 0] = -14.155112264123755
RODAS_C[2, :2] = [-17.97296035885952, -2.859693295451294]
RODAS_C[3, :3] = [147.12150275711716, -1.41221402718213, 71.68940251302358]
RODAS_C[4, :4] = [165.43517024871676, -0.4592823456491126, 42.90938336958603,
                  -5.961986721573306]
RODAS_C[5, :5] = [24.854864614690072, -3.0009227002832186, 47.4931110020768,
                  5.5814197821558125, -0.6610691825249471]
RODAS_C[6, :6] = [30.91273214028599, -3.1208243349937974, 77.79954646070892,
                  34.28646028294783, -19.097331116725623, -28.087943162872662]
RODAS_C[7, :7] = [37.80277123390563, -3.2571969029072276, 112.26918849496327,
                  66.9347231244047, -40.06618937091002, -54.66780262877968,
                  -9.48861652309627]
RODAS_ALPHA = np.array([0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716,
                        0.4288403609558664, 1.0, 1.0, 1.0])
RODAS_D = np.array([0.21193756319429014, -0.42387512638858027, -0.3384627126235924,
                    1.8046452872882734, 2.325825639765069, 0.0, 0.0, 0.0])
RODAS_H = np.array([
    [25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204,
     0.524948541321073, 1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
    [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796,
     20.176138334709044, 15.98066361424651, -6.789040303419874, -6.710236069923372],
    [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643,
     -52.072871366152654, -59.78993625266729, -0.15582684282751913, 4.883087185713722],
])
#: order of the embedded solution (the error estimate is O(h^(q+1)))
RODAS_EMBEDDED_ORDER = 4
RODAS_STAGES = RODAS_ALPHA.shape[0]


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
# dense output and step control


#: m̄ at the samples: Lagrange interpolation through this many consecutive step ends
#: (records in the centre interval). Its error is O(h^6), below the step error; the
#: method's own order-4 continuous extension put ~10x more error into the high harmonics
#: of m̄ (the system-matrix rows weight them by frequency; docs/physics.md).
INTERP_POINTS = 6


@njit(cache=True)
def push_endpoint(tb, mb, cnt, t, m):
    """Append the step end (t, m (3,)) to the history tb (L,), mb (L, 3) (oldest first,
    L = len(tb)); returns the number of points seen so far."""
    L = tb.shape[0]
    if cnt < L:
        j = cnt
    else:
        for q in range(L - 1):
            tb[q] = tb[q + 1]
            for a in range(3):
                mb[q, a] = mb[q + 1, a]
        j = L - 1
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
def record_step_end(out, krec, t_rec0, dt, tb, mb, cnt, t, m):
    """Push the accepted step end (t, m̄) and fill the records that are now interpolable
    (those up to the centre of the INTERP_POINTS-point history); returns (cnt, krec)."""
    L = tb.shape[0]
    cnt = push_endpoint(tb, mb, cnt, t, m)
    if cnt >= L:
        krec = fill_records(out, krec, t_rec0, dt, tb, mb, L, tb[L // 2])
    return cnt, krec


@njit(cache=True)
def dense_states(ysave, k_first, t_rec0, dt, t, h, yold, ynew, u, kvec, s):
    """ysave[k] <- the whole state at the record times in (t, t + h] (from k_first on)
    from the step's dense output (yold, ynew: the state at its start and end; u (s, n)
    the stages; kvec (3, n) scratch for K_q = Σ_j H_qj u_j); returns the next record."""
    n = ynew.shape[0]
    k_end = k_first
    while k_end < ysave.shape[0] and t_rec0 + k_end * dt <= t + h + 1e-9 * dt:
        k_end += 1
    if k_end == k_first:
        return k_end
    for q in range(3):
        for i in range(n):
            v = 0.0
            for j in range(s):
                v += RODAS_H[q, j] * u[j, i]
            kvec[q, i] = v
    for k in range(k_first, k_end):
        th = (t_rec0 + k * dt - t) / h
        if th < 0.0:
            th = 0.0
        if th > 1.0:
            th = 1.0
        for i in range(n):
            inner = kvec[0, i] + th * (kvec[1, i] + th * kvec[2, i])
            ysave[k, i] = (1.0 - th) * yold[i] + th * (ynew[i] + (1.0 - th) * inner)
    return k_end


@njit(cache=True)
def step_factor(en):
    """Step-size factor from the scaled error estimate en (accepted if en <= 1)."""
    return min(4.0, max(0.2, 0.85 * (en + 1e-12) ** (-1.0 / (RODAS_EMBEDDED_ORDER + 1))))


# ---------------------------------------------------------------------------------------
# adaptive stepping with an embedded error estimate


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
                        ysave, tail_idx, tail_max):
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
    kept; it ranks the members for :func:`mdf_neel.physics.fokker_planck._solve_truncated`);
    tail_max (1,) gets the largest such norm at the accepted step ends (running maximum).
    Returns (info, number of LU factorisations)."""
    n = y.shape[0]
    s = RODAS_STAGES
    u = work[0:s]
    ystage = work[s]
    rhs = work[s + 1]
    ft = work[s + 2]
    yold = work[s + 3]
    kvec = work[s + 4:s + 7]
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
        band_assemble(ab, indptr, indices, vals, bfield[0], bfield[1], bfield[2],
                      -hg, 1.0, kl, ku)
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
def run_batch_adaptive(y, t_start, t_end, coef, dt, period, t0, t_rec0, out, tol, h_init,
                       h_max, replay, steps, nsteps, indptr, indices, vals, kl, ku,
                       mom_idx, mom_scale, ysave, tail_idx, tail_max):
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
        i1, i2 = run_member_adaptive(y[b], t_start, t_end, coef[b], dt, period, t0, t_rec0,
                                     out[b], tol, h_init, h_max, replay, steps[b],
                                     nsteps[b:b + 1], indptr, indices, vals, kl, ku,
                                     mom_idx, mom_scale, ab, ipiv, work, ysave[b], tail_idx,
                                     tail_max[b:b + 1])
        info[b] = i1
        nlu[b] = i2
    return info, nlu
