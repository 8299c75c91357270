"""numba kernels of the slow-mode model (:mod:`.slow_mode`): for one
static field B in the easy-axis frame, the discrete stationary state, the slowest
relaxation mode of the Fokker–Planck operator A(B) (right and left eigenvectors) and the
couplings of the slow-mode equation.

Same operator storage as :mod:`.band` (CSR pattern, ``vals`` (4, nnz),
band order). The l = 0 row of A(B) is zero (probability is conserved), so A has the
eigenvalue 0 with the stationary state as eigenvector, and every other right eigenvector
has a zero l = 0 coefficient. The kernels work with ``Ã = A + s e₀e₀ᵀ`` (s far below the
spectrum): its eigenvalues are s and the non-zero eigenvalues of A, with the same right
eigenvectors; it is regular, so one LU gives the stationary state, its field derivatives
and the inverse iteration.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .band import band_assemble, band_lu, band_solve, op_matvec
from .lapack import LAPACK_INT

#: The slow-mode quantities in column order, one entry per quantity: (name, sign of each
#: component under R, under S, whether it exists only where there is a slow mode).
#: R = rotation by π about the easy axis, (B_x, B_z) → (−B_x, B_z); S = mirror through the
#: field plane acting on axial vectors, (B_x, B_z) → (−B_x, −B_z); a derivative along B_k
#: has the sign of its quantity times that of B_k. The first entries are shared by
#: :func:`slow_mode_point`'s output and the tables (which refer them to f_ref = f_eq + a φ1,
#: :func:`mdf_neel.physics.neel.slow_mode.table_values`); each layout then adds its own.
SHARED_COLUMNS = (
    ("rate", (+1,), (+1,), False),  # λ1 [1/s] (point), log λ1 (tables)
    ("m", (-1, -1, +1), (-1, +1, -1), False),  # m_eq (point), m_ref (tables)
    ("mu", (-1, -1, +1), (+1, -1, +1), True),  # μ1 = m̄ of φ1 (gauge μ1_z = 1)
    ("g", (-1, +1), (+1, +1), True),  # g_eq (g_ref) along B_x, B_z [1/T]
    ("g_phi", (-1, +1), (-1, -1), True),  # g_φ along B_x, B_z [1/T]
    ("h_x", (+1, +1, -1), (+1, -1, +1), False),  # lag of f_eq (f_ref) along B_x [s/T]
    ("h_z", (-1, -1, +1), (+1, -1, +1), False),  # … along B_z
    ("j_x", (+1, +1, -1), (-1, +1, -1), True),  # lag of φ1 along B_x [s/T]
    ("j_z", (-1, -1, +1), (-1, +1, -1), True),  # … along B_z
)
#: :func:`slow_mode_point`'s output: the shared columns, ∂m_eq,z/∂B_x and ∂m_eq,z/∂B_z
#: [1/T], and a flag (1: converged real slow mode)
POINT_COLUMNS = SHARED_COLUMNS + (("dmeq_z", (-1, +1), (+1, +1), False), ("flag", (+1,), (+1,), False))
#: the tables' values (:class:`mdf_neel.physics.neel.slow_mode.SlowModeTables`): the shared
#: columns and the shift a of the reference state
TABLE_COLUMNS = SHARED_COLUMNS + (("a", (+1,), (-1,), False),)


def _column_starts(columns):
    starts, k = {}, 0
    for name, signs_r, _, _ in columns:
        starts[name] = k
        k += len(signs_r)
    return starts, k


_POINT, N_OUT = _column_starts(POINT_COLUMNS)
_TABLE, N_VALUES = _column_starts(TABLE_COLUMNS)
N_SHARED = _column_starts(SHARED_COLUMNS)[1]
RATE, M, MU, G, G_PHI = (_TABLE[k] for k in ("rate", "m", "mu", "g", "g_phi"))
H_X, H_Z, J_X, J_Z = (_TABLE[k] for k in ("h_x", "h_z", "j_x", "j_z"))
DMEQ_Z, FLAG = _POINT["dmeq_z"], _POINT["flag"]
A_COL = _TABLE["a"]
assert H_Z == H_X + 3 and J_Z == J_X + 3  # the kernels index h_k, j_k as H_X + 3 k


def table_signs(symmetry):
    """Sign (N_VALUES,) of every table column under ``"R"`` or ``"S"``."""
    k = 1 if symmetry == "R" else 2
    return np.array([s for entry in TABLE_COLUMNS for s in entry[k]], dtype=float)


def slow_only_columns():
    """Table columns that exist only where there is a slow mode (int array)."""
    return np.array(
        [_TABLE[name] + c for name, signs_r, _, slow in TABLE_COLUMNS if slow for c in range(len(signs_r))],
        dtype=np.int64,
    )


#: largest |μ1⊥| (moment of φ1 across the easy axis, gauge μ1_z = 1) of an inter-well mode:
#: beyond the switching field the slowest mode is intra-well and μ1_z → 0 in this gauge
MU_PERP_MAX = 3.0
#: resolution of a slow rate per largest |diag A|: below it λ1 is rounding noise and is
#: reported as this floor (≲ 1 1/s, negligible over a period)
RATE_FLOOR = 1e-13


@njit(cache=True)
def op_matvec_transposed(out, indptr, indices, vals, c0, c1, c2, c3, x):
    """out = (c0 V0 + c1 V1 + c2 V2 + c3 V3)ᵀ x."""
    n = out.shape[0]
    out[:] = 0.0
    for i in range(n):
        xi = x[i]
        for p in range(indptr[i], indptr[i + 1]):
            v = c0 * vals[0, p] + c1 * vals[1, p] + c2 * vals[2, p] + c3 * vals[3, p]
            out[indices[p]] += v * xi


#: shift-and-invert at the smallest Ritz value once it is real and changes by less than
#: this fraction, from iteration SHIFT_AFTER on: plain iteration is slow without a gap
SHIFT_RTOL = 1e-3
SHIFT_AFTER = 3
#: no isolated real slow mode when the smallest Ritz value is still complex after this
#: many plain iterations (fewer loses real slow modes; docs/neel-numerics.md)
COMPLEX_GIVE_UP = 30


@njit(cache=True)
def _factor_shifted(ab_s, ipiv_s, indptr, indices, vals, bx, bz, kl, ku, i0, s, shift):
    """LU of Ã − shift·I (band storage, same deflation s at the l = 0 entry as Ã)."""
    band_assemble(ab_s, indptr, indices, vals, bx, 0.0, bz, 1.0, -shift, kl, ku)
    ab_s[i0, kl + ku] += s
    band_lu(ab_s, ipiv_s, kl, ku)


@njit(cache=True)
def _slowest_mode(
    ab, ipiv, ab_s, ipiv_s, kl, ku, indptr, indices, vals, bx, bz, i0, s, X, transposed, shifted, tol, atol, maxit
):
    """Subspace inverse iteration with Rayleigh–Ritz on Ã (or Ãᵀ): the Ritz pair of the
    smallest |λ|. X (n, p) is the start block (overwritten). Converged when the Ritz
    value changes by <= tol·|λ| + atol and the unit Ritz vector by <= tol from one
    iteration to the next. Returns (λ, unit vector, converged); converged is False for a
    complex λ or no convergence within maxit.

    The solves use the LU of Ã (``ab``) and, with ``shifted`` or once the smallest Ritz
    value θ is real and stable (:data:`SHIFT_RTOL`, :data:`SHIFT_AFTER`), the LU of
    Ã − θ (``ab_s``, factorised here, or given factorised with ``shifted``):
    shift-and-invert, converging at the rate |λ1 − θ|/|λ2 − θ|. The Rayleigh–Ritz step
    always uses Ã, so the pair returned is that of the smallest |λ|. Gives up
    (not converged) when that value is still complex after :data:`COMPLEX_GIVE_UP`
    plain iterations."""
    n, p = X.shape
    Y = np.empty((n, p))
    AQ = np.empty((n, p))
    col = np.empty(n)
    tmp = np.empty(n)
    lam = 0.0
    vec = np.zeros(n)
    use_shift = shifted
    lu, piv = (ab_s, ipiv_s) if shifted else (ab, ipiv)  # the LU the solves use
    for it in range(maxit):
        for j in range(p):
            col[:] = X[:, j]
            band_solve(lu, piv, kl, ku, col, transposed)
            Y[:, j] = col
        Q, _ = np.linalg.qr(Y)
        for j in range(p):
            col[:] = Q[:, j]
            if transposed:
                op_matvec_transposed(tmp, indptr, indices, vals, 1.0, bx, 0.0, bz, col)
            else:
                op_matvec(tmp, indptr, indices, vals, 1.0, bx, 0.0, bz, col, False)
            tmp[i0] += s * col[i0]
            AQ[:, j] = tmp
        H = np.ascontiguousarray(Q.T) @ AQ
        theta, V = np.linalg.eig(H.astype(np.complex128))
        jmin = 0
        for j in range(1, p):
            if abs(theta[j]) < abs(theta[jmin]):
                jmin = j
        th = theta[jmin]
        if abs(th.imag) > 1e-7 * abs(th.real):
            if not use_shift and it + 1 >= COMPLEX_GIVE_UP:
                return th.real, vec, False
            X[:, :] = Q
            lam = th.real
            continue
        v = (Q.astype(np.complex128) @ V[:, jmin]).real
        v /= np.sqrt(np.sum(v * v))
        # converged: the Ritz value and (sign-aligned) vector no longer change
        if np.sum(v * vec) < 0.0:
            v = -v
        dv = np.sqrt(np.sum((v - vec) ** 2))
        dlam = abs(th.real - lam)
        lam = th.real
        vec = v
        if dv <= tol and dlam <= tol * abs(lam) + atol:
            return lam, vec, True
        if not use_shift and it + 1 >= SHIFT_AFTER and dlam <= SHIFT_RTOL * abs(lam):
            _factor_shifted(ab_s, ipiv_s, indptr, indices, vals, bx, bz, kl, ku, i0, s, lam)
            use_shift = True
            lu, piv = ab_s, ipiv_s
        X[:, :] = Q
    return lam, vec, False


@njit(cache=True)
def slow_mode_point(out, bx, bz, indptr, indices, vals, kl, ku, i0, c00, mom_idx, mom_scale, tol, maxit):
    """Slow-mode quantities at the field (bx, 0, bz) [T] (easy-axis frame) into out (N_OUT,),
    columns as in :data:`POINT_COLUMNS`: λ1 (rate of the slowest mode, > 0), m_eq, μ1 = m̄
    of φ1, g_eq, g_φ, h_x, h_z, j_x, j_z, ∂m_eq,z/∂B, and the flag: 1 for a converged real
    slow mode; 0 for none, and then only m_eq, h and ∂m_eq,z/∂B are set (h with Q = 1:
    every mode is fast), the rest is NaN.

    Gauge: φ1 has m_z = 1 (easy-axis moment), ψ1·φ1 = 1. g_eq[k] = ψ1·∂f_eq/∂B_k and
    g_φ[k] = ψ1·∂φ1/∂B_k for k = x, z (per tesla). With Q = 1 − φ1ψ1ᵀ (the fast
    modes), h_k and j_k are the moments of A⁻¹Q ∂f_eq/∂B_k and A⁻¹Q ∂φ1/∂B_k [1/(T/s)]:
    the quasi-static lag of the fast modes is Σ_k Ḃ_k (h_k + c j_k)."""
    n = indptr.shape[0] - 1
    ldab = 2 * kl + ku + 1
    kv = kl + ku
    ab = np.empty((n, ldab))
    ipiv = np.empty(n, dtype=LAPACK_INT)
    band_assemble(ab, indptr, indices, vals, bx, 0.0, bz, 1.0, 0.0, kl, ku)
    dmax = 0.0
    for i in range(n):
        dmax = max(dmax, abs(ab[i, kv]))
    s = -1e3 * dmax
    atol = RATE_FLOOR * dmax
    ab[i0, kv] += s
    band_lu(ab, ipiv, kl, ku)
    feq = np.zeros(n)
    feq[i0] = s * c00
    band_solve(ab, ipiv, kl, ku, feq)
    # field derivatives of the stationary state: Ã ∂f = −A_k f_eq, k = x (q = 0), z (q = 1)
    dfeq = np.empty((2, n))
    tmp = np.empty(n)
    for q in range(2):
        op_matvec(tmp, indptr, indices, vals, 0.0, 1.0 - q, 0.0, float(q), feq, False)
        dfeq[q] = -tmp
        band_solve(ab, ipiv, kl, ku, dfeq[q])
    out[:] = np.nan
    out[FLAG] = 0.0
    for a in range(3):  # the stationary state exists at every field, slow mode or not
        out[M + a] = feq[mom_idx[a]] * mom_scale[a]
    for q in range(2):
        out[DMEQ_Z + q] = dfeq[q, mom_idx[2]] * mom_scale[2]
    # lag moments with every mode fast (replaced below where a slow mode exists); Ã⁻¹ acts
    # as A⁻¹ on vectors with a zero l = 0 coefficient
    for q in range(2):
        tmp[:] = dfeq[q]
        band_solve(ab, ipiv, kl, ku, tmp)
        for a in range(3):
            out[H_X + 3 * q + a] = tmp[mom_idx[a]] * mom_scale[a]
    # start blocks: the field derivatives of f_eq carry the inter-well transfer
    p = 3
    X = np.empty((n, p))
    X[:, 0] = dfeq[1]
    X[:, 1] = dfeq[0]
    for i in range(n):
        X[i, 2] = np.sin(1.0 + 0.37 * i)
    ab2 = np.empty((n, ldab))
    ipiv2 = np.empty(n, dtype=LAPACK_INT)
    lam, phi, ok_r = _slowest_mode(
        ab, ipiv, ab2, ipiv2, kl, ku, indptr, indices, vals, bx, bz, i0, s, X, False, False, tol, atol, maxit
    )
    zi = mom_idx[2]
    if not ok_r or lam > atol or phi[zi] == 0.0:
        return
    # Ã − λ1: shift-and-invert for the left eigenvector, and the eigenvector derivative
    _factor_shifted(ab2, ipiv2, indptr, indices, vals, bx, bz, kl, ku, i0, s, lam)
    for i in range(n):
        X[i, 0] = 0.0
        X[i, 2] = np.cos(0.5 + 0.29 * i)
    for a in range(3):
        X[mom_idx[a], 0] = 1.0
    X[:, 1] = phi
    lam_l, psi, ok_l = _slowest_mode(
        ab, ipiv, ab2, ipiv2, kl, ku, indptr, indices, vals, bx, bz, i0, s, X, True, True, tol, atol, maxit
    )
    if not ok_l or abs(lam_l - lam) > 1e-6 * abs(lam) + atol:
        return
    # the l = 0 coefficient of ψ is never needed: every vector it meets (φ1, ∂f_eq, ∂φ1,
    # A_k φ1) has a zero l = 0 coefficient
    psi[i0] = 0.0
    phi *= 1.0 / (phi[zi] * mom_scale[2])
    if np.hypot(phi[mom_idx[0]] * mom_scale[0], phi[mom_idx[1]] * mom_scale[1]) > MU_PERP_MAX:
        return
    psi *= 1.0 / np.sum(psi * phi)
    out[RATE] = max(-lam, atol)
    for a in range(3):
        out[MU + a] = phi[mom_idx[a]] * mom_scale[a]
    for q in range(2):
        out[G + q] = np.sum(psi * dfeq[q])
        # lag of f_eq: A⁻¹ Q ∂f_eq (Q commutes with A⁻¹)
        tmp[:] = dfeq[q] - out[G + q] * phi
        band_solve(ab, ipiv, kl, ku, tmp)
        tmp -= np.sum(psi * tmp) * phi
        for a in range(3):
            out[H_X + 3 * q + a] = tmp[mom_idx[a]] * mom_scale[a]
    # eigenvector derivative: (A − λ) w = −(A_k − ∂λ) φ, w ⟂ ψ; ψ·∂φ = −m_z(w) (gauge);
    # w = Q ∂φ1 (the LU of Ã − λ1 in ab2), its lag A⁻¹ w with the LU of Ã (kept in ab)
    for q in range(2):
        op_matvec(tmp, indptr, indices, vals, 0.0, 1.0 - q, 0.0, float(q), phi, False)
        dl = np.sum(psi * tmp)
        w = -(tmp - dl * phi)
        band_solve(ab2, ipiv2, kl, ku, w)
        w -= np.sum(psi * w) * phi
        out[G_PHI + q] = -w[zi] * mom_scale[2]
        band_solve(ab, ipiv, kl, ku, w)
        w -= np.sum(psi * w) * phi
        for a in range(3):
            out[J_X + 3 * q + a] = w[mom_idx[a]] * mom_scale[a]
    out[FLAG] = 1.0


@njit(cache=True, parallel=True)
def slow_mode_table(bx, bz, indptr, indices, vals, kl, ku, i0, c00, mom_idx, mom_scale, tol, maxit):
    """:func:`slow_mode_point` on the grid bx (nx,) × bz (nz,): (nx, nz, N_OUT)."""
    nx = bx.shape[0]
    nz = bz.shape[0]
    out = np.empty((nx, nz, N_OUT))
    for k in prange(nx * nz):
        a = k // nz
        b = k - a * nz
        slow_mode_point(out[a, b], bx[a], bz[b], indptr, indices, vals, kl, ku, i0, c00, mom_idx, mom_scale, tol, maxit)
    return out


@njit(cache=True)
def _cubic_basis(t, x, nc):
    """Span l (3 <= l < nc) with t[l] <= x < t[l+1] (x clamped to [t[3], t[nc]]) and the
    four non-zero cubic B-splines there (functions l−3 … l), de Boor–Cox recursion."""
    x = min(max(x, t[3]), t[nc])
    lo, hi = 3, nc
    while hi - lo > 1:  # bisection: t[lo] <= x < t[hi]
        mid = (lo + hi) // 2
        if x >= t[mid]:
            lo = mid
        else:
            hi = mid
    l = lo
    N = np.zeros(4)
    left = np.zeros(4)
    right = np.zeros(4)
    N[0] = 1.0
    for j in range(1, 4):
        left[j] = x - t[l + 1 - j]
        right[j] = t[l + j] - x
        saved = 0.0
        for r in range(j):
            temp = N[r] / (right[r + 1] + left[j - r])
            N[r] = saved + right[r + 1] * temp
            saved = left[j - r] * temp
        N[j] = saved
    return l, N


@njit(cache=True, parallel=True)
def bicubic_spline_values(tx, tz, coef, x, z):
    """Values of several bicubic tensor-product splines sharing the knots tx, tz at the
    points (x, z) (both (npts,)): coef (nx_c, nz_c, nv) -> (npts, nv). The same spline as
    scipy's RectBivariateSpline (knots and coefficients from its ``tck``), with the
    basis computed once for all nv values."""
    npts = x.shape[0]
    ncx, ncz, nv = coef.shape
    out = np.zeros((npts, nv))
    for p in prange(npts):
        lx, Nx = _cubic_basis(tx, x[p], ncx)
        lz, Nz = _cubic_basis(tz, z[p], ncz)
        for a in range(4):
            for b in range(4):
                w = Nx[a] * Nz[b]
                ia = lx - 3 + a
                ib = lz - 3 + b
                for v in range(nv):
                    out[p, v] += w * coef[ia, ib, v]
    return out


@njit(cache=True, parallel=True)
def periodic_slow_mode(values, fields_dot, dt, blocked_gap, min_decay):
    """Periodic solution of the slow-mode equation per member, dc/dt = −(λ1 + g_φ·Ḃ) c −
    λ1 a − g·Ḃ with c relative to the tables' reference state (see
    :func:`mdf_neel.physics.neel.slow_mode.integrate_periodic` and
    :func:`~mdf_neel.physics.neel.slow_mode.table_values`): values (nb, S, N_VALUES),
    fields_dot (nb, S, 3) -> m (nb, S, 3), gap (nb,), and per member the number of
    points where the decay rate λ1 + g_φ·Ḃ of c was raised to min_decay·λ1 (only where
    λ1·dt > 1: c relaxes within the step and is quasi-static there)."""
    nb, S, _ = values.shape
    m = np.empty((nb, S, 3))
    gap = np.empty(nb)
    clamped = np.zeros(nb, dtype=np.int64)
    for b in prange(nb):
        a = np.empty(S)
        src = np.empty(S)
        for i in range(S):
            v = values[b, i]
            lam = np.exp(v[RATE])
            a[i] = lam + v[G_PHI] * fields_dot[b, i, 0] + v[G_PHI + 1] * fields_dot[b, i, 2]
            if a[i] < min_decay * lam and lam * dt > 1.0:
                a[i] = min_decay * lam
                clamped[b] += 1
            src[i] = -(v[G] * fields_dot[b, i, 0] + v[G + 1] * fields_dot[b, i, 2]) - lam * v[A_COL]
        # exponential integrator: over each step the decay rate is its mean (trapezoid
        # exponent) and the source is linear between its end values (first-order hold:
        # where c is quasi-static, c ≈ source/rate at the step's end, not half a step
        # behind); the step from the last point wraps around to the first
        c = np.empty(S)
        free = np.empty(S)
        c[0] = 0.0
        free[0] = 1.0
        logphi = 0.0
        c_end = 0.0
        for i in range(S):
            j = i + 1 if i + 1 < S else 0
            x = 0.5 * (a[i] + a[j]) * dt
            E = np.exp(-x)
            # φ1 = (1 − e^−x)/x, φ2 = (x − 1 + e^−x)/x² (series where they cancel)
            if abs(x) < 1e-3:
                phi1 = 1.0 - x / 2.0 + x * x / 6.0 - x * x * x / 24.0
                phi2 = 0.5 - x / 6.0 + x * x / 24.0 - x * x * x / 120.0
            else:
                phi1 = -np.expm1(-x) / x
                phi2 = (1.0 - phi1) / x
            inc = dt * (src[i] * (phi1 - phi2) + src[j] * phi2)
            logphi -= x
            if i + 1 < S:
                c[i + 1] = E * c[i] + inc
                free[i + 1] = np.exp(logphi)
            else:
                c_end = E * c[i] + inc
        g = -np.expm1(logphi)
        gap[b] = g
        # c(t) = c_part(t) + c0 Π_{j<i} E_j with c0 = c_end/(1 − Φ); members that do not
        # leave their well within a period (1 − Φ tiny) start from the
        # reference state (Boltzmann population) instead
        c0 = c_end / g if g > blocked_gap else 0.0
        for i in range(S):
            ci = c[i] + c0 * free[i]
            v = values[b, i]
            fx = fields_dot[b, i, 0]
            fz = fields_dot[b, i, 2]
            for k in range(3):
                m[b, i, k] = (
                    v[M + k]
                    + ci * v[MU + k]
                    + fx * (v[H_X + k] + ci * v[J_X + k])
                    + fz * (v[H_Z + k] + ci * v[J_Z + k])
                )
    return m, gap, clamped
