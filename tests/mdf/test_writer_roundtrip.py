"""Write with our writer, read with our reader: every field equal in dtype, shape and value."""

from __future__ import annotations

import numpy as np
import pytest

from mdf_neel.mdf import reader, write_measurement, write_system_matrix
from tests.mdf._writer_cases import make_measurement, make_sm


def _same_array(a, b, name):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, name
    if a.dtype.kind in "OUS" or b.dtype.kind in "OUS":
        assert [str(x) for x in a.ravel()] == [str(x) for x in b.ravel()], name
        return
    assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
    np.testing.assert_array_equal(a, b, err_msg=name)


def _same_drive(a, b):
    for name in ("dividers", "strengths_T", "phases_rad", "waveforms"):
        _same_array(getattr(a, name), getattr(b, name), f"drive_field.{name}")
    assert a.base_frequency_Hz == b.base_frequency_Hz and a.cycle_s == b.cycle_s


def _same_receiver(a, b):
    for name in ("bandwidth_Hz", "num_sampling_points", "num_channels", "unit"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("transfer_function", "data_conversion_factor", "induction_factor"):
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None), name
        if va is not None:
            assert va.shape == vb.shape and va.dtype == vb.dtype, name
            np.testing.assert_array_equal(va, vb, err_msg=name)  # NaN == NaN here


def _same_metadata(a, b):
    for group in ("tracer", "scanner", "study", "experiment"):
        ga, gb = getattr(a, group), getattr(b, group)
        for key, va in vars(ga).items():
            vb = getattr(gb, key)
            if isinstance(va, np.ndarray):
                _same_array(va, vb, f"{group}.{key}")
            elif group == "experiment" and key == "is_simulation":
                continue  # derived from the method on writing
            else:
                assert va == vb, (group, key, va, vb)
    assert a.acquisition.num_averages == b.acquisition.num_averages
    assert a.acquisition.start_time == b.acquisition.start_time
    for name in ("gradient_Tm", "offset_field_T"):
        va, vb = getattr(a.acquisition, name), getattr(b.acquisition, name)
        assert (va is None) == (vb is None), name
        if va is not None:
            _same_array(va, vb, name)
    assert a.uuid == b.uuid and a.time == b.time


def _same_provenance(a: dict, b: dict, where="provenance"):
    assert a.keys() == b.keys(), where
    for key, va in a.items():
        vb = b[key]
        if isinstance(va, dict):
            _same_provenance(va, vb, f"{where}/{key}")
        elif isinstance(va, str):
            assert vb == va, (where, key)
        elif np.asarray(va).dtype == bool:  # stored as int8 0/1 (MDF has no bool)
            _same_array(np.asarray(va).astype(np.int8), vb, f"{where}/{key}")
        elif np.ndim(va) == 0:
            assert vb == va and type(vb) is type(va), (where, key)
        else:
            _same_array(va, vb, f"{where}/{key}")


CASES = {
    "plain": dict(),
    "background": dict(background=3),
    "selection_tf": dict(select=np.arange(5, 40), tf=True),
    "robot_c128": dict(positions=True, dtype=np.complex128),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_system_matrix_round_trip(tmp_path, rng, case):
    sm = make_sm(rng, **CASES[case])
    sm.acquisition.start_time = "2024-01-02T03:04:05.006"
    sm.time = "2024-01-02T03:04:05.007"
    path = write_system_matrix(tmp_path / "rt.mdf", sm)
    back = reader.read_system_matrix(path)
    for name in ("data", "frequency_indices", "grid_size", "field_of_view", "field_of_view_center", "snr"):
        _same_array(getattr(back, name), getattr(sm, name), name)
    for name in ("offset_fields_T", "positions_m", "background"):
        va, vb = getattr(sm, name), getattr(back, name)
        assert (va is None) == (vb is None), name
        if va is not None:
            _same_array(vb, va.astype(vb.dtype) if name == "background" else va, name)
    if sm.background is not None:
        assert back.background.dtype == sm.data.dtype
    for name in (
        "method",
        "order",
        "field_of_view_unit",
        "easy_axis_angle_deg",
        "is_background_corrected",
        "is_transfer_function_corrected",
    ):
        assert getattr(back, name) == getattr(sm, name), name
    _same_drive(back.drive_field, sm.drive_field)
    expected_rx = sm.receiver
    if sm.receiver.transfer_function is not None:  # stored bins only; NaN elsewhere on the full grid
        tf = np.full_like(sm.receiver.transfer_function, np.nan)
        tf[:, sm.frequency_indices] = sm.receiver.transfer_function[:, sm.frequency_indices]
        expected_rx = type(sm.receiver)(**{**vars(sm.receiver), "transfer_function": tf})
    _same_receiver(back.receiver, expected_rx)
    _same_metadata(back, sm)
    _same_provenance(sm.provenance, back.provenance)


def test_measurement_round_trip(tmp_path, rng):
    meas = make_measurement(rng, permute=True)
    path = write_measurement(tmp_path / "m.mdf", meas)
    back = reader.read_measurement(path)
    _same_array(back.data, meas.data, "data")
    _same_array(back.frequency_indices, meas.frequency_indices, "frequency_indices")
    _same_array(back.is_background_frame, meas.is_background_frame, "is_background_frame")
    _same_array(back.frame_permutation, meas.frame_permutation, "frame_permutation")
    _same_drive(back.drive_field, meas.drive_field)
    _same_receiver(back.receiver, meas.receiver)
    assert back.provenance == meas.provenance
