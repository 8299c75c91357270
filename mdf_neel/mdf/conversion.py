"""Convert MDF files: v1 → v2.1, decompress, select frequencies, background-correct,
estimate SNR, recompress, expand to every rfft bin (no frequency selection).

Two paths (``docs/mdf-reading.md``):

* **Plain copy.** A v2 file converted without options (and not sparsity-transformed,
  or with ``decompress=False``) is copied object by object at the HDF5 level
  (``h5py.Group.copy``: dtypes, shapes, layouts, strings, custom ``_`` fields and
  attributes unchanged). A 2.0.x file is upgraded in place of the copy: ``/version``
  becomes "2.1.0", ``isSparsityTransformed = 0`` is added and a legacy
  ``isTransposed`` is renamed ``isFastFrameAxis``.
* **Through the data model.** Otherwise the file is read with
  :func:`~mdf_neel.mdf.reader.read_system_matrix` (or ``read_measurement`` for
  non-calibration files), processed, and written with the conformant writer;
  ``recompress`` then replaces the data by DCT coefficients (MPIFiles' layout).

Outputs are written atomically: a failure leaves no partial output.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile

import h5py
import numpy as np

from .._atomic import atomic_path
from ..errors import MDFError
from ..sequence import mixing_orders
from ..systemmatrix import Measurement, SystemMatrix
from . import _h5
from ._checksums import stamp_checksums, verify_checksums
from ._frames import check_background_correction
from .reader import _major_version, read_measurement, read_system_matrix, sparsity_transform
from .validation import validate
from .writer import snr_fallback, write_measurement, write_system_matrix

__all__ = [
    "convert",
    "select_frequencies",
    "frequency_mask",
    "mpifiles_frequencies",
    "expand_frequencies",
    "estimate_snr",
    "compress",
    "SNR_TOP_FREQUENCIES",
]

logger = logging.getLogger("mdf_neel.mdf.conversion")

#: Frequencies used to locate the signal region in :func:`estimate_snr` (MPIFiles: 20).
SNR_TOP_FREQUENCIES = 20
_TARGET_VERSION = "2.1.0"


# --------------------------------------------------------------------------------------
# frequency selection (MPIFiles' filterFrequencies)
# --------------------------------------------------------------------------------------
def frequency_mask(
    sm,
    *,
    snr_threshold=None,
    min_frequency_Hz=None,
    max_frequency_Hz=None,
    max_mixing_order=None,
    receive_channels=None,
) -> np.ndarray:
    """Which stored frequencies survive MPIFiles' ``filterFrequencies`` rules.

    Parameters
    ----------
    sm : SystemMatrix
    snr_threshold : float, optional
        Applied when > 0: keep (k, c) with ``sm.snr[c, k] >= snr_threshold``; a
        frequency survives if any selected channel passes. Needs ``sm.snr``.
    min_frequency_Hz, max_frequency_Hz : float, optional
        Inclusive bounds in Hz, applied when min > 0 and max < bandwidth, compared
        exactly (no tolerance) with MPIFiles' bin frequencies ``k·(2·bandwidth/V)`` in
        float64 (:func:`mpifiles_frequencies`): keep ``f_k >= min`` and ``f_k <= max``.
        A bound a rounding step above a bin's float64 frequency drops that bin, as in
        MPIFiles. NaN raises ValueError.
    max_mixing_order : int, optional
        Applied when > 0: keep bins with ``0 <= order <= max_mixing_order``
        (:func:`mdf_neel.sequence.mixing_orders`, any number of drive channels, with the
        file's ``/measurement/_manualPrefactors`` when present; unreachable bins have
        order -1).
    receive_channels : sequence of int, optional
        0-based channels to consider (default all).

    Returns
    -------
    numpy.ndarray of bool, shape (K,)

    Examples
    --------
    >>> from mdf_neel.sequence import paper_2d_sequence
    >>> from mdf_neel.systemmatrix import SystemMatrix
    >>> seq = paper_2d_sequence()  # V = 1632, bandwidth 1.25 MHz
    >>> sm = SystemMatrix(np.ones((2, 3, 1), complex), [52, 53, 54], seq.drive_field, seq.receiver,
    ...                   grid_size=(1, 1, 1), field_of_view=np.zeros(3), field_of_view_center=np.zeros(3))
    >>> f53 = mpifiles_frequencies(sm.receiver)[53]  # 81188.72549019607 Hz in MPIFiles
    >>> frequency_mask(sm, min_frequency_Hz=f53).tolist()
    [False, True, True]
    >>> frequency_mask(sm, min_frequency_Hz=81188.72549019608).tolist()  # one float64 step above
    [False, False, True]
    """
    channels = _channels(sm.num_channels, receive_channels)
    keep = _band_mask(sm.frequency_indices, sm.receiver, min_frequency_Hz, max_frequency_Hz)
    if max_mixing_order is not None and max_mixing_order > 0:
        order = mixing_orders(sm.drive_field, sm.receiver.num_frequencies)[sm.frequency_indices, -1]
        keep &= (order >= 0) & (order <= int(max_mixing_order))
    if snr_threshold is not None and snr_threshold > 0:
        if sm.snr is None:
            raise ValueError("snr_threshold needs sm.snr (none stored; estimate it with estimate_snr)")
        keep &= np.any(sm.snr[channels] >= snr_threshold, axis=0)
    return keep


def mpifiles_frequencies(receiver) -> np.ndarray:
    """Frequencies of all rfft bins exactly as MPIFiles computes them (``rxFrequencies``).

    MPIFiles uses ``rfftfreq(V, 2·bandwidth)`` of AbstractFFTs: bin ``k`` (0-based) is
    ``k * ((2·bandwidth) / V)`` with both operations rounded to float64. The result can
    differ by one unit in the last place from ``numpy.fft.rfftfreq`` (which computes
    ``k * (1 / (V·(1/(2·bandwidth))))``) and from ``k·2·bandwidth/V``; the band bounds of
    :func:`frequency_mask` are compared with these values.

    Parameters
    ----------
    receiver : Receiver
        ``bandwidth_Hz`` and ``num_sampling_points`` V are used.

    Returns
    -------
    numpy.ndarray, float64, shape (V//2 + 1,)
        Hz.

    Examples
    --------
    >>> from mdf_neel.sequence import Receiver
    >>> f = mpifiles_frequencies(Receiver(bandwidth_Hz=1.25e6, num_sampling_points=1632, num_channels=2))
    >>> f.size, float(f[53]), float(f[-1])
    (817, 81188.72549019607, 1250000.0)
    """
    V = int(receiver.num_sampling_points)
    step = (2.0 * float(receiver.bandwidth_Hz)) / V
    return np.arange(V // 2 + 1, dtype=np.float64) * step


def _band_mask(frequency_indices, receiver, min_frequency_Hz, max_frequency_Hz) -> np.ndarray:
    """MPIFiles' minFreq/maxFreq filters on the stored bins ``frequency_indices`` (0-based).

    MPIFiles keeps bins from ``searchsortedfirst(rxFrequencies, minFreq)`` up to
    ``searchsortedlast(rxFrequencies, maxFreq)``; on the non-decreasing float64 grid
    that is exactly ``f >= minFreq`` and ``f <= maxFreq``.
    """
    for name, value in (("min_frequency_Hz", min_frequency_Hz), ("max_frequency_Hz", max_frequency_Hz)):
        if value is not None and np.isnan(value):
            raise ValueError(f"{name} must be a number, got NaN")
    f_Hz = mpifiles_frequencies(receiver)[np.asarray(frequency_indices, dtype=np.int64)]
    keep = np.ones(f_Hz.size, dtype=bool)
    if min_frequency_Hz is not None and min_frequency_Hz > 0:
        keep &= f_Hz >= float(min_frequency_Hz)
    if max_frequency_Hz is not None and max_frequency_Hz < receiver.bandwidth_Hz:
        keep &= f_Hz <= float(max_frequency_Hz)
    return keep


def _subset_receiver(rx, ch):
    """The receiver restricted to the 0-based channels ``ch``."""
    pick = lambda v: None if v is None else np.asarray(v)[ch]  # noqa: E731
    return dataclasses.replace(
        rx,
        num_channels=ch.size,
        transfer_function=pick(rx.transfer_function),
        data_conversion_factor=pick(rx.data_conversion_factor),
        induction_factor=pick(rx.induction_factor),
    )


def _channels(C: int, receive_channels) -> np.ndarray:
    if receive_channels is None:
        return np.arange(C)
    ch = np.asarray(receive_channels, dtype=np.int64).reshape(-1)
    if ch.size == 0 or np.any(ch < 0) or np.any(ch >= C) or np.unique(ch).size != ch.size:
        raise ValueError(f"receive_channels must be distinct 0-based channels in [0, {C - 1}], got {ch.tolist()}")
    return np.sort(ch)


def select_frequencies(
    sm,
    *,
    snr_threshold=None,
    min_frequency_Hz=None,
    max_frequency_Hz=None,
    max_mixing_order=None,
    receive_channels=None,
):
    """A new system matrix with the frequencies (and channels) MPIFiles would keep.

    Parameters are those of :func:`frequency_mask`; ``receive_channels`` also drops
    the other channels (data, background, SNR, transfer function, induction and
    conversion factors).

    Returns
    -------
    SystemMatrix
        ``sm`` is not modified.

    Raises
    ------
    ValueError
        No frequency survives, bad channels, or an SNR threshold without SNR.
    """
    keep = frequency_mask(
        sm,
        snr_threshold=snr_threshold,
        min_frequency_Hz=min_frequency_Hz,
        max_frequency_Hz=max_frequency_Hz,
        max_mixing_order=max_mixing_order,
        receive_channels=receive_channels,
    )
    if not keep.any():
        raise ValueError("no frequency survives the selection")
    ch = _channels(sm.num_channels, receive_channels)
    receiver = _subset_receiver(sm.receiver, ch)
    rows = np.flatnonzero(keep)
    return sm.replace(
        data=sm.data[np.ix_(ch, rows)],
        frequency_indices=sm.frequency_indices[rows],
        background=None if sm.background is None else sm.background[np.ix_(ch, rows)],
        snr=None if sm.snr is None else sm.snr[np.ix_(ch, rows)],
        noise_estimate=None if sm.noise_estimate is None else sm.noise_estimate[np.ix_(ch, rows)],
        receiver=receiver,
    )


#: Provenance key under which :func:`expand_frequencies` records the bins it expanded from.
EXPANSION_PROVENANCE_KEY = "frequency_expansion"


def expand_frequencies(content):
    """The same content on the full rfft grid: no MDF frequency selection left.

    For readers that ignore ``/measurement/frequencySelection`` (and pair stored row
    ``i`` with bin ``i``): every bin ``k = 0 … V//2`` gets a row; the stored rows keep
    their values and the others are zero.

    Parameters
    ----------
    content : SystemMatrix or Measurement
        Not modified.

    Returns
    -------
    SystemMatrix or Measurement
        ``frequency_indices = arange(V//2 + 1)``; ``data`` (and a system matrix's
        ``background``) zero on the added bins, same dtype. The SNR is 0 on the added
        bins (without an SNR, the writer's :func:`~mdf_neel.mdf.writer.snr_fallback`
        is computed on the stored rows first and named in ``provenance["snr_rule"]``),
        so an SNR threshold > 0 drops them again. A transfer function is 1 on the added
        bins (a client that divides by it keeps the zero rows zero); a noise estimate
        is the smallest positive stored value there (whitening weights ``min σ / σ``
        stay defined). The 0-based bins that were stored are recorded in
        ``provenance["frequency_expansion"]["stored_bins"]``.

    Raises
    ------
    TypeError
        ``content`` is neither a SystemMatrix nor a Measurement.

    Examples
    --------
    >>> from mdf_neel.sequence import paper_2d_sequence
    >>> from mdf_neel.systemmatrix import SystemMatrix
    >>> seq = paper_2d_sequence()  # V = 1632: bins 0 … 816
    >>> sm = SystemMatrix(np.ones((2, 3, 4), complex), [16, 17, 33], seq.drive_field, seq.receiver,
    ...                   grid_size=(2, 2, 1), field_of_view=np.ones(3), field_of_view_center=np.zeros(3))
    >>> full = expand_frequencies(sm)
    >>> full.data.shape, bool(np.all(full.data[:, [16, 17, 33]] == sm.data)), float(abs(full.data[:, 18]).max())
    ((2, 817, 4), True, 0.0)
    >>> full.provenance["frequency_expansion"]["stored_bins"].tolist()
    [16, 17, 33]
    """
    if not isinstance(content, (SystemMatrix, Measurement)):
        raise TypeError(f"expand_frequencies needs a SystemMatrix or Measurement, got {type(content).__name__}")
    rx = content.receiver
    bins = content.frequency_indices
    K_full = rx.num_frequencies

    def full(array, axis):
        # zero rows on the added bins, stored rows copied, dtype kept (complex64 stays complex64)
        shape = list(array.shape)
        shape[axis] = K_full
        out = np.zeros(shape, dtype=array.dtype)
        index = [slice(None)] * array.ndim
        index[axis] = bins
        out[tuple(index)] = array
        return out

    tf = rx.transfer_function
    if tf is not None:
        tf = np.ones((rx.num_channels, K_full), dtype=np.complex128)
        tf[:, bins] = rx.transfer_function[:, bins]
    receiver = dataclasses.replace(rx, transfer_function=tf)
    extra = {}
    noise = getattr(content, "noise_estimate", None)
    if noise is not None:
        positive = noise[noise > 0]
        full_noise = np.full((noise.shape[0], K_full), positive.min() if positive.size else 0.0)
        full_noise[:, bins] = noise
        extra["noise_estimate"] = full_noise
    provenance = {
        **content.provenance,
        EXPANSION_PROVENANCE_KEY: {
            "stored_bins": bins.copy(),
            "rule": "rows of the other rfft bins are zero, their SNR 0 and their transfer function 1",
        },
    }
    if isinstance(content, Measurement):
        return content.replace(
            data=full(content.data, 2),
            frequency_indices=np.arange(K_full),
            receiver=receiver,
            provenance=provenance,
            **extra,
        )
    snr = content.snr
    if snr is None:
        snr, rule = snr_fallback(content.data, content.background)
        provenance["snr_rule"] = rule
    return content.replace(
        data=full(content.data, 1),
        frequency_indices=np.arange(K_full),
        background=None if content.background is None else full(content.background, 1),
        snr=full(np.asarray(snr, dtype=np.float64), 1),
        receiver=receiver,
        provenance=provenance,
        **extra,
    )


# --------------------------------------------------------------------------------------
# SNR from background frames (MPIFiles' calculateSystemMatrixSNR)
# --------------------------------------------------------------------------------------
def estimate_snr(sm) -> np.ndarray:
    """SNR per channel and frequency from the background frames, as MPIFiles does.

    For each channel: (1) per row, ``mu`` = mean background, noise = mean
    ``|bg - mu|`` (``|mu|`` for one background frame), signal = median over
    positions of ``|fg - mu|``; (2) the ``min(20, K)`` rows with the highest first
    SNR mark a signal region: positions where ``|fg| > 0.9·max|fg|`` in any of them;
    (3) per row, signal = median of ``|fg - mu|`` inside the region, replaced by the
    median over the row's own positions above ``0.9·max|fg|`` when it exceeds
    ``3.5·noise``; SNR = signal/noise (0 where the noise is 0).

    Parameters
    ----------
    sm : SystemMatrix
        With ``background`` (C, K, E), E >= 1.

    Returns
    -------
    numpy.ndarray, float64, shape (C, K)
    """
    if sm.background is None or sm.background.shape[-1] == 0:
        raise ValueError("estimate_snr needs background frames (sm.background is empty)")
    fg = np.asarray(sm.data)
    bg = np.asarray(sm.background)
    mu = bg.mean(axis=-1, keepdims=True)
    noise = np.abs(mu[..., 0]) if bg.shape[-1] == 1 else np.abs(bg - mu).mean(axis=-1)
    dev = np.abs(fg - mu)  # (C, K, O)
    absfg = np.abs(fg)
    peak = absfg > 0.9 * absfg.max(axis=-1, keepdims=True)  # empty for all-zero rows
    safe = np.where(noise > 0, noise, 1.0)
    first = np.where(noise > 0, np.median(dev, axis=-1) / safe, 0.0)
    snr = np.zeros(fg.shape[:2])
    C, K = fg.shape[:2]
    for c in range(C):
        top = np.argsort(first[c])[::-1][: min(SNR_TOP_FREQUENCIES, K)]
        region = np.any(peak[c, top], axis=0)
        if not region.any():
            snr[c] = first[c]
            continue
        signal = np.median(dev[c][:, region], axis=-1)
        for k in np.flatnonzero(signal > 3.5 * noise[c]):
            if peak[c, k].any():
                signal[k] = np.median(dev[c, k, peak[c, k]])
        snr[c] = np.where(noise[c] > 0, signal / safe[c], 0.0)
    return np.nan_to_num(snr, nan=0.0, posinf=0.0, neginf=0.0)


# --------------------------------------------------------------------------------------
# compression
# --------------------------------------------------------------------------------------
def compress(sm, fraction: float, transform: str = "DCT-IV"):
    """DCT coefficients of every row, keeping the largest ones (MPIFiles' ``compressCalibMDF``).

    Parameters
    ----------
    sm : SystemMatrix
    fraction : float
        Fraction of the O coefficients kept per row, in (0, 1]; B = max(1, floor(fraction·O)).
    transform : {"DCT-II", "DCT-IV"}
        Orthonormal transform over the grid (``scipy.fft.dctn(type=2|4, norm="ortho")``).

    Returns
    -------
    values : numpy.ndarray, complex, shape (C, K, B)
        Kept coefficients, largest magnitude first.
    indices : numpy.ndarray of int64, shape (C, K, B)
        0-based coefficient indices (grid order, x fastest).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if transform not in ("DCT-II", "DCT-IV"):
        raise ValueError(f"transform must be 'DCT-II' or 'DCT-IV' (what MPIFiles can invert), got {transform!r}")
    O = sm.num_positions
    B = max(1, int(np.floor(fraction * O)))
    y = sparsity_transform(sm.data, sm.grid_shape, transform)
    idx = np.argsort(-np.abs(y), axis=-1, kind="stable")[..., :B]
    return np.take_along_axis(y, idx, axis=-1), idx


# --------------------------------------------------------------------------------------
# HDF5-level copy
# --------------------------------------------------------------------------------------
def _copy_file(src: h5py.File, dst: h5py.File, skip=()):
    """Copy every top-level object and root attribute of ``src`` into ``dst``."""
    for key, value in src.attrs.items():
        dst.attrs[key] = value
    for name in src:
        if "/" + name in skip:
            continue
        src.copy(src[name], dst, name=name)
    for path in skip:
        if path in dst:
            del dst[path]


def _upgrade_in_place(f: h5py.File, version: str) -> None:
    """2.0.x → 2.1.0 on a fresh copy: version, isSparsityTransformed, isFastFrameAxis name."""
    if version == _TARGET_VERSION:
        return
    del f["version"]
    f["version"] = _TARGET_VERSION
    if "measurement" in f:
        m = f["measurement"]
        if "isSparsityTransformed" not in m:
            m["isSparsityTransformed"] = np.int8(0)
        if "isTransposed" in m:
            if "isFastFrameAxis" not in m:
                m["isFastFrameAxis"] = np.int8(m["isTransposed"][()])
            del m["isTransposed"]
    logger.info("upgraded version %s to %s", version, _TARGET_VERSION)


# --------------------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------------------
def convert(
    in_path,
    out_path,
    *,
    to_version: str = _TARGET_VERSION,
    decompress: bool = True,
    snr_threshold=None,
    min_frequency_Hz=None,
    max_frequency_Hz=None,
    max_mixing_order=None,
    receive_channels=None,
    background_correction=None,
    estimate_snr_from_background: bool = True,
    recompress=None,
    transform: str = "DCT-IV",
    expand_frequencies: bool = False,
    overwrite: bool = True,
) -> str:
    """Convert an MDF file (v1 or v2) to MDF v2.1.

    Parameters
    ----------
    in_path, out_path : str or os.PathLike
        Input MDF file; output file (``.mdf``/``.h5``/``.hdf``), written atomically.
    to_version : str
        Only "2.1.0".
    decompress : bool
        Store a sparsity-transformed input decompressed (default). With False and no
        other option, a compressed file is copied as is.
    snr_threshold, min_frequency_Hz, max_frequency_Hz, max_mixing_order, receive_channels
        Frequency selection with MPIFiles' ``filterFrequencies`` semantics, see
        :func:`frequency_mask` (``receive_channels`` 0-based; other channels are
        dropped).
    background_correction : {None, "mean", "interpolate"}
        Subtract the background from the foreground (background frames are kept and
        ``isBackgroundCorrected`` set).
    estimate_snr_from_background : bool
        When the input has no SNR but background frames, compute it with
        :func:`estimate_snr` (before background correction) and store it.
    recompress : float, optional
        Fraction of DCT coefficients kept per row (see :func:`compress`).
    transform : {"DCT-IV", "DCT-II"}
        Transform for ``recompress``.
    expand_frequencies : bool
        Write every rfft bin and no ``frequencySelection`` (after any selection above):
        rows that are not stored are zero with SNR 0 (see :func:`expand_frequencies`),
        for readers that ignore MDF frequency selection. Not with ``recompress``.
    overwrite : bool
        Replace an existing output (default).

    Returns
    -------
    str
        ``out_path``.

    Notes
    -----
    System matrices with J > 1 periods can only be copied plainly; processing them
    (options, v1 with patches) raises ValueError.

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> import os, tempfile
    >>> from mdf_neel.mdf import read_system_matrix, write_system_matrix
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     src = write_system_matrix(os.path.join(tmp, "sm.mdf"), sm)
    ...     out = convert(src, os.path.join(tmp, "low.mdf"), max_frequency_Hz=30e3)  # keep rows up to 30 kHz
    ...     rows = read_system_matrix(out).frequency_indices
    >>> rows.tolist()
    [16, 17]
    """
    if to_version != _TARGET_VERSION:
        raise ValueError(f"to_version must be {_TARGET_VERSION!r}, got {to_version!r}")
    out_path = os.fspath(out_path)
    if not out_path.lower().endswith((".mdf", ".h5", ".hdf")):
        raise ValueError(f"output file name {out_path!r} must end with .mdf, .h5 or .hdf")
    if os.path.exists(out_path) and not overwrite:
        raise FileExistsError(f"{out_path!r} exists (pass overwrite=True to replace it)")
    if os.path.exists(out_path) and os.path.samefile(in_path, out_path):
        raise ValueError("input and output are the same file")
    check_background_correction(background_correction)
    selecting = any(
        v is not None for v in (snr_threshold, min_frequency_Hz, max_frequency_Hz, max_mixing_order, receive_channels)
    )
    processing = selecting or bool(background_correction) or recompress is not None or expand_frequencies
    if expand_frequencies and recompress is not None:
        raise ValueError("expand_frequencies writes plain rows for readers without MDF support; it excludes recompress")

    with _h5.open_file(in_path) as f:
        verify_checksums(f)  # a damaged input must not come out with fresh checksums
        version_text = _h5.read_string(f, "/version")
        major = _major_version(f)[0]
        sparse = major >= 2 and _h5.read_scalar(
            f, "/measurement/isSparsityTransformed", "bool", required=False, default=False
        )
        if major >= 2 and not processing and not (sparse and decompress):
            _h5.check_tree(f)
            with atomic_path(out_path) as tmp:
                with h5py.File(tmp, "w") as dst:
                    _copy_file(f, dst)
                    _upgrade_in_place(dst, version_text)
                    stamp_checksums(dst)
            logger.info("copied %s to %s", in_path, out_path)
            return out_path
        if major >= 2:
            is_calibration = _h5.get_group(f, "/calibration", required=False) is not None
            periods = _h5.read_scalar(f, "/acquisition/numPeriodsPerFrame", "int", required=False, default=1)
        else:
            is_calibration = _h5.exists(f, "/calibration/dataFD") or _h5.exists(f, "/calibration/dataTD")
            periods = _h5.read_scalar(f, "/acquisition/numPatches", "int", required=False, default=1)

    if is_calibration:
        if periods != 1:
            raise ValueError(f"{in_path}: system matrices with {periods} periods can only be copied without options")
        return _convert_system_matrix(
            in_path,
            out_path,
            snr_threshold=snr_threshold,
            min_frequency_Hz=min_frequency_Hz,
            max_frequency_Hz=max_frequency_Hz,
            max_mixing_order=max_mixing_order,
            receive_channels=receive_channels,
            background_correction=background_correction or None,
            estimate=estimate_snr_from_background,
            recompress=recompress,
            transform=transform,
            expand=expand_frequencies,
        )
    if recompress is not None or snr_threshold is not None or max_mixing_order is not None:
        raise ValueError(
            f"{in_path} is not a calibration file: recompress, snr_threshold and "
            "max_mixing_order apply to system matrices only"
        )
    return _convert_measurement(
        in_path,
        out_path,
        min_frequency_Hz,
        max_frequency_Hz,
        receive_channels,
        background_correction or None,
        expand=expand_frequencies,
    )


def _convert_system_matrix(
    in_path,
    out_path,
    *,
    snr_threshold,
    min_frequency_Hz,
    max_frequency_Hz,
    max_mixing_order,
    receive_channels,
    background_correction,
    estimate,
    recompress,
    transform,
    expand=False,
):
    sm = read_system_matrix(in_path)
    if sm.snr is None and estimate and sm.background is not None:
        sm.snr = estimate_snr(sm)
        sm.provenance = {**sm.provenance, "snr_method": "estimate_snr (MPIFiles calculateSystemMatrixSNR)"}
    elif sm.snr is None and snr_threshold is not None and snr_threshold > 0:
        raise MDFError(
            "snr_threshold given but the file has no /calibration/snr and no background frames to estimate it from",
            path=in_path,
            dataset="/calibration/snr",
        )
    if background_correction:
        corrected = read_system_matrix(in_path, background_correction=background_correction)
        sm = sm.replace(data=corrected.data, is_background_corrected=corrected.is_background_corrected)
    if any(
        v is not None for v in (snr_threshold, min_frequency_Hz, max_frequency_Hz, max_mixing_order, receive_channels)
    ):
        sm = select_frequencies(
            sm,
            snr_threshold=snr_threshold,
            min_frequency_Hz=min_frequency_Hz,
            max_frequency_Hz=max_frequency_Hz,
            max_mixing_order=max_mixing_order,
            receive_channels=receive_channels,
        )
    if expand:
        sm = expand_frequencies(sm)
    if recompress is None:
        write_system_matrix(out_path, sm)
        return out_path
    values, indices = compress(sm, recompress, transform)
    directory = os.path.dirname(os.path.abspath(out_path))
    with tempfile.TemporaryDirectory(dir=directory, prefix=".convert-") as work:
        plain = os.path.join(work, "plain.mdf")
        write_system_matrix(plain, sm)
        with atomic_path(out_path, suffix=".partial.mdf") as tmp:
            with h5py.File(plain, "r") as src, h5py.File(tmp, "w") as dst:
                _write_compressed(src, dst, sm, values, indices, transform)
                stamp_checksums(dst)
            _validate(tmp, out_path)
    return out_path


def _write_compressed(src, dst, sm, values, indices, transform):
    """Copy ``src`` (written by the writer) replacing the data by DCT coefficients
    (MPIFiles' layout: B coefficient frames then E background frames)."""
    M = "/measurement/"
    skip = {M + "data", M + "isBackgroundFrame", M + "isSparsityTransformed", "/acquisition/numFrames"}
    _copy_file(src, dst, skip=skip)
    C, K, B = values.shape
    E = sm.num_background_frames
    dtype = np.dtype(src[M + "data"].dtype)
    data = np.concatenate([values, sm.background], axis=-1) if E else values
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.CONTIGUOUS)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    ds = dst.create_dataset(M + "data", shape=(1, C, K, B + E), dtype=dtype, dcpl=dcpl)
    ds[0] = data.astype(dtype)
    dst[M + "isBackgroundFrame"] = np.r_[np.zeros(B, np.int8), np.ones(E, np.int8)]
    dst[M + "isSparsityTransformed"] = np.int8(1)
    dst[M + "sparsityTransformation"] = transform
    dst[M + "subsamplingIndices"] = (indices[np.newaxis] + 1).astype(np.int32)
    dst["/acquisition/numFrames"] = np.int64(B + E)


def _validate(tmp, target):
    problems = validate(tmp, check_name=False)
    if problems:
        raise MDFError(
            "internal error: the converted file does not conform; not saved:\n  " + "\n  ".join(problems), path=target
        )


def _convert_measurement(
    in_path, out_path, min_frequency_Hz, max_frequency_Hz, receive_channels, background_correction, *, expand=False
):
    meas = read_measurement(in_path, background_correction=background_correction)
    keep = _band_mask(meas.frequency_indices, meas.receiver, min_frequency_Hz, max_frequency_Hz)
    if not keep.any():
        raise ValueError("no frequency survives the selection")
    ch = _channels(meas.receiver.num_channels, receive_channels)
    meas.receiver = _subset_receiver(meas.receiver, ch)
    meas.data = meas.data[:, ch][:, :, keep]
    meas.frequency_indices = meas.frequency_indices[keep]
    if expand:
        meas = expand_frequencies(meas)
    write_measurement(out_path, meas)
    return out_path
