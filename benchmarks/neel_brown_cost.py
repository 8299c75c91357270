"""Cost per trajectory of combined Néel–Brown rotation against Néel and Brownian rotation.

``model="neel-brown"`` solves the joint density of moment and easy axis on a product of
two spherical-harmonic bases (``mdf_neel.physics.neel_brown``): n = (L_m + 1)² ·
(L_n + 1)(L_n + 2)/2 unknowns, and one sparse LU per Rodas5P step that fills in almost
completely. ``"neel"`` and ``"brown"`` solve one sphere with banded LUs. This benchmark
measures what that costs on the paper's 2-D drive.

A periodic steady state of ``"neel-brown"`` on the whole 1632-sample period takes several
minutes per trajectory, so every model is timed here on the same window of the
trajectory: an initial-value run (``steady_state=False``, equilibrium start) over the
first ``--samples`` samples of the paper's sequence, one trajectory, the easy axis of the
single-sphere models at 30° in the drive plane, m̄ ``rtol`` as given, ``method="full"``
for ``"neel"`` and ``"brown"``. One warm-up call per model compiles the kernels first.
Printed per case: degrees, accepted steps, wall time per trajectory of each model, and
the ratios neel-brown / neel and brown / neel from the same run; and the wall time per
sample interval of ``"neel-brown"``, times the sample count of a period (an estimate of
one period integration; a steady state takes at least three).

Usage::

    python benchmarks/neel_brown_cost.py                 # 3 cases, 204 samples (1/8 period)
    python benchmarks/neel_brown_cost.py --samples 408

Results: printed table and ``benchmarks/results/neel_brown_cost.json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _results import add_json_argument, write_results

from mdf_neel.physics import ParticleParameters, mean_magnetization
from mdf_neel.sequence import paper_2d_sequence

#: (core D [m], K [J/m³], hydrodynamic D_h [m], viscosity [Pa s], m̄ rtol)
CASES = [
    (14e-9, 2000.0, 30e-9, 1e-3, 1e-2),
    (14e-9, 2000.0, 30e-9, 1e-3, 1e-3),
    (18e-9, 1500.0, 30e-9, 1e-3, 1e-2),
]
MODELS = ("neel", "brown", "neel-brown")
AXIS = (np.cos(np.radians(30.0)), np.sin(np.radians(30.0)), 0.0)


def _solve(t, fields, case, model):
    d, k, dh, eta, rtol = case
    t0 = time.perf_counter()
    _, info = mean_magnetization(t, fields, diameter_m=d, anisotropy_Jm3=k, easy_axis=AXIS, model=model,
                                 hydrodynamic_diameter_m=dh, viscosity_Pas=eta, rtol=rtol, steady_state=False,
                                 method="auto" if model == "neel-brown" else "full", n_threads=1,
                                 return_info=True)  # fmt: skip
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "per_trajectory_s": wall,
        "degree": int(info["resolution"]),
        "orientation_degree": int(info.get("orientation_resolution", 0)),
        "unknowns": int(info.get("n_coefficients", (info["resolution"] + 1) ** 2)),
        "steps": float(np.mean(info["steps"])),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=204, help="samples of the window (default 204, 1/8 period)")
    add_json_argument(ap, "neel_brown_cost")
    a = ap.parse_args(argv)
    seq = paper_2d_sequence()
    t_all = seq.times_s()
    if not 2 <= a.samples <= t_all.size:
        ap.error(f"--samples must lie in [2, {t_all.size}]")
    t = t_all[: a.samples]
    fields = seq.field_T(t)
    for model in MODELS:  # compile / load the kernels before timing
        _solve(t[:8], fields[:8], CASES[0], model)
    print(f"paper 2-D drive, first {t.size} of {t_all.size} samples, one trajectory, initial-value run, 1 thread")
    print(f"{'D nm':>5} {'K':>6} {'Dh nm':>6} {'rtol':>6} | {'neel s':>8} {'L':>3} | {'brown s':>8} | "
          f"{'n-b s':>8} {'Lm,Ln':>6} {'unknowns':>8} {'steps':>6} | {'n-b/neel':>8} {'brown/neel':>10} | "
          f"{'n-b s/period':>12}")  # fmt: skip
    rows = []
    for case in CASES:
        d, k, dh, eta, rtol = case
        p = ParticleParameters(d, k, hydrodynamic_diameter_m=dh, viscosity_Pas=eta)
        res = {model: _solve(t, fields, case, model) for model in MODELS}
        nb, ne, br = res["neel-brown"], res["neel"], res["brown"]
        per_period = nb["wall_s"] / (t.size - 1) * t_all.size
        row = {"diameter_m": d, "anisotropy_Jm3": k, "hydrodynamic_diameter_m": dh, "viscosity_Pas": eta,
               "rtol": rtol, "brown_time_s": p.brown_time_s, "tau_s": p.tau_s, **res,
               "ratio_neel_brown_to_neel": nb["wall_s"] / ne["wall_s"],
               "ratio_brown_to_neel": br["wall_s"] / ne["wall_s"],
               "neel_brown_s_per_period_estimate": per_period}  # fmt: skip
        rows.append(row)
        print(f"{d * 1e9:5.0f} {k:6.0f} {dh * 1e9:6.0f} {rtol:6.0e} | {ne['wall_s']:8.3g} {ne['degree']:3d} | "
              f"{br['wall_s']:8.3g} | {nb['wall_s']:8.3g} {nb['degree']:>3d},{nb['orientation_degree']:<2d} "
              f"{nb['unknowns']:8d} {nb['steps']:6.0f} | {row['ratio_neel_brown_to_neel']:8.0f} "
              f"{row['ratio_brown_to_neel']:10.2f} | {per_period:12.3g}")  # fmt: skip
    write_results(a.json, "neel_brown_cost", a, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
