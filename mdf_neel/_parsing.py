"""Parsing of number lists typed by users (command line): ranges, lists, units."""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z/^0-9]*)\s*")


def parse_values(text, *, name: str, units=None, sort_unique: bool = False) -> tuple:
    """Numbers from ``"START:STOP:STEP"`` (inclusive), ``"a,b,c"`` or a mix (``"0:30:15,90"``).

    Parameters
    ----------
    text : str
        What the user typed.
    name : str
        Name used in error messages (e.g. ``"--diameters"``).
    units : dict, optional
        Allowed unit suffixes and their scale to SI (``{"nm": 1e-9}``); a bare number
        always has scale 1.
    sort_unique : bool
        Return the values sorted ascending without duplicates.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        Naming ``name`` and what was expected, for unreadable numbers, unknown units,
        ranges that are not START:STOP:STEP with STEP > 0 and STOP >= START,
        non-finite values or an empty list.
    """
    scale = {"": 1.0, **(units or {})}

    def one(token):
        m = _NUMBER.fullmatch(token)
        if not m:
            raise ValueError(f"{name}: cannot read {token!r} as a number")
        if m.group(2) not in scale:
            known = sorted(k for k in scale if k)
            raise ValueError(f"{name}: unknown unit {m.group(2)!r} (use one of {known})")
        value = float(m.group(1)) * scale[m.group(2)]
        if not math.isfinite(value):
            raise ValueError(f"{name}: values must be finite, got {token!r}")
        return value

    out = []
    for item in str(text).split(","):
        if not item.strip():
            continue
        if ":" in item:
            parts = item.split(":")
            if len(parts) != 3:
                raise ValueError(f"{name}: a range is START:STOP:STEP (inclusive), got {item.strip()!r}")
            start, stop, step = (one(p) for p in parts)
            if step <= 0 or stop < start:
                raise ValueError(f"{name}: bad range {item.strip()!r} (need STEP > 0 and STOP >= START)")
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            out += [start + i * step for i in range(n)]
        else:
            out.append(one(item))
    if not out:
        raise ValueError(f"{name}: no values in {text!r}")
    return tuple(sorted(set(out))) if sort_unique else tuple(out)
