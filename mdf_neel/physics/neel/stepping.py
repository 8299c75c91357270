"""numba kernels shared by every time-stepping method: the Rodas5P tableau, the
piecewise-cubic field and its derivative, step-size control, and the read-out of m̄ at
the samples from free steps (Lagrange interpolation through the step ends) and of the
whole state (the method's dense output).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Rodas5P (G. Steinebach, "Construction of Rosenbrock–Wanner method Rodas5P and numerical
# benchmarks within the Julia Differential Equations package", BIT Numer. Math. 63 (2023) 27;
# coefficients as in OrdinaryDiffEq.jl): 8 stages, order 5 with an embedded order-4
# solution, L-stable and stiffly accurate, with an order-4 dense output. Written in the
# implementation form of Hairer & Wanner (Solving ODEs II, IV.7): with W = I/(h γ) − A(B(t)),
#     W u_i = A(B(t + α_i h)) (y + Σ_j a_ij u_j) + Σ_j (C_ij / h) u_j + d_i h A'(t) y,
# the last stage input Y_s = y + Σ_j a_sj u_j is the embedded solution, y_new = Y_s + u_s,
# and u_s is the error estimate. Dense output (θ in [0, 1]):
#     y(t + θh) = (1 − θ) y + θ (y_new + (1 − θ)(K_0 + θ (K_1 + θ K_2))), K_q = Σ_j H_qj u_j.
RODAS_GAMMA = 0.21193756319429014
RODAS_A = np.zeros((8, 8))
RODAS_A[1, 0] = 3.0
RODAS_A[2, :2] = [2.849394379747939, 0.45842242204463923]
RODAS_A[3, :3] = [-6.954028509809101, 2.489845061869568, -10.358996098473584]
RODAS_A[4, :4] = [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641]
RODAS_A[5, :5] = [
    -7.502846399306121,
    2.561846144803919,
    -11.627539656261098,
    -0.18268767659942256,
    0.030198172008377946,
]
RODAS_A[6, :5] = RODAS_A[5, :5]
RODAS_A[6, 5] = 1.0
RODAS_A[7, :6] = RODAS_A[6, :6]
RODAS_A[7, 6] = 1.0
RODAS_C = np.zeros((8, 8))
RODAS_C[1, 0] = -14.155112264123755
RODAS_C[2, :2] = [-17.97296035885952, -2.859693295451294]
RODAS_C[3, :3] = [147.12150275711716, -1.41221402718213, 71.68940251302358]
RODAS_C[4, :4] = [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306]
RODAS_C[5, :5] = [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471]
RODAS_C[6, :6] = [
    30.91273214028599,
    -3.1208243349937974,
    77.79954646070892,
    34.28646028294783,
    -19.097331116725623,
    -28.087943162872662,
]
RODAS_C[7, :7] = [
    37.80277123390563,
    -3.2571969029072276,
    112.26918849496327,
    66.9347231244047,
    -40.06618937091002,
    -54.66780262877968,
    -9.48861652309627,
]
RODAS_ALPHA = np.array(
    [0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1.0, 1.0, 1.0]
)
RODAS_D = np.array(
    [
        0.21193756319429014,
        -0.42387512638858027,
        -0.3384627126235924,
        1.8046452872882734,
        2.325825639765069,
        0.0,
        0.0,
        0.0,
    ]
)
RODAS_H = np.array(
    [
        [
            25.948786856663858,
            -2.5579724845846235,
            10.433815404888879,
            -2.3679251022685204,
            0.524948541321073,
            1.1241088310450404,
            0.4272876194431874,
            -0.17202221070155493,
        ],
        [
            -9.91568850695171,
            -0.9689944594115154,
            3.0438037242978453,
            -24.495224566215796,
            20.176138334709044,
            15.98066361424651,
            -6.789040303419874,
            -6.710236069923372,
        ],
        [
            11.419903575922262,
            2.8879645146136994,
            72.92137995996029,
            80.12511834622643,
            -52.072871366152654,
            -59.78993625266729,
            -0.15582684282751913,
            4.883087185713722,
        ],
    ]
)
#: order of the embedded solution (the error estimate is O(h^(q+1)))
RODAS_EMBEDDED_ORDER = 4
RODAS_STAGES = RODAS_ALPHA.shape[0]


# ---------------------------------------------------------------------------------------
# dense output and step control


#: m̄ at the samples: Lagrange interpolation through this many step ends, O(h^6), below the
#: step error (docs/neel-numerics.md, "Time stepping")
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
# the field between the samples


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
