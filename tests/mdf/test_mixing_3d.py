"""``inspect`` and ``convert --max-mixing-order`` on 3-D files, and MPIFiles' hand-set
mixing prefactors (``/measurement/_manualPrefactors``) read, written and honoured.

The expected bins come from an independent enumeration of all integer combinations of
low order, not from :func:`mdf_neel.sequence.mixing_orders`.
"""

from __future__ import annotations

import itertools
import json

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.errors import MDFError
from mdf_neel.mdf import inspect, validate, write_system_matrix
from mdf_neel.mdf.inspection import format_summary
from mdf_neel.mdf.conversion import convert
from mdf_neel.mdf.reader import read_system_matrix
from mdf_neel.sequence import DriveField, bruker_3d_offsets, bruker_3d_sequence
from mdf_neel.systemmatrix import SystemMatrix

STORED = np.arange(0, 1200)  # bins 0..1199 of the 26,929: every order-1 and order-2 bin lies below 1200


def _bins_up_to(prefactors, max_order, bins):
    """Bins among ``bins`` reached by some integer combination of order <= max_order."""
    found = set()
    P = len(prefactors)
    for m in itertools.product(range(-max_order, max_order + 1), repeat=P):
        if sum(abs(v) for v in m) <= max_order:
            found.add(sum(a * b for a, b in zip(m, prefactors)))
    return sorted(found & set(int(b) for b in bins))


def _sm_3d(rng, manual_prefactors=None) -> SystemMatrix:
    seq = bruker_3d_sequence()
    df = seq.drive_field
    if manual_prefactors is not None:
        df = DriveField(
            df.base_frequency_Hz,
            df.dividers,
            df.strengths_T,
            df.phases_rad,
            df.waveforms,
            cycle_s=df.cycle_s,
            manual_prefactors=manual_prefactors,
        )
    grid = bruker_3d_offsets(grid=(2, 2, 2))
    data = rng.normal(size=(3, STORED.size, 8)) + 1j * rng.normal(size=(3, STORED.size, 8))
    return SystemMatrix(
        data=data.astype(np.complex64),
        frequency_indices=STORED,
        drive_field=df,
        receiver=seq.receiver,
        grid_size=grid.size,
        field_of_view=grid.field_of_view_T,
        field_of_view_center=grid.center_T,
        offset_fields_T=grid.offsets_T,
        snr=rng.uniform(0, 50, size=(3, STORED.size)),
        method="hybrid",
        field_of_view_unit="T",
    )


@pytest.fixture
def file_3d(tmp_path, rng):
    path = tmp_path / "bruker3d.mdf"
    write_system_matrix(path, _sm_3d(rng))
    return path


def test_inspect_lists_3d_mixing_orders(file_3d, capsys):
    assert validate(file_3d) == []
    summary = inspect(file_3d, rows=1200)
    seq = summary["sequence"]
    assert seq["harmonics_per_cycle"] == [528, 561, 544] and seq["mixing_prefactors"] == [528, 561, 544]
    rows = {r["bin"]: r for r in seq["mixing_orders"]}
    assert rows[544]["factors"] == [0, 0, 1] and rows[544]["order"] == 1
    assert (rows[17]["mx"], rows[17]["my"], rows[17]["mz"], rows[17]["order"]) == (0, 1, -1, 2)  # 561 - 544
    assert sorted(b for b, r in rows.items() if 0 <= r["order"] <= 2) == _bins_up_to((528, 561, 544), 2, STORED)
    text = format_summary(summary)
    assert "mx   my   mz  order" in text and "harmonics per cycle [528, 561, 544]" in text
    assert main(["inspect", str(file_3d), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sequence"]["dividers"] == [[102], [96], [99]]


def test_convert_max_mixing_order_on_a_3d_file(file_3d, tmp_path):
    out = tmp_path / "order2.mdf"
    assert main(["convert", str(file_3d), str(out), "--max-mixing-order", "2"]) == 0
    assert validate(out) == []
    sm = read_system_matrix(out)
    expected = _bins_up_to((528, 561, 544), 2, STORED)
    # order 0 (DC), 3 fundamentals, 3 second harmonics, 3 differences and 3 sums below 1200
    assert len(expected) == 13
    assert sm.frequency_indices.tolist() == expected
    full = read_system_matrix(file_3d)
    np.testing.assert_array_equal(sm.data, full.data[:, expected])


def test_manual_prefactors_round_trip_and_rule_the_selection(tmp_path, rng):
    """Hand-set prefactors are written, read back, shown by inspect and used by convert
    in place of the drive's 528, 561, 544."""
    manual = (33, 17, 16)
    path = tmp_path / "manual.mdf"
    write_system_matrix(path, _sm_3d(rng, manual_prefactors=manual))
    assert validate(path) == []
    with h5py.File(path, "r") as f:
        assert f["/measurement/_manualPrefactors"][()].tolist() == list(manual)
        assert f["/measurement/_manualPrefactors"].dtype == np.int64
    assert read_system_matrix(path).drive_field.manual_prefactors.tolist() == list(manual)
    summary = inspect(path, rows=40)
    assert summary["sequence"]["manual_prefactors"] == list(manual)
    assert "manual prefactors [33, 17, 16]" in format_summary(summary)
    out = tmp_path / "order1.mdf"
    convert(path, out, max_mixing_order=1)
    assert read_system_matrix(out).frequency_indices.tolist() == _bins_up_to(manual, 1, STORED) == [0, 16, 17, 33]
    # the plain copy keeps the custom dataset
    copy = tmp_path / "copy.mdf"
    convert(path, copy)
    assert read_system_matrix(copy).drive_field.manual_prefactors.tolist() == list(manual)


def test_manual_prefactors_added_by_hand_are_honoured(file_3d, tmp_path):
    """A file that gets ``_manualPrefactors`` from another tool (four prefactors here)."""
    with h5py.File(file_3d, "r+") as f:
        f.create_dataset("/measurement/_manualPrefactors", data=np.array([1000, 1001, 1002, 1003], dtype=np.int64))
    out = tmp_path / "order1.mdf"
    assert main(["convert", str(file_3d), str(out), "--max-mixing-order", "1"]) == 0
    assert read_system_matrix(out).frequency_indices.tolist() == [0, 1000, 1001, 1002, 1003]
    rows = {r["bin"]: r for r in inspect(file_3d, rows=1200)["sequence"]["mixing_orders"]}
    # 1 = 1001 − 1000 = 1002 − 1001 = 1003 − 1002: MPIFiles' loops keep the last visited (first factor slowest)
    assert rows[1]["factors"] == [0, 0, -1, 1] and rows[1]["order"] == 2
    assert "m4" in format_summary(inspect(file_3d, rows=5))


@pytest.mark.parametrize("bad", [np.array([0, 5], dtype=np.int64), np.array([1.5, 2.0])])
def test_invalid_manual_prefactors_name_the_dataset(file_3d, bad):
    with h5py.File(file_3d, "r+") as f:
        f.create_dataset("/measurement/_manualPrefactors", data=bad)
    with pytest.raises(MDFError, match="_manualPrefactors"):
        read_system_matrix(file_3d)
    assert "mixing_orders_error" in inspect(file_3d)["sequence"]
