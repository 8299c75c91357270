"""The MDF writer, checked with raw h5py (not with our reader) and with the validator."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from mdf_neel.errors import MDFError
from mdf_neel.mdf import read_system_matrix, schema, validate, write_measurement, write_system_matrix
from mdf_neel.mdf import writer as writer_mod
from tests.mdf._writer_cases import make_measurement, make_sm

REPO_ROOT = Path(__file__).resolve().parents[2]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")

CASES = {
    "plain": dict(),
    "background": dict(background=3, snr=False),
    "selection_tf": dict(select=np.arange(5, 40), tf=True),
    "robot_c128": dict(positions=True, dtype=np.complex128),
    "no_snr": dict(snr=False),
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def written(request, tmp_path, rng):
    sm = make_sm(rng, **CASES[request.param])
    path = tmp_path / "sm.mdf"
    write_system_matrix(path, sm)
    return request.param, sm, path


def _all_datasets(f):
    out = {}
    f.visititems(lambda n, o: out.setdefault("/" + n, o) if isinstance(o, h5py.Dataset) else None)
    return out


def test_validator_accepts_everything_we_write(written):
    _, _, path = written
    assert validate(path) == []


def test_raw_types_and_dataspaces(written):
    """Scalar dataspaces, int8 flags (not enum), strings, little-endian numbers; per the schema."""
    _, _, path = written
    with h5py.File(path, "r") as f:
        for name, ds in _all_datasets(f).items():
            field = schema.FIELDS.get(name)
            cls = ds.id.get_type().get_class()
            assert cls != h5py.h5t.ENUM, name
            if cls == h5py.h5t.STRING:
                assert h5py.check_string_dtype(ds.dtype).encoding in ("utf-8", "ascii"), name
            elif cls != h5py.h5t.COMPOUND:
                assert ds.dtype.byteorder in ("<", "|", "=") and np.little_endian, name
            if field is None:
                continue
            if field.is_scalar:
                assert ds.shape == (), name
            if field.dtype == "int8":
                assert cls == h5py.h5t.INTEGER and ds.dtype == np.int8, name
                assert set(np.unique(ds[()]).tolist()) <= {0, 1}, name
            elif field.dtype == "int64":
                assert ds.dtype == np.dtype("<i8"), name
            elif field.dtype == "float64":
                assert ds.dtype == np.dtype("<f8"), name
            elif field.dtype == "string":
                assert cls == h5py.h5t.STRING, name
        for flag in schema.FLAGS:
            assert f[flag].shape == () and f[flag].dtype == np.int8
        assert "isTransposed" not in f["measurement"]
        assert f["version"].asstr()[()] == "2.1.0"
        for p in ("uuid", "study/uuid", "experiment/uuid"):
            assert UUID.match(f[p].asstr()[()]), p
        for p in ("time", "acquisition/startTime", "study/time"):
            assert TIME.match(f[p].asstr()[()]), p
        assert TIME.match(f["tracer/injectionTime"].asstr()[0])
        assert f["acquisition/drivefield/waveform"].shape == (2, 1)
        assert f["acquisition/drivefield/divider"].dtype == np.int64


def test_data_layout_compound_contiguous(written):
    case, sm, path = written
    with h5py.File(path, "r") as f:
        ds = f["measurement/data"]
        plist = ds.id.get_create_plist()
        assert plist.get_layout() == h5py.h5d.CONTIGUOUS
        assert plist.get_nfilters() == 0 and ds.chunks is None and ds.maxshape == ds.shape
        assert ds.id.get_storage_size() == ds.size * ds.dtype.itemsize
        tid = ds.id.get_type()
        assert tid.get_class() == h5py.h5t.COMPOUND
        assert [tid.get_member_name(i) for i in range(tid.get_nmembers())] == [b"r", b"i"]
        base = np.float32 if sm.data.dtype == np.complex64 else np.float64
        assert tid.get_member_offset(0) == 0 and tid.get_member_offset(1) == np.dtype(base).itemsize
        for i in range(2):
            mt = tid.get_member_type(i)
            assert mt.get_class() == h5py.h5t.FLOAT and mt.get_size() == np.dtype(base).itemsize
            assert mt.get_order() == h5py.h5t.ORDER_LE
        C, K, O = sm.data.shape
        E = sm.num_background_frames
        assert ds.shape == (1, C, K, O + E)
        assert ds.dtype == sm.data.dtype
        raw = ds[()]
        np.testing.assert_array_equal(raw[0, :, :, :O], sm.data)
        if E:
            np.testing.assert_array_equal(raw[0, :, :, O:], sm.background.astype(sm.data.dtype))
        bgf = f["measurement/isBackgroundFrame"][()]
        assert bgf.dtype == np.int8 and bgf.tolist() == [0] * O + [1] * E
        assert f["acquisition/numFrames"][()] == O + E


def test_calibration_and_custom_fields(written):
    case, sm, path = written
    with h5py.File(path, "r") as f:
        cal = f["calibration"]
        for name in ("method", "size", "fieldOfView", "fieldOfViewCenter", "snr"):
            assert name in cal, name
        np.testing.assert_array_equal(cal["size"][()], sm.grid_size)
        np.testing.assert_array_equal(cal["fieldOfView"][()], sm.field_of_view)
        assert ("offsetFields" in cal) != ("positions" in cal)
        if sm.method in ("hybrid", "simulation"):
            np.testing.assert_array_equal(cal["offsetFields"][()], sm.offset_fields_T)
            assert cal["_fieldOfViewUnit"].asstr()[()] == "T"
            assert f["experiment/isSimulation"][()] == 1
        else:
            np.testing.assert_array_equal(cal["positions"][()], sm.positions_m)
            assert cal["_fieldOfViewUnit"].asstr()[()] == "m"
            assert f["experiment/isSimulation"][()] == 0
        assert cal["_easyAxisAngle"].shape == () and cal["_easyAxisAngle"].dtype == np.float64
        assert cal["_easyAxisAngle"][()] == 30.0
        assert "cos theta, sin theta, 0" in cal["_easyAxisConvention"].asstr()[()]
        C, K, _ = sm.data.shape
        snr = cal["snr"][()]
        assert snr.shape == (1, C, K) and snr.dtype == np.float64 and np.all(np.isfinite(snr)) and np.all(snr >= 0)
        if sm.snr is not None:
            np.testing.assert_array_equal(snr[0], sm.snr)
        prov = f["_provenance"]
        assert prov["model"].asstr()[()] == "neel"
        assert prov["parameters/diameter_m"].shape == () and prov["parameters/diameter_m"][()] == 20e-9
        np.testing.assert_array_equal(prov["parameters/grid"][()], np.arange(3))
        assert prov["flags"].dtype == np.int8 and prov["flags"][()].tolist() == [1, 0]


def test_frequency_selection_and_transfer_function(tmp_path, rng):
    sm = make_sm(rng, select=np.arange(5, 40), tf=True)
    path = write_system_matrix(tmp_path / "sel.h5", sm)
    with h5py.File(path, "r") as f:
        assert f["measurement/isFrequencySelection"][()] == 1
        fs = f["measurement/frequencySelection"][()]
        assert fs.dtype == np.int64 and fs.tolist() == list(range(6, 41))  # 1-based
        tf = f["acquisition/receiver/transferFunction"]
        assert tf.shape == (2, 35) and tf.dtype == np.complex128
        np.testing.assert_array_equal(tf[()], sm.receiver.transfer_function[:, 5:40])
        assert f["calibration/snr"].shape == (1, 2, 35)
    full = make_sm(rng)
    with h5py.File(write_system_matrix(tmp_path / "full.hdf", full), "r") as f:
        assert f["measurement/isFrequencySelection"][()] == 0 and "frequencySelection" not in f["measurement"]
        assert "transferFunction" not in f["acquisition/receiver"]


def test_non_finite_transfer_function_is_not_written(tmp_path, rng):
    sm = make_sm(rng, select=np.arange(5, 40), tf=True)
    sm.receiver.transfer_function[0, 7] = np.nan  # inside the stored bins
    with h5py.File(write_system_matrix(tmp_path / "a.mdf", sm), "r") as f:
        assert "transferFunction" not in f["acquisition/receiver"]
    sm = make_sm(rng, select=np.arange(5, 40), tf=True)
    sm.receiver.transfer_function[0, 100] = np.nan  # outside: not stored, so the TF is written
    with h5py.File(write_system_matrix(tmp_path / "b.mdf", sm), "r") as f:
        assert f["acquisition/receiver/transferFunction"].shape == (2, 35)


def test_both_offsets_and_positions_never_together(tmp_path, rng):
    sm = make_sm(rng)
    sm = sm.replace(positions_m=sm.offset_fields_T * 0.01)
    with h5py.File(write_system_matrix(tmp_path / "both.mdf", sm), "r") as f:
        assert "offsetFields" in f["calibration"] and "positions" not in f["calibration"]
        np.testing.assert_array_equal(f["calibration/_positions"][()], sm.positions_m)
    assert validate(tmp_path / "both.mdf") == []


def test_missing_grid_points_are_derived_from_the_grid(tmp_path, rng):
    from mdf_neel.sequence import regular_grid

    sm = make_sm(rng).replace(offset_fields_T=None)
    with h5py.File(write_system_matrix(tmp_path / "g.mdf", sm), "r") as f:
        expect = regular_grid(sm.grid_size, sm.field_of_view, sm.field_of_view_center)
        np.testing.assert_allclose(f["calibration/offsetFields"][()], expect)


def test_input_not_mutated(tmp_path, rng):
    sm = make_sm(rng, background=2, snr=False)
    before = (sm.data.copy(), sm.background.copy(), sm.drive_field.phases_rad.copy(), dict(sm.provenance))
    write_system_matrix(tmp_path / "x.mdf", sm)
    np.testing.assert_array_equal(sm.data, before[0])
    np.testing.assert_array_equal(sm.background, before[1])
    np.testing.assert_array_equal(sm.drive_field.phases_rad, before[2])
    assert sm.snr is None and sm.provenance.keys() == before[3].keys()


def test_phase_wrapped_and_times_normalised(tmp_path, rng):
    sm = make_sm(rng, time="2024-05-06T07:08:09.123456+02:00")
    sm.acquisition.start_time = "2024-05-06T07:08:09Z"
    sm.drive_field.phases_rad[...] = 3 * np.pi / 2  # == -π/2
    with h5py.File(write_system_matrix(tmp_path / "p.mdf", sm), "r") as f:
        np.testing.assert_allclose(f["acquisition/drivefield/phase"][()], -np.pi / 2)
        assert f["time"].asstr()[()] == "2024-05-06T05:08:09.123"
        assert f["acquisition/startTime"].asstr()[()] == "2024-05-06T07:08:09.000"


@pytest.mark.parametrize(
    "change, error",
    [
        (dict(uuid="not-a-uuid"), ValueError),
        (dict(time="yesterday"), ValueError),
        (dict(field_of_view_unit="mm"), ValueError),
        (dict(order="abc"), ValueError),
    ],
    ids=["uuid", "time", "fov-unit", "order"],
)
def test_bad_metadata_raises_before_writing(tmp_path, rng, change, error):
    sm = make_sm(rng, **change)
    with pytest.raises(error):
        write_system_matrix(tmp_path / "bad.mdf", sm)
    assert os.listdir(tmp_path) == []


def test_negative_strength_rejected(tmp_path, rng):
    sm = make_sm(rng)
    sm.drive_field.strengths_T[0, 0, 0] = -1e-3
    with pytest.raises(ValueError, match="strengths_T"):
        write_system_matrix(tmp_path / "bad.mdf", sm)
    assert os.listdir(tmp_path) == []


def test_uppercase_uuid_is_canonicalised(tmp_path, rng):
    sm = make_sm(rng, uuid="6F1C3B2A-0D4E-4F5A-8B6C-7D8E9F0A1B2C")
    with h5py.File(write_system_matrix(tmp_path / "u.mdf", sm), "r") as f:
        assert f["uuid"].asstr()[()] == "6f1c3b2a-0d4e-4f5a-8b6c-7d8e9f0a1b2c"


@pytest.mark.parametrize("name", ["sm.txt", "sm", "sm.mdf.bak"])
def test_file_name_suffix(tmp_path, rng, name):
    with pytest.raises(ValueError, match=r"\.mdf"):
        write_system_matrix(tmp_path / name, make_sm(rng))


def test_overwrite_false(tmp_path, rng):
    path = tmp_path / "o.mdf"
    write_system_matrix(path, make_sm(rng))
    with pytest.raises(FileExistsError):
        write_system_matrix(path, make_sm(rng), overwrite=False)


def test_slabs_cover_everything(tmp_path, rng, monkeypatch):
    """Tiny slabs: many partial writes must still reproduce every value."""
    monkeypatch.setattr(writer_mod, "SLAB_BYTES", 64)
    sm = make_sm(rng, background=2, select=np.arange(3, 50))
    with h5py.File(write_system_matrix(tmp_path / "s.mdf", sm), "r") as f:
        raw = f["measurement/data"][()]
    np.testing.assert_array_equal(raw[0, :, :, :20], sm.data)
    np.testing.assert_array_equal(raw[0, :, :, 20:], sm.background)


# --- SNR fallback --------------------------------------------------------------------
def test_snr_fallback_with_background_matches_rule():
    """bg = mu ± a alternately (mean |bg-mu| = a); fg = mu + s·e^{iφ} (median |fg-mu| = s)."""
    C, K, O, E = 1, 3, 5, 4
    mu = np.array([1 + 1j, 2.0, -3j])[None, :, None]
    a = np.array([0.5, 2.0, 0.0])[None, :, None]
    s = np.array([3.0, 4.0, 1.0])[None, :, None]
    bg = mu + a * np.array([1, -1, 1, -1])[None, None, :]
    fg = mu + s * np.exp(1j * np.linspace(0, 2, O))[None, None, :]
    snr, method = writer_mod.snr_fallback(fg.reshape(C, K, O), bg.reshape(C, K, E))
    np.testing.assert_allclose(snr, [[6.0, 2.0, 0.0]])  # zero noise → 0
    assert "background" in method


def test_snr_fallback_without_background_is_relative_rms():
    data = np.zeros((1, 3, 4), complex)
    data[0, 0] = 2.0  # rms 2
    data[0, 1] = [1j, -1j, 1, -1]  # rms 1
    snr, method = writer_mod.snr_fallback(data, None)
    np.testing.assert_allclose(snr, [[1000.0, 500.0, 0.0]])
    assert "no noise model" in method


def test_snr_method_recorded(tmp_path, rng):
    with h5py.File(write_system_matrix(tmp_path / "a.mdf", make_sm(rng)), "r") as f:
        assert f["calibration/_snrMethod"].asstr()[()] == "provided by the caller"
    with h5py.File(write_system_matrix(tmp_path / "b.mdf", make_sm(rng, background=2, snr=False)), "r") as f:
        assert "background" in f["calibration/_snrMethod"].asstr()[()]
    sm = make_sm(rng)
    sm.provenance["snr_rule"] = "peak / (1e-4 * max)"
    with h5py.File(write_system_matrix(tmp_path / "c.mdf", sm), "r") as f:
        assert f["calibration/_snrMethod"].asstr()[()] == "peak / (1e-4 * max)"


# --- measurements ----------------------------------------------------------------------
def test_write_measurement_raw(tmp_path, rng):
    meas = make_measurement(rng, permute=True)
    path = write_measurement(tmp_path / "m.mdf", meas)
    assert validate(path) == []
    with h5py.File(path, "r") as f:
        assert "calibration" not in f and "tracer" not in f
        ds = f["measurement/data"]
        assert ds.shape == meas.data.shape and ds.dtype == np.complex128
        np.testing.assert_array_equal(ds[()], meas.data)
        assert f["measurement/isFastFrameAxis"][()] == 1
        assert f["measurement/isFramePermutation"][()] == 1
        np.testing.assert_array_equal(f["measurement/framePermutation"][()], meas.frame_permutation + 1)
        np.testing.assert_array_equal(f["measurement/frequencySelection"][()], meas.frequency_indices + 1)
        assert f["measurement/isBackgroundFrame"][()].tolist() == [0] * 5 + [1]
        assert f["acquisition/numFrames"][()] == 6 and f["acquisition/numPeriodsPerFrame"][()] == 1
        assert f["_provenance/note"].asstr()[()] == "test"


# --- atomicity -----------------------------------------------------------------------
def _leftovers(directory, keep):
    return sorted(n for n in os.listdir(directory) if n != keep)


def test_failure_midway_keeps_previous_file(tmp_path, rng, monkeypatch):
    path = tmp_path / "a.mdf"
    write_system_matrix(path, make_sm(rng))
    before = path.read_bytes()
    calls = {"n": 0}
    real = writer_mod._write_data

    def boom(*args, **kwargs):
        real(*args, **kwargs)
        calls["n"] += 1
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writer_mod, "_write_data", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_system_matrix(path, make_sm(rng, background=2))
    assert calls["n"] == 1
    assert path.read_bytes() == before
    assert _leftovers(tmp_path, "a.mdf") == []


def test_failure_without_previous_file_leaves_nothing(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(writer_mod, "_write_provenance", lambda *a: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError):
        write_system_matrix(tmp_path / "new.mdf", make_sm(rng))
    assert os.listdir(tmp_path) == []


def test_nonconformant_result_is_not_saved(tmp_path, rng, monkeypatch):
    """The validator guard: a writer bug (here: a flag with value 2) never reaches the target."""
    real = writer_mod._flag
    monkeypatch.setattr(writer_mod, "_flag", lambda v: np.int8(2) if v is True else real(v))
    with pytest.raises(MDFError, match="isFastFrameAxis"):
        write_system_matrix(tmp_path / "n.mdf", make_sm(rng))
    assert os.listdir(tmp_path) == []


_KILL_SCRIPT = r"""
import time
import numpy as np
from tests.mdf._writer_cases import make_sm
from mdf_neel.mdf import writer
real = writer._write_data
def slow(f, blocks, shape, dtype):
    real(f, blocks[:1], shape, dtype)   # part of the data is on disk
    f.flush()
    open({marker!r}, "w").close()
    time.sleep(60)
writer._write_data = slow
writer.write_system_matrix({target!r}, make_sm(np.random.default_rng(1), background=2))
"""


@pytest.mark.parametrize("previous", [True, False], ids=["old-file", "no-file"])
def test_sigkill_during_write(tmp_path, rng, previous):
    import signal
    import subprocess
    import time

    path = tmp_path / "k.mdf"
    before = None
    if previous:
        write_system_matrix(path, make_sm(rng))
        before = path.read_bytes()
    marker = tmp_path / "started"
    script = _KILL_SCRIPT.format(marker=str(marker), target=str(path))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT)  # -c puts the cwd on sys.path
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "writer subprocess ended early"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    if previous:
        assert path.read_bytes() == before
        assert validate(path) == []
    else:
        assert not path.exists()
    # only the recognisable temporary file can remain after a kill
    assert all(
        n.startswith(".k.mdf.") and n.endswith(".partial") for n in _leftovers(tmp_path, "k.mdf") if n != "started"
    )


def test_easy_axis_polar_angle_round_trips_and_in_plane_files_keep_their_fields(tmp_path):
    plain = make_sm(np.random.default_rng(3), easy_axis_angle_deg=30.0)
    tilted = plain.replace(easy_axis_polar_deg=60.0)
    for sm, name in ((plain, "plain.mdf"), (tilted, "tilted.mdf")):
        write_system_matrix(tmp_path / name, sm)
        assert validate(tmp_path / name) == []
    with h5py.File(tmp_path / "plain.mdf", "r") as f:
        assert "_easyAxisPolarAngle" not in f["/calibration"]
    assert read_system_matrix(tmp_path / "plain.mdf").easy_axis_polar_deg == 90.0
    back = read_system_matrix(tmp_path / "tilted.mdf")
    assert (back.easy_axis_angle_deg, back.easy_axis_polar_deg) == (30.0, 60.0)
    with pytest.raises(ValueError, match="easy_axis_polar_deg"):
        plain.replace(easy_axis_polar_deg=200.0)
