"""Every validator check fires on a file that violates it (bad files made with raw h5py)."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf._checksums import ROOT_LIST
from mdf_neel.mdf import validate, write_system_matrix
from tests.mdf._writer_cases import make_sm

M = "measurement/"
DF = "acquisition/drivefield/"
RX = "acquisition/receiver/"
CAL = "calibration/"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A conformant file with frequency selection, 2 background frames and a transfer function."""
    path = tmp_path_factory.mktemp("good") / "good.mdf"
    write_system_matrix(path, make_sm(np.random.default_rng(3), background=2, select=np.arange(5, 40), tf=True))
    return path


def rep(f, name, value, **kw):
    """Replace dataset ``name`` by ``value`` (raw h5py)."""
    if name in f:
        del f[name]
    f.create_dataset(name, data=value, **kw)


def strs(values):
    return dict(dtype=h5py.string_dtype()) if not isinstance(values, str) else {}


def _chunked_data(f):
    d = f[M + "data"][()]
    del f[M + "data"]
    f.create_dataset(M + "data", data=d, chunks=(1, 1, 5, 22))


def _big_endian_data(f):
    d = f[M + "data"][()]
    rep(f, M + "data", d.astype(d.dtype.newbyteorder(">")))


def _renamed_compound(f):
    d = f[M + "data"][()]
    rep(f, M + "data", d.view(np.dtype([("re", "<f4"), ("im", "<f4")])).reshape(d.shape))


def _unallocated_data(f):
    d = f[M + "data"]
    shape, dtype = d.shape, d.dtype
    del f[M + "data"]
    f.create_dataset(M + "data", shape=shape, dtype=dtype)


def _bg_first(f):
    rep(f, M + "isFramePermutation", np.int8(1))
    rep(f, M + "framePermutation", np.arange(1, 23, dtype=np.int64))
    bgf = np.zeros(22, np.int8)
    bgf[0] = 1
    bgf[-1] = 1
    rep(f, M + "isBackgroundFrame", bgf)


def _sparse(**over):
    def apply(f):
        rep(f, M + "isSparsityTransformed", np.int8(1))
        rep(f, M + "sparsityTransformation", over.get("transform", "DCT-IV"))
        idx = np.tile(np.arange(1, 21, dtype=np.int64), (1, 2, 35, 1))
        if "idx" in over:
            idx = over["idx"](idx)
        rep(f, M + "subsamplingIndices", idx)
        if over.get("slow"):
            rep(f, M + "isFastFrameAxis", np.int8(0))

    return apply


# (id, mutation, substring expected in one problem line)
BAD = [
    ("version-old", lambda f: rep(f, "version", "1.0.5"), "/version: must be MDF version 2"),
    ("version-array", lambda f: rep(f, "version", ["2.1.0"], **strs([])), "/version: must be a scalar"),
    ("version-missing", lambda f: f.__delitem__("version"), "/version: required dataset is missing"),
    ("uuid-upper", lambda f: rep(f, "uuid", "6F1C3B2A-0D4E-4F5A-8B6C-7D8E9F0A1B2C"), "/uuid: must be a canonical"),
    ("study-uuid", lambda f: rep(f, "study/uuid", "1234"), "/study/uuid: must be a canonical"),
    (
        "experiment-uuid",
        lambda f: rep(f, "experiment/uuid", "{6f1c3b2a-0d4e-4f5a-8b6c-7d8e9f0a1b2c}"),
        "/experiment/uuid",
    ),
    ("time-zone", lambda f: rep(f, "time", "2024-01-02T03:04:05.000Z"), "/time: must be UTC"),
    (
        "start-6-digits",
        lambda f: rep(f, "acquisition/startTime", "2024-01-02T03:04:05.123456"),
        "/acquisition/startTime",
    ),
    ("study-time", lambda f: rep(f, "study/time", "2024-01-02 03:04:05"), "/study/time"),
    (
        "injection-time",
        lambda f: rep(f, "tracer/injectionTime", ["2024-01-02T03:04:05+00:00"], **strs([])),
        "/tracer/injectionTime",
    ),
    ("group-missing", lambda f: f.__delitem__("scanner"), "/scanner: required group is missing"),
    ("receiver-missing", lambda f: f.__delitem__("acquisition/receiver"), "/acquisition/receiver: required group"),
    ("tracer-missing", lambda f: f.__delitem__("tracer"), "/tracer: group is missing"),
    ("string-as-int", lambda f: rep(f, "scanner/name", np.int64(3)), "/scanner/name: must be an HDF5 string"),
    ("string-missing", lambda f: f.__delitem__("experiment/subject"), "/experiment/subject: required dataset"),
    ("unit-array", lambda f: rep(f, RX + "unit", ["V"], **strs([])), "/acquisition/receiver/unit: must be a scalar"),
    ("number-int32", lambda f: rep(f, "study/number", np.int32(3)), "/study/number: must be int64"),
    (
        "numFrames-array",
        lambda f: rep(f, "acquisition/numFrames", np.array([22])),
        "/acquisition/numFrames: must be a scalar",
    ),
    (
        "numAverages-0",
        lambda f: rep(f, "acquisition/numAverages", np.int64(0)),
        "/acquisition/numAverages: must be >= 1",
    ),
    ("V-0", lambda f: rep(f, RX + "numSamplingPoints", np.int64(0)), "numSamplingPoints: must be >= 1"),
    (
        "baseFrequency-neg",
        lambda f: rep(f, DF + "baseFrequency", -2.5e6),
        "/acquisition/drivefield/baseFrequency: must be",
    ),
    (
        "cycle-float32",
        lambda f: rep(f, DF + "cycle", np.float32(6.528e-4)),
        "/acquisition/drivefield/cycle: must be float64",
    ),
    ("bandwidth-0", lambda f: rep(f, RX + "bandwidth", 0.0), "/acquisition/receiver/bandwidth: must be"),
    (
        "isSimulation-2",
        lambda f: rep(f, "experiment/isSimulation", np.int8(2)),
        "/experiment/isSimulation: must be 0 or 1",
    ),
    ("isSimulation-bool", lambda f: rep(f, "experiment/isSimulation", np.bool_(True)), "enum/bool"),
    (
        "simulation-not-flagged",
        lambda f: (rep(f, "calibration/method", "simulation"), rep(f, "experiment/isSimulation", np.int8(0))),
        "must be 1 because /calibration/method",
    ),
    ("tracer-lengths", lambda f: rep(f, "tracer/volume", np.zeros(2)), "/tracer: all fields must have the same length"),
    ("tracer-scalar", lambda f: rep(f, "tracer/name", "x"), "/tracer/name: must be 1-D"),
    (
        "tracer-conc-int",
        lambda f: rep(f, "tracer/concentration", np.array([1])),
        "/tracer/concentration: must be float64",
    ),
    (
        "divider-D",
        lambda f: rep(f, DF + "divider", np.array([[102, 96]])),
        "/acquisition/drivefield/divider: must have shape (D, F)",
    ),
    (
        "divider-0",
        lambda f: rep(f, DF + "divider", np.array([[0], [96]])),
        "/acquisition/drivefield/divider: all entries",
    ),
    ("divider-float", lambda f: rep(f, DF + "divider", np.array([[102.0], [96.0]])), "divider: must be int64"),
    (
        "strength-shape",
        lambda f: rep(f, DF + "strength", np.ones((1, 2, 2))),
        "/acquisition/drivefield/strength: must have shape",
    ),
    ("strength-neg", lambda f: rep(f, DF + "strength", -np.ones((1, 2, 1))), "all strengths must be >= 0"),
    ("phase-pi", lambda f: rep(f, DF + "phase", np.full((1, 2, 1), np.pi)), "all phases must lie in [-π, π)"),
    ("phase-2d", lambda f: rep(f, DF + "phase", np.zeros((2, 1))), "/acquisition/drivefield/phase: must be 3-D"),
    (
        "waveform-1d",
        lambda f: rep(f, DF + "waveform", ["sine", "sine"], **strs([])),
        "/acquisition/drivefield/waveform: must be 2-D",
    ),
    ("waveform-scalar", lambda f: rep(f, DF + "waveform", "sine"), "/acquisition/drivefield/waveform: must be 2-D"),
    ("waveform-value", lambda f: rep(f, DF + "waveform", [["square"], ["sine"]], **strs([])), "entries must be one of"),
    (
        "gradient-shape",
        lambda f: rep(f, "acquisition/gradient", np.zeros((1, 1, 3))),
        "/acquisition/gradient: must be 4-D",
    ),
    (
        "offsetField-JY",
        lambda f: rep(f, "acquisition/offsetField", np.zeros((2, 1, 3))),
        "/acquisition/offsetField: J, Y",
    ),
    (
        "dcf-shape",
        lambda f: rep(f, RX + "dataConversionFactor", np.ones((3, 2))),
        "dataConversionFactor: must have shape",
    ),
    ("induction-shape", lambda f: rep(f, RX + "inductionFactor", np.ones(3)), "inductionFactor: must have shape"),
    (
        "tf-K",
        lambda f: rep(f, RX + "transferFunction", np.ones((2, 817), complex)),
        "transferFunction: must have shape (C, K)",
    ),
    (
        "tf-real",
        lambda f: rep(f, RX + "transferFunction", np.ones((2, 35))),
        "transferFunction: must be the complex compound",
    ),
    (
        "flag-missing",
        lambda f: f.__delitem__(M + "isSpectralLeakageCorrected"),
        "/measurement/isSpectralLeakageCorrected: required",
    ),
    (
        "flag-bool",
        lambda f: rep(f, M + "isBackgroundCorrected", np.bool_(False)),
        "/measurement/isBackgroundCorrected: must be int8, found an HDF5 enum",
    ),
    (
        "flag-2",
        lambda f: rep(f, M + "isTransferFunctionCorrected", np.int8(2)),
        "isTransferFunctionCorrected: must be 0 or 1",
    ),
    (
        "flag-array",
        lambda f: rep(f, M + "isFourierTransformed", np.array([1], np.int8)),
        "isFourierTransformed: must be a scalar",
    ),
    ("flag-int64", lambda f: rep(f, M + "isFastFrameAxis", np.int64(1)), "/measurement/isFastFrameAxis: must be int8"),
    ("isTransposed", lambda f: rep(f, M + "isTransposed", np.int8(1)), "/measurement/isTransposed: must not exist"),
    (
        "bgframe-values",
        lambda f: rep(f, M + "isBackgroundFrame", np.full(22, 2, np.int8)),
        "isBackgroundFrame: values must be 0 or 1",
    ),
    (
        "bgframe-int64",
        lambda f: rep(f, M + "isBackgroundFrame", np.zeros(22, np.int64)),
        "isBackgroundFrame: must be int8",
    ),
    (
        "bgframe-length",
        lambda f: rep(f, M + "isBackgroundFrame", np.zeros(21, np.int8)),
        "isBackgroundFrame: length 21",
    ),
    ("data-chunked", _chunked_data, "/measurement/data: must have contiguous layout"),
    ("data-big-endian", _big_endian_data, "/measurement/data: must be little-endian"),
    ("data-compound-names", _renamed_compound, "members ['r', 'i']"),
    ("data-unallocated", _unallocated_data, "/measurement/data: storage is not allocated"),
    ("data-real-with-FT", lambda f: rep(f, M + "data", np.ones((1, 2, 35, 22))), "must be the complex compound {r, i}"),
    (
        "data-complex-without-FT",
        lambda f: rep(f, M + "isFourierTransformed", np.int8(0)),
        "must have a real integer or float type",
    ),
    ("data-3d", lambda f: rep(f, M + "data", np.ones((2, 35, 22), np.complex64)), "/measurement/data: must be 4-D"),
    ("data-missing", lambda f: f.__delitem__(M + "data"), "/measurement/data: required dataset is missing"),
    ("J-mismatch", lambda f: rep(f, "acquisition/numPeriodsPerFrame", np.int64(2)), "differs from numPeriodsPerFrame"),
    ("C-mismatch", lambda f: rep(f, RX + "numChannels", np.int64(3)), "differs from receiver/numChannels"),
    ("slow-axis-shape", lambda f: rep(f, M + "isFastFrameAxis", np.int8(0)), "in layout (N, J, C, X)"),
    ("numFrames", lambda f: rep(f, "acquisition/numFrames", np.int64(21)), "/acquisition/numFrames: = 21 differs"),
    (
        "K-without-selection",
        lambda f: rep(f, M + "isFrequencySelection", np.int8(0)),
        "expected numSamplingPoints//2 + 1 = 817",
    ),
    (
        "time-domain-X",
        lambda f: (
            rep(f, M + "isFourierTransformed", np.int8(0)),
            rep(f, M + "data", np.ones((1, 2, 35, 22), np.float32)),
        ),
        "expected numSamplingPoints = 1632",
    ),
    (
        "selection-missing",
        lambda f: f.__delitem__(M + "frequencySelection"),
        "frequencySelection: required dataset is missing",
    ),
    (
        "selection-order",
        lambda f: rep(f, M + "frequencySelection", np.arange(40, 5, -1)),
        "must be strictly increasing",
    ),
    ("selection-0-based", lambda f: rep(f, M + "frequencySelection", np.arange(0, 35)), "values must lie in [1, 817]"),
    (
        "selection-length",
        lambda f: rep(f, M + "frequencySelection", np.arange(1, 30)),
        "frequencySelection: must have length X = 35",
    ),
    (
        "selection-int32",
        lambda f: rep(f, M + "frequencySelection", np.arange(6, 41, dtype=np.int32)),
        "frequencySelection: must be int64",
    ),
    (
        "permutation-missing",
        lambda f: rep(f, M + "isFramePermutation", np.int8(1)),
        "framePermutation: required dataset is missing",
    ),
    (
        "permutation-0-based",
        lambda f: (rep(f, M + "isFramePermutation", np.int8(1)), rep(f, M + "framePermutation", np.arange(22))),
        "must be a permutation of 1..22",
    ),
    ("sparse-slow-axis", _sparse(slow=True), "requires isFourierTransformed = 1 and isFastFrameAxis = 1"),
    ("sparse-dct1", _sparse(transform="DCT-I"), "sparsityTransformation: must be one of"),
    (
        "sparse-missing-indices",
        lambda f: rep(f, M + "isSparsityTransformed", np.int8(1)),
        "subsamplingIndices: required",
    ),
    ("sparse-indices-range", _sparse(idx=lambda i: i + 5), "values must lie in 1..prod(/calibration/size) = 20"),
    ("sparse-indices-dup", _sparse(idx=lambda i: np.where(i == 2, 1, i)), "unique along the last axis"),
    ("sparse-indices-shape", _sparse(idx=lambda i: i[..., :10]), "subsamplingIndices: must have shape (J, C, K, B)"),
    ("method-missing", lambda f: f.__delitem__(CAL + "method"), "/calibration/method: required dataset is missing"),
    (
        "size-product",
        lambda f: rep(f, CAL + "size", np.array([5, 5, 1])),
        "prod(size) = 25 differs from the 20 foreground",
    ),
    ("size-float", lambda f: rep(f, CAL + "size", np.array([5.0, 4.0, 1.0])), "/calibration/size: must be int64"),
    ("size-zero", lambda f: rep(f, CAL + "size", np.array([20, 1, 0])), "/calibration/size: all entries must be >= 1"),
    ("size-missing", lambda f: f.__delitem__(CAL + "size"), "/calibration/size: required dataset is missing"),
    ("fov-missing", lambda f: f.__delitem__(CAL + "fieldOfView"), "/calibration/fieldOfView: required dataset"),
    ("center-missing", lambda f: f.__delitem__(CAL + "fieldOfViewCenter"), "/calibration/fieldOfViewCenter: required"),
    ("fov-zero", lambda f: rep(f, CAL + "fieldOfView", np.zeros(3)), "must be > 0 on axes with size > 1"),
    ("fov-shape", lambda f: rep(f, CAL + "fieldOfView", np.ones(2)), "/calibration/fieldOfView: must have shape (3,)"),
    ("snr-missing", lambda f: f.__delitem__(CAL + "snr"), "/calibration/snr: required dataset is missing"),
    (
        "snr-nan",
        lambda f: rep(f, CAL + "snr", np.full((1, 2, 35), np.nan)),
        "/calibration/snr: must be finite and >= 0",
    ),
    ("snr-negative", lambda f: rep(f, CAL + "snr", -np.ones((1, 2, 35))), "/calibration/snr: must be finite and >= 0"),
    ("snr-shape", lambda f: rep(f, CAL + "snr", np.ones((1, 2, 817))), "/calibration/snr: must have shape (J, C, K)"),
    (
        "offsets-shape",
        lambda f: rep(f, CAL + "offsetFields", np.zeros((19, 3))),
        "/calibration/offsetFields: must have shape (O, 3)",
    ),
    (
        "offsets-and-positions",
        lambda f: rep(f, CAL + "positions", np.zeros((20, 3))),
        "must not exist together with /calibration/offsetFields",
    ),
    (
        "delta-negative",
        lambda f: rep(f, CAL + "deltaSampleSize", -np.ones(3)),
        "/calibration/deltaSampleSize: must be >= 0",
    ),
    ("order", lambda f: rep(f, CAL + "order", "xxy"), "/calibration/order: must be one of"),
    ("bg-before-fg", _bg_first, "every foreground frame must precede every background frame"),
    (
        "custom-name",
        lambda f: rep(f, CAL + "isMeanderingGrid", np.int8(0)),
        "/calibration/isMeanderingGrid: is not an MDF v2.1 name",
    ),
    (
        "custom-group",
        lambda f: f.create_group("custom/auxiliaryData"),
        "/custom/auxiliaryData: is not an MDF v2.1 name",
    ),
    (
        "external-link",
        lambda f: f.__setitem__("_ext", h5py.ExternalLink("other.h5", "/x")),
        "/_ext: is an external link",
    ),
    ("reco-2d", lambda f: rep(f, "reconstruction/data", np.ones((2, 3))), "/reconstruction/data: must be 3-D"),
    (
        "reco-size",
        lambda f: (
            rep(f, "reconstruction/data", np.ones((1, 6, 1), np.float32)),
            rep(f, "reconstruction/size", np.array([2, 2, 1])),
        ),
        "prod(size) = 4 differs from P = 6",
    ),
]


def test_good_file_has_no_problems(good):
    assert validate(good) == []


@pytest.mark.parametrize("mutate, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_check_fires(good, tmp_path, mutate, expected):
    path = tmp_path / "bad.mdf"
    shutil.copy(good, path)
    with h5py.File(path, "r+") as f:
        mutate(f)
    problems = validate(path)
    assert any(expected in line for line in problems), problems
    assert not any("could not complete a check" in line for line in problems), problems


def test_underscore_names_are_allowed(good, tmp_path):
    path = tmp_path / "ok.mdf"
    shutil.copy(good, path)
    with h5py.File(path, "r+") as f:
        f["_mine/anything/goes"] = np.arange(3)
        f["calibration/_extra"] = "x"
    assert validate(path) == []


def test_file_name_suffix(good, tmp_path):
    path = tmp_path / "good.txt"
    shutil.copy(good, path)
    assert validate(path) == ["/: file name must end with .mdf, .h5, .hdf (MPIFiles dispatches on it)"]
    assert validate(path, check_name=False) == []


def test_advisory_cycle_mismatch(good, tmp_path):
    path = tmp_path / "adv.mdf"
    shutil.copy(good, path)
    with h5py.File(path, "r+") as f:
        del f.attrs[ROOT_LIST]  # unstamped, so that only the conformance lines remain
        rep(f, DF + "cycle", 1e-3)  # 2·1.25 MHz·1 ms = 2500 != V = 1632
    problems = validate(path)
    assert len(problems) == 1 and problems[0].startswith("advisory: /acquisition/receiver/numSamplingPoints")
    assert validate(path, advisory=False) == []


def test_one_line_per_problem_names_dataset(good, tmp_path):
    path = tmp_path / "two.mdf"
    shutil.copy(good, path)
    with h5py.File(path, "r+") as f:
        del f.attrs[ROOT_LIST]  # unstamped, so that only the conformance lines remain
        rep(f, "uuid", "x")
        rep(f, CAL + "order", "abc")
    problems = validate(path)
    assert len(problems) == 2
    assert problems[0].startswith("/uuid: ") and problems[1].startswith("/calibration/order: ")


@pytest.mark.parametrize("content", [b"", b"not hdf5 at all\n" * 10], ids=["empty", "text"])
def test_not_hdf5_gives_one_line(tmp_path, content):
    path = tmp_path / "x.mdf"
    path.write_bytes(content)
    problems = validate(path)
    assert len(problems) == 1 and "not an HDF5 file" in problems[0]


def test_missing_file(tmp_path):
    problems = validate(tmp_path / "nope.mdf")
    assert len(problems) == 1 and "no such file" in problems[0]


def test_corrupted_files_never_raise(good, tmp_path):
    """Truncations and byte flips: validate returns problem lines, never raises."""
    raw = good.read_bytes()
    rng = np.random.default_rng(7)
    for i, cut in enumerate([100, 1000, len(raw) // 2, len(raw) - 10]):
        p = tmp_path / f"t{i}.mdf"
        p.write_bytes(raw[:cut])
        problems = validate(p)
        assert problems and all(isinstance(s, str) for s in problems)
    for i in range(8):
        b = bytearray(raw)
        for pos in rng.integers(0, 4096, size=16):
            b[pos] ^= 0xFF
        p = tmp_path / f"f{i}.mdf"
        p.write_bytes(bytes(b))
        problems = validate(p)
        assert all(isinstance(s, str) for s in problems)


# --- CLI ---------------------------------------------------------------------------------
def test_cli_validate_exit_status(good, tmp_path, capsys):
    assert main(["validate", str(good)]) == 0
    assert capsys.readouterr().out.strip() == f"{good}: OK"
    bad = tmp_path / "bad.mdf"
    shutil.copy(good, bad)
    with h5py.File(bad, "r+") as f:
        rep(f, "version", "1.0.0")
    assert main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{good}: OK"
    assert out[1].startswith(f"{bad}: /version: ")
    assert main(["validate", "-q", str(good)]) == 0
    assert capsys.readouterr().out == ""
