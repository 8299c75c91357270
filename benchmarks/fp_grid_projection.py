"""Whole-dictionary projection of the Néel solver from a sample of the paper's (D, K) grid.

The paper: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).

``fp_speed.py`` measures a few corners in detail; its projection is the mean over the
cases it ran, which says little about the whole grid (the cost per trajectory spans
two orders of magnitude over it). This script samples the grid with the solver as the
dictionary calls it (``method="auto"``: reduced basis or full model as the cost guard
decides; all 12 angles × an offset grid in ONE call per (D, K) pair, symmetric members
mapped) and projects the 720-pair dictionary (8 diameters × 90 anisotropies × 1452
trajectories) by interpolating log(core-seconds per trajectory) bilinearly in
(D, K) between the sampled pairs.

Caveats, printed with the result: small offset grids make per-trajectory costs larger
than in the dictionary's 1452-member calls (training and verification solves are spread
over fewer members), and bilinear interpolation between few samples is a rough cost
model. Figures are printed as ratios to the 8 h target.

Usage::

    python benchmarks/fp_grid_projection.py                  # 3 x 4 pairs, 12 x 3 x 3 offsets
    python benchmarks/fp_grid_projection.py --diameters 14,22,28 --anisotropies 100,1100,4000,9000 --offsets 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _results import add_json_argument, write_results

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fp_speed import ANGLES, angle_batch  # noqa: E402  (the paper's sequence and angles)

GRID_D_NM = np.arange(14.0, 28.1, 2.0)
GRID_K = np.arange(100.0, 9000.1, 100.0)
MEMBERS_PER_PAIR = 12 * 121
TARGET_H = 8.0


def measure(D_nm, K, n_off, rtol, threads):
    """Core-seconds per requested trajectory of one auto call (12 angles x n_off² offsets)."""
    import numba

    from mdf_neel.physics import mean_magnetization

    numba.set_num_threads(threads)
    t, f, fields, axes = angle_batch(n_off)
    kw = dict(diameter_m=D_nm * 1e-9, anisotropy_Jm3=K)
    mean_magnetization(t[:8], f[:1, :8], steady_state=False, rtol=rtol, resolution=4, **kw)
    t0 = time.perf_counter()
    _, info = mean_magnetization(
        t, fields, easy_axis=axes, rtol=rtol, return_info=True, method="auto", n_threads=threads, **kw
    )
    wall = time.perf_counter() - t0
    return dict(
        core_s=wall * threads / fields.shape[0],
        N=int(info["resolution"]),
        M=int(np.max(info["azimuthal_resolution"])),
        method=info["method"],
        fallback=bool(info.get("rb_fallback", False)),
        r=info.get("rb_dimension"),
        solved=int(info["solved_members"]),
        members=int(fields.shape[0]),
        verification=info.get("slow_mode_verification_error"),
        accepted=info.get("slow_mode_accepted"),
        table_s=info.get("slow_mode_table_s"),
    )


def _slow_mode_columns(res):
    """'verr table-s' of a slow-mode attempt: the largest difference of the verified
    members from the full model (x: rejected) and the table's wall time."""
    if res["verification"] is None:
        return "%9s %7s" % ("-", "-")
    mark = "" if res["accepted"] else "x"
    return "%9s %7.1f" % (f"{res['verification']:.1e}{mark}", res["table_s"])


def project(d_s, k_s, cost):
    """Dictionary core-seconds from sampled costs (len(d_s), len(k_s)) by bilinear
    interpolation of log cost in (D, K), constant beyond the sampled range."""
    logc = np.log(cost)
    along_k = np.array([np.interp(GRID_K, k_s, row) for row in logc])  # (len(d_s), 90)
    grid = np.array(
        [[np.interp(d, d_s, along_k[:, j]) for j in range(GRID_K.size)] for d in GRID_D_NM]
    )  # (8, 90) log cost per pair
    return float(np.exp(grid).sum() * MEMBERS_PER_PAIR)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--diameters", default="14,22,28", help="sampled D [nm]")
    ap.add_argument("--anisotropies", default="100,1100,4000,9000", help="sampled K [J/m³]")
    ap.add_argument("--offsets", type=int, default=3, help="offsets per axis (x 12 angles)")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    add_json_argument(ap, "fp_grid_projection")
    a = ap.parse_args(argv)
    d_s = np.array(sorted(float(v) for v in a.diameters.split(",")))
    k_s = np.array(sorted(float(v) for v in a.anisotropies.split(",")))
    from mdf_neel.physics.particles import ParticleParameters

    print(
        f"# Néel FP dictionary projection: method='auto', {ANGLES.size} angles x "
        f"{a.offsets}x{a.offsets} offsets per (D, K) call, rtol={a.rtol}, threads={a.threads}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        "%5s %6s %6s %3s %3s %9s %5s %9s %9s %7s %12s"
        % ("D[nm]", "K", "sigma", "N", "M", "method", "r", "solved", "verr", "table-s", "core-s/traj")
    )
    cost = np.zeros((d_s.size, k_s.size))
    for i, d in enumerate(d_s):
        for j, k in enumerate(k_s):
            res = measure(d, k, a.offsets, a.rtol, a.threads)
            cost[i, j] = res["core_s"]
            method = "full*" if res["fallback"] else res["method"]
            print(
                "%5.0f %6.0f %6.2f %3d %3d %9s %5s %9s %s %12.3f"
                % (
                    d,
                    k,
                    ParticleParameters(d * 1e-9, k).sigma,
                    res["N"],
                    res["M"],
                    method,
                    res["r"] if res["r"] is not None else "-",
                    f"{res['solved']}/{res['members']}",
                    _slow_mode_columns(res),
                    res["core_s"],
                ),
                flush=True,
            )
    total = project(d_s, k_s, cost)
    hours = total / 2 / 3600
    print()
    print(
        f"projected dictionary ({GRID_D_NM.size} x {GRID_K.size} pairs x {MEMBERS_PER_PAIR} "
        f"trajectories) on 2 cores: {hours:.1f} h (ratio to the {TARGET_H:g} h target "
        f"{hours / TARGET_H:.2f})"
    )
    sig = np.array([[ParticleParameters(d * 1e-9, k).sigma for k in GRID_K] for d in GRID_D_NM])
    print(f"pairs with sigma > 10: {int(np.sum(sig > 10))} of {sig.size}")
    write_results(
        a.json,
        "fp_grid_projection",
        a,
        {"diameters_nm": d_s, "anisotropies_Jm3": k_s, "core_s_per_trajectory": cost, "projected_h_2_cores": hours},
    )
    print(
        "caveats: a small offset grid over-weights training/verification solves; the cost "
        "model is bilinear in (D, K) between the sampled pairs (full* = the reduced basis "
        "was tried and fell back to the full model; verr = largest relative L2 difference "
        "of the slow-mode model from the full model on the batch's verified members, "
        "x = rejected)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
