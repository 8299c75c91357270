"""Python side of the time stepping shared by every method: the field spline, the step
tolerance for a target rtol, the step store, the warm-up before a periodic steady state,
and the numba thread count."""

from __future__ import annotations

import math
from contextlib import contextmanager

import numba
import numpy as np
from scipy.interpolate import CubicSpline

__all__ = [
    "spline_coefficients",
    "local_tolerance",
    "step_store",
    "warmup_samples",
    "threads",
    "H_MAX_SAMPLES",
    "STEP_TOL_PER_RTOL",
]

#: longest step in sample intervals: bounds the error of m̄ interpolated between step ends
H_MAX_SAMPLES = 4.0


#: per-step tolerance (2-norm of the embedded error) per rtol of m̄: the largest that keeps
#: m̄ and its frequency-weighted error within budget (docs/neel-numerics.md)
STEP_TOL_PER_RTOL = 0.25


def local_tolerance(rtol: float) -> float:
    """Embedded-error tolerance (2-norm of SH coefficients) for a target rtol of m̄."""
    return STEP_TOL_PER_RTOL * rtol


def step_store(nb, cap, steps, nsteps):
    """Step arrays handed to the kernels: a fresh store ``(nb, cap)`` with counts 0
    (adaptive run; ``cap`` steps per member), or copies of recorded ``steps``/``nsteps``
    to replay (``cap`` None)."""
    if cap is not None:
        return np.zeros((nb, cap)), np.zeros(nb, dtype=np.int64)
    return np.ascontiguousarray(steps), np.array(nsteps, dtype=np.int64, copy=True)


def spline_coefficients(times, fields, periodic):
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


@contextmanager
def threads(n_threads):
    """Run the block with ``n_threads`` numba threads (None: as configured)."""
    if n_threads is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


#: warm-up (fraction of a period) when τ_N(0) exceeds the period: enough for the intra-well
#: modes to decay; the inter-well populations are left to the shooting
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
