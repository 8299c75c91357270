"""Code conventions of mdf_neel.physics (numba caching, no print in library code)."""

import pathlib
import re

PHYS = pathlib.Path(__file__).resolve().parents[2] / "mdf_neel" / "physics"


def test_every_njit_is_cached():
    for f in PHYS.glob("*.py"):
        for m in re.finditer(r"@(?:numba\.)?njit(\([^)]*\))?", f.read_text()):
            assert m.group(1) and "cache=True" in m.group(1), f"{f.name}: {m.group(0)} lacks cache=True"


def test_no_print_in_library_code():
    for f in PHYS.glob("*.py"):
        assert not re.search(r"^\s*print\(", f.read_text(), re.M), f.name
