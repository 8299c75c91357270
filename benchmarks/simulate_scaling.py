"""Scaling of dictionary generation: 1 vs 2 local worker processes vs a dask LocalCluster.

Usage::

    python benchmarks/simulate_scaling.py [--model anisotropic-equilibrium] [--elements 8] [--grid 3]

Every variant computes the same dictionary elements (no cache). The figures are
speed-ups relative to the in-process run measured in this same run (wall clock,
including the start-up of local worker processes; the dask cluster exists before timing,
as an existing cluster is the use case), so they are comparable across machines. The results of
all variants are checked to be identical.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mdf_neel.simulate import dictionary, preset


def _run(label, grid, args, **how):
    seq, g = preset("paper-2d", grid=(grid, grid))
    t0 = time.perf_counter()
    d = dictionary(seq, g.offsets_T, diameters_m=[22e-9], anisotropies_Jm3=np.linspace(500, 3000, args.elements),
                   angles_deg=[30.0], frequencies=np.arange(1, 300), model=args.model, progress=False, **how)
    return label, time.perf_counter() - t0, d.phi


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="anisotropic-equilibrium", choices=("anisotropic-equilibrium", "neel"))
    parser.add_argument("--elements", type=int, default=8, help="dictionary elements (tasks)")
    parser.add_argument("--grid", type=int, default=3, help="offsets per axis (grid x grid per element)")
    args = parser.parse_args(argv)

    results = [_run("1 process (reference)", args.grid, args, workers=1),
               _run("2 local workers", args.grid, args, workers=2)]
    try:
        from distributed import LocalCluster
    except ImportError:
        print("dask.distributed not installed; LocalCluster skipped")
    else:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            results.append(_run("dask LocalCluster, 2 workers", args.grid, args, scheduler=cluster))
    ref_label, ref_time, ref_phi = results[0]
    print(f"{args.elements} elements x {args.grid * args.grid} offsets, model {args.model}")
    for label, seconds, phi in results:
        same = "identical" if np.array_equal(phi, ref_phi) else "DIFFERENT"
        print(f"  {label:32s} speed-up {ref_time / seconds:5.2f}x   result {same}")


if __name__ == "__main__":
    main()
