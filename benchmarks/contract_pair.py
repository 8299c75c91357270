"""Cost of one dictionary (D, K) pair at the row-accuracy contract: the verified degree and
loosening pilot against the fixed degree and start of the previous rule, in the same run.

For each (D, K) point: the paper's sequence, ``--angles`` easy-axis angles x the 11 x 11
offsets (one physics call, as a dictionary pair), the 97 I_freq rows, both channels.

* ``default``: ``angle_system_functions`` with no options;
* ``previous rule``: the same call with the degree chosen for an m̄ accuracy of
  ``0.1·rtol`` and a pilot that never loosens (``DEGREE_RTOL_PER_RTOL = 0.1``,
  ``LOOSEN_TRIES = 0``);
* the true contract errors of both on ``--check`` seeded members, against the full model
  at degree + 4 and a per-step tolerance of 2.5e-8 (rows normalised with the whole
  batch's row and matrix peaks, as the contract defines them).

Printed: wall times, their ratio, the degree and step tolerance each chose, the true RMS
and maximum of the checked members. Results also go to ``--json``.

Usage::

    python benchmarks/contract_pair.py [--points 22/1100,18/1500] [--angles 4] [--check 12]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _converged import converged_members, true_errors
from _results import add_json_argument, write_results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="22/1100,18/1500", help="D_nm/K_Jm3 list")
    ap.add_argument("--angles", type=int, default=4, help="angles 0, 180/n, ... (default 4: the samples' angles)")
    ap.add_argument("--check", type=int, default=12, help="seeded members compared with converged solves")
    add_json_argument(ap, "contract_pair")
    args = ap.parse_args(argv)

    from mdf_neel.fitting.metrics import frequency_set
    from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
    from mdf_neel.simulate import accuracy
    from mdf_neel.simulate._system_functions import angle_system_functions

    seq = paper_2d_sequence()
    rows = frequency_set(seq)[0]
    offsets = paper_2d_offsets().offsets_T
    angles = np.arange(args.angles) * 180.0 / args.angles
    rng = np.random.default_rng(2022)
    members = np.sort(rng.choice(angles.size * offsets.shape[0], args.check, replace=False))
    a_idx, o_idx = np.divmod(members, offsets.shape[0])

    def pair(D, K, **constants):
        saved = {name: getattr(accuracy, name) for name in constants}
        for name, value in constants.items():
            setattr(accuracy, name, value)
        try:
            t = time.perf_counter()
            phi, info = angle_system_functions(
                seq, offsets, angles_deg=angles, diameter_m=D, anisotropy_Jm3=K, frequencies=rows, return_info=True
            )
            return phi, info["contract"], time.perf_counter() - t
        finally:
            for name, value in saved.items():
                setattr(accuracy, name, value)

    # numba compilation out of the timings: both the full model and the slow-mode model
    # (a batch of 48 members is the smallest that tries it)
    angle_system_functions(
        seq,
        offsets[:12],
        angles_deg=[0.0, 30.0, 60.0, 120.0],
        diameter_m=16e-9,
        anisotropy_Jm3=1000.0,
        frequencies=rows,
    )
    results = []
    print(f"{'point':>9} {'setting':>14} {'wall s':>7} {'degree':>6} {'step tol':>9} {'true RMS':>9} {'true max':>9}")
    for point in args.points.split(","):
        d_nm, K = (float(v) for v in point.split("/"))
        D = d_nm * 1e-9
        new = pair(D, K)
        old = pair(D, K, DEGREE_RTOL_PER_RTOL=accuracy.MEAN_RTOL_PER_RTOL, LOOSEN_TRIES=0)
        reference = converged_members(seq, offsets, angles, a_idx, o_idx, diameter_m=D, anisotropy_Jm3=K, rows=rows)
        entry = {"point": point, "angles_deg": angles.tolist(), "offsets": int(offsets.shape[0])}
        for name, (phi, contract, wall) in (("default", new), ("previous rule", old)):
            true = true_errors(phi, reference, a_idx, o_idx)
            entry[name] = {
                "wall_s": wall,
                "degree": contract.get("degree"),
                "step_tolerance": contract["step_tolerance"],
                "estimate": {"rms": contract["rms"], "max": contract["max"]},
                "true": true,
            }
            print(
                f"{point:>9} {name:>14} {wall:7.1f} {contract.get('degree', -1):6d} "
                f"{contract['step_tolerance']:9.2e} {true['rms']:9.2e} {true['max']:9.2e}",
                flush=True,
            )
        entry["speedup"] = old[2] / new[2]
        print(f"{point:>9} {'speed-up':>14} {entry['speedup']:7.2f}x (previous rule / default, same run)")
        results.append(entry)
    write_results(args.json, "contract_pair", args, results)
    held = all(r["default"]["true"]["rms"] <= 1e-3 and r["default"]["true"]["max"] <= 1e-2 for r in results)
    print("contract held at every point" if held else "CONTRACT MISSED at some point")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
