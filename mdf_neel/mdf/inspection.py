"""Summaries of MDF files (``mdf-neel inspect``).

:func:`inspect` returns a JSON-serialisable dict: every group and dataset with shape
and dtype, the processing flags, the sequence (drive frequencies, dividers, mixing
orders of the first stored rows), the calibration grid and offset range, an SNR
summary and the background frames. :func:`format_summary` renders it as text.
Only metadata and small datasets are read, never ``/measurement/data``.
"""

from __future__ import annotations

import numpy as np

from ..sequence import DriveField, mixing_orders
from . import _h5, schema
from ._heaps import vlen_problem

__all__ = ["inspect", "format_summary"]

_DF = "/acquisition/drivefield/"
_RX = "/acquisition/receiver/"


def _plain(value):
    """numpy / bytes → JSON-serialisable Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def _read(f, path):
    """Value of a dataset (str for strings), or None when absent/unreadable."""
    try:
        ds = f.get(path)
        if ds is None or not hasattr(ds, "dtype"):
            return None
        if ds.dtype.kind in "OS" or ds.dtype.kind == "U":
            if vlen_problem(ds):  # a damaged string heap would hang HDF5: shown as unreadable
                return None
            v = ds.asstr()[()]
            return v if isinstance(v, str) else np.asarray(v, dtype=object)
        return ds[()]
    except _h5.H5_ERRORS:  # a corrupt dataset: inspect shows what it can
        return None


def _tree(f) -> list:
    items = []

    def visit(name, obj):
        entry = {"path": "/" + name}
        if hasattr(obj, "dtype"):
            entry.update(kind="dataset", shape=list(obj.shape) if obj.shape is not None else None, dtype=str(obj.dtype))
        else:
            entry["kind"] = "group"
        items.append(entry)

    f.visititems(visit)
    return items


def _sequence(f, rows: int, freq_bins) -> dict:
    out = {}
    base, div = _read(f, _DF + "baseFrequency"), _read(f, _DF + "divider")
    strength, phase, wf = _read(f, _DF + "strength"), _read(f, _DF + "phase"), _read(f, _DF + "waveform")
    cycle = _read(f, _DF + "cycle")
    bw, V, C = _read(f, _RX + "bandwidth"), _read(f, _RX + "numSamplingPoints"), _read(f, _RX + "numChannels")
    out.update(
        base_frequency_Hz=base,
        cycle_s=cycle,
        dividers=div,
        strengths_T=strength,
        phases_rad=phase,
        waveforms=wf,
        bandwidth_Hz=bw,
        num_sampling_points=V,
        receive_channels=C,
        unit=_read(f, _RX + "unit"),
    )
    if base is not None and div is not None:
        out["drive_frequencies_Hz"] = base / np.asarray(div, dtype=np.float64)
    if V is not None:
        out["num_frequencies_full"] = int(V) // 2 + 1
    manual = _read(f, schema.MANUAL_PREFACTORS)
    if manual is not None:
        out["manual_prefactors"] = manual
    try:
        drive = DriveField(
            base, div, strength, phase, wf if wf is not None else "sine", cycle_s=cycle, manual_prefactors=manual
        )
        K_full = int(V) // 2 + 1
        table = mixing_orders(drive, K_full)
        out["harmonics_per_cycle"] = drive.harmonics_per_cycle
        out["mixing_prefactors"] = drive.mixing_prefactors
        shown = [int(k) for k in (freq_bins if freq_bins is not None else range(K_full))[:rows]]
        f_k = np.fft.rfftfreq(int(V), d=1.0 / (2.0 * float(bw)))
        out["mixing_orders"] = [
            {
                "bin": k,
                "frequency_Hz": float(f_k[k]),
                "mx": int(table[k, 0]),
                "my": int(table[k, 1]),
                "mz": int(table[k, 2]),
                # every factor, for any number of prefactors (mx, my, mz are the first three)
                "factors": [int(v) for v in table[k, :-1]],
                "order": int(table[k, -1]),
            }
            for k in shown
            if 0 <= k < K_full
        ]
    except Exception as exc:  # noqa: BLE001 - incomplete drive-field metadata
        out["mixing_orders_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _range(arr) -> dict | None:
    if arr is None or np.ndim(arr) != 2 or np.shape(arr)[0] == 0:
        return None
    a = np.asarray(arr, dtype=np.float64)
    return {"min": a.min(axis=0), "max": a.max(axis=0), "count": a.shape[0]}


def _snr(snr, thresholds=(1.0, 5.0, 10.0)) -> dict | None:
    if snr is None or np.ndim(snr) != 3:
        return None
    s = np.asarray(snr, dtype=np.float64)[0]  # period 1, as MPIFiles uses it
    per_channel = []
    for c in range(s.shape[0]):
        row = s[c][np.isfinite(s[c])]
        per_channel.append(
            {
                "channel": c,
                "min": row.min() if row.size else None,
                "median": float(np.median(row)) if row.size else None,
                "max": row.max() if row.size else None,
                **{f"rows_above_{t:g}": int(np.sum(row > t)) for t in thresholds},
            }
        )
    return {"shape": list(np.shape(snr)), "per_channel": per_channel}


def _provenance(f) -> dict:
    out = {}
    g = f.get(schema.PROVENANCE)
    if g is None or hasattr(g, "dtype"):
        return out

    def visit(name, obj):
        if hasattr(obj, "dtype"):
            v = _read(f, f"{schema.PROVENANCE}/{name}")
            if v is not None and np.size(v) <= 16:
                out[name] = v
            else:
                out[name] = f"<{obj.dtype} array {obj.shape}>"

    g.visititems(visit)
    return out


def inspect(path, *, rows: int = 20) -> dict:
    """Summarise an MDF file.

    Parameters
    ----------
    path : str or os.PathLike
    rows : int
        How many stored frequency rows get their mixing orders listed.

    Returns
    -------
    dict
        JSON-serialisable: ``path, version, uuid, time, tree, flags, measurement,
        sequence, calibration, snr, provenance``.

    Raises
    ------
    MDFError
        The file cannot be opened as HDF5.

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> import os, tempfile
    >>> from mdf_neel.mdf import write_system_matrix
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = inspect(write_system_matrix(os.path.join(tmp, "sm.mdf"), sm))
    >>> summary["version"]
    '2.1.0'
    >>> "measurement" in summary and "sequence" in summary
    True
    """
    with _h5.open_file(path) as f:
        out = {"path": str(path), "version": _read(f, "/version"), "uuid": _read(f, "/uuid"), "time": _read(f, "/time")}
        out["tree"] = _tree(f)
        out["flags"] = {p.rsplit("/", 1)[1]: _read(f, p) for p in schema.FLAGS if f.get(p) is not None}
        meas = {}
        data = f.get("/measurement/data")
        sel = _read(f, "/measurement/frequencySelection")
        bins = None
        if data is not None and hasattr(data, "shape"):
            meas.update(shape=list(data.shape), dtype=str(data.dtype))
            try:
                layout = data.id.get_create_plist().get_layout()
                meas["layout"] = {0: "compact", 1: "contiguous", 2: "chunked", 3: "virtual"}.get(layout, str(layout))
            except _h5.H5_ERRORS:  # a corrupt property list: the layout stays unknown
                pass
        bgf = _read(f, "/measurement/isBackgroundFrame")
        if bgf is not None:
            bgf = np.asarray(bgf)
            meas.update(
                frames=int(bgf.size),
                background_frames=int(np.sum(bgf == 1)),
                background_frame_indices=np.flatnonzero(bgf == 1)[:50],
            )
        meas["num_frames"] = _read(f, "/acquisition/numFrames")
        if sel is not None:
            bins = np.asarray(sel, dtype=np.int64) - 1
            meas["frequency_selection"] = {
                "count": int(bins.size),
                "first_bins": bins[:10],
                "last_bin": int(bins[-1]) if bins.size else None,
            }
        out["measurement"] = meas
        out["sequence"] = _sequence(f, rows, bins)
        cal = {}
        if f.get("/calibration") is not None:
            for name in ("method", "size", "fieldOfView", "fieldOfViewCenter", "order", "deltaSampleSize"):
                cal[name] = _read(f, f"/calibration/{name}")
            cal["field_of_view_unit"] = _read(f, schema.FOV_UNIT)
            cal["easy_axis_angle_deg"] = _read(f, schema.EASY_AXIS_ANGLE)
            polar = _read(f, schema.EASY_AXIS_POLAR_ANGLE)
            if polar is not None:
                cal["easy_axis_polar_deg"] = polar
            cal["easy_axis_convention"] = _read(f, schema.EASY_AXIS_CONVENTION)
            cal["snr_method"] = _read(f, schema.SNR_METHOD)
            cal["offset_fields_T"] = _range(_read(f, "/calibration/offsetFields"))
            cal["positions_m"] = _range(_read(f, "/calibration/positions"))
        out["calibration"] = cal
        out["snr"] = _snr(_read(f, "/calibration/snr"))
        out["provenance"] = _provenance(f)
    return _plain(out)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def format_summary(summary: dict, *, tree: bool = True) -> str:
    """Human-readable text of an :func:`inspect` summary."""
    lines = [f"{summary['path']}: MDF {summary.get('version')}  uuid {summary.get('uuid')}  time {summary.get('time')}"]
    if tree:
        lines.append("groups and datasets:")
        for e in summary["tree"]:
            depth = e["path"].count("/") - 1
            if e["kind"] == "group":
                lines.append(f"  {'  ' * depth}{e['path'].rsplit('/', 1)[1]}/")
            else:
                lines.append(f"  {'  ' * depth}{e['path'].rsplit('/', 1)[1]}  {tuple(e['shape'] or ())}  {e['dtype']}")
    if summary["flags"]:
        lines.append("flags: " + ", ".join(f"{k}={v}" for k, v in summary["flags"].items()))
    m = summary["measurement"]
    if m:
        lines.append("measurement: " + ", ".join(f"{k}={_fmt(v)}" for k, v in m.items()))
    s = summary["sequence"]
    lines.append(
        f"sequence: base {_fmt(s.get('base_frequency_Hz'))} Hz, dividers {_fmt(s.get('dividers'))}, "
        f"drive frequencies {_fmt(s.get('drive_frequencies_Hz'))} Hz, strengths {_fmt(s.get('strengths_T'))} T, "
        f"cycle {_fmt(s.get('cycle_s'))} s"
    )
    lines.append(
        f"receiver: bandwidth {_fmt(s.get('bandwidth_Hz'))} Hz, V = {s.get('num_sampling_points')}, "
        f"K_full = {s.get('num_frequencies_full')}, channels {s.get('receive_channels')}, unit {s.get('unit')}"
    )
    if "mixing_orders" in s:
        source = "manual prefactors" if "manual_prefactors" in s else "harmonics per cycle"
        lines.append(f"mixing orders ({source} {_fmt(s.get('mixing_prefactors'))}):")
        n_factors = max((len(r["factors"]) for r in s["mixing_orders"]), default=3)
        names = ["mx", "my", "mz"] if n_factors <= 3 else [f"m{i + 1}" for i in range(n_factors)]
        lines.append("    bin   frequency/Hz  " + " ".join(f"{n:>4}" for n in names) + "  order")
        for r in s["mixing_orders"]:
            factors = " ".join(f"{v:4d}" for v in r["factors"])
            lines.append(f"  {r['bin']:5d}  {r['frequency_Hz']:13.1f}  {factors}  {r['order']:5d}")
    elif "mixing_orders_error" in s:
        lines.append(f"mixing orders: unavailable ({s['mixing_orders_error']})")
    cal = summary["calibration"]
    if cal:
        lines.append(
            "calibration: "
            + ", ".join(
                f"{k}={_fmt(v)}"
                for k, v in cal.items()
                if v is not None and k not in ("offset_fields_T", "positions_m")
            )
        )
        for key in ("offset_fields_T", "positions_m"):
            if cal.get(key):
                r = cal[key]
                lines.append(f"  {key}: {r['count']} points, min {_fmt(r['min'])}, max {_fmt(r['max'])}")
    if summary["snr"]:
        lines.append(f"snr {tuple(summary['snr']['shape'])} (period 1):")
        for c in summary["snr"]["per_channel"]:
            lines.append("  " + ", ".join(f"{k}={_fmt(v)}" for k, v in c.items()))
    if summary["provenance"]:
        lines.append("provenance: " + ", ".join(f"{k}={_fmt(v)}" for k, v in summary["provenance"].items()))
    return "\n".join(lines)
