"""The seed paper's Tables 1 and 2 with the Néel model, on the bundled SYNTHETIC calibrations.

The paper: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).

Part A (accuracy). The "measured" data are the SYNTHETIC hybrid calibrations in
``sample_mdf/synthetic_measured`` (4 easy-axis angles, the paper's sequence and 11 x 11
offsets): a polydisperse Néel population whose species lie off the fit grid, seen
through an analogue band-pass, with background frames and noise (``sample_mdf/README.md``;
the hidden population is read from ``sample_mdf/manifest.json``). On the paper's rows
I_freq (97) a Néel dictionary over the fit grid is simulated at the default row-accuracy
contract (cached, resumable: a stopped run continues where it stopped) and M0
(Langevin), M1 and M2 are fitted. Printed:

* the analogue of Table 2 (ε_global per model; the paper's claim M0 > M1 >= M2);
* the analogue of Table 1 (M2's ε_global against the TSVD rank);
* per-angle medians of the row errors (the paper's Fig. 6 statistics);
* the fitted (D, K) of M1 and the largest M2 weights next to the hidden population;
* wall time, peak traced Python memory and the process's peak RSS of every phase.

``--grid paper`` is the paper's grid (D = 14 … 28 nm in 2 nm, K = 100 … 9000 J/m³ in
100 J/m³: 720 pairs); by default its K axis is filled by the verified interpolation along
K (``AnisotropyInterpolation``), whose measured verification errors are printed.
``--grid coarse`` is a 4 x 5 sub-grid around the population, ``--grid tiny`` the 2 x 2
grid of the README's example (the two share their cached dictionary).

Part B (cost at the paper's size): a dictionary array of the paper's full size
(720 (D, K) x 12 angles x 2 channels x 97 rows x 121 offsets, 3.2 GB complex128; its
content is synthetic because fit cost does not depend on it) is fitted with M1 and M2
(rank 21, per-angle and shared TF). Wall time and peak traced memory of every fit are
printed, also as ratios to a reference measured in the same run (one streaming pass
``Σ|φ|²`` over the dictionary, i.e. the memory-bandwidth floor).

Usage::

    python benchmarks/reproduce_paper.py [--grid paper|coarse|tiny] [--no-interpolation]
        [--data sample_mdf/synthetic_measured] [--cache PATH] [--workers N]
        [--skip-accuracy] [--skip-cost] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc

import numpy as np

import json

from mdf_neel.fitting import DictionaryModel, EquilibriumModel, NeelModel, frequency_set, nrmse_global
from mdf_neel.mdf import read_system_matrix
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.simulate import AnisotropyInterpolation, dictionary, sequence_from_file
from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR
from mdf_neel.simulate.interpolation import MAX_SHARE, RMS_SHARE
from mdf_neel.systemmatrix import SystemMatrix

try:  # run from a checkout: the JSON helper sits beside this script
    from _results import add_json_argument, write_results
except ImportError:  # pragma: no cover - imported as benchmarks.reproduce_paper
    from benchmarks._results import add_json_argument, write_results

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(os.path.dirname(HERE), "sample_mdf")

#: fit grids: diameters [nm] and anisotropies [J/m³]
GRIDS = {
    "paper": dict(d=tuple(range(14, 29, 2)), k=tuple(range(100, 9001, 100))),
    "coarse": dict(d=(18, 20, 22, 24), k=(300, 700, 1100, 1500, 2300)),
    "tiny": dict(d=(20, 22), k=(800, 1200)),
}


def _phase(name, fn, log, phases):
    """Run ``fn`` and record its wall time, peak traced Python memory and the process's peak RSS."""
    result, wall, peak = _timed(fn)
    rss = _max_rss_bytes()
    phases[name] = {"wall_s": wall, "peak_traced_bytes": peak, "max_rss_bytes": rss}
    log(f"  [{name}: {wall:.1f} s, peak traced {peak / 1e6:.0f} MB, process peak RSS {rss / 1e9:.2f} GB]")
    return result


def _timed(fn):
    """(result, wall time [s], peak traced Python memory [bytes]) of ``fn()``."""
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, wall, peak


def _max_rss_bytes() -> int:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    except ImportError:  # pragma: no cover - non-POSIX
        return 0


def load_calibrations(folder):
    """The measured calibrations (one per angle, sorted by angle), their sequence, offsets and rows."""
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".mdf"))
    if not paths:
        raise SystemExit(f"no .mdf files in {folder}")
    seq, grid = sequence_from_file(paths[0])
    rows, _ = frequency_set(seq)
    y = sorted((read_system_matrix(p, frequencies=rows) for p in paths), key=lambda sm: sm.easy_axis_angle_deg)
    return y, seq, grid, rows


def hidden_population(folder):
    """(D [m], K [J/m³], weight) of the samples' population from ``manifest.json``, or None."""
    path = os.path.join(os.path.dirname(os.path.abspath(folder)), "manifest.json")
    try:
        with open(path, encoding="utf-8") as fh:
            settings = json.load(fh)["settings"]
    except (OSError, KeyError, ValueError):
        return None
    return [tuple(map(float, m)) for m in settings.get("population", [])], settings.get("model")


def accuracy(grid_name="coarse", data=None, interpolate=True, cache=True, workers=None, verbose=True):
    """Part A. Returns a dict with Tables 1 and 2, per-angle medians, fitted parameters and phases."""
    log = print if verbose else (lambda *a, **kw: None)
    data = data or os.path.join(SAMPLES, "synthetic_measured")
    cfg = GRIDS[grid_name]
    d = tuple(v * 1e-9 for v in cfg["d"])
    k = tuple(float(v) for v in cfg["k"])
    phases = {}
    y, seq, grid, rows = load_calibrations(data)
    angles = tuple(float(sm.easy_axis_angle_deg) for sm in y)
    X = np.reshape(angles, (-1, 1))
    population = hidden_population(data)
    log(
        f"Part A: {data}: {len(y)} angles {angles}, {grid.offsets_T.shape[0]} offsets, {rows.size} rows (I_freq), "
        f"2 channels; fit grid {grid_name!r}: {len(d)} D x {len(k)} K = {len(d) * len(k)} pairs, Néel model"
    )
    if population is not None:
        members, model = population
        log(
            f"  data made with the {model!r} model from the hidden population (D nm, K J/m^3, weight): "
            + ", ".join(f"({m[0] * 1e9:.1f}, {m[1]:.0f}, {m[2]:g})" for m in members)
        )
    interp = AnisotropyInterpolation() if interpolate and grid_name == "paper" else None
    common = dict(frequencies=rows, workers=workers, progress=None if verbose else False)
    dic = _phase(
        "Néel dictionary",
        lambda: dictionary(
            seq,
            grid.offsets_T,
            diameters_m=d,
            anisotropies_Jm3=k,
            angles_deg=angles,
            model="neel",
            cache=cache,
            anisotropy_interpolation=interp,
            **common,
        ),
        log,
        phases,
    )
    solved = int(np.sum(~dic.interpolated[:, :, 0]))
    rest = "the rest interpolated along K" if solved < len(d) * len(k) else "no interpolation"
    log(
        f"  Néel dictionary: {solved} of {len(d) * len(k)} (D, K) pairs solved ({rest}); "
        f"{dic.stats.get('resumed', 0)} elements from the cache"
    )
    interp_summary = dic.stats.get("interpolation")
    if interp_summary and interp_summary["verifications"]:
        checks = interp_summary["verifications"]
        accepted = [v for v in checks if v["accepted"]]
        log(
            f"  interpolation along K: {len(checks)} verification midpoints ({len(accepted)} accepted), row "
            f"contract error of the accepted ones: RMS at most {interp_summary['max_accepted_error']:.2e}, "
            f"largest row {interp_summary['max_accepted_row_error']:.2e} (bounds {RMS_SHARE * interp.rtol:g} / "
            f"{MAX_SHARE * MAX_ROW_FACTOR * interp.rtol:g})"
        )
    dic0 = _phase(
        "Langevin dictionary",
        lambda: dictionary(
            seq,
            grid.offsets_T,
            diameters_m=d,
            anisotropies_Jm3=(0.0,),
            angles_deg=(0.0,),
            model="langevin",
            cache=cache,
            **common,
        ),
        log,
        phases,
    )

    fits = {}
    fits["M0"] = _phase("fit M0", lambda: EquilibriumModel(d, dictionary=dic0).fit(X, y), log, phases)
    fits["M1"] = _phase("fit M1", lambda: NeelModel(d, anisotropies_Jm3=k, dictionary=dic).fit(X, y), log, phases)
    J = len(d) * len(k)
    table1 = []

    def ranks():
        for pct in (100, 50, 25, 10, 5, 3):
            s = max(1, int(np.floor(pct / 100 * J)))
            m2 = DictionaryModel(d, anisotropies_Jm3=k, rank=s, dictionary=dic).fit(X, y)
            table1.append(
                {
                    "percent": pct,
                    "rank": int(m2.rank_),
                    "eps_global": float(m2.training_error_),
                    "atoms": int(len(m2.atom_weights_)),
                }
            )
            if pct == 100:
                fits["M2"] = m2

    _phase("fit M2 (Table 1 ranks)", ranks, log, phases)
    shared = _phase(
        "fit shared-TF M1 and M2",
        lambda: (
            NeelModel(d, anisotropies_Jm3=k, dictionary=dic, tf_mode="shared").fit(X, y),
            DictionaryModel(d, anisotropies_Jm3=k, dictionary=dic, tf_mode="shared").fit(X, y),
        ),
        log,
        phases,
    )
    held = DictionaryModel(d, anisotropies_Jm3=k, dictionary=dic, tf_mode="shared").fit(X[:-1], y[:-1])
    held_err = nrmse_global(np.stack([y[-1].data]), np.stack([held.predict(X[-1:])[0].data]))

    eps = {name: float(m.training_error_) for name, m in fits.items()}
    medians = {name: np.median(m.row_errors_.reshape(len(angles), -1), axis=1).tolist() for name, m in fits.items()}
    ordering = eps["M0"] > eps["M1"] >= eps["M2"] - 1e-12
    log("\nTable 2 analogue: eps_global (per-angle TF, the paper's setting)")
    log(f"  M0 (Langevin, D = {fits['M0'].best_params_['diameter_m'] * 1e9:.0f} nm): {eps['M0']:.4f}")
    best = fits["M1"].best_params_
    log(f"  M1 ({best['diameter_m'] * 1e9:.0f} nm, {best['anisotropy_Jm3']:.0f} J/m^3): {eps['M1']:.4f}")
    log(f"  M2 (full rank): {eps['M2']:.4f}")
    log(f"  ordering M0 > M1 >= M2: {'yes' if ordering else 'NO'}")
    log("\nTable 1 analogue: M2 (per-angle TF, TSVD) eps_global against the rank")
    log("  % of SVs | s kept | eps_global | atoms w>0")
    for row in table1:
        log(f"  {row['percent']:8d} | {row['rank']:6d} | {row['eps_global']:10.4f} | {row['atoms']:5d}")
    log("\nPer-angle medians of the row errors (Fig. 6 statistics)")
    log("  angle [deg] | " + " | ".join(f"{name:>6s}" for name in medians))
    for i, a in enumerate(angles):
        log(f"  {a:11.0f} | " + " | ".join(f"{medians[name][i]:6.3f}" for name in medians))
    w = fits["M2"].weights_
    order = np.argsort(w, axis=None)[::-1][:5]
    top = [(d[i // len(k)], k[i % len(k)], float(w.flat[i] / w.sum())) for i in order if w.flat[i] > 0]
    log("\nFitted parameters against the hidden population")
    log(f"  M1: D = {best['diameter_m'] * 1e9:.0f} nm, K = {best['anisotropy_Jm3']:.0f} J/m^3")
    log(
        "  M2, largest weights (D nm, K J/m^3, share): "
        + ", ".join(f"({a * 1e9:.0f}, {b:.0f}, {c:.2f})" for a, b, c in top)
    )
    if population is not None:
        log("  hidden: " + ", ".join(f"({m[0] * 1e9:.1f}, {m[1]:.0f}, {m[2]:.2f})" for m in population[0]))
    log("\nShared transfer function (one per channel for all angles; beyond the paper)")
    log(f"  M1 shared: {shared[0].training_error_:.4f}   M2 shared: {shared[1].training_error_:.4f}")
    log(f"  M2 shared fitted without angle {angles[-1]:g} deg, predicting it: eps = {held_err:.4f}")
    return {
        "grid": grid_name,
        "pairs": J,
        "solved_pairs": solved,
        "eps_global": eps,
        "ordering": bool(ordering),
        "table1": table1,
        "per_angle_medians": dict(angles_deg=list(angles), **medians),
        "m1_best": best,
        "m2_top": top,
        "hidden_population": population[0] if population else None,
        "shared": {
            "M1": float(shared[0].training_error_),
            "M2": float(shared[1].training_error_),
            "held_out": float(held_err),
        },
        "phases": phases,
    }


class _Dict:
    def __init__(self, phi, d, k, angles, rows, offsets):
        self.phi, self.diameters_m, self.anisotropies_Jm3 = phi, d, k
        self.angles_deg, self.frequency_indices, self.offsets_T = angles, rows, offsets
        self.channels = ("x", "y")


def cost(verbose=True, seed=3):
    """Part B: M1/M2 fit time and peak memory at the paper's full size."""
    log = print if verbose else (lambda *a, **kw: None)
    seq = paper_2d_sequence()
    grid = paper_2d_offsets()
    rows, _ = frequency_set(seq)
    d = tuple(float(v) * 1e-9 for v in range(14, 29, 2))
    k = tuple(float(v) for v in range(100, 9001, 100))
    angles = tuple(float(a) for a in range(0, 180, 15))
    shape = (len(d), len(k), len(angles), 2, rows.size, grid[0].shape[0])
    log(
        f"\nPart B: paper-size fit cost; dictionary {shape} = {np.prod(shape) * 16 / 1e9:.2f} GB complex128 "
        "(synthetic content: the cost does not depend on it)"
    )
    rng = np.random.default_rng(seed)
    phi = np.empty(shape, dtype=np.complex128)
    smooth = np.exp(-np.linspace(0, 3, shape[-1]))
    for i in range(shape[0]):  # fill per diameter: no multi-GB temporaries
        blk = rng.standard_normal(shape[1:] + (2,), dtype=np.float64)
        phi[i] = (blk[..., 0] + 1j * blk[..., 1]) * smooth
    del blk
    dic = _Dict(phi, d, k, angles, rows, grid[0])
    wtrue = np.zeros(shape[:2])
    wtrue[4, 10], wtrue[5, 3] = 1.0, 0.4
    data = np.einsum("dk,dkacfv->acfv", wtrue, phi)
    data += 0.05 * np.max(np.abs(data)) * (rng.standard_normal(data.shape) + 1j * rng.standard_normal(data.shape))
    offsets, size, fov, center = grid
    y = [
        SystemMatrix(
            data=data[a],
            frequency_indices=rows,
            drive_field=seq.drive_field,
            receiver=seq.receiver,
            grid_size=size,
            field_of_view=fov,
            field_of_view_center=center,
            offset_fields_T=offsets,
            method="hybrid",
            easy_axis_angle_deg=angles[a],
        )
        for a in range(len(angles))
    ]
    X = np.reshape(angles, (-1, 1))
    _, t_ref, _ = _timed(lambda: sum(np.vdot(phi[i], phi[i]).real for i in range(shape[0])))
    log(f"  reference: one pass sum|phi|^2 over the dictionary: {t_ref:.2f} s")
    runs = {
        "M1 per-angle (720 grid points)": lambda: NeelModel(d, anisotropies_Jm3=k, dictionary=dic).fit(X, y),
        "M1 shared TF": lambda: NeelModel(d, anisotropies_Jm3=k, dictionary=dic, tf_mode="shared").fit(X, y),
        "M2 per-angle, rank 21": lambda: DictionaryModel(d, anisotropies_Jm3=k, rank=21, dictionary=dic).fit(X, y),
        "M2 shared TF, rank 21": lambda: DictionaryModel(
            d, anisotropies_Jm3=k, rank=21, dictionary=dic, tf_mode="shared", max_iter=20
        ).fit(X, y),
    }
    log("  fit                              |  time [s] | x reference | peak traced memory [GB]")
    out = {}
    for name, fn in runs.items():
        est, dt, peak = _timed(fn)
        out[name] = (dt, peak, est.training_error_)
        log(
            f"  {name:32s} | {dt:9.1f} | {dt / t_ref:11.1f} | {peak / 1e9:6.2f}   (eps_global {est.training_error_:.4f})"
        )
    log(f"  process peak RSS: {_max_rss_bytes() / 1e9:.2f} GB (dictionary included)")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--grid", choices=tuple(GRIDS), default="coarse", help="fit grid (default: %(default)s)")
    p.add_argument(
        "--data", default=None, help="folder of measured calibrations (default: sample_mdf/synthetic_measured)"
    )
    p.add_argument("--no-interpolation", action="store_true", help="solve every (D, K) pair (no interpolation along K)")
    p.add_argument(
        "--cache",
        default=None,
        help="dictionary cache file (default: the shared cache of mdf_neel, which resumes a stopped run)",
    )
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--skip-cost", action="store_true")
    add_json_argument(p, "reproduce_paper")
    args = p.parse_args(argv)
    results = {}
    if not args.skip_accuracy:
        results["accuracy"] = accuracy(
            args.grid, args.data, interpolate=not args.no_interpolation, cache=args.cache or True, workers=args.workers
        )
    if not args.skip_cost:
        results["cost"] = cost()
    write_results(args.json, "reproduce_paper", args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
