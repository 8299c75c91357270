"""Reduced-basis (POD + greedy) periodic steady states of the Néel Fokker–Planck model.

All members of a batch share the operator family ``A(B) = A0 + Σ B_k A_k`` of the
easy-axis frame (only the rotated fields differ), so their periodic steady states lie
close to a low-dimensional subspace of the (N+1)² SH coefficients. The method:

1. **Training.** Full solves (:func:`.full.steady_state`) of the first ``N_INITIAL``
   members in farthest-point order of the rotated field trajectories give snapshots
   (coefficient vectors at every ``SNAPSHOT_STRIDE``-th sample of the steady period).
2. **Basis.** V = [e_{l=0}, e_{m̄x}, e_{m̄y}, e_{m̄z}, POD modes]: the l=0 coordinate
   keeps the mass exact (row 0 of every reduced matrix is zero), the three l=1
   coordinates make m̄ a read-out of the reduced state; the POD modes (SVD of the
   snapshots with those four coordinates removed, incremental) are kept down to a
   relative singular value ``pod_tol``.
3. **Reduced model.** Galerkin ``A_r,k = Vᵀ A_k V`` (r × r dense); every member is
   integrated with the same Rodas5P scheme as the full model (adaptive free steps, m̄
   at the samples from the dense output) with a dense r × r LAPACK LU per step and one
   BLAS gemv per stage; the periodic steady state by warm-up + one period, and, where not
   periodic to tolerance, Newton–Krylov (GMRES) on the period map of the recorded
   (linear) step sequence, as in the full model: one period per slow mode of the map.
4. **Greedy.** While the training members' own (in-sample) error exceeds half the target,
   the POD cut-off is tightened. Otherwise the next member in farthest-point order (the
   one least like the training set) is solved reduced and in full; while their measured
   difference exceeds the target, it joins the training set and the basis is rebuilt.
5. **Verification.** The batch is solved reduced; the next member in farthest-point
   order and ``N_VERIFY`` random members (fixed seed) are solved in full, and their
   measured error (relative L2 over time of m̄) is returned as
   ``rb_verification_error``; if above the target they join the training set and the
   batch is solved again. After ``max_full`` full solves, or when the basis costs more
   per step than the full model (``cost_guard``), the rest is solved in full.

Members that were solved in full return the full solution. Outputs are deterministic
for a given call (same members in the same order, same parameters); a member's result
may differ between call compositions by at most the verified tolerance.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from . import reduced_kernels
from .full import steady_state
from .integration import H_MAX_SAMPLES, spline_coefficients, step_store, warmup_samples
from .lapack import single_threaded_blas
from .shooting import linear_shooting

__all__ = ["solve_reduced"]

logger = logging.getLogger("mdf_neel.physics")

#: reduction error target as a fraction of rtol (the full model's own error adds to it)
RB_ERROR_FRACTION = 0.5
#: initial POD cut-off (relative singular value) as a fraction of rtol
POD_TOL_FRACTION = 0.3
#: step tolerance of the greedy and production runs per the full model's (1: the same
#: steps as the training solves at full rank, so the in-sample check sees truncation only)
STEP_TOL_FACTOR = 1.0
#: snapshot sub-sampling of the steady period
SNAPSHOT_STRIDE = 2
#: cost guard of ``method="auto"``: a flop of the banded full step costs about two of the
#: dense reduced step (docs/neel-numerics.md, "Tuning constants")
BAND_FLOP_COST = 2.0
#: random members solved in full for the final verification (plus the worst-indicated)
N_VERIFY = 4
#: members solved in full for training before the greedy loop
N_INITIAL = 3


def _farthest_point_order(features):
    """Deterministic farthest-point ordering of the rows of ``features``."""
    nb = features.shape[0]
    centre = features.mean(axis=0)
    first = int(np.argmin(np.linalg.norm(features - centre, axis=1)))
    order = [first]
    dist = np.linalg.norm(features - features[first], axis=1)
    for _ in range(1, nb):
        nxt = int(np.argmax(dist))
        if dist[nxt] <= 0.0:
            rest = [i for i in range(nb) if i not in set(order)]
            order += rest
            break
        order.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(features - features[nxt], axis=1))
    return np.array(order, dtype=np.int64)


class _Snapshots:
    """Training snapshots: coefficient vectors with the fixed coordinates removed."""

    def __init__(self, fixed):
        self.fixed = fixed
        self.states = []
        self._pod = None  # (U, s) of the first self._pod_count snapshot sets
        self._pod_count = 0

    def add(self, states):
        Z = np.array(states[::SNAPSHOT_STRIDE], dtype=float)  # (m, n)
        Z[:, self.fixed] = 0.0
        self.states.append(Z)

    def pod(self):
        """Left singular vectors (n, k) and singular values (k,) of all snapshots.

        Incremental and exact: [Z_old, Z_new] = [U S, Z_new] · blockdiag(Vᵀ, I), whose
        right factor has orthonormal rows, so the SVD of the small [U S, Z_new] has the
        same U and S. Only modes below 1e-14 of the largest are dropped. (The greedy
        rebuilds the basis after every tolerance change and every new member; a fresh SVD
        of every snapshot each time cost seconds per rebuild at N = 34.)"""
        if self._pod_count < len(self.states):
            new = np.concatenate(self.states[self._pod_count :]).T
            base = new if self._pod is None else np.concatenate([self._pod[0] * self._pod[1], new], axis=1)
            U, sv, _ = np.linalg.svd(base, full_matrices=False)
            keep = sv > 1e-14 * sv[0] if sv.size and sv[0] > 0 else np.zeros(sv.size, bool)
            self._pod = (U[:, keep], sv[keep])
            self._pod_count = len(self.states)
        if self._pod is None:
            raise ValueError("reduced basis: no training snapshots yet")
        return self._pod


class _ReducedModel:
    """Galerkin-reduced operators on the basis V = [E4 | POD] (n, r): ``ops`` (4, r, r)
    = Vᵀ A_k V and the moment read-out ``cmom`` (3, r)."""

    def __init__(self, disc, snaps, pod_tol):
        n = disc.n
        E = np.zeros((n, 4))
        E[snaps.fixed, np.arange(4)] = 1.0
        U, sv = snaps.pod()
        s0 = sv[0] if sv.size and sv[0] > 0 else 1.0
        V = np.concatenate([E, U[:, : int(np.sum(sv > pod_tol * s0))]], axis=1)
        r = V.shape[1]
        ops = np.zeros((4, r, r))
        mats = [sp.csr_matrix((disc.vals[k], disc.indices, disc.indptr), shape=(n, n)) for k in range(4)]
        for k in range(4):
            ops[k] = V.T @ (mats[k] @ V)
        ops[:, 0, :] = 0.0  # the l=0 row of A is zero (mass); remove round-off
        self.ops = ops
        self.cmom = disc.mom_scale[:, None] * V[disc.mom_idx, :]
        self.disc, self.rmax = disc, r
        self._stacks = {}

    def equilibrium(self, fields):
        """Reduced stationary states A_r(B) w = 0, w[0] = c00."""
        fields = np.ascontiguousarray(fields)
        nb = fields.shape[0]
        A = self.ops[0][None] + np.einsum("bk,kij->bij", fields, self.ops[1:])
        A[:, 0, :] = 0.0
        A[:, 0, 0] = 1.0
        rhs = np.zeros((nb, self.rmax))
        rhs[:, 0] = self.disc.c00
        return np.linalg.solve(A, rhs[..., None])[..., 0]

    def _stacked(self, kact):
        """The C-contiguous (r, len(kact)·r) block [A_k for k in kact] (the kernel's one-gemv
        stages) and kact as an array."""
        key = tuple(int(k) for k in kact)
        if key not in self._stacks:
            self._stacks[key] = (
                np.ascontiguousarray(np.concatenate([self.ops[k] for k in key], axis=1)),
                np.array(key, dtype=np.int64),
            )
        return self._stacks[key]

    def run(self, Y, coef, t_start, t_end, dt, period, t0, nrec, tol, replay=False, steps=None, nsteps=None):
        """Integrate the reduced states Y (nb, ncols, r) like :func:`.full.run`; returns
        (Y_end, moments (nb, nrec, 3), steps, nsteps, nlu)."""
        nb = Y.shape[0]
        # operators whose field component is zero for every member drop out of the stages
        kact = [0] + [k + 1 for k in range(3) if np.any(coef[..., k] != 0.0)]
        stack, kact = self._stacked(kact)
        # step store sized for ~1.7 steps per sample, grown (run repeated) on overflow
        cap = None if steps is not None else int(3 * max(1.0, (t_end - t_start) / dt)) + 16
        while True:
            Yw = np.array(Y, dtype=float, order="C", copy=True)
            out = np.zeros((nb, nrec, 3))
            st, ns = step_store(nb, cap, steps, nsteps)
            with single_threaded_blas():  # LAPACK/BLAS inside numba threads: no BLAS threads
                info, nlu = reduced_kernels.rb_batch(
                    Yw,
                    float(t_start),
                    float(t_end),
                    coef,
                    float(dt),
                    float(period),
                    float(t0),
                    out,
                    float(tol),
                    float(dt),
                    float(H_MAX_SAMPLES * dt),
                    1 if replay else 0,
                    st,
                    ns,
                    self.ops,
                    stack,
                    kact,
                    self.cmom,
                )
            if np.any(info != 0):
                raise FloatingPointError("singular step matrix in the reduced Fokker-Planck model")
            if replay or not np.any(ns < 0):
                return Yw, out, st, ns, nlu
            cap *= 4


def _rel_l2(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def solve_reduced(
    disc, particle, times, fr, dt, tol_c, rtol, max_newton, *, pod_tol=None, max_full=24, seed=0, cost_guard=False
):
    """Periodic steady states of a batch through a verified reduced basis.

    Parameters
    ----------
    disc : NeelDiscretisation
    particle : ParticleParameters
    times : numpy.ndarray, shape (P,)
    fr : numpy.ndarray, shape (nb, P, 3)
        Fields in each member's easy-axis frame [T].
    dt, tol_c, rtol, max_newton
        Sample spacing [s], step tolerance, target accuracy, shooting iterations of the
        full training solves.
    pod_tol : float, optional
        Initial relative singular-value cut-off of the POD (default
        ``POD_TOL_FRACTION``·rtol; tightened by the greedy loop when needed).
    max_full : int
        Most full solves (training + verification) before giving up on the reduced
        model and solving the remaining members in full.
    seed : int
        Seed of the random verification members (fixed: deterministic output).
    cost_guard : bool
        Fall back to the full model when the reduced dimension makes a step dearer than
        a full one (``method="auto"``).

    Returns
    -------
    mom : numpy.ndarray, shape (nb, P, 3)
        m̄ in the easy-axis frame.
    info : dict
        ``rb_dimension`` (r incl. the 4 fixed coordinates), ``rb_full_solves``,
        ``rb_verification_error`` (max measured relative L2 error of the verified
        members), ``rb_verification_members``/``_errors``, ``rb_greedy_errors``,
        ``rb_target``, ``rb_pod_tolerance``, ``rb_fallback``, ``rb_full_tails`` (member ->
        azimuthal tail of its full solve, see :func:`.full.run`),
        ``steady_state_residual``, ``periods``, ``steps``, ``lu_factorisations``.
    """
    nb, P, _ = fr.shape
    period = P * dt
    tstart = float(times[0])
    target = RB_ERROR_FRACTION * rtol
    coef = spline_coefficients(times, fr, periodic=True)
    fixed = np.concatenate([[disc.i0], disc.mom_idx]).astype(np.int64)
    snaps = _Snapshots(fixed)
    full = {}
    full_tail = {}  # azimuthal tail of each full solve (truncated discretisations)
    full_stats = {}  # member -> (residual, periods, steps, LU factorisations) of its full solve
    state = {"pod": POD_TOL_FRACTION * rtol if pod_tol is None else float(pod_tol), "full_periods": 0.0}

    def solve_full(members, train=True):
        # full-model solves; training ones save the steady period's states as snapshots,
        # the fallback's do not (the states of a 1452-member batch at N = 27: 7 GB)
        members = [int(m) for m in members if int(m) not in full]
        if not members:
            return
        idx = np.array(members)
        tail = np.zeros(idx.size)
        mom, res_f, periods, ns_f, nlu_f, *states = steady_state(
            disc, particle, times, fr[idx], dt, tol_c, rtol, max_newton, save=train, tail=tail
        )
        state["full_periods"] += float(np.sum(periods))
        for j, m in enumerate(members):
            full_tail[m] = float(tail[j])
            full[m] = mom[j]
            full_stats[m] = (res_f[j], periods[j], ns_f[j], nlu_f[j])
            if train:
                snaps.add(states[0][j])

    def rebuild():
        state["model"] = _ReducedModel(disc, snaps, state["pod"])

    def reduced(members, step_factor=1.0):
        idx = np.asarray(members, dtype=np.int64)
        return _reduced_steady_state(
            state["model"], particle, coef[idx], fr[idx], tstart, dt, period, step_factor * tol_c, rtol
        )

    def too_costly():
        # a dense r x r LU per step against the banded full LU: no gain beyond this
        r = state["model"].rmax
        return cost_guard and (2.0 / 3.0) * r**3 + 10.0 * r * r > BAND_FLOP_COST * (
            disc.n * disc.kl * (disc.kl + disc.ku) + 40.0 * disc.indices.size
        )

    features = fr[:, :: max(1, P // 64), :].reshape(nb, -1)
    order = [int(m) for m in _farthest_point_order(features)]
    solve_full(order[: min(nb, N_INITIAL)])
    rebuild()
    greedy_errors = []
    # greedy in farthest-point order (the member least like the training set next); the
    # training members' own (in-sample) error measures the POD truncation, which is
    # tightened first when it alone exceeds half the target
    while len(full) < min(nb, max_full):
        train = sorted(full)
        mom_t, *_ = reduced(train)  # the training solves' tolerance
        e_in = max(_rel_l2(mom_t[j], full[m]) for j, m in enumerate(train))
        if e_in > 0.5 * target and not state.get("saturated"):
            r_old = state["model"].rmax
            state["pod"] /= 3.0
            logger.info("reduced basis: in-sample error %.2e at r=%d; POD tolerance -> %.1e", e_in, r_old, state["pod"])
            rebuild()
            # nothing left to add (all snapshot modes kept), or no longer worth it
            state["saturated"] = state["model"].rmax == r_old or state["pod"] < 1e-10
            if too_costly():
                break
            continue
        nxt = next(m for m in order if m not in full)
        mom_n, *_ = reduced([nxt], STEP_TOL_FACTOR)
        solve_full([nxt])
        err = _rel_l2(mom_n[0], full[nxt])
        greedy_errors.append(err)
        logger.info(
            "reduced basis: r=%d, next member %d: measured error %.2e (target %.1e)",
            state["model"].rmax,
            nxt,
            err,
            target,
        )
        rebuild()
        if err <= target:
            break
    rng = np.random.default_rng(seed)
    fallback = False
    ver, errs = [], []
    if too_costly():
        logger.info(
            "reduced basis: r=%d would cost more per step than the full model (%d coefficients); using the full model",
            state["model"].rmax,
            disc.n,
        )
        fallback = True
    while len(full) < nb and not fallback:
        mom, res, periods, nsteps, nlu = reduced(np.arange(nb), STEP_TOL_FACTOR)
        rest = np.array([m for m in order if m not in full], dtype=np.int64)
        others = rest[1:]
        pick = rng.choice(others, size=min(N_VERIFY, others.size), replace=False) if others.size else []
        ver = [int(rest[0])] + [int(v) for v in pick]
        solve_full(ver)
        errs = [_rel_l2(mom[v], full[v]) for v in ver]
        logger.info(
            "reduced basis: r=%d verified on %d member(s): max error %.2e (target %.1e)",
            state["model"].rmax,
            len(ver),
            max(errs),
            target,
        )
        if max(errs) <= target:
            break
        if len(full) >= max_full:
            fallback = True
            break
        rebuild()
    if fallback or len(full) >= nb:
        if fallback and errs:
            logger.warning(
                "reduced basis did not reach %.1e with %d full solves (verified "
                "%.2e); solving the remaining %d member(s) with the full model",
                target,
                len(full),
                max(errs),
                nb - len(full),
            )
        solve_full(range(nb), train=False)
        mom = np.zeros((nb, P, 3))
        res = np.zeros(nb)
        periods = np.zeros(nb)
        nsteps = np.zeros(nb, dtype=np.int64)
        nlu = np.zeros(nb, dtype=np.int64)
    for m, v in full.items():
        mom[m] = v
        res[m], periods[m], nsteps[m], nlu[m] = full_stats[m]
    info = {
        "rb_dimension": int(state["model"].rmax),
        "rb_full_solves": len(full),
        "rb_verification_error": float(max(errs)) if errs else 0.0,
        "rb_verification_members": [int(v) for v in ver],
        "rb_verification_errors": [float(e) for e in errs],
        "rb_greedy_errors": [float(e) for e in greedy_errors],
        "rb_target": target,
        "rb_pod_tolerance": state["pod"],
        "rb_fallback": fallback,
        "rb_full_periods": state["full_periods"],
        "rb_full_tails": dict(full_tail),
        "steady_state_residual": res,
        "periods": periods,
        "steps": nsteps,
        "lu_factorisations": nlu,
    }
    return mom, info


def _reduced_steady_state(rm, particle, coef, fr, tstart, dt, period, tol, rtol):
    """(m̄ (nb, P, 3), residual, periods, steps, nlu) of the reduced model."""
    nb, P, _ = fr.shape
    nwarm, settled = warmup_samples(particle, rtol, dt, P)
    w0 = rm.equilibrium(fr[:, (P - nwarm) % P, :])[:, None, :]
    w0, _, _, _, nlu_w = rm.run(w0, coef, tstart - nwarm * dt, tstart, dt, period, tstart, 0, tol)
    periods = np.full(nb, nwarm / P + 1.0)
    wT, mom, steps, nsteps, nlu = rm.run(w0, coef, tstart, tstart + period, dt, period, tstart, P, tol)
    nlu = nlu + nlu_w
    tol_y = np.inf if settled else 0.1 * rtol / rm.disc.mom_scale[0]
    res = np.linalg.norm(wT[:, 0] - w0[:, 0], axis=1)
    bad = np.nonzero(res > tol_y)[0]
    if bad.size:
        # Newton–Krylov on the period map of the recorded (linear) step sequence, as in the
        # full model: GMRES needs about as many periods as the map has slow modes (1–3
        # interwell modes when the barrier is high), not one column per coordinate
        logger.info(
            "reduced model: %d member(s) not periodic after warm-up (max residual %.2e); Newton-Krylov shooting",
            bad.size,
            float(res[bad].max()),
        )

        def period_map(v, act):
            idx = bad[act]
            w, mom_v, _, _, nl = rm.run(
                v[:, None, :],
                coef[idx],
                tstart,
                tstart + period,
                dt,
                period,
                tstart,
                P,
                tol,
                replay=True,
                steps=steps[idx],
                nsteps=nsteps[idx],
            )
            periods[idx] += 1.0
            nlu[idx] += nl
            return w[:, 0], (mom_v,), ()

        tol_w = 0.1 * rtol / rm.disc.mom_scale[0]
        # the corrected period by linearity (no further run): y(0) + δ ends at y(T) + Φδ
        delta, phi_delta, (mom_d,), _ = linear_shooting(
            period_map, wT[bad, 0] - w0[bad, 0], tol=np.full(bad.size, 0.3 * tol_w)
        )
        mom[bad] += mom_d
        res[bad] = np.linalg.norm(wT[bad, 0] + phi_delta - w0[bad, 0] - delta, axis=1)
    return mom, res * rm.disc.mom_scale[0], periods, nsteps, nlu
