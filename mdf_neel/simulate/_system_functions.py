"""Normalised system functions φ̂ (paper eq. 11): the one place that turns m̄(t) into rows.

Definition (paper eq. 11)
-------------------------
For an offset field ``B_ν`` the particle sees ``B(t) = B_DF(t) + B_ν``; ``u_ν(t) = m̄/m0``
is the periodic steady state of the chosen model on the V receiver samples
``t_n = n/(2·bandwidth)``. For receive channel ``c`` with homogeneous unit sensitivity
``p_c`` (``"x"`` → e_x, ``"y"`` → e_y, ``"z"`` → e_z)::

    φ̂[c, k, ν] = (2πi k / T) · (1/V) · Σ_n (p_c · u_ν(t_n)) e^{−2πi k n / V}
               = (2πi k / T) · rfft(p_c · u_ν)[k] / V                      [1/s]

i.e. the k-th Fourier coefficient of the exact (spectral) time derivative of the unit
moment, ``T = V/(2·bandwidth)`` the cycle. The easy axis is ``n(ϑ) = (cos ϑ, sin ϑ, 0)``
with ϑ in degrees from the x axis, counter-clockwise towards y. Where the paper leaves
the details open, the choices are these: the derivative is taken in Fourier space
(exact for a periodic m̄) with numpy's forward DFT sign, and each receive channel has a
homogeneous unit sensitivity along its axis.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from .._checks import check_bins, check_offsets
from ._neel_brown_rows import WARN_ABOVE_S

__all__ = [
    "CHANNEL_VECTORS",
    "ANGLE_CONVENTION",
    "ANGLE_CONVENTION_3D",
    "OFFSET_CONVENTION",
    "easy_axis",
    "channel_vectors",
    "derivative_spectrum",
    "system_functions",
    "angle_system_functions",
    "angles_task",
    "neel_resolution",
    "split_settings",
]

logger = logging.getLogger("mdf_neel.simulate")

#: Homogeneous unit sensitivity of each named receive channel.
CHANNEL_VECTORS = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
#: The easy-axis convention written into every emitted file.
ANGLE_CONVENTION = "n(theta) = (cos theta, sin theta, 0); theta in degrees from the x axis towards y"
#: The convention of an easy axis out of the xy-plane (polar angle from +z; 90 deg is in-plane).
ANGLE_CONVENTION_3D = (
    "n(theta, polar) = (sin polar cos theta, sin polar sin theta, cos polar); theta in degrees from the "
    "x axis towards y, polar in degrees from the z axis (90: the xy-plane)"
)
#: How offsets enter the simulation.
OFFSET_CONVENTION = "the particle at the centre sees B(t) = B_drive(t) + offset_fields_T[o] (mu0*H in tesla)"


def easy_axis(angle_deg: float, polar_deg: float = 90.0) -> np.ndarray:
    """Easy-axis unit vector for the in-plane angle ϑ and the polar angle from +z.

    Parameters
    ----------
    angle_deg : float
        Azimuth ϑ [deg] from the x axis towards y.
    polar_deg : float
        Polar angle [deg] from the z axis; 90 (default) keeps the axis in the xy-plane,
        ``n(ϑ) = (cos ϑ, sin ϑ, 0)`` exactly.

    Returns
    -------
    numpy.ndarray, shape (3,)
        ``(sin p cos ϑ, sin p sin ϑ, cos p)``.

    Examples
    --------
    >>> easy_axis(90.0).round(12).tolist()
    [0.0, 1.0, 0.0]
    >>> easy_axis(0.0, polar_deg=0.0).tolist()
    [0.0, 0.0, 1.0]
    """
    a = math.radians(float(angle_deg))
    p = float(polar_deg)
    if not (math.isfinite(p) and 0.0 <= p <= 180.0):
        raise ValueError(f"easy_axis_polar_deg must be in [0, 180] degrees, got {polar_deg!r}")
    if p == 90.0:  # exactly in-plane (cos 90° is not exactly 0 in floating point)
        return np.array([math.cos(a), math.sin(a), 0.0])
    if p in (0.0, 180.0):
        return np.array([0.0, 0.0, 1.0 if p == 0.0 else -1.0])
    t = math.radians(p)
    return np.array([math.sin(t) * math.cos(a), math.sin(t) * math.sin(a), math.cos(t)])


def channel_vectors(channels) -> np.ndarray:
    """Unit sensitivity vectors (C, 3) for channel names such as ``("x", "y")``."""
    if isinstance(channels, str):
        channels = tuple(channels)
    channels = tuple(channels)
    if not channels:
        raise ValueError("channels must name at least one receive channel ('x', 'y' or 'z')")
    bad = [c for c in channels if c not in CHANNEL_VECTORS]
    if bad:
        raise ValueError(f"unknown receive channel(s) {bad}; expected names from {tuple(CHANNEL_VECTORS)}")
    return np.array([CHANNEL_VECTORS[c] for c in channels])


def _cycle_s(sequence) -> float:
    """Receiver cycle V/(2·bandwidth), checked against the drive-field cycle."""
    rx = sequence.receiver
    period = rx.num_sampling_points * rx.sampling_interval_s
    cycle = sequence.drive_field.cycle_s
    if not math.isclose(period, cycle, rel_tol=1e-9):
        raise ValueError(
            f"the receiver samples V = {rx.num_sampling_points} points at {2 * rx.bandwidth_Hz:g} Hz "
            f"({period:.9g} s) but the drive-field cycle is {cycle:.9g} s; a periodic simulation "
            "needs V = 2·bandwidth·cycle"
        )
    if sequence.drive_field.num_periods != 1:
        raise ValueError(
            f"the drive field has {sequence.drive_field.num_periods} periods (patches) per frame; "
            "simulation supports single-patch sequences only"
        )
    return period


def derivative_spectrum(signal, cycle_s: float, frequencies=None) -> np.ndarray:
    """Fourier coefficients of the exact time derivative of a periodic signal.

    Parameters
    ----------
    signal : array_like, shape (..., V)
        One period sampled uniformly (real).
    cycle_s : float
        Period T [s].
    frequencies : array_like of int, shape (n_f,), optional
        0-based rfft bins to return (default: all V//2+1).

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_f)
        ``(2πi k / T) · rfft(signal)[k] / V`` (signal unit per second).
    """
    x = np.asarray(signal, dtype=np.float64)
    V = x.shape[-1]
    spec = np.fft.rfft(x, axis=-1)
    k = np.arange(V // 2 + 1)
    if frequencies is not None:
        k = np.asarray(frequencies, dtype=np.int64)
        spec = spec[..., k]
    return spec * (2j * np.pi * k / (float(cycle_s) * V))


def system_functions(
    sequence,
    offsets_T,
    *,
    angle_deg=0.0,
    diameter_m,
    anisotropy_Jm3=0.0,
    model="neel",
    frequencies=None,
    channels=("x", "y"),
    easy_axis_polar_deg=90.0,
    batch_size=None,
    callback=None,
    return_info=False,
    solver=None,
    physics=None,
    **particle,
):
    """Normalised system functions φ̂ (paper eq. 11) of one particle type at all offsets.

    Parameters
    ----------
    sequence : mdf_neel.sequence.Sequence
        Drive field (single patch) and receiver; ``V = 2·bandwidth·cycle`` is required.
    offsets_T : array_like, shape (O, 3)
        Static offset fields µ0·H [T], added to the drive field (hybrid calibration).
    angle_deg : float
        Easy-axis angle ϑ [deg], ``n(ϑ) = (cos ϑ, sin ϑ, 0)``.
    easy_axis_polar_deg : float
        Polar angle of the easy axis from +z [deg] (:func:`easy_axis`); 90 (default)
        keeps it in the xy-plane.
    diameter_m : float
        Core diameter D [m].
    anisotropy_Jm3 : float
        Uniaxial anisotropy K [J/m³].
    model : {"neel", "langevin", "anisotropic-equilibrium", "brown", "neel-brown"}
        Passed to :func:`mdf_neel.physics.mean_magnetization`. ``"neel"``, ``"brown"`` and
        ``"neel-brown"`` are held to the row contract; ``"neel-brown"`` solves each distinct
        field once whatever the angle (the axis turns with the body) and logs its expected
        cost first (:mod:`mdf_neel.simulate._neel_brown_rows`).
    frequencies : array_like of int, shape (n_f,), optional
        0-based rfft bins to keep (default: all ``V//2 + 1``).
    channels : sequence of {"x", "y", "z"}
        Receive channels (homogeneous unit sensitivity each).
    batch_size : int, optional
        Offsets per physics call (default: all in one call; fewer bounds memory and
        gives ``callback`` finer steps).
    callback : callable, optional
        Called as ``callback(n)`` after each batch of ``n`` offsets.
    return_info : bool
        Also return the physics' info dict (resolution, solver statistics, and for the
        Néel model ``info["contract"]``, the verified row accuracy) of the last batch.
    solver : SolverSettings or mapping, optional
        Numerical settings (:class:`mdf_neel.simulate.accuracy.SolverSettings`); the
        default holds the row-accuracy contract ``rtol = 1e-3``.
    physics : PhysicsParameters or mapping, optional
        The physics besides D and K (:class:`mdf_neel.physics.PhysicsParameters`:
        α, Ms, T, γ); default: its defaults.
    **particle
        ``alpha``, ``saturation_magnetization_Am``, ``temperature_K``, ``gamma`` override
        the fields of ``physics``; the solver keywords ``rtol`` (the row contract),
        ``method``, ``resolution``, ``step_tolerance`` and ``n_threads`` override those
        of ``solver``.

    Returns
    -------
    phi : numpy.ndarray, complex128, shape (C, n_f, O)
        φ̂ in 1/s (channels x frequencies x offsets).
    info : dict
        Only with ``return_info=True``.

    Examples
    --------
    >>> from mdf_neel.simulate import preset
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> phi = system_functions(seq, grid.offsets_T, angle_deg=45.0, diameter_m=20e-9, anisotropy_Jm3=1000.0,
    ...                        model="anisotropic-equilibrium", frequencies=[16, 17, 33])
    >>> phi.shape  # (channels, frequencies, offsets)
    (2, 3, 9)
    """
    period = _cycle_s(sequence)
    off = check_offsets(offsets_T)
    freqs = check_bins(frequencies, sequence.receiver.num_frequencies)
    p = channel_vectors(channels)
    particle, settings = split_settings(dict(particle, physics=physics), solver)
    times = sequence.times_s()
    drive = sequence.field_T(times)  # (V, 3)
    O = off.shape[0]
    # one sphere resolution for every offset, so that results do not depend on batching
    degree = _degree(model, settings, sequence, off, diameter_m, anisotropy_Jm3, particle)
    step = O if batch_size is None else max(1, int(batch_size))
    n_f = sequence.receiver.num_frequencies if freqs is None else freqs.size
    phi = np.empty((p.shape[0], n_f, O), dtype=np.complex128)
    info = {}
    for start in range(0, O, step):
        stop = min(O, start + step)
        fields = drive[np.newaxis, :, :] + off[start:stop, np.newaxis, :]  # (B, V, 3)
        axes = np.broadcast_to(easy_axis(angle_deg, easy_axis_polar_deg), (stop - start, 3))
        rows, info = _solve_rows(
            times,
            fields,
            axes,
            np.zeros(stop - start, dtype=np.int64),
            p,
            period,
            freqs,
            model=model,
            diameter_m=diameter_m,
            anisotropy_Jm3=anisotropy_Jm3,
            particle=particle,
            settings=settings,
            degree=degree,
        )
        phi[:, :, start:stop] = rows
        if callback is not None:
            callback(stop - start)
    if return_info:
        return phi, info
    return phi


def angle_system_functions(
    sequence,
    offsets_T,
    *,
    angles_deg,
    diameter_m,
    anisotropy_Jm3=0.0,
    model="neel",
    frequencies=None,
    channels=("x", "y"),
    easy_axis_polar_deg=90.0,
    return_info=False,
    solver=None,
    physics=None,
    **particle,
):
    """φ̂ of one particle type for several easy-axis angles at all offsets, in ONE physics call.

    All angles × offsets form one batch with one easy axis per member: for the Néel model
    they share the operator family of the easy-axis frame and hence one reduced basis
    (``method="auto"`` picks it for large batches; see ``docs/physics.md``). Each result
    equals :func:`system_functions` of that angle within the physics' verified tolerance
    (exactly for the equilibrium models and ``method="full"``).

    Parameters
    ----------
    sequence, offsets_T, diameter_m, anisotropy_Jm3, model, frequencies, channels, solver, physics, **particle
        As in :func:`system_functions`.
    angles_deg : array_like, shape (A,)
        Easy-axis angles ϑ [deg], ``n(ϑ) = (cos ϑ, sin ϑ, 0)``.
    easy_axis_polar_deg : float
        Polar angle from +z [deg] shared by all angles (:func:`easy_axis`; default 90,
        in-plane).
    return_info : bool
        Also return the physics' info dict (for the Néel model: resolution, reduced-basis
        dimension, full solves and measured verification error).

    Returns
    -------
    phi : numpy.ndarray, complex128, shape (A, C, n_f, O)
        φ̂ in 1/s (angles x channels x frequencies x offsets).
    info : dict
        Only with ``return_info=True``.
    """
    period = _cycle_s(sequence)
    off = check_offsets(offsets_T)
    freqs = check_bins(frequencies, sequence.receiver.num_frequencies)
    p = channel_vectors(channels)
    particle, settings = split_settings(dict(particle, physics=physics), solver)
    angles = np.atleast_1d(np.asarray(angles_deg, dtype=np.float64))
    if angles.ndim != 1 or angles.size == 0 or not np.all(np.isfinite(angles)):
        raise ValueError(f"angles_deg must be a non-empty 1-D sequence of finite angles, got {angles_deg!r}")
    times = sequence.times_s()
    drive = sequence.field_T(times)  # (V, 3)
    A, O = angles.size, off.shape[0]
    degree = _degree(model, settings, sequence, off, diameter_m, anisotropy_Jm3, particle)
    fields = np.broadcast_to(
        drive[np.newaxis, np.newaxis] + off[np.newaxis, :, np.newaxis, :], (A, O) + drive.shape
    ).reshape(A * O, *drive.shape)
    axes = np.repeat(np.stack([easy_axis(a, easy_axis_polar_deg) for a in angles]), O, axis=0)
    rows, info = _solve_rows(
        times,
        fields,
        axes,
        np.repeat(np.arange(A), O),
        p,
        period,
        freqs,
        model=model,
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        particle=particle,
        settings=settings,
        degree=degree,
    )  # (C, n_f, A*O)
    phi = np.ascontiguousarray(np.moveaxis(rows.reshape(p.shape[0], -1, A, O), 2, 0))
    if return_info:
        return phi, info
    return phi


SOLVER_KEYS = ("rtol", "method", "resolution", "step_tolerance", "verify", "n_threads")


def split_settings(particle: dict, solver=None):
    """``(physics keywords, SolverSettings)`` from keyword arguments plus ``solver``.

    ``particle`` may hold ``physics`` (a :class:`~mdf_neel.physics.PhysicsParameters` or a
    mapping), physics keywords that override its fields, and the solver keywords. The
    physics keywords returned are always complete (every field of the typed object), so
    provenance and cache fingerprints do not depend on which values were passed
    explicitly. An unknown keyword raises ``TypeError`` naming it.
    """
    from ..physics import PhysicsParameters
    from .accuracy import SolverSettings

    rest = dict(particle)
    physics = rest.pop("physics", None)
    solver_kw = {k: rest.pop(k, None) for k in SOLVER_KEYS}
    return PhysicsParameters.coerce(physics, **rest).keywords(), SolverSettings.coerce(solver, **solver_kw)


#: models whose rows are solved under the verified row contract (mdf_neel.simulate.accuracy)
CONTRACT_MODELS = ("neel", "brown", "neel-brown")


def _degree(model, settings, sequence, off, diameter_m, anisotropy_Jm3, particle):
    if model not in CONTRACT_MODELS:
        return None
    if model == "brown":  # Brownian rotation has no barrier: σ = 0 sets the degree
        anisotropy_Jm3 = 0.0
    if settings.resolution is not None:
        return settings.resolution
    return neel_resolution(
        sequence, off, diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3, rtol=settings.mean_rtol, **particle
    )


def _solve_rows(
    times, fields, axes, groups, p, period, freqs, *, model, diameter_m, anisotropy_Jm3, particle, settings, degree
):
    """Rows (C, n_f, B) of a batch of members (fields (B, V, 3), one easy axis each):
    the Néel model through the verified row contract, the equilibrium models directly."""
    from .. import physics  # imported lazily: worker processes set thread limits first
    from .accuracy import verified_neel_magnetization

    if model == "neel-brown":
        return _neel_brown_rows(
            times, fields, axes, groups, p, period, freqs, diameter_m, anisotropy_Jm3, particle, settings, degree
        )
    # Brownian rotation is the same solver (K does not enter it): the same row contract
    brown = {"model": "brown", "anisotropy_Jm3": 0.0} if model == "brown" else {}

    def rows_of(m):
        projected = np.einsum("cd,btd->cbt", p, m)  # (C, b, V)
        return np.swapaxes(derivative_spectrum(projected, period, freqs), 1, 2)

    if model in physics.FOKKER_PLANCK_MODELS:
        m, info = verified_neel_magnetization(
            times,
            fields,
            np.ascontiguousarray(axes),
            rows_of,
            groups,
            particle=dict(particle, diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3) | brown,
            solver=settings,
            resolution=degree,
            # the series' order is chosen for the highest row, not for m̄ up to Nyquist
            highest_frequency_Hz=max(int(freqs.max()) if freqs is not None else times.size // 2, 1) / period,
        )
    else:
        m, info = physics.mean_magnetization(
            times,
            fields,
            diameter_m=diameter_m,
            anisotropy_Jm3=anisotropy_Jm3,
            easy_axis=axes,
            model=model,
            steady_state=True,
            return_info=True,
            **particle,
        )
    return rows_of(m), info


def _neel_brown_rows(
    times, fields, axes, groups, p, period, freqs, diameter_m, anisotropy_Jm3, particle, settings, degree
):
    """Rows of ``model="neel-brown"``: each distinct field solved once under the row contract (the
    easy axis turns with the body, so the angle does not enter), its cost announced first."""
    from . import accuracy
    from ._neel_brown_rows import estimated_seconds, orientation_degrees, unique_members

    particle = dict(particle, diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3, model="neel-brown")
    first, inverse = unique_members(fields)
    todo = np.ascontiguousarray(fields[first])
    orientation = orientation_degrees(particle, todo, settings.mean_rtol, degree)
    tol = settings.step_tolerance or accuracy.STEP_TOL_PER_RTOL * settings.rtol
    checked = accuracy.VERIFY_MEMBERS if settings.verify and settings.step_tolerance is None else 0
    cost = estimated_seconds(times, todo, particle, degree, orientation, tol, checked, accuracy.REFERENCE_EXTRA_DEGREE)
    logger.log(
        logging.WARNING if cost["seconds"] > WARN_ABOVE_S else logging.INFO,
        "neel-brown: %d distinct trajectories of %d members at degrees (%d, %d), %d unknowns (reference %d); "
        "about %d steps per period at %.3g s (reference %.3g s), a sparse LU each: expected about %s "
        "on this machine",
        todo.shape[0],
        fields.shape[0],
        degree,
        orientation(degree),
        cost["unknowns"],
        cost["reference_unknowns"],
        cost["steps"],
        cost["step_s"],
        cost["reference_step_s"],
        _duration(cost["seconds"]),
    )

    def rows_of(m):
        projected = np.einsum("cd,btd->cbt", p, m)  # (C, b, V)
        return np.swapaxes(derivative_spectrum(projected, period, freqs), 1, 2)

    m, info = accuracy.verified_neel_magnetization(
        times,
        todo,
        np.ascontiguousarray(axes[first]),
        rows_of,
        np.asarray(groups)[first],
        particle=particle,
        solver=settings,
        resolution=degree,
    )
    info["estimated_s"] = cost["seconds"]
    return rows_of(m[inverse]), info


def _duration(seconds: float) -> str:
    """``'40 s'``, ``'12 min'`` or ``'3.5 h'``."""
    if seconds < 120.0:
        return f"{seconds:.0f} s"
    if seconds < 7200.0:
        return f"{seconds / 60.0:.0f} min"
    return f"{seconds / 3600.0:.1f} h"


def angles_task(payload):
    """Worker entry point: :func:`angle_system_functions` of one task, returning ``(phi, info)``
    with the bulky per-member arrays of ``info`` left out (picklable, small)."""
    phi, info = angle_system_functions(payload["sequence"], payload["offsets_T"], return_info=True, **payload["kwargs"])
    return phi, {k: v for k, v in info.items() if not isinstance(v, np.ndarray) or v.size <= 16}


def neel_resolution(sequence, offsets_T, *, diameter_m, anisotropy_Jm3=0.0, rtol=1e-4, **particle) -> int:
    """The spherical-harmonic degree the Néel solver would choose for all offsets together.

    :func:`mdf_neel.physics.choose_resolution` for the largest reduced field over the
    drive field plus every offset. Passing it explicitly to every batch makes the result
    of an offset independent of the batch it is computed in.
    """
    from ..physics import ParticleParameters, choose_resolution

    keys = ("alpha", "saturation_magnetization_Am", "temperature_K", "gamma")
    p = ParticleParameters(
        diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3, **{k: particle[k] for k in keys if k in particle}
    )
    drive = sequence.field_T(sequence.times_s())
    off = check_offsets(offsets_T)
    bmax = max(
        float(np.linalg.norm(drive[np.newaxis] + o[:, np.newaxis, :], axis=-1).max())
        for o in np.array_split(off, max(1, off.shape[0] // 256))
    )
    return choose_resolution(p.xi_per_tesla * bmax, p.sigma, rtol)


def resolution_of(info) -> int:
    """The sphere resolution in a physics info dict as an int (-1: none/unknown)."""
    try:
        return int(info.get("resolution", -1))
    except (TypeError, ValueError):
        return -1
