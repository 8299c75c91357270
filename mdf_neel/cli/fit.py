"""``mdf-neel fit``: fit M0/M1/M2 to measured hybrid system matrices (one MDF file per angle).

Example (the paper's M2 with 3 % of the singular values)::

    mdf-neel fit sm_*.mdf --model m2 --rank 21 --physics neel --cache dict.h5 --out fit_m2

writes ``fit_m2/model/model.{json,h5}`` (reload with
:func:`mdf_neel.fitting.io.load_model`), ``fit_m2/report/`` (error map, per-frequency
errors over (mx, my), per-angle box plot, weights, ``report.md``) and
``fit_m2/predicted/predicted_XXX.XXdeg.mdf`` (one predicted system matrix per angle).
Fluid tracers (Brownian rotation) are fitted over a viscosity or hydrodynamic-diameter
grid in the place of K::

    mdf-neel fit sm.mdf --model m1 --physics brown --diameters 20nm --hydrodynamic-diameter 30e-9 \
        --viscosities 0.5e-3,1e-3,2e-3,4e-3 --out fit_fluid

``--physics neel-brown`` (the moment also turns in the core, so K enters) takes the same
liquid options; with a liquid grid ``--anisotropies`` gives its one K.

The easy-axis angle of each file is read from the file (``/_easyAxisAngle``-style
custom field written by this package) unless ``--angles`` gives them.

Reference: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).
"""

from __future__ import annotations

import os

import numpy as np

from .._parsing import parse_values

_MODELS = ("m0", "m1", "m2")


def register(subparsers) -> None:
    """Add the ``fit`` subcommand."""
    p = subparsers.add_parser(
        "fit",
        help="fit M0/M1/M2 to measured system matrices (one file per easy-axis angle)",
        description="Fit the equilibrium (m0), single Néel (m1) or dictionary (m2) model of Albers et al. 2022 "
        "to measured hybrid system matrices; write the model, a report and predicted MDF files.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="measured MDF system matrices, one per angle")
    p.add_argument("--model", required=True, choices=_MODELS)
    p.add_argument(
        "--diameters",
        metavar="LIST",
        help="core diameters: START:STOP:STEP or comma list, in m or with unit nm (default the paper's 14nm:28nm:2nm)",
    )
    p.add_argument(
        "--anisotropies", metavar="LIST", help="anisotropy constants in J/m^3 (default the paper's 100:9000:100)"
    )
    p.add_argument("--rank", type=int, default=None, help="TSVD rank s for m2 (default: no truncation; paper 21)")
    p.add_argument(
        "--tf",
        choices=("per-angle", "shared"),
        default="per-angle",
        help="one transfer function per angle (paper) or one per channel for all angles",
    )
    p.add_argument("--angles", metavar="LIST", help="easy-axis angles in degrees, one per file (default: from files)")
    p.add_argument(
        "--max-mixing-order",
        type=int,
        nargs=2,
        default=(9, 9),
        metavar=("MX", "MY"),
        help="I_freq bounds (default 9 9: 97 rows)",
    )
    p.add_argument(
        "--physics",
        default="neel",
        choices=("neel", "anisotropic-equilibrium", "brown", "neel-brown"),
        help="dictionary model for m1/m2 (m0 always uses the Langevin model); brown: tracers turning in a liquid; "
        "neel-brown: combined Néel and Brownian rotation (K enters, the easy axis does not)",
    )
    p.add_argument(
        "--hydrodynamic-diameter",
        type=float,
        default=None,
        metavar="M",
        help="--physics brown, neel-brown: hydrodynamic diameter in metres (default: the core diameter)",
    )
    p.add_argument(
        "--viscosity",
        type=float,
        default=None,
        metavar="PA_S",
        help="--physics brown, neel-brown: viscosity of the carrier liquid in Pa s (default 1e-3, water)",
    )
    p.add_argument(
        "--viscosities",
        metavar="LIST",
        help="--physics brown, neel-brown: fit the viscosity over these values in Pa s (or with unit mPas) "
        "instead of K",
    )
    p.add_argument(
        "--hydrodynamic-diameters",
        metavar="LIST",
        help="--physics brown, neel-brown: fit the hydrodynamic diameter over these values (m, or with unit nm) "
        "instead of K",
    )
    p.add_argument(
        "--cache",
        metavar="FILE",
        help="dictionary cache file (HDF5; resumable); default: one shared file per set of settings "
        "in the user's cache directory ($MDF_NEEL_CACHE_DIR moves it)",
    )
    p.add_argument(
        "--rtol",
        type=float,
        default=None,
        help="--model m1/m2: row-accuracy contract of the simulated dictionary (RMS of the per-row NRMSE "
        "against a converged solve; default 1e-3; docs/simulate.md)",
    )
    p.add_argument("--no-cache", action="store_true", help="compute the dictionary without caching it")
    p.add_argument("--workers", type=int, default=None, help="worker processes for the dictionary simulation")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--no-predict", action="store_true", help="do not write predicted MDF files")
    p.set_defaults(func=run)


def _liquid(args) -> dict:
    """The estimators' liquid parameters from the options (refused for models without a liquid)."""
    from ..simulate.liquid import LIQUID_MODELS

    liquid = dict(hydrodynamic_diameter_m=args.hydrodynamic_diameter, viscosity_Pas=args.viscosity)
    if args.viscosities:
        liquid["viscosities_Pas"] = parse_values(
            args.viscosities, name="--viscosities", units={"Pas": 1.0, "mPas": 1e-3}
        )
    if args.hydrodynamic_diameters:
        liquid["hydrodynamic_diameters_m"] = parse_values(
            args.hydrodynamic_diameters, name="--hydrodynamic-diameters", units={"m": 1.0, "nm": 1e-9}
        )
    given = [k for k, v in liquid.items() if v is not None]
    if given and (args.model == "m0" or args.physics not in LIQUID_MODELS):
        raise ValueError(
            f"the liquid options ({', '.join(given)}) need --model m1/m2 with --physics {' or '.join(LIQUID_MODELS)}"
        )
    return liquid


def run(args) -> int:
    from ..fitting import PAPER_ANISOTROPIES_JM3, PAPER_DIAMETERS_M, DictionaryModel, EquilibriumModel, NeelModel
    from ..fitting.io import predict_mdf, save_model
    from ..fitting.metrics import frequency_set
    from ..fitting.report import write_report
    from ..mdf.reader import read_system_matrix

    liquid = _liquid(args)  # option errors before any file is read
    if args.rtol is not None and args.model == "m0":
        raise ValueError("--rtol sets the accuracy of a simulated dictionary: it needs --model m1 or m2")
    solver = {} if args.rtol is None else {"rtol": args.rtol}
    diameters = (
        parse_values(args.diameters, name="--diameters", units={"m": 1.0, "nm": 1e-9})
        if args.diameters
        else PAPER_DIAMETERS_M
    )
    anis = (
        parse_values(args.anisotropies, name="--anisotropies", units={"J/m^3": 1.0, "J/m3": 1.0})
        if args.anisotropies
        else PAPER_ANISOTROPIES_JM3
    )
    sms = [read_system_matrix(path) for path in args.files]
    if args.angles:
        angles = parse_values(args.angles, name="--angles", units={"deg": 1.0})
        if len(angles) != len(sms):
            raise ValueError(f"--angles gives {len(angles)} angles for {len(sms)} files")
    else:
        missing = [path for path, sm in zip(args.files, sms) if sm.easy_axis_angle_deg is None]
        if missing:
            raise ValueError(f"no easy-axis angle stored in {missing[0]}; pass --angles")
        angles = tuple(sm.easy_axis_angle_deg for sm in sms)
    rows, _ = frequency_set(sms[0].sequence, *args.max_mixing_order)
    tf_mode = args.tf.replace("-", "_")
    cache = False if args.no_cache else (args.cache or True)
    common = dict(frequencies=rows, tf_mode=tf_mode, cache=cache, workers=args.workers)
    if args.model == "m0":
        est = EquilibriumModel(diameters, **common)
    elif args.model == "m1":
        est = NeelModel(diameters, anisotropies_Jm3=anis, model=args.physics, **liquid, **solver, **common)
    else:
        est = DictionaryModel(
            diameters, anisotropies_Jm3=anis, rank=args.rank, model=args.physics, **liquid, **solver, **common
        )
    X = np.reshape(angles, (-1, 1))
    est.fit(X, sms)
    out = os.fspath(args.out)
    save_model(est, os.path.join(out, "model"))
    write_report(est, os.path.join(out, "report"))
    print(f"{type(est).__name__} ({tf_mode}): eps_global = {est.training_error_:.4f} on {len(sms)} angles")
    if getattr(est, "best_params_", None):
        print(f"best parameters: {est.best_params_}")
    if hasattr(est, "weights_"):
        print(f"rank {est.rank_}, {len(est.atom_weights_)} atoms with non-zero weight")
    if not args.no_predict:
        paths = predict_mdf(est, X, os.path.join(out, "predicted"))
        print(f"wrote {len(paths)} predicted MDF files to {os.path.join(out, 'predicted')}")
    print(f"model: {os.path.join(out, 'model')}, report: {os.path.join(out, 'report', 'report.md')}")
    return 0
