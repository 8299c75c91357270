"""Model-based system matrices: φ̂ → a :class:`~mdf_neel.systemmatrix.SystemMatrix`.

Units of ``SystemMatrix.data`` (documented in ``docs/simulate.md``)
------------------------------------------------------------------
``unit="V/mol"`` (default): the Fourier coefficient of the voltage induced by one mole
of particles in a receive coil of homogeneous sensitivity 1 m⁻¹ along the channel
axis (eq. 3 without the analogue filter)::

    s[c, k, ν] = −µ0 · N_A · m0 · φ̂[c, k, ν]        [V/mol],  m0 = Ms·π D³/6

``unit="1/s"``: φ̂ itself (the normalised system function of paper eq. 11).
An optional transfer function multiplies the rows (see :func:`system_matrix`).

SNR of noise-free simulations
-----------------------------
``snr[c, k] = max_ν |s[c, k, ν]| / (snr_floor · max_{c', k', ν} |s[c', k', ν]|)``:
the row's peak relative to an assumed noise floor at ``snr_floor`` (default 1e-4,
the physics' default relative accuracy) of the strongest entry. MPIReco's usual
thresholds 1.25–5 then keep every row whose peak is above about 1e-4..5e-4 of the
strongest one and drop rows at the numerical noise level. DC (no induced signal) and
the drive fundamentals (bins ``f_d·T``: a real receive chain blocks them and measured
data there are direct feed-through) get SNR 0; their data are stored unchanged.
"""

from __future__ import annotations

import logging
import math
import platform

import numpy as np

from ..physics import MU0
from ..sequence import Receiver
from ..systemmatrix import Experiment, Scanner, SystemMatrix, Tracer
from .sources import as_offset_grid
from ._system_functions import (
    ANGLE_CONVENTION,
    ANGLE_CONVENTION_3D,
    CHANNEL_VECTORS,
    OFFSET_CONVENTION,
    easy_axis,
    split_settings,
    system_functions,
)

__all__ = ["system_matrix", "assemble", "simulation_snr", "data_scale", "AVOGADRO", "UNITS", "SNR_FLOOR"]

logger = logging.getLogger("mdf_neel.simulate")

#: Avogadro constant [1/mol] (exact, SI 2019).
AVOGADRO = 6.02214076e23
#: Supported units of the simulated data.
UNITS = ("V/mol", "1/s")
#: Default relative noise floor of the SNR rule for noise-free data.
SNR_FLOOR = 1e-4

_PARAMETER_UNITS = {
    "hydrodynamic_diameter_m": "m",
    "viscosity_Pas": "Pa s",
    "diameter_m": "m",
    "anisotropy_Jm3": "J/m^3",
    "alpha": "1",
    "saturation_magnetization_Am": "A/m",
    "temperature_K": "K",
    "gamma": "rad/(s T)",
    "boltzmann_JK": "J/K",
    "easy_axis_angle_deg": "deg",
    "rtol": "1",
}


def data_scale(unit: str, diameter_m: float, saturation_magnetization_Am: float = 474e3) -> float:
    """Factor from φ̂ [1/s] to the stored data unit (see the module docstring)."""
    if unit == "1/s":
        return 1.0
    if unit == "V/mol":
        m0 = saturation_magnetization_Am * math.pi * float(diameter_m) ** 3 / 6.0
        return -MU0 * AVOGADRO * m0
    raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")


def simulation_snr(data, frequency_indices, drive_field=None, *, snr_floor=SNR_FLOOR) -> np.ndarray:
    """SNR rule for noise-free simulated rows (see the module docstring).

    Parameters
    ----------
    data : array_like, complex, shape (C, K, O)
    frequency_indices : array_like of int, shape (K,)
        0-based rfft bins of the rows.
    drive_field : DriveField, optional
        Its fundamentals (bins ``harmonics_per_cycle`` of the active channels) get SNR 0.
    snr_floor : float
        Noise floor relative to the strongest entry (> 0).

    Returns
    -------
    numpy.ndarray, float64, shape (C, K)
        Finite, >= 0.
    """
    if not (snr_floor > 0 and math.isfinite(snr_floor)):
        raise ValueError(f"snr_floor must be positive and finite, got {snr_floor!r}")
    peak = np.abs(np.asarray(data)).max(axis=-1) if np.asarray(data).shape[-1] else np.zeros(np.shape(data)[:2])
    top = float(peak.max()) if peak.size else 0.0
    snr = peak / (snr_floor * top) if top > 0 else np.zeros_like(peak, dtype=np.float64)
    k = np.asarray(frequency_indices, dtype=np.int64)
    silent = [0]
    if drive_field is not None:
        silent += [int(h) for h, a in zip(drive_field.harmonics_per_cycle, drive_field.active_channels) if a]
    snr[:, np.isin(k, silent)] = 0.0
    return np.nan_to_num(snr.astype(np.float64), nan=0.0, posinf=0.0)


def _transfer_function(transfer_function, receiver: Receiver, num_channels: int):
    """The TF on the full rfft grid, (C, K_full) complex, or None."""
    if transfer_function is None:
        return None
    kfull = receiver.num_frequencies
    if callable(transfer_function):
        tf = np.asarray(transfer_function(receiver.frequencies_Hz), dtype=np.complex128)
    else:
        tf = np.asarray(transfer_function, dtype=np.complex128)
    if tf.ndim == 1:
        tf = np.broadcast_to(tf, (num_channels, tf.shape[0]))
    if tf.shape != (num_channels, kfull):
        raise ValueError(f"transfer_function must have shape ({num_channels}, {kfull}) or ({kfull},), got {tf.shape}")
    if not np.all(np.isfinite(tf)):
        raise ValueError("transfer_function contains NaN or inf")
    return np.array(tf)


def _provenance(
    *,
    model,
    angle_deg,
    diameter_m,
    anisotropy_Jm3,
    particle,
    info,
    channels,
    unit,
    scale,
    snr_floor,
    transfer_function,
    easy_axis_polar_deg=90.0,
) -> dict:
    from .. import __version__

    params = dict(info.get("particle", {}))
    params.update({"diameter_m": float(diameter_m), "anisotropy_Jm3": float(anisotropy_Jm3)})
    for key, value in particle.items():
        if isinstance(value, (int, float, str, bool, np.number)):
            params.setdefault(key, value)
    solver = {
        k: v
        for k, v in info.items()
        if k not in ("particle", "model") and isinstance(v, (int, float, str, bool, np.number, tuple))
    }
    prov = {
        "generator": f"mdf_neel {__version__} (mdf_neel.simulate.system_matrix)",
        "mdf_neel_version": __version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "model": model,
        "calibration": "simulated hybrid calibration (positions emulated by offset fields), not a measurement",
        "easy_axis_angle_deg": float(angle_deg),
        "angle_convention": ANGLE_CONVENTION,
        "offset_convention": OFFSET_CONVENTION,
        "parameters": params,
        "units": {k: _PARAMETER_UNITS[k] for k in params if k in _PARAMETER_UNITS},
        "sphere_resolution": str(info.get("resolution", "not applicable (equilibrium model)")),
        "solver": {k: (np.asarray(v) if isinstance(v, tuple) else v) for k, v in solver.items()},
        "row_contract": {
            k: v for k, v in info.get("contract", {}).items() if isinstance(v, (int, float, str, bool, np.number))
        }
        or "not applicable (equilibrium model)",
        "channels": list(channels),
        "channel_sensitivity": np.array([CHANNEL_VECTORS[c] for c in channels]),
        "derivative": "exact in Fourier space: phi_k = (2 pi i k / T) rfft(p . m/m0)[k] / V",
        "data_unit": unit,
        "data_definition": ("-mu0 * N_A * m0 * phi (induced voltage of one mole of particles, coil sensitivity 1/m)")
        if unit == "V/mol"
        else "phi (paper eq. 11, 1/s)",
        "data_scale": float(scale),
        "snr_rule": (
            f"max_o |row| / ({snr_floor:g} * max |data|); DC and drive fundamentals 0 (noise-free simulation)"
        ),
        "transfer_function": (
            "none"
            if transfer_function is None
            else "multiplied into the data and stored; isTransferFunctionCorrected = 0"
        ),
    }
    if float(easy_axis_polar_deg) != 90.0:  # /calibration/_easyAxisAngle alone names only the azimuth
        prov.update(
            angle_convention=ANGLE_CONVENTION_3D,
            easy_axis_polar_deg=float(easy_axis_polar_deg),
            easy_axis=easy_axis(angle_deg, easy_axis_polar_deg),
        )
    return prov


def assemble(
    sequence,
    grid,
    phi,
    *,
    angle_deg,
    diameter_m,
    anisotropy_Jm3=0.0,
    model="neel",
    channels=("x", "y"),
    unit="V/mol",
    transfer_function=None,
    snr_floor=SNR_FLOOR,
    info=None,
    frequencies=None,
    provenance=None,
    physics=None,
    easy_axis_polar_deg=90.0,
    **particle,
) -> SystemMatrix:
    """Turn φ̂ of one particle type into a simulated :class:`SystemMatrix`.

    Parameters
    ----------
    sequence : Sequence
    grid : OffsetGrid or (O, 3) array or 4-tuple
        The offsets φ̂ was computed at, with their grid.
    phi : numpy.ndarray, complex, shape (C, n_f, O)
        From :func:`~mdf_neel.simulate.system_functions`.
    frequencies : array_like of int, optional
        Bins of ``phi``'s rows (default: the full rfft grid).
    info : dict, optional
        The physics' info dict (sphere resolution, solver statistics) for provenance.
    provenance : dict, optional
        Extra provenance entries (added to, and overriding, the generated ones).
    easy_axis_polar_deg : float
        Polar angle of the easy axis from +z [deg]; recorded in the provenance (with the
        3-D convention and the axis vector) when it is not 90 (in-plane).
    (other parameters as in :func:`system_matrix`)

    Returns
    -------
    SystemMatrix
    """
    grid = as_offset_grid(grid)
    channels = tuple(channels)
    C = len(channels)
    rx = sequence.receiver
    freqs = np.arange(rx.num_frequencies) if frequencies is None else np.asarray(frequencies, dtype=np.int64)
    if phi.shape != (C, freqs.size, grid.offsets_T.shape[0]):
        raise ValueError(f"phi must have shape ({C}, {freqs.size}, {grid.offsets_T.shape[0]}), got {phi.shape}")
    physics_kw, _ = split_settings(dict(particle, physics=physics))
    ms = physics_kw["saturation_magnetization_Am"]
    scale = data_scale(unit, diameter_m, ms)
    receiver = Receiver(
        bandwidth_Hz=rx.bandwidth_Hz,
        num_sampling_points=rx.num_sampling_points,
        num_channels=C,
        unit="V" if unit == "V/mol" else unit,
    )
    tf = _transfer_function(transfer_function, receiver, C)
    data = phi * scale
    if tf is not None:
        data = data * tf[:, freqs, np.newaxis]
        receiver.transfer_function = tf
    prov = _provenance(
        model=model,
        angle_deg=angle_deg,
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        particle=physics_kw,
        info=info or {},
        channels=channels,
        unit=unit,
        scale=scale,
        snr_floor=snr_floor,
        transfer_function=tf,
        easy_axis_polar_deg=easy_axis_polar_deg,
    )
    prov.update(provenance or {})
    d_nm = float(diameter_m) * 1e9
    return SystemMatrix(
        data=data,
        frequency_indices=freqs,
        drive_field=sequence.drive_field,
        receiver=receiver,
        grid_size=grid.size,
        field_of_view=grid.field_of_view_T,
        field_of_view_center=grid.center_T,
        offset_fields_T=grid.offsets_T,
        snr=simulation_snr(data, freqs, sequence.drive_field, snr_floor=snr_floor),
        method="hybrid",  # offset-field grid in tesla: MPIFiles reads fieldOfView as tesla only for "hybrid"
        field_of_view_unit="T",
        is_transfer_function_corrected=False,
        easy_axis_angle_deg=float(angle_deg),
        easy_axis_polar_deg=float(easy_axis_polar_deg),
        provenance=prov,
        tracer=Tracer(
            name=[f"simulated monodisperse particles, D = {d_nm:g} nm, K = {float(anisotropy_Jm3):g} J/m^3"],
            vendor=["n.a."],
            solute=["Fe"],
            concentration_molL=np.ones(1),
            volume_L=np.zeros(1),
        ),
        scanner=Scanner(name="mdf_neel simulation", manufacturer="mdf_neel", topology="FFP"),
        experiment=Experiment(
            name=f"{model} model, easy axis {float(angle_deg):g} deg"
            + ("" if float(easy_axis_polar_deg) == 90.0 else f", polar {float(easy_axis_polar_deg):g} deg"),
            description=f"model-based hybrid system matrix ({model})",
            is_simulation=True,
        ),
    )


def system_matrix(
    sequence,
    offsets,
    *,
    angle_deg,
    diameter_m,
    anisotropy_Jm3=0.0,
    model="neel",
    channels=("x", "y"),
    transfer_function=None,
    unit="V/mol",
    snr_floor=SNR_FLOOR,
    batch_size=None,
    callback=None,
    solver=None,
    physics=None,
    easy_axis_polar_deg=90.0,
    **particle,
) -> SystemMatrix:
    """Simulate the hybrid system matrix of immobilised particles with easy axis n(ϑ).

    Parameters
    ----------
    sequence : mdf_neel.sequence.Sequence
        Drive field and receiver (see :func:`~mdf_neel.simulate.preset` and
        :func:`~mdf_neel.simulate.sequence_from_file`).
    offsets : OffsetGrid, 4-tuple (offsets, size, fov, centre) or array_like (O, 3)
        Offset fields [T] (x fastest) with their grid; a bare array's grid is inferred.
    angle_deg : float
        Easy-axis angle ϑ [deg]; n(ϑ) = (cos ϑ, sin ϑ, 0).
    easy_axis_polar_deg : float
        Polar angle of the easy axis from +z [deg]; 90 (default) keeps it in the
        xy-plane, otherwise ``n = (sin p cos ϑ, sin p sin ϑ, cos p)``
        (:func:`~mdf_neel.simulate.easy_axis`), recorded in the provenance.
    diameter_m : float
        Core diameter [m].
    anisotropy_Jm3 : float
        Uniaxial anisotropy constant [J/m³].
    model : {"neel", "langevin", "anisotropic-equilibrium"}
    channels : sequence of {"x", "y", "z"}
        Receive channels, homogeneous unit sensitivity each (MDF channel order).
    transfer_function : array_like (C, K_full) or (K_full,), or callable, optional
        Receive-chain transfer function on the full rfft grid, or ``f(frequencies_Hz)``
        returning it. It is multiplied into the data and stored in
        ``receiver.transfer_function`` with ``is_transfer_function_corrected = False``,
        like a measured file: MPIFiles/MPIReco divide by it by default and recover the
        TF-free matrix. Default: none (TF = 1, nothing stored).
    unit : {"V/mol", "1/s"}
        Unit of the data (module docstring).
    snr_floor : float
        Relative noise floor of the SNR rule (module docstring).
    batch_size : int, optional
        Offsets per physics call (default: all at once).
    callback : callable, optional
        ``callback(n)`` after each batch of ``n`` offsets (progress bars).
    solver : SolverSettings or mapping, optional
        Numerical settings (:class:`~mdf_neel.simulate.accuracy.SolverSettings`); the
        default holds the row-accuracy contract ``rtol = 1e-3``.
    physics : PhysicsParameters or mapping, optional
        The physics besides D and K (:class:`~mdf_neel.physics.PhysicsParameters`: α,
        Ms, T, γ), recorded whole in the provenance.
    **particle
        ``alpha``, ``saturation_magnetization_Am``, ``temperature_K``, ``gamma`` override
        the fields of ``physics``; ``rtol`` (the row-accuracy contract), ``method``,
        ``resolution``, ``step_tolerance``, ``n_threads`` those of ``solver``.

    Returns
    -------
    SystemMatrix
        ``data`` (C, V//2+1, O) on the full rfft grid, method "hybrid" (a simulated
        hybrid calibration: offsets and grid in tesla, which MPIFiles reads as tesla
        only for "hybrid") with ``experiment.is_simulation`` and
        ``provenance["calibration"]`` saying it is simulated, SNR per row, no
        ``noise_estimate`` (noise-free), provenance (model, parameters with units,
        sphere resolution, versions, conventions).

    Examples
    --------
    >>> from mdf_neel.simulate import preset
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=30.0, diameter_m=20e-9, anisotropy_Jm3=1000.0,
    ...                    model="anisotropic-equilibrium", frequencies=[16, 17, 33])
    >>> sm.data.shape  # (channels, frequencies, positions)
    (2, 3, 9)
    >>> sm.method, sm.experiment.is_simulation, sm.easy_axis_angle_deg
    ('hybrid', True, 30.0)
    """
    grid = as_offset_grid(offsets)
    phi, info = system_functions(
        sequence,
        grid.offsets_T,
        angle_deg=angle_deg,
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        model=model,
        channels=channels,
        batch_size=batch_size,
        callback=callback,
        return_info=True,
        solver=solver,
        physics=physics,
        easy_axis_polar_deg=easy_axis_polar_deg,
        **particle,
    )
    return assemble(
        sequence,
        grid,
        phi,
        angle_deg=angle_deg,
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        model=model,
        channels=channels,
        unit=unit,
        transfer_function=transfer_function,
        snr_floor=snr_floor,
        info=info,
        physics=physics,
        easy_axis_polar_deg=easy_axis_polar_deg,
        **particle,
    )
