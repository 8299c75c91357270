"""Speed, memory and accuracy of the Néel Fokker–Planck solver on the paper's sequence.

The paper: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).

Sequence: 2.5 MHz/102 (x) and /96 (y) cosine drive, 12.59 / 13.55 mT, 1632 samples per
652.8 µs period; 11 x 11 offset grid (±14.35 mT in x, ±14.71 mT in y); easy axis at 30°.
Cases: the (D, K) grid corners D in {14, 22, 28} nm x K in {100, 1100, 9000} J/m³.

For every case (each in a fresh subprocess, so that peak memory is per case):
* full model (``method="full"``): the offset batch (``--full-offsets`` per axis, 30°) in
  one ``mean_magnetization`` call (periodic steady state): trajectories per second per
  core, peak extra memory;
* reduced basis (``method="reduced"``): all 12 angles (0°, 15°, ..., 165°) × the
  ``--offsets`` grid of the (D, K) pair in ONE call, as the dictionary does:
  trajectories per second per core (training full solves included), basis dimension,
  number of full solves, the verification error it reports, and its relative L2 error
  against the converged reference on members at 30° (the same members as the full
  model's) and at 150° (their symmetric images, mapped, not solved: column ``solved``
  counts the members actually integrated) — ratio to the full model's rate measured in
  the same run;
* slow-mode model (``method="slow-mode"``, what ``"auto"`` takes for these batches): the
  same all-angles batch in one call, rate, ratio to the full model's, members integrated
  (``smSolved``: one per symmetry class, as for the reduced basis), the verification
  error it reports, its error against the same converged references (30° and 150°), and
  whether its verification accepted it;
  ``--methods`` selects which of the two batch methods are timed (the reduced basis at
  28 nm / 9000 J/m³ falls back to full solves and takes most of that case's time);
* accuracy: relative L2 error of m̄(t) against a converged run (degree + 8, rtol/100) on
  a few offsets (centre, corner, edge);
* baseline: plain ``scipy.integrate.solve_ivp(method="BDF")`` with the analytic sparse
  Jacobian on the *same* discretisation, against this solver on the same initial-value
  problem (first ``--baseline-samples`` samples from the discrete equilibrium), as a ratio.

Usage::

    python benchmarks/fp_speed.py                 # 9 corners, 12 x 11 x 11 (hours at K=9000)
    python benchmarks/fp_speed.py --quick         # 2 cases, 12 angles x 3 x 3 offsets
    python benchmarks/fp_speed.py --cases 22:1100,28:9000 --offsets 5
    python benchmarks/fp_speed.py --methods slow-mode   # 9 corners, the dictionary's method

All figures are also printed as ratios to references measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np
from _results import add_json_argument, write_results

DICTIONARY_SOLVES = 1_045_440
F_BASE = 2.5e6
P = 1632


def sequence(n_off):
    t = np.arange(P) / F_BASE
    dx = 12.59e-3 * np.cos(2 * np.pi * F_BASE / 102 * t)
    dy = 13.55e-3 * np.cos(2 * np.pi * F_BASE / 96 * t)
    ox = np.linspace(-14.35e-3, 14.35e-3, n_off)
    oy = np.linspace(-14.71e-3, 14.71e-3, n_off)
    fields = np.zeros((n_off * n_off, P, 3))
    k = 0
    for j in range(n_off):  # x fastest
        for i in range(n_off):
            fields[k, :, 0] = dx + ox[i]
            fields[k, :, 1] = dy + oy[j]
            k += 1
    return t, fields


def _rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


ANGLES = np.arange(0.0, 180.0, 15.0)


def angle_batch(n_off):
    """The dictionary's call for one (D, K) pair: every angle of ``ANGLES`` x the
    ``n_off`` x ``n_off`` offset grid. Returns (times, offset fields (O, P, 3), fields
    (len(ANGLES)·O, P, 3), easy axes (len(ANGLES)·O, 3)); angle-major, offsets inside."""
    t, f_off = sequence(n_off)
    O = f_off.shape[0]
    f_all = np.concatenate([f_off] * ANGLES.size)
    axes = np.repeat(np.stack([(math.cos(math.radians(a)), math.sin(math.radians(a)), 0.0) for a in ANGLES]), O, axis=0)
    return t, f_off, f_all, axes


def worker(D_nm, K, n_off, rtol, baseline_samples, threads, n_full, methods):
    import numba

    from mdf_neel.physics import ParticleParameters, mean_magnetization
    from mdf_neel.physics.neel.discretisation import NeelDiscretisation
    from mdf_neel.physics.neel.frame import rotation_to_z

    numba.set_num_threads(threads)
    th = math.radians(30.0)
    axis = (math.cos(th), math.sin(th), 0.0)
    t, fields = sequence(n_full)
    kw = dict(diameter_m=D_nm * 1e-9, anisotropy_Jm3=K, easy_axis=axis)
    # compile / warm caches outside the timed region
    mean_magnetization(t[:8], fields[:1, :8], steady_state=False, rtol=rtol, resolution=4, **kw)
    rss0 = _rss_mb()
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    t0 = time.perf_counter()
    m, info = mean_magnetization(t, fields, rtol=rtol, return_info=True, method="full", **kw)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    nb = fields.shape[0]
    N = info["resolution"]
    M = int(np.max(info["azimuthal_resolution"]))  # azimuthal order |m| <= M (N: all)
    # the converged reference: degree N + 8, all orders where the run kept all, else
    # M + 12 (the m̄ change from |m| <= 16 to all orders was 1e-6 at 28 nm / 9000 J/m³)
    kw["azimuthal_resolution"] = N + 8 if M >= N else min(N + 8, M + 12)
    # accuracy against a converged run on a few offsets
    c = nb // 2
    sel = sorted({0, c, min(nb - 1, c + n_full // 2), nb - 1})
    m_ref = mean_magnetization(t, fields[sel], rtol=rtol / 100, resolution=N + 8, method="full", **kw)
    err = [float(np.linalg.norm(m[s] - m_ref[i]) / np.linalg.norm(m_ref[i])) for i, s in enumerate(sel)]
    # reduced basis: all angles x the offset grid in one call
    _, f_off, f_all, axes = angle_batch(n_off)
    O = f_off.shape[0]
    kw_r = dict(diameter_m=D_nm * 1e-9, anisotropy_Jm3=K)
    kw_ref = dict(azimuthal_resolution=kw["azimuthal_resolution"])

    def all_angles(method):
        """One timed call on the all-angles batch: (m, info, wall [s], peak extra [MB])."""
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        start = time.perf_counter()
        m_b, info_b = mean_magnetization(
            t, f_all, easy_axis=axes, rtol=rtol, resolution=N, method=method, return_info=True, **kw_r
        )
        wall_b = time.perf_counter() - start
        peak_b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        return m_b, info_b, wall_b, max(0.0, peak_b - peak_before)

    # accuracy of the batch results at 30° against the converged reference: corner,
    # centre and corner offsets, the same physical fields as three of the full model's
    # accuracy members (the 3 x 3 grid is part of every odd grid): their references are
    # reused, not solved again
    i30 = int(np.argmin(np.abs(ANGLES - 30.0)))
    sel_r = [0, O // 2, O - 1]
    same = [0, c, nb - 1]  # in sel; their fields equal those of sel_r when the grids nest
    if all(np.allclose(fields[k], f_off[s_r], rtol=0, atol=1e-12) for k, s_r in zip(same, sel_r)):
        m_ref_r = m_ref[[sel.index(k) for k in same]]
    else:
        m_ref_r = mean_magnetization(t, f_off[sel_r], rtol=rtol / 100, resolution=N + 8, method="full", **kw)
    # and at 150°, whose members are the symmetric images of the 30° ones (not solved)
    i150 = int(np.argmin(np.abs(ANGLES - 150.0)))
    th150 = math.radians(150.0)
    m_ref_150 = mean_magnetization(
        t,
        f_off[sel_r],
        rtol=rtol / 100,
        resolution=N + 8,
        method="full",
        diameter_m=D_nm * 1e-9,
        anisotropy_Jm3=K,
        **kw_ref,
        easy_axis=(math.cos(th150), math.sin(th150), 0.0),
    )

    def batch_errors(m_b):
        # relative L2 errors of an all-angles batch at 30° and 150° against the references
        return [
            float(np.linalg.norm(m_b[ia * O + s] - ref[i]) / np.linalg.norm(ref[i]))
            for ia, ref in ((i30, m_ref_r), (i150, m_ref_150))
            for i, s in enumerate(sel_r)
        ]

    nan = float("nan")
    if "reduced" in methods:
        m_red, info_r, wall_r, peak_extra_r = all_angles("reduced")
        err_r = batch_errors(m_red)
    else:
        info_r, wall_r, peak_extra_r, err_r = {"steps": [nan]}, nan, 0.0, [nan]
    # slow-mode model: the same batch in one call (its table is shared by all members)
    if "slow-mode" in methods:
        m_sm, info_s, wall_s, peak_extra_s = all_angles("slow-mode")
        err_s = batch_errors(m_sm)
    else:
        info_s = dict(
            slow_mode_table_s=nan, slow_mode_accepted=False, slow_mode_verification_error=nan, solved_members=-1
        )
        wall_s, peak_extra_s, err_s = nan, 0.0, [nan]
    # baseline: scipy BDF on the same discretisation, same initial-value problem
    from scipy.integrate import solve_ivp

    p = ParticleParameters(D_nm * 1e-9, K)
    disc = NeelDiscretisation.build(p, N, M)  # the discretisation the full run used
    R = rotation_to_z(axis)
    nbs = baseline_samples
    tb = t[:nbs]
    fb = fields[c, :nbs]
    ox, oy = fields[c, 0, 0] - 12.59e-3, fields[c, 0, 1] - 13.55e-3

    def blab(tt):
        return R @ np.array(
            [
                12.59e-3 * np.cos(2 * np.pi * F_BASE / 102 * tt) + ox,
                13.55e-3 * np.cos(2 * np.pi * F_BASE / 96 * tt) + oy,
                0.0,
            ]
        )

    y0 = disc.equilibrium((R @ fb[0])[None])[0]
    t1 = time.perf_counter()
    sol = solve_ivp(
        lambda tt, y: disc.operator(blab(tt)) @ y,
        (tb[0], tb[-1]),
        y0,
        method="BDF",
        jac=lambda tt, y: disc.operator(blab(tt)),
        t_eval=tb,
        rtol=rtol / 10,
        atol=rtol / 1000,
    )
    t_scipy = time.perf_counter() - t1
    m_scipy = disc.moments(sol.y.T) @ R
    numba.set_num_threads(1)
    t2 = time.perf_counter()
    kw_same = dict(kw, azimuthal_resolution=M)
    m_ours = mean_magnetization(tb, fb, steady_state=False, rtol=rtol, resolution=N, method="full", **kw_same)
    t_ours = time.perf_counter() - t2
    m_bref = mean_magnetization(tb, fb, steady_state=False, rtol=rtol / 100, resolution=N + 8, method="full", **kw)
    e_s = float(np.linalg.norm(m_scipy - m_bref) / np.linalg.norm(m_bref))
    e_o = float(np.linalg.norm(m_ours - m_bref) / np.linalg.norm(m_bref))
    red = dict(
        red_batch=int(f_all.shape[0]),
        red_wall_s=wall_r,
        red_solved=int(info_r.get("solved_members", f_all.shape[0])),
        red_traj_per_s_per_core=f_all.shape[0] / (wall_r * threads),
        red_r=int(info_r.get("rb_dimension", -1)),
        red_full_solves=int(info_r.get("rb_full_solves", -1)),
        red_verification_error=float(info_r.get("rb_verification_error", float("nan"))),
        red_fallback=bool(info_r.get("rb_fallback", False)),
        red_err_max=max(err_r),
        red_err=err_r,
        red_peak_extra_mb=peak_extra_r,
        red_mean_steps=float(np.mean(info_r["steps"])),
        sm_traj_per_s_per_core=f_all.shape[0] / (wall_s * threads),
        sm_solved=int(info_s.get("solved_members", f_all.shape[0])),
        sm_table_s=float(info_s["slow_mode_table_s"]),
        sm_accepted=bool(info_s["slow_mode_accepted"]),
        sm_verification_error=float(info_s["slow_mode_verification_error"]),
        sm_err_max=max(err_s),
        sm_err=err_s,
        sm_peak_extra_mb=peak_extra_s,
    )
    return dict(
        **red,
        D_nm=D_nm,
        K=K,
        sigma=p.sigma,
        N=N,
        M=M,
        n_coeff=info["n_coefficients"],
        batch=nb,
        wall_s=wall,
        threads=threads,
        traj_per_s_per_core=nb / (wall * threads),
        mean_steps=float(np.mean(info["steps"])),
        mean_periods=float(np.mean(info["periods"])),
        peak_extra_mb=max(0.0, peak - max(rss0, 0.0)) if peak > peak0 else 0.0,
        peak_rss_mb=peak,
        rss_before_mb=rss0,
        err_max=max(err),
        err_offsets=err,
        baseline_samples=nbs,
        t_scipy=t_scipy,
        t_ours_1core=t_ours,
        speedup_vs_scipy=t_scipy / t_ours,
        err_scipy=e_s,
        err_ours_ivp=e_o,
        # scipy BDF per trajectory-period, extrapolated from the 1/20-period IVP
        scipy_s_per_traj=t_scipy * P / nbs,
        scipy_nfev=int(sol.nfev),
        scipy_njev=int(sol.njev),
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="cases 14:1100, 22:1100; reduced: 12 angles x 3 x 3 offsets")
    ap.add_argument(
        "--offsets", type=int, default=11, help="offsets per axis of the reduced-basis batch (x 12 angles; default 11)"
    )
    ap.add_argument(
        "--full-offsets", type=int, default=3, help="offsets per axis of the full-model batch at 30 degrees (default 3)"
    )
    ap.add_argument("--cases", default=None, help="D_nm:K list, e.g. 22:1100,28:9000")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--baseline-samples",
        type=int,
        default=82,
        help="samples of the scipy-BDF comparison (default 82 = 1/20 period)",
    )
    ap.add_argument(
        "--methods",
        default="reduced,slow-mode",
        help="all-angles batch methods to time (default reduced,slow-mode; 'auto' takes slow-mode for such batches)",
    )
    ap.add_argument("--worker", nargs=2, type=float, help=argparse.SUPPRESS)
    add_json_argument(ap, "fp_speed")
    a = ap.parse_args(argv)
    unknown = set(a.methods.split(",")) - {"reduced", "slow-mode"}
    if unknown:
        ap.error(f"--methods: unknown {sorted(unknown)}; choose from reduced, slow-mode")
    if a.worker:
        res = worker(
            a.worker[0],
            a.worker[1],
            a.offsets,
            a.rtol,
            a.baseline_samples,
            a.threads,
            a.full_offsets,
            a.methods.split(","),
        )
        print("RESULT " + json.dumps(res))
        return 0
    if a.cases:
        cases = [tuple(float(v) for v in c.split(":")) for c in a.cases.split(",")]
    elif a.quick:
        cases = [(14.0, 1100.0), (22.0, 1100.0)]
    else:
        cases = [(d, k) for d in (14.0, 22.0, 28.0) for k in (100.0, 1100.0, 9000.0)]
    n_off = 3 if a.quick and a.offsets == 11 else a.offsets
    rows = []
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    print(
        f"# Néel FP benchmark: full model {a.full_offsets}x{a.full_offsets} offsets at 30 deg; "
        f"reduced basis {ANGLES.size} angles x {n_off}x{n_off} offsets per call; rtol={a.rtol}, "
        f"threads={a.threads}"
    )
    print(
        f"# shared machine: load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(other engineers); absolute rates are pessimistic, ratios are from the same run"
    )
    hdr = (
        "D[nm]",
        "K",
        "sigma",
        "N",
        "M",
        "full/s/c",
        "red/s/c",
        "red/full",
        "solved",
        "r",
        "nfull",
        "verif",
        "errFull",
        "errRed",
        "xBDFfull",
        "xBDFred",
        "sm/s/c",
        "sm/full",
        "smSolved",
        "smVerif",
        "errSM",
        "xBDFsm",
        "peakMB",
    )
    print("%5s %6s %6s %3s %3s %9s %9s %8s %9s %4s %5s %8s %8s %8s %8s %8s %9s %8s %9s %8s %8s %8s %6s" % hdr)
    for D, K in cases:
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            str(D),
            str(K),
            "--offsets",
            str(n_off),
            "--full-offsets",
            str(a.full_offsets),
            "--rtol",
            str(a.rtol),
            "--threads",
            str(a.threads),
            "--baseline-samples",
            str(a.baseline_samples),
            "--methods",
            a.methods,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        if not line:
            print(f"case D={D} K={K} failed:\n{out.stderr[-3000:]}")
            continue
        r = json.loads(line[0][7:])
        rows.append(r)
        # speed-ups per trajectory-period against scipy BDF (extrapolated, see docstring)
        r["x_bdf_full"] = r["scipy_s_per_traj"] * r["traj_per_s_per_core"]
        r["x_bdf_red"] = r["scipy_s_per_traj"] * r["red_traj_per_s_per_core"]
        r["x_bdf_sm"] = r["scipy_s_per_traj"] * r["sm_traj_per_s_per_core"]
        print(
            "%5.0f %6.0f %6.2f %3d %3d %9.3f %9.3f %8.1f %9s %4d %5d %8.1e %8.1e %8.1e %8.0f "
            "%8.0f %9.3f %8.1f %9s %8.1e %8.1e %8.0f %6.0f"
            % (
                D,
                K,
                r["sigma"],
                r["N"],
                r["M"],
                r["traj_per_s_per_core"],
                r["red_traj_per_s_per_core"],
                r["red_traj_per_s_per_core"] / r["traj_per_s_per_core"],
                f"{r['red_solved']}/{r['red_batch']}",
                r["red_r"],
                r["red_full_solves"],
                r["red_verification_error"],
                r["err_max"],
                r["red_err_max"],
                r["x_bdf_full"],
                r["x_bdf_red"],
                r["sm_traj_per_s_per_core"],
                r["sm_traj_per_s_per_core"] / r["traj_per_s_per_core"],
                f"{r['sm_solved']}/{r['red_batch']}",
                r["sm_verification_error"],
                r["sm_err_max"],
                r["x_bdf_sm"],
                max(r["peak_extra_mb"], r["red_peak_extra_mb"], r["sm_peak_extra_mb"]),
            ),
            flush=True,
        )
        if "slow-mode" in a.methods.split(",") and not r["sm_accepted"]:
            print("      slow-mode verification failed (dictionary calls take the reduced basis there)")
    if not rows:
        return 1
    print()
    for label, key in (
        ("full model", "traj_per_s_per_core"),
        ("reduced basis", "red_traj_per_s_per_core"),
        ("slow-mode model", "sm_traj_per_s_per_core"),
    ):
        sec = float(np.mean([1.0 / r[key] for r in rows]))  # core-seconds per trajectory
        if not math.isfinite(sec):  # method not timed
            continue
        hours = DICTIONARY_SOLVES * sec / 2 / 3600
        print(
            f"{label}: {sec:.3f} core-s per trajectory over these cases ({1 / sec:.2f} /s/core; "
            f"target 36) -> dictionary of {DICTIONARY_SOLVES} on 2 cores: {hours:.1f} h "
            f"(ratio to the 8 h target {hours / 8:.2f})"
        )
    sp = np.array([r["speedup_vs_scipy"] for r in rows])
    print(f"full model vs scipy BDF on the same 1/20-period IVP: min {sp.min():.1f}x, median {np.median(sp):.1f}x")
    for label, key in (("reduced", "x_bdf_red"), ("slow-mode", "x_bdf_sm")):
        x = np.array([r[key] for r in rows])
        if np.all(np.isfinite(x)):
            print(
                f"{label} vs scipy BDF per trajectory-period (BDF extrapolated from the IVP): "
                f"min {x.min():.0f}x, median {np.median(x):.0f}x (target >= 50x)"
            )
    print(
        f"max relative L2 error vs converged reference: full {max(r['err_max'] for r in rows):.2e},"
        f" reduced {max(r['red_err_max'] for r in rows):.2e}, slow-mode "
        f"{max(r['sm_err_max'] for r in rows):.2e} (target <= 1e-3)"
    )
    peak = max(max(r["peak_extra_mb"], r["red_peak_extra_mb"], r["sm_peak_extra_mb"]) for r in rows)
    print(f"peak extra memory: max {peak:.0f} MB")
    write_results(a.json, "fp_speed", a, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
