"""Model-based MPI system matrices and system-function dictionaries.

Public API
----------
system_functions    φ̂ (paper eq. 11) of one particle type at a batch of offsets: (C, n_f, O)
system_matrix       a simulated :class:`~mdf_neel.systemmatrix.SystemMatrix` for one easy-axis angle
dictionary          φ̂ for every (D, K, ϑ) on chosen rows, cached, resumable, parallel
SystemFunctionDictionary   the result of :func:`dictionary`
AnisotropyInterpolation    verified interpolation along K for :func:`dictionary`
LiquidAxis          the hydrodynamic-diameter or viscosity axis of a Brownian-tracer dictionary
preset, sequence_from_file, regrid, OffsetGrid   where sequences and offset grids come from
phantom_measurement, disk_phantom, Phantom, PhantomSample   SYNTHETIC measurements of oriented phantoms

Conventions: fields µ0·H in tesla; easy axis n(ϑ) = (cos ϑ, sin ϑ, 0) with ϑ in degrees
from x towards y; offsets add to the drive field; rows are 0-based rfft bins; the time
derivative is taken exactly in Fourier space. See ``docs/simulate.md``.

Reference: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022). "The paper" and its equation numbers in this package refer
to it.
"""

from __future__ import annotations

from ._dictionary import SystemFunctionDictionary, dictionary
from .interpolation import AnisotropyInterpolation
from .liquid import LIQUID_MODELS, LiquidAxis
from .phantom import Phantom, PhantomSample, disk_phantom, phantom_measurement
from .sources import PRESETS, OffsetGrid, infer_grid, preset, regrid, sequence_from_file
from ._system_functions import ANGLE_CONVENTION, CHANNEL_VECTORS, easy_axis, system_functions
from ._system_matrix import SNR_FLOOR, assemble, simulation_snr, system_matrix

__all__ = [
    "system_functions",
    "system_matrix",
    "dictionary",
    "SystemFunctionDictionary",
    "AnisotropyInterpolation",
    "LiquidAxis",
    "LIQUID_MODELS",
    "assemble",
    "simulation_snr",
    "preset",
    "PRESETS",
    "sequence_from_file",
    "regrid",
    "infer_grid",
    "OffsetGrid",
    "easy_axis",
    "ANGLE_CONVENTION",
    "CHANNEL_VECTORS",
    "SNR_FLOOR",
    "Phantom",
    "PhantomSample",
    "disk_phantom",
    "phantom_measurement",
]
