import os

import numpy as np
import pytest

os.environ.setdefault("MDF_NEEL_PROGRESS", "0")


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path, monkeypatch):
    """Each test gets its own default dictionary-cache directory (never the user's)."""
    monkeypatch.setenv("MDF_NEEL_CACHE_DIR", str(tmp_path / "mdf_neel_cache"))
    return tmp_path / "mdf_neel_cache"


@pytest.fixture
def rng():
    """A seeded random generator (tests are reproducible)."""
    return np.random.default_rng(12345)
