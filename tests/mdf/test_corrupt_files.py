"""Bad input: every defect ends in MDFError naming the file and the dataset."""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdf_neel.errors import MDFError
from mdf_neel.mdf.conversion import convert
from mdf_neel.mdf.reader import read_measurement, read_system_matrix
from tests.mdf._builders import make_truth, write_v2


@pytest.fixture
def good(tmp_path, rng):
    return write_v2(tmp_path / "good.mdf", make_truth(rng, E=2), permutation=True, selection=[1, 2, 5], tf=True)


def _edit(path, fn):
    with h5py.File(path, "a") as f:
        fn(f)
    return path


def _replace(name, value):
    def fn(f):
        del f[name]
        f[name] = value

    return fn


CASES = {
    "missing data": (lambda f: f.__delitem__("measurement/data"), "/measurement/data", "missing"),
    "missing numSamplingPoints": (
        lambda f: f.__delitem__("acquisition/receiver/numSamplingPoints"),
        "/acquisition/receiver/numSamplingPoints",
        "missing",
    ),
    "missing flag": (
        lambda f: f.__delitem__("measurement/isFourierTransformed"),
        "/measurement/isFourierTransformed",
        "missing",
    ),
    "string for int": (
        _replace("acquisition/receiver/numSamplingPoints", "34"),
        "/acquisition/receiver/numSamplingPoints",
        "expected an integer",
    ),
    "real data with FT=1": (_replace("measurement/data", np.zeros((1, 2, 3, 14))), "/measurement/data", "complex"),
    "wrong channel count": (
        _replace("acquisition/receiver/numChannels", np.int64(3)),
        "/measurement/data",
        "numChannels = 3",
    ),
    "numFrames vs data": (_replace("acquisition/numFrames", np.int64(13)), "/acquisition/numFrames", "expected N = 14"),
    "size vs foreground": (_replace("calibration/size", np.array([5, 3, 1])), "/calibration/size", "12 foreground"),
    "0-based frequencySelection": (
        _replace("measurement/frequencySelection", np.array([0, 1, 4])),
        "/measurement/frequencySelection",
        "1-based",
    ),
    "out-of-range frequencySelection": (
        _replace("measurement/frequencySelection", np.array([1, 2, 99])),
        "/measurement/frequencySelection",
        "[1, 18]",
    ),
    "0-based framePermutation": (
        _replace("measurement/framePermutation", np.arange(14)),
        "/measurement/framePermutation",
        "1-based",
    ),
    "framePermutation not a permutation": (
        _replace("measurement/framePermutation", np.ones(14, np.int64)),
        "/measurement/framePermutation",
        "permutation",
    ),
    "flag value 2": (
        _replace("measurement/isBackgroundFrame", np.full(14, 2, np.int8)),
        "/measurement/isBackgroundFrame",
        "0 or 1",
    ),
    "absurd numSamplingPoints": (
        _replace("acquisition/receiver/numSamplingPoints", np.int64(10**15)),
        "/acquisition/receiver/numSamplingPoints",
        "<=",
    ),
    "vector for scalar": (
        _replace("acquisition/receiver/bandwidth", np.ones(3)),
        "/acquisition/receiver/bandwidth",
        "scalar",
    ),
    "snr shape": (_replace("calibration/snr", np.ones((1, 2, 4))), "/calibration/snr", "(J, C, K)"),
    "tf shape": (
        _replace("acquisition/receiver/transferFunction", np.ones((2, 4), np.complex64)),
        "/acquisition/receiver/transferFunction",
        "(C, K)",
    ),
    "group for dataset": (
        lambda f: (f.__delitem__("measurement/data"), f.create_group("measurement/data")),
        "/measurement/data",
        "expected a dataset",
    ),
    "version 3": (_replace("version", "3.0.0"), "/version", "v1 and v2"),
    "bad version": (_replace("version", "latest"), "/version", "version number"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_defect_raises_mdferror_naming_file_and_dataset(good, case):
    fn, dataset, text = CASES[case]
    path = _edit(good, fn)
    with pytest.raises(MDFError) as info:
        read_system_matrix(path)
    err = info.value
    assert err.path and err.path.endswith("good.mdf")
    assert err.dataset == dataset
    assert text in str(err)
    assert "good.mdf" in str(err) and dataset in str(err)


def test_not_hdf5_and_truncated(tmp_path, good):
    junk = tmp_path / "junk.mdf"
    junk.write_bytes(b"\x89HDF\r\n" + b"x" * 100)
    for path in (junk, tmp_path / "absent.mdf"):
        with pytest.raises(MDFError, match=path.name):
            read_system_matrix(path)
    raw = good.read_bytes()
    for cut in (10, len(raw) // 3, len(raw) - 1):
        part = tmp_path / f"cut{cut}.mdf"
        part.write_bytes(raw[:cut])
        with pytest.raises(MDFError, match=part.name):
            read_system_matrix(part)


def test_external_link_and_foreign_virtual_dataset(tmp_path, good):
    other = tmp_path / "other.h5"
    with h5py.File(good) as f, h5py.File(other, "w") as o:
        o["data"] = f["measurement/data"][()]
        o["n"] = np.int64(34)
        shape, dtype = f["measurement/data"].shape, f["measurement/data"].dtype

    def link(f):
        del f["measurement/data"]
        f["measurement/data"] = h5py.ExternalLink(str(other), "/data")

    with pytest.raises(MDFError, match="external link"):
        read_system_matrix(_edit(good, link))

    def virtual(f):
        del f["measurement/data"]
        layout = h5py.VirtualLayout(shape, dtype)
        layout[...] = h5py.VirtualSource(str(other), "data", shape=shape)
        f.create_virtual_dataset("measurement/data", layout)

    with pytest.raises(MDFError, match="virtual dataset"):
        read_system_matrix(_edit(good, virtual))
    with pytest.raises(MDFError, match="external link|virtual"):
        convert(good, tmp_path / "out.mdf")
    assert not (tmp_path / "out.mdf").exists()


def test_external_raw_storage_and_absurd_declared_shape(tmp_path, good):
    (tmp_path / "raw.bin").write_bytes(b"\0" * 8)
    second = tmp_path / "second.mdf"
    second.write_bytes(good.read_bytes())

    def external(f):
        del f["acquisition/receiver/numChannels"]
        f.create_dataset(
            "acquisition/receiver/numChannels", shape=(1,), dtype=np.int64, external=[(str(tmp_path / "raw.bin"), 0, 8)]
        )

    with pytest.raises(MDFError, match="external"):
        read_system_matrix(_edit(good, external))

    def huge(f):
        del f["measurement/data"]
        f.create_dataset("measurement/data", shape=(1, 2, 3, 2**40), dtype=np.complex64, chunks=(1, 1, 1, 1024))

    with pytest.raises(MDFError, match="sanity cap"):
        read_system_matrix(_edit(second, huge))


def test_sparse_defects(tmp_path, rng):
    t = make_truth(rng, E=1, grid=(4, 3, 1), sparse=("DCT-IV", 2))
    for name, value, text in [
        ("measurement/subsamplingIndices", np.zeros((1, 2, 18, 2), np.int32), "1-based"),
        ("measurement/subsamplingIndices", np.full((1, 2, 18, 2), 13, np.int32), "[1, 12]"),
        ("measurement/subsamplingIndices", np.ones((1, 2, 18, 2), np.int32), "repeated"),
        ("measurement/sparsityTransformation", "wavelet", "DCT"),
        ("measurement/isBackgroundFrame", np.zeros(7, np.int8), "B + E"),
    ]:
        path = write_v2(tmp_path / "s.mdf", t)
        _edit(path, _replace(name, value))
        with pytest.raises(MDFError, match=re.escape(text)) as info:
            read_system_matrix(path)
        assert info.value.dataset == "/" + name


# --- property-based: random structural damage never escapes as another exception ----------
_VALUES = st.one_of(
    st.sampled_from(
        [
            np.int64(-5),
            np.int64(0),
            np.int64(1),
            np.int64(2),
            np.int64(10**15),
            np.int8(3),
            np.float64(np.nan),
            np.float64(-1.0),
            np.float64(np.inf),
            "x",
            "2.1.0",
            b"\xff\xfe",
        ]
    ),
    st.builds(
        lambda shape, kind: np.zeros(shape, dtype=kind),
        st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple),
        st.sampled_from([np.int8, np.int64, np.float64, np.complex64, np.uint8]),
    ),
)
_OPS = st.lists(
    st.tuples(st.sampled_from(["delete", "replace", "group"]), st.integers(0, 10**6), _VALUES),
    min_size=1,
    max_size=3,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS, truncate=st.one_of(st.none(), st.floats(0.0, 0.999)))
def test_random_damage_only_raises_mdferror(tmp_path_factory, ops, truncate):
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("h") / "f.mdf"
    write_v2(path, make_truth(rng, E=2, grid=(3, 2, 1)), selection=[1, 3, 4], permutation=True, tf=True)
    with h5py.File(path, "a") as f:
        for op, pick, value in ops:
            names = []
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            if not names:
                break
            name = names[pick % len(names)]
            del f[name]
            if op == "replace":
                f[name] = value
            elif op == "group":
                f.create_group(name)
    if truncate is not None:
        raw = path.read_bytes()
        path.write_bytes(raw[: int(truncate * len(raw))])
    for reader in (read_system_matrix, read_measurement):
        try:
            reader(path)
        except MDFError as exc:
            assert "f.mdf" in str(exc)
