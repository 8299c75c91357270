"""mdf_neel: MDF v2.1 system matrices for MPI, Néel-rotation simulation and model fitting.

Subpackages
-----------
mdf_neel.mdf       read, write, validate, inspect and convert MDF files (h5py)
mdf_neel.physics   Fokker-Planck (Néel), Langevin and anisotropic-equilibrium models
mdf_neel.simulate  system matrices and dictionaries from the physics
mdf_neel.fitting   scikit-learn estimators for the models M0, M1, M2 and NRMSE metrics
mdf_neel.cli       the ``mdf-neel`` command

The data model (:class:`SystemMatrix`, :class:`Measurement`) and its axis order are
documented in :mod:`mdf_neel.systemmatrix` and ``docs/data-model.md``.
"""

from __future__ import annotations

import logging

from ._lazy import lazy_attributes
from .errors import MDFError
from .sequence import DriveField, Receiver, Sequence
from .systemmatrix import Acquisition, Experiment, Measurement, Scanner, Study, SystemMatrix, Tracer

__version__ = "0.1.0"

logging.getLogger("mdf_neel").addHandler(logging.NullHandler())

_LAZY = {
    "read_system_matrix": "mdf_neel.mdf",
    "read_measurement": "mdf_neel.mdf",
    "write_system_matrix": "mdf_neel.mdf",
    "write_measurement": "mdf_neel.mdf",
    "validate": "mdf_neel.mdf",
    "inspect": "mdf_neel.mdf",
    "convert": "mdf_neel.mdf",
}

__all__ = [
    "MDFError",
    "SystemMatrix",
    "Measurement",
    "DriveField",
    "Receiver",
    "Sequence",
    "Tracer",
    "Scanner",
    "Study",
    "Experiment",
    "Acquisition",
    "__version__",
    *_LAZY,
]

# the file layer (h5py) is imported on first use so that ``import mdf_neel`` stays light
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
