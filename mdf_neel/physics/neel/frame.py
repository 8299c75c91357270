"""The easy-axis frame: rotations that map each member's easy axis onto ẑ, and the test
for fields in one plane through the axis (the slow-mode model's precondition)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["rotation_to_z", "canonical_rotation", "rotations", "planar", "fields_in_axis_planes", "SYMMETRY_ATOL"]

#: relative (to max |B|) sample tolerance of a field symmetry between batch members
SYMMETRY_ATOL = 1e-10


def rotation_to_z(n) -> np.ndarray:
    """Proper rotation R with R n = ẑ (Rodrigues about n × ẑ)."""
    n = np.asarray(n, dtype=float)
    n = n / np.linalg.norm(n)
    z = np.array([0.0, 0.0, 1.0])
    v = np.cross(n, z)
    s = np.linalg.norm(v)
    c = float(n @ z)
    if s < 1e-15:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * ((1 - c) / s**2)


def canonical_rotation(n) -> np.ndarray:
    """Proper rotation R with R n = ẑ and the lab ẑ mapped into the axis-frame yz-plane
    (towards +ŷ; lab ẑ ∥ n: plain :func:`rotation_to_z`).

    The Néel operator is invariant under rotations about the easy axis, so any such R is
    exact. This one maps every field in the lab xy-plane with an easy axis in the
    xy-plane (all of the paper's angles) into the SAME axis-frame plane (B_y = 0): the
    steady states of all angles then form one two-parameter family, which is what makes
    a shared reduced basis small.
    """
    R = rotation_to_z(n)
    v = R @ np.array([0.0, 0.0, 1.0])
    rho = math.hypot(v[0], v[1])
    if rho < 1e-12:
        return R
    # rotate about z by psi so that (v_x, v_y) -> (0, rho)
    psi = math.atan2(v[0], v[1])
    c, s = math.cos(psi), math.sin(psi)
    Rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return Rz @ R


def rotations(easy_axis, nb):
    """Per-member rotations (nb, 3, 3) with R n = ẑ (:func:`canonical_rotation`)."""
    n = np.asarray(easy_axis, dtype=float)
    if n.ndim == 1:
        return np.broadcast_to(canonical_rotation(n), (nb, 3, 3))
    return np.stack([canonical_rotation(v) for v in n])


def planar(fields_frame, bmax) -> bool:
    """Whether every axis-frame field lies in the frame's x–z plane (the slow-mode model's
    precondition)."""
    return bool(np.max(np.abs(fields_frame[..., 1]), initial=0.0) <= SYMMETRY_ATOL * max(bmax, 1e-30))


def fields_in_axis_planes(fields, easy_axis) -> bool:
    """True when every member's field lies in one plane through its easy axis, as the
    paper's 2-D drive with in-plane offsets and axes (``method="slow-mode"`` needs it).

    Parameters
    ----------
    fields : numpy.ndarray, shape (B, T, 3)
        µ0·H [T].
    easy_axis : array_like, shape (3,) or (B, 3)
        Unit easy axes.
    """
    fb = np.asarray(fields, dtype=float)
    R = rotations(np.asarray(easy_axis, dtype=float), fb.shape[0])
    fr = np.einsum("bij,btj->bti", R, fb)
    return planar(fr, float(np.max(np.linalg.norm(fb, axis=-1), initial=0.0)))
