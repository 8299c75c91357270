import pytest

from tests.fitting._fitting_synth import random_dictionary


@pytest.fixture
def dic(rng):
    """A random 3 x 4 (D, K) dictionary over 4 angles, 13 rows, 3 x 3 offsets."""
    return random_dictionary(rng)
