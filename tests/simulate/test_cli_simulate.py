"""``mdf-neel simulate`` and the per-angle writer."""

import os

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf import validate, write_system_matrix
from mdf_neel.simulate import preset, regrid, sequence_from_file, system_matrix
from mdf_neel.simulate.angles import angle_file_name, parse_angles

ARGS = [
    "simulate",
    "--preset",
    "paper-2d",
    "--grid",
    "4x3",
    "--diameter",
    "22e-9",
    "--model",
    "langevin",
    "--workers",
    "1",
]


def test_parse_angles_and_names():
    assert parse_angles("0:165:15") == [float(a) for a in range(0, 166, 15)]
    assert parse_angles("0:30:15,90, 45") == [0.0, 15.0, 30.0, 45.0, 90.0]
    assert parse_angles("30") == [30.0]
    for bad in ("a", "0:10", "10:0:5", "0:10:0", ""):
        with pytest.raises(ValueError):
            parse_angles(bad)
    assert angle_file_name(15) == "theta_015.mdf"
    with pytest.raises(ValueError):
        angle_file_name(7.5)


def test_cli_writes_one_valid_file_per_angle_and_resumes(tmp_path, capsys):
    out = tmp_path / "sm"
    assert main(ARGS + ["--angles", "0:30:15", "--out", str(out)]) == 0
    names = sorted(os.listdir(out))
    assert names == ["theta_000.mdf", "theta_015.mdf", "theta_030.mdf"]
    for name in names:
        path = out / name
        assert validate(path) == []
        with h5py.File(path, "r") as f:
            assert f["/calibration/method"].asstr()[()] == "hybrid"  # tesla grid (MPIFiles' calibGrid)
            assert f["/experiment/isSimulation"][()] == 1
            np.testing.assert_array_equal(f["/calibration/size"][:], [4, 3, 1])
            assert f["/measurement/data"].shape == (1, 2, 817, 12)
            assert float(f["/calibration/_easyAxisAngle"][()]) == float(name[6:9])
    # rerun: every file is finished and skipped (not rewritten)
    before = {n: os.stat(out / n).st_mtime_ns for n in names}
    assert main(ARGS + ["--angles", "0:30:15", "--out", str(out)]) == 0
    assert {n: os.stat(out / n).st_mtime_ns for n in names} == before
    # other settings into the same directory are refused, not silently mixed
    assert (
        main(
            ARGS[:-4]
            + ["--model", "langevin", "--workers", "1", "--diameter", "20e-9", "--angles", "0", "--out", str(out)]
        )
        == 2
    )
    assert "other settings" in capsys.readouterr().err


def test_cli_matches_the_library(tmp_path):
    out = tmp_path / "sm"
    assert main(ARGS + ["--angles", "45", "--out", str(out), "--workers", "2"]) == 0
    seq, grid = preset("paper-2d")
    sm = system_matrix(seq, regrid(grid, (4, 3)), angle_deg=45, diameter_m=22e-9, model="langevin")
    with h5py.File(out / "theta_045.mdf", "r") as f:
        data = f["/measurement/data"][0]
        offsets = f["/calibration/offsetFields"][:]
    np.testing.assert_allclose(data, sm.data, rtol=0, atol=1e-6 * np.abs(sm.data).max())
    np.testing.assert_array_equal(offsets, sm.offset_fields_T)


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main(ARGS + ["--angles", "x", "--out", str(tmp_path)]) == 2
    assert main(ARGS[:4] + ["1x", "--angles", "0", "--diameter", "2e-8", "--out", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err


def test_template_gives_sequence_and_grid(tmp_path):
    seq, grid = preset("paper-2d", grid=(5, 4))
    sm = system_matrix(seq, grid, angle_deg=0, diameter_m=22e-9, model="langevin")
    path = write_system_matrix(tmp_path / "template.mdf", sm)
    seq2, grid2 = sequence_from_file(path)
    np.testing.assert_allclose(seq2.drive_field.strengths_T, seq.drive_field.strengths_T)
    np.testing.assert_array_equal(seq2.drive_field.dividers, seq.drive_field.dividers)
    assert seq2.receiver.num_sampling_points == 1632
    np.testing.assert_allclose(seq2.field_T(), seq.field_T(), atol=1e-12)
    np.testing.assert_allclose(grid2.offsets_T, grid.offsets_T)
    np.testing.assert_array_equal(grid2.size, [5, 4, 1])
    _, fine = sequence_from_file(path, grid=(9, 7))
    np.testing.assert_allclose(fine.offsets_T.min(axis=0), grid.offsets_T.min(axis=0), atol=1e-12)
    np.testing.assert_allclose(fine.offsets_T.max(axis=0), grid.offsets_T.max(axis=0), atol=1e-12)
    out = tmp_path / "from_template"
    assert (
        main(
            [
                "simulate",
                "--template",
                str(path),
                "--grid",
                "3x3",
                "--angles",
                "90",
                "--diameter",
                "22e-9",
                "--model",
                "langevin",
                "--workers",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert validate(out / "theta_090.mdf") == []


def test_all_angles_share_one_neel_task_and_match_separate_simulations(tmp_path, monkeypatch):
    """Every angle is simulated in one physics call (shared tables or basis; the paper's
    drive makes (ϑ, (x, y)) and (−ϑ, (x, −y)) exact symmetric images); each file still
    equals that angle's own simulation within the solver tolerance."""
    from mdf_neel.simulate import angles as angles_module
    from mdf_neel.simulate.angles import write_system_matrices

    calls = []
    real_task = angles_module.angles_task
    monkeypatch.setattr(angles_module, "angles_task", lambda payload: calls.append(1) or real_task(payload))
    seq, grid = preset("paper-2d")
    grid = regrid(grid, (3, 3))
    kw = dict(diameter_m=14e-9, anisotropy_Jm3=1100.0, model="neel", rtol=1e-3)
    angles = (0.0, 30.0, 150.0)
    paths = write_system_matrices(
        seq, grid, tmp_path, angles_deg=list(angles), workers=1, batches_per_angle=1, progress=False, **kw
    )
    assert len(calls) == 1
    for angle, path in zip(angles, paths):
        assert validate(path) == []
        sm = system_matrix(seq, grid, angle_deg=angle, **kw)
        with h5py.File(path, "r") as f:
            data = f["/measurement/data"][0]
        assert np.linalg.norm(data - sm.data) <= 2e-3 * np.linalg.norm(sm.data)
