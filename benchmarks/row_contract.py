"""The row-accuracy contract at the defaults, and its cost against the fastest fixed setting.

The paper: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).

For each (D, K) point of the paper's grid, on the paper's sequence with ``--angles``
easy-axis angles x ``--offsets`` offsets of the 11 x 11 grid (seeded choice), the 97
I_freq rows and both channels:

* the converged reference: the full model at degree + 4 and a per-step tolerance of
  2.5e-8;
* the defaults (``angle_system_functions`` with no options): wall time, the true
  contract errors against the reference (RMS and max of the per-row NRMSE with the 1e-5
  floor), the batch's own estimate, the method and step tolerance it chose;
* a ladder of fixed settings (full model, ``step_tolerance`` from 2.5e-5 down, not
  verified): the loosest one whose true errors hold the contract and its wall time.

Printed: the ratio of the defaults' time to that fastest passing setting (the contract
asks for <= 1.5 at the dictionary's batch size, 12 angles x 121 offsets, where the
four checked members cost little; small batches here pay proportionally more for the
check). Results also go to ``--json``.

Usage::

    python benchmarks/row_contract.py                       # 4 points, 3 angles x 5 offsets
    python benchmarks/row_contract.py --points 26/6700 --angles 12 --offsets 11
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

LADDER = (2.5e-5, 8e-6, 2.5e-6, 8e-7, 2.5e-7, 8e-8)
REFERENCE_STEP_TOLERANCE = 2.5e-8


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="14/100,16/2300,22/1100,20/4400", help="D_nm/K_Jm3 list")
    ap.add_argument("--angles", type=int, default=3, help="angles from 0, 15, ..., 165 (seeded)")
    ap.add_argument("--offsets", type=int, default=5, help="offsets of the 11 x 11 grid (seeded)")
    ap.add_argument("--json", default="benchmarks/results/row_contract.json")
    args = ap.parse_args(argv)

    from mdf_neel._atomic import atomic_path
    from mdf_neel.fitting.metrics import frequency_set
    from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
    from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR, contract_row_errors, contract_summary
    from mdf_neel.simulate._system_functions import angle_system_functions, neel_resolution

    seq = paper_2d_sequence()
    rows = frequency_set(seq)[0]
    rng = np.random.default_rng(2022)
    all_offsets = paper_2d_offsets()[0]
    offsets = all_offsets[np.sort(rng.choice(all_offsets.shape[0], args.offsets, replace=False))]
    angles = np.sort(rng.choice(np.arange(0.0, 180.0, 15.0), args.angles, replace=False))

    def rows_at(D, K, **kw):
        t = time.perf_counter()
        out = angle_system_functions(
            seq, offsets, angles_deg=angles, diameter_m=D, anisotropy_Jm3=K, frequencies=rows, return_info=True, **kw
        )
        return out[0], out[1], time.perf_counter() - t

    results = []
    print(
        f"{'point':>10} {'default s':>9} {'RMS':>8} {'max':>8} {'est max':>8} {'method':>9} {'tol':>8} "
        f"{'fastest':>8} {'s':>7} {'ratio':>6}"
    )
    for point in args.points.split(","):
        d_nm, k = (float(v) for v in point.split("/"))
        D = d_nm * 1e-9
        degree = neel_resolution(seq, offsets, diameter_m=D, anisotropy_Jm3=k, rtol=1e-6)
        reference, _, ref_s = rows_at(
            D, k, method="full", resolution=degree + 4, step_tolerance=REFERENCE_STEP_TOLERANCE
        )
        phi, info, default_s = rows_at(D, k)
        true = contract_summary(contract_row_errors(phi, reference))
        contract = info["contract"]
        fastest = None
        for tol in LADDER:
            phi_t, _, t_s = rows_at(D, k, method="full", step_tolerance=tol)
            e = contract_summary(contract_row_errors(phi_t, reference))
            if e["rms"] <= 1e-3 and e["max"] <= MAX_ROW_FACTOR * 1e-3:
                fastest = {"step_tolerance": tol, "wall_s": t_s, **e}
                break
        ratio = default_s / fastest["wall_s"] if fastest else float("nan")
        results.append(
            {
                "point": point,
                "angles_deg": angles.tolist(),
                "offsets": int(offsets.shape[0]),
                "reference_s": ref_s,
                "default_s": default_s,
                "true": true,
                "estimate": {"rms": contract["rms"], "max": contract["max"]},
                "met": contract["met"],
                "method": info.get("method"),
                "step_tolerance": contract["step_tolerance"],
                "fastest_passing": fastest,
                "ratio_to_fastest": ratio,
            }
        )
        print(
            f"{point:>10} {default_s:9.1f} {true['rms']:8.1e} {true['max']:8.1e} {contract['max']:8.1e} "
            f"{info.get('method'):>9} {contract['step_tolerance']:8.1e} "
            f"{(fastest or {}).get('step_tolerance', float('nan')):8.1e} "
            f"{(fastest or {}).get('wall_s', float('nan')):7.1f} {ratio:6.2f}",
            flush=True,
        )
    if args.json:
        import os

        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with atomic_path(args.json) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"benchmark": "row_contract", "results": results}, fh, indent=1)
    held = all(r["true"]["rms"] <= 1e-3 and r["true"]["max"] <= 1e-2 for r in results)
    print("contract held at every point" if held else "CONTRACT MISSED at some point")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
