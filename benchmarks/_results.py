"""Benchmark results as JSON beside the printed table: ``benchmarks/results/<name>.json``.

Each file holds the benchmark's name, its arguments, the machine it ran on and its
results, so that the documentation can quote the file rather than a pasted table.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mdf_neel import __version__
from mdf_neel._atomic import atomic_path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def add_json_argument(parser, name: str) -> None:
    """``--json PATH`` (default ``benchmarks/results/<name>.json``; ``''`` writes none)."""
    parser.add_argument(
        "--json",
        default=str(RESULTS_DIR / f"{name}.json"),
        help=f"write the results as JSON here (default benchmarks/results/{name}.json; '' for none)",
    )


def _plain(value):
    """JSON-serialisable copy of numpy scalars and arrays inside dicts and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_results(path, name: str, args, results) -> str | None:
    """Write ``{"benchmark", "arguments", "machine", "results"}`` atomically to ``path``.

    Parameters
    ----------
    path : str or None
        Target file; empty or None writes nothing.
    name : str
        The benchmark's name.
    args : argparse.Namespace
        Its arguments (the ``json`` one left out).
    results : dict or list
        What the printed table shows, numbers unrounded.

    Returns
    -------
    str or None
        The path written.
    """
    if not path:
        return None
    payload = {
        "benchmark": name,
        "arguments": {k: v for k, v in vars(args).items() if k != "json"},
        "machine": {
            "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "mdf_neel": __version__,
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "results": _plain(results),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1)
    print(f"results: {path}")
    return str(path)


def format_tolerance(value) -> str:
    """A step tolerance for a printed table, 9 wide ("-" where a pair took the quasi-static
    series, which has none)."""
    return f"{'-':>9}" if value is None else f"{value:9.2e}"
