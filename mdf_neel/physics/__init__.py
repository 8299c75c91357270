"""Particle magnetisation models for MPI: Néel Fokker–Planck, Langevin, anisotropic equilibrium.

Public API
----------
mean_magnetization   m̄(t) for a field trajectory or a batch of them (all models)
ParticleParameters   validated particle parameters and derived constants (τ, ξ, σ, p1..p4)
langevin             the Langevin function
langevin_magnetization, anisotropic_equilibrium   the equilibrium models on field arrays
choose_resolution    the automatic spherical-harmonic degree for given ξ, σ and rtol
integral_relaxation_time   zero-field Néel (integral) relaxation time τ_int/τ

Fields are µ0·H in tesla; m̄ is normalised by m0 = Ms·Vc. See ``docs/physics.md``.
"""

from __future__ import annotations

from ._api import MODELS, mean_magnetization
from .equilibrium import anisotropic_equilibrium, langevin, langevin_magnetization
from .particles import BOLTZMANN_JK, MU0, ParticleParameters, integral_relaxation_time


def __getattr__(name):
    # the Fokker-Planck module pulls in numba; import it on first use only
    if name in ("choose_resolution", "solve_neel"):
        from . import fokker_planck

        return getattr(fokker_planck, name)
    raise AttributeError(f"module 'mdf_neel.physics' has no attribute {name!r}")


__all__ = [
    "MODELS",
    "mean_magnetization",
    "ParticleParameters",
    "integral_relaxation_time",
    "langevin",
    "langevin_magnetization",
    "anisotropic_equilibrium",
    "choose_resolution",
    "solve_neel",
    "BOLTZMANN_JK",
    "MU0",
]
