"""``mdf-neel fit`` end to end on small synthetic files (writer + reader + report)."""

import json

import numpy as np
import pytest

from mdf_neel._parsing import parse_values
from mdf_neel.cli import main
from mdf_neel.fitting.io import load_model
from tests.fitting._fitting_synth import ROWS, as_system_matrices, band_pass, synthesize


def test_value_lists():
    assert parse_values("14nm:18nm:2nm", name="d", units={"nm": 1e-9}) == pytest.approx((14e-9, 16e-9, 18e-9))
    assert parse_values("100, 200", name="k") == (100.0, 200.0)
    with pytest.raises(ValueError, match="unit"):
        parse_values("3mm", name="d", units={"nm": 1e-9})


def test_fit_cli_writes_model_report_and_mdf(dic, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from mdf_neel.mdf import write_system_matrix
    from mdf_neel.mdf.reader import read_system_matrix

    angles = dic.angles_deg
    data = synthesize(dic, np.eye(3, 4) * np.eye(3, 4)[1], angles, band_pass(ROWS))  # one atom: (1, 1)
    files = []
    for sm in as_system_matrices(data, angles):
        path = tmp_path / f"in_{sm.easy_axis_angle_deg:03.0f}.mdf"
        write_system_matrix(path, sm)
        files.append(str(path))
    # the CLI simulates its dictionary; hand it the synthetic one instead
    import mdf_neel.simulate as simulate

    calls = []
    monkeypatch.setattr(simulate, "dictionary", lambda *a, **k: calls.append(k) or dic)
    out = tmp_path / "fit"
    d = ",".join(f"{v * 1e9:g}nm" for v in dic.diameters_m)
    k = ",".join(f"{v:g}" for v in dic.anisotropies_Jm3)
    status = main(
        [
            "fit",
            *files,
            "--model",
            "m2",
            "--diameters",
            d,
            "--anisotropies",
            k,
            "--max-mixing-order",
            "3",
            "3",
            "--rtol",
            "2e-3",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    assert calls and all(k["rtol"] == 2e-3 for k in calls)  # the contract reaches the dictionary
    meta = json.loads((out / "model" / "model.json").read_text())
    assert meta["estimator"] == "DictionaryModel"
    for name in ("error_map.png", "frequency_errors.png", "angle_boxplot.png", "weights.png", "report.md"):
        assert (out / "report" / name).stat().st_size > 0
    predicted = sorted((out / "predicted").glob("*.mdf"))
    assert len(predicted) == len(angles)
    sm = read_system_matrix(predicted[0])
    assert sm.method == "hybrid" and sm.experiment.is_simulation and sm.easy_axis_angle_deg == pytest.approx(angles[0])
    np.testing.assert_allclose(sm.data, data[0], rtol=1e-5, atol=1e-5 * np.abs(data[0]).max())
    model = load_model(out / "model")
    assert model.training_error_ < 1e-6


def test_fit_cli_refuses_an_accuracy_for_the_equilibrium_model(tmp_path):
    with pytest.raises(ValueError, match="--rtol.*m1 or m2"):
        main(["fit", str(tmp_path / "x.mdf"), "--model", "m0", "--rtol", "1e-3", "--out", str(tmp_path / "o")])
