"""System-function dictionaries φ̂ over (D, K, ϑ): cached, resumable, parallel.

Element ``(i_d, i_k, i_a)`` is :func:`~mdf_neel.simulate.system_functions` for
diameter ``diameters_m[i_d]``, anisotropy ``anisotropies_Jm3[i_k]`` and easy-axis angle
``angles_deg[i_a]`` on the chosen rows, shape (C, n_f, O). One (D, K) pair is one task:
one physics call with every angle × offset as a batch
(:func:`~mdf_neel.simulate.system_functions.angle_system_functions`), so for the Néel
model all angles of a pair share one reduced basis; each element is journalled as it
arrives. With ``model="langevin"`` neither K nor ϑ matters: one element per diameter
is computed and broadcast.

Reproducibility: for the Néel model with the reduced basis an element's values depend
(within the verified tolerance, ``docs/physics.md``) on which angles were computed
together; a run is deterministic for a given grid, and a resumed pair recomputes only
its missing angles.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field

import numpy as np

from .cache import DictionaryCache, read_cache
from .parallel import progress_hook, resolve_workers, run_tasks, single_threaded
from .system_functions import ANGLE_CONVENTION, angles_task, resolution_of

__all__ = ["SystemFunctionDictionary", "dictionary", "dictionary_settings"]

logger = logging.getLogger("mdf_neel.simulate")

#: Physics keywords that do not change results (left out of the cache settings).
_NOT_SETTINGS = ("n_threads",)
#: Néel solver generation recorded in the settings (changes the cache fingerprint).
NEEL_SOLVER = "sh-galerkin-ros34pw2/reduced-basis-1 (all angles of a (D, K) pair per call)"


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
        cache or journal).
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
            phi=arrays["phi"], diameters_m=arrays["diameters_m"], anisotropies_Jm3=arrays["anisotropies_Jm3"],
            angles_deg=arrays["angles_deg"], frequency_indices=arrays["frequency_indices"],
            channels=tuple(settings["channels"]), offsets_T=arrays["offsets_T"], model=settings["model"],
            particle=dict(settings["particle"]), resolution=arrays["resolution"], cycle_s=settings["sequence"]["cycle_s"],
            stats={"computed": 0, "resumed": int(np.prod(arrays["done"].shape))},
        )

    def __repr__(self) -> str:
        C, n_f, O = self.phi.shape[3:]
        return (f"SystemFunctionDictionary(model={self.model!r}, diameters={self.phi.shape[0]}, "
                f"anisotropies={self.phi.shape[1]}, angles={self.phi.shape[2]}, channels={C}, "
                f"frequencies={n_f}, offsets={O})")


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


def dictionary_settings(sequence, offsets_T, *, diameters_m, anisotropies_Jm3, angles_deg, frequencies,
                        model, channels, particle) -> dict:
    """Everything a dictionary depends on, as a JSON-serialisable dict (stored in caches)."""
    from .. import __version__

    off = np.ascontiguousarray(offsets_T, dtype="<f8")
    return {
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
        "particle": {k: (v if v is None or isinstance(v, (str, bool, int)) else float(v))
                     for k, v in sorted(particle.items()) if k not in _NOT_SETTINGS},
        # results depend on the solver generation (reduced basis since physics 2)
        "solver": NEEL_SOLVER if model == "neel" else "closed-form",
    }


def _compute_pair(payload):
    """The missing angles of one (D, K) pair (runs in a worker): (phi (a, C, n_f, O), resolution)."""
    phi, info = angles_task(payload)
    return phi, resolution_of(info)


def dictionary(sequence, offsets_T, *, diameters_m, anisotropies_Jm3, angles_deg, frequencies, model="neel",
               channels=("x", "y"), cache=None, workers=None, scheduler=None, progress=None,
               **particle) -> SystemFunctionDictionary:
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
    cache : str or os.PathLike, optional
        HDF5 cache file. Finished elements are journalled in ``<cache>.parts/`` as they
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
        a callable is called as ``progress(done, total)`` after each element.
    **particle
        Physics parameters (alpha, saturation_magnetization_Am, temperature_K, gamma,
        rtol, resolution, n_threads).

    Returns
    -------
    SystemFunctionDictionary
    """
    from .system_functions import _check_frequencies, _check_offsets, channel_vectors

    D = _floats(diameters_m, "diameters_m")
    K = _floats(anisotropies_Jm3, "anisotropies_Jm3")
    A = _floats(angles_deg, "angles_deg")
    off = _check_offsets(offsets_T)
    freqs = _check_frequencies(frequencies, sequence.receiver.num_frequencies)
    if freqs is None:
        raise ValueError("frequencies must be given (0-based rfft bins)")
    channels = tuple(channels)
    channel_vectors(channels)
    grid_shape = (D.size, K.size, A.size)
    element_shape = (len(channels), freqs.size, off.shape[0])
    settings = dictionary_settings(sequence, off, diameters_m=D, anisotropies_Jm3=K, angles_deg=A,
                                   frequencies=freqs, model=model, channels=channels, particle=particle)
    broadcast = model == "langevin"  # neither K nor the easy axis enters the Langevin model

    store = None if cache is None else DictionaryCache(cache, settings, grid_shape, element_shape)
    if store is not None:
        phi, done, resolution, _ = store.load()
    else:
        phi = np.zeros(grid_shape + element_shape, dtype=np.complex128)
        done = np.zeros(grid_shape, dtype=bool)
        resolution = np.full(grid_shape, -1, dtype=np.int64)

    def targets(key):
        return (key[0], slice(None), slice(None)) if broadcast else key

    if broadcast:
        for i in range(D.size):
            if done[i, 0, 0]:
                phi[i] = phi[i, 0, 0]
                resolution[i] = resolution[i, 0, 0]
                done[i] = True
        pairs = {(i, 0): [0] for i in range(D.size) if not np.all(done[i])}
    else:
        pairs = {}
        for i_d, i_k, i_a in np.argwhere(~done):
            pairs.setdefault((int(i_d), int(i_k)), []).append(int(i_a))
    resumed = int(done.sum())
    n_workers = 1 if scheduler is not None else resolve_workers(workers)
    kwargs_common = single_threaded(particle, model, n_workers, scheduler)
    tasks = {
        pair: {"sequence": sequence, "offsets_T": off,
               "kwargs": dict(kwargs_common, diameter_m=float(D[pair[0]]), anisotropy_Jm3=float(K[pair[1]]),
                              angles_deg=A[angle_idx], model=model, frequencies=freqs, channels=channels)}
        for pair, angle_idx in pairs.items()
    }
    n_elements = sum(len(v) for v in pairs.values())
    total_units = D.size if broadcast else int(np.prod(grid_shape))
    already = (D.size - len(pairs)) if broadcast else resumed
    update, close = progress_hook(progress, total_units, already=already, desc="dictionary", unit="element")
    if pairs:
        logger.info("dictionary: %d of %d elements to compute in %d (D, K) task(s) (%d resumed), model %s",
                    n_elements, total_units, len(pairs), already, model)

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
    if store is not None and (len(pairs) or os.path.isdir(store.journal) or not os.path.exists(store.path)):
        store.merge(phi, done, resolution, {
            "diameters_m": D, "anisotropies_Jm3": K, "angles_deg": A, "frequency_indices": freqs,
            "offsets_T": off, "channels": np.array(channels, dtype=object),
        })
    return SystemFunctionDictionary(
        phi=phi, diameters_m=D, anisotropies_Jm3=K, angles_deg=A, frequency_indices=freqs, channels=channels,
        offsets_T=off, model=str(model), particle=dict(particle), resolution=resolution,
        cycle_s=sequence.drive_field.cycle_s,
        stats={"computed": len(pairs) if broadcast else n_elements, "resumed": already},
    )
