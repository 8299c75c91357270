"""Orientation imaging: multi-contrast reconstruction with one system matrix per easy-axis angle.

Immobilised particles respond differently to the drive field depending on the
orientation of their easy axes (H. Albers et al., "Modeling the magnetization dynamics
for large ensembles of immobilized magnetic nanoparticles in multi-dimensional magnetic
particle imaging", J. Magn. Magn. Mater. (2022)). With one system matrix per angle ϑ_a,
stacked side by side (MPIReco.jl's multi-contrast layout), a regularised least-squares
reconstruction gives the concentration per (angle, position), and from it where the
particles are and how their axes are oriented.

Public API
----------
reconstruct                 matrices (files or objects) + measurement → :class:`Reconstruction`
ReconstructionSettings      solver, λ, weighting, rows (:class:`RowSelection`), measurement options
Reconstruction              concentrations (F, A, Nz, Ny, Nx), angles, grid, rows used
orientation_map             dominant angle (double-angle mean), coherence, total
kaczmarz, cgnr              the solvers (λ relative to the matrix trace, row weights, projections)
stack_system_matrices       the stacked matrix (C·K, A·O)
write_image, read_image     the HDF5 image file
plot_orientation            picture: concentration as brightness, orientation as hue

See ``docs/reconstruct.md``.
"""

from __future__ import annotations

from .image_file import read_image, write_image
from .imaging import METHODS, WEIGHTINGS, Reconstruction, ReconstructionSettings, reconstruct
from .orientation import OrientationMap, axial_difference_deg, orientation_map
from .pictures import plot_orientation
from .problem import (
    MeasurementOptions,
    RowSelection,
    check_compatible,
    load_system_matrices,
    measurement_frames,
    select_rows,
    stack_system_matrices,
)
from .solvers import absolute_lambda, cgnr, kaczmarz

__all__ = [
    "reconstruct",
    "ReconstructionSettings",
    "Reconstruction",
    "RowSelection",
    "MeasurementOptions",
    "METHODS",
    "WEIGHTINGS",
    "orientation_map",
    "OrientationMap",
    "axial_difference_deg",
    "kaczmarz",
    "cgnr",
    "absolute_lambda",
    "check_compatible",
    "load_system_matrices",
    "select_rows",
    "stack_system_matrices",
    "measurement_frames",
    "write_image",
    "read_image",
    "plot_orientation",
]
