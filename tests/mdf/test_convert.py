"""Conversion: exact plain copies, v1 → v2, decompression, MPIFiles' frequency selection,
SNR estimation, background correction, recompression, CLI."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.errors import MDFError
from mdf_neel.mdf.conversion import compress, convert, estimate_snr, frequency_mask, select_frequencies
from mdf_neel.mdf.reader import read_measurement, read_system_matrix
from mdf_neel.sequence import paper_2d_sequence
from mdf_neel.systemmatrix import SystemMatrix
from tests.mdf._builders import make_truth, write_v1, write_v2

TOL = dict(rtol=1e-5, atol=1e-4)


def _validate(path):
    from mdf_neel.mdf.validation import validate

    return [p for p in validate(path) if "advisory" not in p.lower()]


def _datasets(path):
    out = {}
    with h5py.File(path, "r") as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.dtype, obj.shape, obj[()], obj.id.get_create_plist().get_layout())

        f.visititems(visit)
    return out


def test_plain_v2_copy_round_trips_every_dataset(tmp_path, rng):
    src = write_v2(tmp_path / "in.mdf", make_truth(rng, E=2), selection=[1, 2, 7], tf=True, permutation=True)
    with h5py.File(src, "a") as f:
        f["_provenance/model"] = "neel"
        f["calibration/_easyAxisAngle"] = 12.5
        f.create_dataset("_custom/fixed", data=np.bytes_(b"fixed-length"))
    out = convert(src, tmp_path / "out.mdf")
    a, b = _datasets(src), _datasets(out)
    assert a.keys() == b.keys()
    for name, (dtype, shape, value, layout) in a.items():
        assert b[name][0] == dtype, name
        assert b[name][1] == shape, name
        assert b[name][3] == layout, name
        np.testing.assert_array_equal(b[name][2], value, err_msg=name)


def test_v201_file_is_upgraded(tmp_path, rng):
    src = write_v2(tmp_path / "in.mdf", make_truth(rng), version="2.0.1", transposed_name=True)
    out = convert(src, tmp_path / "out.mdf")
    with h5py.File(out) as f:
        assert f["version"][()] == b"2.1.0"
        assert f["measurement/isSparsityTransformed"][()] == 0
        assert f["measurement/isFastFrameAxis"][()] == 1 and "isTransposed" not in f["measurement"]
    a, b = _datasets(src), _datasets(out)
    for name in set(a) - {"version", "measurement/isTransposed"}:
        np.testing.assert_array_equal(b[name][2], a[name][2], err_msg=name)


@pytest.mark.parametrize("time_domain", [False, True])
def test_v1_to_v2(tmp_path, rng, time_domain):
    t = make_truth(rng)
    out = convert(write_v1(tmp_path / "v1.mdf", t, time_domain=time_domain), tmp_path / "v2.mdf")
    assert _validate(out) == []
    sm = read_system_matrix(out)
    np.testing.assert_allclose(sm.data, t["fg"][0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sm.snr, t["snr"][0])
    assert sm.positions_m.shape == (t["O"], 3)


def test_v1_measurement_to_v2(tmp_path, rng):
    t = make_truth(rng)
    out = convert(write_v1(tmp_path / "v1m.mdf", t, measurement=True), tmp_path / "m.mdf")
    assert _validate(out) == []
    m = read_measurement(out)
    np.testing.assert_allclose(m.data[0], t["fg"][0], rtol=1e-10, atol=1e-10)


def test_decompress(tmp_path, rng):
    t = make_truth(rng, E=2, grid=(4, 3, 1), sparse=("DCT-IV", 3))
    src = write_v2(tmp_path / "s.mdf", t)
    out = convert(src, tmp_path / "d.mdf")
    assert _validate(out) == []
    with h5py.File(out) as f:
        assert f["measurement/isSparsityTransformed"][()] == 0
        assert f["measurement/data"].shape == (1, t["C"], t["K_full"], t["O"] + 2)
    np.testing.assert_allclose(read_system_matrix(out).data, t["fg"][0], **TOL)
    kept = convert(src, tmp_path / "k.mdf", decompress=False)
    assert _datasets(kept)["measurement/data"][1] == _datasets(src)["measurement/data"][1]


def _paper_sm(rng, K=40):
    seq = paper_2d_sequence()
    bins = np.arange(K)
    return SystemMatrix(
        data=rng.normal(size=(2, K, 4)) + 0j,
        frequency_indices=bins,
        drive_field=seq.drive_field,
        receiver=seq.receiver,
        grid_size=(2, 2, 1),
        field_of_view=np.array([1.0, 1.0, 0.0]),
        field_of_view_center=np.zeros(3),
        snr=np.zeros((2, K)),
    )


def test_frequency_mask_semantics(rng):
    sm = _paper_sm(rng)
    df = 2.5e6 / 1632  # bin spacing of the paper sequence
    # inclusive bounds: a bound exactly on a bin keeps that bin
    keep = frequency_mask(sm, min_frequency_Hz=5 * df, max_frequency_Hz=9 * df)
    assert np.flatnonzero(keep).tolist() == [5, 6, 7, 8, 9]
    # SNR >= threshold, any channel passes
    sm.snr[0, 3] = 2.0
    sm.snr[1, 4] = 2.0
    sm.snr[1, 5] = 1.999
    assert np.flatnonzero(frequency_mask(sm, snr_threshold=2.0)).tolist() == [3, 4]
    assert np.flatnonzero(frequency_mask(sm, snr_threshold=2.0, receive_channels=[1])).tolist() == [4]
    # mixing orders (bin 16 mx + 17 my, smallest |mx| + |my|; docs/data-model.md): (1,0) -> 16, (0,1) -> 17, (-1,2) -> 18 (order 3), (1,1) -> 33
    keep = frequency_mask(sm, max_mixing_order=2)
    assert keep[[0, 16, 17, 33]].all() and not keep[18]
    # thresholds <= 0 and bounds at the band edges are no-ops, as in MPIFiles
    assert frequency_mask(sm, snr_threshold=0, min_frequency_Hz=0, max_frequency_Hz=1.25e6).all()


def test_select_frequencies_drops_channels_and_rows(rng):
    sm = _paper_sm(rng)
    sm.snr[1, [2, 7]] = 5
    sel = select_frequencies(sm, snr_threshold=5, receive_channels=[1])
    assert sel.num_channels == 1 and sel.frequency_indices.tolist() == [2, 7]
    np.testing.assert_array_equal(sel.data, sm.data[1:, [2, 7]])
    assert sm.num_channels == 2  # input untouched
    with pytest.raises(ValueError, match="no frequency"):
        select_frequencies(sm, snr_threshold=100)
    with pytest.raises(ValueError, match="receive_channels"):
        select_frequencies(sm, receive_channels=[2])


def test_estimate_snr_known_noise(rng):
    sm = _paper_sm(rng, K=25)
    C, K, O = sm.data.shape
    mu = rng.normal(size=(C, K, 1)) + 1j * rng.normal(size=(C, K, 1))
    d = rng.uniform(0.5, 1.0, size=(C, K, 1))
    s = rng.uniform(0.1, 3.0, size=(C, K, 1)) * d  # signal < 3.5 noise
    background = np.concatenate([mu + d, mu - d], axis=-1)  # mean |bg - mu| = d
    data = np.broadcast_to(mu + s, (C, K, O)).copy()  # |fg - mu| = s everywhere
    snr = estimate_snr(sm.replace(data=data, background=background))
    np.testing.assert_allclose(snr, (s / d)[..., 0], rtol=1e-12)
    one = estimate_snr(sm.replace(data=data, background=mu))  # one frame: noise = |mu|
    np.testing.assert_allclose(one, (s[..., 0] / np.abs(mu[..., 0])), rtol=1e-12)


def test_convert_estimates_missing_snr_and_selects(tmp_path, rng):
    t = make_truth(rng, E=3)
    src = write_v2(tmp_path / "in.mdf", t, snr=False)
    out = convert(src, tmp_path / "out.mdf", snr_threshold=0.5, min_frequency_Hz=1.0)
    sm_in = read_system_matrix(src)
    expect = estimate_snr(sm_in)
    sm = read_system_matrix(out)
    kept = np.flatnonzero(np.any(expect >= 0.5, axis=0) & (sm_in.frequencies_Hz >= 1.0))
    np.testing.assert_array_equal(sm.frequency_indices, kept)
    np.testing.assert_allclose(sm.snr, expect[:, kept])


def test_snr_threshold_without_snr_or_background_fails_cleanly(tmp_path, rng):
    src = write_v2(tmp_path / "in.mdf", make_truth(rng), snr=False)
    with pytest.raises(MDFError, match="snr"):
        convert(src, tmp_path / "out.mdf", snr_threshold=1.0)
    assert not os.path.exists(tmp_path / "out.mdf")
    assert sorted(os.listdir(tmp_path)) == ["in.mdf"]


def test_convert_background_correction(tmp_path, rng):
    t = make_truth(rng, E=2)
    src = write_v2(tmp_path / "in.mdf", t)
    out = convert(src, tmp_path / "out.mdf", background_correction="mean")
    sm = read_system_matrix(out)
    assert sm.is_background_corrected
    np.testing.assert_allclose(sm.data, t["fg"][0] - t["bg"][0].mean(-1, keepdims=True), **TOL)
    # the stored background frames lose their mean too, so MPIFiles' bgCorrection=true subtracts nothing
    np.testing.assert_allclose(sm.background, t["bg"][0] - t["bg"][0].mean(-1, keepdims=True), **TOL)


@pytest.mark.parametrize("transform", ["DCT-IV", "DCT-II"])
def test_recompress(tmp_path, rng, transform):
    t = make_truth(rng, E=1, grid=(4, 3, 1))
    src = write_v2(tmp_path / "in.mdf", t)
    full = convert(src, tmp_path / "full.mdf", recompress=1.0, transform=transform)
    assert _validate(full) == []
    np.testing.assert_allclose(read_system_matrix(full).data, t["fg"][0], **TOL)
    half = convert(src, tmp_path / "half.mdf", recompress=0.5, transform=transform)
    with h5py.File(half) as f:
        assert f["measurement/data"].shape == (1, t["C"], t["K_full"], 6 + 1)
        assert f["measurement/isBackgroundFrame"][()].tolist() == [0] * 6 + [1]
        assert f["acquisition/numFrames"][()] == 7
        assert f["measurement/sparsityTransformation"][()].decode() == transform
    sm = read_system_matrix(half)
    # keeping the 6 largest of 12 orthonormal coefficients: the error is the energy of the rest
    values, _ = compress(read_system_matrix(src), 1.0, transform)
    dropped = np.sort(np.abs(values) ** 2, axis=-1)[..., :6].sum(-1)
    err = (np.abs(sm.data - t["fg"][0]) ** 2).sum(-1)
    np.testing.assert_allclose(err, dropped, rtol=1e-4, atol=1e-6)


def test_cli_convert(tmp_path, rng, capsys):
    src = write_v2(tmp_path / "in.mdf", make_truth(rng))
    assert main(["convert", str(src), str(tmp_path / "o.mdf"), "--channels", "2", "--max-freq", "2e5"]) == 0
    sm = read_system_matrix(tmp_path / "o.mdf")
    assert sm.num_channels == 1 and sm.frequencies_Hz.max() <= 2e5
    assert main(["convert", str(src), str(tmp_path / "x.mdf"), "--channels", "0"]) == 2
    bad = tmp_path / "bad.mdf"
    bad.write_text("not hdf5")
    assert main(["convert", str(bad), str(tmp_path / "y.mdf")]) == 2
    assert "bad.mdf" in capsys.readouterr().err
    assert not (tmp_path / "x.mdf").exists() and not (tmp_path / "y.mdf").exists()
