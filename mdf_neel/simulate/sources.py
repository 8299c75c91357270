"""Where a simulation's sequence and offset grid come from: a template MDF file or a preset.

The offset grid has one type, :class:`mdf_neel.sequence.OffsetGrid` (re-exported here
with :func:`regrid`, :func:`infer_grid` and :func:`as_offset_grid`): the offset fields
(O, 3) of a hybrid calibration with the regular grid they sit on (size, field of view
and centre, all in tesla), cell-centred and x fastest as MDF and MPIFiles define them.

The ``"paper-2d"`` preset is the sequence and offset grid of H. Albers et al., "Modeling
the magnetization dynamics for large ensembles of immobilized magnetic nanoparticles in
multi-dimensional magnetic particle imaging", J. Magn. Magn. Mater. (2022). The
``"bruker-3d"`` preset is the 3-D Lissajous sequence of the Bruker preclinical scanner
with a 3-D offset grid.
"""

from __future__ import annotations

import numpy as np

from ..sequence import (
    OffsetGrid,
    Receiver,
    Sequence,
    as_offset_grid,
    bruker_3d_offsets,
    bruker_3d_sequence,
    infer_grid,
    paper_2d_offsets,
    paper_2d_sequence,
    regrid,
)

__all__ = ["OffsetGrid", "PRESETS", "preset", "sequence_from_file", "regrid", "infer_grid", "as_offset_grid"]

#: Names accepted by :func:`preset`.
PRESETS = ("paper-2d", "bruker-3d")


def preset(name: str = "paper-2d", grid=None):
    """A built-in sequence and offset grid.

    Parameters
    ----------
    name : {"paper-2d", "bruker-3d"}
        ``"paper-2d"``: Albers et al. 2022 — 2.5 MHz/102 and /96 cosine drive at 12.59
        and 13.55 mT, V = 1632 samples per 652.8 µs, 11 x 11 offsets on ±14.35 mT (x)
        and ±14.71 mT (y).
        ``"bruker-3d"``: the 3-D Lissajous sequence of the Bruker preclinical scanner —
        2.5 MHz/102, /96 and /99 cosine drive at 12 mT per channel, V = 53856 samples
        per 21.5424 ms, three receive channels, 11 x 11 x 11 offsets on ±12 mT
        (:func:`~mdf_neel.sequence.bruker_3d_sequence`).
    grid : tuple of int (Nx, Ny) or (Nx, Ny, Nz), optional
        Another grid size over the same offset extent (e.g. (41, 41); three values for
        ``"bruker-3d"``).

    Returns
    -------
    sequence : Sequence
    grid : OffsetGrid

    Examples
    --------
    >>> seq, grid = preset("paper-2d", grid=(41, 41))
    >>> seq.receiver.num_frequencies, grid.offsets_T.shape
    (817, (1681, 3))
    >>> round(float(grid.offsets_T[:, 0].max()) * 1e3, 6)  # the outermost offsets stay at ±14.35 mT
    14.35
    >>> seq3, grid3 = preset("bruker-3d", grid=(3, 3, 3))
    >>> seq3.receiver.num_sampling_points, grid3.offsets_T.shape
    (53856, (27, 3))
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {PRESETS}")
    if name == "bruker-3d":
        return bruker_3d_sequence(), (bruker_3d_offsets() if grid is None else bruker_3d_offsets(grid=tuple(grid)))
    seq = paper_2d_sequence()
    g = paper_2d_offsets() if grid is None else paper_2d_offsets(grid=tuple(grid))
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
        raise MDFError(
            "the template has no offset fields (a robot calibration?); simulation needs "
            "the offsets of a hybrid calibration",
            path=str(path),
            dataset="/calibration/offsetFields",
        )
    rx = sm.receiver
    receiver = Receiver(
        bandwidth_Hz=rx.bandwidth_Hz,
        num_sampling_points=rx.num_sampling_points,
        num_channels=rx.num_channels,
        unit=rx.unit,
    )
    if sm.field_of_view_unit == "T":
        g = OffsetGrid(
            np.array(sm.offset_fields_T),
            np.array(sm.grid_size),
            np.array(sm.field_of_view),
            np.array(sm.field_of_view_center),
        )
    else:  # field of view in metres: describe the grid by its offsets instead
        g = infer_grid(sm.offset_fields_T)
    if grid is not None:
        g = regrid(g, grid)
    return Sequence(sm.drive_field, receiver), g
