"""The in-memory data model: :class:`SystemMatrix` and :class:`Measurement`.

Axis order (decided once, used everywhere; see ``docs/data-model.md``)
---------------------------------------------------------------------
* ``SystemMatrix.data``: complex, shape ``(C, K, O)`` = receive channels x stored
  frequencies x positions. Foreground frames only, positions in grid order with x
  fastest (row ``ix + Nx·(iy + Ny·iz)``), exactly as MDF stores grids.
* ``SystemMatrix.background``: complex ``(C, K, E)`` background frames in stored
  order, or ``None``.
* ``SystemMatrix.snr``: float ``(C, K)``.
* ``noise_estimate`` (both types): float ``(C, K)``, standard deviation of the
  background frames per channel and stored bin (MPIFiles' ``/custom/noiseEstimate``),
  or ``None``.
* ``Measurement.data``: complex ``(J, C, K, N)`` = periods x channels x frequencies x
  frames (MDF's fast-frame layout), all frames in stored order with
  ``is_background_frame`` (N,) telling them apart.
* ``frequency_indices``: 0-based rfft bins (K,) of the stored rows (``k`` is the
  harmonic ``k/cycle``); on disk MDF counts from 1.
* ``offset_fields_T``: (O, 3) µ0·H in tesla; ``positions_m``: (O, 3) metres.
* ``grid_size``: (Nx, Ny, Nz). ``field_of_view`` / ``field_of_view_center``: (3,), in
  tesla for offset-field (hybrid/simulated) grids and in metres for position grids;
  ``field_of_view_unit`` says which.
"""

from __future__ import annotations

import copy as _copy
import uuid as _uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from .sequence import DriveField, Receiver, Sequence

__all__ = [
    "SystemMatrix",
    "Measurement",
    "Tracer",
    "Scanner",
    "Study",
    "Experiment",
    "Acquisition",
    "new_uuid",
    "utc_now",
]


def new_uuid() -> str:
    """A random RFC 4122 version-4 UUID in canonical lowercase text form."""
    return str(_uuid.uuid4())


def utc_now() -> str:
    """Current UTC time as ``yyyy-mm-ddThh:mm:ss.mmm`` (MDF format, no zone suffix)."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds")


@dataclass
class Tracer:
    """``/tracer``: one entry per tracer/injection (length A)."""

    name: list = field(default_factory=lambda: ["n.a."])
    batch: list = field(default_factory=lambda: ["n.a."])
    vendor: list = field(default_factory=lambda: ["n.a."])
    solute: list = field(default_factory=lambda: ["Fe"])
    concentration_molL: np.ndarray = field(default_factory=lambda: np.zeros(1))
    volume_L: np.ndarray = field(default_factory=lambda: np.zeros(1))
    injection_time: list | None = None

    def __post_init__(self):
        for name in ("name", "batch", "vendor", "solute"):
            v = getattr(self, name)
            setattr(self, name, [v] if isinstance(v, str) else [str(s) for s in v])
        self.concentration_molL = np.atleast_1d(np.asarray(self.concentration_molL, dtype=np.float64))
        self.volume_L = np.atleast_1d(np.asarray(self.volume_L, dtype=np.float64))
        if isinstance(self.injection_time, str):
            self.injection_time = [self.injection_time]


@dataclass
class Scanner:
    """``/scanner``."""

    facility: str = "n.a."
    manufacturer: str = "n.a."
    name: str = "n.a."
    operator: str = "n.a."
    topology: str = "FFP"
    bore_size_m: float | None = None


@dataclass
class Study:
    """``/study``."""

    name: str = "n.a."
    number: int = 0
    description: str = "n.a."
    uuid: str = field(default_factory=new_uuid)
    time: str | None = None


@dataclass
class Experiment:
    """``/experiment``."""

    name: str = "n.a."
    number: int = 0
    description: str = "n.a."
    subject: str = "n.a."
    is_simulation: bool = False
    uuid: str = field(default_factory=new_uuid)


@dataclass
class Acquisition:
    """``/acquisition`` scalars that are not part of the sequence.

    ``gradient_Tm`` is (J, Y, 3, 3) in T/m (µ0·H per metre) or None;
    ``offset_field_T`` is (J, Y, 3) or None.
    """

    num_averages: int = 1
    start_time: str = field(default_factory=utc_now)
    gradient_Tm: np.ndarray | None = None
    offset_field_T: np.ndarray | None = None


def _noise_estimate(value, shape):
    """``noise_estimate`` as float64 of ``shape`` (C, K), finite and >= 0, or None."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"noise_estimate must have shape {shape} (channels, frequencies), got {arr.shape}")
    if not (np.all(np.isfinite(arr)) and np.all(arr >= 0)):
        raise ValueError("noise_estimate must be finite and >= 0 (a standard deviation)")
    return arr


def _as_array(value, dtype, name, ndim=None):
    if value is None:
        return None
    arr = np.asarray(value, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


@dataclass(kw_only=True)
class _MDFContent:
    """File-level metadata shared by system matrices and measurements (keyword-only).

    ``provenance`` is a dict of what produced the content (str, numbers, arrays, nested
    dicts), stored under ``/_provenance`` in MDF files; ``source_path`` is the file it
    was read from (not written).
    """

    provenance: dict = field(default_factory=dict)
    tracer: Tracer | None = field(default_factory=Tracer)
    scanner: Scanner = field(default_factory=Scanner)
    study: Study = field(default_factory=Study)
    experiment: Experiment = field(default_factory=Experiment)
    acquisition: Acquisition = field(default_factory=Acquisition)
    uuid: str = field(default_factory=new_uuid)
    time: str = field(default_factory=utc_now)
    source_path: str | None = None

    def copy(self):
        """A deep copy."""
        return _copy.deepcopy(self)

    def replace(self, **changes):
        """A shallow copy with some fields replaced (``dataclasses.replace``); validates again."""
        return replace(self, **changes)

    # dataclass equality on arrays is ambiguous; keep identity semantics
    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__


@dataclass(eq=False)
class SystemMatrix(_MDFContent):
    """A (hybrid, robot or simulated) MPI system matrix, foreground positions only.

    Parameters
    ----------
    data : numpy.ndarray, complex, shape (C, K, O)
        Channels x stored frequencies x positions (x fastest).
    frequency_indices : numpy.ndarray of int, shape (K,)
        0-based rfft bins of the rows (strictly increasing).
    drive_field : DriveField
    receiver : Receiver
    grid_size : array_like of int, shape (3,)
        (Nx, Ny, Nz) with ``prod(grid_size) == O``.
    field_of_view, field_of_view_center : array_like, shape (3,)
        Edge-to-edge extent and centre of the grid, in ``field_of_view_unit``.
    offset_fields_T : numpy.ndarray, shape (O, 3), optional
        Offset field per position (hybrid / simulated matrices), tesla.
    positions_m : numpy.ndarray, shape (O, 3), optional
        Sample position per frame (robot matrices), metres. Never together with
        ``offset_fields_T`` in a written file.
    background : numpy.ndarray, complex, shape (C, K, E), optional
    snr : numpy.ndarray, float, shape (C, K), optional
    method : str
        ``"hybrid"``, ``"robot"``, ``"simulation"``, ...
    easy_axis_angle_deg : float, optional
        Easy-axis angle ϑ of the immobilised particles, n(ϑ) = (cos ϑ, sin ϑ, 0).
    easy_axis_polar_deg : float
        Polar angle of the easy axis from +z [deg], in [0, 180]; 90 (default) is the
        xy-plane. Otherwise n = (sin p cos ϑ, sin p sin ϑ, cos p).
    noise_estimate : numpy.ndarray, float, shape (C, K), optional
        Noise standard deviation per channel and stored bin, in the unit of ``data``
        (``/custom/noiseEstimate``, what MPIReco whitens with); finite and >= 0.
        None for noise-free data.
    provenance, tracer, scanner, study, experiment, acquisition, uuid, time, source_path
        File-level metadata, keyword-only (see ``_MDFContent``). ``provenance`` says
        what produced the matrix (model, parameters with units, versions).
    """

    data: np.ndarray
    frequency_indices: np.ndarray
    drive_field: DriveField
    receiver: Receiver
    grid_size: np.ndarray
    field_of_view: np.ndarray
    field_of_view_center: np.ndarray
    offset_fields_T: np.ndarray | None = None
    positions_m: np.ndarray | None = None
    background: np.ndarray | None = None
    snr: np.ndarray | None = None
    method: str = "simulation"
    order: str = "xyz"
    field_of_view_unit: str = "T"
    delta_sample_size_m: np.ndarray | None = None
    is_background_corrected: bool = False
    is_transfer_function_corrected: bool = False
    easy_axis_angle_deg: float | None = None
    noise_estimate: np.ndarray | None = None
    easy_axis_polar_deg: float = 90.0

    def __post_init__(self):
        self.data = np.asarray(self.data)
        if self.data.ndim != 3:
            raise ValueError(f"data must have shape (channels, frequencies, positions), got {self.data.shape}")
        if not np.iscomplexobj(self.data):
            self.data = self.data.astype(np.complex128)
        C, K, O = self.data.shape
        self.frequency_indices = np.asarray(self.frequency_indices, dtype=np.int64).reshape(-1)
        if self.frequency_indices.shape != (K,):
            raise ValueError(f"frequency_indices must have shape ({K},), got {self.frequency_indices.shape}")
        if K > 1 and np.any(np.diff(self.frequency_indices) <= 0):
            raise ValueError("frequency_indices must be strictly increasing")
        kfull = self.receiver.num_frequencies
        if K and (self.frequency_indices[0] < 0 or self.frequency_indices[-1] >= kfull):
            raise ValueError(
                f"frequency_indices must lie in [0, {kfull - 1}] (V = {self.receiver.num_sampling_points})"
            )
        if self.receiver.num_channels != C:
            raise ValueError(f"receiver.num_channels = {self.receiver.num_channels} but data has {C} channels")
        self.grid_size = np.asarray(self.grid_size, dtype=np.int64).reshape(3)
        if int(np.prod(self.grid_size)) != O:
            raise ValueError(f"prod(grid_size) = {int(np.prod(self.grid_size))} != {O} positions in data")
        self.field_of_view = np.asarray(self.field_of_view, dtype=np.float64).reshape(3)
        self.field_of_view_center = np.asarray(self.field_of_view_center, dtype=np.float64).reshape(3)
        for name in ("offset_fields_T", "positions_m"):
            v = _as_array(getattr(self, name), np.float64, name)
            if v is not None and v.shape != (O, 3):
                raise ValueError(f"{name} must have shape ({O}, 3), got {v.shape}")
            setattr(self, name, v)
        if self.background is not None:
            self.background = np.asarray(self.background)
            if self.background.ndim != 3 or self.background.shape[:2] != (C, K):
                raise ValueError(f"background must have shape ({C}, {K}, E), got {self.background.shape}")
        if self.snr is not None:
            self.snr = np.asarray(self.snr, dtype=np.float64)
            if self.snr.shape != (C, K):
                raise ValueError(f"snr must have shape ({C}, {K}), got {self.snr.shape}")
        if self.delta_sample_size_m is not None:
            self.delta_sample_size_m = np.asarray(self.delta_sample_size_m, dtype=np.float64).reshape(3)
        if self.easy_axis_angle_deg is not None:
            self.easy_axis_angle_deg = float(self.easy_axis_angle_deg)
        self.easy_axis_polar_deg = float(self.easy_axis_polar_deg)
        if not 0.0 <= self.easy_axis_polar_deg <= 180.0:
            raise ValueError(f"easy_axis_polar_deg must be in [0, 180] degrees, got {self.easy_axis_polar_deg!r}")
        self.noise_estimate = _noise_estimate(self.noise_estimate, (C, K))

    # --- sizes -----------------------------------------------------------------------------
    @property
    def num_channels(self) -> int:
        """Receive channels C."""
        return int(self.data.shape[0])

    @property
    def num_frequencies(self) -> int:
        """Stored frequencies K."""
        return int(self.data.shape[1])

    @property
    def num_positions(self) -> int:
        """Foreground positions O."""
        return int(self.data.shape[2])

    @property
    def num_background_frames(self) -> int:
        """Background frames E (0 without background)."""
        return 0 if self.background is None else int(self.background.shape[2])

    @property
    def frequencies_Hz(self) -> np.ndarray:
        """Frequencies of the stored rows in Hz, shape (K,)."""
        return self.receiver.frequencies_Hz[self.frequency_indices]

    @property
    def sequence(self) -> Sequence:
        """The drive field and receiver as a :class:`~mdf_neel.sequence.Sequence`."""
        return Sequence(self.drive_field, self.receiver)

    @property
    def grid_shape(self) -> tuple:
        """numpy shape (Nz, Ny, Nx) of one row reshaped onto the grid."""
        return tuple(int(v) for v in self.grid_size[::-1])

    # --- views and copies ------------------------------------------------------------------
    def to_grid(self) -> np.ndarray:
        """Data reshaped onto the grid: (C, K, Nz, Ny, Nx) (a view when possible)."""
        return self.data.reshape(self.data.shape[:2] + self.grid_shape)

    def row_positions(self, channel: int, frequency_index: int) -> np.ndarray:
        """One SM row as an image (Nz, Ny, Nx) for the 0-based rfft bin ``frequency_index``."""
        where = np.flatnonzero(self.frequency_indices == int(frequency_index))
        if where.size == 0:
            raise KeyError(f"frequency bin {frequency_index} is not stored")
        return self.data[channel, where[0]].reshape(self.grid_shape)

    def select_frequencies(self, frequency_indices) -> "SystemMatrix":
        """A new matrix holding only the given 0-based rfft bins (which must be stored)."""
        want = np.asarray(frequency_indices, dtype=np.int64).reshape(-1)
        pos = np.searchsorted(self.frequency_indices, want)
        ok = (pos < self.num_frequencies) & (self.frequency_indices[np.minimum(pos, self.num_frequencies - 1)] == want)
        if not np.all(ok):
            raise KeyError(f"frequency bins {want[~ok].tolist()} are not stored")
        order = np.argsort(want)
        pos = pos[order]
        return self.replace(
            data=self.data[:, pos, :],
            frequency_indices=want[order],
            background=None if self.background is None else self.background[:, pos, :],
            snr=None if self.snr is None else self.snr[:, pos],
            noise_estimate=None if self.noise_estimate is None else self.noise_estimate[:, pos],
        )

    def __repr__(self) -> str:
        angle = "" if self.easy_axis_angle_deg is None else f", easy_axis_angle_deg={self.easy_axis_angle_deg:g}"
        return (
            f"SystemMatrix(method={self.method!r}, channels={self.num_channels}, "
            f"frequencies={self.num_frequencies}, positions={self.num_positions}, "
            f"grid={tuple(int(v) for v in self.grid_size)}, background_frames={self.num_background_frames}{angle})"
        )


@dataclass(eq=False)
class Measurement(_MDFContent):
    """An MPI measurement (``/measurement`` of a non-calibration MDF file).

    Parameters
    ----------
    data : numpy.ndarray, complex, shape (J, C, K, N)
        Periods x channels x stored frequencies x frames (rfft spectra of each period).
    frequency_indices : numpy.ndarray of int, shape (K,)
        0-based rfft bins of the stored frequencies.
    is_background_frame : numpy.ndarray of bool, shape (N,)
    drive_field, receiver
        The sequence.
    noise_estimate : numpy.ndarray, float, shape (C, K), optional
        Noise standard deviation per channel and stored bin (``/custom/noiseEstimate``).
    """

    data: np.ndarray
    frequency_indices: np.ndarray
    is_background_frame: np.ndarray
    drive_field: DriveField
    receiver: Receiver
    is_background_corrected: bool = False
    is_transfer_function_corrected: bool = False
    frame_permutation: np.ndarray | None = None
    noise_estimate: np.ndarray | None = None

    def __post_init__(self):
        self.data = np.asarray(self.data)
        if self.data.ndim != 4:
            raise ValueError(f"data must have shape (periods, channels, frequencies, frames), got {self.data.shape}")
        J, C, K, N = self.data.shape
        self.frequency_indices = np.asarray(self.frequency_indices, dtype=np.int64).reshape(-1)
        if self.frequency_indices.shape != (K,):
            raise ValueError(f"frequency_indices must have shape ({K},), got {self.frequency_indices.shape}")
        self.is_background_frame = np.asarray(self.is_background_frame, dtype=bool).reshape(-1)
        if self.is_background_frame.shape != (N,):
            raise ValueError(f"is_background_frame must have shape ({N},), got {self.is_background_frame.shape}")
        if self.frame_permutation is not None:
            self.frame_permutation = np.asarray(self.frame_permutation, dtype=np.int64).reshape(-1)
        self.noise_estimate = _noise_estimate(self.noise_estimate, (C, K))

    @property
    def num_frames(self) -> int:
        """Frames N (foreground and background)."""
        return int(self.data.shape[3])

    @property
    def foreground(self) -> np.ndarray:
        """Foreground frames (J, C, K, N_fg)."""
        return self.data[..., ~self.is_background_frame]

    @property
    def background(self) -> np.ndarray:
        """Background frames (J, C, K, E)."""
        return self.data[..., self.is_background_frame]

    @property
    def frequencies_Hz(self) -> np.ndarray:
        """Frequencies of the stored bins in Hz, shape (K,)."""
        return self.receiver.frequencies_Hz[self.frequency_indices]
