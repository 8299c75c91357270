"""inspect summaries and the ``mdf-neel inspect`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.errors import MDFError
from mdf_neel.mdf import inspect, write_system_matrix
from tests.mdf._writer_cases import make_sm


@pytest.fixture
def sm_file(tmp_path, rng):
    sm = make_sm(rng, background=3)
    return sm, write_system_matrix(tmp_path / "sm.mdf", sm)


def test_summary_contents(sm_file):
    sm, path = sm_file
    s = inspect(path, rows=20)
    json.dumps(s)  # JSON-serialisable
    assert s["version"] == "2.1.0" and s["uuid"] == sm.uuid
    paths = {e["path"]: e for e in s["tree"]}
    assert paths["/measurement/data"]["shape"] == [1, 2, 817, 23] and paths["/measurement/data"]["dtype"] == "complex64"
    assert paths["/calibration"]["kind"] == "group"
    assert s["flags"]["isFastFrameAxis"] == 1 and s["flags"]["isFrequencySelection"] == 0
    m = s["measurement"]
    assert m["frames"] == 23 and m["background_frames"] == 3 and m["background_frame_indices"] == [20, 21, 22]
    assert m["layout"] == "contiguous"
    seq = s["sequence"]
    assert seq["dividers"] == [[102], [96]]
    np.testing.assert_allclose(np.ravel(seq["drive_frequencies_Hz"]), [2.5e6 / 102, 2.5e6 / 96])
    assert seq["num_frequencies_full"] == 817 and seq["harmonics_per_cycle"] == [16, 17]
    cal = s["calibration"]
    assert cal["method"] == "hybrid" and cal["size"] == [5, 4, 1] and cal["field_of_view_unit"] == "T"
    assert cal["easy_axis_angle_deg"] == 30.0
    np.testing.assert_allclose(cal["offset_fields_T"]["min"], [-14.35e-3, -14.71e-3, 0], atol=1e-15)
    np.testing.assert_allclose(cal["offset_fields_T"]["max"], [14.35e-3, 14.71e-3, 0], atol=1e-15)
    assert cal["positions_m"] is None
    for c in range(2):
        row = s["snr"]["per_channel"][c]
        assert row["median"] == pytest.approx(float(np.median(sm.snr[c])))
        assert row["max"] == pytest.approx(sm.snr[c].max())
        assert row["rows_above_5"] == int(np.sum(sm.snr[c] > 5))
    assert s["provenance"]["model"] == "neel"


def test_mixing_orders_of_paper_sequence(sm_file):
    _, path = sm_file
    rows = {r["bin"]: r for r in inspect(path, rows=20)["sequence"]["mixing_orders"]}
    assert (rows[16]["mx"], rows[16]["my"]) == (1, 0)
    assert (rows[17]["mx"], rows[17]["my"]) == (0, 1)
    assert (rows[18]["mx"], rows[18]["my"], rows[18]["order"]) == (-1, 2, 3)
    assert rows[16]["frequency_Hz"] == pytest.approx(2.5e6 / 102)
    assert rows[17]["frequency_Hz"] == pytest.approx(2.5e6 / 96)


def test_mixing_orders_follow_frequency_selection(tmp_path, rng):
    path = write_system_matrix(tmp_path / "sel.mdf", make_sm(rng, select=np.arange(16, 30)))
    s = inspect(path, rows=3)
    assert [r["bin"] for r in s["sequence"]["mixing_orders"]] == [16, 17, 18]
    assert s["measurement"]["frequency_selection"]["count"] == 14


def test_text_and_json_cli(sm_file, capsys):
    _, path = sm_file
    assert main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert "data  (1, 2, 817, 23)  complex64" in text and "calibration/" in text
    assert "mixing orders" in text and "offset_fields_T: 20 points" in text
    assert main(["inspect", str(path), "--json"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["measurement"]["background_frames"] == 3


def test_not_hdf5(tmp_path, capsys):
    p = tmp_path / "x.mdf"
    p.write_text("hello")
    with pytest.raises(MDFError):
        inspect(p)
    assert main(["inspect", str(p)]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err
