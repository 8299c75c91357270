"""Method dispatch of the Néel solver: the easy-axis frame, the degree, the symmetry classes
of a steady-state batch, the choice between the full, reduced and slow-mode methods, and
the mapping of the results back to every member in the lab frame."""

from __future__ import annotations

import logging
import time

import numpy as np

from ..particles import ParticleParameters
from .discretisation import NeelDiscretisation
from .frame import SYMMETRY_ATOL, planar, rotations
from .full import run, steady_state_solver
from .integration import local_tolerance, spline_coefficients, threads
from .lapack import single_threaded_blas
from .quasi_static import MAX_EPS as QUASI_STATIC_MAX_EPS
from .quasi_static import MAX_ORDER as QUASI_STATIC_MAX_ORDER
from .quasi_static import MAX_TABLE_BYTES as QUASI_STATIC_MAX_TABLE_BYTES
from .quasi_static import choose_order, nyquist_frequency_Hz, solve_quasi_static, table_bytes
from .reduced import solve_reduced
from .resolution import choose_resolution
from .slow_mode import solve_slow_mode_verified
from .symmetry import expand_members, symmetry_classes
from .truncation import initial_azimuthal_order, solve_truncated

__all__ = ["solve_batch", "REDUCED_MIN_BATCH", "SLOW_MODE_MIN_RTOL"]

logger = logging.getLogger("mdf_neel.physics")

#: smallest steady-state batch for which ``method="auto"`` uses the reduced basis or the
#: slow-mode model
REDUCED_MIN_BATCH = 48
#: smallest rtol for which ``method="auto"`` uses the slow-mode model (its own error is up to
#: 4.4e-4; docs/neel-numerics.md, "Slow-mode model")
SLOW_MODE_MIN_RTOL = 1e-3
#: ``info`` entries holding member indices (mapped from solved members to the batch)
MEMBER_INDEX_KEYS = ("rb_verification_members", "slow_mode_verification_members", "slow_mode_full_members")


def solve_batch(
    times,
    fields,
    particle: ParticleParameters,
    easy_axis,
    *,
    steady_state,
    initial,
    rtol,
    resolution,
    tol,
    n_threads,
    max_newton,
    method,
    symmetry,
    azimuthal_resolution,
    verify_model=True,
    highest_frequency_Hz=None,
):
    """Solve the Néel Fokker–Planck equation for a batch of field trajectories.

    Inputs are validated by the callers (:func:`mdf_neel.physics.mean_magnetization`,
    :func:`mdf_neel.physics.solve_neel`).

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
        :func:`initial_azimuthal_order`, verified and raised by :func:`.truncation.solve_truncated`).
    tol : float, optional
        Local (per step) error tolerance on the SH coefficient vector (default from rtol).
    symmetry : bool
        Steady states only: solve one member per class of exactly symmetric fields
        (:mod:`.symmetry`) and map the others.
    verify_model : bool
        The slow-mode model only: check the batch against full solves of a few members
        (:func:`.slow_mode.solve_slow_mode_verified`). False leaves the check to the caller.
    highest_frequency_Hz : float, optional
        The quasi-static series only: the highest frequency of m̄ the caller uses [Hz];
        the series' applicability and order are chosen for it (None: the Nyquist frequency).

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
        :func:`.reduced.solve_reduced` (member indices into the batch);
        for the slow-mode method the ``slow_mode_*`` entries of
        :func:`.slow_mode.solve_slow_mode_verified` (``steps``,
        ``periods`` and ``lu_factorisations`` are then non-zero only for the members
        solved in full).
    """
    t0 = time.perf_counter()
    single = fields.ndim == 2
    fb = fields[None] if single else fields
    nb, T, _ = fb.shape
    R = rotations(easy_axis, nb)
    fr = np.ascontiguousarray(np.einsum("bij,btj->bti", R, fb))  # fields in the axis frame
    bmax = float(np.max(np.linalg.norm(fb, axis=-1), initial=0.0))
    xi_max = particle.xi_per_tesla * bmax
    N = int(resolution) if resolution is not None else choose_resolution(xi_max, particle.sigma, rtol)
    tol_c = float(tol) if tol is not None else local_tolerance(rtol)
    dt = (times[-1] - times[0]) / (T - 1)
    auto = method == "auto"
    in_plane = planar(fr, bmax)
    if auto:
        if steady_state and nb >= REDUCED_MIN_BATCH:
            method = "slow-mode" if (in_plane and rtol >= SLOW_MODE_MIN_RTOL) else "reduced"
        else:
            method = "full"
    if method in ("reduced", "slow-mode", "quasi-static") and not steady_state:
        raise ValueError(f"method={method!r} needs steady_state=True")
    if method in ("slow-mode", "quasi-static") and not in_plane:
        raise ValueError(
            f"method={method!r} needs every member's field in one plane through "
            "its easy axis (as the paper's 2-D drive and offsets with an easy "
            "axis in the drive plane)"
        )
    # one solve per class of exactly symmetric members, for every steady-state method
    if steady_state and symmetry and nb > 1:
        reps, source, sym, shift = symmetry_classes(fr, atol=SYMMETRY_ATOL * max(bmax, 1e-30))
    else:
        reps, source = np.arange(nb), np.arange(nb)
        sym, shift = np.zeros(nb, dtype=np.int64), np.zeros(nb, dtype=np.int64)
    full_batch = nb
    if reps.size < nb:
        logger.info("Néel FP: %d of %d members are symmetric images (solved %d)", nb - reps.size, nb, reps.size)
        fr = np.ascontiguousarray(fr[reps])
        nb = reps.size
    slow_error = None
    if method == "quasi-static":
        mom, info = _solve_quasi_static(times, fr, particle, N, xi_max, tol_c, rtol, n_threads, highest_frequency_Hz)
    elif method == "slow-mode":
        mom, info = _solve_slow_mode(
            times, fr, particle, N, xi_max, dt, tol_c, rtol, max_newton, n_threads, verify_model
        )
        if auto and not info["slow_mode_accepted"]:
            slow_error = info["slow_mode_verification_error"]
            method = "reduced"
            logger.warning("Néel FP: slow-mode model rejected; solving the batch with the %s method", method)
    if method not in ("slow-mode", "quasi-static"):
        mom, info = _solve_galerkin(
            times,
            fr,
            particle,
            N,
            xi_max,
            dt,
            tol_c,
            rtol,
            max_newton,
            n_threads,
            method,
            steady_state,
            initial,
            azimuthal_resolution,
            cost_guard=auto,
        )
        if slow_error is not None:  # auto tried the slow-mode model first
            info["slow_mode_verification_error"] = slow_error
            info["slow_mode_accepted"] = False
    info["solved_members"] = int(nb)
    info["symmetry_source"] = reps[source]
    increments = info.pop("quasi_static_increments", None)  # (nb, T, 2, 3), axis frame
    if nb < full_batch:
        mom = expand_members(mom, source, sym, shift)
        if increments is not None:
            increments = np.stack([expand_members(increments[:, :, k], source, sym, shift) for k in (0, 1)], axis=2)
        for key, val in list(info.items()):
            if key in MEMBER_INDEX_KEYS:  # indices into the solved members: to the batch
                mapped = reps[np.asarray(val, dtype=np.int64)]
                info[key] = mapped.tolist() if isinstance(val, list) else mapped
            elif isinstance(val, np.ndarray) and val.ndim >= 1 and val.shape[0] == nb and key != "symmetry_source":
                info[key] = val[source]
    # back to the lab frame: lab = R^T v, i.e. v @ R for row vectors
    m = np.einsum("bti,bij->btj", mom, R)
    if increments is not None:
        info["quasi_static_increments"] = np.einsum("btki,bij->btkj", increments, R)
    info["wall_s"] = time.perf_counter() - t0
    return (m[0] if single else m), info


def _solve_galerkin(
    times,
    fr,
    particle,
    N,
    xi_max,
    dt,
    tol_c,
    rtol,
    max_newton,
    n_threads,
    method,
    steady_state,
    initial,
    azimuthal_resolution,
    cost_guard,
):
    """The batch (axis-frame fields ``fr`` (nb, P, 3)) with the spherical-harmonic model at
    degree N: ``method`` "full" (periodic steady states or, without ``steady_state``,
    initial-value runs from ``initial``) or "reduced"; the azimuthal order is
    ``azimuthal_resolution`` or chosen and verified (:func:`.truncation.solve_truncated`). Returns the
    axis-frame moments (nb, P, 3) and the info dict of :func:`solve_batch`."""
    nb, T, _ = fr.shape
    if method == "reduced" and nb < 2:
        method = "full"
    # LAPACK/BLAS called inside numba's threads (banded and dense LU, gemv): no BLAS threads
    with threads(n_threads), single_threaded_blas():
        if azimuthal_resolution is not None:
            M, escalate = max(1, min(int(azimuthal_resolution), N)), False
        else:
            M, escalate = initial_azimuthal_order(particle, N, fr, rtol), True
        disc = NeelDiscretisation.build(particle, N, M)
        logger.info(
            "Néel FP: D=%.3g m K=%.4g J/m3 sigma=%.3g xi_max=%.3g -> degree N=%d, "
            "|m| <= %d (%d coefficients, band %d/%d), step tolerance %.2e, batch %d, "
            "method %s",
            particle.diameter_m,
            particle.anisotropy_Jm3,
            particle.sigma,
            xi_max,
            N,
            M,
            disc.n,
            disc.kl,
            disc.ku,
            tol_c,
            nb,
            method,
        )
        info = {
            "resolution": N,
            "n_coefficients": disc.n,
            "step_tolerance": tol_c,
            "bandwidth": (disc.kl, disc.ku),
            "rtol": rtol,
            "xi_max": xi_max,
            "method": method,
        }
        if method == "reduced":

            def solve(d, idx, tail):
                m_, rinfo_ = solve_reduced(
                    d, particle, times, fr[idx], dt, tol_c, rtol, max_newton, cost_guard=cost_guard
                )
                tails = rinfo_["rb_full_tails"]
                tail[:] = -1.0  # members without a full solve: not verifiable as such
                for k, v in tails.items():
                    tail[k] = v
                rinfo_["m"] = m_
                return rinfo_

        if steady_state:
            solve_full = steady_state_solver(particle, times, fr, dt, tol_c, rtol, max_newton)
        else:
            coef = spline_coefficients(times, fr, periodic=False)

            def solve_full(d, idx, tail):
                y0 = d.uniform(idx.size) if initial == "uniform" else d.equilibrium(fr[idx, 0, :])
                _, mom_, _, ns_, nlu_ = run(
                    d, y0, coef[idx], times[0], times[-1], dt, 0.0, times[0], T, tol_c, tail=tail
                )
                return {"m": mom_, "periods": np.full(idx.size, (T - 1) / T), "steps": ns_, "lu_factorisations": nlu_}

        res = solve_truncated(
            solve if method == "reduced" else solve_full,
            lambda d, idx: solve_full(d, idx, np.zeros(idx.size)),
            disc,
            particle,
            N,
            escalate,
            rtol,
            nb,
        )
    mom = res.pop("m")
    info.update(res)
    return mom, info


def _solve_quasi_static(times, fr, particle, N, xi_max, tol_c, rtol, n_threads, frequency_Hz=None):
    """The batch with the quasi-static series (:mod:`.quasi_static`) at degree N (all
    azimuthal orders); the order from the zero-field relaxation time and the highest
    frequency used (``frequency_Hz``; None: the Nyquist frequency). Returns the axis-frame
    moments (nb, P, 3) and an info dict like :func:`solve_batch`'s."""
    nb = fr.shape[0]
    with threads(n_threads), single_threaded_blas():
        tau1 = particle.neel_time_s()  # the slowest relaxation, at zero field
        frequency = nyquist_frequency_Hz(times) if frequency_Hz is None else float(frequency_Hz)
        order = choose_order(tau1, frequency, rtol)
        if order is None:
            eps = 2 * np.pi * frequency * tau1
            reason = (
                f"the series needs <= {QUASI_STATIC_MAX_EPS}"
                if eps > QUASI_STATIC_MAX_EPS
                else f"its highest order {QUASI_STATIC_MAX_ORDER} does not reach rtol={rtol:g}"
            )
            which = "the Nyquist frequency" if frequency_Hz is None else "highest_frequency_Hz ="
            raise ValueError(
                f"method='quasi-static' does not apply: the slowest relaxation time {tau1:.3g} s "
                f"at {which} {frequency:.4g} Hz gives 2*pi*f*tau = {eps:.3g} ({reason})"
            )
        size = table_bytes(particle, xi_max / particle.xi_per_tesla, order)
        if size > QUASI_STATIC_MAX_TABLE_BYTES:
            raise ValueError(
                f"method='quasi-static' does not apply: its table at order {order} for fields up to "
                f"{1e3 * xi_max / particle.xi_per_tesla:.3g} mT would take {size / 2**20:.0f} MiB "
                f"(its stored quadrant; at most {QUASI_STATIC_MAX_TABLE_BYTES / 2**20:.0f} MiB)"
            )
        disc = NeelDiscretisation.build(particle, N)
        logger.info(
            "Néel FP: D=%.3g m K=%.4g J/m3 sigma=%.3g -> degree N=%d (%d coefficients), batch %d, "
            "method quasi-static, tau1 %.3g s, order %d",
            particle.diameter_m,
            particle.anisotropy_Jm3,
            particle.sigma,
            N,
            disc.n,
            nb,
            tau1,
            order,
        )
        mom, info = solve_quasi_static(times, fr, disc, particle, order)
    info.update(
        _table_method_info("quasi-static", disc, nb, rtol, tol_c, xi_max),
        quasi_static_relaxation_time_s=tau1,
        quasi_static_frequency_Hz=frequency,
    )
    return mom, info


def _table_method_info(method, disc, nb, rtol, tol_c, xi_max) -> dict:
    """The info entries of a method that solves from tables over the field plane at all
    azimuthal orders of ``disc`` (slow-mode model, quasi-static series)."""
    return dict(
        method=method,
        resolution=disc.N,
        n_coefficients=disc.n,
        bandwidth=(disc.kl, disc.ku),
        rtol=rtol,
        step_tolerance=tol_c,
        xi_max=xi_max,
        azimuthal_resolution=np.full(nb, disc.N),
        azimuthal_tail=np.zeros(nb),
    )


def _solve_slow_mode(times, fr, particle, N, xi_max, dt, tol_c, rtol, max_newton, n_threads, verify_model=True):
    """The batch with the slow-mode model (:mod:`.slow_mode`) at degree N
    (all azimuthal orders), verified against full solves of a few members (the full
    method: azimuthal truncation, itself verified); returns the axis-frame moments
    (nb, P, 3) and an info dict like :func:`solve_batch`'s."""
    nb = fr.shape[0]
    with threads(n_threads), single_threaded_blas():
        disc = NeelDiscretisation.build(particle, N)
        logger.info(
            "Néel FP: D=%.3g m K=%.4g J/m3 sigma=%.3g -> degree N=%d (%d coefficients), batch %d, method slow-mode",
            particle.diameter_m,
            particle.anisotropy_Jm3,
            particle.sigma,
            N,
            disc.n,
            nb,
        )
        steady = steady_state_solver(particle, times, fr, dt, tol_c, rtol, max_newton)

        def full_solve(idx):
            M = initial_azimuthal_order(particle, N, fr[idx], rtol)
            d = disc if M >= N else NeelDiscretisation.build(particle, N, M)

            def solve(d_, members, tail):
                return steady(d_, idx[members], tail)

            return solve_truncated(
                solve,
                lambda d_, members: solve(d_, members, np.zeros(members.size)),
                d,
                particle,
                N,
                True,
                rtol,
                idx.size,
            )

        mom, info = solve_slow_mode_verified(times, fr, disc, particle, full_solve, rtol, verify=verify_model)
    full = info.pop("full")
    pick = info["slow_mode_full_members"]
    for key in ("steady_state_residual", "periods", "steps", "lu_factorisations"):
        kind = (float if key == "steady_state_residual" else np.int64) if full is None else np.asarray(full[key]).dtype
        arr = np.zeros(nb, dtype=kind)
        if full is not None:
            arr[pick] = full[key]
        info[key] = arr
    info.update(
        _table_method_info("slow-mode", disc, nb, rtol, tol_c, xi_max),
        azimuthal_verification_error=None if full is None else full["azimuthal_verification_error"],
    )
    if full is not None:
        info["azimuthal_resolution"][pick] = full["azimuthal_resolution"]
    return mom, info
