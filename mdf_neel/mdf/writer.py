"""Write conformant MDF v2.1 files from :class:`~mdf_neel.systemmatrix.SystemMatrix`
and :class:`~mdf_neel.systemmatrix.Measurement`.

Layout of a system-matrix file (see ``docs/mdf-writing.md``)
-------------------------------------------------------------
* ``/measurement/data``: complex ``(1, C, K, O + E)`` (periods, channels, stored
  frequencies, frames), contiguous, little-endian ``{r, i}`` compound, frame axis
  fastest; the O foreground frames (grid order, x fastest) come first, then the E
  background frames (``isBackgroundFrame``). complex64 data stay complex64, anything
  else complex is written as complex128.
* ``isFrequencySelection = 1`` and the 1-based ``frequencySelection`` when the stored
  bins are not the full rfft grid; the transfer function and SNR then hold the stored
  K only.
* ``/calibration``: method, size, fieldOfView, fieldOfViewCenter, snr are always
  present; ``offsetFields`` (tesla) for hybrid/simulated matrices, ``positions``
  (metres) otherwise, never both (MPIFiles' ``calibGrid`` throws on both).
* Custom: ``/calibration/_fieldOfViewUnit`` ("T" or "m"), ``_easyAxisAngle`` (deg) and
  ``_easyAxisConvention``, ``_snrMethod``; ``/_provenance/...`` holds
  ``SystemMatrix.provenance``.
* What MPIFiles reads differently from the spec (``docs/mdf-writing.md``): a grid
  in tesla is written with method "hybrid" (the only method for which MPIFiles takes
  ``fieldOfView`` as tesla); ``/custom/noiseEstimate`` (C, V//2+1) holds the noise
  standard deviation (:func:`noise_estimate`), NaN on bins that are not stored.
* Checksums: every dataset carries the SHA-256 of its values in the attribute
  ``_mdf_neel_sha256`` (:mod:`mdf_neel.mdf._checksums`), stamped just before closing.

Every dataset's dtype and rank come from :mod:`mdf_neel.mdf.schema`. Writes are atomic
(:func:`mdf_neel._atomic.atomic_path`): an exception or a killed process leaves the
previous file or no file, never a partial one. Before the temporary file is renamed
it is checked with :func:`mdf_neel.mdf.validation.validate`; any problem raises
:class:`~mdf_neel.errors.MDFError` and the target is left untouched.
"""

from __future__ import annotations

import logging
import os
import re
import uuid as _uuid
from datetime import datetime, timezone

import h5py
import numpy as np

from .._atomic import atomic_path
from ..errors import MDFError
from . import schema
from ._checksums import stamp_checksums

__all__ = ["write_system_matrix", "write_measurement", "snr_fallback", "noise_estimate", "SLAB_BYTES"]

logger = logging.getLogger("mdf_neel.mdf.writer")

#: Target size of one slab when copying large data into the preallocated dataset.
SLAB_BYTES = 64 * 2**20
#: Dynamic range assumed by the SNR fallback without background frames (see snr_fallback).
SNR_FALLBACK_DYNAMIC_RANGE = 1e3


# --- value normalisation ------------------------------------------------------------
def _check_suffix(path) -> str:
    path = os.fspath(path)
    if not path.lower().endswith(schema.FILE_SUFFIXES):
        raise ValueError(
            f"MDF file name {path!r} must end with one of {', '.join(schema.FILE_SUFFIXES)} "
            "(MPIFiles dispatches on the extension)"
        )
    return path


def _canonical_uuid(value, what: str) -> str:
    try:
        return str(_uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"{what} = {value!r} is not a UUID") from None


def _mdf_time(value, what: str) -> str:
    """``yyyy-mm-ddThh:mm:ss.mmm`` in UTC without zone suffix (what MPIFiles parses)."""
    if isinstance(value, datetime):
        t = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        # Python < 3.11 only accepts 3 or 6 fractional digits; trim longer fractions.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{what} = {value!r} is not an ISO 8601 time (expected yyyy-mm-ddThh:mm:ss.mmm)") from None
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc).replace(tzinfo=None)
    return t.isoformat(timespec="milliseconds")


def _wrap_phase(phase_rad: np.ndarray) -> np.ndarray:
    """Map phases into MDF's [-π, π) (the same waveform)."""
    p = np.asarray(phase_rad, dtype=np.float64)
    inside = (p >= -np.pi) & (p < np.pi)
    if np.all(inside):
        return p
    return np.where(inside, p, np.mod(p + np.pi, 2 * np.pi) - np.pi)


def _convert(field: schema.Field, value):
    """``value`` as the numpy object h5py should store for ``field`` (schema dtype and rank)."""
    if field.dtype == "string":
        if field.is_scalar:
            if not isinstance(value, str):
                raise TypeError(f"{field.path} must be a str, got {type(value).__name__}")
            return value
        arr = np.asarray(value, dtype=object)
        return np.vectorize(str, otypes=[object])(arr) if arr.size else arr
    dtype = {"int8": np.int8, "int64": np.int64, "float64": np.float64, "complex": np.complex128}.get(field.dtype)
    if dtype is None:
        raise TypeError(f"{field.path}: schema type {field.dtype!r} is not written by _convert")
    arr = np.asarray(value)
    if field.dtype in ("int8", "int64"):
        if arr.dtype.kind == "f" and not np.all(arr == np.rint(arr)):
            raise ValueError(f"{field.path} must hold integers, got {arr!r}")
        arr = arr.astype(np.int64)
    arr = arr.astype(np.dtype(dtype).newbyteorder("<"))
    if field.shape is not None and arr.ndim != len(field.shape):
        raise ValueError(f"{field.path} must have shape {field.shape} (rank {len(field.shape)}), got {arr.shape}")
    return arr


def _put(f: h5py.File, path: str, value) -> None:
    """Write one MDF dataset with the dtype and rank the schema prescribes."""
    field = schema.FIELDS[path]
    data = _convert(field, value)
    if field.dtype == "string" and not field.is_scalar:
        f.create_dataset(path, data=data, dtype=h5py.string_dtype())
    else:
        f.create_dataset(path, data=data)


def _flag(value) -> np.int8:
    return np.int8(1 if bool(value) else 0)


# --- provenance ------------------------------------------------------------------------
def _write_provenance(group: h5py.Group, prov: dict, where: str) -> None:
    """Store a dict: str → scalar string, numbers → scalar, arrays → datasets, dicts → groups.

    bools become int8 0/1, None values are skipped (with a debug log line).
    """
    for key, value in prov.items():
        key = str(key)
        if not key or "/" in key or key in (".", ".."):
            raise ValueError(f"provenance key {key!r} at {where} is not a valid HDF5 name")
        path = f"{where}/{key}"
        if value is None:
            logger.debug("provenance %s is None; not written", path)
            continue
        if isinstance(value, dict):
            _write_provenance(group.create_group(key), value, path)
            continue
        if isinstance(value, str):
            group.create_dataset(key, data=value)
            continue
        if isinstance(value, bytes):
            group.create_dataset(key, data=value.decode("utf-8"))
            continue
        arr = np.asarray(value)
        if arr.dtype.kind in "USO":
            if not all(isinstance(v, (str, bytes, np.str_)) for v in arr.ravel().tolist()):
                raise TypeError(f"provenance {path}: cannot store a mixed/object array {value!r}")
            group.create_dataset(key, data=np.vectorize(str, otypes=[object])(arr), dtype=h5py.string_dtype())
        elif arr.dtype.kind == "b":
            group.create_dataset(key, data=arr.astype(np.int8))
        elif arr.dtype.kind in "iuf" or arr.dtype.kind == "c":
            group.create_dataset(key, data=arr.astype(arr.dtype.newbyteorder("<")))
        else:
            raise TypeError(f"provenance {path}: cannot store a value of type {type(value).__name__}")


# --- SNR -------------------------------------------------------------------------------
def snr_fallback(data: np.ndarray, background: np.ndarray | None) -> tuple[np.ndarray, str]:
    """SNR per channel and frequency when the caller supplies none.

    Parameters
    ----------
    data : numpy.ndarray, complex, shape (C, K, O)
        Foreground system-matrix rows.
    background : numpy.ndarray, complex, shape (C, K, E), or None

    Returns
    -------
    snr : numpy.ndarray, float64, shape (C, K)
        Finite and >= 0.
    method : str
        One-line description, written to ``/calibration/_snrMethod``.

    Notes
    -----
    With background frames, MPIFiles' first-pass rule (``calculateSystemMatrixSNR``,
    step 1): ``mu`` = mean background, noise = mean ``|bg - mu|`` (``|mu|`` for one
    frame), signal = median over positions of ``|fg - mu|``, SNR = signal/noise (0 where
    the noise is 0).

    Without background there is no noise information. Then the SNR is the row's RMS
    over positions divided by a noise floor assumed at 1/1000 of the strongest RMS of
    the channel (a 60 dB dynamic range), so that thresholds keep their MPIFiles meaning
    "row energy relative to noise" with an explicit, documented floor. Supply
    ``SystemMatrix.snr`` from a real noise model whenever possible.
    """
    data = np.asarray(data)
    if background is not None and background.shape[-1] >= 1:
        bg = np.asarray(background)
        mu = bg.mean(axis=-1, keepdims=True)
        if bg.shape[-1] == 1:
            noise = np.abs(mu[..., 0])
        else:
            noise = np.abs(bg - mu).mean(axis=-1)
        signal = np.median(np.abs(data - mu), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = np.where(noise > 0, signal / np.where(noise > 0, noise, 1.0), 0.0)
        method = "background: median|fg - mean(bg)| / mean|bg - mean(bg)| (MPIFiles step 1)"
    else:
        rms = np.sqrt(np.mean(np.abs(data) ** 2, axis=-1)) if data.shape[-1] else np.zeros(data.shape[:2])
        floor = rms.max(axis=-1, keepdims=True) / SNR_FALLBACK_DYNAMIC_RANGE if rms.size else rms
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = np.where(floor > 0, rms / np.where(floor > 0, floor, 1.0), 0.0)
        method = f"no noise model: row RMS / (channel max row RMS / {SNR_FALLBACK_DYNAMIC_RANGE:g})"
    snr = np.nan_to_num(np.asarray(snr, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return np.maximum(snr, 0.0), method


# --- noise estimate --------------------------------------------------------------------
def noise_estimate(background: np.ndarray | None, given: np.ndarray | None = None) -> tuple[np.ndarray | None, str]:
    """Noise standard deviation per channel and bin, safe for MPIReco's whitening.

    Parameters
    ----------
    background : numpy.ndarray, complex, shape (C, K, E), or None
        Background frames; used when ``given`` is None and E >= 2.
    given : numpy.ndarray, float, shape (C, K), optional
        An estimate from the caller (e.g. a stated noise model); finite and >= 0.

    Returns
    -------
    estimate : numpy.ndarray, float64, shape (C, K), or None
        ``given``, or the standard deviation of the background frames over frames
        (``sqrt(sum |b - mean b|^2 / (E - 1))``, Julia's ``std`` as MPIFiles'
        ``noiseEstimate`` computes it). None when there is nothing to estimate from
        (E < 2) or every entry is 0 (noise-free data): MPIReco's whitening weights
        ``min(σ)/σ`` are undefined then, so nothing is written.
    method : str
        One-line description, written to ``/calibration/_noiseEstimateMethod``.

    Notes
    -----
    Entries equal to 0 (bins whose background frames do not vary at all, e.g. DC behind
    a high-pass filter) would make every whitening weight ``min(σ)/σ`` 0 or NaN; they
    are set to the smallest positive entry. That changes only the common scale of the
    weights, never the ratio of two weights of bins with noise.

    Examples
    --------
    >>> import numpy as np
    >>> bg = np.zeros((1, 3, 4), complex)
    >>> bg[0, 1] = [1, -1, 1, -1]  # bin 1 varies; bins 0 and 2 do not
    >>> bg[0, 2] = [2, 2, 2, 6]
    >>> est, how = noise_estimate(bg)
    >>> est.round(4).tolist()
    [[1.1547, 1.1547, 2.0]]
    """
    if given is not None:
        est = np.asarray(given, dtype=np.float64)
        if not (np.all(np.isfinite(est)) and np.all(est >= 0)):
            raise ValueError("noise_estimate must be finite and >= 0 (a standard deviation)")
        method = "provided by the caller"
    elif background is not None and np.asarray(background).shape[-1] >= 2:
        bg = np.asarray(background)
        dev = bg - bg.mean(axis=-1, keepdims=True)
        est = np.sqrt(np.sum(np.abs(dev) ** 2, axis=-1) / (bg.shape[-1] - 1))
        method = f"std of the {bg.shape[-1]} background frames per channel and bin (n - 1, as MPIFiles' noiseEstimate)"
    else:
        return None, "no background frames and no noise model: not written"
    positive = est[est > 0]
    if positive.size == 0:
        return None, "noise-free (every standard deviation is 0): not written"
    if positive.size < est.size:
        floor = float(positive.min())
        est = np.where(est > 0, est, floor)
        method += f"; bins without spread set to the smallest positive estimate {floor:.6g} (whitening stays finite)"
    return est, method


def _write_noise_estimate(
    f: h5py.File, estimate, method: str, frequency_indices, num_frequencies_full: int, *, calibration: bool
) -> None:
    """``/custom/noiseEstimate`` on the full rfft grid (MPIFiles indexes it by global bin), NaN where not stored;
    the rule goes to ``/calibration/_noiseEstimateMethod`` in calibration files only."""
    if estimate is None:
        logger.debug("no /custom/noiseEstimate: %s", method)
        return
    full = np.full((estimate.shape[0], num_frequencies_full), np.nan)
    full[:, frequency_indices] = estimate
    _put(f, schema.NOISE_ESTIMATE, full)
    if calibration:
        _put(f, schema.NOISE_ESTIMATE_METHOD, method)


def _background_to_store(sm, path: str):
    """Background frames as written: with ``isBackgroundCorrected = 1`` their mean is removed.

    MPIFiles never reads the flag; with ``bgCorrection=true`` its ``systemMatrix``
    subtracts the (block-)mean of the stored background frames from the foreground
    again. Frames with zero mean make that a no-op; their spread (the noise estimate)
    is unchanged.
    """
    bg = sm.background
    if not (sm.is_background_corrected and sm.num_background_frames):
        return bg
    mean = bg.mean(axis=-1, keepdims=True)
    rms = np.sqrt(np.mean(np.abs(bg) ** 2, axis=-1, keepdims=True))
    # 1e-4 of the RMS: far above the rounding of an already removed mean, far below a real background
    if np.all(np.abs(mean) <= 1e-4 * rms):
        return bg
    logger.info(
        "%s: isBackgroundCorrected = 1; the mean of the background frames is removed from them so that "
        "MPIFiles' bgCorrection=true (which ignores the flag) does not subtract it again",
        path,
    )
    return bg - mean


# --- shared groups ---------------------------------------------------------------------
def _write_common(f: h5py.File, obj, *, num_frames: int, num_periods: int, is_simulation: bool) -> None:
    """Root, study, experiment, tracer, scanner and acquisition groups."""
    _put(f, "/version", schema.MDF_VERSION)
    _put(f, "/uuid", _canonical_uuid(obj.uuid, "uuid"))
    _put(f, "/time", _mdf_time(obj.time, "time"))

    st = obj.study
    _put(f, "/study/description", st.description)
    _put(f, "/study/name", st.name)
    _put(f, "/study/number", int(st.number))
    _put(f, "/study/uuid", _canonical_uuid(st.uuid, "study.uuid"))
    if st.time is not None:
        _put(f, "/study/time", _mdf_time(st.time, "study.time"))

    ex = obj.experiment
    _put(f, "/experiment/description", ex.description)
    _put(f, "/experiment/isSimulation", _flag(is_simulation))
    _put(f, "/experiment/name", ex.name)
    _put(f, "/experiment/number", int(ex.number))
    _put(f, "/experiment/subject", ex.subject)
    _put(f, "/experiment/uuid", _canonical_uuid(ex.uuid, "experiment.uuid"))

    tr = obj.tracer
    if tr is not None:
        vectors = {
            "batch": tr.batch,
            "name": tr.name,
            "solute": tr.solute,
            "vendor": tr.vendor,
            "concentration": tr.concentration_molL,
            "volume": tr.volume_L,
        }
        if tr.injection_time is not None:
            vectors["injectionTime"] = [_mdf_time(t, "tracer.injection_time") for t in tr.injection_time]
        lengths = {k: len(v) for k, v in vectors.items()}
        if len(set(lengths.values())) != 1 or 0 in lengths.values():
            raise ValueError(f"tracer fields must all have the same length A >= 1, got {lengths}")
        for key, value in vectors.items():
            _put(f, f"/tracer/{key}", value)

    sc = obj.scanner
    if sc.bore_size_m is not None:
        _put(f, "/scanner/boreSize", float(sc.bore_size_m))
    for key in ("facility", "manufacturer", "name", "operator", "topology"):
        _put(f, f"/scanner/{key}", getattr(sc, key))

    acq = obj.acquisition
    _put(f, "/acquisition/numAverages", int(acq.num_averages))
    _put(f, "/acquisition/numFrames", int(num_frames))
    _put(f, "/acquisition/numPeriodsPerFrame", int(num_periods))
    _put(f, "/acquisition/startTime", _mdf_time(acq.start_time, "acquisition.start_time"))
    if acq.gradient_Tm is not None:
        g = np.asarray(acq.gradient_Tm, dtype=np.float64)
        if g.shape == (3, 3):
            g = g.reshape(1, 1, 3, 3)
        _put(f, "/acquisition/gradient", g)
    if acq.offset_field_T is not None:
        o = np.asarray(acq.offset_field_T, dtype=np.float64)
        if o.shape == (3,):
            o = o.reshape(1, 1, 3)
        _put(f, "/acquisition/offsetField", o)

    df = obj.drive_field
    if np.any(df.strengths_T < 0) or not np.all(np.isfinite(df.strengths_T)):
        raise ValueError("drive_field.strengths_T must be finite and >= 0 (MDF stores amplitudes)")
    if np.any(df.dividers < 1):
        raise ValueError("drive_field.dividers must all be >= 1")
    if df.num_periods != num_periods:
        raise ValueError(
            f"drive_field has {df.num_periods} periods (strengths_T {df.strengths_T.shape}) "
            f"but the data hold J = {num_periods}"
        )
    if not (df.base_frequency_Hz > 0 and df.cycle_s > 0):
        raise ValueError("drive_field.base_frequency_Hz and cycle_s must be > 0")
    _put(f, "/acquisition/drivefield/baseFrequency", df.base_frequency_Hz)
    _put(f, "/acquisition/drivefield/cycle", df.cycle_s)
    _put(f, "/acquisition/drivefield/divider", df.dividers)
    _put(f, "/acquisition/drivefield/numChannels", df.num_channels)
    _put(f, "/acquisition/drivefield/phase", _wrap_phase(df.phases_rad))
    _put(f, "/acquisition/drivefield/strength", df.strengths_T)
    bad = sorted({str(w) for w in np.ravel(df.waveforms)} - set(schema.WAVEFORMS))
    if bad:
        raise ValueError(f"drive_field.waveforms {bad} not in {schema.WAVEFORMS}")
    _put(f, "/acquisition/drivefield/waveform", df.waveforms)
    if df.manual_prefactors is not None:  # MPIFiles reads them in place of the computed prefactors
        f.create_dataset(schema.MANUAL_PREFACTORS, data=np.asarray(df.manual_prefactors, dtype=np.int64))


def _write_receiver(f: h5py.File, rx, frequency_indices: np.ndarray) -> None:
    if not rx.bandwidth_Hz > 0:
        raise ValueError(f"receiver.bandwidth_Hz must be > 0, got {rx.bandwidth_Hz}")
    if rx.num_sampling_points < 1 or rx.num_channels < 1:
        raise ValueError("receiver.num_sampling_points and num_channels must be >= 1")
    R = "/acquisition/receiver/"
    _put(f, R + "bandwidth", rx.bandwidth_Hz)
    _put(f, R + "numChannels", rx.num_channels)
    _put(f, R + "numSamplingPoints", rx.num_sampling_points)
    _put(f, R + "unit", str(rx.unit))
    if rx.data_conversion_factor is not None:
        _put(f, R + "dataConversionFactor", np.asarray(rx.data_conversion_factor).reshape(rx.num_channels, 2))
    if rx.induction_factor is not None:
        _put(f, R + "inductionFactor", np.asarray(rx.induction_factor).reshape(rx.num_channels))
    if rx.transfer_function is not None:
        tf = np.asarray(rx.transfer_function)
        if tf.shape != (rx.num_channels, rx.num_frequencies):
            raise ValueError(
                f"receiver.transfer_function must have shape (C, K_full) = "
                f"({rx.num_channels}, {rx.num_frequencies}), got {tf.shape}"
            )
        tf = tf[:, frequency_indices]
        if np.all(np.isfinite(tf)):
            _put(f, R + "transferFunction", tf)
        else:
            logger.warning("transfer function is not finite on every stored frequency; not written")


def _write_data(f: h5py.File, blocks, shape: tuple, dtype: np.dtype) -> None:
    """Preallocate a contiguous ``/measurement/data`` and copy ``blocks`` slab by slab.

    ``blocks`` is a list of ``(array (J, C, K, n), frame_offset)``; frames are the last
    axis.
    """
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.CONTIGUOUS)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    ds = f.create_dataset("/measurement/data", shape=shape, dtype=dtype, dcpl=dcpl)
    J, C, K, _ = shape
    for block, start in blocks:
        n = block.shape[-1]
        if n == 0:
            continue
        row_bytes = max(1, n * dtype.itemsize)
        step = max(1, SLAB_BYTES // row_bytes)
        for j in range(J):
            for c in range(C):
                for k0 in range(0, K, step):
                    k1 = min(K, k0 + step)
                    ds[j, c, k0:k1, start : start + n] = np.asarray(block[j, c, k0:k1, :], dtype=dtype)


def _complex_dtype(*arrays) -> np.dtype:
    """complex64 if every array is complex64, else complex128 (little-endian)."""
    kinds = {np.asarray(a).dtype for a in arrays if a is not None}
    base = np.complex64 if kinds and all(k == np.complex64 for k in kinds) else np.complex128
    return np.dtype(base).newbyteorder("<")


def _write_flags(
    f: h5py.File, *, frequency_selection: bool, frame_permutation: bool, background_corrected: bool, tf_corrected: bool
) -> None:
    M = "/measurement/"
    values = {
        "isBackgroundCorrected": background_corrected,
        "isFastFrameAxis": True,
        "isFourierTransformed": True,
        "isFramePermutation": frame_permutation,
        "isFrequencySelection": frequency_selection,
        "isSparsityTransformed": False,
        "isSpectralLeakageCorrected": False,
        "isTransferFunctionCorrected": tf_corrected,
    }
    for name, value in values.items():
        _put(f, M + name, _flag(value))


def _frequency_selection(f: h5py.File, frequency_indices: np.ndarray, num_frequencies_full: int) -> bool:
    full = frequency_indices.shape == (num_frequencies_full,) and np.array_equal(
        frequency_indices, np.arange(num_frequencies_full)
    )
    if not full:
        _put(f, "/measurement/frequencySelection", frequency_indices + 1)
    return not full


def _validate_before_rename(tmp: str, target: str) -> None:
    from .validation import check  # local import: validate imports nothing from here

    problems = check(tmp, check_name=False)
    for level, line in problems:
        if level != "error":
            logger.warning("%s: %s", target, line)
    errors = [line for level, line in problems if level == "error"]
    if errors:
        raise MDFError(
            "internal error: the written file does not conform; not saved:\n  " + "\n  ".join(errors),
            path=target,
        )


def _prepare_target(path, overwrite: bool) -> str:
    path = _check_suffix(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists (pass overwrite=True to replace it)")
    return path


# --- public API ------------------------------------------------------------------------
def write_system_matrix(path, sm, *, overwrite: bool = True) -> str:
    """Write a system matrix as an MDF v2.1 calibration file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; must end with ``.mdf``, ``.h5`` or ``.hdf``.
    sm : SystemMatrix
        Data ``(C, K, O)`` (foreground, x fastest), optional background ``(C, K, E)``
        and SNR ``(C, K)``; not modified.
    overwrite : bool
        Replace an existing file (default). With False an existing file raises
        :class:`FileExistsError`.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        Bad file name or data that cannot be written conformantly (negative drive
        strength, malformed UUID/time, tracer fields of different lengths, ...).
    MDFError
        The written file failed validation (a bug); the target is left untouched.

    Notes
    -----
    ``offsetFields`` (T) is written for ``method`` "hybrid"/"simulation" when
    ``sm.offset_fields_T`` is set, ``positions`` (m) otherwise; never both: the
    other array is kept under ``/calibration/_positions`` or ``_offsetFields``.
    Without either, the grid points are derived from size/fov/centre
    (``regular_grid``) in ``sm.field_of_view_unit``. Without ``sm.snr`` the SNR comes
    from :func:`snr_fallback`.

    A grid in tesla (``field_of_view_unit="T"``) is written with method "hybrid",
    whatever ``sm.method`` says: MPIFiles' ``calibGrid`` takes ``fieldOfView`` as tesla
    only for "hybrid". ``/experiment/isSimulation`` says whether it was simulated.
    ``/custom/noiseEstimate`` comes from :func:`noise_estimate` (``sm.noise_estimate``,
    else the background frames); nothing is written for noise-free data.

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> import os, tempfile
    >>> from mdf_neel.mdf import validate
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_system_matrix(os.path.join(tmp, "sm.mdf"), sm)
    ...     problems = validate(path)
    >>> os.path.basename(path), problems
    ('sm.mdf', [])
    """
    path = _prepare_target(path, overwrite)
    C, K, O = sm.data.shape
    E = sm.num_background_frames
    if sm.field_of_view_unit not in ("T", "m"):
        raise ValueError(f"field_of_view_unit must be 'T' or 'm', got {sm.field_of_view_unit!r}")
    if sm.order not in schema.ORDERS:
        raise ValueError(f"order must be one of {schema.ORDERS}, got {sm.order!r}")
    if np.any(sm.grid_size < 1):
        raise ValueError(f"grid_size must be >= 1 on every axis, got {sm.grid_size.tolist()}")
    fov = np.asarray(sm.field_of_view, dtype=np.float64)
    if np.any(fov[sm.grid_size > 1] <= 0):
        raise ValueError(f"field_of_view must be > 0 on axes with more than one point, got {fov.tolist()}")
    # MPIFiles takes fieldOfView/fieldOfViewCenter as tesla only for method "hybrid" (calibGrid)
    method = str(sm.method)
    if sm.field_of_view_unit == "T" and method != "hybrid":
        logger.info("%s: method %r written as 'hybrid' (offset-field grid in tesla)", path, method)
        method = "hybrid"
    elif sm.field_of_view_unit == "m" and method == "hybrid":
        logger.warning("%s: method 'hybrid' with a grid in metres; MPIFiles labels it tesla", path)
    background = _background_to_store(sm, path)
    noise, noise_method = noise_estimate(sm.background, sm.noise_estimate)

    # a producer that documents its SNR rule in provenance["snr_rule"] gets it named here
    snr_method = str(sm.provenance.get("snr_rule", "provided by the caller"))
    snr = sm.snr
    if snr is None:
        snr, snr_method = snr_fallback(sm.data, sm.background)
        logger.info("no SNR given; using the fallback rule: %s", snr_method)
    snr = np.asarray(snr, dtype=np.float64)
    if not (np.all(np.isfinite(snr)) and np.all(snr >= 0)):
        raise ValueError("snr must be finite and >= 0 (MPIFiles thresholds on it)")

    grid_kind, grid, other_kind, other = _grid_arrays(sm)
    dtype = _complex_dtype(sm.data, sm.background)
    blocks = [(sm.data[np.newaxis], 0)]
    if E:
        blocks.append((np.asarray(background, dtype=dtype)[np.newaxis], O))

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            _write_common(
                f,
                sm,
                num_frames=O + E,
                num_periods=1,
                is_simulation=sm.method == "simulation" or bool(sm.experiment.is_simulation),
            )
            _write_receiver(f, sm.receiver, sm.frequency_indices)
            selected = _frequency_selection(f, sm.frequency_indices, sm.receiver.num_frequencies)
            _write_flags(
                f,
                frequency_selection=selected,
                frame_permutation=False,
                background_corrected=sm.is_background_corrected,
                tf_corrected=sm.is_transfer_function_corrected,
            )
            _put(f, "/measurement/isBackgroundFrame", np.r_[np.zeros(O, np.int8), np.ones(E, np.int8)])
            _write_data(f, blocks, (1, C, K, O + E), dtype)

            Cal = "/calibration/"
            _put(f, Cal + "method", method)
            _put(f, Cal + "size", sm.grid_size)
            _put(f, Cal + "fieldOfView", fov)
            _put(f, Cal + "fieldOfViewCenter", sm.field_of_view_center)
            _put(f, Cal + "order", sm.order)
            _put(f, Cal + grid_kind, grid)
            if other is not None:
                f.create_dataset(Cal + "_" + other_kind, data=np.asarray(other, dtype="<f8"))
            if sm.delta_sample_size_m is not None:
                _put(f, Cal + "deltaSampleSize", sm.delta_sample_size_m)
            _put(f, Cal + "snr", snr.reshape(1, C, K))
            _put(f, schema.SNR_METHOD, snr_method)
            _write_noise_estimate(
                f, noise, noise_method, sm.frequency_indices, sm.receiver.num_frequencies, calibration=True
            )
            _put(f, schema.FOV_UNIT, sm.field_of_view_unit)
            if sm.easy_axis_angle_deg is not None:
                _put(f, schema.EASY_AXIS_ANGLE, float(sm.easy_axis_angle_deg))
                if sm.easy_axis_polar_deg == 90.0:
                    _put(f, schema.EASY_AXIS_CONVENTION, schema.EASY_AXIS_CONVENTION_TEXT)
                else:
                    _put(f, schema.EASY_AXIS_POLAR_ANGLE, float(sm.easy_axis_polar_deg))
                    _put(f, schema.EASY_AXIS_CONVENTION, schema.EASY_AXIS_CONVENTION_TEXT_3D)
            if sm.provenance:
                _write_provenance(f.create_group(schema.PROVENANCE), sm.provenance, schema.PROVENANCE)
            stamp_checksums(f)
        _validate_before_rename(tmp, path)
    logger.info("wrote %s: %r", path, sm)
    return path


def _grid_arrays(sm):
    """(name, array, other_name, other_array) for /calibration offsetFields/positions."""
    offsets, positions = sm.offset_fields_T, sm.positions_m
    prefer_offsets = sm.method in ("hybrid", "simulation")
    if offsets is None and positions is None:
        from ..sequence import regular_grid

        points = regular_grid(sm.grid_size, sm.field_of_view, sm.field_of_view_center)
        logger.info("no offsets/positions given; writing the regular grid in %s", sm.field_of_view_unit)
        return (
            ("offsetFields", points, None, None) if sm.field_of_view_unit == "T" else ("positions", points, None, None)
        )
    if offsets is not None and (prefer_offsets or positions is None):
        return "offsetFields", offsets, "positions", positions
    return "positions", positions, "offsetFields", offsets


def write_measurement(path, meas, *, overwrite: bool = True) -> str:
    """Write a measurement as an MDF v2.1 file (no ``/calibration``), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; must end with ``.mdf``, ``.h5`` or ``.hdf``.
    meas : Measurement
        Data ``(J, C, K, N)`` complex spectra, ``is_background_frame`` (N,),
        optional 1-based-on-disk ``frame_permutation``; not modified.
    overwrite : bool
        Replace an existing file (default).

    Returns
    -------
    str
        The path written.

    Notes
    -----
    Layout: ``isFourierTransformed = 1``, ``isFastFrameAxis = 1`` (data as
    ``(J, C, K, N)``, exactly ``Measurement.data``), frequency selection as for system
    matrices; ``framePermutation`` is stored 1-based when ``meas.frame_permutation`` is
    set (which holds 0-based acquisition indices). ``meas.tracer = None`` omits
    ``/tracer``. Provenance goes to ``/_provenance``.
    """
    path = _prepare_target(path, overwrite)
    J, C, K, N = meas.data.shape
    if meas.receiver.num_channels != C:
        raise ValueError(f"receiver.num_channels = {meas.receiver.num_channels} but data has {C} channels")
    fi = meas.frequency_indices
    if K and (np.any(np.diff(fi) <= 0) or fi[0] < 0 or fi[-1] >= meas.receiver.num_frequencies):
        raise ValueError(f"frequency_indices must be strictly increasing in [0, {meas.receiver.num_frequencies - 1}]")
    perm = meas.frame_permutation
    if perm is not None and not np.array_equal(np.sort(perm), np.arange(N)):
        raise ValueError(f"frame_permutation must be a permutation of 0..{N - 1} (0-based)")
    data = meas.data if np.iscomplexobj(meas.data) else meas.data.astype(np.complex128)
    dtype = _complex_dtype(data)
    noise, noise_method = noise_estimate(None, meas.noise_estimate)

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            _write_common(
                f,
                meas,
                num_frames=N,
                num_periods=J,
                is_simulation=bool(meas.experiment.is_simulation),
            )
            _write_receiver(f, meas.receiver, fi)
            selected = _frequency_selection(f, fi, meas.receiver.num_frequencies)
            _write_flags(
                f,
                frequency_selection=selected,
                frame_permutation=perm is not None,
                background_corrected=meas.is_background_corrected,
                tf_corrected=meas.is_transfer_function_corrected,
            )
            if perm is not None:
                _put(f, "/measurement/framePermutation", np.asarray(perm) + 1)
            _put(f, "/measurement/isBackgroundFrame", meas.is_background_frame.astype(np.int8))
            _write_data(f, [(data, 0)], (J, C, K, N), dtype)
            _write_noise_estimate(f, noise, noise_method, fi, meas.receiver.num_frequencies, calibration=False)
            if meas.provenance:
                _write_provenance(f.create_group(schema.PROVENANCE), meas.provenance, schema.PROVENANCE)
            stamp_checksums(f)
        _validate_before_rename(tmp, path)
    logger.info("wrote measurement %s: data %s", path, meas.data.shape)
    return path
