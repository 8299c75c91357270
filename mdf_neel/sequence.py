"""Drive-field sequences, receiver axes, Lissajous mixing orders and offset grids.

Conventions (see ``docs/data-model.md``)
----------------------------------------
* Fields are µ0·H in tesla, exactly as MDF stores them.
* Drive channel ``d`` of a sequence excites the scanner axis ``d`` (x, y, z).
  Channel ``d`` at time ``t`` carries
  ``sum_f strength[j, d, f] * waveform(2π baseFrequency/divider[d, f] t + phase[j, d, f])``
  with the MDF waveforms ``"sine"`` (``sin``) and ``"triangle"``; a cosine drive is
  phase +π/2.
* The receiver samples ``num_sampling_points`` (V) points per cycle with spacing
  ``1/(2·bandwidth)``; frequency bin ``k`` (0-based) is the harmonic ``k/cycle``
  (``numpy.fft.rfftfreq``), ``K_full = V//2 + 1``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from functools import reduce
from typing import NamedTuple

import numpy as np

from ._checks import check_offsets

__all__ = [
    "DriveField",
    "Receiver",
    "Sequence",
    "paper_2d_sequence",
    "paper_2d_offsets",
    "bruker_3d_sequence",
    "bruker_3d_offsets",
    "mixing_orders",
    "check_prefactors",
    "mixing_order_to_bin",
    "regular_grid",
    "OffsetGrid",
    "as_offset_grid",
    "infer_grid",
    "regrid",
]

logger = logging.getLogger("mdf_neel.sequence")

_AXES = "xyz"
_ACTIVE_STRENGTH_T = 1e-7  # MPIFiles' threshold for an active drive channel


def _triangle(phase):
    """Triangle wave with the phase convention of ``sin`` (period 2π, peak 1 at π/2)."""
    x = np.mod(np.asarray(phase) / (2 * np.pi) + 0.25, 1.0)
    return 4.0 * np.abs(x - 0.5) - 1.0


@dataclass
class DriveField:
    """Homogeneous drive field of an MDF acquisition (``/acquisition/drivefield``).

    Parameters
    ----------
    base_frequency_Hz : float
        ``baseFrequency`` in Hz (e.g. 2.5e6).
    dividers : array_like of int, shape (D, F)
        Frequency dividers; drive frequency ``f[d, f] = base_frequency_Hz / dividers[d, f]``.
    strengths_T : array_like of float, shape (J, D, F)
        Amplitudes in tesla (µ0·H).
    phases_rad : array_like of float, shape (J, D, F)
        Phases in rad, in [-π, π).
    waveforms : array_like of str, shape (D, F)
        ``"sine"``, ``"triangle"`` or ``"custom"``.
    cycle_s : float, optional
        Repetition time of the trajectory. Default: lcm of the dividers of the
        active channels divided by ``base_frequency_Hz`` (as real files store it).
    manual_prefactors : array_like of int, shape (P,), optional
        Mixing prefactors set by hand (MPIFiles' ``/measurement/_manualPrefactors``):
        bin ``k`` of the mixing factors ``(m_1, ..., m_P)`` is ``Σ_p m_p·prefactor_p``.
        Default: none, the prefactors follow from the drive
        (:attr:`harmonics_per_cycle`).
    """

    base_frequency_Hz: float
    dividers: np.ndarray
    strengths_T: np.ndarray
    phases_rad: np.ndarray
    waveforms: np.ndarray
    cycle_s: float | None = None
    manual_prefactors: np.ndarray | None = None

    def __post_init__(self):
        self.base_frequency_Hz = float(self.base_frequency_Hz)
        self.dividers = np.atleast_2d(np.asarray(self.dividers, dtype=np.int64))
        D, F = self.dividers.shape
        self.strengths_T = np.asarray(self.strengths_T, dtype=np.float64).reshape(-1, D, F)
        self.phases_rad = np.asarray(self.phases_rad, dtype=np.float64).reshape(-1, D, F)
        wf = np.asarray(self.waveforms, dtype=object)
        if wf.ndim == 0:
            wf = np.full((D, F), str(wf), dtype=object)
        self.waveforms = wf.reshape(D, F)
        if self.strengths_T.shape != self.phases_rad.shape:
            raise ValueError(
                f"strengths_T {self.strengths_T.shape} and phases_rad {self.phases_rad.shape} "
                "must have the same shape (J, D, F)"
            )
        if self.cycle_s is None:
            active = self.active_channels
            divs = self.dividers[active].ravel() if active.any() else self.dividers.ravel()
            self.cycle_s = reduce(math.lcm, (int(v) for v in divs)) / self.base_frequency_Hz
        self.cycle_s = float(self.cycle_s)
        if self.manual_prefactors is not None:
            self.manual_prefactors = check_prefactors(self.manual_prefactors)

    @property
    def num_channels(self) -> int:
        """Number of drive channels D."""
        return int(self.dividers.shape[0])

    @property
    def num_periods(self) -> int:
        """Number of periods per frame J (patches)."""
        return int(self.strengths_T.shape[0])

    @property
    def frequencies_Hz(self) -> np.ndarray:
        """Drive frequencies in Hz, shape (D, F)."""
        return self.base_frequency_Hz / self.dividers

    @property
    def active_channels(self) -> np.ndarray:
        """Boolean mask (D,) of channels with strength >= 1e-7 T in period 0 (MPIFiles' rule)."""
        return np.any(self.strengths_T[0] >= _ACTIVE_STRENGTH_T, axis=-1)

    @property
    def harmonics_per_cycle(self) -> np.ndarray:
        """Drive periods per cycle for each channel, shape (D,) (16, 17 for 2.5 MHz/102, /96).

        Inactive channels get 1, as in MPIFiles.
        """
        m = self.base_frequency_Hz * self.cycle_s / self.dividers[:, 0]
        m = np.where(self.active_channels, np.rint(m), 1.0)
        return np.maximum(1, m).astype(np.int64)

    @property
    def mixing_prefactors(self) -> np.ndarray:
        """Prefactors of the mixing factors, shape (P,): :attr:`manual_prefactors` when
        set, else :attr:`harmonics_per_cycle` (MPIFiles' ``calcPrefactors``)."""
        if self.manual_prefactors is not None:
            return self.manual_prefactors.copy()
        return self.harmonics_per_cycle

    def field_T(self, times_s, period: int = 0) -> np.ndarray:
        """Drive field at the given times.

        Parameters
        ----------
        times_s : array_like, shape (T,)
            Times in s.
        period : int
            Period (patch) index j.

        Returns
        -------
        numpy.ndarray, shape (T, 3)
            µ0·H in tesla; channel d excites axis d, channels beyond 3 are an error.
        """
        t = np.asarray(times_s, dtype=np.float64)
        if self.num_channels > 3:
            raise ValueError(f"a drive field with {self.num_channels} channels cannot be mapped onto x, y, z")
        out = np.zeros(t.shape + (3,))
        for d in range(self.num_channels):
            for f in range(self.dividers.shape[1]):
                amp = self.strengths_T[period, d, f]
                if amp == 0:
                    continue
                arg = 2 * np.pi * self.frequencies_Hz[d, f] * t + self.phases_rad[period, d, f]
                wf = str(self.waveforms[d, f])
                if wf == "sine":
                    out[..., d] += amp * np.sin(arg)
                elif wf == "triangle":
                    out[..., d] += amp * _triangle(arg)
                else:
                    raise ValueError(
                        f"drive waveform {wf!r} of channel {d} cannot be evaluated (only 'sine' and 'triangle')"
                    )
        return out


@dataclass
class Receiver:
    """Receive chain of an MDF acquisition (``/acquisition/receiver``).

    Parameters
    ----------
    bandwidth_Hz : float
        Upper edge of the first Nyquist zone (sampling rate / 2), Hz.
    num_sampling_points : int
        Samples V per cycle.
    num_channels : int
        Receive channels C.
    unit : str
        Unit of the received quantity (e.g. ``"V"``).
    transfer_function : numpy.ndarray or None, shape (C, K_full), complex
        Transfer function on the *full* rfft grid (the reader expands a selected
        one; bins not stored in the file are NaN).
    data_conversion_factor : numpy.ndarray or None, shape (C, 2)
    induction_factor : numpy.ndarray or None, shape (C,)
    """

    bandwidth_Hz: float
    num_sampling_points: int
    num_channels: int
    unit: str = "V"
    transfer_function: np.ndarray | None = None
    data_conversion_factor: np.ndarray | None = None
    induction_factor: np.ndarray | None = None

    def __post_init__(self):
        self.bandwidth_Hz = float(self.bandwidth_Hz)
        self.num_sampling_points = int(self.num_sampling_points)
        self.num_channels = int(self.num_channels)
        if self.transfer_function is not None:
            self.transfer_function = np.asarray(self.transfer_function, dtype=np.complex128)

    @property
    def sampling_interval_s(self) -> float:
        """Sample spacing 1/(2·bandwidth) in s."""
        return 1.0 / (2.0 * self.bandwidth_Hz)

    @property
    def num_frequencies(self) -> int:
        """K_full = V//2 + 1 rfft bins."""
        return self.num_sampling_points // 2 + 1

    @property
    def frequencies_Hz(self) -> np.ndarray:
        """Frequencies of all rfft bins in Hz, shape (K_full,) (``rfftfreq``; odd V supported)."""
        return np.fft.rfftfreq(self.num_sampling_points, d=self.sampling_interval_s)

    def times_s(self) -> np.ndarray:
        """Sample times of one cycle in s, shape (V,)."""
        return np.arange(self.num_sampling_points) * self.sampling_interval_s


@dataclass
class Sequence:
    """A drive field plus the receiver that samples it: what a simulation needs.

    Parameters
    ----------
    drive_field : DriveField
    receiver : Receiver
    """

    drive_field: DriveField
    receiver: Receiver

    def times_s(self) -> np.ndarray:
        """Sample times of one cycle, shape (V,), in s."""
        return self.receiver.times_s()

    def field_T(self, times_s=None, period: int = 0) -> np.ndarray:
        """Drive field (T, 3) in tesla at ``times_s`` (default: the receiver's sample times)."""
        return self.drive_field.field_T(self.times_s() if times_s is None else times_s, period)

    def mixing_orders(self) -> np.ndarray:
        """Mixing-order table, see :func:`mixing_orders`."""
        return mixing_orders(self.drive_field, self.receiver.num_frequencies)

    def with_(self, **changes) -> "Sequence":
        """A copy with some fields replaced (``dataclasses.replace``)."""
        return replace(self, **changes)


def check_prefactors(prefactors) -> np.ndarray:
    """Mixing prefactors as a 1-D int64 array of positive integers.

    Parameters
    ----------
    prefactors : array_like of int, shape (P,)
        E.g. the content of ``/measurement/_manualPrefactors``; a scalar is one prefactor.

    Returns
    -------
    numpy.ndarray of int64, shape (P,)

    Raises
    ------
    ValueError
        Empty, not integral, or not >= 1.

    Examples
    --------
    >>> check_prefactors([528, 561, 544]).tolist()
    [528, 561, 544]
    """
    raw = np.atleast_1d(np.asarray(prefactors))
    if raw.ndim != 1 or raw.size == 0 or raw.dtype.kind not in "iuf":
        raise ValueError(f"mixing prefactors must be a non-empty 1-D array of integers, got {prefactors!r}")
    if raw.dtype.kind == "f" and not np.all(np.isfinite(raw) & (raw == np.rint(raw))):
        raise ValueError(f"mixing prefactors must be whole numbers, got {raw.tolist()}")
    out = raw.astype(np.int64)
    if np.any(out < 1):
        raise ValueError(f"mixing prefactors must be >= 1, got {out.tolist()}")
    return out


#: Combinations evaluated per vectorised step of :func:`mixing_orders` (bounds memory).
_MIXING_CHUNK = 1 << 20
#: Largest |mixing factor| searched (MPIFiles' ``maxFactor`` default of its N-D rule).
MAX_MIXING_FACTOR = 100


def mixing_orders(
    drive_field: DriveField, num_frequencies: int, *, prefactors=None, max_factor: int = MAX_MIXING_FACTOR
) -> np.ndarray:
    """Lissajous mixing orders of every frequency bin, as MPIFiles computes them, for
    any number of drive channels.

    Bin ``k`` is reached by the integer mixing factors ``(m_1, ..., m_P)`` when
    ``k = Σ_p m_p·q_p`` with the prefactors ``q`` (drive periods per cycle; 16, 17 for
    the paper's 2-D sequence, 528, 561, 544 for the 3-D Bruker one); its order is
    ``Σ_p |m_p|``. Each factor is searched over ``|m_p| <= round(K_full/q_p)``, the
    range in which it alone stays inside the band (MPIFiles' 2-D and 3-D rule), capped
    at ``max_factor`` (MPIFiles' N-D rule, for small hand-set prefactors of long
    sequences); an inactive channel (strength < 1e-7 T in period 0) is not searched
    (factor 0), as in MPIFiles. The search visits ``Π_p (2·n_p + 1)`` combinations,
    about 1e6 for the 3-D Bruker sequence (n = 51, 48, 50; well under a second).

    Parameters
    ----------
    drive_field : DriveField
        Uses ``strengths_T[0, :, 0]``, ``dividers[:, 0]``, base frequency and cycle, or
        its :attr:`~DriveField.manual_prefactors` when set.
    num_frequencies : int
        K_full, the number of rfft bins.
    prefactors : array_like of int, shape (P,), optional
        Prefactors set by hand (as ``/measurement/_manualPrefactors``); they override
        the drive field's, and every one of them is searched.
    max_factor : int
        Cap on every ``|m_p|`` (default 100, MPIFiles' ``maxFactor``); orders up to it
        are exact whatever the cap.

    Returns
    -------
    numpy.ndarray of int64, shape (K_full, max(3, P) + 1)
        Columns ``m_1 ... m_P`` (zero-padded to at least ``mx, my, mz``), then the
        order; bins that no combination reaches have order -1. Among combinations of
        equal order the one visited last wins (``m_1`` slowest, ascending), as in
        MPIFiles. A single drive channel without manual prefactors gives ``m_1 = k``,
        order ``k`` for every bin (MPIFiles' 1-D rule).

    Examples
    --------
    >>> table = mixing_orders(paper_2d_sequence().drive_field, 817)
    >>> table[18].tolist()  # 18 = -1·16 + 2·17
    [-1, 2, 0, 3]
    >>> table3 = mixing_orders(bruker_3d_sequence().drive_field, 26929)
    >>> table3[561 - 528].tolist()  # 33 = -1·528 + 1·561 (second order)
    [-1, 1, 0, 2]
    """
    K = int(num_frequencies)
    if K < 1:
        raise ValueError(f"num_frequencies must be >= 1, got {num_frequencies!r}")
    manual = prefactors if prefactors is not None else drive_field.manual_prefactors
    if manual is None and drive_field.num_channels == 1:
        table = np.zeros((K, 4), dtype=np.int64)
        table[:, 0] = table[:, 3] = np.arange(K)
        return table
    if manual is not None:
        q = check_prefactors(manual)
        searched = np.ones(q.size, dtype=bool)
    else:
        q = drive_field.harmonics_per_cycle
        searched = drive_field.active_channels
    # rint is round-half-even like Julia's round, which MPIFiles uses for the ranges
    if int(max_factor) < 1:
        raise ValueError(f"max_factor must be >= 1, got {max_factor!r}")
    n = np.where(searched, np.minimum(np.rint(K / q), int(max_factor)), 0).astype(np.int64)
    factors, order = _lowest_mixing_factors(q, n, K)
    table = np.zeros((K, max(3, q.size) + 1), dtype=np.int64)
    table[:, : q.size] = factors
    table[:, -1] = order
    return table


def _lowest_mixing_factors(q: np.ndarray, n: np.ndarray, K: int):
    """Per bin, the factors of lowest order in the box ``|m_p| <= n_p``; ties go to the
    largest C-order index (MPIFiles' nested loops, first factor outermost)."""
    lengths = tuple(int(v) for v in 2 * n + 1)
    total = math.prod(lengths)
    if total > 1 << 28:
        raise ValueError(
            f"the mixing-factor search over {total} combinations (ranges ±{n.tolist()}) is too large; "
            "pass a smaller max_factor"
        )
    best_order = np.full(K, -1, dtype=np.int64)
    best_flat = np.full(K, -1, dtype=np.int64)
    for start in range(0, total, _MIXING_CHUNK):
        flat = np.arange(start, min(total, start + _MIXING_CHUNK), dtype=np.int64)
        coords = np.unravel_index(flat, lengths)
        h = np.zeros(flat.size, dtype=np.int64)
        order = np.zeros(flat.size, dtype=np.int64)
        for p, c in enumerate(coords):
            m = c.astype(np.int64) - n[p]
            h += m * q[p]
            order += np.abs(m)
        ok = (h >= 0) & (h < K)
        flat, h, order = flat[ok], h[ok], order[ok]
        if flat.size == 0:
            continue
        # per bin: lowest order first, then the last visited (largest flat index)
        idx = np.lexsort((-flat, order, h))
        first = np.ones(idx.size, dtype=bool)
        first[1:] = h[idx][1:] != h[idx][:-1]
        pick = idx[first]
        hb, ob, fb = h[pick], order[pick], flat[pick]
        # a later chunk wins ties (MPIFiles replaces on >=)
        better = (best_order[hb] < 0) | (best_order[hb] >= ob)
        best_order[hb[better]] = ob[better]
        best_flat[hb[better]] = fb[better]
    factors = np.zeros((K, q.size), dtype=np.int64)
    reached = best_order >= 0
    if reached.any():
        coords = np.unravel_index(best_flat[reached], lengths)
        for p, c in enumerate(coords):
            factors[reached, p] = c - n[p]
    return factors, best_order


def mixing_order_to_bin(mx: int, my: int, mz: int = 0, harmonics=(16, 17, 1)) -> int:
    """0-based rfft bin of the mixing order (mx, my, mz): ``mx·m_x + my·m_y + mz·m_z``."""
    return int(mx * harmonics[0] + my * harmonics[1] + (mz * harmonics[2] if len(harmonics) > 2 else 0))


def regular_grid(size, field_of_view, center) -> np.ndarray:
    """Cell-centred points of a regular grid, x fastest (MPIFiles' ``RegularGridPositions``).

    Parameters
    ----------
    size : array_like of int, shape (3,)
        Points per axis (Nx, Ny, Nz).
    field_of_view : array_like of float, shape (3,)
        Edge-to-edge extent per axis (same unit as the result).
    center : array_like of float, shape (3,)
        Grid centre.

    Returns
    -------
    numpy.ndarray, shape (Nx·Ny·Nz, 3)
        Point ``(ix, iy, iz)`` is at ``center - fov/2 + (i + 1/2)·fov/size``; axes with
        size 1 sit at the centre. Row ``ix + Nx·(iy + Ny·iz)``.
    """
    size = np.asarray(size, dtype=np.int64).reshape(3)
    fov = np.asarray(field_of_view, dtype=np.float64).reshape(3)
    c = np.asarray(center, dtype=np.float64).reshape(3)
    axes = []
    for d in range(3):
        if size[d] == 1:
            axes.append(np.array([c[d]]))
        else:
            axes.append(c[d] - fov[d] / 2 + (np.arange(size[d]) + 0.5) * fov[d] / size[d])
    zz, yy, xx = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
    return np.stack([xx.ravel(), yy.ravel(), zz.ravel()], axis=-1)


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
    new = np.array(list(size) + list(grid.size[len(size) :]), dtype=np.int64).reshape(3)
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
    off = check_offsets(offsets_T)
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
    """The one offset-grid type from what callers pass: an :class:`OffsetGrid`, a 4-tuple
    ``(offsets_T, size, field_of_view_T, center_T)`` or bare offsets (O, 3).

    Parameters
    ----------
    offsets : OffsetGrid, tuple or array_like of shape (O, 3)
        Bare offsets are recognised as a regular grid when they form one
        (:func:`infer_grid`).

    Returns
    -------
    OffsetGrid

    Raises
    ------
    ValueError
        A grid size that does not match the number of offsets, or offsets not (O, 3).

    Examples
    --------
    >>> grid = as_offset_grid(paper_2d_offsets(grid=(3, 2)))
    >>> grid.size.tolist(), grid.offsets_T.shape
    ([3, 2, 1], (6, 3))
    >>> as_offset_grid(grid.offsets_T).size.tolist()
    [3, 2, 1]
    """
    if isinstance(offsets, OffsetGrid):
        return offsets
    if isinstance(offsets, tuple) and len(offsets) == 4:
        off, size, fov, center = offsets
        grid = OffsetGrid(
            np.asarray(off, dtype=np.float64),
            np.asarray(size, dtype=np.int64).reshape(3),
            np.asarray(fov, dtype=np.float64).reshape(3),
            np.asarray(center, dtype=np.float64).reshape(3),
        )
        if int(np.prod(grid.size)) != grid.offsets_T.shape[0]:
            raise ValueError(f"grid size {grid.size.tolist()} does not match {grid.offsets_T.shape[0]} offsets")
        return grid
    return infer_grid(offsets)


# --- the paper's measured 2-D sequence ---------------------------------------------------

PAPER_BASE_FREQUENCY_HZ = 2.5e6
PAPER_DIVIDERS = (102, 96)
PAPER_STRENGTHS_T = (12.59e-3, 13.55e-3)
PAPER_OFFSET_EXTENT_T = (14.35e-3, 14.71e-3)
PAPER_GRID = (11, 11)


def paper_2d_sequence() -> Sequence:
    """The paper's 2-D Lissajous sequence (Albers et al. 2022).

    Reference: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
    immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
    J. Magn. Magn. Mater. (2022).

    2.5 MHz/102 (x) and 2.5 MHz/96 (y) cosine drive (phase +π/2 with MDF's sine
    waveform) at 12.59 and 13.55 mT; receiver at 2.5 MHz sampling (bandwidth
    1.25 MHz), V = 1632 samples per 652.8 µs cycle, two receive channels (x, y).
    A z drive channel (divider 99, strength 0) is not included.
    """
    dividers = np.array(PAPER_DIVIDERS, dtype=np.int64).reshape(2, 1)
    strengths = np.array(PAPER_STRENGTHS_T).reshape(1, 2, 1)
    phases = np.full((1, 2, 1), np.pi / 2)
    drive = DriveField(PAPER_BASE_FREQUENCY_HZ, dividers, strengths, phases, np.full((2, 1), "sine", dtype=object))
    V = int(round(drive.cycle_s * PAPER_BASE_FREQUENCY_HZ))
    receiver = Receiver(bandwidth_Hz=PAPER_BASE_FREQUENCY_HZ / 2, num_sampling_points=V, num_channels=2, unit="V")
    return Sequence(drive, receiver)


def paper_2d_offsets(grid=PAPER_GRID, extent_T=PAPER_OFFSET_EXTENT_T):
    """Offset-field grid of the paper's hybrid calibration.

    Parameters
    ----------
    grid : tuple of int (Nx, Ny)
        Points per axis (11 x 11 in the paper; any size, e.g. 41 x 41).
    extent_T : tuple of float
        Outermost offsets (±14.35 mT in x, ±14.71 mT in y); the outermost points
        sit exactly there for every grid size.

    Returns
    -------
    OffsetGrid
        ``offsets_T`` (Nx·Ny, 3), x fastest; ``size`` (Nx, Ny, 1);
        ``field_of_view_T`` the edge-to-edge extent in tesla (``2·extent·N/(N-1)``);
        ``center_T`` zeros. A named tuple: ``offsets, size, fov, center = ...`` unpacks it.
    """
    nx, ny = (int(v) for v in grid)
    size = np.array([nx, ny, 1], dtype=np.int64)
    fov = np.zeros(3)
    for d, (n, e) in enumerate(zip((nx, ny), extent_T)):
        fov[d] = 2 * e * n / (n - 1) if n > 1 else 0.0
    center = np.zeros(3)
    return OffsetGrid(regular_grid(size, fov, center), size, fov, center)


# --- the 3-D Lissajous sequence of the Bruker preclinical scanner ------------------------

BRUKER_BASE_FREQUENCY_HZ = 2.5e6
BRUKER_DIVIDERS = (102, 96, 99)
BRUKER_STRENGTHS_T = (12e-3, 12e-3, 12e-3)
BRUKER_OFFSET_EXTENT_T = BRUKER_STRENGTHS_T
BRUKER_GRID = (11, 11, 11)


def bruker_3d_sequence(strengths_T=BRUKER_STRENGTHS_T) -> Sequence:
    """The 3-D Lissajous sequence of the Bruker preclinical MPI scanner.

    2.5 MHz/102 (x), /96 (y) and /99 (z) cosine drive (phase +π/2 with MDF's sine
    waveform, as Bruker files store it) at 12 mT per channel; receiver at 2.5 MHz
    sampling (bandwidth 1.25 MHz), V = lcm(102, 96, 99) = 53856 samples per 21.5424 ms
    cycle (K_full = 26929 bins), three receive channels (x, y, z). The drive completes
    528, 561 and 544 periods per cycle on x, y and z.

    Parameters
    ----------
    strengths_T : sequence of float, length 3
        Drive amplitudes (x, y, z) in tesla (default 12 mT each). MPIFiles' Bruker test
        measurement has the same dividers and receiver with (14, 14, 0) mT: a 2-D scan,
        whose cycle (lcm of the active dividers) is then 652.8 µs.

    Returns
    -------
    Sequence

    Examples
    --------
    >>> seq = bruker_3d_sequence()
    >>> seq.receiver.num_sampling_points, seq.receiver.num_channels
    (53856, 3)
    >>> seq.drive_field.harmonics_per_cycle.tolist()
    [528, 561, 544]
    """
    dividers = np.array(BRUKER_DIVIDERS, dtype=np.int64).reshape(3, 1)
    strengths = np.asarray(strengths_T, dtype=np.float64)
    if strengths.shape != (3,) or not np.all(np.isfinite(strengths) & (strengths >= 0)):
        raise ValueError(f"strengths_T must be three finite amplitudes >= 0 in tesla, got {strengths_T!r}")
    strengths = strengths.reshape(1, 3, 1)
    phases = np.full((1, 3, 1), np.pi / 2)
    drive = DriveField(BRUKER_BASE_FREQUENCY_HZ, dividers, strengths, phases, np.full((3, 1), "sine", dtype=object))
    V = int(round(drive.cycle_s * BRUKER_BASE_FREQUENCY_HZ))
    receiver = Receiver(bandwidth_Hz=BRUKER_BASE_FREQUENCY_HZ / 2, num_sampling_points=V, num_channels=3, unit="V")
    return Sequence(drive, receiver)


def bruker_3d_offsets(grid=BRUKER_GRID, extent_T=BRUKER_OFFSET_EXTENT_T) -> OffsetGrid:
    """A 3-D offset-field grid for hybrid calibrations with :func:`bruker_3d_sequence`.

    Parameters
    ----------
    grid : tuple of int (Nx, Ny, Nz)
        Points per axis (default 11 x 11 x 11).
    extent_T : tuple of float, length 3
        Outermost offsets per axis in tesla (default ±12 mT, the drive amplitude: the
        offsets cover the region the field-free point sweeps). The outermost points sit
        exactly there for every grid size.

    Returns
    -------
    OffsetGrid
        ``offsets_T`` (Nx·Ny·Nz, 3), x fastest; ``size`` (Nx, Ny, Nz);
        ``field_of_view_T`` the edge-to-edge extent (``2·extent·N/(N-1)``); centre zero.

    Examples
    --------
    >>> g = bruker_3d_offsets(grid=(3, 3, 3))
    >>> g.offsets_T.shape, g.size.tolist()
    ((27, 3), [3, 3, 3])
    >>> g.offsets_T[0].tolist(), g.offsets_T[-1].tolist()
    ([-0.012, -0.012, -0.012], [0.012, 0.012, 0.012])
    """
    size = np.array([int(v) for v in grid], dtype=np.int64)
    ext = np.asarray(extent_T, dtype=np.float64)
    if size.shape != (3,) or ext.shape != (3,):
        raise ValueError(f"grid and extent_T need three values (x, y, z), got {grid!r} and {extent_T!r}")
    if np.any(size < 1) or np.any(ext < 0):
        raise ValueError(f"grid sizes must be >= 1 and extents >= 0, got {size.tolist()} and {ext.tolist()}")
    fov = np.where(size > 1, 2 * ext * size / np.maximum(size - 1, 1), 0.0)
    center = np.zeros(3)
    return OffsetGrid(regular_grid(size, fov, center), size, fov, center)
