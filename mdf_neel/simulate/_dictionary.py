"""System-function dictionaries φ̂ over (D, K, ϑ): cached, resumable, parallel.

Element ``(i_d, i_k, i_a)`` is :func:`~mdf_neel.simulate.system_functions` for
diameter ``diameters_m[i_d]``, anisotropy ``anisotropies_Jm3[i_k]`` and easy-axis angle
``angles_deg[i_a]`` on the chosen rows, shape (C, n_f, O). One (D, K) pair is one task:
one physics call with every angle × offset as a batch
(:func:`~mdf_neel.simulate._system_functions.angle_system_functions`), so for the Néel
model all angles of a pair share one reduced basis; each element is journalled as it
arrives. With ``model="langevin"`` neither K nor ϑ matters: one element per diameter
is computed and broadcast; with ``model="neel-brown"`` K matters but ϑ does not (the
easy axis turns with the body): one angle per (D, K) is computed and copied.

For models with a carrier liquid (:data:`~mdf_neel.simulate.liquid.LIQUID_MODELS`,
Brownian rotation) ``hydrodynamic_diameters_m=`` or ``viscosities_Pas=`` gives a
:class:`~mdf_neel.simulate.liquid.LiquidAxis` that takes the place of the anisotropy
axis: element ``(i_d, i_l, i_a)`` is diameter ``diameters_m[i_d]`` with the liquid
parameter ``liquid_axis.values[i_l]``, K held at one value (which enters combined
Néel–Brown rotation, ``model="neel-brown"``, and not Brownian rotation).

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
from .liquid import LiquidAxis
from .parallel import progress_hook, resolve_workers, run_tasks, single_threaded
from ._system_functions import ANGLE_CONVENTION, angles_task, resolution_of, split_settings

__all__ = ["SystemFunctionDictionary", "dictionary", "dictionary_settings", "AnisotropyInterpolation", "LiquidAxis"]

#: models in which neither K nor the easy axis enters: one solve per (D, liquid value), broadcast
AXIS_FREE_MODELS = ("langevin", "brown")
#: models in which the easy axis does not enter (K may): one angle solved per (D, K or liquid value), copied
ANGLE_FREE_MODELS = AXIS_FREE_MODELS + ("neel-brown",)

logger = logging.getLogger("mdf_neel.simulate")


@dataclass
class SystemFunctionDictionary:
    """Normalised system functions φ̂ (paper eq. 11) for every (D, K, ϑ).

    Attributes
    ----------
    phi : numpy.ndarray, complex128, shape (n_D, n_K, n_angles, C, n_f, O)
        φ̂ [1/s]. With a ``liquid_axis`` the second axis runs along it: (n_D, n_L,
        n_angles, C, n_f, O).
    diameters_m, anisotropies_Jm3, angles_deg : numpy.ndarray
        The parameter grids (n_D,), (n_K,), (n_angles,). With a ``liquid_axis``,
        ``anisotropies_Jm3`` (n_L,) holds the anisotropy of each element along the
        second axis: the one fixed K, repeated.
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
    liquid_axis : LiquidAxis or None
        The liquid parameter (hydrodynamic diameter [m] or viscosity [Pa s]) along the
        second axis; ``None`` (default): the second axis is K. ``particle`` then records
        ``None`` for that parameter.
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
    liquid_axis: LiquidAxis | None = None

    def __post_init__(self):
        if self.interpolated is None:
            self.interpolated = np.zeros(self.phi.shape[:3], dtype=bool)

    @property
    def grid_shape(self) -> tuple:
        """(n_D, n_K, n_angles), or (n_D, n_L, n_angles) with a liquid axis."""
        return tuple(self.phi.shape[:3])

    @property
    def grid_axes(self) -> dict:
        """The three grid axes in order, name -> values (numpy.ndarray).

        ``{"diameter_m": ..., "anisotropy_Jm3": ..., "angle_deg": ...}``; with a liquid
        axis its parameter (``"viscosity_Pas"`` or ``"hydrodynamic_diameter_m"``) in
        the place of ``"anisotropy_Jm3"``.
        """
        if self.liquid_axis is None:
            second = ("anisotropy_Jm3", np.asarray(self.anisotropies_Jm3))
        else:
            second = (self.liquid_axis.parameter, np.asarray(self.liquid_axis.values))
        return {
            "diameter_m": np.asarray(self.diameters_m),
            second[0]: second[1],
            "angle_deg": np.asarray(self.angles_deg),
        }

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
            liquid_axis=LiquidAxis.from_settings(settings.get("liquid_axis")),
        )

    def __repr__(self) -> str:
        C, n_f, O = self.phi.shape[3:]
        second = "anisotropies" if self.liquid_axis is None else self.liquid_axis.keyword
        return (
            f"SystemFunctionDictionary(model={self.model!r}, diameters={self.phi.shape[0]}, "
            f"{second}={self.phi.shape[1]}, angles={self.phi.shape[2]}, channels={C}, "
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
    liquid_axis=None,
) -> dict:
    """Everything a dictionary depends on, as a JSON-serialisable dict (stored in caches).

    ``particle`` holds the physics keywords or ``physics`` (recorded complete, defaults
    included; solver keywords in it are folded into ``solver``, a
    :class:`~mdf_neel.simulate.accuracy.SolverSettings`). For the Néel model the settings include the solver generation and every numerical setting
    (:meth:`SolverSettings.settings`), so a cache made by another solver or with other
    tolerances is refused. ``anisotropy_interpolation`` enters only when given, and so
    does ``liquid_axis`` (a :class:`~mdf_neel.simulate.liquid.LiquidAxis`; its parameter
    is then recorded as ``None`` among the particle's: it varies along the axis).
    """
    from .. import __version__
    from ..physics import FOKKER_PLANCK_MODELS

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
        "solver": solver.settings() if model in FOKKER_PLANCK_MODELS + ("neel-brown",) else "closed-form",
    }
    if anisotropy_interpolation is not None:
        out["anisotropy_interpolation"] = anisotropy_interpolation.settings()
    if liquid_axis is not None:
        out["particle"][liquid_axis.parameter] = None
        out["liquid_axis"] = liquid_axis.settings()
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
    anisotropies_Jm3=None,
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
    hydrodynamic_diameters_m=None,
    viscosities_Pas=None,
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
        angles [deg] with n(ϑ) = (cos ϑ, sin ϑ, 0). ``anisotropies_Jm3`` may be left
        out only with a liquid axis (then K = 0; with one, it must hold one value).
    frequencies : array_like of int, shape (n_f,)
        0-based rfft bins.
    model : {"neel", "langevin", "anisotropic-equilibrium", "brown", "neel-brown"}
        Physics of :func:`mdf_neel.physics.mean_magnetization`. For ``"brown"`` and
        ``"neel-brown"`` the easy axis does not enter: one angle per (D, K or liquid
        value) is solved and copied to the others.
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
    hydrodynamic_diameters_m, viscosities_Pas : array_like, 1-D, optional
        At most one of them, for a model with a carrier liquid
        (:data:`~mdf_neel.simulate.liquid.LIQUID_MODELS`): hydrodynamic diameters D_h
        [m] (each >= every core diameter) or viscosities η [Pa s] of the liquid, as the
        second grid axis in the place of K (``SystemFunctionDictionary.liquid_axis``;
        ``phi`` is (n_D, n_L, n_angles, C, n_f, O)). The other liquid parameter comes
        from ``physics`` or its keyword. Part of the cache settings only when given;
        not combined with ``anisotropy_interpolation``.
    **particle
        Physics keywords (alpha, saturation_magnetization_Am, temperature_K, gamma,
        hydrodynamic_diameter_m, viscosity_Pas) override fields of ``physics``; the
        solver keywords (rtol, method, resolution, step_tolerance, n_threads) override
        fields of ``solver``.

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

    Tracers in liquids of two viscosities (Brownian rotation; one solve per (D, η)):

    >>> seq, small = preset("paper-2d", grid=(2, 2))
    >>> b = dictionary(seq, small.offsets_T, diameters_m=[16e-9], angles_deg=[0.0], frequencies=[16, 17, 33],
    ...                model="brown", viscosities_Pas=[1e-3, 2e-3], hydrodynamic_diameter_m=25e-9, rtol=1e-2,
    ...                progress=False)
    >>> b.phi.shape, list(b.grid_axes)  # (D, η, angles, channels, frequencies, positions)
    ((1, 2, 1, 2, 3, 4), ['diameter_m', 'viscosity_Pas', 'angle_deg'])
    >>> b.liquid_axis.values, b.particle["viscosity_Pas"], b.particle["hydrodynamic_diameter_m"]
    ((0.001, 0.002), None, 2.5e-08)
    """
    from ._system_functions import channel_vectors

    D = _floats(diameters_m, "diameters_m")
    axis = LiquidAxis.from_keywords(hydrodynamic_diameters_m=hydrodynamic_diameters_m, viscosities_Pas=viscosities_Pas)
    if axis is not None:
        axis.check(model, D)
        if axis.parameter in particle:
            raise TypeError(f"{axis.parameter} is fixed by a keyword and varied by {axis.keyword}: give one of them")
        if anisotropy_interpolation is not None:
            raise ValueError("anisotropy_interpolation interpolates along K; a dictionary with a liquid axis has none")
    if anisotropies_Jm3 is None and axis is None:
        raise TypeError("dictionary() needs anisotropies_Jm3 (it may be left out only with a liquid axis)")
    K_fixed = _floats(0.0 if anisotropies_Jm3 is None else anisotropies_Jm3, "anisotropies_Jm3")
    if axis is not None and K_fixed.size != 1:
        raise ValueError(
            f"with {axis.keyword} the anisotropy is held at one value, got anisotropies_Jm3={K_fixed.tolist()}"
        )
    # the second grid axis: K, or the liquid parameter with K repeated along it
    K = K_fixed if axis is None else np.full(len(axis), K_fixed[0])
    A = _floats(angles_deg, "angles_deg")
    off = check_offsets(offsets_T)
    freqs = check_bins(frequencies, sequence.receiver.num_frequencies)
    if freqs is None:
        raise ValueError("frequencies must be given (0-based rfft bins)")
    channels = tuple(channels)
    channel_vectors(channels)
    # neither K nor the easy axis enters the Langevin model or Brownian rotation
    axis_free = model in AXIS_FREE_MODELS
    interp = AnisotropyInterpolation.coerce(anisotropy_interpolation)
    if interp is not None and K.size > 1 and not np.all(np.diff(K) > 0):
        raise ValueError(f"anisotropies_Jm3 must be sorted strictly increasing for anisotropy_interpolation, got {K}")
    if axis_free:
        interp = None  # a no-op: results do not depend on K
    # the easy axis does not enter: one angle per pair solved, copied (with interpolation along K a
    # pair's angles go in one batch, where the system-matrix layer solves each field once)
    broadcast = model in ANGLE_FREE_MODELS and interp is None
    grid_shape = (D.size, K.size, A.size)
    element_shape = (len(channels), freqs.size, off.shape[0])
    particle, solver = split_settings(dict(particle, physics=physics), solver)
    settings = dictionary_settings(
        sequence,
        off,
        diameters_m=D,
        anisotropies_Jm3=K_fixed if axis is not None else K,
        angles_deg=A,
        frequencies=freqs,
        model=model,
        channels=channels,
        particle=particle,
        anisotropy_interpolation=interp,
        solver=solver,
        liquid_axis=axis,
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

    # axis-free models: one solve per diameter, or per (diameter, liquid value) with a liquid axis
    columns = range(K.size) if axis is not None or not axis_free else range(1)

    def targets(key):
        if not broadcast:
            return key
        return (key[0], slice(None), slice(None)) if axis is None and axis_free else (key[0], key[1], slice(None))

    # no more worker processes than (D, K) tasks: a single task runs here on every thread
    n_tasks = D.size * len(columns)
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
                    **({} if axis is None else {axis.parameter: axis.values[pair[1]]}),
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
            for j in columns:
                if done[i, j, 0]:
                    phi[targets((i, j, 0))] = phi[i, j, 0]
                    resolution[targets((i, j, 0))] = resolution[i, j, 0]
                    done[targets((i, j, 0))] = True
        pairs = {(i, j): [0] for i in range(D.size) for j in columns if not np.all(done[targets((i, j, 0))])}
        already = n_tasks - len(pairs)
        run(pairs, n_tasks, already, "dictionary")
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
                **({} if axis is None else {axis.keyword: np.asarray(axis.values)}),
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
        particle=dict(particle) if axis is None else dict(particle, **{axis.parameter: None}),
        resolution=resolution,
        cycle_s=sequence.drive_field.cycle_s,
        stats=stats,
        interpolated=interpolated,
        liquid_axis=axis,
    )
