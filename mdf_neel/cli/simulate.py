"""``mdf-neel simulate``: one model-based MDF system matrix per easy-axis angle.

Example (the paper's sequence and grid, 12 angles, Néel model)::

    mdf-neel simulate --preset paper-2d --angles 0:165:15 \\
        --diameter 22e-9 --anisotropy 1100 --out sm_neel

writes ``sm_neel/theta_000.mdf``, ``sm_neel/theta_015.mdf``, ... (three-digit whole
degrees), each a conformant MDF calibration file with ``/calibration/method``
"hybrid" (a simulated hybrid calibration; the grid is in tesla) and
``/experiment/isSimulation`` 1. Finished files are skipped when the
command is run again (resume). ``--scheduler ADDRESS`` runs the same work on an
existing dask.distributed cluster; otherwise local processes are used.

Reference: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).
"""

from __future__ import annotations

import os
import re
import sys


def _grid(text: str):
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if not m or any(int(g) < 1 for g in m.groups() if g):
        raise ValueError(f"--grid must look like 41x41 or 5x5x5 (NXxNY[xNZ]), got {text!r}")
    return tuple(int(g) for g in m.groups() if g)


def register(subparsers) -> None:
    """Add the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate one MDF system matrix per easy-axis angle",
        description="Simulate model-based hybrid system matrices (Néel, Langevin or anisotropic equilibrium), "
        "one MDF file per easy-axis angle, n(theta) = (cos theta, sin theta, 0).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--template", metavar="FILE", help="measured MDF system matrix giving sequence, offsets and grid")
    src.add_argument(
        "--preset",
        choices=("paper-2d", "bruker-3d"),
        help="built-in sequence and grid: paper-2d (Albers et al. 2022) or bruker-3d "
        "(3-D Lissajous 2.5 MHz/102, /96, /99 at 12 mT, three receive channels)",
    )
    p.add_argument("--grid", metavar="NXxNY[xNZ]", help="regular grid over the same offset extent (e.g. 41x41, 5x5x5)")
    p.add_argument(
        "--angles",
        required=True,
        metavar="LIST",
        help="easy-axis angles in degrees: START:STOP:STEP (inclusive) or a comma list, e.g. 0:165:15",
    )
    p.add_argument("--diameter", required=True, type=float, metavar="M", help="core diameter in metres, e.g. 22e-9")
    p.add_argument("--anisotropy", type=float, default=0.0, metavar="J/M3", help="anisotropy constant K in J/m^3")
    p.add_argument(
        "--model",
        default="neel",
        choices=("neel", "langevin", "anisotropic-equilibrium", "brown", "neel-brown"),
        help="neel: immobilised particles (default); brown: Brownian rotation in a liquid (the easy axis and "
        "--anisotropy do not enter); neel-brown: both at once (the easy axis turns with the body, so every "
        "angle gives the same rows; thousands of times the cost of neel, logged before it starts); "
        "langevin, anisotropic-equilibrium: equilibrium models",
    )
    p.add_argument(
        "--hydrodynamic-diameter",
        type=float,
        default=None,
        metavar="M",
        help="--model brown, neel-brown: hydrodynamic diameter in metres (default: the core diameter)",
    )
    p.add_argument(
        "--viscosity",
        type=float,
        default=1e-3,
        metavar="PA_S",
        help="--model brown, neel-brown: viscosity of the carrier liquid in Pa s (default 1e-3, water)",
    )
    p.add_argument(
        "--easy-axis-polar",
        type=float,
        default=90.0,
        metavar="DEG",
        help="polar angle of the easy axes from +z in degrees (default 90: in the xy-plane); "
        "n = (sin p cos theta, sin p sin theta, cos p)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (theta_XXX.mdf files)")
    p.add_argument(
        "--workers", type=int, default=0, help="local worker processes (default 0: one per CPU; 1: no extra processes)"
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address, e.g. tcp://host:8786")
    p.add_argument(
        "--channels",
        default=None,
        help="receive channels, comma-separated from x,y,z (default x,y,z for a sequence with an active z drive, "
        "else x,y)",
    )
    p.add_argument("--unit", default="V/mol", choices=("V/mol", "1/s"), help="unit of the stored data")
    p.add_argument("--alpha", type=float, default=0.1, help="Gilbert damping (default 0.1)")
    p.add_argument("--saturation-magnetization", type=float, default=474e3, metavar="A/M", help="Ms in A/m")
    p.add_argument("--temperature", type=float, default=293.0, metavar="K", help="temperature in K")
    p.add_argument(
        "--rtol",
        type=float,
        default=1e-3,
        help="row-accuracy contract of the Néel solver: RMS over the rows of the per-row NRMSE "
        "against a converged solve, no row above 10x (default 1e-3; verified per batch)",
    )
    p.add_argument("--overwrite", action="store_true", help="recompute files that already exist")
    p.set_defaults(func=run)


def run(args) -> int:
    """Simulate and write every angle; print the files; return 0 (2 on bad input)."""
    try:
        paths = _simulate(args)
    except ValueError as exc:  # bad parameters, unreadable template, output made with other settings
        print(f"mdf-neel simulate: error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(os.path.relpath(path))
    return 0


def _simulate(args) -> list:
    from ..simulate import preset, regrid, sequence_from_file
    from ..simulate.angles import parse_angles, write_system_matrices

    grid_size = _grid(args.grid) if args.grid else None
    angles = parse_angles(args.angles)
    if args.template:
        sequence, grid = sequence_from_file(args.template, grid=grid_size)
    else:
        sequence, grid = preset(args.preset)
        if grid_size:
            grid = regrid(grid, grid_size)
    if args.channels is None:  # a 3-D drive moves the moment out of the xy-plane: receive z as well
        active = sequence.drive_field.active_channels
        args.channels = "x,y,z" if active.size > 2 and active[2] else "x,y"
    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    particle = dict(
        alpha=args.alpha, saturation_magnetization_Am=args.saturation_magnetization, temperature_K=args.temperature
    )
    if args.model in ("brown", "neel-brown"):
        particle.update(hydrodynamic_diameter_m=args.hydrodynamic_diameter, viscosity_Pas=args.viscosity)
    if args.model in ("neel", "brown", "neel-brown"):
        particle["rtol"] = args.rtol
    # Néel: every angle and offset in one task (one physics call, verified row contract);
    # files are still written, and resumed, one per angle
    return write_system_matrices(
        sequence,
        grid,
        args.out,
        angles_deg=angles,
        diameter_m=args.diameter,
        anisotropy_Jm3=args.anisotropy,
        model=args.model,
        channels=channels,
        unit=args.unit,
        workers=args.workers,
        scheduler=args.scheduler,
        overwrite=args.overwrite,
        batches_per_angle=1 if args.model in ("neel", "brown", "neel-brown") else 4,
        easy_axis_polar_deg=args.easy_axis_polar,
        **particle,
    )
