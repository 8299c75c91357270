"""The ``mdf-neel`` command: ``inspect | validate | convert | simulate | fit | plot | reconstruct``.

Each subcommand lives in its own module ``mdf_neel.cli.<name>`` with two functions:
``register(subparsers)`` adds its argparse parser (and sets ``func``), and the
function set as ``func`` takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from .. import __version__
from ..errors import MDFError

SUBCOMMANDS = ("inspect", "validate", "convert", "simulate", "fit", "plot", "reconstruct")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mdf-neel",
        description="MDF v2.1 system matrices for MPI: inspect, validate, convert, simulate (Néel), fit (M0/M1/M2), plot.",
    )
    parser.add_argument("--version", action="version", version=f"mdf-neel {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MDFError as exc:
        print(f"mdf-neel {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"mdf-neel {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
