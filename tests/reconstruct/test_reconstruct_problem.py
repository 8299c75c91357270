"""The stacked multi-contrast problem: column order, row choice, and refused inputs."""

import dataclasses

import numpy as np
import pytest

from mdf_neel import Measurement, MDFError, SystemMatrix
from mdf_neel.mdf import write_measurement, write_system_matrix
from mdf_neel.reconstruct import (
    ReconstructionSettings,
    RowSelection,
    reconstruct,
    select_rows,
    stack_system_matrices,
)
from mdf_neel.sequence import DriveField, Receiver
from mdf_neel.simulate import preset

SEQ, GRID = preset("paper-2d", grid=(4, 3))
BINS = np.arange(30, 130)  # 100 rows per channel: more rows than the 2 x 12 unknowns
EXACT = ReconstructionSettings(iterations=300, lambda_rel=0.0, weighting="none", enforce_nonnegative=False)


def _matrix(rng, angle, bins=BINS, grid=GRID, drive=SEQ.drive_field, channels=2):
    C, K, O = channels, len(bins), grid.offsets_T.shape[0]
    rx = Receiver(SEQ.receiver.bandwidth_Hz, SEQ.receiver.num_sampling_points, channels, unit="1/s")
    return SystemMatrix(
        data=rng.normal(size=(C, K, O)) + 1j * rng.normal(size=(C, K, O)),
        frequency_indices=bins,
        drive_field=drive,
        receiver=rx,
        grid_size=grid.size,
        field_of_view=grid.field_of_view_T,
        field_of_view_center=grid.center_T,
        offset_fields_T=grid.offsets_T,
        snr=np.full((C, K), 10.0),
        easy_axis_angle_deg=angle,
    )


def _measurement(u, bins=BINS, drive=SEQ.drive_field):
    """One foreground frame u (C, K)."""
    rx = Receiver(SEQ.receiver.bandwidth_Hz, SEQ.receiver.num_sampling_points, u.shape[0], unit="1/s")
    return Measurement(
        data=u[None, :, :, None], frequency_indices=bins, is_background_frame=[False], drive_field=drive, receiver=rx
    )


def test_columns_are_angle_blocks_in_the_given_order(rng):
    sms = [_matrix(rng, a) for a in (90.0, 0.0, 45.0)]
    A = stack_system_matrices(sms)
    C, K, O = sms[0].data.shape
    assert A.shape == (C * K, 3 * O)
    for a, sm in enumerate(sms):
        for c in range(C):
            np.testing.assert_array_equal(A[c * K : (c + 1) * K, a * O : (a + 1) * O], sm.data[c])
    # a measurement made of one column of block 2 (45°) at position 7 comes back there
    rec = reconstruct(sms, _measurement(sms[2].data[:, :, 7]), EXACT)
    expected = np.zeros((3, O))
    expected[2, 7] = 1.0
    np.testing.assert_allclose(rec.concentration[0].reshape(3, O), expected, atol=1e-8)
    assert rec.angles_deg.tolist() == [90.0, 0.0, 45.0]
    assert rec.concentration.shape == (1, 3, 1, 3, 4)


def test_rows_are_the_common_bins_and_pass_the_snr_threshold(rng):
    a, b = _matrix(rng, 0.0, bins=np.arange(30, 130)), _matrix(rng, 90.0, bins=np.arange(50, 160))
    b.snr[1, :5] = 1.0  # channel 1, bins 50..54: low in the 90° matrix ...
    a.snr[1, 20:25] = 1.0  # ... and in the 0° matrix at the same bins (a starts at 30)
    a.snr[0, 30] = 1.0  # channel 0, bin 60: low only at 0°, high at 90° -> kept
    bins, keep = select_rows([a, b], RowSelection(min_snr=5.0))
    np.testing.assert_array_equal(bins, np.arange(50, 130))
    assert keep.shape == (2, 80)
    assert not keep[1, :5].any() and keep[1, 5:].all() and keep[0].all()
    bins, _ = select_rows([a, b], RowSelection(max_frequency_Hz=float(SEQ.receiver.frequencies_Hz[99])))
    assert bins[-1] == 99


def _files(tmp_path, sms, meas):
    paths = []
    for i, sm in enumerate(sms):
        paths.append(write_system_matrix(tmp_path / f"sm{i}.mdf", sm))
    return paths, write_measurement(tmp_path / "meas.mdf", meas)


def test_files_reconstruct_like_objects(tmp_path, rng):
    sms = [_matrix(rng, a) for a in (0.0, 60.0)]
    meas = _measurement(sms[1].data[:, :, 3] + 0.5 * sms[0].data[:, :, 5])
    paths, mpath = _files(tmp_path, sms, meas)
    rec = reconstruct(paths, mpath, EXACT)
    assert rec.concentration[0, 1, 0].ravel()[3] == pytest.approx(1.0, abs=1e-5)  # files hold complex64
    assert rec.concentration[0, 0, 0].ravel()[5] == pytest.approx(0.5, abs=1e-5)
    assert rec.system_matrix_files == tuple(paths) and rec.measurement_file == mpath


def _expect_error(tmp_path, sms, meas, *names, match):
    paths, mpath = _files(tmp_path, sms, meas)
    with pytest.raises(MDFError, match=match) as info:
        reconstruct(paths, mpath, EXACT)
    everything = dict(zip([f"sm{i}" for i in range(len(paths))], paths), meas=mpath)
    for name in names:
        assert everything[name] in str(info.value)
    return str(info.value)


def test_mismatched_grids_name_both_files(tmp_path, rng):
    _, other = preset("paper-2d", grid=(3, 4))
    _expect_error(
        tmp_path,
        [_matrix(rng, 0.0), _matrix(rng, 90.0, grid=other)],
        _measurement(np.ones((2, 100))),
        "sm0",
        "sm1",
        match="grid size",
    )


def test_mismatched_offsets_name_both_files(tmp_path, rng):
    shifted = GRID._replace(offsets_T=GRID.offsets_T + [1e-3, 0, 0], center_T=GRID.center_T + [1e-3, 0, 0])
    _expect_error(
        tmp_path,
        [_matrix(rng, 0.0), _matrix(rng, 90.0, grid=shifted)],
        _measurement(np.ones((2, 100))),
        "sm0",
        "sm1",
        match="field_of_view_center",
    )


def test_mismatched_sequences_name_the_files(tmp_path, rng):
    d = SEQ.drive_field
    stronger = dataclasses.replace(d, strengths_T=d.strengths_T * 1.1)
    _expect_error(
        tmp_path,
        [_matrix(rng, 0.0), _matrix(rng, 90.0, drive=stronger)],
        _measurement(np.ones((2, 100))),
        "sm0",
        "sm1",
        match="drive strengths",
    )
    other_div = DriveField(d.base_frequency_Hz, d.dividers + 2, d.strengths_T, d.phases_rad, d.waveforms)
    msg = _expect_error(
        tmp_path,
        [_matrix(rng, 0.0), _matrix(rng, 90.0)],
        _measurement(np.ones((2, 100)), drive=other_div),
        "sm0",
        "meas",
        match="dividers",
    )
    assert "measurement" in msg


def test_disjoint_or_missing_frequency_selections_name_the_files(tmp_path, rng):
    sms = [_matrix(rng, 0.0, bins=np.arange(30, 60)), _matrix(rng, 90.0, bins=np.arange(70, 100))]
    _expect_error(tmp_path, sms, _measurement(np.ones((2, 100))), "sm0", "sm1", "meas", match="no frequency bin")
    paths, mpath = _files(
        tmp_path, [_matrix(rng, 0.0), _matrix(rng, 90.0, bins=np.arange(30, 100))], _measurement(np.ones((2, 100)))
    )
    with pytest.raises(MDFError, match="sm1.mdf") as info:
        reconstruct(paths, mpath, dataclasses.replace(EXACT, rows=RowSelection(frequencies=tuple(range(90, 110)))))
    assert "not stored" in str(info.value) or "rows" in str(info.value)


def test_missing_or_repeated_angles_and_channel_mismatch(tmp_path, rng):
    _expect_error(
        tmp_path,
        [_matrix(rng, 0.0), _matrix(rng, None)],
        _measurement(np.ones((2, 100))),
        "sm1",
        match="easy-axis angle",
    )
    _expect_error(
        tmp_path,
        [_matrix(rng, 10.0), _matrix(rng, 190.0)],
        _measurement(np.ones((2, 100))),
        "sm0",
        "sm1",
        match="repeats",
    )
    _expect_error(
        tmp_path,
        [_matrix(rng, 0.0), _matrix(rng, 90.0)],
        _measurement(np.ones((1, 100))),
        "meas",
        match="receive channels",
    )


def test_paths_and_objects_do_not_mix(tmp_path, rng):
    sms = [_matrix(rng, a) for a in (0.0, 90.0)]
    paths, mpath = _files(tmp_path, sms, _measurement(np.ones((2, 100))))
    with pytest.raises(TypeError, match="mixture"):
        reconstruct([paths[0], sms[1]], mpath, EXACT)
