"""MPIFiles' reading rules, re-implemented with h5py and numpy only (no mdf_neel imports).

Each function follows one MPIFiles.jl function (v0.19.2, commit 94fb671, and the
``noiseEstimate`` of pull request 157, commit 05c67bd) line by line, so that the tests
can compare what MPIFiles / MPIReco would load from a file with what
:func:`mdf_neel.mdf.read_system_matrix` returns. Julia sees every dataset with its
dimensions reversed (h5py ``(J, C, K, N)`` is Julia ``(N, K, C, J)``); the functions
below keep numpy order and say where that matters. Indices in the returned values are
1-based where MPIFiles' are (frequency ``k`` and channel ``c`` of a row).

Not emulated (we never write them): meandering grids (``isMeanderingGrid``), time-domain
system matrices, period grouping/averaging, mixing-order and stop-band filters.
"""

from __future__ import annotations

import h5py
import numpy as np
import scipy.fft


def _get(f, name, default=None):
    # MPIFiles' @keyoptional: the value, or nothing when the dataset is absent
    return f[name][()] if name in f else default


def _string(f, name):
    value = f[name][()]
    return value.decode() if isinstance(value, bytes) else str(value)


def _flag(f, name, default=None):
    if name not in f:
        if default is None:
            raise KeyError(f"{name} missing (MPIFiles: `missing` in a boolean context throws)")
        return default
    return bool(f[name][()])


# --------------------------------------------------------------------------------------
# src/Derived.jl: rxNumFrequencies, rxFrequencies, measBGFrameIdx, measBGFrameBlockLengths
# --------------------------------------------------------------------------------------
def rx_frequencies(f) -> np.ndarray:
    """``rxFrequencies``: ``rfftfreq(V, 2·bandwidth)`` = ``k·((2·bandwidth)/V)`` in float64."""
    V = int(f["/acquisition/receiver/numSamplingPoints"][()])
    bandwidth = float(f["/acquisition/receiver/bandwidth"][()])
    return np.arange(V // 2 + 1, dtype=np.float64) * ((2.0 * bandwidth) / V)


def _block_lengths(mask) -> list:
    """``measBGFrameBlockLengths``: lengths of the runs of True in ``mask``."""
    out, run = [], 0
    for m in list(mask) + [False]:
        if m:
            run += 1
        elif run:
            out.append(run)
            run = 0
    return out


def _selection(f) -> np.ndarray:
    """Stored global 1-based bins: ``frequencySelection`` or ``1:K_full``."""
    K_full = rx_frequencies(f).size
    if _flag(f, "/measurement/isFrequencySelection"):
        return np.asarray(f["/measurement/frequencySelection"][()], dtype=np.int64)
    return np.arange(1, K_full + 1)


# --------------------------------------------------------------------------------------
# src/FrequencyFilter.jl: filterFrequencies
# --------------------------------------------------------------------------------------
def filter_frequencies(f, *, snr_thresh=-1.0, min_freq=0.0, max_freq=None, rec_channels=None) -> list:
    """``filterFrequencies(f; SNRThresh, minFreq, maxFreq, recChannels)``: rows ``(k, c)``, 1-based.

    Order: channel slowest, frequency fastest (``vec([CartesianIndex(i, j) for i in
    freqs, j in channels])``). minFreq applies when > 0 (``searchsortedfirst``, i.e.
    ``f_k >= minFreq``), maxFreq when < bandwidth (``searchsortedlast``, ``f_k <=
    maxFreq``), the SNR threshold when > 0 on ``snr`` of period 1 placed on the full grid
    (zeros where nothing is stored, so a missing ``snr`` drops every row).
    """
    freqs_Hz = rx_frequencies(f)
    bandwidth = float(f["/acquisition/receiver/bandwidth"][()])
    C = int(f["/acquisition/receiver/numChannels"][()])
    freqs = _selection(f)
    channels = [c for c in range(1, C + 1) if rec_channels is None or c in rec_channels]
    rows = [(int(k), c) for c in channels for k in freqs]
    if min_freq > 0:
        min_idx = int(np.searchsorted(freqs_Hz, min_freq, side="left")) + 1  # searchsortedfirst, 1-based
        rows = [(k, c) for k, c in rows if k >= min_idx]
    if max_freq is not None and max_freq < bandwidth:
        max_idx = int(np.searchsorted(freqs_Hz, max_freq, side="right"))  # searchsortedlast, 1-based
        rows = [(k, c) for k, c in rows if k <= max_idx]
    if snr_thresh > 0:
        snr = np.zeros((freqs_Hz.size, C))  # Julia SNR (nFreq, nReceivers)
        stored = _get(f, "/calibration/snr")
        if stored is not None:
            snr[freqs - 1, :] = np.asarray(stored)[0].T  # calibSNR[:, :, 1] in Julia = h5py snr[0].T
        rows = [(k, c) for k, c in rows if snr[k - 1, c - 1] >= snr_thresh]
    return rows


def _subsampled_rows(f, rows) -> list:
    """``rowsToSubsampledRows``: global (k, c) → stored (k', c), 1-based; error if not stored."""
    lookup = {int(k): i + 1 for i, k in enumerate(_selection(f))}
    out = []
    for k, c in rows:
        if k not in lookup:
            raise KeyError(f"frequency {k} is not stored")
        out.append((lookup[k], c))
    return out


# --------------------------------------------------------------------------------------
# src/MDFCommon.jl: systemMatrix(f::MDFFileV2, rows, bgCorrection)
# --------------------------------------------------------------------------------------
def _frames_first(f) -> np.ndarray:
    """``measDataRaw`` permuted to frames first: numpy ``[n, j, c, k]`` (Julia ``(N, K, C, J)``)."""
    raw = f["/measurement/data"][()]
    if raw.dtype.names is not None:
        raw = raw["r"] + 1j * raw["i"]
    if _flag(f, "/measurement/isFastFrameAxis", default=False):  # missing: warning, assumed 0
        return np.moveaxis(raw, -1, 0)  # (J, C, K, N) -> (N, J, C, K)
    return raw  # (N, J, C, K)


def system_matrix(f, rows, bg_correction: bool) -> np.ndarray:
    """``systemMatrix(f, rows, bgCorrection)``: complex ``(O, len(rows))`` for period 1.

    Foreground frames in stored order; a sparsity-transformed file is decompressed with
    the adjoint transform over ``size``; with ``bg_correction`` and background frames,
    every block of background frames (runs in acquisition order, ``framePermutation``
    inverted) is replaced by its mean and the linear interpolation of that sequence at
    ``α = (σ(m) − 1)/(N − 1)·(E − 1) + 1`` is subtracted from foreground frame m.
    ``isBackgroundCorrected`` is never read.
    """
    if "/measurement" not in f or not _flag(f, "/measurement/isFourierTransformed"):
        return None
    sub = _subsampled_rows(f, rows)
    data_ = _frames_first(f)
    data = np.stack([data_[:, 0, c - 1, k - 1] for k, c in sub], axis=1)  # (N, rows), J = 1
    is_bg = np.asarray(f["/measurement/isBackgroundFrame"][()]).astype(bool)
    fg = data[~is_bg, :]
    if _flag(f, "/measurement/isSparsityTransformed", default=False):
        size = [int(v) for v in f["/calibration/size"][()]]
        name = _string(f, "/measurement/sparsityTransformation")
        idx = np.asarray(f["/measurement/subsamplingIndices"][()])  # h5py (J, C, K, B)
        O = int(np.prod(size))
        out = np.zeros((O, fg.shape[1]), complex)
        for col, (k, c) in enumerate(sub):
            coeff = np.zeros(O, complex)
            coeff[idx[0, c - 1, k - 1] - 1] = fg[:, col]
            grid = coeff.reshape(size[::-1])  # Julia shape tuple(size...) with x fastest
            if name == "DCT-II":  # adjoint of the orthonormal DCT-II (LinearOperatorCollection DCTOp)
                back = scipy.fft.idctn(grid, type=2, norm="ortho")
            elif name == "DCT-IV":  # orthonormal DCT-IV is its own adjoint
                back = scipy.fft.dctn(grid, type=4, norm="ortho")
            else:
                raise NotImplementedError(f"{name} is not supported by MPIFiles")
            out[:, col] = back.reshape(-1)
        fg = out
    E = int(is_bg.sum())
    if bg_correction and E > 0:
        bg = data[is_bg, :].copy()
        perm = None
        if _flag(f, "/measurement/isFramePermutation"):
            perm = np.asarray(f["/measurement/framePermutation"][()], dtype=np.int64)
            mask = np.zeros_like(is_bg)
            mask[perm - 1] = is_bg  # invpermute!(isBG, framePermutation)
        else:
            mask = is_bg
        st = 0
        for length in _block_lengths(mask):
            bg[st : st + length] = bg[st : st + length].mean(axis=0)
            st += length
        M, N = fg.shape[0], fg.shape[0] + E
        orig = perm if perm is not None else np.arange(1, N + 1)
        for m in range(M):
            alpha = (orig[m] - 1) / (N - 1) * (E - 1) + 1  # 1-based position in the background sequence
            i = min(int(np.floor(alpha)), E)
            frac = alpha - i
            upper = bg[i] if i < E else bg[i - 1]  # Interpolations' BSpline(Linear()) inside [1, E]
            fg[m] -= (1 - frac) * bg[i - 1] + frac * upper
    return fg


# --------------------------------------------------------------------------------------
# src/SystemMatrix.jl: getSystemMatrix (the fast path for Fourier data)
# --------------------------------------------------------------------------------------
def get_system_matrix(f, frequencies=None, *, bg_correction=False, tf_correction=None) -> np.ndarray:
    """``getSystemMatrix(f, frequencies; bgCorrection, tfCorrection)``: ComplexF32 ``(O, rows)``.

    ``tf_correction`` defaults to "the file has a transfer function" (MPIFiles'
    ``rxHasTransferFunction``); then columns are divided by the TF unless
    ``isTransferFunctionCorrected``.
    """
    if frequencies is None:
        frequencies = filter_frequencies(f)
    S = system_matrix(f, frequencies, bg_correction).astype(np.complex64)
    has_tf = "/acquisition/receiver/transferFunction" in f
    if tf_correction is None:
        tf_correction = has_tf
    if tf_correction and not _flag(f, "/measurement/isTransferFunctionCorrected"):
        raw = f["/acquisition/receiver/transferFunction"][()]  # h5py (C, K_stored)
        tf = raw["r"] + 1j * raw["i"] if raw.dtype.names else raw
        for col, (k, c) in enumerate(_subsampled_rows(f, frequencies)):
            S[:, col] /= tf[c - 1, k - 1]
    return S


# --------------------------------------------------------------------------------------
# src/SystemMatrix.jl: calibGrid; src/Positions/Positions.jl: RegularGridPositions
# --------------------------------------------------------------------------------------
def calib_grid(f) -> dict | None:
    """``calibGrid(f; attach_units=true)`` for a regular grid.

    Returns ``{"shape", "fov", "center", "unit", "points"}`` (``points`` (O, 3) in grid
    order, x fastest: ``((2·i − 1 − shape)/shape)·fov/2 + center`` with 1-based i), or
    None when ``/calibration/size`` is absent or a full set of ``positions`` is stored
    (MPIFiles then returns ``nothing``). The unit is tesla for method "hybrid" and
    metres for every other method.
    """
    size = _get(f, "/calibration/size")
    if size is None:
        return None
    shape = np.asarray(size, dtype=np.int64)
    unit = "T" if _string(f, "/calibration/method") == "hybrid" else "m"
    if _flag(f, "/calibration/isMeanderingGrid", default=False):
        raise NotImplementedError("meandering grids are not emulated")
    fov = np.asarray(f["/calibration/fieldOfView"][()], dtype=np.float64)
    center = np.asarray(f["/calibration/fieldOfViewCenter"][()], dtype=np.float64)
    iz, iy, ix = np.meshgrid(*(np.arange(1, n + 1) for n in shape[::-1]), indexing="ij")
    idx = np.stack([ix.ravel(), iy.ravel(), iz.ravel()], axis=1)  # CartesianIndices(shape), x fastest
    points = ((-shape + (2 * idx - 1)) / shape) * fov / 2 + center
    positions = _get(f, "/calibration/positions")
    if positions is not None and "/calibration/offsetFields" in f:
        raise ValueError("MPIFile defines both `calibPositions` and `calibOffsetFields`")
    if positions is not None and np.asarray(positions).shape[0] >= int(np.prod(shape)):
        return None
    return {"shape": shape, "fov": fov, "center": center, "unit": unit, "points": points}


# --------------------------------------------------------------------------------------
# src/Derived.jl (pull request 157): noiseEstimate
# --------------------------------------------------------------------------------------
def noise_estimate(f, frequencies) -> np.ndarray:
    """``noiseEstimate(f; frequencies)``: one standard deviation per row ``(k, c)``.

    With ``/custom/noiseEstimate`` (Julia ``(K_full, C)``, h5py ``(C, K_full)``) the
    value at (global k, channel c). Without it (and without ``isFramePermutation``, as
    in our files) the standard deviation over the background frames of the stored rows,
    Julia's ``std`` (n − 1; NaN without background frames).
    """
    if "/custom/noiseEstimate" in f:
        table = np.asarray(f["/custom/noiseEstimate"][()])
        return np.array([table[c - 1, k - 1] for k, c in frequencies])
    data_ = _frames_first(f)
    is_bg = np.asarray(f["/measurement/isBackgroundFrame"][()]).astype(bool)
    out = []
    for k, c in _subsampled_rows(f, frequencies):
        bg = data_[is_bg, 0, c - 1, k - 1]
        out.append(np.sqrt(np.sum(np.abs(bg - bg.mean()) ** 2) / (bg.size - 1)) if bg.size > 1 else np.nan)
    return np.array(out)


def whitening_weights(f, frequencies) -> np.ndarray:
    """MPIReco's ``SMWhiteningWeightingParameters`` (pull request 113): ``min|σ| ./ |σ|``."""
    noise = np.abs(noise_estimate(f, frequencies))
    with np.errstate(divide="ignore", invalid="ignore"):
        return noise.min() / noise


def open_file(path):
    """The file opened read-only (a context manager)."""
    return h5py.File(path, "r")
