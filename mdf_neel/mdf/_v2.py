"""MDF v2.x reading: metadata, the ``/measurement`` layout, and the two readers.

:mod:`mdf_neel.mdf.reader` opens the file, checks the version and dispatches here or to
:mod:`mdf_neel.mdf._v1`; the frame and correction helpers both use live in
:mod:`mdf_neel.mdf._frames`.
"""

from __future__ import annotations

import logging

import h5py
import numpy as np

from ..errors import MDFError
from ..sequence import DriveField, Receiver, check_prefactors
from ..systemmatrix import Acquisition, Experiment, Measurement, Scanner, Study, SystemMatrix, Tracer
from . import _frames, _h5, schema
from ._frames import MAX_CHANNELS, MAX_SAMPLES, sparsity_transform
from ._h5 import fail, read_array, read_scalar, read_string, read_strings

logger = logging.getLogger("mdf_neel.mdf.reader")

#: Bytes of time data transformed per block when isFourierTransformed = 0.
_BLOCK_BYTES = 64 * 2**20

_M = "/measurement/"
_RX = "/acquisition/receiver/"
_DF = "/acquisition/drivefield/"
_CAL = "/calibration/"


def _to_complex(raw: np.ndarray) -> np.ndarray:
    if raw.dtype.names is not None:
        return _h5._convert(None, None, raw, "complex")
    return raw


def _grid_shape(size) -> tuple:
    return tuple(int(v) for v in np.asarray(size)[::-1])


# --------------------------------------------------------------------------------------
# metadata
# --------------------------------------------------------------------------------------
def _opt_string(f, name, strict, default="n.a."):
    return read_string(f, name, required=strict, default=default)


def _read_common_v2(f, strict: bool):
    study = Study(
        name=_opt_string(f, "/study/name", strict),
        number=read_scalar(f, "/study/number", "int", required=strict, default=0),
        description=_opt_string(f, "/study/description", strict),
        uuid=_opt_string(f, "/study/uuid", strict, default=None) or Study().uuid,
        time=read_string(f, "/study/time", required=False),
    )
    experiment = Experiment(
        name=_opt_string(f, "/experiment/name", strict),
        number=read_scalar(f, "/experiment/number", "int", required=strict, default=0),
        description=_opt_string(f, "/experiment/description", strict),
        subject=_opt_string(f, "/experiment/subject", strict),
        is_simulation=read_scalar(f, "/experiment/isSimulation", "bool", required=strict, default=False),
        uuid=_opt_string(f, "/experiment/uuid", strict, default=None) or Experiment().uuid,
    )
    scanner = Scanner(
        facility=_opt_string(f, "/scanner/facility", strict),
        manufacturer=_opt_string(f, "/scanner/manufacturer", strict),
        name=_opt_string(f, "/scanner/name", strict),
        operator=_opt_string(f, "/scanner/operator", strict),
        topology=_opt_string(f, "/scanner/topology", strict, default="FFP"),
        bore_size_m=read_scalar(f, "/scanner/boreSize", "float", required=False),
    )
    tracer = _read_tracer_v2(f, strict)
    acquisition = Acquisition(
        num_averages=read_scalar(f, "/acquisition/numAverages", "int", required=strict, default=1, minimum=1),
        start_time=_opt_string(f, "/acquisition/startTime", strict, default=None) or Acquisition().start_time,
        gradient_Tm=read_array(f, "/acquisition/gradient", "float", ndim=4, required=False),
        offset_field_T=read_array(f, "/acquisition/offsetField", "float", ndim=3, required=False),
    )
    if acquisition.gradient_Tm is not None and acquisition.gradient_Tm.shape[2:] != (3, 3):
        raise fail(f, "/acquisition/gradient", f"has shape {acquisition.gradient_Tm.shape}, expected (J, Y, 3, 3)")
    if acquisition.offset_field_T is not None and acquisition.offset_field_T.shape[2:] != (3,):
        raise fail(f, "/acquisition/offsetField", f"has shape {acquisition.offset_field_T.shape}, expected (J, Y, 3)")
    ident = dict(
        uuid=_opt_string(f, "/uuid", strict, default=None) or Study().uuid,
        time=_opt_string(f, "/time", strict, default=None) or Acquisition().start_time,
    )
    return dict(study=study, experiment=experiment, scanner=scanner, tracer=tracer, acquisition=acquisition, **ident)


def _read_tracer_v2(f, strict: bool):
    if _h5.get_group(f, "/tracer", required=False) is None:
        return None
    T = "/tracer/"
    fields = {}
    for key, name in (("name", "name"), ("batch", "batch"), ("vendor", "vendor"), ("solute", "solute")):
        arr = read_strings(f, T + name, ndim=(0, 1), required=strict)
        fields[key] = ["n.a." if key != "solute" else "Fe"] if arr is None else [str(v) for v in np.atleast_1d(arr)]
    for key, name in (("concentration_molL", "concentration"), ("volume_L", "volume")):
        arr = read_array(f, T + name, "float", ndim=(0, 1), required=strict)
        fields[key] = np.zeros(1) if arr is None else np.atleast_1d(arr)
    inj = read_strings(f, T + "injectionTime", ndim=(0, 1), required=False)
    fields["injection_time"] = None if inj is None else [str(v) for v in np.atleast_1d(inj)]
    lengths = {k: len(v) for k, v in fields.items() if v is not None}
    A = max(lengths.values())
    for key, n in lengths.items():
        if n == A:
            continue
        if n == 1:  # MPIFiles writes scalars for unknown tracer values
            fields[key] = fields[key] * A if isinstance(fields[key], list) else np.repeat(fields[key], A)
        else:
            raise fail(f, T + key, f"has {n} entries, expected {A} (one per tracer, like the other /tracer fields)")
    return Tracer(**fields)


def _read_value(f, name, obj):
    """Provenance value: str, Python scalar or numpy array."""
    if h5py.check_string_dtype(obj.dtype) is not None:
        arr = read_strings(f, name)
        return arr[()] if arr.shape == () else arr
    kind = _h5.dataset_kind(obj.dtype)
    if kind is None:
        raise fail(f, name, f"has unsupported type {obj.dtype} for a provenance value")
    arr = read_array(f, name, "number")
    if arr.shape == ():
        return arr[()].item()
    return arr


def _read_group_dict(f, name: str) -> dict:
    group = _h5.get_group(f, name, required=False)
    if group is None:
        return {}
    out = {}
    for key in group:
        path = f"{name}/{key}"
        obj = _h5._resolve(f, path)
        out[key] = _read_group_dict(f, path) if isinstance(obj, h5py.Group) else _read_value(f, path, obj)
    return out


# --------------------------------------------------------------------------------------
# sequence
# --------------------------------------------------------------------------------------
def _read_sequence_v2(f, strict: bool):
    V = read_scalar(f, _RX + "numSamplingPoints", "int", minimum=1, maximum=MAX_SAMPLES)
    C = read_scalar(f, _RX + "numChannels", "int", minimum=1, maximum=MAX_CHANNELS)
    bandwidth = read_scalar(f, _RX + "bandwidth", "float", minimum=np.finfo(float).tiny)
    unit = _opt_string(f, _RX + "unit", strict, default="V")
    dcf = read_array(f, _RX + "dataConversionFactor", "float", shape=(C, 2), required=False)
    induction = read_array(f, _RX + "inductionFactor", "float", shape=(C,), required=False)
    receiver = Receiver(bandwidth, V, C, unit=unit, data_conversion_factor=dcf, induction_factor=induction)

    D = read_scalar(f, _DF + "numChannels", "int", minimum=1, maximum=MAX_CHANNELS)
    divider = read_array(f, _DF + "divider", "int", ndim=(1, 2))
    if divider.ndim == 1:
        divider = divider.reshape(-1, 1)
    if divider.shape[0] != D and divider.shape == (1, D):  # MPIFiles-converted Bruker/v1 files: F x D
        divider = divider.T
    if divider.shape[0] != D:
        raise fail(f, _DF + "divider", f"has shape {divider.shape}, expected (D, F) with D = numChannels = {D}")
    if np.any(divider < 1):
        raise fail(f, _DF + "divider", f"holds {divider.min()}, expected dividers >= 1")
    F = divider.shape[1]
    base = read_scalar(f, _DF + "baseFrequency", "float", minimum=np.finfo(float).tiny)
    strength = read_array(f, _DF + "strength", "float", ndim=3)
    phase = read_array(f, _DF + "phase", "float", ndim=3, required=strict)
    if strength.shape[1:] != (D, F):
        raise fail(f, _DF + "strength", f"has shape {strength.shape}, expected (J, {D}, {F})")
    if phase is None:
        phase = np.zeros_like(strength)
    if phase.shape != strength.shape:
        raise fail(f, _DF + "phase", f"has shape {phase.shape}, expected {strength.shape} like strength")
    wf = read_strings(f, _DF + "waveform", required=strict)
    if wf is None:
        wf = np.full((D, F), "sine", dtype=object)
    elif wf.size == 1:
        wf = np.full((D, F), wf.ravel()[0], dtype=object)
    elif wf.size == D * F:
        wf = wf.reshape(D, F)
    else:
        raise fail(f, _DF + "waveform", f"has shape {wf.shape}, expected ({D}, {F}) or a scalar")
    cycle = read_scalar(f, _DF + "cycle", "float", required=strict, minimum=np.finfo(float).tiny)
    manual = _manual_prefactors(f)
    drive = DriveField(base, divider, strength, phase, wf, cycle_s=cycle, manual_prefactors=manual)
    return drive, receiver


def _manual_prefactors(f):
    """MPIFiles' hand-set mixing prefactors (``/measurement/_manualPrefactors``), or None."""
    name = schema.MANUAL_PREFACTORS
    raw = read_array(f, name, "int", required=False)
    if raw is None:
        return None
    try:
        return check_prefactors(raw)
    except ValueError as exc:
        raise fail(f, name, f"holds {np.ravel(raw).tolist()}, expected positive integers of shape (P,)") from exc


# --------------------------------------------------------------------------------------
# layout of /measurement (v2)
# --------------------------------------------------------------------------------------
class _Layout:
    """Everything needed to pull rows out of ``/measurement/data`` (v2)."""

    def __init__(self, f, receiver: Receiver, num_periods_hint: int | None):
        self.f = f
        V, C = receiver.num_sampling_points, receiver.num_channels
        self.K_full = receiver.num_frequencies
        self.ft = read_scalar(f, _M + "isFourierTransformed", "bool")
        fast = read_scalar(f, _M + "isFastFrameAxis", "bool", required=False)
        if fast is None:
            fast = read_scalar(f, _M + "isTransposed", "bool", required=False)
            if fast is None:
                raise fail(
                    f,
                    _M + "isFastFrameAxis",
                    "required flag is missing (int8 0/1; nor is the old name isTransposed present)",
                )
        self.fast = fast
        self.sparse = read_scalar(f, _M + "isSparsityTransformed", "bool", required=False, default=False)
        self.bg_corrected = read_scalar(f, _M + "isBackgroundCorrected", "bool")
        self.tf_corrected = read_scalar(f, _M + "isTransferFunctionCorrected", "bool")
        read_scalar(f, _M + "isSpectralLeakageCorrected", "bool")
        has_sel = read_scalar(f, _M + "isFrequencySelection", "bool")
        has_perm = read_scalar(f, _M + "isFramePermutation", "bool")

        ds = _h5.get_dataset(f, _M + "data", "real" if not self.ft else "complex", ndim=4)
        self.ds = ds
        shape = ds.shape
        if self.fast:
            J, Cd, X, Nst = shape
        else:
            Nst, J, Cd, X = shape
        order = "(J, C, X, N)" if self.fast else "(N, J, C, X)"
        if Cd != C:
            raise fail(
                f, _M + "data", f"has shape {shape} {order} with C = {Cd}, expected C = receiver/numChannels = {C}"
            )
        if num_periods_hint is not None and J != num_periods_hint:
            raise fail(
                f,
                _M + "data",
                f"has shape {shape} {order} with J = {J}, expected J = numPeriodsPerFrame = {num_periods_hint}",
            )
        self.J, self.C, self.N_stored = J, C, Nst

        if has_sel:
            if not self.ft:
                raise fail(
                    f, _M + "isFrequencySelection", "is 1 but the data are time signals (isFourierTransformed = 0)"
                )
            sel = read_array(f, _M + "frequencySelection", "int", ndim=1)
            if sel.size and (sel.min() < 1 or sel.max() > self.K_full):
                hint = " (0 found: the indices must be 1-based)" if sel.min() == 0 else ""
                raise fail(
                    f,
                    _M + "frequencySelection",
                    f"holds values in [{sel.min()}, {sel.max()}], expected 1-based bins in [1, {self.K_full}]{hint}",
                )
            if np.unique(sel).size != sel.size:
                raise fail(f, _M + "frequencySelection", "holds repeated frequency indices, expected distinct ones")
            self.stored_bins = sel - 1
        else:
            self.stored_bins = np.arange(self.K_full)
        if self.ft and X != self.stored_bins.size:
            what = "len(frequencySelection)" if has_sel else "numSamplingPoints // 2 + 1"
            raise fail(
                f, _M + "data", f"has shape {shape} {order} with X = {X}, expected X = {what} = {self.stored_bins.size}"
            )
        if not self.ft and X != V:
            raise fail(
                f, _M + "data", f"has shape {shape} {order} with X = {X} time samples, expected numSamplingPoints = {V}"
            )
        if self.sparse and not (self.ft and self.fast):
            raise fail(
                f, _M + "isSparsityTransformed", "is 1, which requires isFourierTransformed = 1 and isFastFrameAxis = 1"
            )

        is_bg = read_array(f, _M + "isBackgroundFrame", "bool", ndim=1)
        num_frames = read_scalar(f, "/acquisition/numFrames", "int", minimum=0)
        E = int(is_bg.sum())
        self.E = E
        if not self.sparse:
            if is_bg.size != Nst:
                raise fail(
                    f,
                    _M + "isBackgroundFrame",
                    f"has {is_bg.size} entries, expected N = {Nst} (frames in /measurement/data)",
                )
            if num_frames != Nst:
                raise fail(
                    f, "/acquisition/numFrames", f"is {num_frames}, expected N = {Nst} (frames in /measurement/data)"
                )
            self.stored_bg = is_bg
            self.logical_bg = is_bg
            self.B = None
        else:
            self._init_sparse(f, is_bg, num_frames)
        N_logical = self.logical_bg.size
        self.perm = None
        if has_perm:
            perm = read_array(f, _M + "framePermutation", "int", ndim=1)
            if perm.size and perm.min() == 0:
                raise fail(f, _M + "framePermutation", "holds 0, expected 1-based frame indices")
            if perm.size == N_logical:
                if not np.array_equal(np.sort(perm), np.arange(1, N_logical + 1)):
                    raise fail(f, _M + "framePermutation", f"is not a permutation of 1..{N_logical}")
                self.perm = perm - 1
            elif self.sparse and perm.size == Nst:
                logger.warning("%s: framePermutation refers to the compressed frames; ignored", _h5._fname(f))
            else:
                raise fail(f, _M + "framePermutation", f"has {perm.size} entries, expected N = {N_logical}")

    def _init_sparse(self, f, is_bg, num_frames):
        Nst, E = self.N_stored, self.E
        size = read_array(f, _CAL + "size", "int", shape=(3,))
        if np.any(size < 1):
            raise fail(f, _CAL + "size", f"is {size.tolist()}, expected >= 1 on every axis")
        O = int(np.prod(size))
        self.grid_size = size
        B = Nst - E
        if is_bg.size == Nst:  # MPIFiles: B coefficients then E background frames
            if not (np.all(~is_bg[:B]) and np.all(is_bg[B:])):
                raise fail(
                    f, _M + "isBackgroundFrame", f"expected {B} zeros (coefficients) followed by {E} ones (background)"
                )
        elif is_bg.size == O + E:  # the spec's N = O + E
            if int((~is_bg).sum()) != O:
                raise fail(
                    f,
                    _M + "isBackgroundFrame",
                    f"has {int((~is_bg).sum())} foreground frames, expected prod(size) = {O}",
                )
        else:
            raise fail(
                f,
                _M + "isBackgroundFrame",
                f"has {is_bg.size} entries, expected B + E = {Nst} (MPIFiles) or O + E = {O + E} (spec)",
            )
        if num_frames not in (Nst, O + E):
            raise fail(f, "/acquisition/numFrames", f"is {num_frames}, expected B + E = {Nst} or O + E = {O + E}")
        if B < 1 or B > O:
            raise fail(f, _M + "data", f"holds {B} coefficients per row, expected 1..prod(size) = {O}")
        self.B, self.O = B, O
        self.stored_bg = np.r_[np.zeros(B, bool), np.ones(E, bool)]
        self.logical_bg = np.r_[np.zeros(O, bool), np.ones(E, bool)]
        name = read_string(f, _M + "sparsityTransformation")
        if name not in _frames.DCT_TYPES:
            raise fail(f, _M + "sparsityTransformation", f"is {name!r}, expected one of {tuple(_frames.DCT_TYPES)}")
        self.transform = name
        self.sub_ds = _h5.get_dataset(
            f, _M + "subsamplingIndices", "int", shape=(self.J, self.C, self.stored_bins.size, B)
        )

    # ----------------------------------------------------------------------------------
    def positions_for(self, frequencies):
        """Disk positions (sorted) and the 0-based bins they hold, for the requested bins."""
        stored = self.stored_bins
        if frequencies is None:
            order = np.argsort(stored, kind="stable")
            return order, stored[order]
        want = np.asarray(frequencies)
        if want.dtype.kind not in "iu" and want.size:
            raise ValueError(f"frequencies must be integer 0-based rfft bins, got dtype {want.dtype}")
        want = np.unique(want.astype(np.int64).reshape(-1))
        lookup = np.full(self.K_full, -1, dtype=np.int64)
        lookup[stored] = np.arange(stored.size)
        bad = want[(want < 0) | (want >= self.K_full)]
        if bad.size:
            raise ValueError(f"frequencies {bad[:5].tolist()} outside the rfft grid [0, {self.K_full - 1}]")
        pos = lookup[want]
        if np.any(pos < 0):
            raise ValueError(f"frequency bins {want[pos < 0][:10].tolist()} are not stored in {_h5._fname(self.f)!r}")
        return pos, want

    def read(self, positions, periods):
        """Rows ``(J', C, k, N_logical)`` complex for the disk positions (any order) and
        the period slice; foreground decompressed; in ``positions`` order."""
        order = np.argsort(positions, kind="stable")
        sorted_pos = positions[order]
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        name = _M + "data"
        if self.ft:
            if self.fast:  # (J, C, K, N)
                raw = _frames.read_hyperslab(
                    self.f, name, self.ds, [periods, slice(None), None, slice(None)], 2, sorted_pos
                )
            else:  # (N, J, C, K)
                raw = _frames.read_hyperslab(
                    self.f, name, self.ds, [slice(None), periods, slice(None), None], 3, sorted_pos
                )
                raw = np.moveaxis(raw, 0, -1)
            data = _to_complex(raw)
        else:
            data = self._read_time(sorted_pos, periods)
        if not np.array_equal(inverse, np.arange(inverse.size)):
            data = data[:, :, inverse, :]
        if self.sparse:
            data = self._decompress(data, sorted_pos[inverse], periods)
        return data

    def _read_time(self, bins, periods):
        """rfft of time data, frame block by frame block; only ``bins`` are kept."""
        ds, name = self.ds, _M + "data"
        J = len(range(*periods.indices(self.J)))
        per_frame = max(1, J * self.C * ds.shape[-1 if not self.fast else 2] * 8)
        step = max(1, _BLOCK_BYTES // per_frame)
        out = np.empty((J, self.C, bins.size, self.N_stored), dtype=np.complex128)
        for n0 in range(0, self.N_stored, step):
            n1 = min(self.N_stored, n0 + step)
            try:
                if self.fast:  # (J, C, V, N)
                    block = np.asarray(ds[periods, :, :, n0:n1], dtype=np.float64)
                    spec = np.fft.rfft(block, axis=2)[:, :, bins, :]
                else:  # (N, J, C, V)
                    block = np.asarray(ds[n0:n1, periods], dtype=np.float64)
                    spec = np.moveaxis(np.fft.rfft(block, axis=-1)[..., bins], 0, -1)
            except (OSError, RuntimeError, ValueError, TypeError) as exc:
                raise fail(self.f, name, f"data cannot be read (corrupt file?): {exc}") from exc
            out[..., n0:n1] = spec
        return out

    def _decompress(self, data, disk_pos, periods):
        """(J', C, k, B + E) coefficients → (J', C, k, O + E) frames."""
        name = _M + "subsamplingIndices"
        order = np.argsort(disk_pos, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        idx = _frames.read_hyperslab(
            self.f, name, self.sub_ds, [periods, slice(None), None, slice(None)], 2, disk_pos[order]
        )
        idx = idx.astype(np.int64)[:, :, inverse, :]
        if idx.size and (idx.min() < 1 or idx.max() > self.O):
            hint = " (0 found: indices must be 1-based)" if idx.min() == 0 else ""
            raise fail(
                self.f,
                name,
                f"holds values in [{idx.min()}, {idx.max()}], expected 1-based indices in [1, {self.O}]{hint}",
            )
        coeff = np.zeros(data.shape[:3] + (self.O,), dtype=np.result_type(data.dtype, np.complex64))
        B = self.B
        np.put_along_axis(coeff, idx - 1, data[..., :B], axis=-1)
        # repeated indices would make put_along_axis silently keep one value
        if idx.size:
            srt = np.sort(idx, axis=-1)
            if np.any(srt[..., 1:] == srt[..., :-1]):
                raise fail(self.f, name, "holds repeated indices within one row, expected distinct coefficient indices")
        fg = sparsity_transform(coeff, _grid_shape(self.grid_size), self.transform, inverse=True)
        return np.concatenate([fg.astype(coeff.dtype, copy=False), data[..., B:]], axis=-1)

    # ----------------------------------------------------------------------------------
    def acquisition_indices(self):
        """0-based acquisition index of every logical frame (identity without permutation)."""
        return np.arange(self.logical_bg.size) if self.perm is None else self.perm


# --------------------------------------------------------------------------------------
# v2 readers
# --------------------------------------------------------------------------------------
def _read_calibration(f, O, strict, method_default="n.a."):
    size = read_array(f, _CAL + "size", "int", shape=(3,), required=False)
    if size is None:
        logger.warning(
            "%s: /calibration/size missing; treating the %d positions as an (O, 1, 1) grid", _h5._fname(f), O
        )
        size = np.array([O, 1, 1], dtype=np.int64)
    if np.any(size < 1) or int(np.prod(size)) != O:
        raise fail(
            f,
            _CAL + "size",
            f"is {size.tolist()} (product {int(np.prod(size))}), expected product = {O} foreground frames",
        )
    fov = read_array(f, _CAL + "fieldOfView", "float", shape=(3,), required=False, default=np.zeros(3))
    center = read_array(f, _CAL + "fieldOfViewCenter", "float", shape=(3,), required=False, default=np.zeros(3))
    offsets = read_array(f, _CAL + "offsetFields", "float", shape=(O, 3), required=False)
    if offsets is None:
        offsets = read_array(f, _CAL + "_offsetFields", "float", shape=(O, 3), required=False)
    positions = read_array(f, _CAL + "positions", "float", shape=(O, 3), required=False)
    if positions is None:
        positions = read_array(f, _CAL + "_positions", "float", shape=(O, 3), required=False)
    method = read_string(f, _CAL + "method", required=False, default=method_default)
    unit = read_string(f, _CAL + "_fieldOfViewUnit", required=False)
    if unit is None:
        unit = "T" if (method in ("hybrid", "simulation") and positions is None) else "m"
    elif unit not in ("T", "m"):
        raise fail(f, _CAL + "_fieldOfViewUnit", f"is {unit!r}, expected 'T' or 'm'")
    order = read_string(f, _CAL + "order", required=False, default="xyz")
    delta = read_array(f, _CAL + "deltaSampleSize", "float", shape=(3,), required=False)
    angle = read_scalar(f, _CAL + "_easyAxisAngle", "float", required=False)
    polar = read_scalar(f, _CAL + "_easyAxisPolarAngle", "float", required=False)
    if polar is not None and not (np.isfinite(polar) and 0.0 <= polar <= 180.0):
        raise fail(f, _CAL + "_easyAxisPolarAngle", f"is {polar!r}, expected a polar angle in [0, 180] degrees")
    return dict(
        grid_size=size,
        field_of_view=fov,
        field_of_view_center=center,
        offset_fields_T=offsets,
        positions_m=positions,
        method=method,
        field_of_view_unit=unit,
        order=order,
        delta_sample_size_m=delta,
        easy_axis_angle_deg=angle,
        easy_axis_polar_deg=90.0 if polar is None else float(polar),
    )


def _read_noise_estimate(f, receiver: Receiver, bins: np.ndarray):
    """``/custom/noiseEstimate`` at the 0-based rfft ``bins``: (C, len(bins)) float64, or None.

    MPIFiles' ``noiseEstimate`` indexes it with (global 1-based bin, channel), so on disk
    it is Julia (K_full, C), h5py (C, V//2 + 1), whatever frequencies are stored. Scaled
    by ``|a_c|`` of ``dataConversionFactor`` like the data.
    """
    num_channels, k_full = receiver.num_channels, receiver.num_frequencies
    name = schema.NOISE_ESTIMATE
    raw = read_array(f, name, "float", ndim=2, required=False)
    if raw is None:
        return None
    if raw.shape != (num_channels, k_full):
        raise fail(
            f,
            name,
            f"has shape {raw.shape}, expected (C, V//2 + 1) = ({num_channels}, {k_full}) "
            "(one standard deviation per channel and rfft bin)",
        )
    est = np.asarray(raw[:, bins], dtype=np.float64)
    if not (np.all(np.isfinite(est)) and np.all(est >= 0)):
        raise fail(
            f, name, "holds non-finite or negative values at stored frequencies, expected standard deviations >= 0"
        )
    if receiver.data_conversion_factor is not None:
        est = est * np.abs(receiver.data_conversion_factor[:, :1])
    return est


def _open_v2(f, strict):
    drive, receiver = _read_sequence_v2(f, strict)
    J_hint = read_scalar(f, "/acquisition/numPeriodsPerFrame", "int", required=False, minimum=1)
    if J_hint is None:
        J_hint = read_scalar(f, "/acquisition/numPeriods", "int", required=False, minimum=1)
    _h5.get_group(f, "/measurement")
    layout = _Layout(f, receiver, J_hint)
    if drive.num_periods not in (1, layout.J):
        raise fail(
            f, _DF + "strength", f"has J = {drive.num_periods} periods, expected {layout.J} like /measurement/data"
        )
    tf = read_array(f, _RX + "transferFunction", "complex", ndim=2, required=False)
    receiver.transfer_function = _frames.full_transfer_function(
        f, _RX + "transferFunction", tf, layout.stored_bins, receiver.num_channels, receiver.num_frequencies
    )
    return drive, receiver, layout


def read_system_matrix_v2(f, path, *, frequencies, background_correction, transfer_function_correction, period, strict):
    """v2 calibration → SystemMatrix (see :func:`mdf_neel.mdf.reader.read_system_matrix`)."""
    method = background_correction
    drive, receiver, layout = _open_v2(f, strict)
    if not isinstance(period, (int, np.integer)) or not 0 <= period < layout.J:
        raise ValueError(f"period must be an int in [0, {layout.J - 1}], got {period!r}")
    positions, bins = layout.positions_for(frequencies)
    rows = layout.read(positions, slice(period, period + 1))[0]  # (C, k, N_logical)
    noise = _read_noise_estimate(f, receiver, bins)
    rows = _frames.apply_conversion_factor(rows, receiver.data_conversion_factor, bins, receiver.num_sampling_points)
    receiver.data_conversion_factor = None
    mask = layout.logical_bg
    fg, bg = _frames.split_frames(rows, mask)
    is_bgc = layout.bg_corrected
    if method:
        if is_bgc:
            logger.warning("%s: isBackgroundCorrected = 1; background correction not applied again", path)
        else:
            acq = layout.acquisition_indices()
            mask_acq = np.zeros(mask.size, bool)
            mask_acq[acq] = mask
            fg = _frames.apply_background(fg, bg, acq[~mask], mask_acq, method, f.filename)
            is_bgc = True
    is_tfc = layout.tf_corrected
    if transfer_function_correction and not is_tfc:
        fg, bg = _frames.tf_divide(f, receiver.transfer_function, bins, fg, bg)
        is_tfc = True
    snr = read_array(f, _CAL + "snr", "float", ndim=3, required=False)
    if snr is not None:
        if snr.shape != (layout.J, receiver.num_channels, layout.stored_bins.size):
            raise fail(
                f,
                _CAL + "snr",
                f"has shape {snr.shape}, expected (J, C, K) = "
                f"({layout.J}, {receiver.num_channels}, {layout.stored_bins.size})",
            )
        snr = snr[period][:, positions]
    O = int((~mask).sum())
    if noise is not None and is_tfc and not layout.tf_corrected:
        noise = noise / np.abs(receiver.transfer_function[:, bins])  # the noise was divided with the data
    cal = _read_calibration(f, O, strict)
    common = _read_common_v2(f, strict)
    if common["tracer"] is None:
        common["tracer"] = Tracer()
    prov = _read_group_dict(f, "/_provenance")
    if drive.num_periods > 1:
        drive = DriveField(
            drive.base_frequency_Hz,
            drive.dividers,
            drive.strengths_T[period : period + 1],
            drive.phases_rad[period : period + 1],
            drive.waveforms,
            cycle_s=drive.cycle_s,
        )
    try:
        return SystemMatrix(
            data=fg,
            frequency_indices=bins,
            drive_field=drive,
            receiver=receiver,
            background=bg if bg.shape[-1] else None,
            snr=snr,
            noise_estimate=noise,
            is_background_corrected=is_bgc,
            is_transfer_function_corrected=is_tfc,
            provenance=prov,
            source_path=str(path),
            **cal,
            **common,
        )
    except ValueError as exc:
        raise MDFError(f"inconsistent system matrix: {exc}", path=path) from exc


def read_measurement_v2(f, path, *, frequencies, background_correction, transfer_function_correction, strict):
    """v2 ``/measurement`` → Measurement (see :func:`mdf_neel.mdf.reader.read_measurement`)."""
    method = background_correction
    drive, receiver, layout = _open_v2(f, strict)
    positions, bins = layout.positions_for(frequencies)
    data = layout.read(positions, slice(None))  # (J, C, k, N)
    noise = _read_noise_estimate(f, receiver, bins)
    data = _frames.apply_conversion_factor(data, receiver.data_conversion_factor, bins, receiver.num_sampling_points)
    receiver.data_conversion_factor = None
    mask = layout.logical_bg
    is_bgc = layout.bg_corrected
    if method:
        if is_bgc:
            logger.warning("%s: isBackgroundCorrected = 1; background correction not applied again", path)
        else:
            acq = layout.acquisition_indices()
            mask_acq = np.zeros(mask.size, bool)
            mask_acq[acq] = mask
            data = data.astype(np.result_type(data.dtype, np.complex64), copy=True)
            data[..., ~mask] = _frames.apply_background(
                data[..., ~mask], data[..., mask], acq[~mask], mask_acq, method, f.filename
            )
            is_bgc = True
    is_tfc = layout.tf_corrected
    if transfer_function_correction and not is_tfc:
        (data,) = _frames.tf_divide(f, receiver.transfer_function, bins, data)
        is_tfc = True
    if noise is not None and is_tfc and not layout.tf_corrected:
        noise = noise / np.abs(receiver.transfer_function[:, bins])  # the noise was divided with the data
    common = _read_common_v2(f, strict)
    if drive.num_periods == 1 and layout.J > 1:
        drive = DriveField(
            drive.base_frequency_Hz,
            drive.dividers,
            np.repeat(drive.strengths_T, layout.J, 0),
            np.repeat(drive.phases_rad, layout.J, 0),
            drive.waveforms,
            cycle_s=drive.cycle_s,
        )
    try:
        return Measurement(
            data=data,
            frequency_indices=bins,
            is_background_frame=mask,
            drive_field=drive,
            receiver=receiver,
            is_background_corrected=is_bgc,
            is_transfer_function_corrected=is_tfc,
            frame_permutation=layout.perm,
            noise_estimate=noise,
            provenance=_read_group_dict(f, "/_provenance"),
            source_path=str(path),
            **common,
        )
    except ValueError as exc:
        raise MDFError(f"inconsistent measurement: {exc}", path=path) from exc
