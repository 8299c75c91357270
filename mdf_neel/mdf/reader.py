"""Read MDF files (v2.x and v1) into :class:`SystemMatrix` / :class:`Measurement`.

Every layout the MDF spec allows is accepted and every processing flag undone
(``docs/mdf-reading.md``):

* ``isFastFrameAxis`` 0 or 1 (fallback: the pre-2018 name ``isTransposed``);
* ``isFourierTransformed`` 0 (time data, ``rfft`` on read, frame block by frame
  block) or 1 (``{r, i}`` compound spectra);
* ``isFrequencySelection`` with the 1-based ``frequencySelection`` (any order);
* ``isFramePermutation`` with the 1-based ``framePermutation`` (used for background
  interpolation; returned 0-based in ``Measurement.frame_permutation``);
* background frames (``isBackgroundFrame``), returned apart, optional correction by
  their mean or by MPIFiles' block-mean + linear interpolation in acquisition order;
* ``isSparsityTransformed`` ("DCT-I" ... "DCT-IV", orthonormal, over the grid),
  with MPIFiles' B + E frame convention or the spec's O + E one;
* transfer-function correction on request; ``dataConversionFactor`` applied;
* MDF v1 files (``version`` < 2).

This module checks ``/version`` and dispatches to :mod:`mdf_neel.mdf._v2` or
:mod:`mdf_neel.mdf._v1`; both share the frame and correction helpers of
:mod:`mdf_neel.mdf._frames`. Only the requested frequency rows are read from disk
(h5py hyperslabs on the frequency axis), so a few rows of a large matrix cost a few
rows of I/O.
Malformed files raise :class:`~mdf_neel.errors.MDFError` naming file, dataset and
expectation.
"""

from __future__ import annotations

import functools
import logging

from ..errors import MDFError
from ..systemmatrix import Measurement, SystemMatrix
from . import _h5, _v1, _v2
from ._checksums import verify_checksums
from ._frames import BACKGROUND_CORRECTIONS, check_background_correction, sparsity_transform
from ._h5 import fail, read_string

__all__ = ["read_system_matrix", "read_measurement", "sparsity_transform", "BACKGROUND_CORRECTIONS"]

logger = logging.getLogger("mdf_neel.mdf.reader")


def _major_version(f) -> tuple:
    text = read_string(f, "/version")
    parts = text.strip().lstrip("vV").split(".")
    try:
        nums = tuple(int(p) for p in parts[:3])
    except ValueError:
        raise fail(f, "/version", f"is {text!r}, expected a version number such as '2.1.0'") from None
    if not nums or nums[0] < 1:
        raise fail(f, "/version", f"is {text!r}, expected major version 1 or 2")
    if nums[0] > 2:
        raise fail(f, "/version", f"is {text!r}; only MDF v1 and v2 are supported")
    return nums


def _safety_net(func):
    """Turn low-level errors that slipped past the checks (h5py/HDF5 ``OSError``,
    ``KeyError``, ``RuntimeError``, ``IndexError``) into MDFError naming the file."""

    @functools.wraps(func)
    def wrapper(path, **kwargs):
        try:
            return func(path, **kwargs)
        except (OSError, KeyError, RuntimeError, IndexError) as exc:
            logger.debug("low-level error reading %s", path, exc_info=True)
            raise MDFError(f"cannot be read as MDF ({type(exc).__name__}: {exc})", path=path) from exc

    return wrapper


@_safety_net
def read_system_matrix(
    path,
    *,
    frequencies=None,
    background_correction=None,
    transfer_function_correction: bool = False,
    period: int = 0,
    strict: bool = False,
    verify: bool = False,
) -> SystemMatrix:
    """Read a system matrix from an MDF file (v2.x or v1).

    Parameters
    ----------
    path : str or os.PathLike
        An MDF file whose ``/measurement`` holds calibration data.
    frequencies : array_like of int, optional
        0-based rfft bins to load (must be stored); default all stored bins. Only
        these rows are read from disk.
    background_correction : {None, "mean", "interpolate"}
        Subtract the mean of the background frames, or MPIFiles' block-mean + linear
        interpolation in acquisition order (``framePermutation``). Default: none.
        The background frames are returned uncorrected in ``SystemMatrix.background``.
    transfer_function_correction : bool
        Divide data (and background) by ``/acquisition/receiver/transferFunction``
        unless the file says it is already corrected.
    period : int
        0-based period (patch) j to return for J > 1 files.
    strict : bool
        Also require the spec's descriptive metadata (study, experiment, scanner,
        tracer, ...); by default missing ones get placeholder values with no error.
    verify : bool
        First check the SHA-256 checksums that files written by mdf_neel carry on
        every dataset (:mod:`mdf_neel.mdf._checksums`); this reads the whole file.
        Datasets without a checksum (files from other producers) are not checked.

    Returns
    -------
    SystemMatrix
        ``data`` (C, K, O) in the stored precision (complex64 stays complex64; time data
        and v1 data give complex128), ``background`` (C, K, E) or None,
        ``receiver.transfer_function`` on the full rfft grid (NaN where not stored),
        ``noise_estimate`` (C, K) from ``/custom/noiseEstimate`` or None (MDFError when
        it is not float ``(C, V//2 + 1)`` or not finite and >= 0 on the stored bins).

    Raises
    ------
    MDFError
        The file is not a readable/consistent MDF file, or (``verify=True``) a
        dataset does not match its checksum.
    ValueError
        Bad arguments (unknown frequency bins, period out of range, ...).

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> import os, tempfile
    >>> from mdf_neel.mdf import write_system_matrix
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_system_matrix(os.path.join(tmp, "sm.mdf"), sm)
    ...     back = read_system_matrix(path, frequencies=[17])  # reads only this row from disk
    >>> back.data.shape  # (channels, frequencies, positions)
    (2, 1, 9)
    >>> back.frequency_indices.tolist()
    [17]
    """
    method = check_background_correction(background_correction)
    with _h5.open_file(path) as f:
        if verify:
            verify_checksums(f)
        if _major_version(f)[0] < 2:
            return _v1.read_system_matrix_v1(
                f,
                frequencies=frequencies,
                background_correction=method,
                transfer_function_correction=transfer_function_correction,
                period=period,
                strict=strict,
            )
        return _v2.read_system_matrix_v2(
            f,
            path,
            frequencies=frequencies,
            background_correction=method,
            transfer_function_correction=transfer_function_correction,
            period=period,
            strict=strict,
        )


@_safety_net
def read_measurement(
    path,
    *,
    frequencies=None,
    background_correction=None,
    transfer_function_correction: bool = False,
    strict: bool = False,
    verify: bool = False,
) -> Measurement:
    """Read the ``/measurement`` of an MDF file (v2.x or v1) as spectra.

    Parameters
    ----------
    path : str or os.PathLike
    frequencies : array_like of int, optional
        0-based rfft bins to load (must be stored); default all stored bins.
    background_correction : {None, "mean", "interpolate"}
        Subtract from every foreground frame the mean of the background frames, or
        MPIFiles' block-mean + linear interpolation in acquisition order. Background
        frames stay as stored.
    transfer_function_correction : bool
        Divide by the stored transfer function (unless already corrected).
    strict : bool
        Require the descriptive metadata too (see :func:`read_system_matrix`).
    verify : bool
        First check the stored checksums (see :func:`read_system_matrix`); a
        mismatch raises :class:`MDFError` naming the dataset.

    Returns
    -------
    Measurement
        ``data`` (J, C, K, N): all frames in stored order (sparsity-transformed
        foreground decompressed to O frames, background after it),
        ``is_background_frame`` (N,), ``frame_permutation`` 0-based acquisition
        indices or None, ``noise_estimate`` (C, K) from ``/custom/noiseEstimate`` or
        None. Time data are rfft'd.
    """
    method = check_background_correction(background_correction)
    with _h5.open_file(path) as f:
        if verify:
            verify_checksums(f)
        if _major_version(f)[0] < 2:
            return _v1.read_measurement_v1(
                f,
                frequencies=frequencies,
                background_correction=method,
                transfer_function_correction=transfer_function_correction,
                strict=strict,
            )
        return _v2.read_measurement_v2(
            f,
            path,
            frequencies=frequencies,
            background_correction=method,
            transfer_function_correction=transfer_function_correction,
            strict=strict,
        )
