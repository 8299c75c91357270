"""Slow-mode model of the Néel Fokker–Planck equation.

The spectrum of the Fokker–Planck operator A(B) has one slowest mode (at high σ the
transfer between the two wells, rate λ1(B) from ~1e-2 to ~1e9 1/s) and faster
(intra-well) modes at ≳ 1e8–1e10 1/s, while the drive changes on ~1e-5 s. The density
then stays close to the slow manifold

    f(t) = f_eq(B(t)) + c(t) φ1(B(t)),

f_eq the stationary (Boltzmann) state, φ1 the slow right eigenvector (gauge: its
easy-axis moment is 1, so c is the easy-axis moment's deviation from equilibrium).
Projecting ∂t f = A f on the left eigenvector ψ1 (ψ1·φ1 = 1, ψ1·f_eq = 0) gives the
exact scalar equation on that manifold

    dc/dt = −(λ1(B) + g_φ(B)·Ḃ) c − g_eq(B)·Ḃ,   g_eq = ψ1·∂f_eq/∂B, g_φ = ψ1·∂φ1/∂B,

and m̄ = m_eq(B) + c μ1(B) + Σ_k Ḃ_k (h_k(B) + c j_k(B)), the last term the quasi-static
lag of the fast (intra-well) modes, to first order in Ḃ (:func:`slow_mode_point`). Where
no slow mode exists (beyond the switching field, one well left) m_eq and h_k are still
exact and c ≈ 0. The tables refer c to f_eq + a φ1 with the continuum Boltzmann
population instead of f_eq itself (:func:`table_values`): where λ1 is at rounding level
the discrete f_eq's population split is ill-determined and cannot be interpolated.

All these quantities depend on the field only. For fields in one plane through the easy
axis (every member of the paper's dictionary after :func:`.frame.canonical_rotation`: B_y = 0
in the axis frame) they are tabulated once per particle on a grid over (B_x, B_z), in the
quadrant B_x, B_z >= 0 and extended by the two exact symmetries (rotation by π about the
easy axis, and the mirror through the field plane acting on axial vectors). Every member
then costs a scalar linear ODE over one period, whose periodic solution is explicit.

Used by :func:`mdf_neel.physics.mean_magnetization` (``method="slow-mode"``, and
``"auto"`` for large in-plane batches) through :func:`solve_slow_mode_verified`, which
checks every batch against full solves of a few members. Its measured accuracy on the
paper's sequence is in ``docs/neel-numerics.md`` ("Slow-mode model").
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from scipy.interpolate import RectBivariateSpline

from ..equilibrium import anisotropic_equilibrium
from .lapack import single_threaded_blas
from .slow_mode_kernels import (
    A_COL,
    DMEQ_Z,
    FLAG,
    G,
    G_PHI,
    H_X,
    H_Z,
    J_X,
    J_Z,
    M,
    MU,
    N_SHARED,
    N_VALUES,
    RATE,
    bicubic_spline_values,
    periodic_slow_mode,
    slow_mode_table,
    slow_only_columns,
    table_signs,
)

logger = logging.getLogger("mdf_neel.physics")

#: table spacing [T]: the coarsest that keeps the model's own error within budget (1 mT
#: does not); refined near zero field
TABLE_SPACING_T = 0.75e-3
#: node spacing near zero field, in kT/m0: the population split switches within a few kT/m0
ZERO_FIELD_SPACING = 0.25
#: extent of the refined region, in kT/m0 (1 − tanh² = 2.5e-5 at 6)
ZERO_FIELD_EXTENT = 6.0
#: ODE sub-steps per sample (coefficients interpolated from the table): the time error of c,
#: ∝ substeps^-2, is the model's error at strong barriers (docs/neel-numerics.md)
SUBSTEPS = 32
#: members evaluated and integrated together: bounds the memory of their fine fields and
#: table values (200 MB for the paper's sequence)
MEMBER_CHUNK = 16
#: eigen-iteration tolerance (relative change of the slow eigenpair) and iteration cap
EIGEN_TOL = 1e-10
EIGEN_MAXIT = 300
#: members whose period-map gap 1 − Φ is below this never switch: they start from the
#: reference state (the Boltzmann population, :func:`table_values`)
BLOCKED_GAP = 1e-10
#: floor of the decay rate of c per λ1, only where λ1·dt > 1 (c quasi-static): next to the
#: switching field g_φ·Ḃ can exceed λ1, outside the expansion (docs/neel-numerics.md)
MIN_DECAY_RATIO = 0.5


def table_nodes(b_max, spacing, thermal_field):
    """Table nodes 0 = b_0 < b_1 < … [T] along one field axis covering [0, b_max] with two
    nodes of margin: ``spacing`` apart, refined to ZERO_FIELD_SPACING · thermal_field
    (kT/m0 [T]) within ZERO_FIELD_EXTENT · thermal_field of 0 where that is finer."""
    fine = ZERO_FIELD_SPACING * thermal_field
    if fine >= spacing:
        return np.arange(int(math.ceil(b_max / spacing)) + 3) * spacing
    # the fine part ends on a multiple of the coarse spacing
    n_coarse_start = int(math.ceil(ZERO_FIELD_EXTENT * thermal_field / spacing))
    n_fine = int(math.ceil(n_coarse_start * spacing / fine))
    inner = np.linspace(0.0, n_coarse_start * spacing, n_fine + 1)
    n_total = max(int(math.ceil(b_max / spacing)) + 3, n_coarse_start + 1)
    outer = np.arange(n_coarse_start + 1, n_total) * spacing
    return np.concatenate([inner, outer])


class SlowModeTables:
    """Tabulated slow-mode quantities of one discretisation on a (B_x, B_z) grid.

    Attributes
    ----------
    bx, bz : numpy.ndarray
        Grid axes [T] (symmetric about 0).
    values : numpy.ndarray, shape (nx, nz, 24)
        log λ1, m_ref (3), μ1 (3), g_ref (x, z), g_φ (x, z), h_x, h_z, j_x, j_z (3 each),
        a (see :func:`table_values`, the module docstring and :func:`slow_mode_point`).
    converged : numpy.ndarray of bool, shape (nx, nz)
        False where no isolated real slow mode exists (beyond the switching field, where
        every mode is fast); values there are filled from the neighbours.
    """

    def __init__(self, bx, bz, values, converged, wall_s):
        self.bx = bx
        self.bz = bz
        self.values = values
        self.converged = converged
        self.wall_s = wall_s
        splines = [RectBivariateSpline(bx, bz, values[..., k], kx=3, ky=3) for k in range(values.shape[-1])]
        self._knots = splines[0].tck[:2]
        ncx = self._knots[0].size - 4
        self._coef = np.ascontiguousarray(np.stack([s.tck[2].reshape(ncx, -1) for s in splines], axis=-1))

    @classmethod
    def build(cls, disc, particle, bx_max, bz_max, spacing=TABLE_SPACING_T):
        """Tables of ``disc`` (:class:`NeelDiscretisation` of ``particle``, untruncated) for
        |B_x| <= bx_max, |B_z| <= bz_max [T] (two spacings of margin are added), nodes
        refined near zero field (:func:`table_nodes`)."""
        t0 = time.perf_counter()
        qx = table_nodes(bx_max, spacing, 1.0 / particle.xi_per_tesla)
        qz = table_nodes(bz_max, spacing, 1.0 / particle.xi_per_tesla)
        with single_threaded_blas():
            q = slow_mode_table(
                qx,
                qz,
                disc.indptr,
                disc.indices,
                disc.vals,
                disc.kl,
                disc.ku,
                disc.i0,
                disc.c00,
                disc.mom_idx,
                disc.mom_scale,
                EIGEN_TOL,
                EIGEN_MAXIT,
            )
        ok_q = q[..., FLAG] == 1.0
        vals_q = table_values(q, *boltzmann_reference(particle, qx, qz))
        # full grid from the quadrant: index −i ↔ i
        bx = np.concatenate([-qx[:0:-1], qx])
        bz = np.concatenate([-qz[:0:-1], qz])
        full = np.empty((bx.size, bz.size, N_VALUES))
        ok = np.empty((bx.size, bz.size), dtype=bool)
        # column signs for (sx, sz) = signs of (B_x, B_z): (−, +) = R, (−, −) = S, (+, −) = R S
        signs = {(1, 1): np.ones(N_VALUES), (-1, 1): table_signs("R"), (-1, -1): table_signs("S")}
        signs[(1, -1)] = signs[(-1, 1)] * signs[(-1, -1)]
        cx, cz = qx.size - 1, qz.size - 1
        for sx in (1, -1):
            for sz in (1, -1):
                ix = cx + sx * np.arange(qx.size)
                iz = cz + sz * np.arange(qz.size)
                full[np.ix_(ix, iz)] = vals_q * signs[(sx, sz)]
                ok[np.ix_(ix, iz)] = ok_q
        # filled on the whole grid: the fill is equivariant, so odd columns vanish on the axes
        full = _fill(full, ok)
        wall = time.perf_counter() - t0
        logger.info(
            "Néel slow-mode tables: %d x %d field points (quadrant %d, %d without an "
            "isolated slow mode), spacing %.3g mT (near 0: %.3g mT), %.1f s",
            bx.size,
            bz.size,
            q.shape[0] * q.shape[1],
            int(np.sum(~ok_q)),
            spacing * 1e3,
            qz[1] * 1e3,
            wall,
        )
        return cls(bx, bz, full, ok, wall)

    def evaluate(self, x, z):
        """Interpolated values (…, 24) at field points x, z [T] (same shape): bicubic
        interpolating splines (scipy's RectBivariateSpline), evaluated together."""
        x = np.asarray(x, dtype=float)
        z = np.asarray(z, dtype=float)
        out = bicubic_spline_values(
            self._knots[0], self._knots[1], self._coef, np.ascontiguousarray(x.ravel()), np.ascontiguousarray(z.ravel())
        )
        return out.reshape(x.shape + (self._coef.shape[-1],))


#: step [T] of the central differences of the Boltzmann moment, far below its narrowest
#: feature (the population switch at zero field, ~kT/m0 wide)
BOLTZMANN_STEP_T = 1e-7


def boltzmann_reference(particle, bx, bz):
    """Boltzmann mean moment m_B (continuum quadrature) on the grid bx (nx,) × bz (nz,)
    [T] (easy-axis frame, B_y = 0) and the derivatives of its easy-axis component:
    (nx, nz, 3) and (nx, nz, 2) [1/T] (along B_x, B_z)."""
    X, Z = np.meshgrid(bx, bz, indexing="ij")
    h = BOLTZMANN_STEP_T

    def moment(dx, dz):
        b = np.stack([X + dx, np.zeros_like(X), Z + dz], axis=-1)
        return anisotropic_equilibrium(b, particle.xi_per_tesla, particle.sigma, (0, 0, 1))

    m_b = moment(0.0, 0.0)
    dmz = np.stack(
        [
            (moment(h, 0.0)[..., 2] - moment(-h, 0.0)[..., 2]) / (2 * h),
            (moment(0.0, h)[..., 2] - moment(0.0, -h)[..., 2]) / (2 * h),
        ],
        axis=-1,
    )
    return m_b, dmz


def table_values(point, m_boltzmann, dmz_boltzmann):
    """Table values (…, N_VALUES) from :func:`slow_mode_point` outputs (…, N_OUT), with the
    slow mode referred to f_ref = f_eq + a φ1 instead of the discrete stationary state f_eq.

    Why: where λ1 is at rounding level (high σ, |B| ≲ kT/m0) f_eq and φ1 span a near-null
    space of A, and the discrete f_eq's population split is poorly determined (at 28 nm /
    9000 J/m³, N = 43 its m_z oscillates by ±3e-3 along B_x against a monotone Boltzmann
    m_z). The model is exact under any such shift, but the tables are interpolated:
    g_eq inherits the oscillation (±16 1/T on a 1.3 mT period) and the 0.5 mT splines of
    m_eq and g_eq no longer agree. a is chosen so that f_ref has the continuum Boltzmann
    easy-axis moment (a = m_B,z − m_eq,z, as μ1_z = 1); then with c' = c − a

        dc'/dt = −(λ1 + g_φ·Ḃ) c' − λ1 a − g_ref·Ḃ,  g_ref = g_eq + a g_φ + ∂a/∂B,
        m̄ = m_ref + c' μ1 + Σ_k Ḃ_k (h_ref,k + c' j_k),  m_ref = m_eq + a μ1,
        h_ref = h + a j,

    the same equation, and ∂a/∂B = ∂m_B,z/∂B − ∂m_eq,z/∂B removes the population part of
    g_eq (g_eq − ∂m_eq,z/∂B is the intra-well response, which is well determined). Where
    there is no slow mode a = 0.

    Parameters
    ----------
    point : numpy.ndarray, shape (..., N_OUT)
    m_boltzmann, dmz_boltzmann : numpy.ndarray, shapes (..., 3) and (..., 2)
        From :func:`boltzmann_reference` at the same fields.
    """
    ok = point[..., FLAG] == 1.0
    v = np.empty(point.shape[:-1] + (N_VALUES,))
    v[..., :N_SHARED] = point[..., :N_SHARED]
    v[..., RATE] = np.log(np.where(ok, point[..., RATE], 1.0))
    a = np.where(ok, m_boltzmann[..., 2] - point[..., M + 2], 0.0)
    v[..., A_COL] = a
    mu, g_phi, j = point[..., MU : MU + 3], point[..., G_PHI : G_PHI + 2], point[..., J_X : J_Z + 3]
    shift = ok[..., None]
    m, g, h = slice(M, M + 3), slice(G, G + 2), slice(H_X, H_Z + 3)
    v[..., m] = np.where(shift, point[..., m] + a[..., None] * mu, point[..., m])
    v[..., g] = np.where(
        shift, point[..., g] + a[..., None] * g_phi + dmz_boltzmann - point[..., DMEQ_Z : DMEQ_Z + 2], point[..., g]
    )
    v[..., h] = np.where(shift, point[..., h] + a[..., None] * j, point[..., h])
    return v


#: table columns that exist only where there is a slow mode (m_eq and h_k exist everywhere)
_SLOW_ONLY = slow_only_columns()


def _fill(vals, ok):
    """Replace the values at points without a slow mode: log λ1 by the largest converged
    one (every mode is fast there), μ1 and the couplings by repeated averaging of the known
    neighbours (a smooth continuation for the splines; c ≈ 0 there, so they barely enter)."""
    out = vals.copy()
    if ok.all():
        return out
    if not ok.any():
        raise RuntimeError("no field point of the slow-mode table has an isolated slow mode")
    out[~ok, RATE] = np.max(vals[ok, RATE])
    known = ok.copy()
    rest = out[..., _SLOW_ONLY]
    while not known.all():
        acc = np.zeros_like(rest)
        cnt = np.zeros(known.shape)
        for axis in (0, 1):
            for shift in (1, -1):
                k = np.roll(known, shift, axis=axis)
                v = np.roll(rest, shift, axis=axis)
                edge = [slice(None), slice(None)]
                edge[axis] = 0 if shift == 1 else -1
                k[tuple(edge)] = False
                acc += np.where(k[..., None], v, 0.0)
                cnt += k
        new = (~known) & (cnt > 0)
        rest[new] = acc[new] / cnt[new][:, None]
        known = known | new
    out[..., _SLOW_ONLY] = rest
    return out


def integrate_periodic(values, fields_dot, dt, blocked_gap=BLOCKED_GAP):
    """Periodic solution of the slow-mode equation for a batch of members,
    dc/dt = −(λ1 + g_φ·Ḃ) c − λ1 a − g·Ḃ (c relative to the reference state of
    :func:`table_values`), by an exponential integrator (decay rate constant, source
    linear over each step) and the explicit periodic solution of the linear recursion.

    Parameters
    ----------
    values : numpy.ndarray, shape (nb, S, 24)
        Table values along each member's field at S equally spaced times over one period.
    fields_dot : numpy.ndarray, shape (nb, S, 3)
        dB/dt [T/s] (axis frame) at those times.
    dt : float
        Time between those points [s].

    Returns
    -------
    m : numpy.ndarray, shape (nb, S, 3)
        Mean moment (axis frame).
    gap : numpy.ndarray, shape (nb,)
        1 − Φ, Φ the period map of c (≈ 0: the particle does not switch).
    clamped : numpy.ndarray of int, shape (nb,)
        Points where the decay rate of c was raised to :data:`MIN_DECAY_RATIO` · λ1.
    """
    return periodic_slow_mode(
        np.ascontiguousarray(values, dtype=float),
        np.ascontiguousarray(fields_dot, dtype=float),
        float(dt),
        float(blocked_gap),
        MIN_DECAY_RATIO,
    )


def solve_slow_mode(times, fr, disc, particle, spacing=TABLE_SPACING_T, substeps=SUBSTEPS):
    """Periodic steady states of the slow-mode model.

    Parameters
    ----------
    times : numpy.ndarray, shape (P,)
        Uniform sample times [s] of one period.
    fr : numpy.ndarray, shape (nb, P, 3)
        Fields [T] in the easy-axis frame; B_y must vanish (fields in one plane through
        the easy axis).
    disc : NeelDiscretisation
        Untruncated discretisation (degree N) the tables are computed on.
    particle : ParticleParameters
        The particle of ``disc`` (for the Boltzmann reference, :func:`table_values`).

    Returns
    -------
    m : numpy.ndarray, shape (nb, P, 3)
        Mean moment in the axis frame.
    info : dict
        ``slow_mode_table_shape``, ``slow_mode_spacing_T``, ``slow_mode_unconverged_points``,
        ``slow_mode_table_s``, ``slow_mode_gap`` (per member 1 − Φ),
        ``slow_mode_breakdown`` (per member: |m̄| > 1 somewhere, outside the model),
        ``slow_mode_clamped_points`` (per member, see :data:`MIN_DECAY_RATIO`).
    """
    nb, P, _ = fr.shape
    dt = (times[-1] - times[0]) / (P - 1)
    omega = 2.0 * np.pi * np.fft.rfftfreq(P, dt)
    chunks = [slice(start, start + MEMBER_CHUNK) for start in range(0, nb, MEMBER_CHUNK)]

    def fine(sl, derivative=False):
        """Band-limited interpolation of the chunk's fields (or of dB/dt) onto the
        sub-steps: (chunk, P·substeps, 3); per chunk, so that the whole batch's fine
        fields (0.9 GB for the paper's 1452-member call) never exist at once."""
        F = np.fft.rfft(fr[sl], axis=1)
        if derivative:
            F *= (1j * omega)[None, :, None]
        return np.fft.irfft(F, n=P * substeps, axis=1) * substeps

    bx_max = bz_max = 0.0
    for sl in chunks:
        f_fine = fine(sl)
        bx_max = max(bx_max, float(np.max(np.abs(f_fine[..., 0]), initial=0.0)))
        bz_max = max(bz_max, float(np.max(np.abs(f_fine[..., 2]), initial=0.0)))
    tables = SlowModeTables.build(disc, particle, bx_max, bz_max, spacing)
    m = np.empty((nb, P, 3))
    gaps = np.empty(nb)
    clamped = np.empty(nb, dtype=np.int64)
    for sl in chunks:
        f_fine = fine(sl)
        v = tables.evaluate(f_fine[..., 0], f_fine[..., 2])
        del f_fine
        m_chunk, gaps[sl], clamped[sl] = integrate_periodic(v, fine(sl, True), dt / substeps)
        m[sl] = m_chunk[:, ::substeps]
    norm_max = np.max(np.linalg.norm(m, axis=-1), axis=1)
    # a mean moment outside the unit ball cannot be right: such members are solved in full
    breakdown = ~(norm_max <= 1.0 + 1e-6)
    info = {
        "slow_mode_table_shape": tables.values.shape[:2],
        "slow_mode_spacing_T": spacing,
        "slow_mode_unconverged_points": int(np.sum(~tables.converged)),
        "slow_mode_table_s": tables.wall_s,
        "slow_mode_gap": gaps,
        "slow_mode_breakdown": breakdown,
        "slow_mode_clamped_points": clamped,
    }
    return m, info


#: members of a slow-mode batch solved with the full model to verify it: the one that
#: reaches the largest field, and this many random ones
VERIFY_RANDOM = 2


def solve_slow_mode_verified(times, fr, disc, particle, full_solve, rtol, seed=0, verify=True):
    """:func:`solve_slow_mode`, verified against the full model on a few members, with the
    members outside the model solved by the full model.

    Parameters
    ----------
    times, fr, disc, particle
        As in :func:`solve_slow_mode`.
    full_solve : callable
        ``full_solve(members)`` (an index array) -> dict with ``"m"`` (k, P, 3), the full
        model's periodic steady states in the axis frame, and optional per-member cost
        arrays (``steps``, ``periods``, ``lu_factorisations``).
    rtol : float
        Largest accepted relative L2 difference of m̄ on the verified members.
    verify : bool
        False: no member is verified (the caller checks the batch itself, as the
        system-matrix row contract does against a tighter reference); the batch counts as
        accepted, and the members outside the model are still solved in full.

    Returns
    -------
    m : numpy.ndarray, shape (nb, P, 3)
        Mean moment (axis frame). When the batch is accepted, the verified members and
        those outside the model (``slow_mode_breakdown``) carry their full solutions.
    info : dict
        The entries of :func:`solve_slow_mode` and ``slow_mode_verification_members``,
        ``slow_mode_verification_error``, ``slow_mode_accepted``,
        ``slow_mode_full_members`` (every member given to ``full_solve``, sorted) and
        ``full`` (the dict ``full_solve`` returned for them; None when no member was
        solved in full). ``slow_mode_verification_error`` is None without ``verify``.
    """
    m, info = solve_slow_mode(times, fr, disc, particle)
    nb = fr.shape[0]
    broken = np.nonzero(info["slow_mode_breakdown"])[0]
    valid = np.setdiff1d(np.arange(nb), broken)
    rng = np.random.default_rng(seed)
    pick = np.zeros(0, dtype=np.int64)
    if valid.size and verify:
        worst = valid[int(np.argmax(np.max(np.linalg.norm(fr[valid], axis=-1), axis=1)))]
        rest = np.setdiff1d(valid, [worst])
        pick = np.concatenate([[worst], rng.choice(rest, size=min(VERIFY_RANDOM, rest.size), replace=False)]).astype(
            np.int64
        )
    solve = np.sort(np.concatenate([pick, broken]).astype(np.int64))
    full = full_solve(solve) if solve.size else None
    error = None
    if verify:
        ref = full["m"][np.searchsorted(solve, pick)] if pick.size else np.zeros((0,) + m.shape[1:])
        err = np.linalg.norm(m[pick] - ref, axis=(1, 2)) / np.maximum(np.linalg.norm(ref, axis=(1, 2)), 1e-300)
        error = float(err.max(initial=0.0))
    accepted = not verify or error <= rtol
    logger.log(
        logging.INFO if accepted else logging.WARNING,
        "Néel slow-mode model %s; %d member(s) outside the model solved in full",
        "not verified here (the caller checks it)"
        if not verify
        else "%s: largest difference from the full model %.2e on %d member(s) (tolerance %.1e)"
        % ("verified" if accepted else "REJECTED", error, pick.size, rtol),
        broken.size,
    )
    if accepted and full is not None:
        m[solve] = full["m"]
    info.update(
        slow_mode_verification_members=np.sort(pick),
        slow_mode_verification_error=error,
        slow_mode_accepted=accepted,
        slow_mode_full_members=solve,
        full=full,
    )
    return m, info
