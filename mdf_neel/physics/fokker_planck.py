"""Néel Fokker–Planck solver: orthonormal real spherical-harmonic Galerkin discretisation,
Rodas5P Rosenbrock time stepping (order 5, L-stable, one banded LU per step), batched
over field trajectories with numba ``prange``, periodic steady state by warm start plus
Newton–Krylov shooting (GMRES on the period map) for slowly relaxing particles.

See ``docs/physics.md`` for the equations, conventions and validation.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from scipy.interpolate import CubicSpline

from . import _kernels as K
from ._lapack import single_threaded_blas
from ._sh_operators import sh_operators
from ._symmetry import expand_members, symmetry_classes
from .particles import ParticleParameters

__all__ = ["choose_resolution", "solve_neel", "NeelDiscretisation",
           "rotation_to_z", "REDUCED_MIN_BATCH", "fields_in_axis_planes"]

logger = logging.getLogger("mdf_neel.physics")

#: largest degree the automatic rule will pick
MAX_AUTO_DEGREE = 80
#: smallest steady-state batch for which ``method="auto"`` uses the reduced basis or the
#: slow-mode model
REDUCED_MIN_BATCH = 48
#: smallest rtol for which ``method="auto"`` uses the slow-mode model: its own error on the
#: paper's (D, K) grid is up to 2.5e-4, 4.4e-4 on dictionary members (docs/physics.md,
#: tenth session)
SLOW_MODE_MIN_RTOL = 1e-3
#: relative (to max |B|) sample tolerance of a field symmetry between batch members
SYMMETRY_ATOL = 1e-10
#: ``info`` entries holding member indices (mapped from solved members to the batch)
MEMBER_INDEX_KEYS = ("rb_verification_members", "slow_mode_verification_members",
                     "slow_mode_full_members")
#: longest step in sample intervals (m̄ at the samples is interpolated through 6 step
#: ends, O(h^6); 2, 3 and 4 gave about the same errors on the paper's sequence)
H_MAX_SAMPLES = 4.0


#: resolution rule (:func:`choose_resolution`), fitted to the degree each of 10 (D, K)
#: points of the paper's grid needs for a spatial error of m̄ <= 0.1 rtol and of its
#: frequency-weighted form <= 0.5 rtol (docs/physics.md, "Resolution rule")
RESOLUTION_FACTOR = 0.9
SWITCHING_LINEAR = 5.5
SWITCHING_QUADRATIC = 0.14


def choose_resolution(xi_max: float, sigma: float, rtol: float = 1e-4) -> int:
    """Spherical-harmonic degree N for a target relative accuracy.

    ``N = ceil(1 + 0.9 sqrt(κ ln(10/rtol)))`` with the larger of two widths of the density,
    ``κ = max(ξ_max + 2σ, 5.5σ + 0.14σ²)`` (ξ_max = ξ at the largest |B|):

    * ξ + 2σ is the curvature of the energy at the bottom of a well (field and anisotropy
      aligned), so the density's peak has an angular width ~1/sqrt(κ) and its harmonic
      coefficients decay like exp(−l²/(2κ)): N ~ sqrt(2κ ln(1/ε)) for an error ε (the
      static equilibria follow this to within one degree from ε = 1e-4 to 1e-6);
    * 5.5σ + 0.14σ² covers the switching over the barrier in a field that is weak against
      the anisotropy field 2K/Ms: there the moving density needs more harmonics than
      either well (at D = 22 nm, K = 9000 J/m³ the static equilibria ask for N = 20, the
      dynamics for 25–27).

    The coefficients are fitted to the degrees that 10 points of the paper's (D, K) grid
    need on its sequence (3 x 3 offsets at 30 and 90 degrees) for a spatial error of
    m̄ <= 0.1 rtol and of the frequency-weighted error <= 0.5 rtol at rtol = 1e-3, with
    about one degree of margin (``docs/physics.md``, "Resolution rule"); the benchmark
    checks the result against degree N + 8.

    Parameters
    ----------
    xi_max : float
        Largest reduced field ξ = Ms Vc |B| / (kB T) on the trajectory.
    sigma : float
        Reduced barrier K Vc / (kB T).
    rtol : float
        Target relative accuracy of m̄.

    Returns
    -------
    int
        Degree N (>= 4, at most ``MAX_AUTO_DEGREE``).
    """
    xi = max(float(xi_max), 0.0)
    sig = max(float(sigma), 0.0)
    kappa = max(xi + 2.0 * sig, SWITCHING_LINEAR * sig + SWITCHING_QUADRATIC * sig * sig, 1.0)
    n = 1.0 + RESOLUTION_FACTOR * math.sqrt(kappa * math.log(10.0 / rtol))
    return int(min(MAX_AUTO_DEGREE, max(4, math.ceil(n))))


def azimuthal_check_fields(fields_frame, particle: ParticleParameters, count: int = 4):
    """Fields (k, 3) [T] (easy-axis frame) at which :func:`initial_azimuthal_order` screens
    the truncation: the ``count`` samples whose wells tilt most from the axis (largest
    |B⊥| / (B_K − |B∥|), B_K = 2K/Ms, then largest |B⊥|) and the largest |B|, each also
    with B∥ reversed — the metastable well at B has the shape of the stable well at
    (B⊥, −B∥) (180° rotation about x̂), so both wells are tested as the dominant one."""
    b = np.asarray(fields_frame, dtype=float).reshape(-1, 3)
    bperp = np.hypot(b[:, 0], b[:, 1])
    bpar = np.abs(b[:, 2])
    bk = 2.0 * particle.anisotropy_Jm3 / particle.saturation_magnetization_Am
    gap = bk - bpar
    q = np.where(gap > 0, bperp / np.where(gap > 0, gap, 1.0), np.inf)
    order = np.lexsort((-bperp, -q))  # q descending, then |B⊥| descending
    pick = list(order[:count]) + [int(np.argmax(np.linalg.norm(b, axis=1)))]
    pts = b[np.unique(pick)]
    flipped = pts * np.array([1.0, 1.0, -1.0])
    return np.concatenate([pts, flipped])


#: the truncation |m| <= M is verified after the solve: the members with the largest
#: azimuthal tail (2-norm of the |m| = M coefficients over the trajectory) and random
#: ones are solved again with AZIMUTHAL_VERIFY_STEP more orders; their relative L2
#: difference in m̄ must be <= AZIMUTHAL_ERROR_FRACTION · rtol, else M is raised for all.
#: (The tail ranks the members but does not bound the error by itself: the error was
#: ~0.25·tail² on the paper's drive and up to ~0.25·tail on another, docs/physics.md.)
AZIMUTHAL_ERROR_FRACTION = 0.2
AZIMUTHAL_VERIFY_STEP = 4
AZIMUTHAL_VERIFY_WORST = 2
AZIMUTHAL_VERIFY_RANDOM = 1
#: static screen: the truncated discrete equilibria at the check fields must agree with
#: the untruncated ones to this multiple of rtol in m̄ (a lower bound on M: the dynamic
#: density, which crosses the barrier, needs more)
AZIMUTHAL_STATIC_PER_RTOL = 0.1
#: truncation is used only when the estimated cost of one step is at most this fraction
#: of the untruncated one
AZIMUTHAL_MAX_COST = 0.5
#: once a batch has been solved truncated and failed its verification, the next order is
#: still tried while its step costs at most this fraction of the untruncated one (at
#: 28 nm / 9000 J/m³, N = 43: |m| <= 19 costs 0.56 of all orders; going straight to all
#: orders doubled the work when 15 missed its verification by 2.05e-4 against 2.0e-4)
AZIMUTHAL_ESCALATION_MAX_COST = 0.8


def _step_cost(N: int, M: int) -> float:
    """Relative cost of one banded step (LU ~ n·kl², solves ~ n·kl) with |m| <= M: the
    degree-major band is ~4M+2, the untruncated m-major one ~2N+1."""
    if M >= N:
        n, kl = (N + 1) ** 2, 2 * N + 1
    else:
        n, kl = (N + 1) * (2 * M + 1) - M * (M + 1), 4 * M + 2
    return n * kl * (kl + 8.0)


def truncation_pays(N: int, M: int) -> bool:
    """Whether |m| <= M is worth it at degree N (:data:`AZIMUTHAL_MAX_COST`)."""
    return M < N and _step_cost(N, M) <= AZIMUTHAL_MAX_COST * _step_cost(N, N)


def next_azimuthal_order(N: int, M: int) -> int:
    """The next order to use when the truncation at M fails its verification:
    M + AZIMUTHAL_VERIFY_STEP while that step costs at most
    :data:`AZIMUTHAL_ESCALATION_MAX_COST` of an untruncated one, else N (no truncation)."""
    M2 = M + AZIMUTHAL_VERIFY_STEP
    return M2 if (M2 < N and _step_cost(N, M2)
                  <= AZIMUTHAL_ESCALATION_MAX_COST * _step_cost(N, N)) else N


def initial_azimuthal_order(particle: ParticleParameters, N: int, fields_frame,
                            rtol: float = 1e-4) -> int:
    """First azimuthal order M (|m| <= M, easy-axis frame) to try at degree N.

    With a strong barrier the density is two sharp peaks near ±ẑ, tilted by the
    transverse field: its harmonics decay fast in |m| although N must be large. Keeping
    |m| <= M (degree-major order) shrinks the unknowns from (N+1)² to ~(N+1)(2M+1) and
    the band from ~2N to ~4M. The first guess is ``max(M_static, ceil(7 + 1.6 √σ))``
    (the orders needed at D = 22 and 28 nm, K = 9000 J/m³), where M_static is the
    smallest order whose truncated discrete equilibria at
    :func:`azimuthal_check_fields` agree with the untruncated ones to
    ``AZIMUTHAL_STATIC_PER_RTOL · rtol`` in m̄ — a lower bound: the solver then verifies
    the truncation on the worst-indicated members (:func:`_solve_truncated`) and raises M
    when needed. Returns N (no truncation) when no order that passes pays
    (:func:`truncation_pays`), e.g. for field-dominated, weakly anisotropic particles.

    Parameters
    ----------
    particle : ParticleParameters
    N : int
        Harmonic degree.
    fields_frame : numpy.ndarray, shape (..., 3)
        The fields of the run in the easy-axis frame [T].
    rtol : float
        Target relative accuracy of m̄.

    Returns
    -------
    int
        M in [1, N].
    """
    N = int(N)
    guess = int(math.ceil(7.0 + 1.6 * math.sqrt(max(particle.sigma, 0.0))))
    if not truncation_pays(N, max(1, guess)):
        return N
    pts = azimuthal_check_fields(fields_frame, particle)
    full = NeelDiscretisation.build(particle, N)
    ref = full.moments(full.equilibrium(pts))
    tol = AZIMUTHAL_STATIC_PER_RTOL * rtol
    M = 1
    while truncation_pays(N, M):
        disc = NeelDiscretisation.build(particle, N, M)
        if np.max(np.linalg.norm(disc.moments(disc.equilibrium(pts)) - ref, axis=1)) <= tol:
            M = max(M, guess)
            return M if truncation_pays(N, M) else N
        M += 1
    return N


def rotation_to_z(n) -> np.ndarray:
    """Proper rotation R with R n = ẑ (Rodrigues about n × ẑ)."""
    n = np.asarray(n, dtype=float)
    n = n / np.linalg.norm(n)
    z = np.array([0.0, 0.0, 1.0])
    v = np.cross(n, z)
    s = np.linalg.norm(v)
    c = float(n @ z)
    if s < 1e-15:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * ((1 - c) / s ** 2)


@contextmanager
def _threads(n_threads):
    if n_threads is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _m_major_order(N: int) -> np.ndarray:
    """Band-friendly order of the real SH basis (new index -> old index l²+l+m).

    |m| outer, l inner, the cos/sin pair (m, −m) adjacent: the anisotropy (same |m|) is
    then local and the field couples neighbouring |m| blocks, so the half-bandwidth is
    ~2N+3 independent of N's parity (reverse Cuthill–McKee gave up to 5N at N = 40)."""
    order = [l * l + l for l in range(N + 1)]
    for k in range(1, N + 1):
        for l in range(k, N + 1):
            order += [l * l + l + k, l * l + l - k]
    return np.array(order, dtype=np.int64)


def _l_major_order(N: int, M: int) -> np.ndarray:
    """Degree-major order of the harmonics with |m| <= M (new index -> old index): the
    anisotropy couples l to l±2 and the field l±1, so the half-bandwidth is ~4M+2 —
    smaller than the m-major ~2N+3 once M < N/2."""
    return np.array([l * l + l + m for l in range(N + 1)
                     for m in range(-min(l, M), min(l, M) + 1)], dtype=np.int64)


def _band_order(pattern, N: int, M: int):
    """(perm, kl, ku): the narrower-band of the m-major and l-major orders of the
    harmonics with |m| <= M (new index -> old index); untruncated (M = N) always the
    m-major one (band ~2N against ~4N)."""
    best = None
    orders = (_m_major_order(N),) if M >= N else (_m_major_order(N), _l_major_order(N, M))
    for order in orders:
        keep = np.abs(_azimuthal_orders(N)[order]) <= M
        perm = order[keep]
        P = pattern[perm][:, perm].tocoo()
        kl = int(np.max(P.row - P.col, initial=0))
        ku = int(np.max(P.col - P.row, initial=0))
        if best is None or kl + ku < best[1] + best[2]:
            best = (perm, kl, ku)
    return best


def _azimuthal_orders(N: int) -> np.ndarray:
    """Azimuthal order m of every basis index l²+l+m, shape ((N+1)²,)."""
    return np.concatenate([np.arange(-l, l + 1) for l in range(N + 1)])


@dataclass
class NeelDiscretisation:
    """The discrete operator A(B) = A0 + Σ B_k A_k (easy axis ẑ) in band-friendly order."""

    N: int
    M: int  # largest azimuthal order |m| kept (= N: untruncated)
    n: int
    indptr: np.ndarray
    indices: np.ndarray
    vals: np.ndarray  # (4, nnz)
    kl: int
    ku: int
    perm: np.ndarray  # new index -> old index
    mom_idx: np.ndarray
    mom_scale: np.ndarray
    i0: int
    c00: float
    tail_idx: np.ndarray  # coefficients of the highest kept order |m| = M (empty if M = N)

    @classmethod
    def build(cls, particle: ParticleParameters, N: int,
              M: int | None = None) -> "NeelDiscretisation":
        """Discretisation of degree N, azimuthal orders |m| <= M (default: all, M = N)."""
        N = int(N)
        M = N if M is None else max(1, min(int(M), N))
        ops = sh_operators(N)
        A0, Ak = ops.assemble(particle.tau_s, particle.p1, particle.p2, particle.p3, particle.p4)
        pattern = (abs(A0) + abs(Ak[0]) + abs(Ak[1]) + abs(Ak[2])).tocsr()
        pattern = pattern + pattern.T
        perm, kl, ku = _band_order(pattern, N, M)
        inv = np.full(pattern.shape[0], -1, dtype=np.int64)
        inv[perm] = np.arange(perm.size)
        mats = [A0] + list(Ak)
        union = pattern.tocsr()
        union.sort_indices()
        # values of every piece on the union pattern, rows/cols permuted
        Pu = union[perm][:, perm].tocsr()
        Pu.sort_indices()
        vals = np.zeros((4, Pu.nnz))
        rows = np.repeat(np.arange(Pu.shape[0]), np.diff(Pu.indptr))
        for k, mat in enumerate(mats):
            Mp = mat[perm][:, perm].tocsr()
            vals[k] = np.asarray(Mp[rows, Pu.indices]).ravel()
        n = perm.size
        mom_old = np.array([3, 1, 2])  # Y_{1,1}~x, Y_{1,-1}~y, Y_{1,0}~z
        return cls(N=N, M=M, n=n, indptr=Pu.indptr.astype(np.int64),
                   indices=Pu.indices.astype(np.int64), vals=np.ascontiguousarray(vals),
                   kl=kl, ku=ku, perm=perm, mom_idx=inv[mom_old].astype(np.int64),
                   mom_scale=np.full(3, math.sqrt(4.0 * math.pi / 3.0)),
                   i0=int(inv[0]), c00=float(ops.c00),
                   tail_idx=(np.nonzero(np.abs(_azimuthal_orders(N)[perm]) == M)[0]
                             if M < N else np.zeros(0, dtype=np.int64)))

    def operator(self, B) -> sp.csr_matrix:
        """A(B) as a scipy CSR matrix (permuted order), e.g. for a scipy baseline."""
        v = self.vals[0] + B[0] * self.vals[1] + B[1] * self.vals[2] + B[2] * self.vals[3]
        return sp.csr_matrix((v, self.indices, self.indptr), shape=(self.n, self.n))

    def equilibrium(self, fields) -> np.ndarray:
        """Discrete stationary coefficient vectors for fields (nb, 3) in the axis frame."""
        f = np.ascontiguousarray(np.asarray(fields, dtype=float).reshape(-1, 3))
        with single_threaded_blas():  # LAPACK inside numba threads: no BLAS threads
            return K.equilibrium_batch(f, self.indptr, self.indices, self.vals, self.kl,
                                       self.ku, self.i0, self.c00)

    def uniform(self, nb: int) -> np.ndarray:
        y = np.zeros((nb, self.n))
        y[:, self.i0] = self.c00
        return y

    def moments(self, y) -> np.ndarray:
        return y[..., self.mom_idx] * self.mom_scale


# ---------------------------------------------------------------------------------------
# batched GMRES for the shooting equations


def _batched_gmres(matvec, rhs, tol, maxiter):
    """Solve matvec(x) = rhs for a batch (nb, n) with unrestarted GMRES, each member to
    ``‖r‖ <= tol[b]``. matvec takes (k, n) and an index array of active members.

    Returns (x, iterations, coefficients): x[b] = Σ_j coefficients[b, j] v_j, where v_j is
    the vector the j-th matvec call received for member b (coefficients (nb, maxiter),
    zero beyond the member's last call)."""
    nb, n = rhs.shape
    beta = np.linalg.norm(rhs, axis=1)
    x = np.zeros_like(rhs)
    coefficients = np.zeros((nb, maxiter))
    active = np.nonzero(beta > tol)[0]
    if active.size == 0:
        return x, 0, coefficients
    m = maxiter
    V = np.zeros((nb, m + 1, n))
    H = np.zeros((nb, m + 1, m))
    V[:, 0] = rhs / np.where(beta > 0, beta, 1.0)[:, None]
    done = np.zeros(nb, dtype=bool)
    done[beta <= tol] = True
    kdone = np.zeros(nb, dtype=int)
    its = 0
    for j in range(m):
        act = np.nonzero(~done)[0]
        if act.size == 0:
            break
        its += 1
        w = matvec(V[act, j], act)
        for i in range(j + 1):  # modified Gram-Schmidt
            hij = np.einsum("bn,bn->b", w, V[act, i])
            H[act, i, j] = hij
            w -= hij[:, None] * V[act, i]
        hn = np.linalg.norm(w, axis=1)
        H[act, j + 1, j] = hn
        V[act, j + 1] = w / np.where(hn > 0, hn, 1.0)[:, None]
        for a in act:
            e1 = np.zeros(j + 2)
            e1[0] = beta[a]
            yv, *_ = np.linalg.lstsq(H[a, :j + 2, :j + 1], e1, rcond=None)
            res = np.linalg.norm(H[a, :j + 2, :j + 1] @ yv - e1)
            if res <= tol[a] or H[a, j + 1, j] == 0 or j == m - 1:
                x[a] = yv @ V[a, :j + 1]
                coefficients[a, :j + 1] = yv
                done[a] = True
                kdone[a] = j + 1
    return x, its, coefficients


def _linear_shooting(period_map, residual, tol, maxiter=40):
    """Newton–Krylov shooting for a linear period map Φ (a replayed step sequence).

    Solves (I − Φ) δ = residual (= y(T) − y(0)) by GMRES and returns δ with the period
    map's outputs for δ, combined from those of the GMRES vectors by linearity, so that
    the corrected period needs no further run: y(0) + δ ends at y(T) + Φδ, and every
    recorded quantity linear in the state (m̄ at the samples) is that of y(0) plus δ's.

    Parameters
    ----------
    period_map : callable
        ``period_map(v, idx) -> (phi_v, linear, bounds)``: v (k, n) the vectors for the
        members ``idx`` (positions in ``residual``); phi_v (k, n) = Φv; ``linear`` a
        tuple of arrays (k, ...) linear in v; ``bounds`` a tuple of non-negative arrays
        (k,) that are seminorms of the trajectory from v (a running maximum of a norm).
    residual : ndarray, shape (nb, n)
        At least one member above its ``tol`` (the callers shoot only such members), so
        that ``period_map`` is called and the output shapes are known.
    tol : ndarray, shape (nb,)
        GMRES tolerance on ‖(I − Φ) δ − residual‖ per member.

    Returns
    -------
    delta : ndarray, shape (nb, n)
    phi_delta : ndarray, shape (nb, n)
    linear : tuple
        Σ_j c_j linear_j, the outputs for δ, each of shape (nb, ...).
    bounds : tuple
        Σ_j |c_j| bounds_j, shape (nb,) each: bounds on δ's seminorms (triangle
        inequality), to add to those of y(0)'s trajectory.
    """
    calls = []

    def matvec(v, act):
        phi_v, linear, bounds = period_map(v, act)
        calls.append((act, phi_v, linear, bounds))
        return v - phi_v

    delta, _, coef = _batched_gmres(matvec, residual, tol=tol, maxiter=maxiter)
    phi_delta = np.zeros_like(residual)
    linear = bounds = ()
    for j, (act, phi_v, lin_j, bnd_j) in enumerate(calls):
        c = coef[act, j]
        if j == 0:
            nb = residual.shape[0]
            linear = tuple(np.zeros((nb,) + a.shape[1:]) for a in lin_j)
            bounds = tuple(np.zeros(nb) for _ in bnd_j)
        phi_delta[act] += c[:, None] * phi_v
        for acc, a in zip(linear, lin_j):
            acc[act] += c.reshape((-1,) + (1,) * (a.ndim - 1)) * a
        for acc, a in zip(bounds, bnd_j):
            acc[act] += np.abs(c) * a
    return delta, phi_delta, linear, bounds


# ---------------------------------------------------------------------------------------


def _spline_coefficients(times, fields, periodic):
    """Piecewise-cubic coefficients (nb, 4, nseg, 3) of the sampled fields (nb, T, 3)."""
    nb, T, _ = fields.shape
    dt = (times[-1] - times[0]) / (T - 1) if T > 1 else 1.0
    if periodic:
        x = times[0] + dt * np.arange(T + 1)
        yv = np.concatenate([fields, fields[:, :1]], axis=1)
        if T < 3:
            cs = CubicSpline(x, yv, axis=1)
        else:
            cs = CubicSpline(x, yv, axis=1, bc_type="periodic")
    else:
        x = times
        cs = CubicSpline(x, fields, axis=1)
    c = np.moveaxis(cs.c, 2, 0)  # (nb, 4, nseg, 3)
    return np.ascontiguousarray(c)


#: embedded-error tolerance per step (2-norm of the SH coefficients) as a multiple of the
#: target rtol of m̄; calibrated against converged references on the paper's sequence
#: (docs/physics.md): with Rodas5P, 0.25 keeps both the m̄ error and the frequency-weighted
#: error of m̄ (what a system-matrix row sees) at or below those of the earlier ROS34PW2
#: solver at every corner measured; 0.5 doubled the latter at D = 22 nm, K = 1100, and 2.0
#: gave m̄ errors up to 1.2 rtol at D = 22 nm, K = 9000, where the switching is sharp
STEP_TOL_PER_RTOL = 0.25


def _local_tolerance(rtol: float) -> float:
    """Embedded-error tolerance (2-norm of SH coefficients) for a target rtol of m̄."""
    return STEP_TOL_PER_RTOL * rtol


def step_store(nb, cap, steps, nsteps):
    """Step arrays handed to the kernels: a fresh store ``(nb, cap)`` with counts 0
    (adaptive run; ``cap`` steps per member), or copies of recorded ``steps``/``nsteps``
    to replay (``cap`` None)."""
    if cap is not None:
        return np.zeros((nb, cap)), np.zeros(nb, dtype=np.int64)
    return np.ascontiguousarray(steps), np.array(nsteps, dtype=np.int64, copy=True)


def _run(disc, y0, coef, t_start, t_end, dt, period, t0, nrec, tol, replay=False,
         steps=None, nsteps=None, save=False, tail=None):
    """Integrate a batch; returns (y_end, moments (nb, nrec, 3), steps, nsteps, nlu) and,
    with ``save=True``, the coefficient vectors at the record times (nb, nrec, n) last.
    ``tail`` (nb,), optional, receives each member's largest 2-norm of the highest kept
    azimuthal order over the accepted step ends (0 without truncation)."""
    y = np.array(y0, dtype=float, order="C", copy=True)
    nb = y.shape[0]
    if steps is None:
        cap = int(16 * max(1.0, (t_end - t_start) / dt)) + 16
    else:
        cap = None
    while True:
        out = np.zeros((nb, nrec, 3))
        ysave = np.zeros((nb, nrec if save else 0, y.shape[1]))
        st, ns = step_store(nb, cap, steps, nsteps)
        y = np.array(y0, dtype=float, order="C", copy=True)
        tail_max = np.zeros(nb)
        with single_threaded_blas():  # LAPACK inside numba threads: no BLAS threads
            info, nlu = K.run_batch_adaptive(
                y, float(t_start), float(t_end), coef, float(dt), float(period), float(t0),
                float(t0), out, float(tol), float(dt), float(H_MAX_SAMPLES * dt),
                1 if replay else 0, st, ns, disc.indptr, disc.indices, disc.vals, disc.kl,
                disc.ku, disc.mom_idx, disc.mom_scale, ysave, disc.tail_idx, tail_max)
        if np.any(info != 0):
            raise FloatingPointError("singular step matrix in the Fokker-Planck integrator")
        if replay or not np.any(ns < 0):
            break
        cap *= 8  # step store overflow (extremely small steps): rerun with more room
    if tail is not None:
        tail[:] = tail_max
    if save:
        return y, out, st, ns, nlu, ysave
    return y, out, st, ns, nlu


def canonical_rotation(n) -> np.ndarray:
    """Proper rotation R with R n = ẑ and the lab ẑ mapped into the axis-frame yz-plane
    (towards +ŷ; lab ẑ ∥ n: plain :func:`rotation_to_z`).

    The Néel operator is invariant under rotations about the easy axis, so any such R is
    exact. This one maps every field in the lab xy-plane with an easy axis in the
    xy-plane (all of the paper's angles) into the SAME axis-frame plane (B_y = 0): the
    steady states of all angles then form one two-parameter family, which is what makes
    a shared reduced basis small.
    """
    R = rotation_to_z(n)
    v = R @ np.array([0.0, 0.0, 1.0])
    rho = math.hypot(v[0], v[1])
    if rho < 1e-12:
        return R
    # rotate about z by psi so that (v_x, v_y) -> (0, rho)
    psi = math.atan2(v[0], v[1])
    c, s = math.cos(psi), math.sin(psi)
    Rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return Rz @ R


def _rotations(easy_axis, nb):
    """Per-member rotations (nb, 3, 3) with R n = ẑ (:func:`canonical_rotation`)."""
    n = np.asarray(easy_axis, dtype=float)
    if n.ndim == 1:
        return np.broadcast_to(canonical_rotation(n), (nb, 3, 3))
    return np.stack([canonical_rotation(v) for v in n])


def _planar(fields_frame, bmax) -> bool:
    """Whether every axis-frame field lies in the frame's x–z plane (the slow-mode model's
    precondition)."""
    return bool(np.max(np.abs(fields_frame[..., 1]), initial=0.0) <= SYMMETRY_ATOL * max(bmax, 1e-30))


def fields_in_axis_planes(fields, easy_axis) -> bool:
    """True when every member's field lies in one plane through its easy axis, as the
    paper's 2-D drive with in-plane offsets and axes (``method="slow-mode"`` needs it).

    Parameters
    ----------
    fields : numpy.ndarray, shape (B, T, 3)
        µ0·H [T].
    easy_axis : array_like, shape (3,) or (B, 3)
        Unit easy axes.
    """
    fb = np.asarray(fields, dtype=float)
    R = _rotations(np.asarray(easy_axis, dtype=float), fb.shape[0])
    fr = np.einsum("bij,btj->bti", R, fb)
    return _planar(fr, float(np.max(np.linalg.norm(fb, axis=-1), initial=0.0)))


def solve_neel(times, fields, particle: ParticleParameters, easy_axis, *, steady_state=True,
               initial="equilibrium", rtol=1e-4, resolution=None, tol=None,
               n_threads=None, max_newton=4, method="full", symmetry=True,
               azimuthal_resolution=None):
    """Solve the Néel Fokker–Planck equation for a batch of field trajectories.

    Inputs are assumed validated by :func:`mdf_neel.physics.mean_magnetization`.

    Parameters
    ----------
    times : numpy.ndarray, shape (T,)
        Uniform sample times [s].
    fields : numpy.ndarray, shape (T, 3) or (B, T, 3)
        µ0·H [T].
    particle : ParticleParameters
    easy_axis : array_like, shape (3,) or (B, 3)
        Unit easy axis, or one per batch member. The operator family is the same for
        every axis (easy-axis frame); only the rotated fields differ.
    steady_state, initial, rtol, resolution, n_threads, method, azimuthal_resolution
        As in :func:`mdf_neel.physics.mean_magnetization` (``azimuthal_resolution=None``:
        :func:`initial_azimuthal_order`, verified and raised by :func:`_solve_truncated`).
    tol : float, optional
        Local (per step) error tolerance on the SH coefficient vector (default from rtol).
    symmetry : bool
        Steady states only: solve one member per class of exactly symmetric fields
        (:mod:`mdf_neel.physics._symmetry`) and map the others.

    Returns
    -------
    m : numpy.ndarray, shape like ``fields``
        Mean moment normalised by m0.
    info : dict
        ``resolution`` (degree N), ``n_coefficients``, ``bandwidth`` (of the first
        order tried), ``azimuthal_resolution`` and ``azimuthal_tail`` (per member),
        ``azimuthal_verification_error``, ``method``,
        ``steps`` and ``lu_factorisations`` per member, ``periods`` (period
        integrations per member incl. warm-up and shooting), ``steady_state_residual``
        (per member), ``wall_s``, ``solved_members`` (members actually solved: the
        others are symmetric images, ``symmetry_source`` gives each member's solved
        member); for the reduced method also the ``rb_*`` entries of
        :func:`mdf_neel.physics._reduced.solve_reduced` (member indices into the batch);
        for the slow-mode method the ``slow_mode_*`` entries of
        :func:`mdf_neel.physics._slow_mode.solve_slow_mode_verified` (``steps``,
        ``periods`` and ``lu_factorisations`` are then non-zero only for the members
        solved in full).
    """
    t0 = time.perf_counter()
    single = fields.ndim == 2
    fb = fields[None] if single else fields
    nb, T, _ = fb.shape
    R = _rotations(easy_axis, nb)
    fr = np.ascontiguousarray(np.einsum("bij,btj->bti", R, fb))  # fields in the axis frame
    bmax = float(np.max(np.linalg.norm(fb, axis=-1), initial=0.0))
    xi_max = particle.xi_per_tesla * bmax
    N = int(resolution) if resolution is not None else choose_resolution(xi_max, particle.sigma, rtol)
    tol_c = float(tol) if tol is not None else _local_tolerance(rtol)
    dt = (times[-1] - times[0]) / (T - 1)
    auto = method == "auto"
    planar = _planar(fr, bmax)
    if auto:
        if steady_state and nb >= REDUCED_MIN_BATCH:
            method = "slow-mode" if (planar and rtol >= SLOW_MODE_MIN_RTOL) else "reduced"
        else:
            method = "full"
    if method in ("reduced", "slow-mode") and not steady_state:
        raise ValueError(f"method={method!r} needs steady_state=True")
    if method == "slow-mode" and not planar:
        raise ValueError("method='slow-mode' needs every member's field in one plane through "
                         "its easy axis (as the paper's 2-D drive and offsets with an easy "
                         "axis in the drive plane)")
    # one solve per class of exactly symmetric members, for every steady-state method
    if steady_state and symmetry and nb > 1:
        reps, source, sym, shift = symmetry_classes(fr, atol=SYMMETRY_ATOL * max(bmax, 1e-30))
    else:
        reps, source = np.arange(nb), np.arange(nb)
        sym, shift = np.zeros(nb, dtype=np.int64), np.zeros(nb, dtype=np.int64)
    full_batch = nb
    if reps.size < nb:
        logger.info("Néel FP: %d of %d members are symmetric images (solved %d)",
                    nb - reps.size, nb, reps.size)
        fr = np.ascontiguousarray(fr[reps])
        nb = reps.size
    slow_error = None
    if method == "slow-mode":
        mom, info = _solve_slow_mode(times, fr, particle, N, xi_max, dt, tol_c, rtol,
                                     max_newton, n_threads)
        if auto and not info["slow_mode_accepted"]:
            slow_error = info["slow_mode_verification_error"]
            method = "reduced"
            logger.warning("Néel FP: slow-mode model rejected; solving the batch with the "
                           "%s method", method)
    if method != "slow-mode":
        mom, info = _solve_galerkin(times, fr, particle, N, xi_max, dt, tol_c, rtol,
                                    max_newton, n_threads, method, steady_state, initial,
                                    azimuthal_resolution, cost_guard=auto)
        if slow_error is not None:  # auto tried the slow-mode model first
            info["slow_mode_verification_error"] = slow_error
            info["slow_mode_accepted"] = False
    info["solved_members"] = int(nb)
    info["symmetry_source"] = reps[source]
    if nb < full_batch:
        mom = expand_members(mom, source, sym, shift)
        for key, val in list(info.items()):
            if key in MEMBER_INDEX_KEYS:  # indices into the solved members: to the batch
                mapped = reps[np.asarray(val, dtype=np.int64)]
                info[key] = mapped.tolist() if isinstance(val, list) else mapped
            elif isinstance(val, np.ndarray) and val.ndim >= 1 and val.shape[0] == nb \
                    and key != "symmetry_source":
                info[key] = val[source]
    # back to the lab frame: lab = R^T v, i.e. v @ R for row vectors
    m = np.einsum("bti,bij->btj", mom, R)
    info["wall_s"] = time.perf_counter() - t0
    return (m[0] if single else m), info


def _solve_galerkin(times, fr, particle, N, xi_max, dt, tol_c, rtol, max_newton, n_threads,
                    method, steady_state, initial, azimuthal_resolution, cost_guard):
    """The batch (axis-frame fields ``fr`` (nb, P, 3)) with the spherical-harmonic model at
    degree N: ``method`` "full" (periodic steady states or, without ``steady_state``,
    initial-value runs from ``initial``) or "reduced"; the azimuthal order is
    ``azimuthal_resolution`` or chosen and verified (:func:`_solve_truncated`). Returns the
    axis-frame moments (nb, P, 3) and the info dict of :func:`solve_neel`."""
    nb, T, _ = fr.shape
    if method == "reduced" and nb < 2:
        method = "full"
    # LAPACK/BLAS called inside numba's threads (banded and dense LU, gemv): no BLAS threads
    with _threads(n_threads), single_threaded_blas():
        if azimuthal_resolution is not None:
            M, escalate = max(1, min(int(azimuthal_resolution), N)), False
        else:
            M, escalate = initial_azimuthal_order(particle, N, fr, rtol), True
        disc = NeelDiscretisation.build(particle, N, M)
        logger.info("Néel FP: D=%.3g m K=%.4g J/m3 sigma=%.3g xi_max=%.3g -> degree N=%d, "
                    "|m| <= %d (%d coefficients, band %d/%d), step tolerance %.2e, batch %d, "
                    "method %s", particle.diameter_m, particle.anisotropy_Jm3, particle.sigma,
                    xi_max, N, M, disc.n, disc.kl, disc.ku, tol_c, nb, method)
        info = {"resolution": N, "n_coefficients": disc.n, "step_tolerance": tol_c,
                "bandwidth": (disc.kl, disc.ku), "rtol": rtol, "xi_max": xi_max,
                "method": method}
        if method == "reduced":
            from ._reduced import solve_reduced

            def solve(d, idx, tail):
                m_, rinfo_ = solve_reduced(d, particle, times, fr[idx], dt, tol_c, rtol,
                                           max_newton, cost_guard=cost_guard)
                tails = rinfo_["rb_full_tails"]
                tail[:] = -1.0  # members without a full solve: not verifiable as such
                for k, v in tails.items():
                    tail[k] = v
                rinfo_["m"] = m_
                return rinfo_
        if steady_state:
            solve_full = _steady_state_solver(particle, times, fr, dt, tol_c, rtol, max_newton)
        else:
            coef = _spline_coefficients(times, fr, periodic=False)

            def solve_full(d, idx, tail):
                y0 = d.uniform(idx.size) if initial == "uniform" else d.equilibrium(fr[idx, 0, :])
                _, mom_, _, ns_, nlu_ = _run(d, y0, coef[idx], times[0], times[-1], dt, 0.0,
                                             times[0], T, tol_c, tail=tail)
                return {"m": mom_, "periods": np.full(idx.size, (T - 1) / T),
                        "steps": ns_, "lu_factorisations": nlu_}
        res = _solve_truncated(solve if method == "reduced" else solve_full,
                               lambda d, idx: solve_full(d, idx, np.zeros(idx.size)),
                               disc, particle, N, escalate, rtol, nb)
    mom = res.pop("m")
    info.update(res)
    return mom, info


def _steady_state_solver(particle, times, fr, dt, tol_c, rtol, max_newton):
    """``solve(disc, members, tail)``: full-model periodic steady states of the members
    (indices into fr, axis-frame fields (nb, P, 3)) as :func:`_solve_truncated` calls it."""
    def solve(d, idx, tail):
        mom_, res_, per_, ns_, nlu_ = _steady_state(d, particle, times, fr[idx], dt, tol_c,
                                                    rtol, max_newton, tail=tail)
        return {"m": mom_, "steady_state_residual": res_, "periods": per_, "steps": ns_,
                "lu_factorisations": nlu_}
    return solve


def _solve_slow_mode(times, fr, particle, N, xi_max, dt, tol_c, rtol, max_newton,
                     n_threads):
    """The batch with the slow-mode model (:mod:`mdf_neel.physics._slow_mode`) at degree N
    (all azimuthal orders), verified against full solves of a few members (the full
    method: azimuthal truncation, itself verified); returns the axis-frame moments
    (nb, P, 3) and an info dict like :func:`solve_neel`'s."""
    from ._slow_mode import solve_slow_mode_verified

    nb = fr.shape[0]
    with _threads(n_threads), single_threaded_blas():
        disc = NeelDiscretisation.build(particle, N)
        logger.info("Néel FP: D=%.3g m K=%.4g J/m3 sigma=%.3g -> degree N=%d (%d coefficients),"
                    " batch %d, method slow-mode", particle.diameter_m, particle.anisotropy_Jm3,
                    particle.sigma, N, disc.n, nb)
        steady = _steady_state_solver(particle, times, fr, dt, tol_c, rtol, max_newton)

        def full_solve(idx):
            M = initial_azimuthal_order(particle, N, fr[idx], rtol)
            d = disc if M >= N else NeelDiscretisation.build(particle, N, M)

            def solve(d_, members, tail):
                return steady(d_, idx[members], tail)

            return _solve_truncated(solve, lambda d_, members: solve(d_, members,
                                                                     np.zeros(members.size)),
                                    d, particle, N, True, rtol, idx.size)

        mom, info = solve_slow_mode_verified(times, fr, disc, particle, full_solve, rtol)
    full = info.pop("full")
    pick = info["slow_mode_full_members"]
    for key in ("steady_state_residual", "periods", "steps", "lu_factorisations"):
        arr = np.zeros(nb, dtype=np.asarray(full[key]).dtype)
        arr[pick] = full[key]
        info[key] = arr
    info.update(method="slow-mode", resolution=N, n_coefficients=disc.n,
                bandwidth=(disc.kl, disc.ku), rtol=rtol, step_tolerance=tol_c,
                xi_max=xi_max,
                azimuthal_resolution=np.full(nb, N), azimuthal_tail=np.zeros(nb),
                azimuthal_verification_error=full["azimuthal_verification_error"])
    info["azimuthal_resolution"][pick] = full["azimuthal_resolution"]
    return mom, info


def _solve_truncated(solve, verify_solve, disc, particle, N, verify, rtol, nb, seed=0):
    """``solve(disc, members, tail)`` (a dict, "m" the moments (k, P, 3), other per-member
    arrays) for the whole batch at the azimuthal order ``disc.M``; with ``verify`` and
    M < N, the truncation is checked: the AZIMUTHAL_VERIFY_WORST members with the largest
    azimuthal tail and AZIMUTHAL_VERIFY_RANDOM random ones are solved in full with
    AZIMUTHAL_VERIFY_STEP more orders by ``verify_solve(disc, members)`` (the full model) and
    must agree to AZIMUTHAL_ERROR_FRACTION·rtol (relative L2 of m̄); otherwise the batch
    is solved again at :func:`next_azimuthal_order` and checked again. The verified
    members keep their (more accurate) verification solves. Only members with a full
    solve (tail >= 0) are verified: for the reduced method, its training and
    verification members. Adds ``azimuthal_resolution``, ``azimuthal_verification_error``
    and ``azimuthal_tail`` (per member) and ``n_coefficients``; work of rejected
    attempts is added to ``steps``, ``periods`` and ``lu_factorisations``."""
    rng = np.random.default_rng(seed)
    M = disc.M
    cost = {}
    all_members = np.arange(nb)
    while True:
        d = disc if disc.M == M else NeelDiscretisation.build(particle, N, M)
        tail = np.zeros(nb)
        out = solve(d, all_members, tail)
        for key in ("steps", "periods", "lu_factorisations"):
            if key in out:
                cost[key] = cost.get(key, 0) + out[key]
        out["n_coefficients"] = d.n
        out["azimuthal_resolution"] = np.full(nb, M)
        out["azimuthal_tail"] = tail
        out["azimuthal_verification_error"] = 0.0
        if not verify or M >= N:
            break
        cand = np.nonzero(tail >= 0.0)[0]
        worst = cand[np.argsort(-tail[cand], kind="stable")][:AZIMUTHAL_VERIFY_WORST]
        rest = np.setdiff1d(cand, worst)
        pick = np.concatenate([worst, rng.choice(rest, size=min(AZIMUTHAL_VERIFY_RANDOM,
                                                                 rest.size), replace=False)])
        pick = np.sort(pick.astype(np.int64))
        if pick.size == 0:  # no member with a full solve to verify on
            logger.warning("Néel FP: |m| <= %d not verified (no full solve)", M)
            break
        M_v = min(M + AZIMUTHAL_VERIFY_STEP, N)  # a reference: need not pay as an order
        d_v = NeelDiscretisation.build(particle, N, M_v)
        vs = verify_solve(d_v, pick)
        for key in ("steps", "periods", "lu_factorisations"):
            if key in vs and key in cost:
                cost[key][pick] += vs[key]
        ref = vs["m"]
        err = np.linalg.norm(out["m"][pick] - ref, axis=(1, 2)) / \
            np.maximum(np.linalg.norm(ref, axis=(1, 2)), 1e-300)
        out["azimuthal_verification_error"] = float(err.max(initial=0.0))
        if err.max(initial=0.0) <= AZIMUTHAL_ERROR_FRACTION * rtol:
            out["m"][pick] = ref
            logger.info("Néel FP: |m| <= %d verified against |m| <= %d on %d member(s): "
                        "max difference %.2e", M, M_v, pick.size, float(err.max(initial=0.0)))
            break
        logger.info("Néel FP: |m| <= %d differs from |m| <= %d by %.2e (> %.1e); solving the "
                    "batch again with %s", M, M_v, float(err.max()),
                    AZIMUTHAL_ERROR_FRACTION * rtol,
                    f"|m| <= {next_azimuthal_order(N, M)}"
                    if next_azimuthal_order(N, M) < N else "all orders")
        M = next_azimuthal_order(N, M)
    out.update(cost)
    return out


#: warm-up, as a fraction of the period, when the zero-field Néel time is too long for the
#: transient to decay within one period (:func:`warmup_samples`): long enough for the
#: intra-well (fast) modes of the equilibrium start to decay, while the inter-well
#: populations are left to the periodicity check and the shooting. The drive switches
#: most members within the recorded period, so these need no shooting either. Measured
#: against the one-period warm-up (docs/physics.md, seventh session): 1.51x fewer LU
#: factorisations (1.45x wall) at 22 nm / 9000 J/m³, 1.55x (1.44x) at 28 nm / 9000, the
#: same errors.
WARMUP_CAPPED_FRACTION = 0.05


def warmup_samples(particle, rtol, dt, P):
    """Warm-up before the recorded period: (samples, settled).

    The warm-up is w = τ_N(0)·ln(10/rtol) if that is at most one period (P samples).
    τ_N(0), the zero-field Néel time, bounds the slowest relaxation (a field only speeds
    it up), so then (``settled``) the transient from the equilibrium start has decayed
    below rtol/10 and the recorded period is the periodic steady state to within the
    time-stepping error: no shooting is needed (its periodicity residual is then just
    that error). Otherwise the warm-up is :data:`WARMUP_CAPPED_FRACTION` of a period and
    the recorded period is checked for periodicity and shot."""
    need = max(2, math.ceil(particle.neel_time_s() * math.log(10.0 / rtol) / dt))
    if need <= P:
        return need, True
    return max(2, int(round(WARMUP_CAPPED_FRACTION * P))), False


def _warm_start(disc, particle, coef, fr, tstart, dt, period, tol_c, rtol):
    """Discrete equilibrium at B(t0 − w) advanced over the warm-up w (:func:`warmup_samples`)."""
    nb, P, _ = fr.shape
    nwarm, settled = warmup_samples(particle, rtol, dt, P)
    y0 = disc.equilibrium(fr[:, (P - nwarm) % P, :])
    y0, _, _, _, nlu = _run(disc, y0, coef, tstart - nwarm * dt, tstart, dt, period, tstart, 0,
                            tol_c)
    return y0, nwarm, settled, nlu


def _steady_state(disc, particle, times, fr, dt, tol_c, rtol, max_newton, save=False,
                  tail=None):
    """Periodic steady state of the full model; with ``save=True`` also the coefficient
    vectors at the samples of the steady period (nb, P, n) as a sixth result. ``tail``
    (nb,), optional: the azimuthal tail (:func:`_run`) over the steady period."""
    nb, P, _ = fr.shape
    period = P * dt
    tstart = float(times[0])
    coef = _spline_coefficients(times, fr, periodic=True)
    y0, nwarm, settled, nlu_w = _warm_start(disc, particle, coef, fr, tstart, dt, period, tol_c,
                                            rtol)
    periods = np.full(nb, nwarm / P)
    yT, mom, steps, nsteps, nlu, *ys = _run(disc, y0, coef, tstart, tstart + period, dt, period,
                                            tstart, P, tol_c, save=save, tail=tail)
    nlu = nlu + nlu_w
    periods += 1.0
    tol_y = 0.1 * rtol / disc.mom_scale[0]
    res = np.linalg.norm(yT - y0, axis=1)
    if settled:  # the transient has decayed: the residual is the time-stepping error
        logger.debug("Néel FP steady state after the warm-up (periodicity residual %.2e)",
                     float(res.max(initial=0.0)))
        max_newton = 0
        tol_y = np.inf
    it = 0
    while np.any(res > tol_y) and it < max_newton:
        it += 1
        bad = np.nonzero(res > tol_y)[0]
        logger.info("Néel FP steady state: %d member(s) not periodic after warm-up "
                    "(max residual %.2e); Newton-Krylov shooting, iteration %d",
                    bad.size, float(res.max()), it)
        r = yT[bad] - y0[bad]

        def period_map(v, act, _bad=bad):
            # the homogeneous period map on the recorded steps: Φv, m̄ of v's trajectory
            idx = _bad[act]
            tail_v = np.zeros(idx.size)
            w, mom_v, _, _, nl = _run(disc, v, coef[idx], tstart, tstart + period, dt,
                                      period, tstart, P, tol_c, replay=True,
                                      steps=steps[idx], nsteps=nsteps[idx], tail=tail_v)
            periods[idx] += 1.0
            nlu[idx] += nl
            return w, (mom_v,), (tail_v,)

        tol_shoot = np.full(bad.size, 0.3 * tol_y)
        if save:  # the states of the corrected period: run it again (memory)
            delta, *_ = _linear_shooting(period_map, r, tol_shoot)
            ynew = y0[bad] + delta
            tail_b = None if tail is None else np.zeros(bad.size)
            yTb, momb, _, _, nl, *ysb = _run(disc, ynew, coef[bad], tstart, tstart + period,
                                             dt, period, tstart, P, tol_c, replay=True,
                                             steps=steps[bad], nsteps=nsteps[bad], save=True,
                                             tail=tail_b)
            ys[0][bad] = ysb[0]
            periods[bad] += 1.0
            nlu[bad] += nl
        else:  # the corrected period by linearity, without running it
            delta, phi_delta, (mom_d,), (tail_d,) = _linear_shooting(period_map, r, tol_shoot)
            ynew = y0[bad] + delta
            yTb = yT[bad] + phi_delta
            momb = mom[bad] + mom_d
            tail_b = None if tail is None else tail[bad] + tail_d
        if tail is not None:
            tail[bad] = tail_b
        y0[bad] = ynew
        yT[bad] = yTb
        mom[bad] = momb
        res[bad] = np.linalg.norm(yTb - ynew, axis=1)
    if np.any(res > tol_y):
        logger.warning("Néel FP steady state not reached to tolerance for %d member(s) "
                       "(max residual %.2e)", int(np.sum(res > tol_y)), float(res.max()))
    out = (mom, res * disc.mom_scale[0], periods, nsteps, nlu)
    return out + (ys[0],) if save else out
