"""The bundled sample_mdf/ files and the commands the README documents."""

import glob
import json
import os
import re
import shlex

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "sample_mdf")
FILES = sorted(
    glob.glob(os.path.join(SAMPLES, "synthetic_measured", "*.mdf"))
    + glob.glob(os.path.join(SAMPLES, "simulated", "*.mdf"))
)
PHANTOM = os.path.join(SAMPLES, "phantom", "measurement.mdf")
ANGLES = [0.0, 45.0, 90.0, 135.0]


def _rel(path):
    return os.path.relpath(path, SAMPLES)


def test_sample_set_is_complete_and_small():
    names = [_rel(p) for p in FILES]
    for sub in ("synthetic_measured", "simulated"):
        assert [n for n in names if n.startswith(sub + os.sep)] == [
            os.path.join(sub, f"theta_{int(a):03d}.mdf") for a in ANGLES
        ]
    assert sorted(glob.glob(os.path.join(SAMPLES, "*", "*.mdf"))) == sorted(FILES + [PHANTOM])
    total = sum(os.path.getsize(p) for p in FILES + [PHANTOM])
    assert total < 10 * 2**20, f"sample files total {total / 2**20:.1f} MiB"
    with open(os.path.join(SAMPLES, "manifest.json")) as fh:
        manifest = json.load(fh)
    assert sorted(manifest["files"]) == sorted(names + [_rel(PHANTOM)])


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_sample_validates_and_reads(path):
    from mdf_neel.mdf import read_system_matrix, validate

    assert validate(path) == []
    sm = read_system_matrix(path)
    assert sm.data.shape == (2, 321, 121) and np.all(np.isfinite(sm.data))
    np.testing.assert_array_equal(sm.frequency_indices, np.arange(321))
    np.testing.assert_array_equal(sm.grid_size, [11, 11, 1])
    assert os.path.basename(path) == f"theta_{int(round(sm.easy_axis_angle_deg)):03d}.mdf"
    # the paper's offsets: outermost ±14.35 mT (x) and ±14.71 mT (y)
    np.testing.assert_allclose(np.abs(sm.offset_fields_T).max(axis=0), [14.35e-3, 14.71e-3, 0], rtol=1e-12)
    assert sm.experiment.is_simulation
    if "synthetic_measured" in path:
        assert sm.method == "hybrid" and "SYNTHETIC" in sm.experiment.name
        assert sm.provenance["synthetic"] == "yes"
        assert sm.num_background_frames == 10 and sm.noise_estimate.shape == (2, 321)
        assert sm.snr[0, 33] > 100  # mixing order (1,1) stands well above the noise
    else:
        assert sm.method == "hybrid" and sm.background is None and sm.noise_estimate is None
        assert sm.provenance["parameters"]["diameter_m"] == pytest.approx(22e-9)
        assert sm.provenance["parameters"]["anisotropy_Jm3"] == pytest.approx(1100.0)


def test_synthetic_and_simulated_samples_agree_in_shape():
    """The synthetic set is mostly the D = 22 nm, K = 1100 J/m^3 model seen through a band-pass:
    on a strong row, the best per-row complex scale between the two leaves a small residual."""
    from mdf_neel.mdf import read_system_matrix

    for angle in ANGLES:
        name = f"theta_{int(angle):03d}.mdf"
        meas = read_system_matrix(os.path.join(SAMPLES, "synthetic_measured", name), frequencies=[99])
        sim = read_system_matrix(os.path.join(SAMPLES, "simulated", name), frequencies=[99])
        s, p = meas.data[0, 0].astype(complex), sim.data[0, 0].astype(complex)
        a = np.vdot(p, s) / np.vdot(p, p)
        assert np.linalg.norm(s - a * p) / np.linalg.norm(s) < 0.35


def test_plot_of_samples(tmp_path):
    pytest.importorskip("matplotlib")
    from mdf_neel.cli import main

    files = sorted(glob.glob(os.path.join(SAMPLES, "synthetic_measured", "*.mdf")), reverse=True)
    out = tmp_path / "rows.png"
    assert main(["plot", *files, "--rows", "1,1", "3,3", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


# --- the README's commands -----------------------------------------------------------------


def _readme_commands():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.extend(part.strip() for part in line.split("&&"))
    return commands


def test_readme_mdf_neel_commands_parse():
    from mdf_neel.cli import build_parser

    parser = build_parser()
    calls = [c for c in _readme_commands() if re.search(r"(^|/)mdf-neel\s", c)]
    assert calls, "the README shows no mdf-neel command"
    for call in calls:
        words = shlex.split(call)
        i = next(i for i, w in enumerate(words) if w.endswith("mdf-neel"))
        args = words[i + 1 :]
        try:
            parser.parse_args(args)
        except SystemExit as exc:  # argparse reports errors by exiting
            raise AssertionError(f"README command does not parse: {call}") from exc
        # every sample file it names exists
        for w in args:
            if w.startswith("sample_mdf/") and "*" not in w:
                assert os.path.exists(os.path.join(ROOT, w)), w
            elif w.startswith("sample_mdf/"):
                assert glob.glob(os.path.join(ROOT, w)), w


def test_readme_test_command_is_what_ci_runs():
    commands = _readme_commands()
    pytest_calls = [c for c in commands if "-m pytest" in c]
    assert pytest_calls, "the README shows no test command"
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as fh:
        ci = fh.read()
    for call in pytest_calls:
        assert '-m "not slow"' in call
    # .ci/run runs the README's whole test command line verbatim
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme_lines = [line.strip() for line in fh if "-m pytest" in line]
    assert any('pip install -e ".[test]"' in line and line in ci.splitlines() for line in readme_lines)


def test_phantom_measurement_reconstructs_each_disc_orientation():
    """The bundled SYNTHETIC phantom (three discs at 0°, 60°, 120°), reconstructed with the four
    SYNTHETIC calibrations: each disc's orientation (double-angle mean of its concentrations)
    lies within a quarter of the calibrations' 45° spacing of the truth."""
    from mdf_neel.mdf import read_measurement, validate
    from mdf_neel.reconstruct import axial_difference_deg, reconstruct

    assert validate(PHANTOM) == []
    meas = read_measurement(PHANTOM)
    assert meas.experiment.is_simulation and "SYNTHETIC" in meas.experiment.name
    with open(os.path.join(SAMPLES, "manifest.json")) as fh:
        discs = json.load(fh)["settings"]["phantom"]["samples"]
    rec = reconstruct([p for p in FILES if "synthetic_measured" in p], PHANTOM)
    conc = np.clip(rec.concentration[0, :, 0].reshape(len(rec.angles_deg), -1), 0, None)  # (A, O)
    for (cx, cy), radius, _, angle in discs:
        inside = np.hypot(rec.offsets_T[:, 0] - cx, rec.offsets_T[:, 1] - cy) <= radius
        weights = conc[:, inside].sum(axis=1)
        mean = np.angle(np.sum(weights * np.exp(2j * np.deg2rad(rec.angles_deg)))) / 2
        assert axial_difference_deg(np.rad2deg(mean) % 180, angle) < 45.0 / 4, (angle, np.rad2deg(mean) % 180)
