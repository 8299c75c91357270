"""Scaling of dictionary generation: 1 vs 2 local worker processes vs a dask LocalCluster.

Usage::

    python benchmarks/simulate_scaling.py [--model neel] [--diameter 14e-9] [--elements 8] [--grid 3]

Every variant computes the same dictionary elements (no cache); by default Néel
elements of small (cheap) particles, so that the work per task dominates the
start-up of workers. The figures are
speed-ups relative to the single-threaded in-process run measured in this same run (wall clock,
including the start-up of local worker processes; the dask cluster exists before timing,
as an existing cluster is the use case), so they are comparable across machines. The results of
all variants are compared with the in-process run (maximum difference relative to the
largest entry; round-off level when worker processes use another thread count). The
figures also go to ``benchmarks/results/simulate_scaling.json`` (``--json``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _results import add_json_argument, write_results

from mdf_neel.simulate import dictionary, preset


def _run(label, grid, args, **how):
    seq, g = preset("paper-2d", grid=(grid, grid))
    t0 = time.perf_counter()
    d = dictionary(
        seq,
        g.offsets_T,
        diameters_m=[args.diameter],
        anisotropies_Jm3=np.linspace(500, 3000, args.elements),
        angles_deg=[30.0],
        frequencies=np.arange(1, 300),
        model=args.model,
        progress=False,
        **how,
    )
    return label, time.perf_counter() - t0, d.phi


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="neel", choices=("anisotropic-equilibrium", "neel"))
    parser.add_argument("--diameter", type=float, default=14e-9, help="core diameter in m (default 14e-9)")
    parser.add_argument("--elements", type=int, default=8, help="dictionary elements (tasks)")
    parser.add_argument("--grid", type=int, default=3, help="offsets per axis (grid x grid per element)")
    add_json_argument(parser, "simulate_scaling")
    args = parser.parse_args(argv)

    results = [
        _run("1 process, 1 thread (reference)", args.grid, args, workers=1, n_threads=1),
        _run("1 process, 2 numba threads", args.grid, args, workers=1, n_threads=2),
        _run("2 local worker processes", args.grid, args, workers=2),
    ]
    try:
        from distributed import LocalCluster
    except ImportError:
        print("dask.distributed not installed; LocalCluster skipped")
    else:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            results.append(_run("dask LocalCluster, 2 workers", args.grid, args, scheduler=cluster))
    ref_label, ref_time, ref_phi = results[0]
    print(f"{args.elements} elements x {args.grid * args.grid} offsets, model {args.model}")
    rows = []
    for label, seconds, phi in results:
        rel = float(np.max(np.abs(phi - ref_phi)) / np.max(np.abs(ref_phi)))
        print(f"  {label:32s} speed-up {ref_time / seconds:5.2f}x   max rel. difference {rel:.1e}")
        rows.append({"variant": label, "wall_s": seconds, "speed_up": ref_time / seconds, "max_rel_difference": rel})
    write_results(args.json, "simulate_scaling", args, rows)


if __name__ == "__main__":
    main()
