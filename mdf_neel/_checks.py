"""Validators of numerical settings and inputs shared across the package.

Each raises :class:`ValueError` naming the parameter, and returns the value as the
plain Python type the callers store.
"""

from __future__ import annotations

import math

import numpy as np

#: largest spherical-harmonic degree a caller may ask for
MAX_DEGREE = 200


def check_fraction(name: str, value) -> float:
    """A tolerance in (0, 1) as float.

    Examples
    --------
    >>> check_fraction("rtol", "1e-3")
    0.001
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not (math.isfinite(out) and 0.0 < out < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return out


def check_degree(name: str, value) -> int:
    """A spherical-harmonic degree in [1, MAX_DEGREE] as int (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= int(value) <= MAX_DEGREE:
        raise ValueError(f"{name} must be an integer degree in [1, {MAX_DEGREE}], got {value!r}")
    return int(value)


def check_offsets(offsets_T, name: str = "offsets_T") -> np.ndarray:
    """Offset fields as a finite float64 array of shape (O, 3), O >= 1, in tesla.

    Examples
    --------
    >>> check_offsets([[0.0, 1e-3, 0.0]]).shape
    (1, 3)
    """
    off = np.asarray(offsets_T, dtype=np.float64)
    if off.ndim != 2 or off.shape[1] != 3 or off.shape[0] < 1:
        raise ValueError(f"{name} must have shape (O, 3) in tesla, got {off.shape}")
    if not np.all(np.isfinite(off)):
        raise ValueError(f"{name} contains NaN or inf")
    return off


def check_bins(frequencies, num_frequencies: int, name: str = "frequencies") -> np.ndarray | None:
    """0-based rfft bins as int64 (None passes through: all bins).

    Parameters
    ----------
    frequencies : array_like of int, shape (F,), or None
    num_frequencies : int
        Bins of the full rfft grid (``V // 2 + 1``); every bin must lie below it.
    name : str
        The argument's name in error messages.

    Examples
    --------
    >>> check_bins([1, 16], 817)
    array([ 1, 16])
    """
    if frequencies is None:
        return None
    f = np.asarray(frequencies)
    if f.ndim != 1 or f.size == 0 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D array of integer rfft bins, got {frequencies!r}")
    if f.min() < 0 or f.max() >= num_frequencies:
        raise ValueError(f"{name} must lie in [0, {num_frequencies - 1}], got range [{f.min()}, {f.max()}]")
    return f.astype(np.int64)
