"""Where a simulation's sequence and offset grid come from: a template MDF file or a preset.

An :class:`OffsetGrid` is the offset fields (O, 3) of a hybrid calibration together with
the regular grid they sit on (size, field of view and centre, all in tesla). Grids are
cell-centred and x fastest, as MDF and MPIFiles define them
(:func:`mdf_neel.sequence.regular_grid`).

The ``"paper-2d"`` preset is the sequence and offset grid of H. Albers et al., "Modeling
the magnetization dynamics for large ensembles of immobilized magnetic nanoparticles in
multi-dimensional magnetic particle imaging", J. Magn. Magn. Mater. (2022).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from ..sequence import Receiver, Sequence, paper_2d_offsets, paper_2d_sequence, regular_grid

__all__ = ["OffsetGrid", "PRESETS", "preset", "sequence_from_file", "regrid", "infer_grid", "as_offset_grid"]

logger = logging.getLogger("mdf_neel.simulate")

#: Names accepted by :func:`preset`.
PRESETS = ("paper-2d",)


class OffsetGrid(NamedTuple):
    """Offset fields on a regular grid (all in tesla, µ0·H).

    Attributes
    ----------
    offsets_T : numpy.ndarray, shape (O, 3)
        Offset per position, x fastest (row ``ix + Nx·(iy + Ny·iz)``).
    size : numpy.ndarray of int, shape (3,)
        (Nx, Ny, Nz).
    field_of_view_T : numpy.ndarray, shape (3,)
        Edge-to-edge extent of the cell-centred grid.
    center_T : numpy.ndarray, shape (3,)
    """

    offsets_T: np.ndarray
    size: np.ndarray
    field_of_view_T: np.ndarray
    center_T: np.ndarray


def regrid(grid: OffsetGrid, size) -> OffsetGrid:
    """A regular grid with another number of points over the same offset extent.

    The outermost points stay where they were (e.g. ±14.35 mT), so an 11 x 11 measured
    grid becomes a finer 41 x 41 model grid covering the same offsets.

    Parameters
    ----------
    grid : OffsetGrid
    size : sequence of int, length 2 or 3
        New (Nx, Ny[, Nz]); a missing Nz keeps the old one.

    Returns
    -------
    OffsetGrid
    """
    new = np.array(list(size) + list(grid.size[len(size):]), dtype=np.int64).reshape(3)
    if np.any(new < 1):
        raise ValueError(f"grid size must be >= 1 on every axis, got {new.tolist()}")
    old_n = np.asarray(grid.size, dtype=np.int64)
    old_fov = np.asarray(grid.field_of_view_T, dtype=np.float64)
    half_span = np.where(old_n > 1, old_fov / 2 - old_fov / (2 * np.maximum(old_n, 1)), 0.0)
    fov = np.where(new > 1, 2 * half_span * new / np.maximum(new - 1, 1), 0.0)
    if np.any((new > 1) & (half_span <= 0)):
        raise ValueError(f"cannot refine an axis with a single offset (old size {old_n.tolist()}, new {new.tolist()})")
    center = np.asarray(grid.center_T, dtype=np.float64)
    return OffsetGrid(regular_grid(new, fov, center), new, fov, center)


def infer_grid(offsets_T) -> OffsetGrid:
    """Recognise a complete, x-fastest regular grid in a list of offsets.

    Parameters
    ----------
    offsets_T : array_like, shape (O, 3)

    Returns
    -------
    OffsetGrid
        With the grid's size, field of view and centre; offsets that do not form such a
        grid give a (O, 1, 1) "grid" whose field of view spans the x offsets.
    """
    off = np.asarray(offsets_T, dtype=np.float64)
    if off.ndim != 2 or off.shape[1] != 3 or off.shape[0] < 1:
        raise ValueError(f"offsets_T must have shape (O, 3) in tesla, got {off.shape}")
    scale = max(float(np.abs(off).max()), 1e-30)
    axes = []
    for d in range(3):
        vals = np.unique(np.round(off[:, d] / scale, 9)) * scale
        axes.append(vals)
    size = np.array([a.size for a in axes], dtype=np.int64)
    fov = np.array([(a[-1] - a[0]) * a.size / (a.size - 1) if a.size > 1 else 0.0 for a in axes])
    center = np.array([(a[-1] + a[0]) / 2 for a in axes])
    if int(np.prod(size)) == off.shape[0]:
        candidate = regular_grid(size, fov, center)
        if np.allclose(candidate, off, rtol=0, atol=1e-7 * scale):
            return OffsetGrid(off.copy(), size, fov, center)
    O = off.shape[0]
    logger.info("offsets do not form an x-fastest regular grid; using an (O, 1, 1) grid")
    span = float(off[:, 0].max() - off[:, 0].min())
    fov = np.array([span * O / (O - 1) if O > 1 and span > 0 else 1e-3, 0.0, 0.0])
    return OffsetGrid(off.copy(), np.array([O, 1, 1], dtype=np.int64), fov, np.array([off[:, 0].mean(), 0.0, 0.0]))


def as_offset_grid(offsets) -> OffsetGrid:
    """Accept an :class:`OffsetGrid`, the 4-tuple of ``paper_2d_offsets`` or an (O, 3) array."""
    if isinstance(offsets, OffsetGrid):
        return offsets
    if isinstance(offsets, tuple) and len(offsets) == 4:
        off, size, fov, center = offsets
        grid = OffsetGrid(np.asarray(off, dtype=np.float64), np.asarray(size, dtype=np.int64).reshape(3),
                          np.asarray(fov, dtype=np.float64).reshape(3), np.asarray(center, dtype=np.float64).reshape(3))
        if int(np.prod(grid.size)) != grid.offsets_T.shape[0]:
            raise ValueError(f"grid size {grid.size.tolist()} does not match {grid.offsets_T.shape[0]} offsets")
        return grid
    return infer_grid(offsets)


def preset(name: str = "paper-2d", grid=None):
    """A built-in sequence and offset grid.

    Parameters
    ----------
    name : {"paper-2d"}
        ``"paper-2d"``: Albers et al. 2022 — 2.5 MHz/102 and /96 cosine drive at 12.59
        and 13.55 mT, V = 1632 samples per 652.8 µs, 11 x 11 offsets on ±14.35 mT (x)
        and ±14.71 mT (y).
    grid : tuple of int (Nx, Ny), optional
        Another grid size over the same offset extent (e.g. (41, 41)).

    Returns
    -------
    sequence : Sequence
    grid : OffsetGrid
    """
    if name != "paper-2d":
        raise ValueError(f"unknown preset {name!r}; available: {PRESETS}")
    seq = paper_2d_sequence()
    g = OffsetGrid(*paper_2d_offsets() if grid is None else paper_2d_offsets(grid=tuple(grid)))
    return seq, g


def sequence_from_file(path, grid=None):
    """Sequence and offset grid of a measured (hybrid) system-matrix file used as template.

    Takes the drive field (strengths, phases, dividers, waveforms, cycle), the receiver
    (bandwidth, sampling points, channels) and the offset fields and grid of the
    calibration.

    Parameters
    ----------
    path : str or os.PathLike
        An MDF system-matrix file with ``/calibration/offsetFields``.
    grid : tuple of int (Nx, Ny[, Nz]), optional
        Replace the measured grid by a regular one with this many points over the same
        offset extent.

    Returns
    -------
    sequence : Sequence
        The receiver keeps the template's channel count and unit but no transfer function.
    grid : OffsetGrid

    Raises
    ------
    MDFError
        Unreadable file, or a calibration without offset fields.
    """
    from ..errors import MDFError
    from ..mdf.reader import read_system_matrix

    sm = read_system_matrix(path)
    if sm.offset_fields_T is None:
        raise MDFError("the template has no offset fields (a robot calibration?); simulation needs "
                       "the offsets of a hybrid calibration", path=str(path), dataset="/calibration/offsetFields")
    rx = sm.receiver
    receiver = Receiver(bandwidth_Hz=rx.bandwidth_Hz, num_sampling_points=rx.num_sampling_points,
                        num_channels=rx.num_channels, unit=rx.unit)
    if sm.field_of_view_unit == "T":
        g = OffsetGrid(np.array(sm.offset_fields_T), np.array(sm.grid_size), np.array(sm.field_of_view),
                       np.array(sm.field_of_view_center))
    else:  # field of view in metres: describe the grid by its offsets instead
        g = infer_grid(sm.offset_fields_T)
    if grid is not None:
        g = regrid(g, grid)
    return Sequence(sm.drive_field, receiver), g
