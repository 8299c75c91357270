"""The full spherical-harmonic model: integration of a batch of trajectories (adaptive or
replayed Rodas5P steps, :mod:`.full_kernels`) and its periodic steady state (warm start,
then Newton–Krylov shooting where the recorded period is not yet periodic)."""

from __future__ import annotations

import logging

import numpy as np

from . import full_kernels
from .integration import H_MAX_SAMPLES, spline_coefficients, step_store, warmup_samples
from .lapack import single_threaded_blas
from .shooting import linear_shooting

__all__ = ["run", "steady_state", "steady_state_solver"]

logger = logging.getLogger("mdf_neel.physics")


def run(
    disc,
    y0,
    coef,
    t_start,
    t_end,
    dt,
    period,
    t0,
    nrec,
    tol,
    replay=False,
    steps=None,
    nsteps=None,
    save=False,
    tail=None,
):
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
            info, nlu = full_kernels.run_batch_adaptive(
                y,
                float(t_start),
                float(t_end),
                coef,
                float(dt),
                float(period),
                float(t0),
                float(t0),
                out,
                float(tol),
                float(dt),
                float(H_MAX_SAMPLES * dt),
                1 if replay else 0,
                st,
                ns,
                disc.indptr,
                disc.indices,
                disc.vals,
                disc.kl,
                disc.ku,
                disc.mom_idx,
                disc.mom_scale,
                ysave,
                disc.tail_idx,
                tail_max,
            )
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


def warm_start(disc, particle, coef, fr, tstart, dt, period, tol_c, rtol):
    """Discrete equilibrium at B(t0 − w) advanced over the warm-up w (:func:`warmup_samples`)."""
    nb, P, _ = fr.shape
    nwarm, settled = warmup_samples(particle, rtol, dt, P)
    y0 = disc.equilibrium(fr[:, (P - nwarm) % P, :])
    y0, _, _, _, nlu = run(disc, y0, coef, tstart - nwarm * dt, tstart, dt, period, tstart, 0, tol_c)
    return y0, nwarm, settled, nlu


def steady_state(disc, particle, times, fr, dt, tol_c, rtol, max_newton, save=False, tail=None):
    """Periodic steady state of the full model; with ``save=True`` also the coefficient
    vectors at the samples of the steady period (nb, P, n) as a sixth result. ``tail``
    (nb,), optional: the azimuthal tail (:func:`run`) over the steady period."""
    nb, P, _ = fr.shape
    period = P * dt
    tstart = float(times[0])
    coef = spline_coefficients(times, fr, periodic=True)
    y0, nwarm, settled, nlu_w = warm_start(disc, particle, coef, fr, tstart, dt, period, tol_c, rtol)
    periods = np.full(nb, nwarm / P)
    yT, mom, steps, nsteps, nlu, *ys = run(
        disc, y0, coef, tstart, tstart + period, dt, period, tstart, P, tol_c, save=save, tail=tail
    )
    nlu = nlu + nlu_w
    periods += 1.0
    tol_y = 0.1 * rtol / disc.mom_scale[0]
    res = np.linalg.norm(yT - y0, axis=1)
    if settled:  # the transient has decayed: the residual is the time-stepping error
        logger.debug("Néel FP steady state after the warm-up (periodicity residual %.2e)", float(res.max(initial=0.0)))
        max_newton = 0
        tol_y = np.inf
    it = 0
    while np.any(res > tol_y) and it < max_newton:
        it += 1
        bad = np.nonzero(res > tol_y)[0]
        logger.info(
            "Néel FP steady state: %d member(s) not periodic after warm-up "
            "(max residual %.2e); Newton-Krylov shooting, iteration %d",
            bad.size,
            float(res.max()),
            it,
        )
        r = yT[bad] - y0[bad]

        def period_map(v, act, _bad=bad):
            # the homogeneous period map on the recorded steps: Φv, m̄ of v's trajectory
            idx = _bad[act]
            tail_v = np.zeros(idx.size)
            w, mom_v, _, _, nl = run(
                disc,
                v,
                coef[idx],
                tstart,
                tstart + period,
                dt,
                period,
                tstart,
                P,
                tol_c,
                replay=True,
                steps=steps[idx],
                nsteps=nsteps[idx],
                tail=tail_v,
            )
            periods[idx] += 1.0
            nlu[idx] += nl
            return w, (mom_v,), (tail_v,)

        tol_shoot = np.full(bad.size, 0.3 * tol_y)
        if save:  # the states of the corrected period: run it again (memory)
            delta, *_ = linear_shooting(period_map, r, tol_shoot)
            ynew = y0[bad] + delta
            tail_b = None if tail is None else np.zeros(bad.size)
            yTb, momb, _, _, nl, *ysb = run(
                disc,
                ynew,
                coef[bad],
                tstart,
                tstart + period,
                dt,
                period,
                tstart,
                P,
                tol_c,
                replay=True,
                steps=steps[bad],
                nsteps=nsteps[bad],
                save=True,
                tail=tail_b,
            )
            ys[0][bad] = ysb[0]
            periods[bad] += 1.0
            nlu[bad] += nl
        else:  # the corrected period by linearity, without running it
            delta, phi_delta, (mom_d,), (tail_d,) = linear_shooting(period_map, r, tol_shoot)
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
        logger.warning(
            "Néel FP steady state not reached to tolerance for %d member(s) (max residual %.2e)",
            int(np.sum(res > tol_y)),
            float(res.max()),
        )
    out = (mom, res * disc.mom_scale[0], periods, nsteps, nlu)
    return out + (ys[0],) if save else out


def steady_state_solver(particle, times, fr, dt, tol_c, rtol, max_newton):
    """``solve(disc, members, tail)``: full-model periodic steady states of the members
    (indices into fr, axis-frame fields (nb, P, 3)) as :func:`.truncation.solve_truncated`
    calls it."""

    def solve(d, idx, tail):
        mom_, res_, per_, ns_, nlu_ = steady_state(d, particle, times, fr[idx], dt, tol_c, rtol, max_newton, tail=tail)
        return {"m": mom_, "steady_state_residual": res_, "periods": per_, "steps": ns_, "lu_factorisations": nlu_}

    return solve
