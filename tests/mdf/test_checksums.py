"""Checksums of written files: damage and edits are reported, never returned silently.

A seeded set of damaged copies of one written system matrix (bit flips inside the
data regions HDF5 reports, bit flips anywhere, zeroed blocks, swapped blocks,
truncation) must each be reported by ``validate`` or raise MDFError on
``read_system_matrix(verify=True)``, unless the damage left every value a reader can
get unchanged (bytes no object uses), which an independent h5py read confirms.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from mdf_neel.errors import MDFError
from mdf_neel.mdf import inspect, validate, write_measurement, write_system_matrix
from mdf_neel.mdf._checksums import ATTRIBUTE, ROOT_LIST, dataset_checksum
from mdf_neel.mdf.conversion import convert
from mdf_neel.mdf.reader import read_measurement, read_system_matrix
from tests.mdf._builders import make_truth, write_v2
from tests.mdf._writer_cases import make_measurement, make_sm

#: Damaged copies per kind; the seed fixes them.
COPIES = {"flip-data": 45, "flip-any": 20, "zero": 25, "swap": 20, "truncate": 10}
SEED = 20240611


def _contents(path) -> dict:
    """Every dataset's type, shape and values read with plain h5py (no mdf_neel code)."""
    out = {}
    with h5py.File(path, "r") as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                value = obj[()]
                if isinstance(value, np.ndarray) and value.dtype.kind == "O":
                    value = [bytes(v) if isinstance(v, bytes) else str(v) for v in value.ravel()]
                elif isinstance(value, np.ndarray):
                    value = value.tobytes()
                out[name] = (obj.dtype.str, obj.shape, value)

        f.visititems(visit)
    return out


def _same(a, b) -> bool:
    """Two read system matrices hold exactly the same numbers."""
    pairs = [
        (a.data, b.data),
        (a.background, b.background),
        (a.snr, b.snr),
        (a.frequency_indices, b.frequency_indices),
        (a.offset_fields_T, b.offset_fields_T),
        (a.receiver.transfer_function, b.receiver.transfer_function),
        (a.drive_field.strengths_T, b.drive_field.strengths_T),
        (a.field_of_view, b.field_of_view),
    ]
    return all(
        (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y, equal_nan=True))
        for x, y in pairs
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    rng = np.random.default_rng(SEED)
    sm = make_sm(rng, background=2, select=np.arange(5, 40), tf=True)
    path = Path(write_system_matrix(tmp_path_factory.mktemp("ck") / "sm.mdf", sm))
    regions = {}
    with h5py.File(path, "r") as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.id.get_offset() is not None:
                regions["/" + name] = (obj.id.get_offset(), obj.id.get_storage_size())

        f.visititems(visit)
    return path, read_system_matrix(path), _contents(path), regions


def _damaged_copies(raw: bytes, regions: dict):
    """(kind, description, bytes, dataset or None) for the seeded damaged copies."""
    rng = np.random.default_rng(SEED)
    n = len(raw)
    names = sorted(regions)
    for i in range(COPIES["flip-data"]):
        # every stamped dataset gets hit; /measurement/data every third copy
        name = "/measurement/data" if i % 3 == 0 else names[rng.integers(len(names))]
        offset, size = regions[name]
        at = int(offset + rng.integers(size))
        bit = int(rng.integers(8))
        b = bytearray(raw)
        b[at] ^= 1 << bit
        yield "flip-data", f"{name} byte {at} bit {bit}", bytes(b), name
    for _ in range(COPIES["flip-any"]):
        at, bit = int(rng.integers(n)), int(rng.integers(8))
        b = bytearray(raw)
        b[at] ^= 1 << bit
        yield "flip-any", f"byte {at} bit {bit}", bytes(b), None
    for _ in range(COPIES["zero"]):
        length = int(rng.integers(1, 512))
        at = int(rng.integers(n - length))
        b = bytearray(raw)
        b[at : at + length] = bytes(length)
        yield "zero", f"{length} bytes at {at}", bytes(b), None
    for _ in range(COPIES["swap"]):
        length = int(rng.integers(8, 512))
        a0, a1 = sorted(int(x) for x in rng.choice(n // length, size=2, replace=False) * length)
        b = bytearray(raw)
        b[a0 : a0 + length], b[a1 : a1 + length] = raw[a1 : a1 + length], raw[a0 : a0 + length]
        yield "swap", f"{length} bytes at {a0} <-> {a1}", bytes(b), None
    for _ in range(COPIES["truncate"]):
        cut = int(rng.integers(1, n))
        yield "truncate", f"cut at {cut} of {n}", raw[:cut], None


def test_every_damaged_copy_is_reported_or_unchanged(written, tmp_path):
    path, original, contents, regions = written
    raw = path.read_bytes()
    tally = {"reported": 0, "unchanged": 0}
    for kind, what, data, dataset in _damaged_copies(raw, regions):
        if data == raw:
            continue  # a swap of two equal blocks
        copy = tmp_path / "copy.mdf"
        copy.write_bytes(data)
        label = f"{kind}: {what}"
        problems = validate(copy)  # must not raise
        try:
            back = read_system_matrix(copy, verify=True)
        except MDFError as exc:
            assert "copy.mdf" in str(exc), label
            back = None
        if back is not None:
            # verified: the numbers are the ones written
            assert _same(back, original), label
        if dataset is not None:
            # damage inside a stamped dataset's values: named by validate and by the reader
            assert any(p.startswith(f"{dataset}: ") for p in problems), (label, problems)
            assert back is None, label
        if problems or back is None:
            tally["reported"] += 1
            continue
        # neither validate nor the verifying reader objects: every value must be unchanged
        try:
            after = _contents(copy)
        except Exception as exc:  # noqa: BLE001 - an unreadable object here is a missed report
            pytest.fail(f"{label}: reported clean but plain h5py cannot read it: {exc}")
        assert after == contents, label
        assert _same(read_system_matrix(copy), original), label
        tally["unchanged"] += 1
    # most damage lands in used bytes; a run where little was reported tests nothing
    assert tally["reported"] >= COPIES["flip-data"] + COPIES["truncate"], tally


def test_damaged_string_heap_is_refused_not_read(written, tmp_path):
    """Two heap defects on which the HDF5 library hangs or allocates gigabytes."""
    path = written[0]
    raw = path.read_bytes()
    heap = raw.index(b"GCOL")
    looping = bytearray(raw)
    looping[heap + 16 : heap + 16 + 256] = bytes(256)  # a free-space entry of size 0: endless parse
    with h5py.File(path, "r") as f:
        at = f["study/uuid"].id.get_offset()
    huge = bytearray(raw)
    huge[at : at + 4] = (3 * 2**30).to_bytes(4, "little")  # one string of 3 GiB
    for data, dataset, text in (
        (looping, "/version", "malformed object list"),
        (huge, "/study/uuid", "declares 3221225472 bytes"),
    ):
        copy = tmp_path / "heap.mdf"
        copy.write_bytes(bytes(data))
        assert any(p.startswith(f"{dataset}: ") and text in p for p in validate(copy)), text
        with pytest.raises(MDFError, match=text) as info:
            read_system_matrix(copy)
        assert info.value.dataset == dataset
        summary = inspect(copy)  # returns, showing an unreadable string as missing
        assert summary["path"] == str(copy) and (summary["version"] is None) == (dataset == "/version")


def test_undamaged_file_validates_clean_and_verifies(written):
    path, original, _, _ = written
    assert validate(path) == []
    assert _same(read_system_matrix(path, verify=True), original)
    with h5py.File(path, "r") as f:
        stamped = []
        f.visititems(lambda n, o: stamped.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        assert all(len(f[n].attrs[ATTRIBUTE]) == 64 for n in stamped)
        assert sorted(p.decode() for p in f.attrs[ROOT_LIST]) == sorted(stamped)
        # attributes leave the layout alone: the data stay contiguous for memory mapping
        plist = f["measurement/data"].id.get_create_plist()
        assert plist.get_layout() == h5py.h5d.CONTIGUOUS and plist.get_nfilters() == 0


def test_file_without_checksums_validates_and_reads(tmp_path, rng):
    t = make_truth(rng, E=2)
    path = write_v2(tmp_path / "plain.mdf", t, selection=[1, 2, 5], tf=True)
    with h5py.File(path, "r") as f:
        assert ATTRIBUTE not in f["measurement/data"].attrs and ROOT_LIST not in f.attrs
    assert validate(path, advisory=False) == []
    sm = read_system_matrix(path, verify=True)
    np.testing.assert_allclose(sm.data, t["fg"][0][:, [1, 2, 5]], rtol=1e-6)


def _copy(path, tmp_path, name):
    out = tmp_path / name
    out.write_bytes(path.read_bytes())
    return out


def _set_value(name, index, value):
    def edit(f):
        f[name][index] = value

    return edit


def _replace_same(name):
    def edit(f):
        value = f[name][()]
        del f[name]
        f[name] = value  # same values, but the new dataset carries no checksum

    return edit


def _rename(old, new):
    def edit(f):
        f.move(old, new)

    return edit


EDITS = {
    "one data value": (_set_value("measurement/data", (0, 1, 3, 4), 1 + 2j), [("/measurement/data", "mismatch")]),
    "one snr value": (_set_value("calibration/snr", (0, 0, 0), 1e9), [("/calibration/snr", "mismatch")]),
    "string": (_set_value("scanner/name", (), "other"), [("/scanner/name", "mismatch")]),
    "recreated": (_replace_same("calibration/size"), [("/calibration/size", "is listed in")]),
    "renamed": (
        _rename("calibration/_snrMethod", "calibration/_snrRule"),
        [("/calibration/_snrMethod", "is listed in"), ("/calibration/_snrRule", "is not listed")],
    ),
    "checksum removed": (
        lambda f: f["acquisition/numFrames"].attrs.__delitem__(ATTRIBUTE),
        [("/acquisition/numFrames", "is listed in")],
    ),
    "bad checksum text": (
        lambda f: f["acquisition/numFrames"].attrs.__setitem__(ATTRIBUTE, "x"),
        [("/acquisition/numFrames", "not a SHA-256")],
    ),
}


@pytest.mark.parametrize("case", sorted(EDITS))
def test_edit_after_writing_is_detected(written, tmp_path, case):
    edit, expected = EDITS[case]
    path = _copy(written[0], tmp_path, "edited.mdf")
    with h5py.File(path, "r+") as f:
        edit(f)
    problems = validate(path)
    for dataset, text in expected:
        assert any(p.startswith(f"{dataset}: ") and text in p for p in problems), (dataset, problems)
    dataset, text = expected[0]
    with pytest.raises(MDFError, match=text) as info:
        read_system_matrix(path, verify=True)
    assert info.value.dataset == dataset and "edited.mdf" in str(info.value)
    read_system_matrix(path)  # without verify the reader does not look at checksums


def test_measurement_checksums(tmp_path, rng):
    meas = make_measurement(rng, frames=5)
    path = Path(write_measurement(tmp_path / "meas.mdf", meas))
    assert validate(path) == []
    np.testing.assert_array_equal(read_measurement(path, verify=True).data, meas.data)
    with h5py.File(path, "r+") as f:
        f["measurement/data"][0, 0, 0, 0] = 0
    with pytest.raises(MDFError, match="checksum mismatch") as info:
        read_measurement(path, verify=True)
    assert info.value.dataset == "/measurement/data"


def test_convert_stamps_its_output_and_refuses_damaged_input(written, tmp_path):
    path = written[0]
    for options in ({}, {"max_frequency_Hz": 40e3}, {"recompress": 0.5}):
        out = convert(path, tmp_path / "out.mdf", **options)
        assert validate(out) == [], options
        with h5py.File(out, "r") as f:
            stored = f["measurement/data"].attrs[ATTRIBUTE].decode()
            assert stored == dataset_checksum(f["measurement/data"]), options
    # a foreign file gets checksums on conversion
    plain = write_v2(tmp_path / "plain.mdf", make_truth(np.random.default_rng(3), E=1))
    with h5py.File(convert(plain, tmp_path / "stamped.mdf"), "r") as f:
        assert ROOT_LIST in f.attrs and ATTRIBUTE in f["version"].attrs
    damaged = _copy(path, tmp_path, "damaged.mdf")
    with h5py.File(damaged, "r+") as f:
        f["calibration/snr"][0, 0, 1] = 123.0
    for options in ({}, {"max_frequency_Hz": 40e3}):
        with pytest.raises(MDFError, match="checksum mismatch"):
            convert(damaged, tmp_path / "laundered.mdf", **options)
        assert not (tmp_path / "laundered.mdf").exists()


def test_checksum_covers_type_shape_and_slabs(tmp_path, monkeypatch):
    from mdf_neel.mdf import _checksums

    with h5py.File(tmp_path / "t.h5", "w") as f:
        a = f.create_dataset("a", data=np.arange(24.0).reshape(2, 3, 4))
        whole = dataset_checksum(a)
        monkeypatch.setattr(_checksums, "SLAB_BYTES", 40)  # 5 doubles: slabs split the last axis
        assert dataset_checksum(a) == whole
        b = f.create_dataset("b", data=np.arange(24.0).reshape(4, 6))
        c = f.create_dataset("c", data=np.arange(24.0).reshape(2, 3, 4).astype(">f8"))
        assert len({whole, dataset_checksum(b), dataset_checksum(c)}) == 3
