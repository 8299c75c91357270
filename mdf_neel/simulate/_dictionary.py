"""System-function dictionaries φ̂ over (D, K, ϑ): cached, resumable, parallel.

Element ``(i_d, i_k, i_a)`` is :func:`~mdf_neel.simulate.system_functions` for
diameter ``diameters_m[i_d]``, anisotropy ``anisotropies_Jm3[i_k]`` and easy-axis angle
``angles_deg[i_a]`` on the chosen rows, shape (C, n_f, O). One (D, K) pair is one task:
one physics call with every angle × offset as a batch
(:func:`~mdf_neel.simulate._system_functions.angle_system_functions`), so for the Néel
model all angles of a pair share one reduced basis; each element is journalled as it
arrives. With ``model="langevin"`` neither K nor ϑ matters: one element per diameter
is computed and broadcast.

Reproducibility: for the Néel model with the reduced basis an element's values depend
(within the verified tolerance, ``docs/physics.md``) on which angles were computed
together; a run is deterministic for a given grid, and a resumed pair recomputes only
its missing angles.

With ``anisotropy_interpolation=AnisotropyInterpolation(rtol, max_stride)`` only some K
values per diameter are solved; the others are interpolated along K with a measured,
controlled error (:mod:`mdf_neel.simulate.interpolation`, ``docs/simulate.md``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field

import numpy as np

from .._checks import check_bins, check_offsets
from .cache import DictionaryCache, default_cache_path, read_cache
from .interpolation import AdaptiveRefinement, AnisotropyInterpolation
from .parallel import progress_hook, resolve_workers, run_tasks, single_threaded
from ._system_functions import ANGLE_CONVENTION, angles_task, resolution_of, split_settings

__all__ = ["SystemFunctionDictionary", "dictionary", "dictionary_settings", "AnisotropyInterpolation"]

logger = logging.getLogger("mdf_neel.simulate")


@dataclass
class SystemFunctionDictionary:
    """Normalised system functions φ̂ (paper eq. 11) for every (D, K, ϑ).

    Attributes
    ----------
    phi : numpy.ndarray, complex128, shape (n_D, n_K, n_angles, C, n_f, O)
        φ̂ [1/s].
    diameters_m, anisotropies_Jm3, angles_deg : numpy.ndarray
        The parameter grids (n_D,), (n_K,), (n_angles,).
    frequency_indices : numpy.ndarray of int64, shape (n_f,)
        0-based rfft bins of the rows.
    channels : tuple of str
        Receive channels (``"x"``, ``"y"``, ``"z"``).
    offsets_T : numpy.ndarray, shape (O, 3)
        Offset fields [T], x fastest.
    model : str
    particle : dict
        Physics parameters passed on (alpha, saturation_magnetization_Am, ...).
    resolution : numpy.ndarray of int64, shape (n_D, n_K, n_angles)
        Sphere resolution (spherical-harmonic degree) the physics reported per element;
        -1 where not applicable (equilibrium models).
    cycle_s : float
        Period T of the sequence [s].
    stats : dict
        ``computed`` (elements computed by this call) and ``resumed`` (taken from the
        cache or journal); with interpolation along K also ``interpolation`` (nodes per
        diameter, every verification error, exact solves vs grid size; see
        :meth:`~mdf_neel.simulate.interpolation.AdaptiveRefinement.summary`).
    interpolated : numpy.ndarray of bool, shape (n_D, n_K, n_angles)
        True where the element was interpolated along K (its ``resolution`` is -1),
        False where it was solved exactly.
    """

    phi: np.ndarray
    diameters_m: np.ndarray
    anisotropies_Jm3: np.ndarray
    angles_deg: np.ndarray
    frequency_indices: np.ndarray
    channels: tuple
    offsets_T: np.ndarray
    model: str
    particle: dict = field(default_factory=dict)
    resolution: np.ndarray | None = None
    cycle_s: float | None = None
    stats: dict = field(default_factory=dict)
    interpolated: np.ndarray | None = None

    def __post_init__(self):
        if self.interpolated is None:
            self.interpolated = np.zeros(self.phi.shape[:3], dtype=bool)

    @property
    def grid_shape(self) -> tuple:
        """(n_D, n_K, n_angles)."""
        return tuple(self.phi.shape[:3])

    def element(self, i_d: int, i_k: int, i_a: int) -> np.ndarray:
        """φ̂ of one (D, K, ϑ), shape (C, n_f, O) (a view)."""
        return self.phi[i_d, i_k, i_a]

    @classmethod
    def load(cls, path) -> "SystemFunctionDictionary":
        """Read a finished cache file written by :func:`dictionary`."""
        settings, arrays = read_cache(path)
        if not np.all(arrays["done"]):
            raise ValueError(f"the dictionary cache {os.fspath(path)!r} is incomplete; run dictionary() to finish it")
        return cls(
            phi=arrays["phi"],
            diameters_m=arrays["diameters_m"],
            anisotropies_Jm3=arrays["anisotropies_Jm3"],
            angles_deg=arrays["angles_deg"],
            frequency_indices=arrays["frequency_indices"],
            channels=tuple(settings["channels"]),
            offsets_T=arrays["offsets_T"],
            model=settings["model"],
            particle=dict(settings["particle"]),
            resolution=arrays["resolution"],
            cycle_s=settings["sequence"]["cycle_s"],
            stats={"computed": 0, "resumed": int(np.prod(arrays["done"].shape))},
            interpolated=arrays["interpolated"].astype(bool) if "interpolated" in arrays else None,
        )

    def __repr__(self) -> str:
        C, n_f, O = self.phi.shape[3:]
        return (
            f"SystemFunctionDictionary(model={self.model!r}, diameters={self.phi.shape[0]}, "
            f"anisotropies={self.phi.shape[1]}, angles={self.phi.shape[2]}, channels={C}, "
            f"frequencies={n_f}, offsets={O})"
        )


def _floats(values, name) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of finite numbers, got {values!r}")
    return arr


def _sequence_settings(sequence) -> dict:
    df, rx = sequence.drive_field, sequence.receiver
    return {
        "base_frequency_Hz": df.base_frequency_Hz,
        "dividers": df.dividers.tolist(),
        "strengths_T": df.strengths_T.tolist(),
        "phases_rad": df.phases_rad.tolist(),
        "waveforms": [[str(w) for w in row] for row in df.waveforms],
        "cycle_s": df.cycle_s,
        "bandwidth_Hz": rx.bandwidth_Hz,
        "num_sampling_points": rx.num_sampling_points,
    }


def dictionary_settings(
    sequence,
    offsets_T,
    *,
    diameters_m,
    anisotropies_Jm3,
    angles_deg,
    frequencies,
    model,
    channels,
    particle,
    anisotropy_interpolation=None,
    solver=None,
) -> dict:
    """Everything a dictionary depends on, as a JSON-serialisable dict (stored in caches).

    ``particle`` holds the physics keywords or ``physics`` (recorded complete, defaults
    included; solver keywords in it are folded into ``solver``, a
    :class:`~mdf_neel.simulate.accuracy.SolverSettings`). For the Néel model the settings include the solver generation and every numerical setting
    (:meth:`SolverSettings.settings`), so a cache made by another solver or with other
    tolerances is refused. ``anisotropy_interpolation`` enters only when given.
    """
    from .. import __version__

    particle, solver = split_settings(particle, solver)

    off = np.ascontiguousarray(offsets_T, dtype="<f8")
    out = {
        "mdf_neel_version": __version__,
        "model": str(model),
        "channels": list(channels),
        "diameters_m": [float(v) for v in diameters_m],
        "anisotropies_Jm3": [float(v) for v in anisotropies_Jm3],
        "angles_deg": [float(v) for v in angles_deg],
        "angle_convention": ANGLE_CONVENTION,
        "frequency_indices": [int(v) for v in frequencies],
        "offsets_T": {"shape": list(off.shape), "sha256": hashlib.sha256(off.tobytes()).hexdigest()},
        "sequence": _sequence_settings(sequence),
        "particle": {
            k: (v if v is None or isinstance(v, (str, bool, int)) else float(v)) for k, v in sorted(particle.items())
        },
        "solver": solver.settings() if model in ("neel", "brown") else "closed-form",
    }
    if anisotropy_interpolation is not None:
        out["anisotropy_interpolation"] = anisotropy_interpolation.settings()
    return out


def _compute_pair(payload):
    """The missing angles of one (D, K) pair (runs in a worker): (phi (a, C, n_f, O), resolution)."""
    phi, info = angles_task(payload)
    return phi, resolution_of(info)


def dictionary(
    sequence,
    offsets_T,
    *,
    diameters_m,
    anisotropies_Jm3,
    angles_deg,
    frequencies,
    model="neel",
    channels=("x", "y"),
    cache=None,
    workers=None,
    scheduler=None,
    progress=None,
    anisotropy_interpolation=None,
    solver=None,
    physics=None,
    **particle,
) -> SystemFunctionDictionary:
    """φ̂ (paper eq. 11) for every (D, K, ϑ) on the chosen rows, optionally cached.

    Parameters
    ----------
    sequence : mdf_neel.sequence.Sequence
    offsets_T : array_like, shape (O, 3)
        Offset fields [T], x fastest.
    diameters_m, anisotropies_Jm3, angles_deg : array_like, 1-D
        Parameter grids: core diameters [m], anisotropy constants [J/m³], easy-axis
        angles [deg] with n(ϑ) = (cos ϑ, sin ϑ, 0).
    frequencies : array_like of int, shape (n_f,)
        0-based rfft bins.
    model : {"neel", "langevin", "anisotropic-equilibrium"}
    channels : sequence of {"x", "y", "z"}
    cache : str, os.PathLike, bool or None
        HDF5 cache file; ``True``: a file named by the settings' fingerprint in the
        user's cache directory (:func:`mdf_neel.simulate.cache.default_cache_dir`,
        moved with ``MDF_NEEL_CACHE_DIR``), so every caller with the same settings
        shares it; ``None`` or ``False``: no cache. Finished elements are journalled in ``<cache>.parts/`` as they
        arrive; an interrupted run (Ctrl-C, kill -9, crash, lost worker) resumes where
        it stopped and never recomputes finished elements. When all are done the cache
        is written atomically and the journal removed. A cache (or journal) made with
        other settings raises :class:`ValueError` naming the differences.
    workers : int, optional
        Local worker processes (``None`` or 1: this process; 0: one per CPU).
    scheduler : str or distributed.Client or distributed.LocalCluster, optional
        Run the elements on a dask.distributed cluster instead.
    progress : None, bool or callable
        ``None``: a progress bar on a terminal; ``False``: none; ``True``: always;
        a callable is called as ``progress(done, total)`` after each element (with
        interpolation: per round, ``total`` being that round's elements).
    anisotropy_interpolation : AnisotropyInterpolation or mapping, optional
        ``None`` (default): every element is solved. Otherwise, per diameter, only the
        K values the verified refinement needs are solved (all angles of each) and the
        rest are interpolated piecewise-cubically along K; see
        :mod:`mdf_neel.simulate.interpolation`. ``anisotropies_Jm3`` must then be
        strictly increasing. Part of the cache settings only when given. No effect with
        ``model="langevin"``.
    solver : SolverSettings or mapping, optional
        Numerical settings (:class:`~mdf_neel.simulate.accuracy.SolverSettings`); the
        default holds the row-accuracy contract ``rtol = 1e-3``. Part of the cache
        settings.
    physics : PhysicsParameters or mapping, optional
        The physics besides D and K (:class:`mdf_neel.physics.PhysicsParameters`); part
        of the cache settings with every field, defaults included.
    **particle
        Physics keywords (alpha, saturation_magnetization_Am, temperature_K, gamma)
        override fields of ``physics``; the solver keywords (rtol, method, resolution,
        step_tolerance, n_threads) override fields of ``solver``.

    Returns
    -------
    SystemFunctionDictionary

    Examples
    --------
    >>> from mdf_neel.simulate import preset
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> d = dictionary(seq, grid.offsets_T, diameters_m=[18e-9, 22e-9], anisotropies_Jm3=[500.0, 2000.0],
    ...                angles_deg=[0.0, 90.0], frequencies=[16, 17, 33], model="anisotropic-equilibrium",
    ...                progress=False)
    >>> d.phi.shape  # (D, K, angles, channels, frequencies, positions)
    (2, 2, 2, 2, 3, 9)
    >>> d.element(1, 0, 1).shape  # D = 22 nm, K = 500 J/m³, ϑ = 90°
    (2, 3, 9)
    """
    from ._system_functions import channel_vectors

    D = _floats(diameters_m, "diameters_m")
    K = _floats(anisotropies_Jm3, "anisotropies_Jm3")
    A = _floats(angles_deg, "angles_deg")
    off = check_offsets(offsets_T)
    freqs = check_bins(frequencies, sequence.receiver.num_frequencies)
    if freqs is None:
        raise ValueError("frequencies must be given (0-based rfft bins)")
    channels = tuple(channels)
    channel_vectors(channels)
    # neither K nor the easy axis enters the Langevin model or Brownian rotation
    broadcast = model in ("langevin", "brown")
    interp = AnisotropyInterpolation.coerce(anisotropy_interpolation)
    if interp is not None and K.size > 1 and not np.all(np.diff(K) > 0):
        raise ValueError(f"anisotropies_Jm3 must be sorted strictly increasing for anisotropy_interpolation, got {K}")
    if broadcast:
        interp = None  # a no-op: results do not depend on K
    grid_shape = (D.size, K.size, A.size)
    element_shape = (len(channels), freqs.size, off.shape[0])
    particle, solver = split_settings(dict(particle, physics=physics), solver)
    settings = dictionary_settings(
        sequence,
        off,
        diameters_m=D,
        anisotropies_Jm3=K,
        angles_deg=A,
        frequencies=freqs,
        model=model,
        channels=channels,
        particle=particle,
        anisotropy_interpolation=interp,
        solver=solver,
    )
    if cache is True:
        cache = default_cache_path(settings)
    store = None if cache is None or cache is False else DictionaryCache(cache, settings, grid_shape, element_shape)
    if store is not None:
        phi, done, resolution, _, was_interpolated = store.load()
        done &= ~was_interpolated  # only exact elements count; the interpolation is redone
    else:
        phi = np.zeros(grid_shape + element_shape, dtype=np.complex128)
        done = np.zeros(grid_shape, dtype=bool)
        resolution = np.full(grid_shape, -1, dtype=np.int64)

    def targets(key):
        return (key[0], slice(None), slice(None)) if broadcast else key

    # no more worker processes than (D, K) tasks: a single task runs here on every thread
    n_tasks = D.size if broadcast else D.size * K.size
    n_workers = 1 if scheduler is not None else min(resolve_workers(workers), n_tasks)
    kwargs_common = dict(single_threaded(particle, model, n_workers, scheduler), solver=solver)

    def run(pairs, total_units, already, desc):
        """Solve the angles ``pairs[(i_d, i_k)]`` of each pair; returns the elements computed."""
        tasks = {
            pair: {
                "sequence": sequence,
                "offsets_T": off,
                "kwargs": dict(
                    kwargs_common,
                    diameter_m=float(D[pair[0]]),
                    anisotropy_Jm3=float(K[pair[1]]),
                    angles_deg=A[angle_idx],
                    model=model,
                    frequencies=freqs,
                    channels=channels,
                ),
            }
            for pair, angle_idx in pairs.items()
        }
        n_elements = sum(len(v) for v in pairs.values())
        update, close = progress_hook(progress, total_units, already=already, desc=desc, unit="element")
        if pairs:
            logger.info(
                "%s: %d of %d elements to compute in %d (D, K) task(s) (%d resumed), model %s",
                desc,
                n_elements,
                total_units,
                len(pairs),
                already,
                model,
            )

        def on_result(pair, result):
            elements, res = result
            for j, i_a in enumerate(pairs[pair]):
                key = (pair[0], pair[1], i_a)
                if store is not None:
                    store.record(key, elements[j], res)
                phi[targets(key)] = elements[j]
                resolution[targets(key)] = res
                done[targets(key)] = True
                update(1)

        try:
            run_tasks(_compute_pair, tasks, on_result=on_result, workers=n_workers, scheduler=scheduler)
        finally:
            close()
        return n_elements

    interpolated = np.zeros(grid_shape, dtype=bool)
    stats = {}
    if broadcast:
        for i in range(D.size):
            if done[i, 0, 0]:
                phi[i] = phi[i, 0, 0]
                resolution[i] = resolution[i, 0, 0]
                done[i] = True
        pairs = {(i, 0): [0] for i in range(D.size) if not np.all(done[i])}
        already = D.size - len(pairs)
        run(pairs, D.size, already, "dictionary")
        stats = {"computed": len(pairs), "resumed": already}
        computed_any = bool(pairs)
    elif interp is None:
        pairs = {}
        for i_d, i_k, i_a in np.argwhere(~done):
            pairs.setdefault((int(i_d), int(i_k)), []).append(int(i_a))
        already = int(done.sum())
        n = run(pairs, int(np.prod(grid_shape)), already, "dictionary")
        stats = {"computed": n, "resumed": already}
        computed_any = bool(pairs)
    else:
        refinement = AdaptiveRefinement(K, D.size, interp)
        resumed = computed = 0
        wanted, verifying = refinement.initial(), False
        while wanted:  # round 0: the initial nodes; then one round per refinement level
            pairs = {key: [int(a) for a in np.flatnonzero(~done[key])] for key in wanted}
            pairs = {key: angles for key, angles in pairs.items() if angles}
            already = len(wanted) * A.size - sum(len(v) for v in pairs.values())
            resumed += already
            computed += run(pairs, len(wanted) * A.size, already, f"dictionary (K round {refinement.rounds})")
            if verifying:
                refinement.verify(phi)
            verifying = True
            wanted = refinement.midpoints()
        interpolated[:] = refinement.fill(phi)[:, :, np.newaxis]
        resolution[interpolated] = -1
        done[interpolated] = True
        summary = refinement.summary(A.size)
        stats = {"computed": computed, "resumed": resumed, "interpolation": summary}
        computed_any = computed > 0
        logger.info(
            "dictionary: %d of %d (D, K) pairs solved exactly, the rest interpolated along K; "
            "largest accepted verification error %.3g (rtol %g)",
            summary["exact_pairs"],
            summary["grid_pairs"],
            summary["max_accepted_error"],
            interp.rtol,
        )
    if store is not None and (computed_any or os.path.isdir(store.journal) or not os.path.exists(store.path)):
        store.merge(
            phi,
            done,
            resolution,
            {
                "diameters_m": D,
                "anisotropies_Jm3": K,
                "angles_deg": A,
                "frequency_indices": freqs,
                "offsets_T": off,
                "channels": np.array(channels, dtype=object),
            },
            interpolated=interpolated,
        )
    return SystemFunctionDictionary(
        phi=phi,
        diameters_m=D,
        anisotropies_Jm3=K,
        angles_deg=A,
        frequency_indices=freqs,
        channels=channels,
        offsets_T=off,
        model=str(model),
        particle=dict(particle),
        resolution=resolution,
        cycle_s=sequence.drive_field.cycle_s,
        stats=stats,
        interpolated=interpolated,
    )
