"""``mdf-neel reconstruct``: orientation imaging with one system matrix per easy-axis angle.

Example::

    mdf-neel reconstruct --sm theta_*.mdf --measurement meas.mdf --out recon

writes ``recon/image.h5`` (concentration per angle and position, orientation maps; see
:mod:`mdf_neel.reconstruct.image_file`), ``recon/orientation.png`` (concentration as
brightness, dominant easy-axis angle as hue; needs matplotlib) and prints a summary.
The matrices are stacked in the order of their easy-axis angles.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

HELP = "reconstruct concentration per easy-axis angle and position (orientation imaging)"


def register(subparsers):
    """Add the ``reconstruct`` subcommand."""
    from ..reconstruct import METHODS, WEIGHTINGS

    p = subparsers.add_parser(
        "reconstruct",
        help=HELP,
        description=HELP + ": the system matrices (one per easy-axis angle, same grid and sequence) are stacked "
        "side by side and the measurement is reconstructed by regularised Kaczmarz (or CGNR); writes an HDF5 "
        "image and an orientation picture.",
    )
    p.add_argument("--sm", nargs="+", required=True, metavar="FILE", help="MDF system matrices, one per angle")
    p.add_argument("--measurement", required=True, metavar="FILE", help="MDF measurement file")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--method", choices=METHODS, default="kaczmarz", help="solver (default kaczmarz)")
    p.add_argument("--iterations", type=int, default=20, help="Kaczmarz sweeps / CG iterations (default 20)")
    p.add_argument(
        "--lambda",
        dest="lambda_rel",
        type=float,
        default=1e-3,
        help="Tikhonov weight relative to trace(A^H A)/N (default 1e-3)",
    )
    p.add_argument("--weighting", choices=WEIGHTINGS, default="row_energy", help="row weighting (default row_energy)")
    p.add_argument("--snr-threshold", type=float, default=None, help="keep rows with calibration SNR >= this")
    p.add_argument("--min-frequency", type=float, default=0.0, help="lowest frequency used [Hz]")
    p.add_argument("--max-frequency", type=float, default=math.inf, help="highest frequency used [Hz]")
    p.add_argument(
        "--background",
        choices=("mean", "interpolate", "none"),
        default="mean",
        help="background correction of the measurement (default mean)",
    )
    p.add_argument("--tf-correction", action="store_true", help="divide measurement and matrices by stored TFs")
    p.add_argument("--frames", choices=("average", "each"), default="average", help="average the foreground frames")
    p.add_argument("--no-nonnegative", action="store_true", help="allow negative concentrations")
    p.add_argument("--no-picture", action="store_true", help="write no picture")
    p.set_defaults(func=run)
    return p


def _angle_key(path):
    from ..mdf.reader import read_system_matrix

    angle = read_system_matrix(path, frequencies=[]).easy_axis_angle_deg
    return (angle is None, angle if angle is not None else 0.0)


def run(args) -> int:
    from ..reconstruct import (
        MeasurementOptions,
        ReconstructionSettings,
        RowSelection,
        plot_orientation,
        reconstruct,
        write_image,
    )

    settings = ReconstructionSettings(
        method=args.method,
        iterations=args.iterations,
        lambda_rel=args.lambda_rel,
        weighting=args.weighting,
        enforce_nonnegative=not args.no_nonnegative,
        rows=RowSelection(
            min_frequency_Hz=args.min_frequency, max_frequency_Hz=args.max_frequency, min_snr=args.snr_threshold
        ),
        measurement=MeasurementOptions(
            background_correction=None if args.background == "none" else args.background,
            transfer_function_correction=args.tf_correction,
            average_frames=args.frames == "average",
        ),
    )
    files = sorted(args.sm, key=_angle_key)
    rec = reconstruct(files, args.measurement, settings)
    os.makedirs(args.out, exist_ok=True)
    image = write_image(os.path.join(args.out, "image.h5"), rec)
    picture = None
    if not args.no_picture:
        try:
            picture = os.path.join(args.out, "orientation.png")
            plot_orientation(rec, picture, title=os.path.basename(os.fspath(args.measurement)))
        except ImportError as exc:
            print(f"mdf-neel reconstruct: no picture ({exc})", file=sys.stderr)
            picture = None
    _summary(rec, image, picture)
    return 0


def _summary(rec, image, picture) -> None:
    om = rec.orientation()
    total = om.total[0]
    peak = float(np.nanmax(total)) if total.size else 0.0
    occupied = total > 0.5 * peak if peak > 0 else np.zeros(total.shape, bool)
    print(f"system matrices: {len(rec.angles_deg)} angles {[f'{a:g}' for a in rec.angles_deg]} deg")
    print(f"measurement:     {rec.measurement_file}")
    print(
        f"rows:            {int(rec.row_mask.sum())} of {rec.row_mask.size} (channel, bin); "
        f"lambda = {rec.lambda_abs:.3g}; residual {np.array2string(rec.residual, precision=3)}"
    )
    print(f"grid:            {tuple(int(v) for v in rec.grid_size)}; frames: {rec.concentration.shape[0]}")
    print(f"total concentration (frame 0): sum {float(np.nansum(total)):.4g}, peak {peak:.4g}")
    if occupied.any():
        from ..reconstruct import orientation_map

        per_angle = rec.concentration[0][:, occupied].sum(axis=-1)
        whole = orientation_map(per_angle, rec.angles_deg)
        shares = ", ".join(f"{a:g}°: {v / max(per_angle.sum(), 1e-300):.2f}" for a, v in zip(rec.angles_deg, per_angle))
        print(
            f"where total > half its peak ({int(occupied.sum())} points): dominant angle "
            f"{float(whole.angle_deg):.1f}°, coherence {float(whole.coherence):.2f}; shares {shares}"
        )
    print(f"image:           {image}")
    if picture:
        print(f"picture:         {picture}")
