"""The paper's whole Néel dictionary at the row-accuracy contract: cost, projection and accuracy.

The seed paper's M1/M2 fits need φ̂ for 8 diameters (14 … 28 nm) × 90 anisotropies
(100 … 9000 J/m³) × 12 easy-axis angles (0°, 15°, …, 165°) × 121 offsets (11 × 11) on
the paper's 97 rows I_freq: 1,045,440 Fokker–Planck trajectories, 720 (D, K) pairs of
one physics call each. Target: the whole grid in at most one hour on 2 cores.

The modes, all through the public API at the defaults:

* ``--sample N`` (default): N seeded random (D, K) pairs of the grid, not only its
  corners. Each is solved as the dictionary solves it (every angle and offset in one
  physics call, the default contract) and timed; ``--check`` seeded members of each are
  compared with converged solves (the full model at degree + 4 and a per-step tolerance
  of 2.5e-8; rows normalised with the pair's own row and matrix peaks, as the contract
  defines them). Printed: the time per pair, the projection of the whole grid (720 ×
  the mean, with a 95 % interval from the spread of the sample), its ratio to the one-hour
  target, the true contract errors, and the peak memory. ``--baseline`` pairs (default 1)
  also solve one member by scipy BDF on the same discretisation (``_bdf.py``: a 1/20-period
  window, one thread, extrapolated), and the ratio of our integrator to it is printed with
  the grid's time if BDF did the integration. The results are written after every pair;
  ``--resume`` takes over the pairs of an interrupted run (same seed, ``--check`` and
  solver generation) from ``--json`` and solves only the rest.
* ``--row D``: every K of the diameter D [nm], pair by pair as ``--sample`` solves them
  (per-pair files in ``--row-cache``, resumable; the JSON is written after every pair), the row's time against its share of the
  one-hour target, and the verified interpolation along K (the default
  ``AnisotropyInterpolation``) replayed on the exact pairs: the K it solves, their share of
  the time and the contract errors of the interpolated K against their exact pairs.
  Results go to ``benchmarks/results/paper_dictionary_row<D>.json`` unless ``--json``
  says otherwise.
* ``--identity N``: N seeded pairs on a ninth of the offsets, solved in this process and
  on a dask LocalCluster, compared bit for bit.
* ``--full``: the whole grid through :func:`mdf_neel.simulate.dictionary` with its cache
  (``--cache``, default: the shared cache), so a run can be split over several
  invocations and resumes; ``--scheduler ADDRESS`` runs it on a dask cluster. Printed:
  the wall time, the time per pair (from the completion times), a cost map over (D, K)
  as a picture (``--map``), and the peak memory.

Results also go to ``--json`` (default ``benchmarks/results/paper_dictionary.json``).

Usage::

    python benchmarks/paper_dictionary.py --sample 6 [--seed 2022] [--check 3] [--resume]
    python benchmarks/paper_dictionary.py --row 14 [--row-cache DIR]
    python benchmarks/paper_dictionary.py --full [--cache FILE] [--scheduler ADDRESS] [--map cost.png]
    python benchmarks/paper_dictionary.py --identity 2 [--workers 2] --json benchmarks/results/dictionary_identity.json
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
from _bdf import bdf_baseline
from _converged import converged_members, true_errors
from _results import add_json_argument, format_tolerance, write_results

DIAMETERS_NM = tuple(range(14, 29, 2))
ANISOTROPIES_JM3 = tuple(range(100, 9001, 100))
ANGLES_DEG = tuple(range(0, 180, 15))
TARGET_S = 3600.0


def _peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _pair(pick):
    """(D [nm], K [J/m³]) of a flat grid index (D-major)."""
    return DIAMETERS_NM[pick // len(ANISOTROPIES_JM3)], float(ANISOTROPIES_JM3[pick % len(ANISOTROPIES_JM3)])


def _setup():
    from mdf_neel.fitting.metrics import frequency_set
    from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence

    seq = paper_2d_sequence()
    return seq, paper_2d_offsets().offsets_T, frequency_set(seq)[0]


def _earlier_pairs(path, seed, n_check):
    """Pairs of an earlier, interrupted ``--sample`` run in ``path`` that this one may reuse:
    same seed, same number of checked members and the same solver generation (else none)."""
    import json

    from mdf_neel.simulate.accuracy import SOLVER_GENERATION

    try:
        with open(path) as fh:
            earlier = json.load(fh)
        args, pairs = earlier["arguments"], earlier["results"]["sample"]["pairs"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if args.get("seed") != seed or args.get("check") != n_check:
        return []
    return [p for p in pairs if p.get("solver_generation") == SOLVER_GENERATION]


def sample(n_pairs, seed, n_check, on_pair=None, n_baseline=1, resume_from=None):
    """Time ``n_pairs`` seeded random pairs; ``on_pair(results so far)`` after each (partial results survive a stop).

    ``resume_from``: pairs measured by an earlier run of the same seed, check count and
    solver generation (:func:`_earlier_pairs`), taken over in order instead of solved again."""
    from mdf_neel.simulate._system_functions import angle_system_functions
    from mdf_neel.simulate.accuracy import SOLVER_GENERATION

    resume_from = list(resume_from or [])

    seq, offsets, rows = _setup()
    angles = np.asarray(ANGLES_DEG, dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(DIAMETERS_NM) * len(ANISOTROPIES_JM3), n_pairs, replace=False)
    # numba compilation out of the timings
    angle_system_functions(seq, offsets[:1], angles_deg=[0.0], diameter_m=14e-9, anisotropy_Jm3=100.0, frequencies=rows)
    print(
        f"{'D nm':>5} {'K J/m3':>7} {'sigma':>6} {'wall s':>7} {'method':>9} {'degree':>6} {'step tol':>9} "
        f"{'true RMS':>9} {'true max':>9}"
    )
    out = []
    for pick in picks:
        d_nm, k = _pair(pick)
        D = d_nm * 1e-9
        if resume_from and (resume_from[0]["diameter_nm"], resume_from[0]["anisotropy_Jm3"]) == (d_nm, k):
            entry = resume_from.pop(0)
            if n_check:
                rng.choice(angles.size * offsets.shape[0], n_check, replace=False)  # the same draws as solving it
            out.append(entry)
            print(
                f"{d_nm:5d} {k:7.0f} {entry['sigma']:6.2f} {entry['wall_s']:7.1f} {str(entry['method']):>9} "
                f"{entry['degree'] or -1:6d} {format_tolerance(entry['step_tolerance'])} {entry['true']['rms']:9.2e} "
                f"{entry['true']['max']:9.2e}  (earlier run)",
                flush=True,
            )
            continue
        resume_from = []
        t = time.perf_counter()
        phi, info = angle_system_functions(
            seq, offsets, angles_deg=angles, diameter_m=D, anisotropy_Jm3=k, frequencies=rows, return_info=True
        )
        wall = time.perf_counter() - t
        contract = info["contract"]
        members = rng.choice(angles.size * offsets.shape[0], n_check, replace=False) if n_check else []
        a_idx, o_idx = np.divmod(np.asarray(members, dtype=int), offsets.shape[0])
        true = {"rms": math.nan, "max": math.nan}
        if n_check:
            reference = converged_members(seq, offsets, angles, a_idx, o_idx, diameter_m=D, anisotropy_Jm3=k, rows=rows)
            true = true_errors(phi, reference, a_idx, o_idx)
        from mdf_neel.physics import ParticleParameters

        sigma = ParticleParameters(D, k).sigma
        entry = {
            "diameter_nm": d_nm,
            "anisotropy_Jm3": k,
            "sigma": sigma,
            "wall_s": wall,
            "method": info.get("method"),
            "degree": contract.get("degree"),
            "step_tolerance": contract["step_tolerance"],
            "met": contract.get("met"),
            "estimate": {"rms": contract["rms"], "max": contract["max"]},
            "true": true,
            "checked_members": int(n_check),
            "solver_generation": SOLVER_GENERATION,
        }
        if sum("bdf_baseline" in e for e in out) < n_baseline and contract["step_tolerance"] is not None:
            # one member of the pair, scipy BDF against our integrator at the pair's degree and steps
            # (pairs that took the quasi-static series have no integrator to compare)
            o = int(o_idx[0]) if n_check else offsets.shape[0] // 2
            a = int(a_idx[0]) if n_check else 0
            entry["bdf_baseline"] = bdf_baseline(
                seq,
                offsets[o],
                angles[a],
                diameter_m=D,
                anisotropy_Jm3=k,
                degree=int(contract.get("degree") or info["resolution"]),
                step_tolerance=float(contract["step_tolerance"]),
            )
        out.append(entry)
        if on_pair is not None:
            on_pair({"pairs": out, "complete": False})
        print(
            f"{d_nm:5d} {k:7.0f} {sigma:6.2f} {wall:7.1f} {str(info.get('method')):>9} "
            f"{contract.get('degree', -1):6d} {format_tolerance(contract['step_tolerance'])} {true['rms']:9.2e} "
            f"{true['max']:9.2e}",
            flush=True,
        )
    walls = np.array([e["wall_s"] for e in out])
    n_grid = len(DIAMETERS_NM) * len(ANISOTROPIES_JM3)
    mean = float(walls.mean())
    half = float(_t95(walls.size - 1) * walls.std(ddof=1) / math.sqrt(walls.size)) if walls.size > 1 else math.nan
    projection = {
        "pairs": n_grid,
        "mean_pair_s": mean,
        "projected_s": n_grid * mean,
        "interval_95_s": [n_grid * (mean - half), n_grid * (mean + half)],
        "ratio_to_target": n_grid * mean / TARGET_S,
    }
    print(
        f"\nprojected whole grid (every pair solved): {n_grid} x {mean:.1f} s = {n_grid * mean / 3600:.2f} h "
        f"(95 % interval {n_grid * (mean - half) / 3600:.2f} .. {n_grid * (mean + half) / 3600:.2f} h from "
        f"{walls.size} pairs); ratio to the 1 h target: {n_grid * mean / TARGET_S:.2f}"
    )
    # on a cluster the pairs are independent tasks: N single-threaded workers take the grid's
    # core-seconds (at most 2 x the 2-core wall time per pair) over N, plus the longest pair
    core_s = 2.0 * n_grid * mean
    projection["cluster_projected_s"] = {str(n): core_s / n + float(walls.max()) * 2.0 for n in (16, 64, 256)}
    print(
        "on a dask cluster of single-threaded workers (2 core-s per 2-core wall s, plus the longest pair): "
        + ", ".join(f"{n} workers {v / 60:.0f} min" for n, v in projection["cluster_projected_s"].items())
    )
    baselines = [e["bdf_baseline"] for e in out if "bdf_baseline" in e]
    if baselines:
        speedup = float(np.exp(np.mean([np.log(b["speedup"]) for b in baselines])))
        projection["bdf_speedup_per_trajectory"] = speedup
        projection["bdf_projected_s"] = n_grid * mean * speedup
        print(
            f"scipy BDF on the same discretisation (same degree, atol = the pair's step tolerance, rtol 1e-6), "
            f"one member of {len(baselines)} pair(s), one thread: our integrator is {speedup:.1f}x faster per "
            f"trajectory (m̄ errors: BDF {max(b['bdf_error'] for b in baselines):.1e}, ours "
            f"{max(b['ours_error'] for b in baselines):.1e}); the grid with BDF in place of our integrator: "
            f"{n_grid * mean * speedup / 3600:.1f} h, ratio to the 1 h target {n_grid * mean * speedup / TARGET_S:.1f}"
        )
    checked = [e for e in out if e["checked_members"]]
    if checked:
        worst_rms = max(e["true"]["rms"] for e in checked)
        worst_max = max(e["true"]["max"] for e in checked)
        print(
            f"true contract errors on the checked members: worst RMS {worst_rms:.2e} (contract 1e-3), "
            f"worst row {worst_max:.2e} (contract 1e-2)"
        )
    print(f"peak RSS: {_peak_rss_bytes() / 1e9:.2f} GB")
    return {"pairs": out, "projection": projection, "peak_rss_bytes": _peak_rss_bytes()}


def row(d_nm, cache_dir, on_pair=None):
    """Every K of one diameter, pair by pair as ``--sample`` solves them, and the verified
    interpolation along K replayed on the exact pairs.

    Each pair's rows and record go to ``cache_dir`` (one ``.npz`` per pair, written
    atomically, refused unless of this solver generation), so a stopped run resumes. The
    replay runs :class:`mdf_neel.simulate.interpolation.AdaptiveRefinement` with the
    default :class:`~mdf_neel.simulate.AnisotropyInterpolation` on the exact values: the K
    it would have solved, their share of the row's time, and the contract errors of every
    interpolated K against its exact pair (what ``dictionary(anisotropy_interpolation=...)``
    computes, each exact element bit for bit the same)."""
    import json
    from pathlib import Path

    from mdf_neel.physics import ParticleParameters
    from mdf_neel.simulate import AnisotropyInterpolation
    from mdf_neel.simulate._system_functions import angle_system_functions
    from mdf_neel.simulate.accuracy import SOLVER_GENERATION
    from mdf_neel.simulate.interpolation import AdaptiveRefinement, contract_errors

    seq, offsets, rows = _setup()
    angles = np.asarray(ANGLES_DEG, dtype=float)
    D = d_nm * 1e-9
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    angle_system_functions(seq, offsets[:1], angles_deg=[0.0], diameter_m=14e-9, anisotropy_Jm3=100.0, frequencies=rows)
    print(f"{'D nm':>5} {'K J/m3':>7} {'sigma':>6} {'wall s':>7} {'method':>12} {'degree':>6} {'step tol':>9}  tries")
    out, phis = [], []
    for k in ANISOTROPIES_JM3:
        path = cache / f"{d_nm}nm_{k}Jm3.npz"
        entry = None
        if path.exists():
            with np.load(path) as z:
                entry = json.loads(str(z["record"]))
                if entry.get("solver_generation") == SOLVER_GENERATION:
                    phis.append(z["phi"])
                else:
                    entry = None
        resumed = entry is not None
        if not resumed:
            t = time.perf_counter()
            phi, info = angle_system_functions(
                seq,
                offsets,
                angles_deg=angles,
                diameter_m=D,
                anisotropy_Jm3=float(k),
                frequencies=rows,
                return_info=True,
            )
            wall = time.perf_counter() - t
            contract = info["contract"]
            entry = {
                "anisotropy_Jm3": float(k),
                "sigma": ParticleParameters(D, float(k)).sigma,
                "wall_s": wall,
                "method": info.get("method"),
                "degree": contract.get("degree"),
                "step_tolerance": contract["step_tolerance"],
                "estimate": {"rms": contract["rms"], "max": contract["max"]},
                "tries": [[h["method"], h["degree"]] for h in contract.get("history", [])],
                "solver_generation": SOLVER_GENERATION,
            }
            tmp = path.with_name(path.name + ".part.npz")
            np.savez(tmp, phi=phi, record=json.dumps(entry))
            os.replace(tmp, path)
            phis.append(phi)
        out.append(entry)
        if on_pair is not None:
            on_pair({"diameter_nm": d_nm, "pairs": out, "complete": False})
        print(
            f"{d_nm:5d} {k:7.0f} {entry['sigma']:6.2f} {entry['wall_s']:7.1f} {str(entry['method']):>12} "
            f"{entry['degree'] or -1:6d} {format_tolerance(entry['step_tolerance'])}  "
            + " ".join(f"{m}@{d}" for m, d in entry["tries"])
            + ("  (earlier run)" if resumed else ""),
            flush=True,
        )
    walls = np.array([e["wall_s"] for e in out])
    target = TARGET_S / len(DIAMETERS_NM)
    print(
        f"\nthe row D = {d_nm} nm, every K solved: {walls.sum():.0f} s ({walls.mean():.1f} s per pair); its share of "
        f"the 1 h target ({target:.0f} s): ratio {walls.sum() / target:.2f}"
    )
    # the verified interpolation along K, replayed on the exact pairs
    K = np.asarray(ANISOTROPIES_JM3, dtype=float)
    exact = np.stack(phis)[None]
    settings = AnisotropyInterpolation()
    refinement = AdaptiveRefinement(K, 1, settings)
    values = np.zeros_like(exact)
    for d, i in refinement.initial():
        values[d, i] = exact[d, i]
    while midpoints := refinement.midpoints():
        for d, i in midpoints:
            values[d, i] = exact[d, i]
        refinement.verify(values)
    interpolated = refinement.fill(values)[0]
    solved = sorted(refinement.nodes[0])
    errors = [contract_errors(values[0, i], exact[0, i]) for i in np.flatnonzero(interpolated)]
    replay = {
        "settings": settings.settings(),
        "solved_K_Jm3": K[solved].tolist(),
        "solved_s": float(walls[solved].sum()),
        "speed_up": float(walls.sum() / walls[solved].sum()),
        "interpolated_vs_exact": {
            "rms": max((e[0] for e in errors), default=0.0),
            "max": max((e[1] for e in errors), default=0.0),
        },
    }
    print(
        f"verified interpolation along K ({settings}), replayed on these pairs: {len(solved)} of {K.size} K solved, "
        f"{replay['solved_s']:.0f} s of {walls.sum():.0f} s ({replay['speed_up']:.2f}x); interpolated K against their "
        f"exact pairs: RMS at most {replay['interpolated_vs_exact']['rms']:.2e}, largest row "
        f"{replay['interpolated_vs_exact']['max']:.2e}"
    )
    print(f"peak RSS: {_peak_rss_bytes() / 1e9:.2f} GB")
    return {"diameter_nm": d_nm, "pairs": out, "row_s": float(walls.sum()), "interpolation": replay}


def identity(n_pairs, seed, n_workers):
    """Bit-identity of dictionary pairs solved locally and on a dask LocalCluster.

    ``n_pairs`` seeded random (D, K) pairs of the grid, every angle, on the 3 x 3 offsets
    with indices 0, 5 and 10 along each axis of the 11 x 11 grid (the centre, the edge
    midpoints and the corners: a ninth of the members, so the check costs minutes), through
    :func:`mdf_neel.simulate.dictionary` at the defaults, once in this process and once on a
    LocalCluster of ``n_workers`` single-threaded worker processes."""
    import distributed

    from mdf_neel.simulate import dictionary

    seq, offsets, rows = _setup()
    grid = np.array([[iy * 11 + ix for ix in (0, 5, 10)] for iy in (0, 5, 10)]).ravel()
    offsets = offsets[grid]
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(DIAMETERS_NM) * len(ANISOTROPIES_JM3), n_pairs, replace=False)
    out = []
    for pick in picks:
        d_nm, k = _pair(pick)
        kwargs = dict(
            diameters_m=[d_nm * 1e-9],
            anisotropies_Jm3=[k],
            angles_deg=[float(a) for a in ANGLES_DEG],
            frequencies=rows,
            cache=False,
            progress=False,
        )
        t = time.perf_counter()
        local = dictionary(seq, offsets, **kwargs)
        local_s = time.perf_counter() - t
        with distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            t = time.perf_counter()
            remote = dictionary(seq, offsets, scheduler=cluster, **kwargs)
            cluster_s = time.perf_counter() - t
        same = bool(np.array_equal(local.phi, remote.phi)) and bool(np.array_equal(local.resolution, remote.resolution))
        diff = float(np.max(np.abs(local.phi - remote.phi)) / np.max(np.abs(local.phi)))
        out.append(
            {
                "diameter_nm": d_nm,
                "anisotropy_Jm3": k,
                "members": int(len(ANGLES_DEG) * offsets.shape[0]),
                "local_s": local_s,
                "cluster_s": cluster_s,
                "bit_identical": same,
                "max_relative_difference": diff,
            }
        )
        print(
            f"{d_nm:3d} nm / {k:6.0f} J/m3: local {local_s:6.1f} s, LocalCluster ({n_workers} workers) "
            f"{cluster_s:6.1f} s, bit-identical: {same} (max relative difference {diff:.1e})",
            flush=True,
        )
    return {"pairs": out, "all_bit_identical": all(e["bit_identical"] for e in out), "workers": n_workers}


def _t95(dof):
    from scipy.stats import t

    return float(t.ppf(0.975, dof))


def full(cache, scheduler, map_path, workers):
    from mdf_neel.simulate import dictionary

    seq, offsets, rows = _setup()
    n_d, n_k = len(DIAMETERS_NM), len(ANISOTROPIES_JM3)
    stamps = []

    def progress(done, total):
        stamps.append((done, time.perf_counter()))
        if done % max(1, total // 100) == 0 or done == total:
            print(f"  {done}/{total} elements, {time.perf_counter() - t0:.0f} s", flush=True)

    t0 = time.perf_counter()
    dic = dictionary(
        seq,
        offsets,
        diameters_m=[d * 1e-9 for d in DIAMETERS_NM],
        anisotropies_Jm3=[float(k) for k in ANISOTROPIES_JM3],
        angles_deg=[float(a) for a in ANGLES_DEG],
        frequencies=rows,
        cache=cache if cache else True,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )
    wall = time.perf_counter() - t0
    computed = dic.stats.get("computed", 0)
    per_element = np.diff([t0] + [s for _, s in stamps]) if stamps else np.array([])
    print(
        f"whole grid: {wall:.0f} s ({wall / 3600:.2f} h; ratio to the 1 h target {wall / TARGET_S:.2f}), "
        f"{computed} elements computed, {dic.stats.get('resumed', 0)} resumed; peak RSS "
        f"{_peak_rss_bytes() / 1e9:.2f} GB"
    )
    if map_path and dic.resolution is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 3.2))
        img = ax.imshow(
            dic.resolution[:, :, 0],
            aspect="auto",
            origin="lower",
            extent=(ANISOTROPIES_JM3[0], ANISOTROPIES_JM3[-1], DIAMETERS_NM[0], DIAMETERS_NM[-1]),
        )
        ax.set_xlabel("K [J/m³]")
        ax.set_ylabel("D [nm]")
        ax.set_title("spherical-harmonic degree per (D, K) pair (the cost grows with it)")
        fig.colorbar(img, ax=ax)
        fig.savefig(map_path, dpi=90, bbox_inches="tight")
        print(f"cost map: {map_path}")
    return {
        "wall_s": wall,
        "computed": computed,
        "resumed": dic.stats.get("resumed", 0),
        "per_element_s": per_element.tolist(),
        "grid": [n_d, n_k, len(ANGLES_DEG)],
        "peak_rss_bytes": _peak_rss_bytes(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=6, help="seeded random (D, K) pairs to time (default 6)")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--check", type=int, default=3, help="members per sampled pair against converged solves")
    ap.add_argument(
        "--baseline", type=int, default=1, help="sampled pairs whose member is also solved by scipy BDF (default 1)"
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="--sample: take over the pairs an interrupted run with the same seed, --check and solver "
        "generation left in --json, and solve the rest",
    )
    ap.add_argument("--full", action="store_true", help="build the whole grid (cached, resumable)")
    ap.add_argument("--cache", default=None, help="dictionary cache file for --full (default: the shared cache)")
    ap.add_argument("--scheduler", default=None, help="dask scheduler address for --full")
    ap.add_argument("--workers", type=int, default=None, help="local worker processes for --full")
    ap.add_argument("--map", default=None, help="--full: write a picture of the per-pair degree here")
    ap.add_argument(
        "--identity",
        type=int,
        default=0,
        help="seeded pairs solved locally and on a dask LocalCluster (--workers, default 2), compared bit for bit",
    )
    ap.add_argument("--row", type=int, default=None, help="every K of this diameter [nm], and the K interpolation")
    ap.add_argument(
        "--row-cache",
        default=None,
        help="--row: folder of the per-pair files (default: paper_row in the shared cache directory)",
    )
    add_json_argument(ap, "paper_dictionary")
    args = ap.parse_args(argv)
    if args.row is not None:
        if args.row not in DIAMETERS_NM:
            ap.error(f"--row must be one of the paper's diameters {DIAMETERS_NM}, got {args.row}")
        from _results import RESULTS_DIR

        if args.json == str(RESULTS_DIR / "paper_dictionary.json"):
            args.json = str(RESULTS_DIR / f"paper_dictionary_row{args.row}.json")
        from mdf_neel.simulate.cache import default_cache_dir

        folder = args.row_cache or os.path.join(default_cache_dir(), "paper_row")
        results = row(
            args.row,
            folder,
            on_pair=lambda partial: write_results(args.json, "paper_dictionary", args, {"row": partial}),
        )
        write_results(args.json, "paper_dictionary", args, {"row": results})
        return 0
    if args.identity:
        results = {"identity": identity(args.identity, args.seed, args.workers or 2)}
    elif args.full:
        results = {"full": full(args.cache, args.scheduler, args.map, args.workers)}
    else:
        results = {
            "sample": sample(
                args.sample,
                args.seed,
                args.check,
                on_pair=lambda partial: write_results(args.json, "paper_dictionary", args, {"sample": partial}),
                n_baseline=args.baseline,
                resume_from=_earlier_pairs(args.json, args.seed, args.check) if args.resume and args.json else None,
            )
        }
    write_results(args.json, "paper_dictionary", args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
