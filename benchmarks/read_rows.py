"""Reading a few frequency rows of a large system matrix vs. reading all of it.

Builds a >= 1 GB MDF v2.1 system-matrix file with raw h5py in a temporary directory
(2 channels x 817 frequencies x 288 x 288 positions, complex64, contiguous, frame axis
fastest), then reads (a) 20 random frequency rows and (b) the whole matrix with
``mdf_neel.mdf.reader.read_system_matrix`` in the same run, and prints wall time and
peak traced memory (``tracemalloc``: numpy buffers are traced) of (a) as ratios to (b).
Target: both below 5 %. The file is deleted afterwards; the figures also go to
``benchmarks/results/read_rows.json`` (``--json``).

Run: ``python benchmarks/read_rows.py [--grid 288] [--rows 20] [--dir /tmp]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
from _results import add_json_argument, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: the test builders
from tests.mdf._builders import _metadata  # noqa: E402  (raw-h5py metadata of the test builders)

from mdf_neel.mdf.reader import read_system_matrix  # noqa: E402


def build(path, grid: int, V: int = 1632, C: int = 2):
    """Write the big file slab by slab (never the whole matrix in memory)."""
    O, K = grid * grid, V // 2 + 1
    t = dict(V=V, bandwidth=1.25e6, C=C, J=1, grid=(grid, grid, 1), O=O, E=0, K_full=K)
    rng = np.random.default_rng(0)
    block = (rng.normal(size=(16, O)) + 1j * rng.normal(size=(16, O))).astype(np.complex64)
    with h5py.File(path, "w") as f:
        _metadata(f, t, num_frames=O)
        for k, v in dict(
            isBackgroundCorrected=0,
            isFastFrameAxis=1,
            isFourierTransformed=1,
            isFramePermutation=0,
            isFrequencySelection=0,
            isSparsityTransformed=0,
            isSpectralLeakageCorrected=0,
            isTransferFunctionCorrected=0,
        ).items():
            f["measurement/" + k] = np.int8(v)
        f["measurement/isBackgroundFrame"] = np.zeros(O, np.int8)
        ds = f.create_dataset("measurement/data", shape=(1, C, K, O), dtype=np.complex64)
        for c in range(C):
            for k0 in range(0, K, 16):
                k1 = min(K, k0 + 16)
                ds[0, c, k0:k1] = block[: k1 - k0] * np.complex64(k0 + 1 + 1000 * c)
        f["calibration/method"] = "hybrid"
        f["calibration/size"] = np.array([grid, grid, 1], dtype=np.int64)
        f["calibration/fieldOfView"] = np.array([0.03, 0.03, 0.0])
        f["calibration/fieldOfViewCenter"] = np.zeros(3)
    return C * K * O * 8


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, dt, peak


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid", type=int, default=288, help="positions per axis (288 -> 1.08 GB)")
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--dir", default=None, help="directory for the temporary file")
    add_json_argument(p, "read_rows")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "big.mdf")
        t0 = time.perf_counter()
        nbytes = build(path, args.grid)
        print(
            f"built {path}: data {nbytes / 1e9:.2f} GB, file {os.path.getsize(path) / 1e9:.2f} GB "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        rng = np.random.default_rng(1)
        rows = np.sort(rng.choice(817, size=args.rows, replace=False))
        read_system_matrix(path, frequencies=rows[:2])  # warm imports
        few, t_few, m_few = min(
            (measure(lambda: read_system_matrix(path, frequencies=rows)) for _ in range(3)), key=lambda r: r[1]
        )
        full, t_full, m_full = measure(lambda: read_system_matrix(path))
        pos = np.searchsorted(full.frequency_indices, rows)
        assert np.array_equal(few.data, full.data[:, pos]), "row read differs from the full read"
        del full
        print(f"{args.rows} rows : {t_few:8.3f} s, peak {m_few / 1e6:9.1f} MB")
        print(f"whole matrix: {t_full:8.3f} s, peak {m_full / 1e6:9.1f} MB")
        print(f"ratio time   {100 * t_few / t_full:6.2f} %  (target < 5 %)")
        print(f"ratio memory {100 * m_few / m_full:6.2f} %  (target < 5 %)")
    write_results(
        args.json,
        "read_rows",
        args,
        {
            "data_bytes": nbytes,
            "rows": rows,
            "rows_s": t_few,
            "rows_peak_bytes": m_few,
            "whole_s": t_full,
            "whole_peak_bytes": m_full,
            "time_ratio": t_few / t_full,
            "memory_ratio": m_few / m_full,
            "target_ratio": 0.05,
        },
    )


if __name__ == "__main__":
    main()
