"""Brownian rotation of particles in a liquid, solved with the Néel discretisation.

A particle whose moment is locked to its body (the rigid-dipole limit) turns as a whole
against the viscous drag of the carrier liquid. The density f(e, t) of its direction e
on the unit sphere obeys Debye's rotational-diffusion equation with the field torque
(W. F. Brown Jr., Phys. Rev. 130 (1963) 1677; W. T. Coffey, Yu. P. Kalmykov,
"The Langevin Equation", 4th ed., World Scientific 2017, ch. 7)::

    ∂t f = 1/(2τ_B) ∇²f − 1/(2τ_B) ∇·(f ∇(ξ·e)),
    τ_B = 3 η V_h / (kB T),   ξ = Ms Vc B / (kB T)   (B = µ0·H in tesla).

The rotational diffusion constant of a sphere of hydrodynamic volume V_h is
D_r = kB T / (6 η V_h) = 1/(2τ_B) (Stokes drag 8πηr³), and the drift is the angular
velocity of the torque m × B over the same drag, Ms Vc / (6 η V_h) · ∇(B·e).

The Néel equation solved by :mod:`mdf_neel.physics.neel` is
``∂t f = ∇·((1/2τ) ∇f − b f)`` with the drift
``b = p1 B×e + p2 (e×B)×e + p3 (n·e) n×e + p4 (n·e)(e×n)×e``. Since
``(e×B)×e = B − (B·e) e = ∇(B·e)`` on the sphere, it is Brown's equation exactly when

* ``τ = τ_B``                (the diffusion term);
* ``p2 = ξ/(2 τ_B B) = Ms Vc / (6 η V_h)``   (the field drift; 2τ·p2 = Ms Vc/(kB T) as in
  the Néel model, so the equilibrium is the same Boltzmann density);
* ``p1 = 0``                 (no precession: the particle's rotation is overdamped and
  carries no gyroscopic term);
* ``p3 = p4 = 0``, σ = 0     (no orientational energy of the body besides the field;
  the internal anisotropy only holds the moment in the body).

:class:`BrownRotation` is a :class:`~mdf_neel.physics.ParticleParameters` whose derived
coefficients are these; the Néel driver reads nothing else of a particle to build its
operator (``tau_s``, ``p1``…``p4``; ``sigma``, ``xi_per_tesla`` and ``neel_time_s()`` for
the degree, the warm-up and the tables), so every Néel method, its verification and its
accuracy parameters apply unchanged, with τ_B as the time constant, except the
slow-mode model: it rests on one slowest mode separated from the others by a barrier,
and without a barrier there is none (its tables break down), so ``method="slow-mode"``
is refused and ``"auto"`` chooses between the reduced basis and the full model as the
Néel solver does for fields off the easy-axis planes. With K = 0 the
operator has no preferred axis: the solve uses one fixed frame axis,
:data:`FRAME_AXIS`, for every member, and neither the anisotropy nor the easy axis
enters the result.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from .particles import ParticleParameters

__all__ = ["BrownRotation", "brown_rotation", "solve_batch", "FRAME_AXIS"]

#: the axis of the Néel solver's frame for Brownian rotation (any axis is exact at K = 0;
#: one in the paper's drive plane keeps 2-D drives planar for the slow-mode model)
FRAME_AXIS = (1.0, 0.0, 0.0)


class BrownRotation(ParticleParameters):
    """A particle as the Néel discretisation reads it, set to Brownian rotation.

    Same fields as :class:`~mdf_neel.physics.ParticleParameters` (with
    ``anisotropy_Jm3 = 0``); the operator coefficients are those of Brown's
    rotational-diffusion equation (module docstring): ``tau_s`` is τ_B, ``p1`` = ``p3`` =
    ``p4`` = 0, ``p2`` = Ms Vc / (6 η V_h), ``sigma`` = 0. Build it with
    :func:`brown_rotation`.
    """

    @property
    def tau_s(self) -> float:
        """Free-diffusion time of the operator: τ_B = 3 η V_h / (kB T) [s]."""
        return self.brown_time_s

    @property
    def sigma(self) -> float:
        """No orientational barrier of the body: 0."""
        return 0.0

    @property
    def p1(self) -> float:
        """No precession of the body: 0."""
        return 0.0

    @property
    def p2(self) -> float:
        """Field drift Ms Vc / (6 η V_h) = ξ-per-tesla / (2 τ_B) [1/(s T)]."""
        return self.xi_per_tesla / (2.0 * self.brown_time_s)

    @property
    def p3(self) -> float:
        """No anisotropy torque on the body: 0."""
        return 0.0

    @property
    def p4(self) -> float:
        """No anisotropy torque on the body: 0."""
        return 0.0


def brown_rotation(particle: ParticleParameters) -> BrownRotation:
    """The Brownian-rotation operator of a particle (its anisotropy dropped).

    Parameters
    ----------
    particle : ParticleParameters
        Core diameter, Ms, T, kB, hydrodynamic diameter and viscosity are used; α, γ and
        K do not enter Brownian rotation.

    Returns
    -------
    BrownRotation

    Examples
    --------
    >>> from mdf_neel.physics import ParticleParameters
    >>> from mdf_neel.physics.brown import brown_rotation
    >>> p = ParticleParameters(diameter_m=20e-9, hydrodynamic_diameter_m=40e-9)
    >>> op = brown_rotation(p)
    >>> f"{op.tau_s:.3g} s", op.p1, op.sigma
    ('2.49e-05 s', 0.0, 0.0)
    >>> abs(2 * op.tau_s * op.p2 / p.xi_per_tesla - 1) < 1e-15  # same Boltzmann density
    True
    """
    if not isinstance(particle, ParticleParameters):
        raise TypeError(f"particle must be a ParticleParameters, got {type(particle).__name__}")
    values = {f.name: getattr(particle, f.name) for f in fields(ParticleParameters)}
    values["anisotropy_Jm3"] = 0.0
    return BrownRotation(**values)


def solve_batch(times, fields_T, particle: ParticleParameters, *, n_threads, max_newton, symmetry, **options):
    """Brownian rotation for a batch of field trajectories with the Néel driver.

    Inputs are validated by the caller (:func:`mdf_neel.physics.mean_magnetization`).

    Parameters
    ----------
    times : numpy.ndarray, shape (T,)
        Uniform sample times [s].
    fields_T : numpy.ndarray, shape (T, 3) or (B, T, 3)
        µ0·H [T].
    particle : ParticleParameters
    n_threads, max_newton, symmetry, **options
        As :func:`mdf_neel.physics.neel.dispatch.solve_batch` takes them (``steady_state``,
        ``initial``, ``rtol``, ``resolution``, ``tol``, ``method``,
        ``azimuthal_resolution``).

    Returns
    -------
    m : numpy.ndarray, shape like ``fields_T``
        Mean moment normalised by m0 = Ms·Vc.
    info : dict
        The Néel driver's statistics, plus ``brown_time_s`` (τ_B [s]) and ``frame_axis``.

    Raises
    ------
    ValueError
        For ``method="slow-mode"`` (no separated slow mode without a barrier).

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.physics import ParticleParameters
    >>> from mdf_neel.physics.brown import solve_batch
    >>> t = np.arange(32) * 1e-6
    >>> b = np.zeros((32, 3))
    >>> b[:, 0] = 5e-3 * np.cos(2 * np.pi * np.arange(32) / 32)
    >>> p = ParticleParameters(diameter_m=16e-9, hydrodynamic_diameter_m=25e-9)
    >>> m, info = solve_batch(t, b, p, n_threads=None, max_newton=4, symmetry=True, steady_state=True,
    ...                       initial="equilibrium", rtol=1e-3, resolution=None, tol=None, method="auto",
    ...                       azimuthal_resolution=None)
    >>> m.shape, info["method"], f"{info['brown_time_s']:.3g}"
    ((32, 3), 'full', '6.07e-06')
    """
    from .neel.dispatch import REDUCED_MIN_BATCH
    from .neel.dispatch import solve_batch as neel_batch  # numba: loaded on first use

    method = options.pop("method")
    if method == "slow-mode":
        raise ValueError(
            "method='slow-mode' is not available for model='brown': without a barrier there is no "
            "separated slowest mode; use 'auto', 'full' or 'reduced'"
        )
    if method == "auto":  # the Néel rule without the slow-mode model
        batch = 1 if fields_T.ndim == 2 else fields_T.shape[0]
        method = "reduced" if options["steady_state"] and batch >= REDUCED_MIN_BATCH else "full"

    m, info = neel_batch(
        times,
        fields_T,
        brown_rotation(particle),
        np.array(FRAME_AXIS),
        n_threads=n_threads,
        max_newton=max_newton,
        symmetry=symmetry,
        method=method,
        **options,
    )
    info["brown_time_s"] = particle.brown_time_s
    info["frame_axis"] = FRAME_AXIS
    return m, info
