"""The multi-contrast linear problem: stacked system matrices, rows, weights and data.

Stacking (one block of columns per easy-axis angle, MPIReco's multi-contrast layout)
-----------------------------------------------------------------------------------
For system matrices ``S_a`` (C, K, O) of angles ϑ_a, a = 0..A−1 (in the order given),
all on one grid and with the same rows, the stacked matrix is

    A[c·K + k, a·O + o] = S_a[c, k, o]         shape (C·K, A·O)

so unknown ``a·O + o`` is the concentration of particles with easy axis ϑ_a at grid
position o (x fastest), and row ``c·K + k`` is channel c at the k-th selected bin.

Rows (which (channel, bin) pairs enter)
---------------------------------------
The bins stored in *every* file (the intersection of the frequency selections), then
the user's choice (:class:`RowSelection`): explicit bins, a frequency band, DC and the
drive fundamentals left out, and an SNR threshold on the calibration's SNR, where the
SNR of a row is the largest over the angle matrices (a row that carries signal for some
orientation is kept).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import MDFError
from ..mdf.conversion import mpifiles_frequencies

__all__ = [
    "RowSelection",
    "MeasurementOptions",
    "load_system_matrices",
    "check_compatible",
    "select_rows",
    "stack_system_matrices",
    "measurement_frames",
    "row_noise",
]

logger = logging.getLogger("mdf_neel.reconstruct")

#: Relative tolerance on drive strengths and base frequency between files.
STRENGTH_RTOL = 1e-3
#: Tolerance on drive phases between files [rad].
PHASE_ATOL_RAD = 1e-3
#: Relative tolerance on grid extents and offsets between system matrices.
GRID_RTOL = 1e-6


@dataclass(frozen=True)
class RowSelection:
    """Which frequency rows enter the reconstruction.

    Parameters
    ----------
    frequencies : tuple of int, optional
        0-based rfft bins to use (each must be stored in every file); default all that
        every file stores.
    min_frequency_Hz, max_frequency_Hz : float
        Frequency band [Hz] (inclusive).
    exclude_drive_fundamentals : bool
        Leave out DC and the drive fundamentals (their signal is dominated by the
        direct feed-through in a scanner and filtered away by the receive chain).
    min_snr : float, optional
        Keep rows whose calibration SNR (largest over the angle matrices) is at least
        this; None keeps all. Matrices without an SNR are not thresholded (logged).
    """

    frequencies: tuple | None = None
    min_frequency_Hz: float = 0.0
    max_frequency_Hz: float = math.inf
    exclude_drive_fundamentals: bool = True
    min_snr: float | None = None

    def __post_init__(self):
        if self.frequencies is not None:
            bins = tuple(int(v) for v in np.atleast_1d(self.frequencies))
            if not bins or min(bins) < 0:
                raise ValueError(f"frequencies must be non-empty 0-based bins, got {self.frequencies!r}")
            object.__setattr__(self, "frequencies", tuple(sorted(set(bins))))
        lo, hi = float(self.min_frequency_Hz), float(self.max_frequency_Hz)
        if not (lo >= 0 and hi > lo) or math.isnan(hi):
            raise ValueError(f"need 0 <= min_frequency_Hz < max_frequency_Hz, got {lo!r}, {hi!r}")
        object.__setattr__(self, "min_frequency_Hz", lo)
        object.__setattr__(self, "max_frequency_Hz", hi)
        if self.min_snr is not None:
            snr = float(self.min_snr)
            if not (snr >= 0 and math.isfinite(snr)):
                raise ValueError(f"min_snr must be finite and >= 0 or None, got {self.min_snr!r}")
            object.__setattr__(self, "min_snr", snr)


@dataclass(frozen=True)
class MeasurementOptions:
    """How the measurement is read (through :func:`mdf_neel.mdf.read_measurement`).

    Parameters
    ----------
    background_correction : {None, "mean", "interpolate"}
        Subtract the background frames from the foreground frames (only when the file
        has background frames and is not corrected already).
    transfer_function_correction : bool
        Divide the measurement *and* the system matrices by their stored transfer
        functions (files without one, or already corrected, are left as they are).
    average_frames : bool
        Reconstruct the mean of the selected foreground frames (one image) instead of
        each frame.
    frames : tuple of int, optional
        0-based indices among the foreground frames; default all.
    period : int
        0-based period (patch) of the measurement.
    """

    background_correction: str | None = "mean"
    transfer_function_correction: bool = False
    average_frames: bool = True
    frames: tuple | None = None
    period: int = 0

    def __post_init__(self):
        if self.background_correction not in (None, "mean", "interpolate"):
            raise ValueError(
                f"background_correction must be None, 'mean' or 'interpolate', got {self.background_correction!r}"
            )
        if self.frames is not None:
            frames = tuple(int(v) for v in np.atleast_1d(self.frames))
            if not frames or min(frames) < 0:
                raise ValueError(f"frames must be non-empty 0-based indices, got {self.frames!r}")
            object.__setattr__(self, "frames", frames)
        if int(self.period) < 0:
            raise ValueError(f"period must be >= 0, got {self.period!r}")


def _name(obj, index, what):
    path = getattr(obj, "source_path", None)
    return str(path) if path else f"<{what} {index} in memory>"


def _drive_mismatch(d0, d1) -> str | None:
    """What differs between two drive fields (None when they agree)."""
    if not math.isclose(d0.base_frequency_Hz, d1.base_frequency_Hz, rel_tol=1e-9):
        return f"base frequency {d0.base_frequency_Hz:g} Hz vs {d1.base_frequency_Hz:g} Hz"
    if d0.dividers.shape != d1.dividers.shape or not np.array_equal(d0.dividers, d1.dividers):
        return f"dividers {d0.dividers.tolist()} vs {d1.dividers.tolist()}"
    s0, s1 = d0.strengths_T[:1], d1.strengths_T[:1]
    if s0.shape != s1.shape or not np.allclose(s0, s1, rtol=STRENGTH_RTOL, atol=0.0):
        return f"drive strengths {s0.ravel().tolist()} T vs {s1.ravel().tolist()} T"
    active = s0 != 0
    dphi = np.angle(np.exp(1j * (d0.phases_rad[:1] - d1.phases_rad[:1])))
    if np.any(np.abs(dphi[active]) > PHASE_ATOL_RAD):
        return f"drive phases {d0.phases_rad[:1].ravel().tolist()} rad vs {d1.phases_rad[:1].ravel().tolist()} rad"
    return None


def _receiver_mismatch(r0, r1) -> str | None:
    if r0.num_sampling_points != r1.num_sampling_points:
        return f"sampling points per cycle {r0.num_sampling_points} vs {r1.num_sampling_points}"
    if not math.isclose(r0.bandwidth_Hz, r1.bandwidth_Hz, rel_tol=1e-9):
        return f"receiver bandwidth {r0.bandwidth_Hz:g} Hz vs {r1.bandwidth_Hz:g} Hz"
    if r0.num_channels != r1.num_channels:
        return f"receive channels {r0.num_channels} vs {r1.num_channels}"
    return None


def _grid_mismatch(a, b) -> str | None:
    if not np.array_equal(a.grid_size, b.grid_size):
        return f"grid size {a.grid_size.tolist()} vs {b.grid_size.tolist()}"
    if a.field_of_view_unit != b.field_of_view_unit:
        return f"field-of-view unit {a.field_of_view_unit!r} vs {b.field_of_view_unit!r}"
    scale = max(float(np.max(np.abs(a.field_of_view))), 1e-300)
    for what in ("field_of_view", "field_of_view_center"):
        u, v = getattr(a, what), getattr(b, what)
        if not np.allclose(u, v, rtol=GRID_RTOL, atol=GRID_RTOL * scale):
            return f"{what} {u.tolist()} vs {v.tolist()} ({a.field_of_view_unit})"
    for what in ("offset_fields_T", "positions_m"):
        u, v = getattr(a, what), getattr(b, what)
        if u is not None and v is not None and not np.allclose(u, v, rtol=GRID_RTOL, atol=GRID_RTOL * scale):
            worst = int(np.argmax(np.max(np.abs(u - v), axis=1)))
            return f"{what} differ at position {worst}: {u[worst].tolist()} vs {v[worst].tolist()}"
    return None


def check_compatible(system_matrices, measurement=None) -> None:
    """Raise if the system matrices do not share one grid and one sequence with each
    other and with the measurement, or lack distinct easy-axis angles.

    Parameters
    ----------
    system_matrices : sequence of SystemMatrix
        One per angle (``easy_axis_angle_deg`` set, distinct modulo 180°).
    measurement : Measurement, optional
        Must have the sequence (drive field, receiver) of the matrices.

    Raises
    ------
    MDFError
        Naming both files and what differs (grid size, field of view, offsets, drive
        dividers/strengths/phases, receiver, angles).

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1e3,
    ...                      model="anisotropic-equilibrium", frequencies=[33, 50]) for a in (0.0, 90.0)]
    >>> check_compatible(sms)  # same grid and sequence: no error
    """
    sms = list(system_matrices)
    if not sms:
        raise ValueError("at least one system matrix is needed")
    ref = sms[0]
    ref_name = _name(ref, 0, "system matrix")
    seen = {}
    for i, sm in enumerate(sms):
        name = _name(sm, i, "system matrix")
        if sm.easy_axis_angle_deg is None:
            raise MDFError(
                "the system matrix has no easy-axis angle (/calibration/_easyAxisAngle); "
                "orientation imaging needs one angle per matrix",
                path=name,
                dataset="/calibration/_easyAxisAngle",
            )
        key = round(float(sm.easy_axis_angle_deg) % 180.0, 9)
        if key in seen:
            raise MDFError(
                f"easy-axis angle {sm.easy_axis_angle_deg:g} deg repeats that of {seen[key]!r} (modulo 180 deg)",
                path=name,
            )
        seen[key] = name
        if i == 0:
            continue
        for what, why in (
            ("grid", _grid_mismatch(ref, sm)),
            ("drive field", _drive_mismatch(ref.drive_field, sm.drive_field)),
            ("receiver", _receiver_mismatch(ref.receiver, sm.receiver)),
        ):
            if why:
                raise MDFError(f"{what} differs from that of {ref_name!r}: {why}", path=name)
    if measurement is not None:
        name = _name(measurement, 0, "measurement")
        for what, why in (
            ("drive field", _drive_mismatch(ref.drive_field, measurement.drive_field)),
            ("receiver", _receiver_mismatch(ref.receiver, measurement.receiver)),
        ):
            if why:
                raise MDFError(
                    f"{what} of the measurement differs from that of system matrix {ref_name!r}: {why}", path=name
                )


def _candidate_bins(headers, names, measurement_bins, measurement_name, rows: RowSelection):
    """Bins stored everywhere and allowed by ``rows`` (before the SNR threshold)."""
    common = np.asarray(headers[0].frequency_indices)
    for h in headers[1:]:
        common = np.intersect1d(common, h.frequency_indices)
    if measurement_bins is not None:
        common = np.intersect1d(common, measurement_bins)
    if rows.frequencies is not None:
        want = np.asarray(rows.frequencies, dtype=np.int64)
        stores = list(zip(names, (h.frequency_indices for h in headers)))
        if measurement_bins is not None:
            stores.append((measurement_name, measurement_bins))
        for name, stored in stores:
            missing = np.setdiff1d(want, stored)
            if missing.size:
                raise MDFError(
                    f"requested frequency bins {missing[:10].tolist()} are not stored "
                    f"(its frequency selection holds {len(stored)} bins)",
                    path=name,
                    dataset="/acquisition/receiver/frequencySelection",
                )
        common = want
    ref = headers[0]
    # the bin frequencies as MPIFiles computes them, so a band bound on a bin agrees with it
    f_Hz = mpifiles_frequencies(ref.receiver)[common]
    keep = (f_Hz >= rows.min_frequency_Hz) & (f_Hz <= rows.max_frequency_Hz)
    if rows.exclude_drive_fundamentals:
        drive = ref.drive_field
        silent = [0] + [int(h) for h, a in zip(drive.harmonics_per_cycle, drive.active_channels) if a]
        keep &= ~np.isin(common, silent)
    common = common[keep]
    if common.size == 0:
        listing = ", ".join(f"{n!r} ({len(h.frequency_indices)} bins)" for n, h in zip(names, headers))
        raise MDFError(
            "no frequency bin is stored in every file and allowed by the row selection "
            f"({rows}); system matrices: {listing}"
            + ("" if measurement_bins is None else f"; measurement {measurement_name!r} ({len(measurement_bins)} bins)")
        )
    return common


def load_system_matrices(
    paths,
    rows: RowSelection = RowSelection(),
    *,
    measurement_bins=None,
    measurement_name=None,
    transfer_function_correction: bool = False,
):
    """Read angle system matrices from MDF files, reduced to their common rows.

    With explicit ``rows.frequencies`` only those rows are read from disk; otherwise
    each file is read whole and cut to the intersection of the stored frequency
    selections (and the measurement's, when given) that ``rows`` allows. Grids and
    sequences are checked with :func:`check_compatible`.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        One MDF system-matrix file per easy-axis angle.
    rows : RowSelection
        Row choice (the SNR threshold is applied later, by :func:`select_rows`).
    measurement_bins : array_like of int, optional
        Bins stored in the measurement.
    measurement_name : str, optional
        The measurement file (for messages).
    transfer_function_correction : bool
        Divide by the stored transfer function (files without one are read as they are).

    Returns
    -------
    list of SystemMatrix
        In the order of ``paths``, all with the same ``frequency_indices``.

    Raises
    ------
    MDFError
        Unreadable files, mismatched grids or sequences, no common row; the message
        names the files.

    Examples
    --------
    >>> import os, tempfile
    >>> from mdf_neel.mdf import write_system_matrix
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1e3,
    ...                      model="anisotropic-equilibrium", frequencies=f)
    ...        for a, f in ((0.0, [33, 50, 67]), (90.0, [33, 50]))]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = [write_system_matrix(os.path.join(tmp, f"sm{i}.mdf"), sm) for i, sm in enumerate(sms)]
    ...     back = load_system_matrices(paths)
    >>> [sm.frequency_indices.tolist() for sm in back]  # the rows both files store
    [[33, 50], [33, 50]]
    """
    from ..mdf.reader import read_system_matrix

    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("at least one system-matrix file is needed")
    sms = []
    for p in paths:
        try:
            sm = read_system_matrix(p, frequencies=rows.frequencies)
        except MDFError:
            raise
        except (KeyError, ValueError) as exc:  # requested bins not stored
            raise MDFError(f"cannot read the requested rows: {exc}", path=p) from exc
        if transfer_function_correction and _has_transfer_function(sm):
            sm = read_system_matrix(p, frequencies=rows.frequencies, transfer_function_correction=True)
        sm.source_path = p
        sms.append(sm)
        check_compatible(sms)  # fail at the first file that does not match
    bins = _candidate_bins(sms, paths, measurement_bins, measurement_name, rows)
    dropped = {p: int(np.setdiff1d(sm.frequency_indices, bins).size) for p, sm in zip(paths, sms)}
    out = [sm.select_frequencies(bins) for sm in sms]
    logger.info("system matrices: %d common rows per channel; left out per file: %s", bins.size, dropped)
    return out


def _has_transfer_function(obj) -> bool:
    tf = obj.receiver.transfer_function
    return tf is not None and bool(np.any(np.isfinite(tf))) and not obj.is_transfer_function_corrected


def select_rows(system_matrices, rows: RowSelection = RowSelection(), measurement_bins=None):
    """The bins of in-memory matrices that enter the problem (intersection, band, SNR).

    Parameters
    ----------
    system_matrices : sequence of SystemMatrix
    rows : RowSelection
    measurement_bins : array_like of int, optional

    Returns
    -------
    bins : numpy.ndarray of int64, shape (K,)
        0-based rfft bins, increasing.
    keep : numpy.ndarray of bool, shape (C, K)
        Rows (channel, bin) that pass the SNR threshold (all True without one).

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1e3,
    ...                      model="anisotropic-equilibrium", frequencies=f)
    ...        for a, f in ((0.0, [16, 33, 50]), (90.0, [17, 33, 50, 67]))]
    >>> bins, keep = select_rows(sms)  # common bins; the drive fundamentals 16, 17 are left out anyway
    >>> bins.tolist(), keep.shape
    ([33, 50], (2, 2))
    """
    sms = list(system_matrices)
    names = [_name(sm, i, "system matrix") for i, sm in enumerate(sms)]
    bins = _candidate_bins(sms, names, measurement_bins, "measurement", rows)
    C = sms[0].num_channels
    keep = np.ones((C, bins.size), dtype=bool)
    if rows.min_snr is not None:
        snrs = [sm.select_frequencies(bins).snr for sm in sms]
        if any(s is None for s in snrs):
            logger.warning("min_snr = %g ignored: not every system matrix has an SNR", rows.min_snr)
        else:
            best = np.max(np.stack(snrs), axis=0)
            keep = np.nan_to_num(best, nan=0.0) >= rows.min_snr
            if not keep.any():
                raise MDFError(
                    f"no row reaches the SNR threshold {rows.min_snr:g} (largest SNR {np.nanmax(best):.3g}); "
                    f"system matrices: {names}"
                )
    return bins, keep


def stack_system_matrices(system_matrices, bins=None):
    """The multi-contrast matrix: one block of columns per angle (module docstring).

    Parameters
    ----------
    system_matrices : sequence of SystemMatrix
        Same grid and sequence (see :func:`check_compatible`).
    bins : array_like of int, optional
        0-based rfft bins to use (default the matrices' own, which must agree).

    Returns
    -------
    numpy.ndarray, complex128, shape (C·K, A·O)
        ``A[c·K + k, a·O + o] = S_a[c, k, o]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1e3,
    ...                      model="anisotropic-equilibrium", frequencies=[33, 50]) for a in (0.0, 90.0)]
    >>> A = stack_system_matrices(sms)
    >>> A.shape  # (2 channels x 2 bins, 2 angles x 9 positions)
    (4, 18)
    >>> bool(np.all(A[3, 9:] == sms[1].data[1, 1]))  # row c=1, k=1; block of the second angle
    True
    """
    sms = list(system_matrices)
    if bins is not None:
        bins = np.asarray(bins, dtype=np.int64)
        sms = [sm if np.array_equal(sm.frequency_indices, bins) else sm.select_frequencies(bins) for sm in sms]
    ref = sms[0].frequency_indices
    for i, sm in enumerate(sms):
        if not np.array_equal(sm.frequency_indices, ref):
            raise MDFError(
                f"its {sm.num_frequencies} frequency bins differ from the {ref.size} of the first matrix; "
                "select common bins first",
                path=_name(sm, i, "system matrix"),
            )
    C, K, O = sms[0].data.shape
    blocks = [sm.data.reshape(C * K, O) for sm in sms]
    return np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.complex128)


def measurement_frames(measurement, bins, options: MeasurementOptions = MeasurementOptions()):
    """Measurement vectors on the chosen rows: (F, C·K), rows ordered like the matrix.

    Parameters
    ----------
    measurement : Measurement
        As read (background correction is applied by the reader, see
        :class:`MeasurementOptions`).
    bins : array_like of int, shape (K,)
        0-based rfft bins (each must be stored).
    options : MeasurementOptions
        Period, frames and averaging.

    Returns
    -------
    numpy.ndarray, complex128, shape (F, C·K)
        ``F = 1`` when frames are averaged, else one per selected foreground frame.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel import Measurement
    >>> from mdf_neel.simulate import preset
    >>> seq, _ = preset("paper-2d")
    >>> data = np.arange(2 * 3 * 4).reshape(1, 2, 3, 4) + 0j  # (J, C, K, N): 3 bins, 4 frames
    >>> meas = Measurement(data=data, frequency_indices=[33, 50, 67], is_background_frame=[True, False, False, False],
    ...                    drive_field=seq.drive_field, receiver=seq.receiver)
    >>> measurement_frames(meas, [50, 67]).real.tolist()  # mean of frames 1..3; rows (c=0: 50, 67; c=1: 50, 67)
    [[6.0, 10.0, 18.0, 22.0]]
    """
    name = _name(measurement, 0, "measurement")
    bins = np.asarray(bins, dtype=np.int64)
    pos = np.searchsorted(measurement.frequency_indices, bins)
    pos = np.minimum(pos, measurement.frequency_indices.size - 1)
    if not np.array_equal(measurement.frequency_indices[pos], bins):
        missing = np.setdiff1d(bins, measurement.frequency_indices)
        raise MDFError(f"frequency bins {missing[:10].tolist()} are not stored", path=name)
    J = measurement.data.shape[0]
    if options.period >= J:
        raise MDFError(f"period {options.period} requested but the measurement has {J}", path=name)
    fg = measurement.data[options.period][..., ~measurement.is_background_frame]  # (C, K, N_fg)
    if fg.shape[-1] == 0:
        raise MDFError("the measurement has no foreground frames", path=name, dataset="/measurement/isBackgroundFrame")
    if options.frames is not None:
        if max(options.frames) >= fg.shape[-1]:
            raise MDFError(
                f"foreground frames {list(options.frames)} requested but there are {fg.shape[-1]}", path=name
            )
        fg = fg[..., list(options.frames)]
    fg = fg[:, pos, :]  # (C, K, F)
    C, K, F = fg.shape
    frames = np.moveaxis(fg, -1, 0).reshape(F, C * K)
    if options.average_frames:
        frames = frames.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(frames, dtype=np.complex128)


def row_noise(system_matrices, measurement, bins, options: MeasurementOptions = MeasurementOptions()):
    """Noise standard deviation per row (C·K,) for whitening, or None if unknown.

    Sources, in this order: the matrices' ``noise_estimate`` (C, K) where every matrix
    has one (mean over the matrices), else the measurement's ``noise_estimate``, else the
    spread of the measurement's background frames (standard deviation over frames; needs
    at least 2). Only relative values matter (λ is relative), so averaging over frames
    is not accounted for.

    Returns
    -------
    numpy.ndarray, float64, shape (C·K,), or None

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sm = SimpleNamespace(noise_estimate=np.array([[1.0, 2.0], [3.0, 4.0]]), num_channels=2,
    ...                      num_frequencies=2, frequency_indices=np.array([33, 50]))
    >>> row_noise([sm, sm], None, [50]).tolist()   # (channel, bin) rows of the chosen bins
    [2.0, 4.0]
    """
    bins = np.asarray(bins, dtype=np.int64)
    estimates = []
    for sm in system_matrices:
        est = getattr(sm, "noise_estimate", None)
        if est is None:
            break
        est = np.asarray(est, dtype=np.float64)
        if est.shape != (sm.num_channels, sm.num_frequencies):
            logger.warning("noise_estimate of shape %s (expected (C, K)) not used", est.shape)
            break
        pos = np.searchsorted(sm.frequency_indices, bins)
        estimates.append(est[:, pos])
    else:
        if estimates:
            return np.mean(estimates, axis=0).reshape(-1)
    if measurement is None:
        return None
    pos = np.searchsorted(measurement.frequency_indices, bins)
    est = getattr(measurement, "noise_estimate", None)
    if est is not None and np.shape(est) == (measurement.data.shape[1], measurement.frequency_indices.size):
        return np.asarray(est, dtype=np.float64)[:, pos].reshape(-1)
    bg = measurement.data[options.period][..., measurement.is_background_frame]
    if bg.shape[-1] < 2:
        return None
    return np.std(bg[:, pos, :], axis=-1, ddof=1).reshape(-1)
