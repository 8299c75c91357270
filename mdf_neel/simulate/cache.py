"""Crash-safe, resumable storage of a system-function dictionary.

Two places hold finished elements:

* the **cache**, one HDF5 file (the end product), only ever replaced as a whole
  (temporary file + fsync + rename, :func:`mdf_neel._atomic.atomic_path`);
* the **journal**, a sidecar directory ``<cache>.parts/`` holding one small ``.npz``
  file per finished element, each written atomically the moment it arrives.

A run that is killed at any instant therefore leaves the previous cache (or none) and
a journal of complete element files; the next run with the same settings loads both
and computes only what is missing. When every element is finished the journal is
merged into a new cache and removed. Settings (sequence, offsets, grids, rows, model,
particle parameters, package version) are stored with both; other settings are
refused with a :class:`ValueError` naming the differences.

This is the package's own cache format, not MDF; it is the one file outside
``mdf_neel.mdf`` that uses h5py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sys

import h5py
import numpy as np

from .._atomic import atomic_path, fsync_directory

__all__ = [
    "DictionaryCache",
    "FORMAT",
    "settings_differences",
    "default_cache_dir",
    "default_cache_path",
    "settings_fingerprint",
    "CACHE_DIR_VARIABLE",
]

#: environment variable that moves the default cache directory
CACHE_DIR_VARIABLE = "MDF_NEEL_CACHE_DIR"

logger = logging.getLogger("mdf_neel.simulate")

#: Format tag stored in every cache file and journal.
FORMAT = "mdf_neel.dictionary-cache/1"

_ENTRY = re.compile(r"^e_(\d+)_(\d+)_(\d+)\.npz$")


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def settings_differences(stored: dict, wanted: dict) -> list:
    """Human-readable differences between two settings dicts (empty when equal)."""
    out = []
    for key in sorted(set(stored) | set(wanted)):
        a, b = stored.get(key, "<absent>"), wanted.get(key, "<absent>")
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{d}" for d in settings_differences(a, b)]
        else:
            out.append(f"{key} ({_short(a)} stored, {_short(b)} requested)")
    return out


def default_cache_dir() -> str:
    """The directory of shared dictionary caches.

    ``$MDF_NEEL_CACHE_DIR`` if set, else the platform's user cache location:
    ``$XDG_CACHE_HOME/mdf_neel`` or ``~/.cache/mdf_neel`` (Linux and other Unix),
    ``~/Library/Caches/mdf_neel`` (macOS), ``%LOCALAPPDATA%\\mdf_neel\\Cache`` (Windows).

    Examples
    --------
    >>> import os
    >>> os.environ["MDF_NEEL_CACHE_DIR"] = "/tmp/mdf_neel_cache_example"
    >>> default_cache_dir()
    '/tmp/mdf_neel_cache_example'
    >>> del os.environ["MDF_NEEL_CACHE_DIR"]
    """
    chosen = os.environ.get(CACHE_DIR_VARIABLE)
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~"), "Library", "Caches", "mdf_neel")
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
        return os.path.join(base, "mdf_neel", "Cache")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mdf_neel")


def settings_fingerprint(settings: dict) -> str:
    """SHA-256 (hex) of a settings dict in canonical JSON."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8")).hexdigest()


def default_cache_path(settings: dict) -> str:
    """``<default_cache_dir()>/dictionary-<fingerprint>.h5``: one file per set of settings,
    so two callers asking for the same dictionary share it and any change of a setting
    that changes results gives another file."""
    return os.path.join(default_cache_dir(), f"dictionary-{settings_fingerprint(settings)[:32]}.h5")


class DictionaryCache:
    """The cache file plus its journal for one set of settings.

    Parameters
    ----------
    path : str or os.PathLike
        The HDF5 cache file.
    settings : dict
        JSON-serialisable description of everything the results depend on.
    grid_shape : tuple of int
        (n_D, n_K, n_angles).
    element_shape : tuple of int
        (C, n_f, O).
    """

    def __init__(self, path, settings: dict, grid_shape, element_shape):
        self.path = os.fspath(path)
        self.journal = self.path + ".parts"
        self.settings = json.loads(json.dumps(settings))  # normalised (tuples → lists)
        self.grid_shape = tuple(int(v) for v in grid_shape)
        self.element_shape = tuple(int(v) for v in element_shape)

    # --- settings ------------------------------------------------------------------------
    def _refuse(self, stored: dict, where: str) -> None:
        diff = settings_differences(stored, self.settings)
        if diff:
            raise ValueError(
                f"{where} was made with other settings and is not reused: "
                + "; ".join(diff)
                + f". Use another cache path or delete {where!r} to start over."
            )

    # --- loading -------------------------------------------------------------------------
    def load(self):
        """Finished elements from the cache and the journal.

        Returns
        -------
        phi : numpy.ndarray, complex128, shape grid_shape + element_shape
            Zeros where not finished.
        done : numpy.ndarray of bool, shape grid_shape
        resolution : numpy.ndarray of int64, shape grid_shape
            Sphere resolution reported by the physics (-1: not applicable / unknown).
        journal_keys : list of tuple
            Element keys found in the journal.
        interpolated : numpy.ndarray of bool, shape grid_shape
            Elements the cache marks as interpolated along K (not exact solves); all
            False for caches written before the mask existed and for journal entries
            (the journal only ever holds exact elements).
        """
        phi = np.zeros(self.grid_shape + self.element_shape, dtype=np.complex128)
        done = np.zeros(self.grid_shape, dtype=bool)
        resolution = np.full(self.grid_shape, -1, dtype=np.int64)
        interpolated = np.zeros(self.grid_shape, dtype=bool)
        if os.path.exists(self.path):
            try:
                with h5py.File(self.path, "r") as f:
                    fmt = f["format"].asstr()[()] if "format" in f else None
                    if fmt != FORMAT:
                        raise ValueError(f"{self.path!r} is not an mdf_neel dictionary cache (format {fmt!r})")
                    self._refuse(json.loads(f["settings"].asstr()[()]), self.path)
                    done[...] = f["done"][...].astype(bool)
                    f["phi"].read_direct(phi)
                    resolution[...] = f["resolution"][...]
                    if "interpolated" in f:
                        interpolated[...] = f["interpolated"][...].astype(bool)
            except OSError as exc:
                raise ValueError(f"cannot read the dictionary cache {self.path!r}: {exc}") from exc
        keys = []
        if os.path.isdir(self.journal):
            settings_file = os.path.join(self.journal, "settings.json")
            if os.path.exists(settings_file):
                with open(settings_file, encoding="utf-8") as fh:
                    self._refuse(json.load(fh), self.journal)
            for name in sorted(os.listdir(self.journal)):
                m = _ENTRY.match(name)
                if not m:
                    continue
                key = tuple(int(g) for g in m.groups())
                if any(k >= n for k, n in zip(key, self.grid_shape)):
                    raise ValueError(f"journal entry {name!r} in {self.journal!r} lies outside the dictionary grid")
                with np.load(os.path.join(self.journal, name)) as z:
                    element = z["phi"]
                    if element.shape != self.element_shape:
                        raise ValueError(
                            f"journal entry {name!r} has shape {element.shape}, expected {self.element_shape}"
                        )
                    phi[key] = element
                    resolution[key] = int(z["resolution"])
                done[key] = True
                interpolated[key] = False
                keys.append(key)
        return phi, done, resolution, keys, interpolated

    # --- journal -------------------------------------------------------------------------
    def _ensure_journal(self) -> None:
        if os.path.isdir(self.journal):
            return
        os.makedirs(self.journal, exist_ok=True)
        with atomic_path(os.path.join(self.journal, "settings.json")) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({**self.settings}, fh, indent=1, sort_keys=True)
        fsync_directory(os.path.dirname(os.path.abspath(self.journal)))

    def record(self, key, element: np.ndarray, resolution: int) -> None:
        """Store one finished element in the journal (atomic)."""
        self._ensure_journal()
        name = "e_{}_{}_{}.npz".format(*(int(k) for k in key))
        with atomic_path(os.path.join(self.journal, name)) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, phi=np.asarray(element, dtype=np.complex128), resolution=np.int64(resolution))

    # --- merging -------------------------------------------------------------------------
    def merge(
        self,
        phi: np.ndarray,
        done: np.ndarray,
        resolution: np.ndarray,
        axes: dict,
        interpolated: np.ndarray | None = None,
    ) -> None:
        """Replace the cache by one holding ``phi`` (atomically), then clear the journal.

        ``axes`` holds the coordinate arrays (diameters_m, ..., offsets_T) stored beside;
        ``interpolated`` (bool, grid_shape; default all False) marks elements that were
        interpolated along K rather than solved.
        """
        if interpolated is None:
            interpolated = np.zeros(self.grid_shape, dtype=bool)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with atomic_path(self.path) as tmp:
            with h5py.File(tmp, "w") as f:
                f["format"] = FORMAT
                f["settings"] = json.dumps(self.settings, sort_keys=True)
                f.create_dataset("phi", data=phi, chunks=(1, 1, 1) + self.element_shape)
                f["done"] = done.astype(np.int8)
                f["resolution"] = resolution.astype(np.int64)
                f["interpolated"] = np.asarray(interpolated, dtype=np.int8)
                for name, value in axes.items():
                    arr = np.asarray(value)
                    f[name] = arr if arr.dtype.kind not in "UO" else arr.astype(object).astype(h5py.string_dtype())
        self.clear_journal()

    def clear_journal(self) -> None:
        """Delete the journal directory (its content is in the cache)."""
        if not os.path.isdir(self.journal):
            return
        for name in os.listdir(self.journal):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.journal, name))
        with contextlib.suppress(OSError):
            os.rmdir(self.journal)


def read_cache(path):
    """Everything stored in a cache file: ``(settings, arrays)`` with arrays as numpy."""
    path = os.fspath(path)
    try:
        with h5py.File(path, "r") as f:
            fmt = f["format"].asstr()[()] if "format" in f else None
            if fmt != FORMAT:
                raise ValueError(f"{path!r} is not an mdf_neel dictionary cache (format {fmt!r})")
            settings = json.loads(f["settings"].asstr()[()])
            arrays = {}
            for name in f:
                if name in ("format", "settings"):
                    continue
                ds = f[name]
                arrays[name] = ds.asstr()[...] if h5py.check_string_dtype(ds.dtype) else ds[...]
    except OSError as exc:
        raise ValueError(f"cannot read the dictionary cache {path!r}: {exc}") from exc
    return settings, arrays
