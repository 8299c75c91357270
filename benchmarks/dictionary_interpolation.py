"""Cost and measured accuracy of the verified interpolation of dictionaries along K.

The paper: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).

Usage::

    python benchmarks/dictionary_interpolation.py [--model neel|anisotropic-equilibrium]
        [--diameter 14e-9] [--rtol 1e-3] [--solver-rtol RTOL] [--max-stride 16] [--checks 6] [--grid 3]
        [--angles 2]

The paper's 2-D sequence, a grid x grid subset of its offsets (same extent; 11: the
paper's 121), the paper's 97 rows I_freq, ``--angles`` easy-axis angles 0°, 180°/n, …
(default 2: 0° and 90°), one diameter and the paper's anisotropy grid K = 100 … 9000 J/m³
(step 100, 90 values). Steps:

0. one untimed warm-up solve (numba compilation);
1. ``dictionary(..., anisotropy_interpolation=AnisotropyInterpolation(rtol, max_stride))``
   (in this process, no cache); wall time and exact (D, K) solves out of 90;
2. ``--checks`` interpolated (non-node) K values, spread over the grid, are then solved
   exactly one by one (the same task as in the dictionary: both angles in one physics
   call); the row contract's errors of the interpolated element against that solve (per
   angle the RMS over the rows and the largest row of the per-row eq. 20 errors, rows
   normalised by their own peaks with the floor of 1e-5 of the matrix peak; the worst
   angle) are the measured interpolation error, printed whatever it is;
3. the time of computing all 90 exactly is estimated as 90 × the mean time of one
   exact pair from step 2, and the interpolated run is reported relative to it.

All figures are ratios to references measured in the same run; they also go to
``benchmarks/results/dictionary_interpolation.json`` (``--json``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _results import add_json_argument, write_results

from mdf_neel.fitting import frequency_set
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.simulate import AnisotropyInterpolation, dictionary
from mdf_neel.simulate.interpolation import contract_errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="neel", choices=("neel", "anisotropic-equilibrium"))
    parser.add_argument("--diameter", type=float, default=14e-9, help="core diameter in m (default 14e-9)")
    parser.add_argument("--rtol", type=float, default=1e-3, help="interpolation tolerance (default 1e-3)")
    parser.add_argument(
        "--solver-rtol",
        type=float,
        default=None,
        help="Néel solver rtol (default: --rtol; use 1e-4 so that solver noise stays below --rtol)",
    )
    parser.add_argument("--max-stride", type=int, default=16)
    parser.add_argument("--checks", type=int, default=6, help="interpolated K values solved exactly for the check")
    parser.add_argument("--grid", type=int, default=3, help="offsets per axis (grid x grid of the paper's extent)")
    parser.add_argument("--angles", type=int, default=2, help="easy-axis angles 0, 180/n, ... (default 2)")
    add_json_argument(parser, "dictionary_interpolation")
    args = parser.parse_args(argv)

    seq = paper_2d_sequence()
    offsets = paper_2d_offsets((args.grid, args.grid))[0]
    rows, _ = frequency_set(seq)
    K = np.arange(100.0, 9001.0, 100.0)
    angles = [180.0 * j / args.angles for j in range(args.angles)]
    solver_rtol = args.rtol if args.solver_rtol is None else args.solver_rtol
    physics = {"rtol": solver_rtol} if args.model == "neel" else {}
    common = dict(
        diameters_m=[args.diameter], angles_deg=angles, frequencies=rows, model=args.model, progress=False, **physics
    )
    option = AnisotropyInterpolation(rtol=args.rtol, max_stride=args.max_stride)
    print(
        f"model {args.model}, D = {args.diameter * 1e9:g} nm, {K.size} K values ({K[0]:g}..{K[-1]:g} J/m³), "
        f"{len(angles)} angles, {offsets.shape[0]} offsets, {rows.size} rows, 2 channels; {option}"
        + (f", Néel solver rtol {solver_rtol:g}" if physics else "")
    )

    dictionary(seq, offsets, anisotropies_Jm3=[K[0]], **common)  # warm-up (numba compilation), not timed
    t0 = time.perf_counter()
    d = dictionary(seq, offsets, anisotropies_Jm3=K, anisotropy_interpolation=option, **common)
    t_interp = time.perf_counter() - t0
    info = d.stats["interpolation"]
    nodes = info["nodes"][0]
    print(
        f"interpolated dictionary: {t_interp:.2f} s, {info['exact_pairs']} exact (D, K) solves of "
        f"{info['grid_pairs']} ({info['exact_pairs'] / info['grid_pairs']:.1%}), {info['rounds']} verification "
        f"rounds, largest accepted midpoint error RMS {info['max_accepted_error']:.2e}, "
        f"row {info['max_accepted_row_error']:.2e}"
    )
    print(f"  nodes (K in J/m³): {[int(K[i]) for i in nodes]}")
    rejected = [v for v in info["verifications"] if not v["accepted"]]
    print(
        f"  verifications: {len(info['verifications'])}, refined: {len(rejected)} "
        f"({sum(v['buffer'] for v in rejected)} by the neighbour buffer only)"
    )

    free = [i for i in range(K.size) if i not in set(nodes)]
    picks = [free[j] for j in np.unique(np.linspace(0, len(free) - 1, min(args.checks, len(free))).round().astype(int))]
    times, errors = [], []
    for i in picks:
        t0 = time.perf_counter()
        one = dictionary(seq, offsets, anisotropies_Jm3=[K[i]], **common)
        times.append(time.perf_counter() - t0)
        rms, worst = contract_errors(d.phi[0, i], one.phi[0, 0])
        errors.append({"rms": rms, "max": worst})
        print(
            f"  check K = {K[i]:6.0f} J/m³: exact solve {times[-1]:.2f} s, row contract error of the "
            f"interpolant (worst angle) RMS {rms:.2e}, max {worst:.2e}"
        )
    summary = {
        "K_Jm3": K,
        "interpolated_s": t_interp,
        "exact_pairs": info["exact_pairs"],
        "grid_pairs": info["grid_pairs"],
        "rounds": info["rounds"],
        "max_accepted_error": info["max_accepted_error"],
        "max_accepted_row_error": info["max_accepted_row_error"],
        "nodes_K_Jm3": K[list(nodes)],
        "verifications": len(info["verifications"]),
        "refined": len(rejected),
        "checks": [{"K_Jm3": K[i], "exact_s": t, **e} for i, t, e in zip(picks, times, errors)],
    }
    if not picks:
        print("  no interpolated K values (everything was solved exactly)")
        write_results(args.json, "dictionary_interpolation", args, summary)
        return 0
    t_pair = float(np.mean(times))
    t_all = K.size * t_pair
    print(
        f"measured interpolation error at {len(picks)} non-node K: RMS at most "
        f"{max(e['rms'] for e in errors):.2e}, largest row {max(e['max'] for e in errors):.2e} "
        f"(contract {args.rtol:g} / {10 * args.rtol:g})"
    )
    print(
        f"mean exact pair {t_pair:.2f} s -> all {K.size} exact ~ {t_all:.1f} s (estimate); "
        f"interpolated run {t_interp:.1f} s = {t_interp / t_all:.3f} x that "
        f"({t_all / t_interp:.1f}x faster); exact solves {info['exact_pairs']}/{K.size}"
    )
    summary.update(mean_exact_pair_s=t_pair, all_exact_estimate_s=t_all, speed_up=t_all / t_interp)
    write_results(args.json, "dictionary_interpolation", args, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
