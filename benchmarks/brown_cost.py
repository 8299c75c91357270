"""Cost per trajectory of Brownian rotation against Néel rotation on the paper's 2-D sequence.

Both models are the same spherical-harmonic solver (``mdf_neel.physics.brown``); what
differs is the operator: Brownian rotation has no barrier and no precession, and its time
constant τ_B = 3ηV_h/(kB T) is microseconds to milliseconds against the Néel model's
nanoseconds. This benchmark measures what that does to the cost.

For every case, the same batch of members (the paper's drive at ``--offsets`` × ``--offsets``
offsets of its grid, easy axis at 30°) is solved in one ``mean_magnetization`` call per
model (periodic steady state, ``method="full"``, m̄ ``rtol`` as given, same thread count),
after one warm-up call per model that compiles the kernels. Printed per case: the
degree, τ (τ_B or the Néel time), the wall time per trajectory of each model, the mean
Rodas5P steps and period integrations per member, the members integrated (Brownian
rotation has one fixed frame axis, so mirror-image offsets are mapped rather than solved),
and the ratio brown / neel of the time per trajectory from the same run.

Usage::

    python benchmarks/brown_cost.py                # 3 cases, 3 x 3 offsets
    python benchmarks/brown_cost.py --offsets 5 --rtol 1e-4

Results: printed table and ``benchmarks/results/brown_cost.json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _results import add_json_argument, write_results

from mdf_neel.physics import ParticleParameters, mean_magnetization
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence

#: (core D [m], Néel K [J/m³], hydrodynamic D_h [m], viscosity [Pa s])
CASES = [
    (22e-9, 1100.0, 30e-9, 1e-3),
    (22e-9, 1100.0, 60e-9, 1e-3),
    (22e-9, 1100.0, 30e-9, 1e-1),
]


def _batch(n_offsets: int):
    seq = paper_2d_sequence()
    t = seq.times_s()
    b = seq.field_T(t)
    off = paper_2d_offsets(grid=(n_offsets, n_offsets)).offsets_T
    fields = b[None] + off[:, None, :]
    axis = np.array([np.cos(np.radians(30.0)), np.sin(np.radians(30.0)), 0.0])
    return t, fields, axis


def _solve(t, fields, axis, case, model, rtol, threads):
    d, k, dh, eta = case
    t0 = time.perf_counter()
    _, info = mean_magnetization(t, fields, diameter_m=d, anisotropy_Jm3=k, easy_axis=axis, model=model,
                                 hydrodynamic_diameter_m=dh, viscosity_Pas=eta, rtol=rtol, method="full",
                                 n_threads=threads, return_info=True)  # fmt: skip
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "per_trajectory_s": wall / fields.shape[0],
        "solved_members": int(info["solved_members"]),
        "degree": int(info["resolution"]),
        "mean_steps": float(np.mean(info["steps"])),
        "mean_periods": float(np.mean(info["periods"])),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offsets", type=int, default=3, help="offsets per axis of the paper's grid (default 3)")
    ap.add_argument("--rtol", type=float, default=1e-3, help="m̄ rtol of both models (default 1e-3)")
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    add_json_argument(ap, "brown_cost")
    a = ap.parse_args(argv)
    t, fields, axis = _batch(a.offsets)
    for model in ("neel", "brown"):  # compile the kernels before timing
        _solve(t, fields[:1], axis, CASES[0], model, a.rtol, a.threads)
    rows = []
    print(f"{fields.shape[0]} trajectories of {t.size} samples per model, m̄ rtol {a.rtol:g}, method full")
    print(f"{'D nm':>5} {'K':>6} {'Dh nm':>6} {'eta Pa s':>9} | {'tau_N s':>9} {'N':>3} {'neel s/traj':>11} "
          f"{'steps':>7} | {'tau_B s':>9} {'N':>3} {'brown s/traj':>12} {'steps':>7} {'periods':>7} {'solved':>6} | brown/neel")  # fmt: skip
    for case in CASES:
        d, k, dh, eta = case
        p = ParticleParameters(d, k, hydrodynamic_diameter_m=dh, viscosity_Pas=eta)
        neel = _solve(t, fields, axis, case, "neel", a.rtol, a.threads)
        brown = _solve(t, fields, axis, case, "brown", a.rtol, a.threads)
        ratio = brown["per_trajectory_s"] / neel["per_trajectory_s"]
        rows.append({"diameter_m": d, "anisotropy_Jm3": k, "hydrodynamic_diameter_m": dh, "viscosity_Pas": eta,
                     "neel_time_s": p.neel_time_s(), "brown_time_s": p.brown_time_s, "neel": neel, "brown": brown,
                     "ratio_brown_to_neel": ratio})  # fmt: skip
        print(f"{d * 1e9:5.0f} {k:6.0f} {dh * 1e9:6.0f} {eta:9.2g} | {p.neel_time_s():9.3g} {neel['degree']:3d} "
              f"{neel['per_trajectory_s']:11.3g} {neel['mean_steps']:7.0f} | {p.brown_time_s:9.3g} "
              f"{brown['degree']:3d} {brown['per_trajectory_s']:12.3g} {brown['mean_steps']:7.0f} "
              f"{brown['mean_periods']:7.2f} {brown['solved_members']:6d} | {ratio:.2f}")  # fmt: skip
    write_results(a.json, "brown_cost", a, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
