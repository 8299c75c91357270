"""Orientation imaging with model-based per-angle system matrices: where, and how oriented.

The pipeline of ``docs/reconstruct.md`` end to end, on SYNTHETIC data:

1. **Calibrations** "measured" at 4 easy-axis angles (0°, 45°, 90°, 135°) on the paper's
   11 x 11 offset grid: :func:`mdf_neel.simulate.synthetic.synthetic_calibration` with
   the hidden three-species population of the bundled samples, the analogue band-pass,
   background frames and noise 1e-3 of the peak.
2. **M1 with one shared transfer function** (:class:`mdf_neel.fitting.NeelModel`,
   ``tf_mode="shared"``) fitted to them, and **M0** (Langevin, angle-blind,
   :class:`mdf_neel.fitting.EquilibriumModel`, shared TF) for comparison.
3. **Per-angle matrices** predicted by M1 for 12 angles (0°, 15°, …, 165°) on a finer
   grid and written as MDF files (:func:`mdf_neel.fitting.predict_mdf`); M0 gives one
   matrix. The **true matrices** (the hidden population, noise-free, same band-pass) on
   the same grid and angles are the bound.
4. **Phantom**: three discs at 0°, 60° and 120° (concentrations 1.0, 0.8, 0.6) on the
   fine grid, measured with the calibrations' receive chain and absolute noise
   (:mod:`mdf_neel.simulate.phantom`), 20 foreground and 10 background frames, written
   as an MDF measurement.
5. **Reconstruction** from the files (:func:`mdf_neel.reconstruct.reconstruct`: mean
   background correction, frames averaged, Kaczmarz with real non-negative projection)
   for each matrix set and a few λ; per set the λ with the best SSIM is reported (an
   oracle choice, stated as such), with every λ in the JSON.

Measures: per disc, the position error (centroid of the reconstructed total
concentration within 1.5 grid steps of the disc against the disc's centroid, in mT of
offset field), the orientation error (axial mean over the disc of the reconstructed
per-angle concentrations against the true angle, degrees), the recovered amount (sum
over that region / true sum), and the SSIM of the total-concentration image (Wang et al.
2004: Gaussian window σ = 1.5 px, K1 = 0.01, K2 = 0.03, dynamic range = the true
maximum), implemented here.

``--physics neel`` (default) uses the Néel model everywhere; ``anisotropic-equilibrium``
is the angle-aware equilibrium model, orders of magnitude cheaper. ``--quick`` shrinks
the fine grid to 9 x 9 and the M1 fit grid to 2 x 2 (D, K) points.

Usage::

    python benchmarks/orientation_imaging.py [--quick] [--physics neel|anisotropic-equilibrium]
        [--grid 31] [--calibrations DIR] [--picture docs/img/orientation_imaging.png] [--workdir DIR]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _results import add_json_argument, write_results  # noqa: E402

from mdf_neel.fitting import EquilibriumModel, NeelModel, frequency_set, predict_mdf  # noqa: E402
from mdf_neel.mdf import write_measurement, write_system_matrix  # noqa: E402
from mdf_neel.reconstruct import (  # noqa: E402
    ReconstructionSettings,
    axial_difference_deg,
    orientation_map,
    reconstruct,
)
from mdf_neel.reconstruct.pictures import orientation_rgb  # noqa: E402
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence  # noqa: E402
from mdf_neel.simulate import PhantomSample, disk_phantom, phantom_measurement, regrid  # noqa: E402
from mdf_neel.simulate.synthetic import synthetic_calibration  # noqa: E402

#: The hidden population of the bundled SYNTHETIC samples (sample_mdf/make_samples.py).
POPULATION = ((21.3e-9, 1180.0, 0.7), (23.4e-9, 730.0, 0.2), (19.6e-9, 1850.0, 0.1))
CAL_ANGLES = (0.0, 45.0, 90.0, 135.0)
ANGLES = tuple(float(a) for a in range(0, 180, 15))
#: (centre x, centre y) [T], radius [T], concentration, easy-axis angle [deg]
SAMPLES = (
    ((-7.0e-3, -6.0e-3), 4.0e-3, 1.0, 0.0),
    ((7.0e-3, -6.0e-3), 4.0e-3, 0.8, 60.0),
    ((0.0, 7.0e-3), 4.0e-3, 0.6, 120.0),
)
LAMBDAS = (1e-3, 1e-2, 1e-1)
FIT_GRIDS = {
    "full": dict(d=(18e-9, 20e-9, 22e-9, 24e-9), k=(300.0, 700.0, 1100.0, 1500.0, 2300.0)),
    "quick": dict(d=(20e-9, 22e-9), k=(700.0, 1100.0)),
}


def ssim(image, reference, sigma=1.5):
    """Mean structural similarity (Wang et al. 2004) with a Gaussian window.

    Parameters
    ----------
    image, reference : numpy.ndarray, shape (Ny, Nx)
    sigma : float
        Window standard deviation in pixels (truncated at 3.5 σ).

    Returns
    -------
    float
        Mean SSIM over the image (1 for identical images).
    """
    from scipy.ndimage import gaussian_filter

    x = np.asarray(image, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    L = float(y.max() - y.min()) or 1.0
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2

    def blur(a):
        return gaussian_filter(a, sigma, mode="reflect", truncate=3.5)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx**2
    vy = blur(y * y) - my**2
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


def _phase(name, fn, phases):
    t = time.perf_counter()
    print(f"[{name}] ...", flush=True)
    out = fn()
    phases[name] = time.perf_counter() - t
    print(f"[{name}] {phases[name]:.1f} s", flush=True)
    return out


def _measures(rec, phantom, grid):
    """Per-disc position/orientation/amount errors and the SSIM of the total image."""
    Ny, Nx = int(grid.size[1]), int(grid.size[0])
    om = rec.orientation()
    total = om.total[0, 0]
    truth = phantom.concentration.reshape(Ny, Nx)
    xy = grid.offsets_T[:, :2].reshape(Ny, Nx, 2)
    step = float(np.max(grid.field_of_view_T[:2] / grid.size[:2]))
    conc = rec.concentration[0, :, 0]  # (A, Ny, Nx)
    discs = []
    for (centre, radius, amount, angle), label in zip(SAMPLES, ("a", "b", "c")):
        d = np.hypot(xy[..., 0] - centre[0], xy[..., 1] - centre[1])
        inside = d <= radius
        region = d <= radius + 1.5 * step
        w_true = truth * inside
        c_true = (xy * w_true[..., None]).sum((0, 1)) / w_true.sum()
        w_rec = total * region
        mass = float(w_rec.sum())
        c_rec = (xy * w_rec[..., None]).sum((0, 1)) / mass if mass > 0 else np.full(2, np.nan)
        entry = {
            "sample": label,
            "true_angle_deg": angle,
            "true_concentration": amount,
            "position_error_mT": float(np.hypot(*(c_rec - c_true)) * 1e3),
            "amount_ratio": mass / float(w_true.sum()),
        }
        if conc.shape[0] > 1:
            whole = orientation_map(conc[:, inside].sum(axis=-1), rec.angles_deg)
            per_point = axial_difference_deg(om.angle_deg[0, 0][inside], angle)
            entry.update(
                orientation_error_deg=float(axial_difference_deg(whole.angle_deg, angle)),
                orientation_coherence=float(whole.coherence),
                median_point_orientation_error_deg=float(np.nanmedian(per_point)),
            )
        discs.append(entry)
    out = {
        "ssim_total": ssim(total, truth),
        "position_error_mT_mean": float(np.mean([d["position_error_mT"] for d in discs])),
        "amount_ratio_mean": float(np.mean([d["amount_ratio"] for d in discs])),
        "background_fraction": float(total[truth == 0].sum() / max(total.sum(), 1e-300)),
        "residual": float(rec.residual[0]),
        "discs": discs,
    }
    if conc.shape[0] > 1:
        out["orientation_error_deg_mean"] = float(np.mean([d["orientation_error_deg"] for d in discs]))
        out["orientation_error_deg_max"] = float(np.max([d["orientation_error_deg"] for d in discs]))
    return out


def _picture(path, grid, phantom, recs, title):
    from mdf_neel.plot import _require_matplotlib, save_figure

    Figure, FigureCanvasAgg = _require_matplotlib()
    Ny, Nx = int(grid.size[1]), int(grid.size[0])
    c, f = grid.center_T[:2] * 1e3, grid.field_of_view_T[:2] * 1e3
    extent = (c[0] - f[0] / 2, c[0] + f[0] / 2, c[1] - f[1] / 2, c[1] + f[1] / 2)
    truth = phantom.concentration.reshape(Ny, Nx)
    panels = [("phantom (truth)", orientation_rgb(truth, phantom.angle_deg.reshape(Ny, Nx), vmax=truth.max()))]
    for name, rec in recs:
        om = rec.orientation()
        total = om.total[0, 0]
        if rec.concentration.shape[1] > 1:
            rgb = orientation_rgb(total, om.angle_deg[0, 0], om.coherence[0, 0], vmax=truth.max())
        else:  # angle-blind: brightness only
            rgb = np.repeat(np.clip(total / truth.max(), 0, 1)[..., None], 3, axis=-1)
        panels.append((name, rgb))
    fig = Figure(figsize=(3.2 * len(panels) + 0.8, 4.0))
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(1, len(panels) + 1, width_ratios=[1.0] * len(panels) + [0.08])
    for i, (name, rgb) in enumerate(panels):
        ax = fig.add_subplot(gs[0, i])
        ax.imshow(rgb, origin="lower", extent=extent, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("x offset [mT]", fontsize=8)
        if i == 0:
            ax.set_ylabel("y offset [mT]", fontsize=8)
        ax.tick_params(labelsize=7)
    key = fig.add_subplot(gs[0, -1])
    hues = np.linspace(0.0, 180.0, 181)[:, None]
    key.imshow(orientation_rgb(np.ones_like(hues), hues), origin="lower", aspect="auto", extent=(0, 1, 0, 180))
    key.set_xticks([])
    key.yaxis.tick_right()
    key.set_yticks([0, 60, 120, 180])
    key.tick_params(labelsize=7)
    key.set_title("ϑ [°]", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    print(f"picture: {path}")


def _read_calibrations(folder, rows, physics):
    """SYNTHETIC calibrations from MDF files (e.g. sample_mdf/synthetic_measured), on ``rows``."""
    import glob

    from mdf_neel.mdf import read_system_matrix

    paths = sorted(glob.glob(os.path.join(folder, "*.mdf")))
    if not paths:
        raise SystemExit(f"no .mdf files in {folder}")
    sms = sorted((read_system_matrix(p, frequencies=rows) for p in paths), key=lambda sm: sm.easy_axis_angle_deg)
    prov = sms[0].provenance
    if prov.get("synthetic") != "yes" or "population" not in prov or "noise_sigma" not in prov:
        raise SystemExit(f"{folder}: the files must be SYNTHETIC calibrations with a population and noise_sigma")
    if prov.get("model") != physics:
        raise SystemExit(f"{folder}: made with the {prov.get('model')!r} model, not {physics!r} (--physics)")
    return sms


def run(args):
    phases = {}
    physics = args.physics
    seq = paper_2d_sequence()
    cal_grid = paper_2d_offsets((11, 11))
    n = args.grid or (9 if args.quick else 31)
    fine = regrid(cal_grid, (n, n))
    rows, _ = frequency_set(seq, *args.max_mixing_order)
    fit_grid = FIT_GRIDS["quick" if args.quick else "full"]
    print(
        f"physics {physics!r}; calibrations 4 angles x 11 x 11; {rows.size} rows (mixing orders <= "
        f"{tuple(args.max_mixing_order)}); fine grid {n} x {n}, {len(ANGLES)} angles; M1 fit grid "
        f"{len(fit_grid['d'])} D x {len(fit_grid['k'])} K",
        flush=True,
    )
    work = args.workdir or tempfile.mkdtemp(prefix="orientation_imaging_")
    os.makedirs(work, exist_ok=True)

    population = POPULATION
    if args.calibrations:
        cals = _phase("calibrations (read)", lambda: _read_calibrations(args.calibrations, rows, physics), phases)
        pop = cals[0].provenance["population"]
        population = tuple(zip(pop["diameter_m"], pop["anisotropy_Jm3"], pop["weight"]))
    else:
        cals = _phase(
            "calibrations",
            lambda: synthetic_calibration(
                seq,
                cal_grid,
                angles_deg=CAL_ANGLES,
                population=population,
                model=physics,
                frequencies=rows,
                noise_level=1e-3,
                seed=20220301,
            ),
            phases,
        )
    sigma = float(cals[0].provenance["noise_sigma"])
    cal_angles = tuple(float(sm.easy_axis_angle_deg) for sm in cals)
    X = np.reshape(cal_angles, (-1, 1))
    m1 = _phase(
        "fit M1 (shared TF)",
        lambda: NeelModel(
            fit_grid["d"], anisotropies_Jm3=fit_grid["k"], frequencies=rows, tf_mode="shared", model=physics
        ).fit(X, cals),
        phases,
    )
    m0 = _phase(
        "fit M0 (Langevin, shared TF)",
        lambda: EquilibriumModel(fit_grid["d"], frequencies=rows, tf_mode="shared").fit(X, cals),
        phases,
    )
    print(f"M1: {m1.best_params_}, training eps_global {m1.training_error_:.4f}; M0: {m0.best_params_}")
    X12 = np.reshape(ANGLES, (-1, 1))
    m1_files = _phase(
        "predict M1 (12 angles, fine grid)",
        lambda: predict_mdf(m1, X12, os.path.join(work, "m1"), grid=fine, prefix="m1"),
        phases,
    )
    m0_files = _phase(
        "predict M0 (fine grid)",
        lambda: predict_mdf(m0, np.zeros((1, 1)), os.path.join(work, "m0"), grid=fine, prefix="m0"),
        phases,
    )

    def true_files():
        sms = synthetic_calibration(
            seq,
            fine,
            angles_deg=ANGLES,
            population=population,
            model=physics,
            frequencies=rows,
            noise_level=0.0,
            background_level=0.0,
        )
        os.makedirs(os.path.join(work, "true"), exist_ok=True)
        return [
            write_system_matrix(os.path.join(work, "true", f"true_{a:06.2f}deg.mdf"), sm) for a, sm in zip(ANGLES, sms)
        ]

    t_files = _phase("true matrices (12 angles, fine grid)", true_files, phases)
    phantom = disk_phantom(fine, [PhantomSample(c, r, a, th) for c, r, a, th in SAMPLES])

    def measure():
        meas = phantom_measurement(
            seq,
            phantom,
            population=population,
            model=physics,
            frequencies=rows,
            noise_sigma=sigma,
            foreground_frames=20,
            background_frames=10,
            seed=7,
        )
        return write_measurement(os.path.join(work, "phantom.mdf"), meas)

    meas_file = _phase("phantom measurement", measure, phases)

    results = {}
    best_recs = []
    for name, files in (("M1", m1_files), ("M0", m0_files), ("true matrices", t_files)):
        scan = {}
        recs = {}
        for lam in LAMBDAS:
            settings = ReconstructionSettings(iterations=args.iterations, lambda_rel=lam, weighting=args.weighting)
            t = time.perf_counter()
            rec = reconstruct(files, meas_file, settings)
            seconds = time.perf_counter() - t
            scan[f"{lam:g}"] = dict(_measures(rec, phantom, fine), seconds=seconds)
            recs[lam] = rec
        best = max(LAMBDAS, key=lambda lam: scan[f"{lam:g}"]["ssim_total"])
        results[name] = {"best_lambda_rel": best, "best": scan[f"{best:g}"], "lambda_scan": scan}
        best_recs.append((f"{name} (λ = {best:g})", recs[best]))
        b = scan[f"{best:g}"]
        orient = (
            f", orientation error mean {b['orientation_error_deg_mean']:.1f}° max {b['orientation_error_deg_max']:.1f}°"
            if "orientation_error_deg_mean" in b
            else ", orientation: n.a. (angle-blind)"
        )
        print(
            f"{name:14s} λ_rel {best:g}: SSIM {b['ssim_total']:.3f}, position error {b['position_error_mT_mean']:.2f} mT"
            f"{orient}, amount ratio {b['amount_ratio_mean']:.2f}, residual {b['residual']:.3f} "
            f"({b['seconds']:.2f} s per reconstruction)"
        )
    if args.picture:
        _picture(
            args.picture,
            fine,
            phantom,
            best_recs,
            f"SYNTHETIC phantom, {physics} physics, {n} x {n} grid, 12 angles "
            f"({'--quick' if args.quick else 'full'} run); hue = easy axis, brightness = concentration",
        )
    return {
        "physics": physics,
        "rows": int(rows.size),
        "fine_grid": [n, n],
        "angles_deg": list(ANGLES),
        "calibration_angles_deg": list(cal_angles),
        "calibrations": args.calibrations or "synthetic_calibration (made here)",
        "population": [[float(v) for v in p] for p in population],
        "phantom": [dict(center_T=list(c), radius_T=r, concentration=a, angle_deg=th) for c, r, a, th in SAMPLES],
        "noise_sigma": sigma,
        "m1": {"best_params": m1.best_params_, "training_eps_global": float(m1.training_error_)},
        "m0": {"best_params": m0.best_params_, "training_eps_global": float(m0.training_error_)},
        "reconstructions": results,
        "phases_s": phases,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="9 x 9 fine grid, 2 x 2 M1 fit grid")
    p.add_argument("--physics", choices=("neel", "anisotropic-equilibrium"), default="neel")
    p.add_argument("--grid", type=int, default=None, help="fine grid points per axis (default 31, quick 9)")
    p.add_argument("--max-mixing-order", type=int, nargs=2, default=(12, 12), metavar=("MX", "MY"))
    p.add_argument("--iterations", type=int, default=50, help="Kaczmarz sweeps (default 50)")
    p.add_argument("--weighting", default="none", help="row weighting (default none)")
    p.add_argument(
        "--calibrations",
        default=None,
        metavar="DIR",
        help="read the 4-angle SYNTHETIC calibrations from these MDF files (e.g. sample_mdf/synthetic_measured "
        "with --max-mixing-order 9 9) instead of making them; their population makes phantom and true matrices",
    )
    p.add_argument("--workdir", default=None, help="where the MDF files go (default a new temporary folder)")
    p.add_argument("--picture", default=None, help="write the comparison picture here (e.g. docs/img/...png)")
    add_json_argument(p, "orientation_imaging")
    args = p.parse_args(argv)
    results = run(args)
    write_results(args.json, "orientation_imaging", args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
