"""Orientation maps from per-angle concentrations (axial statistics over 180°).

An easy axis is an axis, not a direction: ϑ and ϑ + 180° are the same. The mean axis of
a distribution with weights c_a ≥ 0 at angles ϑ_a is therefore taken on the doubled
angles (the axial mean of circular statistics)::

    z = Σ_a c_a · exp(2i ϑ_a),     T = Σ_a c_a
    dominant angle  ϑ̄ = arg(z) / 2   (in [0°, 180°))
    coherence       R = |z| / T       (1: one orientation; 0: no preferred axis)

Negative concentrations (possible without the non-negativity constraint) are set to 0
before these sums, so that R stays in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OrientationMap", "orientation_map", "axial_difference_deg"]


@dataclass(frozen=True)
class OrientationMap:
    """Per-position orientation statistics (see the module docstring).

    Attributes
    ----------
    total : numpy.ndarray, float64, shape S
        Total concentration T (sum over angles of the clipped concentrations).
    angle_deg : numpy.ndarray, float64, shape S
        Dominant easy-axis angle in [0, 180) degrees; NaN where T = 0.
    coherence : numpy.ndarray, float64, shape S
        Orientation coherence R in [0, 1]; NaN where T = 0.
    """

    total: np.ndarray
    angle_deg: np.ndarray
    coherence: np.ndarray


def orientation_map(concentration, angles_deg, axis: int = 0) -> OrientationMap:
    """Dominant angle (double-angle mean), coherence and total per position.

    Parameters
    ----------
    concentration : array_like, real, shape (..., A, ...)
        Concentrations per easy-axis angle along ``axis``.
    angles_deg : array_like, shape (A,)
        The angles ϑ_a in degrees.
    axis : int
        The angle axis of ``concentration``.

    Returns
    -------
    OrientationMap
        Arrays of the shape of ``concentration`` without ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> m = orientation_map(np.array([1.0, 0.0, 0.0, 1.0]), [0.0, 45.0, 90.0, 135.0])
    >>> round(float(m.angle_deg), 6), round(float(m.coherence), 6), float(m.total)  # between 135° and 180°
    (157.5, 0.707107, 2.0)
    """
    c = np.asarray(concentration)
    if np.iscomplexobj(c):
        c = c.real
    c = np.moveaxis(np.asarray(c, dtype=np.float64), axis, -1)
    angles = np.asarray(angles_deg, dtype=np.float64).reshape(-1)
    if c.shape[-1] != angles.size:
        raise ValueError(
            f"concentration has {c.shape[-1]} entries along axis {axis} but {angles.size} angles were given"
        )
    c = np.maximum(c, 0.0)
    total = c.sum(axis=-1)
    z = c @ np.exp(2j * np.deg2rad(angles))
    with np.errstate(invalid="ignore", divide="ignore"):
        coherence = np.where(total > 0, np.abs(z) / np.where(total > 0, total, 1.0), np.nan)
    angle = np.where(total > 0, np.mod(np.rad2deg(np.angle(z)) / 2.0, 180.0), np.nan)
    # the mod can return 180 for arguments a rounding step below 0
    angle = np.where(angle >= 180.0, 0.0, angle)
    return OrientationMap(total=total, angle_deg=angle, coherence=np.minimum(coherence, 1.0))


def axial_difference_deg(a_deg, b_deg):
    """Smallest difference between axes ``a`` and ``b`` (modulo 180°), in [0, 90] degrees.

    Examples
    --------
    >>> float(axial_difference_deg(175.0, 5.0))
    10.0
    """
    d = np.mod(np.asarray(a_deg, dtype=np.float64) - np.asarray(b_deg, dtype=np.float64), 180.0)
    return np.minimum(d, 180.0 - d)
