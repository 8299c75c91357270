"""System-matrix rows of a fluid tracer at two viscosities, beside its Langevin limit.

A 22 nm core in a 30 nm hydrodynamic shell (``model="brown"``) on the paper's 2-D
sequence and an offset grid over its field of view: τ_B = 3ηV_h/(kB T) is 10.5 µs in
water (η = 1 mPa s, ωτ_B ≈ 1.6 at the x drive) and 105 µs at η = 10 mPa s (ωτ_B ≈ 16).
The Langevin model (no lag) is the η → 0 limit. Rows (1,1), (3,3), (5,5) of the x
channel are drawn each on its own brightness scale (the higher rows of the viscous
tracer are orders of magnitude weaker), so the picture shows their shape and phase (hue);
the printed table gives each matrix's peak of those rows relative to the Langevin one.

Usage (writes ``docs/img/brown_viscosity_x.png``; about a minute per Brownian matrix on
two cores)::

    python benchmarks/brown_viscosity_rows.py
    python benchmarks/brown_viscosity_rows.py --grid 7 --out /tmp/rows.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mdf_neel.physics import ParticleParameters
from mdf_neel.plot import plot_rows, rows_to_bins, save_figure
from mdf_neel.simulate import preset, regrid, system_matrix

ROWS = [(1, 1), (3, 3), (5, 5)]
DIAMETER_M, HYDRODYNAMIC_M = 22e-9, 30e-9
VISCOSITIES_PAS = (1e-3, 1e-2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=11, help="offsets per axis (default 11)")
    ap.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent.parent / "docs" / "img" / "brown_viscosity_x.png"),
        help="picture to write (default docs/img/brown_viscosity_x.png)",
    )
    ap.add_argument("--dpi", type=int, default=80)
    a = ap.parse_args(argv)
    seq, grid = preset("paper-2d")
    grid = regrid(grid, (a.grid, a.grid))
    lan = system_matrix(seq, grid, angle_deg=0.0, diameter_m=DIAMETER_M, model="langevin")
    bins = rows_to_bins(lan, ROWS)
    sms, labels = [lan], ["Langevin (η → 0)"]
    for eta in VISCOSITIES_PAS:
        t0 = time.perf_counter()
        sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=DIAMETER_M, model="brown",
                           hydrodynamic_diameter_m=HYDRODYNAMIC_M, viscosity_Pas=eta)  # fmt: skip
        tau = ParticleParameters(DIAMETER_M, hydrodynamic_diameter_m=HYDRODYNAMIC_M, viscosity_Pas=eta).brown_time_s
        contract = sm.provenance["row_contract"]
        print(f"eta = {eta:g} Pa s: tau_B = {tau:.3g} s, {time.perf_counter() - t0:.1f} s, "
              f"row contract RMS {contract['rms']:.2g} (met: {bool(contract['met'])})")  # fmt: skip
        sms.append(sm)
        labels.append(f"η = {eta * 1e3:g} mPa s")
    print("peak |row| relative to Langevin, x channel:")
    for r, k in zip(ROWS, bins):
        ref = np.abs(lan.data[0, k]).max()
        print(
            f"  row {r}: "
            + ", ".join(f"{lab}: {np.abs(sm.data[0, k]).max() / ref:.2g}" for lab, sm in zip(labels, sms))
        )
    fig = plot_rows(sms, rows=ROWS, channel=0, labels=labels, normalization="panel")
    print(f"wrote {save_figure(fig, a.out, dpi=a.dpi)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
