import os

import numpy as np
import pytest

os.environ.setdefault("MDF_NEEL_PROGRESS", "0")


@pytest.fixture
def rng():
    """A seeded random generator (tests are reproducible)."""
    return np.random.default_rng(12345)
