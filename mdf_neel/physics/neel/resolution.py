"""The resolution rule: the spherical-harmonic degree N for a target accuracy."""

from __future__ import annotations

import math

__all__ = ["choose_resolution", "MAX_AUTO_DEGREE"]

#: largest degree the automatic rule will pick
MAX_AUTO_DEGREE = 80


#: coefficients of :func:`choose_resolution`, fitted with one degree of margin on the
#: paper's sequence (docs/neel-numerics.md, "Resolution rule")
RESOLUTION_FACTOR = 0.9
SWITCHING_LINEAR = 5.5
SWITCHING_QUADRATIC = 0.14


def choose_resolution(xi_max: float, sigma: float, rtol: float = 1e-4) -> int:
    """Spherical-harmonic degree N for a target relative accuracy.

    ``N = ceil(1 + 0.9 sqrt(κ ln(10/rtol)))`` with the larger of two widths of the density,
    ``κ = max(ξ_max + 2σ, 5.5σ + 0.14σ²)`` (ξ_max = ξ at the largest |B|):

    * ξ + 2σ is the curvature of the energy at the bottom of a well (field and anisotropy
      aligned), so the density's peak has an angular width ~1/sqrt(κ) and its harmonic
      coefficients decay like exp(−l²/(2κ)): N ~ sqrt(2κ ln(1/ε)) for an error ε (the
      static equilibria follow this to within one degree from ε = 1e-4 to 1e-6);
    * 5.5σ + 0.14σ² covers the switching over the barrier in a field that is weak against
      the anisotropy field 2K/Ms: there the moving density needs more harmonics than
      either well (at D = 22 nm, K = 9000 J/m³ the static equilibria ask for N = 20, the
      dynamics for 25–27).

    The coefficients are fitted to the degrees that 10 points of the paper's (D, K) grid
    need on its sequence (3 x 3 offsets at 30 and 90 degrees) for a spatial error of
    m̄ <= 0.1 rtol and of the frequency-weighted error <= 0.5 rtol at rtol = 1e-3, with
    about one degree of margin (``docs/neel-numerics.md``, "Resolution rule"); the
    benchmark checks the result against degree N + 8.

    Parameters
    ----------
    xi_max : float
        Largest reduced field ξ = Ms Vc |B| / (kB T) on the trajectory.
    sigma : float
        Reduced barrier K Vc / (kB T).
    rtol : float
        Target relative accuracy of m̄.

    Returns
    -------
    int
        Degree N (>= 4, at most ``MAX_AUTO_DEGREE``).

    Examples
    --------
    >>> from mdf_neel.physics import ParticleParameters, choose_resolution
    >>> p = ParticleParameters(diameter_m=22e-9, anisotropy_Jm3=9000.0)
    >>> choose_resolution(p.xi_per_tesla * 20e-3, p.sigma, rtol=1e-3)
    27
    """
    xi = max(float(xi_max), 0.0)
    sig = max(float(sigma), 0.0)
    kappa = max(xi + 2.0 * sig, SWITCHING_LINEAR * sig + SWITCHING_QUADRATIC * sig * sig, 1.0)
    n = 1.0 + RESOLUTION_FACTOR * math.sqrt(kappa * math.log(10.0 / rtol))
    return int(min(MAX_AUTO_DEGREE, max(4, math.ceil(n))))
