"""Frame and correction helpers shared by the MDF v1 and v2 readers.

Hyperslab reads of selected frequency rows, the split into foreground and background
frames, background correction (mean, or MPIFiles' block mean + interpolation),
transfer-function division, ``dataConversionFactor`` and the sparsity transforms.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import scipy.fft

from ..errors import MDFError
from ._h5 import fail

#: Accepted values of ``background_correction``.
BACKGROUND_CORRECTIONS = (None, False, "mean", "interpolate")
#: Upper bound on numSamplingPoints / numChannels / numPeriodsPerFrame read from a file.
MAX_SAMPLES = 2**31
MAX_CHANNELS = 2**16

_M = "/measurement/"
_RX = "/acquisition/receiver/"


# --------------------------------------------------------------------------------------
# sparsity transforms
# --------------------------------------------------------------------------------------
#: MDF ``sparsityTransformation`` names and their scipy DCT types.
DCT_TYPES = {"DCT-I": 1, "DCT-II": 2, "DCT-III": 3, "DCT-IV": 4}


def sparsity_transform(values, grid_shape, name: str = "DCT-IV", inverse: bool = False):
    """Apply MDF's orthonormal sparsity transform over the grid axes.

    Parameters
    ----------
    values : numpy.ndarray, shape (..., O)
        Rows of O values in grid order (x fastest); real or complex.
    grid_shape : tuple of int
        numpy grid shape ``(Nz, Ny, Nx)`` with product O.
    name : {"DCT-I", "DCT-II", "DCT-III", "DCT-IV"}
        MDF ``sparsityTransformation``. "DCT-II"/"DCT-IV" match MPIFiles
        (``scipy.fft.dctn(type=2|4, norm="ortho")``); singleton axes are left alone
        (the orthonormal transform of length 1 is the identity).
    inverse : bool
        Apply the inverse (= adjoint) transform.

    Returns
    -------
    numpy.ndarray, shape (..., O)
    """
    if name not in DCT_TYPES:
        raise ValueError(f"unknown sparsity transformation {name!r}; expected one of {tuple(DCT_TYPES)}")
    values = np.asarray(values)
    lead = values.shape[:-1]
    grid_shape = tuple(int(s) for s in grid_shape)
    x = values.reshape(lead + grid_shape)
    axes = tuple(len(lead) + i for i, s in enumerate(grid_shape) if s > 1)
    if axes:
        fn = scipy.fft.idctn if inverse else scipy.fft.dctn
        x = fn(x, type=DCT_TYPES[name], norm="ortho", axes=axes)
    return x.reshape(values.shape)


# --------------------------------------------------------------------------------------
# reading rows
# --------------------------------------------------------------------------------------
def runs(positions: np.ndarray):
    """Split sorted unique positions into (start, stop) runs of consecutive values."""
    if positions.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    starts = np.r_[positions[0], positions[breaks]]
    stops = np.r_[positions[breaks - 1] + 1, positions[-1] + 1] if breaks.size else np.array([positions[-1] + 1])
    return list(zip(starts.tolist(), stops.tolist()))


def read_hyperslab(f, name, ds, base: list, axis: int, positions: np.ndarray | None):
    """Read ``ds[base]`` where ``base[axis]`` is replaced by the sorted ``positions``
    (None: the whole axis), run by run of consecutive indices straight into one
    preallocated array (no intermediate copies)."""
    try:
        if positions is None:
            return ds[tuple(base)]
        shape = []
        for n, sel in zip(ds.shape, base):
            shape.append(len(range(*sel.indices(n))) if isinstance(sel, slice) else 0)
        shape[axis] = positions.size
        out = np.empty(tuple(shape), dtype=ds.dtype)
        if out.size == 0:
            return out
        done = 0
        for start, stop in runs(positions):
            src = list(base)
            src[axis] = slice(start, stop)
            dst = [slice(None)] * len(shape)
            dst[axis] = slice(done, done + stop - start)
            ds.read_direct(out, source_sel=tuple(src), dest_sel=tuple(dst))
            done += stop - start
        return out
    except (OSError, RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise fail(f, name, f"data cannot be read (corrupt file?): {exc}") from exc


def check_background_correction(value):
    if value not in BACKGROUND_CORRECTIONS:
        raise ValueError(f"background_correction must be None, 'mean' or 'interpolate', got {value!r}")
    return value or None


# --------------------------------------------------------------------------------------
# corrections
# --------------------------------------------------------------------------------------
def background_blocks(bg_mask_acq: np.ndarray) -> list:
    """Lengths of the runs of background frames in acquisition order (MPIFiles'
    ``measBGFrameBlockLengths``)."""
    lengths, run = [], 0
    for v in bg_mask_acq:
        if v:
            run += 1
        elif run:
            lengths.append(run)
            run = 0
    if run:
        lengths.append(run)
    return lengths


def background_estimate(fg_acq_index, bg_frames, bg_mask_acq, method: str):
    """Background to subtract from each foreground frame.

    Parameters
    ----------
    fg_acq_index : numpy.ndarray of int, shape (M,)
        0-based acquisition index of each foreground frame.
    bg_frames : numpy.ndarray, shape (..., E)
        Background frames in stored order (assumed stored in acquisition order).
    bg_mask_acq : numpy.ndarray of bool, shape (N,)
        Background mask in acquisition order.
    method : {"mean", "interpolate"}
        "mean": mean of all background frames. "interpolate": MPIFiles' rule: each
        contiguous block of background frames (in acquisition order) is replaced by
        its mean, then the sequence is linearly interpolated at
        ``alpha = σ_m/(N-1)·(E-1)`` (0-based σ_m) for foreground frame m.

    Returns
    -------
    numpy.ndarray, shape (..., M) (or (..., 1) for "mean")
    """
    E = bg_frames.shape[-1]
    if method == "mean":
        return bg_frames.mean(axis=-1, keepdims=True)
    blocks = background_blocks(bg_mask_acq)
    smoothed = np.empty_like(bg_frames)
    st = 0
    for n in blocks:
        smoothed[..., st : st + n] = bg_frames[..., st : st + n].mean(axis=-1, keepdims=True)
        st += n
    N = bg_mask_acq.size
    alpha = np.asarray(fg_acq_index, dtype=np.float64) / max(N - 1, 1) * (E - 1)
    lo = np.clip(np.floor(alpha).astype(np.int64), 0, E - 1)
    hi = np.minimum(lo + 1, E - 1)
    w = alpha - lo
    return smoothed[..., lo] * (1 - w) + smoothed[..., hi] * w


def split_frames(rows, mask):
    """(foreground, background) along the last axis; views when the background is stored last."""
    E = int(mask.sum())
    if not mask[: mask.size - E].any():
        return rows[..., : mask.size - E], rows[..., mask.size - E :]
    return rows[..., ~mask], rows[..., mask]


def apply_background(fg, bg, fg_acq, bg_mask_acq, method, path):
    if bg.shape[-1] == 0:
        raise MDFError(
            f"background_correction={method!r} requested but the file has no background frames",
            path=path,
            dataset=_M + "isBackgroundFrame",
        )
    return fg - background_estimate(fg_acq, bg, bg_mask_acq, method)


def full_transfer_function(f, name, tf_stored, stored_bins, C, K_full):
    if tf_stored is None:
        return None
    if tf_stored.shape != (C, stored_bins.size):
        raise fail(f, name, f"has shape {tf_stored.shape}, expected (C, K) = ({C}, {stored_bins.size})")
    full = np.full((C, K_full), np.nan + 0j, dtype=np.complex128)
    full[:, stored_bins] = tf_stored
    return full


def tf_divide(f, tf_full, bins, *arrays):
    if tf_full is None:
        raise fail(
            f, _RX + "transferFunction", "transfer_function_correction=True but the file stores no transfer function"
        )
    tf = tf_full[:, bins]
    if np.any(tf == 0) or not np.all(np.isfinite(tf)):
        raise fail(f, _RX + "transferFunction", "is zero or not finite at requested frequencies; cannot divide by it")
    return [None if a is None else a / tf[:, :, None] for a in arrays]


def apply_conversion_factor(data, dcf, bins, V):
    """Apply ``u = a·raw + b`` per channel to spectra (the offset enters the DC bin as b·V)."""
    if dcf is None:
        return data
    a = dcf[:, 0][:, None, None]
    out = data * a
    dc = np.flatnonzero(bins == 0)
    if dc.size:
        out[..., :, dc, :] += (dcf[:, 1] * V)[:, None, None]
    return out


def lcm_cycle(base_Hz, dividers):
    return reduce(math.lcm, (int(v) for v in np.ravel(dividers))) / base_Hz
