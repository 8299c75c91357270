"""The reader against reference files built with raw h5py, one per MDF layout."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from mdf_neel.errors import MDFError
from mdf_neel.mdf.reader import read_measurement, read_system_matrix
from tests.mdf._builders import make_truth, write_v1, write_v2

TOL = dict(rtol=1e-5, atol=1e-4)  # complex64 storage of O(10) values


@pytest.fixture
def truth(rng):
    return make_truth(rng, E=4)


LAYOUTS = [
    dict(),
    dict(fast=False),
    dict(fourier=False),
    dict(fourier=False, fast=False),
    dict(selection=[1, 3, 5, 16]),
    dict(selection=[0, 2, 17], fast=False),
    dict(selection=[2, 4, 9], unsorted_selection=True),
    dict(permutation=True),
    dict(interleave_bg=True),
    dict(interleave_bg=True, fast=False, fourier=False),
    dict(transposed_name=True),
    dict(version="2.0.1"),
    dict(dtype=np.complex128),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()) or "plain")
def test_system_matrix_layouts_return_truth(tmp_path, truth, layout):
    path = write_v2(tmp_path / "sm.mdf", truth, **layout)
    sm = read_system_matrix(path)
    bins = np.sort(layout.get("selection", np.arange(truth["K_full"])))
    np.testing.assert_array_equal(sm.frequency_indices, bins)
    np.testing.assert_allclose(sm.data, truth["fg"][0][:, bins], **TOL)
    np.testing.assert_allclose(sm.background, truth["bg"][0][:, bins], **TOL)
    np.testing.assert_allclose(sm.snr, truth["snr"][0][:, bins])
    assert sm.grid_size.tolist() == list(truth["grid"])
    assert sm.data.shape == (truth["C"], bins.size, truth["O"])


@pytest.mark.parametrize("layout", LAYOUTS[:9], ids=str)
def test_frequency_subset_reads_only_those_rows(tmp_path, truth, layout):
    path = write_v2(tmp_path / "sm.mdf", truth, **layout)
    stored = np.sort(layout.get("selection", np.arange(truth["K_full"])))
    want = stored[[-1, 0]]  # unsorted request: result is sorted
    sm = read_system_matrix(path, frequencies=want)
    np.testing.assert_array_equal(sm.frequency_indices, np.sort(want))
    np.testing.assert_allclose(sm.data, truth["fg"][0][:, np.sort(want)], **TOL)


def test_unstored_frequency_is_a_value_error(tmp_path, truth):
    path = write_v2(tmp_path / "sm.mdf", truth, selection=[1, 3])
    with pytest.raises(ValueError, match="not stored"):
        read_system_matrix(path, frequencies=[2])


@pytest.mark.parametrize("layout", [dict(), dict(fast=False, fourier=False), dict(permutation=True)], ids=str)
def test_measurement_layouts(tmp_path, rng, layout):
    t = make_truth(rng, J=2, E=3)
    path = write_v2(tmp_path / "m.mdf", t, calibration=False, **layout)
    m = read_measurement(path)
    assert m.data.shape == (2, t["C"], t["K_full"], t["O"] + t["E"])
    np.testing.assert_allclose(m.foreground, t["fg"], **TOL)
    np.testing.assert_allclose(m.background, t["bg"], **TOL)
    if layout.get("permutation"):
        assert sorted(m.frame_permutation.tolist()) == list(range(t["O"] + t["E"]))  # 0-based
        assert m.frame_permutation[0] == 1  # first stored fg frame is acquisition frame 1 (0 is background)


def test_multi_period_system_matrix_period_argument(tmp_path, rng):
    t = make_truth(rng, J=3)
    path = write_v2(tmp_path / "sm.mdf", t)
    for j in range(3):
        sm = read_system_matrix(path, period=j, frequencies=[4])
        np.testing.assert_allclose(sm.data, t["fg"][j][:, [4]], **TOL)
        np.testing.assert_allclose(sm.snr, t["snr"][j][:, [4]])
    with pytest.raises(ValueError, match="period"):
        read_system_matrix(path, period=3)


@pytest.mark.parametrize("name", ["DCT-II", "DCT-IV"])
@pytest.mark.parametrize("convention", ["mpifiles", "spec"])
@pytest.mark.parametrize("grid", [(6, 1, 1), (4, 3, 1), (3, 2, 2)])
def test_sparsity_transformed(tmp_path, rng, name, convention, grid):
    t = make_truth(rng, E=2, grid=grid, sparse=(name, 2))
    path = write_v2(tmp_path / "sparse.mdf", t, sparse_convention=convention)
    sm = read_system_matrix(path)
    np.testing.assert_allclose(sm.data, t["fg"][0], **TOL)
    np.testing.assert_allclose(sm.background, t["bg"][0], **TOL)
    sub = read_system_matrix(path, frequencies=[7, 0])
    np.testing.assert_allclose(sub.data, t["fg"][0][:, [0, 7]], **TOL)
    m = read_measurement(path)
    assert m.data.shape[-1] == t["O"] + t["E"]


def test_sparsity_with_frequency_selection(tmp_path, rng):
    t = make_truth(rng, E=1, grid=(4, 3, 1), sparse=("DCT-IV", 3))
    path = write_v2(tmp_path / "sparse.mdf", t, selection=[2, 5, 11])
    sm = read_system_matrix(path, frequencies=[11, 5])
    np.testing.assert_allclose(sm.data, t["fg"][0][:, [5, 11]], **TOL)


def test_sparse_dct_matches_explicit_dct_matrix(rng):
    """Independent check of the DCT-IV convention: the orthonormal DCT-IV matrix."""
    from mdf_neel.mdf.reader import sparsity_transform

    n = 5
    k = np.arange(n)
    M = np.sqrt(2 / n) * np.cos(np.pi / n * (k[:, None] + 0.5) * (k[None, :] + 0.5))
    x = rng.normal(size=n)
    np.testing.assert_allclose(sparsity_transform(x, (1, 1, n), "DCT-IV"), M @ x, atol=1e-12)
    M2 = np.sqrt(2 / n) * np.cos(np.pi / n * (k[None, :] + 0.5) * k[:, None])
    M2[0] /= np.sqrt(2)
    np.testing.assert_allclose(sparsity_transform(x, (1, n, 1), "DCT-II"), M2 @ x, atol=1e-12)


def test_transfer_function_full_grid_and_correction(tmp_path, truth):
    sel = [1, 4, 6]
    path = write_v2(tmp_path / "sm.mdf", truth, selection=sel, tf=True)
    sm = read_system_matrix(path)
    tf = sm.receiver.transfer_function
    assert tf.shape == (truth["C"], truth["K_full"])
    np.testing.assert_allclose(tf[:, sel], truth["tf"][:, sel])
    assert np.all(np.isnan(np.delete(tf, sel, axis=1)))
    assert not sm.is_transfer_function_corrected
    corr = read_system_matrix(path, transfer_function_correction=True, frequencies=[4])
    assert corr.is_transfer_function_corrected
    np.testing.assert_allclose(corr.data, truth["fg"][0][:, [4]] / truth["tf"][:, [4], None], **TOL)
    np.testing.assert_allclose(corr.background, truth["bg"][0][:, [4]] / truth["tf"][:, [4], None], **TOL)


def test_already_corrected_file_is_not_divided_again(tmp_path, truth):
    path = write_v2(tmp_path / "sm.mdf", truth, tf=True, tf_corrected=True)
    sm = read_system_matrix(path, transfer_function_correction=True)
    np.testing.assert_allclose(sm.data, truth["fg"][0], **TOL)


def test_tf_correction_without_tf_is_an_error(tmp_path, truth):
    path = write_v2(tmp_path / "sm.mdf", truth)
    with pytest.raises(MDFError, match="transferFunction"):
        read_system_matrix(path, transfer_function_correction=True)


def test_data_conversion_factor_applied(tmp_path, truth):
    path = write_v2(tmp_path / "sm.mdf", truth)
    with h5py.File(path, "a") as f:
        f["acquisition/receiver/dataConversionFactor"] = np.array([[2.0, 0.5], [3.0, 0.0]])
    sm = read_system_matrix(path)
    V = truth["V"]
    expect = truth["fg"][0] * np.array([2.0, 3.0])[:, None, None]
    expect[0, 0] += 0.5 * V  # offset b enters the DC bin as b·V (rfft of a constant)
    np.testing.assert_allclose(sm.data, expect, rtol=1e-5, atol=1e-3)
    assert sm.receiver.data_conversion_factor is None


def test_metadata_fields(tmp_path, truth):
    path = write_v2(tmp_path / "sm.mdf", truth)
    with h5py.File(path, "a") as f:
        f["_provenance/model"] = "neel"
        f["_provenance/diameter_m"] = 2e-8
        f["_provenance/nested/values"] = np.arange(3)
        f["calibration/_easyAxisAngle"] = 30.0
        f["calibration/_fieldOfViewUnit"] = "T"
    sm = read_system_matrix(path)
    assert sm.provenance == {
        "model": "neel",
        "diameter_m": 2e-8,
        "nested": {"values": sm.provenance["nested"]["values"]},
    }
    np.testing.assert_array_equal(sm.provenance["nested"]["values"], np.arange(3))
    assert sm.easy_axis_angle_deg == 30.0 and sm.field_of_view_unit == "T"
    assert sm.method == "hybrid" and sm.study.number == 3 and sm.experiment.subject == "phantom"
    assert sm.scanner.manufacturer == "Bruker" and sm.tracer.name == ["t-name"]
    assert sm.uuid == "0b3a1c1e-7a1f-4b5c-9d2e-3f4a5b6c7d8e" and sm.time == "2024-01-02T03:04:05.678"
    assert sm.acquisition.gradient_Tm.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(sm.offset_fields_T, np.arange(sm.num_positions * 3).reshape(-1, 3) * 1e-3)
    assert sm.drive_field.num_channels == 2 and sm.drive_field.phases_rad[0, 0, 0] == pytest.approx(np.pi / 2)


def test_frequency_axis_facts(tmp_path, rng):
    """V = 625 (odd, MPIFiles' test file) gives K = 313, f1 = 25 kHz at bandwidth 125e6/16;
    V = 1632 at 1.25 MHz gives 817 bins ending at the bandwidth."""
    t = make_truth(rng, V=625, grid=(2, 1, 1))
    t["bandwidth"] = 125e6 / 16
    path = write_v2(tmp_path / "odd.mdf", t)
    sm = read_system_matrix(path, frequencies=[0, 1, 312])
    assert sm.receiver.num_frequencies == 313
    np.testing.assert_allclose(sm.frequencies_Hz, [0.0, 25e3, 312 * 25e3])
    t = make_truth(rng, V=1632, grid=(2, 1, 1))
    path = write_v2(tmp_path / "even.mdf", t)
    sm = read_system_matrix(path, frequencies=[16, 816])
    assert sm.receiver.num_frequencies == 817
    np.testing.assert_allclose(sm.frequencies_Hz, [16 * 2.5e6 / 1632, 1.25e6])
    np.testing.assert_allclose(sm.data, t["fg"][0][:, [16, 816]], **TOL)


@pytest.mark.parametrize("time_domain", [False, True])
def test_v1_system_matrix(tmp_path, rng, time_domain):
    t = make_truth(rng)
    path = write_v1(tmp_path / "v1.mdf", t, time_domain=time_domain)
    sm = read_system_matrix(path)
    np.testing.assert_allclose(sm.data, t["fg"][0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sm.snr, t["snr"][0])
    np.testing.assert_allclose(sm.receiver.transfer_function, t["tf"])
    assert sm.experiment.number == 7 and sm.scanner.name == "x" and sm.time == "2016-01-02T03:04:05"
    np.testing.assert_allclose(sm.acquisition.gradient_Tm[0, 0], np.diag([-1.0, -1.0, 2.0]))
    assert sm.positions_m.shape == (t["O"], 3) and sm.method == "robot"
    sub = read_system_matrix(path, frequencies=[3])
    np.testing.assert_allclose(sub.data, t["fg"][0][:, [3]], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("time_domain", [False, True])
def test_v1_measurement(tmp_path, rng, time_domain):
    t = make_truth(rng)
    path = write_v1(tmp_path / "v1m.mdf", t, measurement=True, time_domain=time_domain)
    m = read_measurement(path, frequencies=[0, 5])
    assert m.data.shape == (1, t["C"], 2, t["O"])
    np.testing.assert_allclose(m.data[0], t["fg"][0][:, [0, 5]], rtol=1e-10, atol=1e-10)
    assert not m.is_background_frame.any()
