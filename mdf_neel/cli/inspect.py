"""``mdf-neel inspect FILE [--json]``: what an MDF file holds.

Groups and datasets with shapes and dtypes, processing flags, the sequence (drive
frequencies, dividers, mixing orders of the first rows), grid and offsets, an SNR
summary and the background frames. ``--json`` prints the summary for scripts.
"""

from __future__ import annotations

import json


def register(subparsers) -> None:
    """Add the ``inspect`` subcommand."""
    p = subparsers.add_parser(
        "inspect",
        help="summarise an MDF file",
        description="Summarise an MDF file: groups, flags, sequence and mixing orders, grid, SNR, background.",
    )
    p.add_argument("file", metavar="FILE", help="MDF file (.mdf, .h5, .hdf)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--rows", type=int, default=20, help="stored frequency rows whose mixing orders are listed (default 20)"
    )
    p.add_argument("--no-tree", action="store_true", help="omit the list of groups and datasets (text output)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Print the summary; MDFError (not HDF5, unreadable) becomes exit 2 in the dispatcher."""
    from ..mdf.inspection import format_summary, inspect

    summary = inspect(args.file, rows=args.rows)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary, tree=not args.no_tree))
    return 0
