"""Conformance checks for MDF v2.1 files (``mdf-neel validate``).

:func:`validate` runs every conformance check listed in ``docs/mdf-writing.md`` (from the
MDF specification, Knopp et al., arXiv:1602.06072, and what MPIFiles.jl needs) on an h5py
view of a file and returns one
readable line per problem, each naming the dataset concerned. It never raises for a
malformed file: a file that is not HDF5 gives a single problem line. The large
``/measurement/data`` is read only to verify the checksums of files written by
mdf_neel (:mod:`mdf_neel.mdf._checksums`); otherwise only its metadata (type, shape,
layout) is looked at.

Two levels: *errors* (the file violates MDF v2.1 or breaks MPIFiles/MPIReco) and
*advisories* (allowed by the spec but probably unintended, e.g.
``round(2·bandwidth·cycle) != numSamplingPoints``). ``validate(path)`` returns both;
advisory lines start with ``"advisory: "``; ``validate(path, advisory=False)`` only the
errors.
"""

from __future__ import annotations

import math
import os
import re

import h5py
import numpy as np

from . import schema
from ._checksums import checksum_problems
from ._heaps import vlen_problem

__all__ = ["validate", "check"]

_UUID = re.compile(schema.UUID_PATTERN)
_TIME = re.compile(schema.TIME_PATTERN)
_M = "/measurement/"
_MAX_NAME_LINES = 20


class _Checker:
    """Collects problems while walking one open file."""

    def __init__(self, f: h5py.File):
        self.f = f
        self.problems: list[tuple[str, str]] = []  # (level, line)
        self._values: dict = {}
        self.external: set = set()

    # --- reporting -------------------------------------------------------------------
    def error(self, where: str, message: str) -> None:
        self.problems.append(("error", f"{where}: {message}"))

    def advise(self, where: str, message: str) -> None:
        self.problems.append(("advisory", f"advisory: {where}: {message}"))

    # --- access ----------------------------------------------------------------------
    def obj(self, path: str):
        """The object at ``path`` or None (absent, external or unreadable)."""
        if any(path == e or path.startswith(e + "/") for e in self.external):
            return None
        try:
            return self.f.get(path)
        except Exception:  # noqa: BLE001 - a corrupt object counts as absent; reported by the walk
            return None

    def has(self, path: str) -> bool:
        return self.obj(path) is not None

    def dataset(self, path: str, *, required: bool = False, why: str = ""):
        o = self.obj(path)
        if o is None:
            if required:
                self.error(path, "required dataset is missing" + (f" ({why})" if why else ""))
            return None
        if not isinstance(o, h5py.Dataset):
            self.error(path, "is a group, expected a dataset")
            return None
        return o

    def typed(self, path: str, *, required: bool = False, why: str = ""):
        """The dataset if it has the schema's type and rank (problems reported), else None."""
        ds = self.dataset(path, required=required, why=why)
        if ds is None:
            return None
        field = schema.FIELDS[path]
        ok = _check_type(self, path, ds, field.dtype)
        if field.shape is not None:
            if field.is_scalar and ds.shape != ():
                self.error(path, f"must be a scalar (HDF5 scalar dataspace, h5py shape ()), found shape {ds.shape}")
                ok = False
            elif not field.is_scalar and (ds.shape is None or len(ds.shape) != len(field.shape)):
                self.error(path, f"must be {len(field.shape)}-D {_dims(field.shape)}, found shape {ds.shape}")
                ok = False
        return ds if ok else None

    def value(self, path: str, *, required: bool = False, why: str = ""):
        """Value of a small, correctly typed dataset (str for strings), else None."""
        if path in self._values:
            return self._values[path]
        ds = self.typed(path, required=required, why=why)
        v = None
        if ds is not None:
            try:
                unsafe = vlen_problem(ds)
                if unsafe:
                    raise OSError(f"variable-length data cannot be read safely (corrupt file?): {unsafe}")
                if schema.FIELDS[path].dtype == "string":
                    raw = ds.asstr()[()]
                    v = raw if isinstance(raw, str) else np.asarray(raw, dtype=object)
                else:
                    v = ds[()]
            except Exception as exc:  # noqa: BLE001
                self.error(path, f"cannot be read: {exc}")
        self._values[path] = v
        return v

    def scalar_int(self, path: str, **kw):
        v = self.value(path, **kw)
        return None if v is None else int(v)


def _dims(shape) -> str:
    return "(" + ", ".join(shape) + ("," if len(shape) == 1 else "") + ")"


def _h5class(ds):
    try:
        return ds.id.get_type().get_class()
    except Exception:  # noqa: BLE001
        return None


def _little_endian(dtype: np.dtype) -> bool:
    if dtype.fields:
        return all(_little_endian(dtype.fields[n][0]) for n in dtype.names)
    return dtype.byteorder in ("<", "|") or (dtype.byteorder == "=" and np.little_endian)


def _complex_compound_problem(ds) -> str | None:
    """None if ``ds`` is the MDF complex compound {r, i} (same float type, no padding)."""
    if _h5class(ds) != h5py.h5t.COMPOUND:
        return f"must be the complex compound {{r, i}}, found HDF5 type {ds.dtype}"
    tid = ds.id.get_type()
    n = tid.get_nmembers()
    names = [tid.get_member_name(i).decode() for i in range(n)]
    if names != ["r", "i"]:
        return f"complex compound must have exactly the members ['r', 'i'], found {names}"
    t0, t1 = tid.get_member_type(0), tid.get_member_type(1)
    if t0.get_class() != h5py.h5t.FLOAT or not t0.equal(t1):
        return "complex compound members r and i must have the same float type"
    size = tid.get_size()
    if tid.get_member_offset(0) != 0 or tid.get_member_offset(1) * 2 != size or t0.get_size() * 2 != size:
        return "complex compound must hold r at offset 0 and i at itemsize/2 without padding"
    return None


def _check_type(c: _Checker, path: str, ds, kind: str) -> bool:
    """Report if ``ds`` does not have schema type ``kind``; True when it does."""
    cls = _h5class(ds)
    dt = ds.dtype
    if kind == "string":
        info = h5py.check_string_dtype(dt) if cls == h5py.h5t.STRING else None
        if info is None:
            c.error(path, f"must be an HDF5 string, found {dt}")
            return False
        if info.encoding not in ("ascii", "utf-8"):
            c.error(path, f"string character set must be ASCII or UTF-8, found {info.encoding}")
            return False
        return True
    if cls == h5py.h5t.ENUM or dt == np.bool_:
        c.error(path, f"must be {kind}, found an HDF5 enum/bool type ({dt}); write np.int8 0/1")
        return False
    if kind == "complex":
        msg = _complex_compound_problem(ds)
        if msg:
            c.error(path, msg)
            return False
    elif kind == "number":
        if cls == h5py.h5t.COMPOUND:
            msg = _complex_compound_problem(ds)
            if msg:
                c.error(path, msg)
                return False
        elif cls not in (h5py.h5t.INTEGER, h5py.h5t.FLOAT):
            c.error(path, f"must be a number (integer, float or complex compound), found {dt}")
            return False
    elif kind == "integer":
        if cls != h5py.h5t.INTEGER:
            c.error(path, f"must be an integer type, found {dt}")
            return False
    else:
        want = {
            "int8": (h5py.h5t.INTEGER, "i", 1),
            "int64": (h5py.h5t.INTEGER, "i", 8),
            "float64": (h5py.h5t.FLOAT, "f", 8),
        }[kind]
        if cls != want[0] or dt.kind != want[1] or dt.itemsize != want[2]:
            c.error(path, f"must be {kind}, found {dt}")
            return False
    if not _little_endian(dt):
        c.error(path, f"must be little-endian, found {dt}")
        return False
    return True


# --- the checks ----------------------------------------------------------------------
def _check_walk(c: _Checker) -> None:
    """External links, unknown names without '_', string character sets, enum types."""
    links = []
    c.f.visititems_links(lambda name, link: links.append(("/" + name, link)))
    offenders = []
    for path, link in links:
        if isinstance(link, h5py.ExternalLink):
            c.external.add(path)
            c.error(path, f"is an external link to {link.filename!r}; MDF files must be self-contained")
            continue
        if not (any(p.startswith("_") for p in path.split("/")) or schema.is_spec_path(path)):
            offenders.append(path)
    for path in offenders[:_MAX_NAME_LINES]:
        c.error(path, "is not an MDF v2.1 name; custom datasets and groups must start with '_'")
    if len(offenders) > _MAX_NAME_LINES:
        c.error("/", f"... and {len(offenders) - _MAX_NAME_LINES} more non-MDF names without a leading '_'")
    for path, link in links:
        if path in c.external or path in schema.FIELDS:
            continue
        o = c.obj(path)
        if isinstance(o, h5py.Dataset):
            cls = _h5class(o)
            if cls == h5py.h5t.STRING:
                info = h5py.check_string_dtype(o.dtype)
                if info is None or info.encoding not in ("ascii", "utf-8"):
                    c.error(path, "string character set must be ASCII or UTF-8")


def _check_root(c: _Checker, path: str, check_name: bool) -> None:
    if check_name and not path.lower().endswith(schema.FILE_SUFFIXES):
        c.error("/", f"file name must end with {', '.join(schema.FILE_SUFFIXES)} (MPIFiles dispatches on it)")
    version = c.value("/version", required=True)
    if isinstance(version, str):
        m = re.match(r"^(\d+)\.(\d+)(\.\d+)?", version.strip())
        if not m:
            c.error("/version", f"must be a version string like '2.1.0', found {version!r}")
        elif int(m.group(1)) != 2:
            c.error("/version", f"must be MDF version 2.x ('2.1.0'), found {version!r}")
    for p in ("/uuid", "/study/uuid", "/experiment/uuid"):
        v = c.value(p, required=c.has(schema.FIELDS[p].group) or p == "/uuid")
        if isinstance(v, str) and not _UUID.match(v):
            c.error(p, f"must be a canonical lowercase UUID 8-4-4-4-12, found {v!r}")
    for p in ("/time", "/acquisition/startTime", "/study/time"):
        required = p != "/study/time" and (p == "/time" or c.has("/acquisition"))
        v = c.value(p, required=required)
        if isinstance(v, str) and not _TIME.match(v):
            c.error(p, f"must be UTC yyyy-mm-ddThh:mm:ss[.mmm] without zone suffix, found {v!r}")


def _check_groups_and_fields(c: _Checker) -> None:
    is_calibration = c.has("/calibration")
    for group in schema.GROUPS.values():
        present = c.has(group.path)
        if group.path != "/" and present and not isinstance(c.obj(group.path), h5py.Group):
            c.error(group.path, "is a dataset, expected a group")
            continue
        if group.status == "required" and not present:
            c.error(group.path, "required group is missing")
        if group.status == "calibration" and is_calibration and not present:
            c.error(group.path, "group is missing; it is required in calibration files (material in the scanner)")
    for field in schema.FIELDS.values():
        if field.path in ("/time", "/uuid", "/version") or field.path.startswith("/measurement/data"):
            continue
        group = c.obj(field.group)
        if not isinstance(group, h5py.Group):
            continue
        required = field.status == "required" or (field.practical and is_calibration)
        why = "needed by MPIFiles/MPIReco in calibration files" if field.practical else ""
        c.typed(field.path, required=required, why=why)


def _check_general(c: _Checker) -> None:
    for p in (
        "/acquisition/numAverages",
        "/acquisition/numFrames",
        "/acquisition/numPeriodsPerFrame",
        "/acquisition/drivefield/numChannels",
        "/acquisition/receiver/numChannels",
        "/acquisition/receiver/numSamplingPoints",
    ):
        v = c.scalar_int(p)
        if v is not None and v < 1:
            c.error(p, f"must be >= 1, found {v}")
    for p in (
        "/acquisition/drivefield/baseFrequency",
        "/acquisition/drivefield/cycle",
        "/acquisition/receiver/bandwidth",
    ):
        v = c.value(p)
        if v is not None and not (np.isfinite(v) and v > 0):
            c.error(p, f"must be a finite number > 0, found {v}")
    sim = c.value("/experiment/isSimulation")
    if sim is not None and int(sim) not in (0, 1):
        c.error("/experiment/isSimulation", f"must be 0 or 1, found {int(sim)}")
    method = c.value("/calibration/method")
    if method == "simulation" and sim is not None and int(sim) != 1:
        c.error("/experiment/isSimulation", "must be 1 because /calibration/method is 'simulation'")
    # tracer
    if c.has("/tracer"):
        lengths = {}
        for name in ("batch", "name", "solute", "vendor", "concentration", "volume", "injectionTime"):
            ds = c.typed(f"/tracer/{name}")
            if ds is not None:
                lengths[name] = ds.shape[0]
        if lengths and (len(set(lengths.values())) != 1 or min(lengths.values()) < 1):
            c.error("/tracer", f"all fields must have the same length A >= 1, found {lengths}")
        times = c.value("/tracer/injectionTime")
        if times is not None:
            for t in np.ravel(times):
                if not _TIME.match(str(t)):
                    c.error("/tracer/injectionTime", f"entry {t!r} is not UTC yyyy-mm-ddThh:mm:ss[.mmm]")
                    break
    v_bw, v_cycle = c.value("/acquisition/receiver/bandwidth"), c.value("/acquisition/drivefield/cycle")
    v_V = c.scalar_int("/acquisition/receiver/numSamplingPoints")
    if None not in (v_bw, v_cycle, v_V) and np.isfinite(v_bw * v_cycle) and round(2 * v_bw * v_cycle) != v_V:
        c.advise(
            "/acquisition/receiver/numSamplingPoints",
            f"round(2·bandwidth·cycle) = {round(2 * v_bw * v_cycle)} != numSamplingPoints = {v_V}; "
            "mixing orders assume V = 2·bandwidth·cycle",
        )


def _check_drivefield(c: _Checker) -> None:
    DF = "/acquisition/drivefield/"
    D = c.scalar_int(DF + "numChannels")
    J = c.scalar_int("/acquisition/numPeriodsPerFrame")
    div = c.value(DF + "divider")
    F = None
    if div is not None:
        if D is not None and div.shape[0] != D:
            c.error(DF + "divider", f"must have shape (D, F) with D = numChannels = {D}, found {div.shape}")
        if np.any(div < 1):
            c.error(DF + "divider", "all entries must be >= 1")
        D_, F = div.shape
        D = D if D is not None else D_
    for name in ("strength", "phase"):
        v = c.value(DF + name)
        if v is None:
            continue
        want = (
            J if J is not None else v.shape[0],
            D if D is not None else v.shape[1],
            F if F is not None else v.shape[2],
        )
        if v.shape != want:
            c.error(DF + name, f"must have shape (J, D, F) = {want}, found {v.shape}")
        if name == "phase" and not np.all((v >= -math.pi) & (v < math.pi)):
            c.error(DF + name, "all phases must lie in [-π, π)")
        if name == "strength" and not np.all(v >= 0):
            c.error(DF + name, "all strengths must be >= 0 (and not NaN)")
    wf = c.value(DF + "waveform")
    if wf is not None:
        if D is not None and F is not None and np.shape(wf) != (D, F):
            c.error(DF + "waveform", f"must be a string array of shape (D, F) = {(D, F)}, found {np.shape(wf)}")
        bad = sorted({str(w) for w in np.ravel(wf)} - set(schema.WAVEFORMS))
        if bad:
            c.error(DF + "waveform", f"entries must be one of {schema.WAVEFORMS}, found {bad}")
    g, o = c.value("/acquisition/gradient"), c.value("/acquisition/offsetField")
    if g is not None and g.shape[2:] != (3, 3):
        c.error("/acquisition/gradient", f"must have shape (J, Y, 3, 3), found {g.shape}")
    if o is not None and o.shape[2:] != (3,):
        c.error("/acquisition/offsetField", f"must have shape (J, Y, 3), found {o.shape}")
    if g is not None and o is not None and g.shape[:2] != o.shape[:2]:
        c.error("/acquisition/offsetField", f"J, Y {o.shape[:2]} differ from /acquisition/gradient's {g.shape[:2]}")


def _measurement_layout(c: _Checker):
    """(data dataset, flags dict, dims dict) of /measurement, checking data and flags."""
    flags = {}
    for p in schema.FLAGS:
        v = c.value(p, required=c.has("/measurement"))
        if v is not None:
            if int(v) not in (0, 1):
                c.error(p, f"must be 0 or 1, found {int(v)}")
            else:
                flags[p.rsplit("/", 1)[1]] = int(v)
    if c.has(_M + "isTransposed"):
        c.error(_M + "isTransposed", "must not exist (obsolete name; MDF v2 uses isFastFrameAxis)")
    bgf = c.value(_M + "isBackgroundFrame")
    if bgf is not None and not np.all(np.isin(bgf, (0, 1))):
        c.error(_M + "isBackgroundFrame", "values must be 0 or 1")
    ds = c.dataset(_M + "data", required=c.has("/measurement"))
    if ds is None:
        return None, flags, bgf
    if ds.ndim != 4:
        c.error(_M + "data", f"must be 4-D, found shape {ds.shape}")
        return None, flags, bgf
    try:
        plist = ds.id.get_create_plist()
        if plist.get_layout() != h5py.h5d.CONTIGUOUS:
            c.error(_M + "data", "must have contiguous layout (no chunking/filters; MPIFiles memory-maps it)")
        elif plist.get_nfilters() > 0:
            c.error(_M + "data", "must not use filters (compression)")
        elif ds.size > 0 and ds.id.get_storage_size() == 0:
            c.error(_M + "data", "storage is not allocated (the data were never written)")
    except Exception as exc:  # noqa: BLE001
        c.error(_M + "data", f"storage layout cannot be read: {exc}")
    if not _little_endian(ds.dtype):
        c.error(_M + "data", f"must be little-endian, found {ds.dtype}")
    ft = flags.get("isFourierTransformed")
    cls = _h5class(ds)
    if ft == 1:
        msg = _complex_compound_problem(ds)
        if msg:
            c.error(_M + "data", msg + " (isFourierTransformed = 1)")
    elif ft == 0 and cls not in (h5py.h5t.INTEGER, h5py.h5t.FLOAT):
        c.error(_M + "data", f"must have a real integer or float type when isFourierTransformed = 0, found {ds.dtype}")
    return ds, flags, bgf


def _check_measurement(c: _Checker) -> None:
    if not c.has("/measurement"):
        return
    ds, flags, bgf = _measurement_layout(c)
    if ds is None:
        return
    J = c.scalar_int("/acquisition/numPeriodsPerFrame")
    C = c.scalar_int("/acquisition/receiver/numChannels")
    V = c.scalar_int("/acquisition/receiver/numSamplingPoints")
    N_acq = c.scalar_int("/acquisition/numFrames")
    fast, ft = flags.get("isFastFrameAxis"), flags.get("isFourierTransformed")
    sel, sparse = flags.get("isFrequencySelection"), flags.get("isSparsityTransformed")
    if fast is None:
        return
    if fast == 1:
        j, ch, X, N = ds.shape
        layout = "(J, C, X, N)"
    else:
        N, j, ch, X = ds.shape
        layout = "(N, J, C, X)"
    if J is not None and j != J:
        c.error(_M + "data", f"J = {j} in layout {layout} differs from numPeriodsPerFrame = {J}")
    if C is not None and ch != C:
        c.error(_M + "data", f"C = {ch} in layout {layout} differs from receiver/numChannels = {C}")
    if bgf is not None and len(bgf) != N:
        c.error(_M + "isBackgroundFrame", f"length {len(bgf)} differs from the {N} frames of /measurement/data")
    if N_acq is not None and N_acq != N:
        c.error("/acquisition/numFrames", f"= {N_acq} differs from the {N} frames of /measurement/data")
    if ft == 1 and sel == 0 and V is not None and X != V // 2 + 1:
        c.error(_M + "data", f"frequency axis has {X} bins, expected numSamplingPoints//2 + 1 = {V // 2 + 1}")
    if ft == 0 and V is not None and X != V:
        c.error(_M + "data", f"time axis has {X} samples, expected numSamplingPoints = {V}")
    if sel == 1:
        fs = c.value(_M + "frequencySelection", required=True, why="isFrequencySelection = 1")
        if fs is not None:
            if fs.shape != (X,):
                c.error(
                    _M + "frequencySelection", f"must have length X = {X} (frequency axis of data), found {fs.shape}"
                )
            if fs.size > 1 and np.any(np.diff(fs) <= 0):
                c.error(_M + "frequencySelection", "must be strictly increasing")
            if V is not None and fs.size and (fs.min() < 1 or fs.max() > V // 2 + 1):
                c.error(_M + "frequencySelection", f"values must lie in [1, {V // 2 + 1}] (1-based rfft bins)")
    if flags.get("isFramePermutation") == 1:
        fp = c.value(_M + "framePermutation", required=True, why="isFramePermutation = 1")
        if fp is not None and (fp.shape != (N,) or not np.array_equal(np.sort(fp), np.arange(1, N + 1))):
            c.error(_M + "framePermutation", f"must be a permutation of 1..{N} (1-based, length N)")
    tf = c.value("/acquisition/receiver/transferFunction")
    if tf is not None and (tf.shape[1] != X or (C is not None and tf.shape[0] != C)):
        c.error("/acquisition/receiver/transferFunction", f"must have shape (C, K) = ({C}, {X}), found {tf.shape}")
    for name, shape in (("dataConversionFactor", (C, 2)), ("inductionFactor", (C,))):
        v = c.value(f"/acquisition/receiver/{name}")
        if v is not None and C is not None and v.shape != shape:
            c.error(f"/acquisition/receiver/{name}", f"must have shape {shape}, found {v.shape}")
    _check_noise_estimate(c, C, V, fs if sel == 1 else None)
    if sparse == 1:
        _check_sparsity(c, ds, flags, bgf, (j, ch, X, N))
    _check_calibration(c, flags, bgf, (j, ch, X, N))


def _check_noise_estimate(c: _Checker, C, V, selection) -> None:
    """``/custom/noiseEstimate``: MPIFiles indexes it by (global bin, channel), h5py (C, V//2 + 1)."""
    name = schema.NOISE_ESTIMATE
    v = c.value(name)
    if v is None or C is None or V is None:
        return
    if v.shape != (C, V // 2 + 1):
        c.error(name, f"must have shape (C, V//2 + 1) = ({C}, {V // 2 + 1}), found {v.shape}")
        return
    stored = np.arange(V // 2 + 1) if selection is None else np.asarray(selection, dtype=np.int64) - 1
    stored = stored[(stored >= 0) & (stored <= V // 2)]
    values = v[:, stored]
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        c.error(name, "must be finite and >= 0 on the stored frequencies (standard deviations)")
    elif np.any(values == 0):
        c.advise(name, "holds 0 on stored frequencies: MPIReco's whitening weights min(σ)/σ become 0 or NaN")


def _check_sparsity(c: _Checker, ds, flags, bgf, dims) -> None:
    j, ch, X, N = dims
    if flags.get("isFourierTransformed") != 1 or flags.get("isFastFrameAxis") != 1:
        c.error(_M + "isSparsityTransformed", "= 1 requires isFourierTransformed = 1 and isFastFrameAxis = 1")
    t = c.value(_M + "sparsityTransformation", required=True, why="isSparsityTransformed = 1")
    if isinstance(t, str) and t not in schema.SPARSITY_TRANSFORMS:
        c.error(_M + "sparsityTransformation", f"must be one of {schema.SPARSITY_TRANSFORMS}, found {t!r}")
    idx = c.value(_M + "subsamplingIndices", required=True, why="isSparsityTransformed = 1")
    if bgf is None or len(bgf) != N:
        return  # frame count already reported; B cannot be determined
    E = int(np.sum(bgf))
    B = N - E
    if not (np.all(bgf[:B] == 0) and np.all(bgf[B:] == 1)):
        c.error(
            _M + "isBackgroundFrame", "with sparsity: the B coefficient frames must come first (0), background last (1)"
        )
    if idx is not None:
        if idx.shape != (j, ch, X, B):
            c.error(_M + "subsamplingIndices", f"must have shape (J, C, K, B) = {(j, ch, X, B)}, found {idx.shape}")
        size = c.value("/calibration/size")
        top = int(np.prod(size)) if size is not None else None
        if idx.size and (idx.min() < 1 or (top is not None and idx.max() > top)):
            c.error(_M + "subsamplingIndices", f"values must lie in 1..prod(/calibration/size) = {top}")
        if idx.ndim == 4 and idx.shape[-1] > 1:
            s = np.sort(idx, axis=-1)
            if np.any(s[..., 1:] == s[..., :-1]):
                c.error(_M + "subsamplingIndices", "indices must be unique along the last axis")


def _check_calibration(c: _Checker, flags, bgf, dims) -> None:
    if not c.has("/calibration"):
        return
    j, ch, X, N = dims
    Cal = "/calibration/"
    sparse = flags.get("isSparsityTransformed") == 1
    O = int(np.sum(np.asarray(bgf) == 0)) if bgf is not None else None
    size = c.value(Cal + "size")
    if size is not None:
        if size.shape != (3,):
            c.error(Cal + "size", f"must have shape (3,), found {size.shape}")
        elif np.any(size < 1):
            c.error(Cal + "size", f"all entries must be >= 1, found {size.tolist()}")
        elif not sparse and O is not None and int(np.prod(size)) != O:
            c.error(Cal + "size", f"prod(size) = {int(np.prod(size))} differs from the {O} foreground frames")
    for name in ("fieldOfView", "fieldOfViewCenter", "deltaSampleSize"):
        v = c.value(Cal + name)
        if v is not None and v.shape != (3,):
            c.error(Cal + name, f"must have shape (3,), found {v.shape}")
            continue
        if v is not None and name == "fieldOfView" and size is not None and size.shape == (3,):
            if np.any(~(v[size > 1] > 0)):
                c.error(Cal + name, f"must be > 0 on axes with size > 1, found {v.tolist()}")
        if v is not None and name == "deltaSampleSize" and not np.all(v >= 0):
            c.error(Cal + name, "must be >= 0")
    snr = c.value(Cal + "snr")
    if snr is not None:
        J = c.scalar_int("/acquisition/numPeriodsPerFrame")
        want = (J if J is not None else j, ch, X)
        if snr.shape != want:
            c.error(Cal + "snr", f"must have shape (J, C, K) = {want}, found {snr.shape}")
        if not np.all(np.isfinite(snr)) or np.any(snr < 0):
            c.error(Cal + "snr", "must be finite and >= 0")
    grids = [n for n in ("offsetFields", "positions") if c.has(Cal + n)]
    for name in grids:
        v = c.value(Cal + name)
        n_fg = O if not sparse else (int(np.prod(size)) if size is not None and size.shape == (3,) else None)
        if v is not None and (v.shape[1:] != (3,) or (n_fg is not None and v.shape[0] != n_fg)):
            c.error(Cal + name, f"must have shape (O, 3) = ({n_fg}, 3), found {v.shape}")
    if len(grids) == 2:
        c.error(Cal + "positions", "must not exist together with /calibration/offsetFields (MPIFiles calibGrid throws)")
    order = c.value(Cal + "order")
    if isinstance(order, str) and order not in schema.ORDERS:
        c.error(Cal + "order", f"must be one of {schema.ORDERS}, found {order!r}")
    if flags.get("isFramePermutation") == 1 and bgf is not None and np.any(bgf):
        last_fg = np.flatnonzero(np.asarray(bgf) == 0)
        first_bg = np.flatnonzero(np.asarray(bgf) == 1)[0]
        if last_fg.size and last_fg[-1] > first_bg:
            c.error(_M + "isBackgroundFrame", "every foreground frame must precede every background frame")


def _check_reconstruction(c: _Checker) -> None:
    if not c.has("/reconstruction"):
        return
    d = c.typed("/reconstruction/data", required=True)
    size = c.value("/reconstruction/size")
    if d is not None and size is not None and size.shape == (3,) and int(np.prod(size)) != d.shape[1]:
        c.error("/reconstruction/size", f"prod(size) = {int(np.prod(size))} differs from P = {d.shape[1]}")


def _check_checksums(c: _Checker) -> None:
    for path, message in checksum_problems(c.f):
        c.error(path, message)


_CHECKS = (
    _check_groups_and_fields,
    _check_general,
    _check_drivefield,
    _check_measurement,
    _check_reconstruction,
    _check_checksums,
)


def check(path, *, check_name: bool = True) -> list:
    """All problems of a file as ``(level, line)`` pairs, level ``"error"`` or ``"advisory"``.

    See :func:`validate`; never raises for a malformed file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        return [("error", f"/: no such file {path!r}")]
    if os.path.isdir(path):
        return [("error", f"/: {path!r} is a directory, expected an MDF (HDF5) file")]
    try:
        ok = h5py.is_hdf5(path)
    except OSError as exc:
        return [("error", f"/: cannot be read ({exc})")]
    if not ok:
        return [("error", "/: not an HDF5 file (no HDF5 signature); MDF files are HDF5")]
    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001
        return [("error", f"/: cannot be opened as HDF5 (truncated or corrupt?): {exc}")]
    c = _Checker(f)
    try:
        steps = [lambda: _check_walk(c), lambda: _check_root(c, path, check_name)]
        steps += [lambda fn=fn: fn(c) for fn in _CHECKS]
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - a broken file must not crash the validator
                c.error("/", f"could not complete a check (corrupt or unexpected content): {type(exc).__name__}: {exc}")
    finally:
        f.close()
    seen, out = set(), []
    for item in c.problems:  # the same problem found by two checks is reported once
        if item[1] not in seen:
            seen.add(item[1])
            out.append(item)
    return out


def validate(path, *, advisory: bool = True, check_name: bool = True) -> list:
    """Check a file against MDF v2.1 and what MPIFiles/MPIReco need.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    advisory : bool
        Include advisory lines (prefixed ``"advisory: "``), default True.
    check_name : bool
        Check the file-name suffix (``.mdf``, ``.h5``, ``.hdf``), default True.

    Returns
    -------
    list of str
        One readable line per problem, ``"<dataset>: <what is wrong>"``; empty when
        the file conforms. Never raises for a malformed file.

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> import os, tempfile
    >>> import h5py
    >>> from mdf_neel.mdf import write_system_matrix
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_system_matrix(os.path.join(tmp, "sm.mdf"), sm)
    ...     before = validate(path)
    ...     with h5py.File(path, "r+") as f:
    ...         del f["/acquisition/drivefield/baseFrequency"]
    ...     after = validate(path)
    >>> before
    []
    >>> any("baseFrequency" in line for line in after)
    True
    """
    return [line for level, line in check(path, check_name=check_name) if advisory or level == "error"]
