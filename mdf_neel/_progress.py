"""Progress reporting for long work: tqdm on a terminal, silent otherwise."""

from __future__ import annotations

import importlib.util
import os
import sys


def progress(iterable=None, *, total=None, desc=None, enabled=None, unit="it"):
    """Wrap ``iterable`` in a tqdm progress bar when enabled.

    Parameters
    ----------
    iterable : iterable, optional
    total : int, optional
    desc : str, optional
    enabled : bool or None
        ``None`` (default): on only when stderr is a terminal and the environment
        variable ``MDF_NEEL_PROGRESS`` is not ``0``; tests therefore run silent.
    unit : str

    Returns
    -------
    An object usable as an iterator and with ``update(n)`` / ``close()``.
    """
    if enabled is None:
        enabled = sys.stderr.isatty() and os.environ.get("MDF_NEEL_PROGRESS", "1") != "0"
    if enabled and importlib.util.find_spec("tqdm") is not None:  # tqdm is optional; a broken one raises
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit)
    return _Silent(iterable)


class _Silent:
    def __init__(self, iterable):
        self._it = iterable

    def __iter__(self):
        return iter(self._it if self._it is not None else ())

    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
