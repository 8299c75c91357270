"""One simulated MDF system matrix per easy-axis angle, resumable and parallel.

The work is split into tasks (angles, batch of offsets); each finished angle is written
at once and atomically (``DIR/theta_015.mdf``), so an interrupted run keeps every
finished file, and a rerun skips files that exist, validate and were made with the
same settings (a digest in ``/_provenance/settings_sha256``).

Néel model, whole offset grid per task: the angles ϑ and −ϑ (mod 180°) go into ONE task
(one physics call): they share the reduced basis, and for a drive whose y channel
changes sign over half a repetition (the paper's Lissajous) the members (ϑ, (x, y)) and
(−ϑ, (x, −y)) are exact symmetric images, so only one of each pair is integrated
(``mdf_neel.physics.neel.symmetry``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os

import numpy as np

from .._parsing import parse_values
from ._dictionary import dictionary_settings
from .parallel import progress_hook, resolve_workers, run_tasks, single_threaded
from .sources import as_offset_grid
from ._system_functions import CONTRACT_MODELS, angles_task, neel_resolution, split_settings
from ._system_matrix import SNR_FLOOR, assemble

__all__ = ["parse_angles", "angle_file_name", "write_system_matrices"]

logger = logging.getLogger("mdf_neel.simulate")


def parse_angles(text: str) -> list:
    """Angles in degrees from ``"0:165:15"`` (inclusive range), ``"0,30,45"`` or ``"30"``.

    Items may be mixed: ``"0:30:15,90"`` → [0, 15, 30, 90]. Duplicates are removed,
    order is ascending.
    """
    return list(parse_values(text, name="angles (degrees)", units={"deg": 1.0}, sort_unique=True))


def angle_file_name(angle_deg: float) -> str:
    """``theta_015.mdf`` for 15° (three-digit whole degrees; other angles are refused)."""
    a = float(angle_deg)
    if a != round(a) or not 0 <= a < 1000:
        raise ValueError(f"file names need whole angles in [0, 999] degrees, got {angle_deg!r}")
    return f"theta_{int(round(a)):03d}.mdf"


def _digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _finished(path: str, digest: str) -> bool:
    """True when ``path`` exists, validates and carries the same settings digest."""
    if not os.path.exists(path):
        return False
    from ..errors import MDFError
    from ..mdf import validate
    from ..mdf.reader import read_system_matrix

    problems = validate(path, advisory=False)
    if problems:
        logger.warning("%s exists but does not validate (%s); simulating it again", path, problems[0])
        return False
    try:
        stored = read_system_matrix(path, frequencies=[1]).provenance.get("settings_sha256")
    except (MDFError, ValueError, KeyError) as exc:
        logger.warning("%s exists but cannot be read (%s); simulating it again", path, exc)
        return False
    if stored != digest:
        raise ValueError(
            f"{path!r} exists but was simulated with other settings; choose another output "
            "directory or pass overwrite=True (--overwrite)"
        )
    return True


def write_system_matrices(
    sequence,
    offsets,
    out_dir,
    *,
    angles_deg,
    diameter_m,
    anisotropy_Jm3=0.0,
    model="neel",
    channels=("x", "y"),
    unit="V/mol",
    snr_floor=SNR_FLOOR,
    workers=None,
    scheduler=None,
    batches_per_angle=4,
    overwrite=False,
    progress=None,
    physics=None,
    easy_axis_polar_deg=90.0,
    **particle,
) -> list:
    """Simulate and write ``out_dir/theta_XXX.mdf`` for every angle.

    Parameters
    ----------
    sequence : Sequence
    offsets : OffsetGrid, 4-tuple or array_like (O, 3)
    out_dir : str or os.PathLike
        Created if missing.
    angles_deg : sequence of float
        Whole degrees in [0, 999] (file names ``theta_000.mdf`` ...).
    easy_axis_polar_deg : float
        Polar angle of every easy axis from +z [deg] (default 90: in the xy-plane);
        see :func:`~mdf_neel.simulate.easy_axis`.
    diameter_m, anisotropy_Jm3, model, channels, unit, snr_floor, physics, **particle
        As in :func:`~mdf_neel.simulate.system_matrix`.
    workers : int, optional
        Local worker processes (``None``/1: this process; 0: one per CPU).
    scheduler : str or distributed.Client or distributed.LocalCluster, optional
        Run on a dask.distributed cluster instead.
    batches_per_angle : int
        Offset batches per angle (tasks; finer progress and load balance).
    overwrite : bool
        Recompute files that exist. Without it, existing valid files made with the same
        settings are skipped and ones made with other settings raise ``ValueError``.
    progress : None, bool or callable
        ``None``: bar with ETA on a terminal; ``False``: none; callable:
        ``progress(done_batches, total_batches)``.

    Returns
    -------
    list of str
        The paths of all angles' files (written now or found finished).
    """
    from ..mdf import write_system_matrix

    particle = dict(particle, physics=physics)
    polar = float(easy_axis_polar_deg)
    grid = as_offset_grid(offsets)
    angles = [float(a) for a in angles_deg]
    names = [angle_file_name(a) for a in angles]
    if len(set(names)) != len(names):
        raise ValueError(f"angles {angles} give duplicate file names")
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(os.fspath(out_dir), n) for n in names]
    O = grid.offsets_T.shape[0]
    freqs = np.arange(sequence.receiver.num_frequencies)
    key_particle = {k: v for k, v in particle.items() if k != "n_threads"}
    digests, todo = {}, []
    for i, (angle, path) in enumerate(zip(angles, paths)):
        settings = dictionary_settings(
            sequence,
            grid.offsets_T,
            diameters_m=[diameter_m],
            anisotropies_Jm3=[anisotropy_Jm3],
            angles_deg=[angle],
            frequencies=freqs,
            model=model,
            channels=channels,
            particle=key_particle,
        )
        settings.update(
            unit=unit,
            snr_floor=float(snr_floor),
            grid_size=[int(v) for v in grid.size],
            field_of_view_T=[float(v) for v in grid.field_of_view_T],
        )
        if polar != 90.0:  # in-plane runs keep the digests they always had
            settings["easy_axis_polar_deg"] = polar
        digests[i] = _digest(settings)
        if not overwrite and _finished(path, digests[i]):
            logger.info("%s is finished; skipped", path)
            continue
        todo.append(i)
    n_batches = max(1, min(int(batches_per_angle), O))
    bounds = np.linspace(0, O, n_batches + 1).round().astype(int)
    # Néel, whole grid per task: every angle in one physics call (shared tables or basis,
    # mirror-image members mapped instead of solved); files are still written per angle
    groups = [tuple(todo)] if todo and model in CONTRACT_MODELS and n_batches == 1 else [(i,) for i in todo]
    # no more worker processes than tasks: a single task runs here on every thread
    n_workers = 1 if scheduler is not None else min(resolve_workers(workers), max(1, len(groups) * n_batches))
    common = single_threaded(particle, model, n_workers, scheduler)
    physics_kw, solver = split_settings(particle)
    if model in CONTRACT_MODELS and solver.resolution is None:  # the same degree for every batch of offsets
        common["resolution"] = neel_resolution(
            sequence,
            grid.offsets_T,
            diameter_m=diameter_m,
            anisotropy_Jm3=0.0 if model == "brown" else anisotropy_Jm3,  # no barrier in Brownian rotation
            rtol=solver.mean_rtol,
            **physics_kw,
        )
    tasks = {}
    for group in groups:
        for b in range(n_batches):
            tasks[(group, b)] = {
                "sequence": sequence,
                "offsets_T": grid.offsets_T[bounds[b] : bounds[b + 1]],
                "kwargs": dict(
                    common,
                    angles_deg=[angles[i] for i in group],
                    diameter_m=diameter_m,
                    anisotropy_Jm3=anisotropy_Jm3,
                    model=model,
                    channels=tuple(channels),
                    easy_axis_polar_deg=polar,
                ),
            }
    parts = {i: {} for i in todo}
    update, close = progress_hook(progress, len(todo) * n_batches, desc=f"simulate {len(todo)} angle(s)", unit="batch")

    def on_result(key, result):
        group, b = key
        phi_group, info_group = result
        for k, i in enumerate(group):
            parts[i][b] = (phi_group[k], info_group)
            _finish_angle(i)
        update(len(group))

    def _finish_angle(i):
        if len(parts[i]) == n_batches:
            phi = np.concatenate([parts[i][j][0] for j in range(n_batches)], axis=-1)
            info = parts[i][n_batches - 1][1]
            sm = assemble(
                sequence,
                grid,
                phi,
                angle_deg=angles[i],
                diameter_m=diameter_m,
                anisotropy_Jm3=anisotropy_Jm3,
                model=model,
                channels=channels,
                unit=unit,
                snr_floor=snr_floor,
                info=info,
                provenance={"settings_sha256": digests[i]},
                easy_axis_polar_deg=polar,
                **particle,
            )
            write_system_matrix(paths[i], sm)
            logger.info("wrote %s", paths[i])
            del parts[i]

    try:
        run_tasks(angles_task, tasks, on_result=on_result, workers=n_workers, scheduler=scheduler)
    finally:
        close()
    return paths
