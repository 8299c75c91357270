"""Particle magnetisation models for MPI: Néel and Brownian Fokker–Planck, Langevin, anisotropic equilibrium.

Public API
----------
mean_magnetization   m̄(t) for a field trajectory or a batch of them (all models, Brownian
                     rotation in a liquid included: ``model="brown"``)
ParticleParameters   validated particle parameters and derived constants (τ, ξ, σ, p1..p4)
PhysicsParameters    the physics besides D and K (α, Ms, T, γ) as one typed object
langevin             the Langevin function
langevin_magnetization, anisotropic_equilibrium   the equilibrium models on field arrays
choose_resolution    the automatic spherical-harmonic degree for given ξ, σ and rtol
solve_neel           the Néel model for a ParticleParameters object, with solver statistics
integral_relaxation_time   zero-field Néel (integral) relaxation time τ_int/τ

The Néel solver itself is the subpackage :mod:`mdf_neel.physics.neel` (one module per
method, the shared numerics underneath; numba is imported on the first Néel solve);
:mod:`mdf_neel.physics.brown` maps Brownian rotation onto it.
Fields are µ0·H in tesla; m̄ is normalised by m0 = Ms·Vc. See ``docs/physics.md`` and
``docs/neel-numerics.md``.
"""

from __future__ import annotations

from ._api import FOKKER_PLANCK_MODELS, MODELS, mean_magnetization, solve_neel
from .equilibrium import anisotropic_equilibrium, langevin, langevin_magnetization
from .neel.resolution import choose_resolution
from .particles import BOLTZMANN_JK, MU0, ParticleParameters, PhysicsParameters, integral_relaxation_time


__all__ = [
    "MODELS",
    "FOKKER_PLANCK_MODELS",
    "mean_magnetization",
    "ParticleParameters",
    "PhysicsParameters",
    "integral_relaxation_time",
    "langevin",
    "langevin_magnetization",
    "anisotropic_equilibrium",
    "choose_resolution",
    "solve_neel",
    "BOLTZMANN_JK",
    "MU0",
]
