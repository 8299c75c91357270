"""Orientation imaging: concentration per (easy-axis angle, position) from one measurement.

The driver reads (or takes) one system matrix per easy-axis angle and a measurement,
builds the multi-contrast problem of :mod:`mdf_neel.reconstruct.problem` and solves it
with :func:`~mdf_neel.reconstruct.solvers.kaczmarz` (or CGNR). The result holds the
concentrations ``(F, A, Nz, Ny, Nx)`` and gives orientation maps
(:mod:`mdf_neel.reconstruct.orientation`).

Concentration unit: that of the calibration sample. A system-matrix column is the
signal of the calibration sample at one grid position; a reconstructed value of 0.5
is half of that amount of particles (with that easy axis) at that position.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import MDFError
from .orientation import OrientationMap, orientation_map
from .problem import (
    MeasurementOptions,
    RowSelection,
    _has_transfer_function,
    _name,
    check_compatible,
    load_system_matrices,
    measurement_frames,
    row_noise,
    select_rows,
    stack_system_matrices,
)

__all__ = ["ReconstructionSettings", "Reconstruction", "reconstruct", "WEIGHTINGS", "METHODS"]

logger = logging.getLogger("mdf_neel.reconstruct")

#: Row weightings: none, unit row energy, whitening by the calibration SNR, whitening by a noise estimate.
WEIGHTINGS = ("none", "row_energy", "snr", "noise")
#: Solvers.
METHODS = ("kaczmarz", "cgnr")


@dataclass(frozen=True)
class ReconstructionSettings:
    """Everything that decides a reconstruction besides the data.

    Parameters
    ----------
    method : {"kaczmarz", "cgnr"}
        Solver (:mod:`mdf_neel.reconstruct.solvers`).
    iterations : int
        Kaczmarz sweeps or CG iterations (>= 1).
    lambda_rel : float
        Tikhonov weight relative to ``‖diag(s) A‖_F² / N`` (MPIReco's convention).
    weighting : {"none", "row_energy", "snr", "noise"}
        Row scale factors ``s``: 1; ``1/‖a_i‖`` (every row equally important);
        ``1/σ_i`` with ``σ_i = rms_o |a_i,o| / SNR_i`` the noise of the calibration
        row (median over the angle matrices); ``1/σ_i`` from a noise estimate (the
        matrices' ``noise_estimate`` if all have one, else the measurement's, else
        the spread of its background frames). Rows with unknown or zero noise get 0.
    enforce_real, enforce_nonnegative : bool
        Concentrations are real and >= 0 (Kaczmarz: projected after each sweep;
        CGNR: real unknowns, clipped at the end).
    shuffle : bool
        Kaczmarz visits the rows in a random (seeded) order.
    seed : int
    rows : RowSelection
        Which frequency rows enter.
    measurement : MeasurementOptions
        How the measurement is read and which frames are reconstructed.
    """

    method: str = "kaczmarz"
    iterations: int = 20
    lambda_rel: float = 1e-3
    weighting: str = "row_energy"
    enforce_real: bool = True
    enforce_nonnegative: bool = True
    shuffle: bool = False
    seed: int = 0
    rows: RowSelection = field(default_factory=RowSelection)
    measurement: MeasurementOptions = field(default_factory=MeasurementOptions)

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")
        if int(self.iterations) < 1:
            raise ValueError(f"iterations must be >= 1, got {self.iterations!r}")
        lam = float(self.lambda_rel)
        if not (lam >= 0 and math.isfinite(lam)):
            raise ValueError(f"lambda_rel must be finite and >= 0, got {self.lambda_rel!r}")
        if not isinstance(self.rows, RowSelection):
            raise TypeError(f"rows must be a RowSelection, got {type(self.rows).__name__}")
        if not isinstance(self.measurement, MeasurementOptions):
            raise TypeError(f"measurement must be MeasurementOptions, got {type(self.measurement).__name__}")

    def as_dict(self) -> dict:
        """Plain nested dict (for files and logs)."""
        return asdict(self)


@dataclass(frozen=True)
class Reconstruction:
    """Result of :func:`reconstruct`.

    Attributes
    ----------
    concentration : numpy.ndarray, float64, shape (F, A, Nz, Ny, Nx)
        Concentration per frame, easy-axis angle and grid position (calibration-sample
        units; module docstring). F = 1 when frames are averaged.
    angles_deg : numpy.ndarray, shape (A,)
        Easy-axis angle of each block, in the order of the system matrices.
    grid_size : numpy.ndarray of int, shape (3,)
        (Nx, Ny, Nz).
    field_of_view, field_of_view_center : numpy.ndarray, shape (3,)
        Edge-to-edge extent and centre of the grid in ``field_of_view_unit``.
    field_of_view_unit : str
        ``"T"`` (offset-field grid) or ``"m"``.
    frequency_indices : numpy.ndarray of int, shape (K,)
        0-based rfft bins used.
    row_mask : numpy.ndarray of bool, shape (C, K)
        Rows (channel, bin) that entered (SNR threshold, weights > 0).
    row_scale : numpy.ndarray, shape (C, K)
        Row scale factors s (0 for rows left out).
    lambda_abs : float
        Absolute Tikhonov weight.
    residual : numpy.ndarray, shape (F,)
        ``‖diag(s)(A x − b)‖ / ‖diag(s) b‖`` per frame.
    settings : ReconstructionSettings
    system_matrix_files : tuple of str
    measurement_file : str
    offsets_T : numpy.ndarray, shape (O, 3), optional
        Offset field per grid position (offset-field grids).
    """

    concentration: np.ndarray
    angles_deg: np.ndarray
    grid_size: np.ndarray
    field_of_view: np.ndarray
    field_of_view_center: np.ndarray
    field_of_view_unit: str
    frequency_indices: np.ndarray
    row_mask: np.ndarray
    row_scale: np.ndarray
    lambda_abs: float
    residual: np.ndarray
    settings: ReconstructionSettings
    system_matrix_files: tuple = ()
    measurement_file: str = ""
    offsets_T: np.ndarray | None = None

    @property
    def grid_shape(self) -> tuple:
        """(Nz, Ny, Nx)."""
        return tuple(int(v) for v in self.grid_size[::-1])

    def orientation(self) -> OrientationMap:
        """Orientation map per frame and position: arrays of shape (F, Nz, Ny, Nx)."""
        return orientation_map(self.concentration, self.angles_deg, axis=1)


def _row_scale(kind, sms, A, noise):
    """Row factors s (C·K,) for the weighting ``kind``."""
    M = A.shape[0]
    if kind == "none":
        return np.ones(M)
    norms = np.sqrt(np.sum(np.abs(A) ** 2, axis=1))
    if kind == "row_energy":
        return np.divide(1.0, norms, out=np.zeros(M), where=norms > 0)
    if kind == "snr":
        sigmas = []
        for i, sm in enumerate(sms):
            if sm.snr is None:
                raise MDFError(
                    "weighting 'snr' needs an SNR in every system matrix", path=_name(sm, i, "system matrix")
                )
            rms = np.sqrt(np.mean(np.abs(sm.data) ** 2, axis=-1))  # (C, K)
            snr = np.nan_to_num(sm.snr, nan=0.0)
            sigmas.append(np.divide(rms, snr, out=np.full(rms.shape, np.inf), where=snr > 0))
        sigma = np.median(np.stack(sigmas), axis=0).reshape(-1)
    else:
        if noise is None:
            raise MDFError(
                "weighting 'noise' needs a noise estimate: a noise_estimate on every system matrix "
                "or on the measurement, or at least 2 background frames in the measurement"
            )
        sigma = np.asarray(noise, dtype=np.float64)
    ok = np.isfinite(sigma) & (sigma > 0)
    return np.divide(1.0, sigma, out=np.zeros(M), where=ok)


def _load_measurement(measurement, options: MeasurementOptions):
    """Measurement read with the options' corrections (a path), or an object with its
    background subtracted (the mean of its background frames) when asked and not done."""
    if not isinstance(measurement, (str, os.PathLike)):
        bg = measurement.is_background_frame
        if options.background_correction and bg.any() and not measurement.is_background_corrected:
            if options.background_correction != "mean":
                logger.info("in-memory measurement: background corrected by the mean of its background frames")
            data = np.array(measurement.data, dtype=np.result_type(measurement.data.dtype, np.complex64))
            data[..., ~bg] -= data[..., bg].mean(axis=-1, keepdims=True)
            return measurement.replace(data=data, is_background_corrected=True)
        return measurement
    from ..mdf.reader import read_measurement

    path = os.fspath(measurement)
    header = read_measurement(path, frequencies=[])
    method = options.background_correction
    if method and not header.is_background_frame.any():
        logger.warning("%s: no background frames; background correction skipped", path)
        method = None
    tfc = options.transfer_function_correction and _has_transfer_function(header)
    meas = read_measurement(path, background_correction=method, transfer_function_correction=tfc)
    meas.source_path = path
    return meas


def reconstruct(system_matrices, measurement, settings: ReconstructionSettings | None = None) -> Reconstruction:
    """Reconstruct concentration per (easy-axis angle, position) from one measurement.

    Parameters
    ----------
    system_matrices : sequence of SystemMatrix, or of paths to MDF files
        One per easy-axis angle, same grid and sequence (the order of the result's
        angle axis is this order).
    measurement : Measurement, or path to an MDF measurement file
        Same sequence as the matrices. A path is read with the corrections of
        ``settings.measurement``; from an object the mean of its background frames is
        subtracted when a background correction is asked for and not yet done (the
        transfer function of an object is not touched).
    settings : ReconstructionSettings, optional
        Solver, rows, weighting, frames (defaults: :class:`ReconstructionSettings`).

    Returns
    -------
    Reconstruction

    Raises
    ------
    MDFError
        Mismatched grids, sequences or frequency selections (naming the files), or no
        usable row.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel import Measurement
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> bins = [33, 50, 67, 84, 100]
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1e3,
    ...                      model="anisotropic-equilibrium", frequencies=bins) for a in (0.0, 90.0)]
    >>> u = sms[1].data[:, :, 4]  # calibration sample at the centre with easy axis 90°
    >>> meas = Measurement(data=u[None, :, :, None], frequency_indices=bins, is_background_frame=[False],
    ...                    drive_field=seq.drive_field, receiver=sms[0].receiver)
    >>> rec = reconstruct(sms, meas, ReconstructionSettings(iterations=50, lambda_rel=1e-6))
    >>> rec.concentration.shape  # (frames, angles, Nz, Ny, Nx)
    (1, 2, 1, 3, 3)
    >>> round(float(rec.orientation().angle_deg[0, 0, 1, 1]))
    90
    """
    settings = ReconstructionSettings() if settings is None else settings
    if not isinstance(settings, ReconstructionSettings):
        raise TypeError(f"settings must be ReconstructionSettings, got {type(settings).__name__}")
    from .solvers import absolute_lambda, cgnr, kaczmarz

    meas = _load_measurement(measurement, settings.measurement)
    meas_name = _name(meas, 0, "measurement")
    items = list(system_matrices)
    is_path = [isinstance(p, (str, os.PathLike)) for p in items]
    if any(is_path) and not all(is_path):
        raise TypeError("system_matrices must be all paths or all SystemMatrix objects, not a mixture")
    if items and all(is_path):
        sms = load_system_matrices(
            items,
            settings.rows,
            measurement_bins=meas.frequency_indices,
            measurement_name=meas_name,
            transfer_function_correction=settings.measurement.transfer_function_correction,
        )
    else:
        sms = items
    check_compatible(sms, meas)
    if meas.receiver.num_channels != sms[0].num_channels:
        raise MDFError(
            f"{meas.receiver.num_channels} receive channels, the system matrices have {sms[0].num_channels}",
            path=meas_name,
        )
    for i, sm in enumerate(sms):
        if sm.is_transfer_function_corrected != meas.is_transfer_function_corrected:
            logger.warning(
                "%s is %stransfer-function corrected but the measurement %s is %s",
                _name(sm, i, "system matrix"),
                "" if sm.is_transfer_function_corrected else "not ",
                meas_name,
                "corrected" if meas.is_transfer_function_corrected else "not",
            )
    bins, keep = select_rows(sms, settings.rows, meas.frequency_indices)
    sms = [sm if np.array_equal(sm.frequency_indices, bins) else sm.select_frequencies(bins) for sm in sms]
    A = stack_system_matrices(sms)
    B = measurement_frames(meas, bins, settings.measurement)
    noise = row_noise(sms, meas, bins, settings.measurement) if settings.weighting == "noise" else None
    scale = _row_scale(settings.weighting, sms, A, noise) * keep.reshape(-1)
    if not np.any(scale > 0):
        raise MDFError(f"no row left after the weighting {settings.weighting!r} and the row selection", path=meas_name)
    lam = absolute_lambda(A, settings.lambda_rel, scale)
    if settings.method == "kaczmarz":
        X = kaczmarz(
            A,
            B,
            lambda_rel=settings.lambda_rel,
            iterations=settings.iterations,
            row_scale=scale,
            enforce_real=settings.enforce_real,
            enforce_nonnegative=settings.enforce_nonnegative,
            shuffle=settings.shuffle,
            seed=settings.seed,
        )
    else:
        X = cgnr(
            A,
            B,
            lambda_rel=settings.lambda_rel,
            iterations=settings.iterations,
            row_scale=scale,
            real=settings.enforce_real,
            enforce_nonnegative=settings.enforce_nonnegative,
        )
    sb = B * scale[None, :]
    res = np.linalg.norm((X @ A.T) * scale[None, :] - sb, axis=1) / np.maximum(np.linalg.norm(sb, axis=1), 1e-300)
    ref = sms[0]
    F = B.shape[0]
    conc = np.real(X).reshape((F, len(sms)) + ref.grid_shape)
    angles = np.array([float(sm.easy_axis_angle_deg) for sm in sms])
    logger.info(
        "reconstructed %d frame(s): %d rows x %d unknowns (%d angles x %d positions), lambda = %.3g, residual %s",
        F,
        int(np.count_nonzero(scale)),
        A.shape[1],
        len(sms),
        ref.num_positions,
        lam,
        np.array2string(res, precision=3),
    )
    C, K = ref.num_channels, bins.size
    return Reconstruction(
        concentration=conc,
        angles_deg=angles,
        grid_size=ref.grid_size.copy(),
        field_of_view=ref.field_of_view.copy(),
        field_of_view_center=ref.field_of_view_center.copy(),
        field_of_view_unit=ref.field_of_view_unit,
        frequency_indices=bins,
        row_mask=(scale > 0).reshape(C, K),
        row_scale=scale.reshape(C, K),
        lambda_abs=lam,
        residual=res,
        settings=settings,
        system_matrix_files=tuple(_name(sm, i, "system matrix") for i, sm in enumerate(sms)),
        measurement_file=meas_name,
        offsets_T=None if ref.offset_fields_T is None else ref.offset_fields_T.copy(),
    )
