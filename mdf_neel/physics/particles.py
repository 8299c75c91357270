"""Validated particle parameters and the derived constants of the Néel model.

Conventions (see ``docs/physics.md``):

* fields are µ0·H in tesla, so the drift coefficients ``p1 = γ̃`` and ``p2 = α γ̃``
  multiply B directly (MNPDynamics convention);
* ``tau_s`` is Brown's free-diffusion time τ = Ms Vc / (2 kB T γ̃ α) (the codes' "τ_N"),
  not the Néel relaxation time; :meth:`ParticleParameters.neel_time_s` gives the latter
  (zero-field integral relaxation time);
* ``xi_per_tesla`` = Ms Vc / (kB T), so ξ = xi_per_tesla·|B|;
* ``sigma`` = K Vc / (kB T), the reduced anisotropy barrier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

__all__ = [
    "BOLTZMANN_JK",
    "MU0",
    "ParticleParameters",
    "PhysicsParameters",
    "integral_relaxation_time",
]

#: Boltzmann constant used by both MNPDynamics codes [J/K].
BOLTZMANN_JK = 1.38064852e-23
#: Vacuum permeability [T m / A].
MU0 = 4e-7 * math.pi


def _positive_finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return v


@dataclass(frozen=True)
class ParticleParameters:
    """Physical parameters of one immobilised single-domain particle.

    Parameters
    ----------
    diameter_m : float
        Core diameter D [m] (> 0).
    anisotropy_Jm3 : float
        Uniaxial anisotropy constant K [J/m³] (>= 0).
    alpha : float
        Gilbert damping α (> 0).
    saturation_magnetization_Am : float
        Ms [A/m] (> 0).
    temperature_K : float
        T [K] (> 0).
    gamma : float
        Gyromagnetic ratio γ [rad s⁻¹ T⁻¹] (> 0).
    boltzmann_JK : float
        kB [J/K]; the default is the MNPDynamics value.
    hydrodynamic_diameter_m : float, optional
        Hydrodynamic diameter D_h [m] of the particle with its shell (>= D); Brownian
        rotation only. Default (None): the core diameter.
    viscosity_Pas : float
        Dynamic viscosity η [Pa s] of the carrier liquid (> 0); Brownian rotation only.
        Default 1e-3 (water near 20 °C).

    Raises
    ------
    ValueError
        Naming the offending parameter.
    """

    diameter_m: float
    anisotropy_Jm3: float = 0.0
    alpha: float = 0.1
    saturation_magnetization_Am: float = 474e3
    temperature_K: float = 293.0
    gamma: float = 1.75e11
    boltzmann_JK: float = BOLTZMANN_JK
    hydrodynamic_diameter_m: float | None = None
    viscosity_Pas: float = 1e-3

    def __post_init__(self):
        for name in ("diameter_m", "alpha", "saturation_magnetization_Am", "temperature_K", "gamma", "boltzmann_JK"):
            object.__setattr__(self, name, _positive_finite(name, getattr(self, name)))
        object.__setattr__(self, "viscosity_Pas", _positive_finite("viscosity_Pas", self.viscosity_Pas))
        dh = self.diameter_m if self.hydrodynamic_diameter_m is None else self.hydrodynamic_diameter_m
        dh = _positive_finite("hydrodynamic_diameter_m", dh)
        if dh < self.diameter_m * (1.0 - 1e-12):  # the shell encloses the core
            raise ValueError(f"hydrodynamic_diameter_m must be >= the core diameter_m {self.diameter_m!r}, got {dh!r}")
        object.__setattr__(self, "hydrodynamic_diameter_m", dh)
        k = self.anisotropy_Jm3
        try:
            kf = float(k)
        except (TypeError, ValueError):
            raise ValueError(f"anisotropy_Jm3 must be a real number, got {k!r}") from None
        if not math.isfinite(kf) or kf < 0.0:
            raise ValueError(f"anisotropy_Jm3 must be finite and >= 0, got {k!r}")
        object.__setattr__(self, "anisotropy_Jm3", kf)

    # ---- derived quantities -------------------------------------------------------
    @property
    def volume_m3(self) -> float:
        """Core volume Vc = π D³ / 6 [m³]."""
        return math.pi * self.diameter_m**3 / 6.0

    @property
    def moment_Am2(self) -> float:
        """Magnetic moment m0 = Ms Vc [A m²]."""
        return self.saturation_magnetization_Am * self.volume_m3

    @property
    def thermal_energy_J(self) -> float:
        """kB T [J]."""
        return self.boltzmann_JK * self.temperature_K

    @property
    def gamma_tilde(self) -> float:
        """γ̃ = γ / (1 + α²) [rad s⁻¹ T⁻¹]."""
        return self.gamma / (1.0 + self.alpha**2)

    @property
    def tau_s(self) -> float:
        """Brown's free-diffusion time τ = Ms Vc / (2 kB T γ̃ α) [s]."""
        return self.moment_Am2 / (2.0 * self.thermal_energy_J * self.gamma_tilde * self.alpha)

    @property
    def xi_per_tesla(self) -> float:
        """ξ per tesla: Ms Vc / (kB T) [1/T]; ξ = xi_per_tesla · |µ0 H|."""
        return self.moment_Am2 / self.thermal_energy_J

    @property
    def sigma(self) -> float:
        """Reduced anisotropy barrier σ = K Vc / (kB T) (dimensionless)."""
        return self.anisotropy_Jm3 * self.volume_m3 / self.thermal_energy_J

    @property
    def p1(self) -> float:
        """Precession coefficient p1 = γ̃ [1/(s T)]."""
        return self.gamma_tilde

    @property
    def p2(self) -> float:
        """Field damping coefficient p2 = α γ̃ [1/(s T)]."""
        return self.alpha * self.gamma_tilde

    @property
    def p3(self) -> float:
        """Anisotropy precession coefficient p3 = 2 γ̃ K / Ms [1/s]."""
        return 2.0 * self.gamma_tilde * self.anisotropy_Jm3 / self.saturation_magnetization_Am

    @property
    def p4(self) -> float:
        """Anisotropy damping coefficient p4 = α p3 [1/s]."""
        return self.alpha * self.p3

    @property
    def hydrodynamic_volume_m3(self) -> float:
        """Hydrodynamic volume V_h = π D_h³ / 6 [m³]."""
        return math.pi * self.hydrodynamic_diameter_m**3 / 6.0

    @property
    def brown_time_s(self) -> float:
        """Brownian rotational relaxation time τ_B = 3 η V_h / (kB T) [s].

        The rotational diffusion constant of a sphere is kB T / (6 η V_h) (Stokes drag
        8πηr³); the mean moment relaxes at twice that rate in zero field.
        """
        return 3.0 * self.viscosity_Pas * self.hydrodynamic_volume_m3 / self.thermal_energy_J

    def neel_time_s(self) -> float:
        """Zero-field integral relaxation time of the longitudinal moment [s].

        Exact quadrature of the axially symmetric problem (Coffey et al., Phys. Rev. E 49
        (1994) 1869); equals ``tau_s`` at K = 0 and approaches Brown's high-barrier
        asymptote for large σ.
        """
        return self.tau_s * integral_relaxation_time(self.sigma)

    def as_dict(self) -> dict:
        """Plain-dict view (for provenance records)."""
        return {
            "diameter_m": self.diameter_m,
            "anisotropy_Jm3": self.anisotropy_Jm3,
            "alpha": self.alpha,
            "saturation_magnetization_Am": self.saturation_magnetization_Am,
            "temperature_K": self.temperature_K,
            "gamma": self.gamma,
            "boltzmann_JK": self.boltzmann_JK,
            "hydrodynamic_diameter_m": self.hydrodynamic_diameter_m,
            "viscosity_Pas": self.viscosity_Pas,
        }


@dataclass(frozen=True)
class PhysicsParameters:
    """The particle physics besides core diameter and anisotropy, as one typed object.

    System matrices, dictionaries and the estimators vary D and K over a grid; everything
    else about the particles and their surroundings is held here, validated once, and
    recorded whole in provenance and cache fingerprints (so a value passed explicitly and
    the same value taken by default give the same fingerprint).

    Parameters
    ----------
    alpha : float
        Gilbert damping α (> 0).
    saturation_magnetization_Am : float
        Ms [A/m] (> 0).
    temperature_K : float
        T [K] (> 0).
    gamma : float
        Gyromagnetic ratio γ [rad s⁻¹ T⁻¹] (> 0).
    hydrodynamic_diameter_m : float, optional
        Hydrodynamic diameter D_h [m] of every particle type (Brownian rotation only);
        None (default): each particle's core diameter.
    viscosity_Pas : float
        Dynamic viscosity η [Pa s] of the carrier liquid (Brownian rotation only; > 0,
        default 1e-3, water).

    Examples
    --------
    >>> from mdf_neel.physics import PhysicsParameters
    >>> physics = PhysicsParameters(temperature_K=310.0)
    >>> physics.keywords()["temperature_K"], physics.keywords()["alpha"]
    (310.0, 0.1)
    >>> round(physics.particle(22e-9, 1100.0).sigma, 3)  # the reduced barrier at 310 K
    1.433
    >>> PhysicsParameters.coerce(None, alpha=0.05) == PhysicsParameters(alpha=0.05)
    True
    """

    alpha: float = 0.1
    saturation_magnetization_Am: float = 474e3
    temperature_K: float = 293.0
    gamma: float = 1.75e11
    hydrodynamic_diameter_m: float | None = None
    viscosity_Pas: float = 1e-3

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "hydrodynamic_diameter_m" and value is None:
                continue  # the core diameter of each particle type
            object.__setattr__(self, f.name, _positive_finite(f"PhysicsParameters.{f.name}", value))

    @classmethod
    def coerce(cls, value=None, **keywords) -> "PhysicsParameters":
        """A PhysicsParameters from ``None``, an instance or a mapping, with keyword overrides.

        Raises
        ------
        TypeError
            For a value of another type or an unknown keyword (named).
        """
        if value is None:
            base = cls()
        elif isinstance(value, cls):
            base = value
        elif isinstance(value, Mapping):
            base = cls(**cls._known(dict(value)))
        else:
            raise TypeError(f"physics must be a PhysicsParameters or a mapping, got {type(value).__name__}")
        given = cls._known({k: v for k, v in keywords.items() if v is not None})
        return replace(base, **given) if given else base

    @classmethod
    def _known(cls, values: dict) -> dict:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise TypeError(f"unknown physics parameter(s) {unknown}; expected some of {sorted(names)}")
        return values

    def keywords(self) -> dict:
        """All fields as keywords of :func:`mdf_neel.physics.mean_magnetization` (also the
        record written to provenance and fingerprints)."""
        return asdict(self)

    def particle(self, diameter_m: float, anisotropy_Jm3: float = 0.0) -> ParticleParameters:
        """The :class:`ParticleParameters` of one particle type with these physics."""
        return ParticleParameters(diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3, **self.keywords())


def integral_relaxation_time(sigma: float, n_nodes: int = 400) -> float:
    """Zero-field integral relaxation time τ_int/τ of the axially symmetric problem.

    ``τ_int/τ = (2/⟨u²⟩) (1/(4σ² Z)) ∫_{-1}^{1} (e^{σz²} − e^{σ})² e^{−σz²}/(1−z²) dz``
    with ``Z = ∫ e^{σu²} du`` (W. T. Coffey, D. S. F. Crothers, Yu. P. Kalmykov, E. S. Massawe,
    J. T. Waldron, Phys. Rev. E 49 (1994) 1869). Evaluated with Gauss–Legendre in a
    scaled form that is stable for σ up to several hundred.

    Parameters
    ----------
    sigma : float
        Reduced barrier σ = K Vc / (kB T) (>= 0).
    n_nodes : int
        Gauss–Legendre nodes.

    Returns
    -------
    float
        τ_int / τ (dimensionless, 1 at σ = 0).
    """
    s = float(sigma)
    if not math.isfinite(s) or s < 0:
        raise ValueError(f"sigma must be finite and >= 0, got {sigma!r}")
    if s < 1e-8:
        return 1.0
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    # numerator: (e^{σz²} − e^{σ})² e^{−σz²} / (1−z²) = e^{2σ} (1 − e^{−σ(1−z²)})² e^{−σz²}/(1−z²)
    one_m = 1.0 - x * x
    g = -np.expm1(-s * one_m)
    num = np.sum(w * g * g / one_m * np.exp(-s * x * x))  # times e^{2σ}
    # Z and ⟨u²⟩ scaled by e^{σ}:  ∫ e^{σ(u²−1)} du
    e = np.exp(s * (x * x - 1.0))
    z_sc = np.sum(w * e)
    u2 = np.sum(w * x * x * e) / z_sc
    # τ_int/τ = (2/⟨u²⟩)(1/(4σ²)) e^{2σ} num / (e^{σ} z_sc) = ... e^{σ}
    return float((2.0 / u2) / (4.0 * s * s) * num / z_sc * math.exp(s))
