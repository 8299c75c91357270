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

``--without-series`` also solves each pair at the defaults with the quasi-static series
turned off (the stepper's path, which ``row-contract-6`` and earlier took), in the same
run: the series' gain at the contract. Where the default took the series, ``--fastest``
scans fixed series settings (no check; degrees ``d − 2 … d``, lowest first) instead of
the stepper's.

``--without-second-try`` also solves each pair at the defaults without the models' second
tries at a raised degree (``SLOW_MODE_SECOND_TRY = QUASI_STATIC_SECOND_TRY = False``: after
a miss of either model the full model runs, the path of ``row-contract-10`` and earlier),
in the same run.

``--without-grading`` also solves each pair at the defaults with the quasi-static series'
uniform table (``TABLE_GRADING = None``, the path of ``row-contract-12`` and earlier: where
its table exceeds ``MAX_TABLE_BYTES`` the stepper's path), in the same run.

Each setting's contract history (method, degree and step tolerance of every checked solve,
with its estimate) goes to the JSON too.

``--fastest`` also scans fixed settings of the full model on the same pair, without any
check (an oracle that knows its setting): degrees ``d − 2 … d`` around the default's
degree ``d``, each at 16×, 4× and 1× the default's step tolerance, loosest first, until one
holds the contract on the checked members. The ratio of the default's wall time (check
included) to the fastest passing setting's is printed from the same run.

Usage::

    python benchmarks/contract_pair.py [--points 22/1100,18/1500] [--angles 4] [--check 12] [--fastest]
    python benchmarks/contract_pair.py --points 14/6700,16/2300 --angles 12 --check 6 --no-previous \
        --without-series --fastest
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _converged import converged_members, true_errors
from _results import add_json_argument, format_tolerance, write_results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="22/1100,18/1500", help="D_nm/K_Jm3 list")
    ap.add_argument("--angles", type=int, default=4, help="angles 0, 180/n, ... (default 4: the samples' angles)")
    ap.add_argument("--check", type=int, default=12, help="seeded members compared with converged solves")
    ap.add_argument("--fastest", action="store_true", help="also scan fixed settings for the fastest passing one")
    ap.add_argument("--no-previous", action="store_true", help="skip the previous rule")
    ap.add_argument("--without-series", action="store_true", help="also solve without the quasi-static series")
    ap.add_argument("--without-second-try", action="store_true", help="also solve without the models' second tries")
    ap.add_argument(
        "--without-grading", action="store_true", help="also solve with the quasi-static series' uniform table"
    )
    add_json_argument(ap, "contract_pair")
    args = ap.parse_args(argv)
    if args.check < 1:
        ap.error("--check must be at least 1: the true errors are measured on converged members")

    from mdf_neel.fitting.metrics import frequency_set
    from mdf_neel.physics.neel import quasi_static
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

    def pair(D, K, module=accuracy, **constants):
        saved = {name: getattr(module, name) for name in constants}
        for name, value in constants.items():
            setattr(module, name, value)
        try:
            t = time.perf_counter()
            phi, info = angle_system_functions(
                seq, offsets, angles_deg=angles, diameter_m=D, anisotropy_Jm3=K, frequencies=rows, return_info=True
            )
            return phi, info["contract"], time.perf_counter() - t
        finally:
            for name, value in saved.items():
                setattr(module, name, value)

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
        settings = [("default", new)]
        if not args.no_previous:
            old = pair(D, K, DEGREE_RTOL_PER_RTOL=accuracy.MEAN_RTOL_PER_RTOL, LOOSEN_TRIES=0)
            settings.append(("previous rule", old))
        if args.without_series:
            stepper = pair(D, K, _quasi_static_applies=lambda *a: False)
            settings.append(("without series", stepper))
        if args.without_second_try:
            single = pair(D, K, SLOW_MODE_SECOND_TRY=False, QUASI_STATIC_SECOND_TRY=False)
            settings.append(("one try", single))
        if args.without_grading:
            uniform = pair(D, K, module=quasi_static, TABLE_GRADING=None)
            settings.append(("uniform table", uniform))
        reference = converged_members(seq, offsets, angles, a_idx, o_idx, diameter_m=D, anisotropy_Jm3=K, rows=rows)
        entry = {"point": point, "angles_deg": angles.tolist(), "offsets": int(offsets.shape[0])}
        if args.fastest:
            scan = _scan_series if new[1].get("method") == "quasi-static" else _scan_fixed
            entry["scan"] = scan(
                seq, offsets, angles, rows, D, K, new[1], lambda phi: true_errors(phi, reference, a_idx, o_idx)
            )
        for name, (phi, contract, wall) in settings:
            true = true_errors(phi, reference, a_idx, o_idx)
            entry[name] = {
                "wall_s": wall,
                "method": contract.get("method"),
                "degree": contract.get("degree"),
                "step_tolerance": contract["step_tolerance"],
                "estimate": {"rms": contract["rms"], "max": contract["max"]},
                "true": true,
                "history": [
                    {k: h[k] for k in ("method", "degree", "step_tolerance", "rms", "max")}
                    for h in contract.get("history", [])
                ],
            }
            print(
                f"{point:>9} {name:>14} {wall:7.1f} {contract.get('degree', -1):6d} "
                f"{format_tolerance(contract['step_tolerance'])} {true['rms']:9.2e} {true['max']:9.2e} {contract.get('method')}",
                flush=True,
            )
        if not args.no_previous:
            entry["speedup"] = old[2] / new[2]
            print(f"{point:>9} {'speed-up':>14} {entry['speedup']:7.2f}x (previous rule / default, same run)")
        if args.without_series:
            entry["series_speedup"] = stepper[2] / new[2]
            print(f"{point:>9} {'speed-up':>14} {entry['series_speedup']:7.2f}x (without series / default, same run)")
        if args.without_second_try:
            entry["second_try_speedup"] = single[2] / new[2]
            print(f"{point:>9} {'speed-up':>14} {entry['second_try_speedup']:7.2f}x (one try / default, same run)")
        if args.without_grading:
            entry["grading_speedup"] = uniform[2] / new[2]
            print(f"{point:>9} {'speed-up':>14} {entry['grading_speedup']:7.2f}x (uniform table / default, same run)")
        if args.fastest:
            passing = [s for s in entry["scan"] if s["passed"]]
            if passing:
                best = min(passing, key=lambda s: s["wall_s"])
                entry["fastest"] = best
                entry["default_over_fastest"] = new[2] / best["wall_s"]
                print(
                    f"{point:>9} {'vs fastest':>14} {entry['default_over_fastest']:7.2f}x (default, check included / "
                    f"fastest passing fixed setting: degree {best['degree']}, step tolerance "
                    f"{format_tolerance(best['step_tolerance'])}, {best['wall_s']:.1f} s; same run)"
                )
            else:
                print(f"{point:>9} {'vs fastest':>14} no scanned setting passed")
        results.append(entry)
    write_results(args.json, "contract_pair", args, results)
    held = all(r["default"]["true"]["rms"] <= 1e-3 and r["default"]["true"]["max"] <= 1e-2 for r in results)
    print("contract held at every point" if held else "CONTRACT MISSED at some point")
    return 0 if held else 1


def _timed_rows(seq, offsets, angles, rows, D, K, **setting):
    """(rows, wall s) of the whole pair at a fixed setting, without any check."""
    from mdf_neel.simulate._system_functions import angle_system_functions

    t = time.perf_counter()
    phi = angle_system_functions(
        seq, offsets, angles_deg=angles, diameter_m=D, anisotropy_Jm3=K, frequencies=rows, **setting
    )
    return phi, time.perf_counter() - t


def _scan_series(seq, offsets, angles, rows, D, K, contract, errors_of):
    """Fixed quasi-static settings around the default's degree d (no check): degrees
    d − 2 … d, lowest first, until one passes."""
    degree = int(contract["degree"])
    out = []
    for d in range(max(2, degree - 2), degree + 1):
        phi, wall = _timed_rows(seq, offsets, angles, rows, D, K, method="quasi-static", resolution=d, verify=False)
        true = errors_of(phi)
        passed = bool(true["rms"] <= 1e-3 and true["max"] <= 1e-2)
        out.append({"degree": d, "step_tolerance": None, "wall_s": wall, "true": true, "passed": passed})
        print(
            f"{'':>9} {'fixed series':>14} {wall:7.1f} {d:6d} {format_tolerance(None)} {true['rms']:9.2e} "
            f"{true['max']:9.2e} {'passes' if passed else 'misses'}",
            flush=True,
        )
        if passed:
            break
    return out


def _scan_fixed(seq, offsets, angles, rows, D, K, contract, errors_of):
    """Fixed full-model settings around the default's (no check): per degree d − 2 … d, step
    tolerances 16×, 4×, 1× the default's, loosest first, until one passes."""
    degree, tol = int(contract["degree"]), float(contract["step_tolerance"])
    out = []
    for d in range(max(2, degree - 2), degree + 1):
        for factor in (16.0, 4.0, 1.0):
            phi, wall = _timed_rows(
                seq, offsets, angles, rows, D, K, method="full", resolution=d, step_tolerance=tol * factor
            )
            true = errors_of(phi)
            passed = bool(true["rms"] <= 1e-3 and true["max"] <= 1e-2)
            out.append({"degree": d, "step_tolerance": tol * factor, "wall_s": wall, "true": true, "passed": passed})
            print(
                f"{'':>9} {'fixed':>14} {wall:7.1f} {d:6d} {tol * factor:9.2e} {true['rms']:9.2e} "
                f"{true['max']:9.2e} {'passes' if passed else 'misses'}",
                flush=True,
            )
            if passed:
                break
    return out


if __name__ == "__main__":
    sys.exit(main())
