"""``mdf-neel plot``: pictures of system-matrix rows (phase as hue, magnitude as brightness)."""

from __future__ import annotations

import argparse
import sys

HELP = "images of system-matrix rows (mixing orders) over the offset grid, one column per file"

_CHANNELS = {"x": 0, "y": 1, "z": 2, "1": 0, "2": 1, "3": 2}


def _row(text):
    try:
        mx, my = (int(v) for v in text.replace("(", "").replace(")", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a row is a mixing order 'mx,my' such as 3,3; got {text!r}") from None
    return mx, my


def _channel(text):
    try:
        return _CHANNELS[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"channel must be x, y, z or 1, 2, 3; got {text!r}") from None


def register(subparsers):
    p = subparsers.add_parser(
        "plot",
        help=HELP,
        description=HELP + ". Files are sorted by their easy-axis angle; colours: phase → hue, "
        "|S| → brightness, one brightness scale per row shared by all files (--normalization row).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="MDF system-matrix files (e.g. one per easy-axis angle)")
    p.add_argument(
        "--rows",
        nargs="+",
        type=_row,
        default=[(1, 1), (3, 3), (5, 5)],
        metavar="MX,MY",
        help="mixing orders to show (default: 1,1 3,3 5,5)",
    )
    p.add_argument("--channel", type=_channel, default=0, help="receive channel: x, y (or 1, 2); default x")
    p.add_argument(
        "--normalization",
        choices=("row", "panel"),
        default="row",
        help="brightness scale per mixing order across files (row, default) or per image (panel)",
    )
    p.add_argument(
        "--out", "-o", default="sm-rows.png", help="output image (format from the extension); default sm-rows.png"
    )
    p.add_argument("--dpi", type=float, default=120.0, help="resolution of raster output (default 120)")
    p.set_defaults(func=run)
    return p


def _sort_key(item):
    index, sm = item
    angle = sm.easy_axis_angle_deg
    return (angle is None, angle if angle is not None else 0.0, index)


def run(args) -> int:
    from ..mdf.reader import read_system_matrix
    from ..plot import plot_rows, rows_to_bins, save_figure

    matrices = []
    for path in args.files:
        # metadata first (no rows), then only the rows the mixing orders map to
        header = read_system_matrix(path, frequencies=[])
        try:
            sm = read_system_matrix(path, frequencies=sorted(set(rows_to_bins(header, args.rows))))
        except (KeyError, ValueError) as exc:
            print(f"mdf-neel plot: error: {path}: {exc}", file=sys.stderr)
            return 2
        sm.source_path = sm.source_path or str(path)
        matrices.append(sm)
    matrices = [sm for _, sm in sorted(enumerate(matrices), key=_sort_key)]
    try:
        fig = plot_rows(matrices, args.rows, args.channel, normalization=args.normalization)
    except ValueError as exc:
        print(f"mdf-neel plot: error: {exc}", file=sys.stderr)
        return 2
    save_figure(fig, args.out, dpi=args.dpi)
    print(args.out)
    return 0
