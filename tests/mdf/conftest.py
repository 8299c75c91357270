"""Shared fixtures of the MDF tests; makes the raw-h5py builders importable as ``_builders``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
