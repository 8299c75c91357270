"""Validators of numerical settings shared by the physics and the simulation layer.

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
