"""The scipy-BDF baseline of the dictionary benchmarks: one member's trajectory on the same
spherical-harmonic discretisation, solved by ``scipy.integrate.solve_ivp(method="BDF")``
with the analytic sparse Jacobian and by our integrator, each timed on one thread over the
same window and held against a tight solve of the same window."""

from __future__ import annotations

import time

import numpy as np

#: the window: this fraction of the sequence period (the BDF solve of a whole period takes
#: minutes); the time per period is extrapolated linearly
WINDOW_FRACTION = 1.0 / 20.0


def bdf_baseline(seq, offset_T, angle_deg, *, diameter_m, anisotropy_Jm3, degree, step_tolerance, bdf_rtol=1e-6):
    """Seconds per trajectory-period on one thread for scipy BDF and for our integrator.

    Both solve the same initial-value problem: the member (``offset_T`` (3,), easy axis at
    ``angle_deg`` in the xy-plane) from the discrete equilibrium at its first sample over
    :data:`WINDOW_FRACTION` of the period, at spherical-harmonic ``degree``; ours with the
    per-step ``step_tolerance`` of the batch it stands for, BDF with ``bdf_rtol`` and an
    absolute tolerance of ``step_tolerance``. Their relative m̄ errors against our
    integrator at degree + 4 and a 100x tighter step tolerance are returned too.
    """
    import numba
    from scipy.integrate import solve_ivp

    from mdf_neel.physics import ParticleParameters, mean_magnetization
    from mdf_neel.physics.neel.discretisation import NeelDiscretisation
    from mdf_neel.physics.neel.frame import rotation_to_z

    times = seq.times_s()
    period_samples = times.size
    window = max(8, int(round(period_samples * WINDOW_FRACTION)))
    t_win = times[:window]
    fields = seq.field_T(t_win) + np.asarray(offset_T, dtype=float)
    theta = np.deg2rad(angle_deg)
    axis = np.array([np.cos(theta), np.sin(theta), 0.0])
    rot = rotation_to_z(axis)
    drive = seq.drive_field

    def field_axis_frame(t):
        return rot @ (drive.field_T(np.atleast_1d(t))[0] + np.asarray(offset_T, dtype=float))

    disc = NeelDiscretisation.build(ParticleParameters(diameter_m, anisotropy_Jm3), degree)
    y0 = disc.equilibrium((rot @ fields[0])[None])[0]
    t0 = time.perf_counter()
    sol = solve_ivp(
        lambda t, y: disc.operator(field_axis_frame(t)) @ y,
        (t_win[0], t_win[-1]),
        y0,
        method="BDF",
        jac=lambda t, y: disc.operator(field_axis_frame(t)),
        t_eval=t_win,
        rtol=bdf_rtol,
        atol=step_tolerance,
    )
    bdf_s = time.perf_counter() - t0
    m_bdf = disc.moments(sol.y.T) @ rot
    kw = dict(
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        easy_axis=axis,
        steady_state=False,
        method="full",
        azimuthal_resolution=degree,
    )
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        mean_magnetization(t_win[:8], fields[:8], resolution=degree, step_tolerance=step_tolerance, **kw)  # compile
        t0 = time.perf_counter()
        m_ours = mean_magnetization(t_win, fields, resolution=degree, step_tolerance=step_tolerance, **kw)
        ours_s = time.perf_counter() - t0
        m_ref = mean_magnetization(
            t_win,
            fields,
            resolution=degree + 4,
            step_tolerance=step_tolerance / 100,
            **dict(kw, azimuthal_resolution=None),
        )
    finally:
        numba.set_num_threads(old)
    scale = np.linalg.norm(m_ref)
    per_period = period_samples / window
    return {
        "window_samples": int(window),
        "bdf_s_per_trajectory": bdf_s * per_period,
        "ours_s_per_trajectory": ours_s * per_period,
        "speedup": bdf_s / ours_s,
        "bdf_error": float(np.linalg.norm(m_bdf - m_ref) / scale),
        "ours_error": float(np.linalg.norm(m_ours - m_ref) / scale),
        "bdf_rtol": bdf_rtol,
        "step_tolerance": step_tolerance,
        "bdf_jacobians": int(sol.njev),
        "bdf_steps_proxy_nfev": int(sol.nfev),
    }
