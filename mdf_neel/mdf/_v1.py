"""MDF v1 (``version`` 1.x) reading, mapped onto the v2 data model as MPIFiles does.

v1 differences handled here (MDF specification, arXiv:1602.06072; as MPIFiles.jl reads
v1): complex data are real arrays with a
trailing axis of length 2; the system matrix lives in ``/calibration/dataFD``
``(C, K, N, 2)`` or ``(J, C, K, N, 2)`` (positions fastest) or ``dataTD``
``(C, V, N)``/``(J, C, V, N)``; measurements in ``/measurement/dataFD``
``(L, C, K, 2)``/``(L, J, C, K, 2)`` or ``dataTD`` ``(L, C, V)``/``(L, J, C, V)``;
no background frames; ``/acquisition/receiver/transferFunction`` ``(C, K, 2)``;
drive ``strength`` (D) or (J, D); no phase (MPIFiles fabricates π/2, and so do we);
``/calibration/offsetField`` (singular) → ``offset_fields_T``.
"""

from __future__ import annotations

import logging

import numpy as np

from ..sequence import DriveField, Receiver
from ..systemmatrix import Acquisition, Experiment, Measurement, Scanner, Study, SystemMatrix, Tracer
from . import _h5
from ._h5 import fail, read_array, read_scalar, read_string
from ._frames import MAX_CHANNELS, MAX_SAMPLES, apply_background, lcm_cycle, read_hyperslab, tf_divide

logger = logging.getLogger("mdf_neel.mdf.reader")

_RX = "/acquisition/receiver/"
_DF = "/acquisition/drivefield/"
_CAL = "/calibration/"
_BRUKER_PHASE = np.pi / 2


def _per_channel(f, name, kind, C, minimum=None):
    """A v1 value stored as a scalar or one entry per channel (all equal)."""
    arr = np.atleast_1d(read_array(f, name, kind, ndim=(0, 1)))
    if arr.size not in (1, C):
        raise fail(f, name, f"has {arr.size} entries, expected 1 or numChannels = {C}")
    if np.any(arr != arr[0]):
        raise fail(f, name, f"differs between channels ({arr.tolist()}); mixed receive settings are not supported")
    value = arr[0].item()
    if minimum is not None and value < minimum:
        raise fail(f, name, f"is {value}, expected >= {minimum}")
    return value


def _sequence(f, strict):
    C = read_scalar(f, _RX + "numChannels", "int", minimum=1, maximum=MAX_CHANNELS)
    V = int(_per_channel(f, _RX + "numSamplingPoints", "int", C, minimum=1))
    if V > MAX_SAMPLES:
        raise fail(f, _RX + "numSamplingPoints", f"is {V}, more than the sanity cap {MAX_SAMPLES}")
    bandwidth = float(_per_channel(f, _RX + "bandwidth", "float", C, minimum=np.finfo(float).tiny))
    receiver = Receiver(bandwidth, V, C, unit="a.u.")
    D = read_scalar(f, _DF + "numChannels", "int", minimum=1, maximum=MAX_CHANNELS)
    divider = read_array(f, _DF + "divider", "int", shape=(D,))
    if np.any(divider < 1):
        raise fail(f, _DF + "divider", "expected dividers >= 1")
    base = read_scalar(f, _DF + "baseFrequency", "float", minimum=np.finfo(float).tiny)
    strength = read_array(f, _DF + "strength", "float", ndim=(1, 2))
    if strength.shape[-1] != D:
        raise fail(f, _DF + "strength", f"has shape {strength.shape}, expected ({D},) or (J, {D})")
    strength = strength.reshape(-1, D, 1)
    cycle = read_scalar(f, _DF + "period", "float", required=False, minimum=np.finfo(float).tiny)
    if cycle is None:
        cycle = lcm_cycle(base, divider)
    drive = DriveField(
        base,
        divider.reshape(D, 1),
        strength,
        np.full(strength.shape, _BRUKER_PHASE),
        np.full((D, 1), "sine", dtype=object),
        cycle_s=cycle,
    )
    return drive, receiver


def _stored_bins(f, receiver, K):
    """0-based bins of the K stored frequencies (v1 stores the full grid unless
    ``/acquisition/receiver/frequencies`` says otherwise)."""
    K_full = receiver.num_frequencies
    freqs = read_array(f, _RX + "frequencies", "float", ndim=(1, 2), required=False)
    if freqs is None:
        if K != K_full:
            raise fail(
                f, "/calibration/dataFD", f"has K = {K} frequencies, expected numSamplingPoints // 2 + 1 = {K_full}"
            )
        return np.arange(K_full)
    freqs = np.atleast_2d(freqs)[0]
    if freqs.size != K:
        raise fail(f, _RX + "frequencies", f"has {freqs.size} entries, expected K = {K} like the data")
    step = 2 * receiver.bandwidth_Hz / receiver.num_sampling_points
    bins = np.rint(freqs / step).astype(np.int64)
    if np.any(bins < 0) or np.any(bins >= K_full) or np.any(np.diff(bins) <= 0):
        raise fail(f, _RX + "frequencies", "do not map onto distinct increasing bins of the rfft grid")
    return bins


def _positions_for(f, bins, frequencies):
    order = np.arange(bins.size)
    if frequencies is None:
        return order, bins
    want = np.unique(np.asarray(frequencies, dtype=np.int64).reshape(-1))
    lookup = {int(b): i for i, b in enumerate(bins)}
    missing = [int(w) for w in want if int(w) not in lookup]
    if missing:
        raise ValueError(f"frequency bins {missing[:10]} are not stored in {_h5._fname(f)!r}")
    return np.array([lookup[int(w)] for w in want], dtype=np.int64), want


def _common(f, strict):
    s = lambda name, default="n.a.": read_string(f, name, required=strict, default=default)  # noqa: E731
    exp_text = s("/study/experiment", "0")
    try:
        exp_number = int(exp_text)
    except ValueError:
        exp_number = 0
    study = Study(name=s("/study/name"), number=0, description="n.a.")
    experiment = Experiment(
        name="n.a.",
        number=exp_number,
        description=s("/study/description"),
        subject=s("/study/subject"),
        is_simulation=bool(read_scalar(f, "/study/simulation", "int", required=strict, default=0)),
    )
    scanner = Scanner(
        facility=s("/scanner/facility"),
        manufacturer=s("/scanner/manufacturer"),
        name=s("/scanner/model"),
        operator=s("/scanner/operator"),
        topology=s("/scanner/topology", "FFP"),
    )
    tracer = None
    if _h5.get_group(f, "/tracer", required=False) is not None:
        t = read_string(f, "/tracer/time", required=False)
        tracer = Tracer(
            name=s("/tracer/name"),
            batch=s("/tracer/batch"),
            vendor=s("/tracer/vendor"),
            solute="Fe",
            concentration_molL=read_scalar(f, "/tracer/concentration", "float", required=strict, default=0.0),
            volume_L=read_scalar(f, "/tracer/volume", "float", required=strict, default=0.0),
            injection_time=t,
        )
    gradient = read_array(f, "/acquisition/gradient", "float", ndim=(1, 2), required=False)
    if gradient is not None:
        g = np.atleast_2d(gradient)
        if g.shape[-1] != 3:
            raise fail(f, "/acquisition/gradient", f"has shape {gradient.shape}, expected (3,) or (J, 3)")
        gradient = np.stack([np.diag(row) for row in g])[:, None]  # (J, 1, 3, 3)
    acquisition = Acquisition(
        num_averages=read_scalar(f, _DF + "averages", "int", required=False, default=1, minimum=1),
        start_time=read_string(f, "/acquisition/time", required=False) or Acquisition().start_time,
        gradient_Tm=gradient,
    )
    return dict(
        study=study,
        experiment=experiment,
        scanner=scanner,
        tracer=tracer,
        acquisition=acquisition,
        uuid=read_string(f, "/uuid", required=False) or Study().uuid,
        time=read_string(f, "/date", required=False) or Acquisition().start_time,
    )


def _v1_tf(f, receiver, bins):
    tf = read_array(f, _RX + "transferFunction", "float", ndim=3, required=False)
    if tf is None:
        return None
    if tf.shape != (receiver.num_channels, bins.size, 2):
        raise fail(
            f,
            _RX + "transferFunction",
            f"has shape {tf.shape}, expected (C, K, 2) = ({receiver.num_channels}, {bins.size}, 2)",
        )
    full = np.full((receiver.num_channels, receiver.num_frequencies), np.nan + 0j)
    full[:, bins] = tf[..., 0] + 1j * tf[..., 1]
    return full


def _read_fd(f, name, ds, lead: list, axis: int, positions):
    order = np.argsort(positions, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    raw = read_hyperslab(f, name, ds, lead, axis, positions[order])
    raw = np.take(raw, inverse, axis=axis)
    return raw[..., 0] + 1j * raw[..., 1]


def read_system_matrix_v1(f, *, frequencies, background_correction, transfer_function_correction, period, strict):
    """v1 calibration → SystemMatrix (see :func:`mdf_neel.mdf.reader.read_system_matrix`)."""
    drive, receiver = _sequence(f, strict)
    C, V = receiver.num_channels, receiver.num_sampling_points
    fd = _h5.get_dataset(f, _CAL + "dataFD", "real", ndim=(4, 5), required=False)
    if fd is not None:
        if fd.shape[-1] != 2:
            raise fail(f, _CAL + "dataFD", f"has shape {fd.shape}, expected a trailing axis of length 2 (real, imag)")
        shape = fd.shape if fd.ndim == 5 else (1,) + fd.shape
        J, Cd, K, N, _ = shape
        if Cd != C:
            raise fail(f, _CAL + "dataFD", f"has C = {Cd} channels, expected numChannels = {C}")
        if not 0 <= period < J:
            raise ValueError(f"period must be in [0, {J - 1}], got {period}")
        bins_all = _stored_bins(f, receiver, K)
        positions, bins = _positions_for(f, bins_all, frequencies)
        lead = [slice(None), None, slice(None), slice(None)]
        if fd.ndim == 5:
            lead = [slice(period, period + 1)] + lead
        data = _read_fd(f, _CAL + "dataFD", fd, lead, fd.ndim - 3, positions)
        data = data[0] if fd.ndim == 5 else data
    else:
        td = _h5.get_dataset(f, _CAL + "dataTD", "real", ndim=(3, 4), required=False)
        if td is None:
            raise fail(f, _CAL + "dataFD", "required dataset is missing (v1 calibration needs dataFD or dataTD)")
        shape = td.shape if td.ndim == 4 else (1,) + td.shape
        J, Cd, Z, N = shape
        if Cd != C or Z != V:
            raise fail(f, _CAL + "dataTD", f"has shape {td.shape}, expected (C, V, N) with C = {C}, V = {V}")
        if not 0 <= period < J:
            raise ValueError(f"period must be in [0, {J - 1}], got {period}")
        bins_all = np.arange(receiver.num_frequencies)
        positions, bins = _positions_for(f, bins_all, frequencies)
        raw = np.asarray(td[period] if td.ndim == 4 else td[()], dtype=np.float64)
        data = np.fft.rfft(raw, axis=1)[:, bins, :]
    receiver.transfer_function = _v1_tf(f, receiver, bins_all)
    if background_correction:
        apply_background(data, data[..., :0], np.arange(N), np.zeros(N, bool), background_correction, f.filename)
    is_tfc = False
    if transfer_function_correction:
        (data,) = tf_divide(f, receiver.transfer_function, bins, data)
        is_tfc = True
    snr = read_array(f, _CAL + "snrFD", "float", ndim=(2, 3), required=False)
    if snr is not None:
        snr = snr if snr.ndim == 2 else snr[period]
        if snr.shape != (C, bins_all.size):
            raise fail(f, _CAL + "snrFD", f"has shape {snr.shape}, expected (C, K) = ({C}, {bins_all.size})")
        snr = snr[:, positions]
    size = read_array(f, _CAL + "size", "int", shape=(3,), required=False)
    if size is None:
        size = np.array([N, 1, 1])
    if np.any(size < 1) or int(np.prod(size)) != N:
        raise fail(f, _CAL + "size", f"is {size.tolist()}, expected a product equal to the {N} calibration frames")
    offsets = read_array(f, _CAL + "offsetField", "float", shape=(N, 3), required=False)
    positions_m = read_array(f, _CAL + "positions", "float", shape=(N, 3), required=False)
    method = read_string(f, _CAL + "method", required=False, default="robot")
    common = _common(f, strict)
    if common["tracer"] is None:
        common["tracer"] = Tracer()
    return SystemMatrix(
        data=data,
        frequency_indices=bins,
        drive_field=drive,
        receiver=receiver,
        grid_size=size,
        field_of_view=read_array(f, _CAL + "fieldOfView", "float", shape=(3,), required=False, default=np.zeros(3)),
        field_of_view_center=read_array(
            f, _CAL + "fieldOfViewCenter", "float", shape=(3,), required=False, default=np.zeros(3)
        ),
        offset_fields_T=offsets,
        positions_m=positions_m,
        snr=snr,
        method=method,
        order=read_string(f, _CAL + "order", required=False, default="xyz"),
        field_of_view_unit="T" if (method == "hybrid" and positions_m is None) else "m",
        delta_sample_size_m=read_array(f, _CAL + "deltaSampleSize", "float", shape=(3,), required=False),
        is_background_corrected=True,
        is_transfer_function_corrected=is_tfc,
        provenance={"converted_from": "MDF v1"},
        source_path=f.filename,
        **common,
    )


def read_measurement_v1(f, *, frequencies, background_correction, transfer_function_correction, strict):
    """v1 measurement → Measurement (J, C, K, L); v1 has no background frames."""
    drive, receiver = _sequence(f, strict)
    C, V = receiver.num_channels, receiver.num_sampling_points
    fd = _h5.get_dataset(f, "/measurement/dataFD", "real", ndim=(4, 5), required=False)
    if fd is not None:
        if fd.shape[-1] != 2:
            raise fail(f, "/measurement/dataFD", f"has shape {fd.shape}, expected a trailing axis of length 2")
        L = fd.shape[0]
        J, Cd, K = fd.shape[1:4] if fd.ndim == 5 else (1,) + fd.shape[1:3]
        if Cd != C:
            raise fail(f, "/measurement/dataFD", f"has C = {Cd} channels, expected numChannels = {C}")
        bins_all = _stored_bins(f, receiver, K)
        positions, bins = _positions_for(f, bins_all, frequencies)
        lead = [slice(None)] * (fd.ndim - 2) + [None, slice(None)]
        data = _read_fd(f, "/measurement/dataFD", fd, lead, fd.ndim - 2, positions)
        if fd.ndim == 4:
            data = data[:, None]
        data = np.moveaxis(data, 0, -1)  # (J, C, k, L)
    else:
        td = _h5.get_dataset(f, "/measurement/dataTD", "real", ndim=(3, 4))
        L = td.shape[0]
        if td.shape[-1] != V or td.shape[-2] != C:
            raise fail(f, "/measurement/dataTD", f"has shape {td.shape}, expected (L, [J,] C, V) with C = {C}, V = {V}")
        bins_all = np.arange(receiver.num_frequencies)
        positions, bins = _positions_for(f, bins_all, frequencies)
        raw = np.asarray(td[()], dtype=np.float64)
        if raw.ndim == 3:
            raw = raw[:, None]
        data = np.moveaxis(np.fft.rfft(raw, axis=-1)[..., bins], 0, -1)
    mask = np.zeros(L, bool)
    if background_correction:
        apply_background(data, data[..., :0], np.arange(L), mask, background_correction, f.filename)
    receiver.transfer_function = _v1_tf(f, receiver, bins_all)
    is_tfc = False
    if transfer_function_correction:
        (data,) = tf_divide(f, receiver.transfer_function, bins, data)
        is_tfc = True
    J = data.shape[0]
    if drive.num_periods == 1 and J > 1:
        drive = DriveField(
            drive.base_frequency_Hz,
            drive.dividers,
            np.repeat(drive.strengths_T, J, 0),
            np.repeat(drive.phases_rad, J, 0),
            drive.waveforms,
            cycle_s=drive.cycle_s,
        )
    return Measurement(
        data=data,
        frequency_indices=bins,
        is_background_frame=mask,
        drive_field=drive,
        receiver=receiver,
        is_transfer_function_corrected=is_tfc,
        provenance={"converted_from": "MDF v1"},
        source_path=f.filename,
        **_common(f, strict),
    )
