"""Regenerate the bundled sample MDF files deterministically.

Usage (from the repository root)::

    python sample_mdf/make_samples.py            # writes sample_mdf/{synthetic_measured,simulated}/*.mdf
    python sample_mdf/make_samples.py --check    # regenerate into a temporary folder and compare

What it writes (see ``sample_mdf/README.md``):

* ``synthetic_measured/theta_XXX.mdf``: SYNTHETIC "measured" hybrid calibrations made by
  :func:`mdf_neel.simulate.synthetic.synthetic_calibration` (particle population,
  analogue band-pass, background frames, noise; seed below);
* ``simulated/theta_XXX.mdf``: noise-free model system matrices from
  :func:`mdf_neel.simulate.assemble` for D = 22 nm, K = 1100 J/m³;
* ``phantom/measurement.mdf``: a SYNTHETIC measurement
  (:func:`mdf_neel.simulate.phantom_measurement`) of three discs of the same population at
  easy-axis angles 0°, 60° and 120°, with the calibrations' band-pass, background and
  noise σ, to reconstruct with ``mdf-neel reconstruct``;

both on the paper's 2-D sequence (2.5 MHz/102, /96; 12.59/13.55 mT; V = 1632) and its
11 x 11 offset grid, for the easy-axis angles 0°, 45°, 90°, 135°, stored with MDF
frequency selection (bins 0..320, all mixing orders |mx|, |my| <= 9 and more) to keep
the files small, in single precision (complex64). Only the random numbers of the synthetic set depend on the seed; the
physics is deterministic, so rerunning gives the same data (UUIDs and time stamps differ).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from a checkout without installing

from mdf_neel.mdf import read_measurement, read_system_matrix, validate, write_measurement, write_system_matrix  # noqa: E402
from mdf_neel.simulate import assemble, preset  # noqa: E402
from mdf_neel.simulate._system_functions import angle_system_functions  # noqa: E402
from mdf_neel.simulate.phantom import PhantomSample, disk_phantom, phantom_measurement  # noqa: E402
from mdf_neel.simulate.synthetic import BANDPASS_DEFAULTS, synthetic_calibration  # noqa: E402

#: (diameter_m, anisotropy_Jm3, weight) of the hidden population. No species lies on the paper's
#: dictionary grid (D = 14, 16, ..., 28 nm; K = 100, 200, ..., 9000 J/m³), so a fit can only
#: approximate it, as with real particles.
SAMPLE_POPULATION = ((21.3e-9, 1180.0, 0.7), (23.4e-9, 730.0, 0.2), (19.6e-9, 1850.0, 0.1))

#: Everything that defines the samples (also written to sample_mdf/manifest.json).
SETTINGS = {
    "sequence": "paper-2d (mdf_neel.simulate.preset)",
    "grid": [11, 11],
    "angles_deg": [0.0, 45.0, 90.0, 135.0],
    "max_bin": 320,
    "model": "neel",
    "population": [list(m) for m in SAMPLE_POPULATION],
    "transfer_function": dict(BANDPASS_DEFAULTS, kind="bandpass"),
    "noise_level": 1e-3,
    "background_level": 3.0,
    "background_frames": 10,
    "seed": 20220301,
    "simulated": {"diameter_m": 22e-9, "anisotropy_Jm3": 1100.0, "unit": "V/mol"},
    # (centre x, y [T], radius [T], concentration, easy-axis angle [deg]) of each disc
    "phantom": {
        "samples": [
            [[-7.0e-3, -6.0e-3], 4.0e-3, 1.0, 0.0],
            [[7.0e-3, -6.0e-3], 4.0e-3, 0.8, 60.0],
            [[0.0, 7.0e-3], 4.0e-3, 0.6, 120.0],
        ],
        "foreground_frames": 20,
        "background_frames": 10,
        "seed": 20220302,
    },
}


def _name(angle_deg: float) -> str:
    return f"theta_{int(round(angle_deg)):03d}.mdf"


def _single_precision(sm):
    """complex64 on disk (as measured MDF files store it): halves the size."""
    bg = None if sm.background is None else sm.background.astype(np.complex64)
    return sm.replace(data=sm.data.astype(np.complex64), background=bg)


def make(out_dir: str, settings: dict = SETTINGS, show_progress=None) -> list:
    """Write both sample sets below ``out_dir``; return the written paths."""
    seq, grid = preset("paper-2d")
    bins = np.arange(settings["max_bin"] + 1)
    model = settings["model"]
    written = []

    measured = synthetic_calibration(
        seq,
        grid,
        angles_deg=settings["angles_deg"],
        population=settings["population"],
        transfer_function={k: v for k, v in settings["transfer_function"].items() if k != "kind"},
        noise_level=settings["noise_level"],
        background_level=settings["background_level"],
        background_frames=settings["background_frames"],
        frequencies=bins,
        seed=settings["seed"],
        model=model,
        show_progress=show_progress,
    )
    os.makedirs(os.path.join(out_dir, "synthetic_measured"), exist_ok=True)
    for sm in measured:
        path = os.path.join(out_dir, "synthetic_measured", _name(sm.easy_axis_angle_deg))
        written.append(write_system_matrix(path, _single_precision(sm)))

    sim = settings["simulated"]
    os.makedirs(os.path.join(out_dir, "simulated"), exist_ok=True)
    # every angle in one physics call: the Néel batch shares operators and symmetric members
    phi, info = angle_system_functions(
        seq,
        grid.offsets_T,
        angles_deg=settings["angles_deg"],
        diameter_m=sim["diameter_m"],
        anisotropy_Jm3=sim["anisotropy_Jm3"],
        model=model,
        frequencies=bins,
        return_info=True,
    )
    for angle, phi_angle in zip(settings["angles_deg"], phi):
        sm = assemble(
            seq,
            grid,
            phi_angle,
            angle_deg=angle,
            diameter_m=sim["diameter_m"],
            anisotropy_Jm3=sim["anisotropy_Jm3"],
            model=model,
            unit=sim["unit"],
            info=info,
            frequencies=bins,
        )
        path = os.path.join(out_dir, "simulated", _name(angle))
        written.append(write_system_matrix(path, _single_precision(sm)))

    ph = settings["phantom"]
    phantom = disk_phantom(grid, [PhantomSample(tuple(c), r, a, th) for c, r, a, th in ph["samples"]])
    meas = phantom_measurement(
        seq,
        phantom,
        population=settings["population"],
        transfer_function={k: v for k, v in settings["transfer_function"].items() if k != "kind"},
        noise_sigma=float(measured[0].provenance["noise_sigma"]),  # the calibrations' receive chain
        background_level=settings["background_level"],
        foreground_frames=ph["foreground_frames"],
        background_frames=ph["background_frames"],
        frequencies=bins,
        seed=ph["seed"],
        model=model,
    )
    os.makedirs(os.path.join(out_dir, "phantom"), exist_ok=True)
    written.append(write_measurement(os.path.join(out_dir, "phantom", "measurement.mdf"), meas))

    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump({"settings": settings, "files": sorted(os.path.relpath(p, out_dir) for p in written)}, fh, indent=2)
        fh.write("\n")
    for path in written:
        problems = validate(path)
        if problems:
            raise RuntimeError(f"{path} does not validate: {problems}")
    return written


def _compare(a_dir: str, b_dir: str) -> list:
    """Names of sample files whose data differ between two folders."""
    differ = []
    for sub in ("synthetic_measured", "simulated"):
        for name in sorted(os.listdir(os.path.join(a_dir, sub))):
            a = read_system_matrix(os.path.join(a_dir, sub, name))
            b = read_system_matrix(os.path.join(b_dir, sub, name))
            same = np.allclose(a.data, b.data, rtol=1e-5, atol=1e-5 * np.abs(a.data).max())
            if a.background is not None:
                same &= np.allclose(a.background, b.background, atol=1e-5 * np.abs(a.data).max())
            if not same:
                differ.append(f"{sub}/{name}")
    name = os.path.join("phantom", "measurement.mdf")
    a, b = (read_measurement(os.path.join(d, name)).data for d in (a_dir, b_dir))
    if not np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max()):
        differ.append(name)
    return differ


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=HERE, help="target folder (default: this folder)")
    parser.add_argument(
        "--model",
        default=SETTINGS["model"],
        choices=("neel", "anisotropic-equilibrium"),
        help="magnetisation model (default: %(default)s)",
    )
    parser.add_argument(
        "--check", action="store_true", help="regenerate into a temporary folder and compare with the files in --out"
    )
    args = parser.parse_args(argv)
    settings = dict(SETTINGS, model=args.model)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            make(tmp, settings)
            differ = _compare(args.out, tmp)
        print("identical data" if not differ else "differ: " + ", ".join(differ))
        return 1 if differ else 0
    for path in make(args.out, settings):
        print(os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
