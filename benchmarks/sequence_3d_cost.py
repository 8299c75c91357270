"""Cost of one 3-D trajectory (Bruker 3-D Lissajous) relative to one 2-D trajectory (the paper's).

Usage::

    python benchmarks/sequence_3d_cost.py [--model anisotropic-equilibrium|langevin|neel]
                                          [--members 2] [--diameter 16e-9] [--anisotropy 2000]

A trajectory is one offset and one easy axis over a whole drive cycle: 1632 samples
(652.8 µs) for the paper's 2-D sequence, 53856 samples (21.5424 ms) for the 3-D one.
Both are timed in this same run with the same physics call (``--members`` offsets per
call, easy axis at 30° in-plane for 2-D and at 30°/60° polar for 3-D; the fastest of
``--repeat`` calls), after a warm-up call that compiles the numerical kernels, so the
ratio is comparable across machines.
Also printed: the sphere resolution and solver method chosen (Néel) and the entries
per trajectory of the system matrix (channels × rfft bins). The figures go to
``benchmarks/results/sequence_3d_cost.json`` (``--json``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _results import add_json_argument, write_results

from mdf_neel.physics import mean_magnetization
from mdf_neel.simulate import easy_axis, preset


def _trajectories(name, members):
    seq, _ = preset(name)
    # offsets inside the drive amplitude, one per member (mT): the same pattern in 2-D and 3-D
    pattern = np.array([[2.0, -3.0, 1.0], [5.0, 4.0, -2.0], [-6.0, 1.0, 3.0], [0.5, 0.5, -0.5]]) * 1e-3
    offsets = np.resize(pattern, (members, 3)).copy()
    if name == "paper-2d":
        offsets[:, 2] = 0.0
        axis = easy_axis(30.0)
    else:
        axis = easy_axis(30.0, 60.0)
    fields = seq.field_T()[None] + offsets[:, None, :]
    return seq, fields, axis


def _time(name, args):
    seq, fields, axis = _trajectories(name, args.members)
    kw = dict(diameter_m=args.diameter, anisotropy_Jm3=args.anisotropy, model=args.model, return_info=True)
    if args.model == "neel":
        kw["rtol"] = args.rtol
    axes = np.broadcast_to(axis, (args.members, 3)).copy()
    walls = []
    for _ in range(args.repeat):  # the fastest of the repeats: least disturbed by other load
        t0 = time.perf_counter()
        _, info = mean_magnetization(seq.times_s(), fields, easy_axis=axes, **kw)
        walls.append(time.perf_counter() - t0)
    wall = min(walls)
    return {
        "sequence": name,
        "samples_per_cycle": int(seq.receiver.num_sampling_points),
        "cycle_s": float(seq.drive_field.cycle_s),
        "entries_per_trajectory": int(seq.receiver.num_channels * seq.receiver.num_frequencies),
        "seconds_per_trajectory": wall / args.members,
        "method": str(info.get("method", "closed form" if args.model == "langevin" else "quadrature")),
        "resolution": int(info.get("resolution", -1)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default="anisotropic-equilibrium", choices=("anisotropic-equilibrium", "langevin", "neel")
    )
    parser.add_argument("--members", type=int, default=2, help="trajectories per physics call (default 2)")
    parser.add_argument("--diameter", type=float, default=16e-9, help="core diameter in m (default 16e-9)")
    parser.add_argument("--anisotropy", type=float, default=2000.0, help="K in J/m^3 (default 2000)")
    parser.add_argument("--rtol", type=float, default=1e-4, help="Néel steady-state tolerance (default 1e-4)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per sequence, the fastest kept (default 3)")
    add_json_argument(parser, "sequence_3d_cost")
    args = parser.parse_args(argv)

    # warm-up: compile the kernels on a short 2-D call so that neither timing includes it
    seq, fields, axis = _trajectories("paper-2d", 1)
    kw = dict(diameter_m=args.diameter, anisotropy_Jm3=args.anisotropy, model=args.model)
    mean_magnetization(seq.times_s(), fields, easy_axis=axis[None].copy(), **kw)

    two, three = _time("paper-2d", args), _time("bruker-3d", args)
    ratio = three["seconds_per_trajectory"] / two["seconds_per_trajectory"]
    print(
        f"model {args.model}, D = {args.diameter:g} m, K = {args.anisotropy:g} J/m^3, {args.members} trajectories per call"
    )
    print(
        f"{'sequence':<10} {'samples':>8} {'cycle/ms':>9} {'entries':>8} {'s/trajectory':>13} {'method':>12} {'degree':>6}"
    )
    for r in (two, three):
        print(
            f"{r['sequence']:<10} {r['samples_per_cycle']:>8} {r['cycle_s'] * 1e3:>9.4f} {r['entries_per_trajectory']:>8} "
            f"{r['seconds_per_trajectory']:>13.4g} {r['method']:>12} {r['resolution']:>6}"
        )
    print(
        f"3-D / 2-D per trajectory: {ratio:.3g}x time "
        f"({three['samples_per_cycle'] / two['samples_per_cycle']:.3g}x samples, "
        f"{three['entries_per_trajectory'] / two['entries_per_trajectory']:.3g}x matrix entries)"
    )
    write_results(args.json, "sequence_3d_cost", args, {"two_d": two, "three_d": three, "time_ratio": ratio})


if __name__ == "__main__":
    main()
