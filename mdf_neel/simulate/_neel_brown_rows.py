"""System-matrix rows of combined Néel–Brown rotation (``model="neel-brown"``) under the row contract.

The joint density of moment and body (:mod:`mdf_neel.physics.neel_brown`) is solved by
:func:`mdf_neel.simulate.accuracy.verified_neel_magnetization`, the same verification as the
Néel model's, with two differences:

* the product basis has two degrees, L_m of the moment and the even L_n of the easy axis.
  The contract's degree is L_m; L_n keeps the gap to L_m (rounded up to even) that
  :func:`~mdf_neel.physics.neel_brown.choose_degrees` gives at the first degree, so the
  reference, ``REFERENCE_EXTRA_DEGREE`` higher in L_m, is that much higher in L_n too and
  checks both truncations (L_n = 0 stays 0 without anisotropy, where it is exact);
* the easy axis of a particle in a liquid turns with the body, so a member's rows do not
  depend on the angle it is asked for: members with the same field are solved once
  (:func:`unique_members`), and every angle of a matrix gets the same rows.

Each member costs a sparse LU of the joint operator per Rodas5P step, which fills in
almost completely: :func:`estimated_seconds` counts the steps of one period at low degrees,
measures one step's LU at the batch's size and at the reference's, and projects the batch
from them; the cost is logged before the work starts (a warning above
:data:`WARN_ABOVE_S`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import fields

import numpy as np

__all__ = [
    "orientation_degrees",
    "neel_brown_magnetization",
    "unique_members",
    "estimated_seconds",
    "WARN_ABOVE_S",
]

logger = logging.getLogger("mdf_neel.simulate")

#: moment degree of the low-degree period that measures the steps per period
SURROGATE_DEGREE = 4
#: a batch projected to take longer than this [s] is announced as a warning (else at info level)
WARN_ABOVE_S = 60.0
#: period integrations per member: two from the Boltzmann density and the sampled one (shooting,
#: where the slowest relaxation is longer than a period, adds more)
PERIODS_PER_MEMBER = 3
#: steps of the batch per step at the first step tolerance: the contract tightened it 10-20x on
#: the test sequence (steps ∝ tol^(-1/3): 10^(1/3))
TIGHTENING_STEPS = 2.15
#: steps of a reference per step at the first step tolerance: 16x tighter, 16^(1/3)
REFERENCE_STEPS = 2.52


def _particle_parameters(particle):
    """The :class:`~mdf_neel.physics.ParticleParameters` of a physics keyword dict."""
    from ..physics import ParticleParameters

    names = {f.name for f in fields(ParticleParameters)}
    return ParticleParameters(**{k: v for k, v in particle.items() if k in names})


def orientation_degrees(particle, fields_T, mean_rtol, resolution):
    """The even axis degree L_n as a function of the moment degree L_m, for ``model="neel-brown"``.

    Parameters
    ----------
    particle : dict
        Physics keywords (those of :class:`~mdf_neel.physics.ParticleParameters`) and
        ``model``.
    fields_T : numpy.ndarray, shape (B, V, 3)
        The batch's fields µ0·H [T] (their largest magnitude sets ξ_max).
    mean_rtol : float
        m̄ accuracy of the first choice.
    resolution : int
        The batch's first L_m.

    Returns
    -------
    callable or None
        ``L_n = f(L_m)``; ``None`` for the other models.

    Examples
    --------
    >>> import numpy as np
    >>> b = np.zeros((1, 4, 3)); b[..., 0] = 12e-3
    >>> f = orientation_degrees({"model": "neel-brown", "diameter_m": 16e-9, "anisotropy_Jm3": 3000.0},
    ...                         b, 1e-4, 9)
    >>> f(9), f(11), f(5)
    (8, 10, 4)
    >>> orientation_degrees({"model": "neel-brown", "diameter_m": 16e-9}, b, 1e-4, 9)(11)
    0
    >>> orientation_degrees({"diameter_m": 16e-9}, b, 1e-4, 9) is None
    True
    """
    if particle.get("model") != "neel-brown":
        return None
    from ..physics.neel_brown import choose_degrees

    p = _particle_parameters(particle)
    xi_max = p.xi_per_tesla * float(np.linalg.norm(fields_T, axis=-1).max())
    lm, ln = choose_degrees(xi_max, p.sigma, mean_rtol, resolution)
    if ln == 0:  # without anisotropy the density stays uniform in the axis: exact
        return lambda degree: 0
    gap = lm + lm % 2 - ln
    return lambda degree: max(2, degree + degree % 2 - gap)


def neel_brown_magnetization(times_s, fields_T, particle, degree, orientation_degree, tol, mean_rtol):
    """Periodic steady states of ``model="neel-brown"`` at fixed degrees and step tolerance.

    Parameters
    ----------
    times_s : numpy.ndarray, shape (V,)
        Uniform sample times of one period [s].
    fields_T : numpy.ndarray, shape (B, V, 3)
        µ0·H [T] per member.
    particle : dict
        Physics keywords (core and hydrodynamic diameter, viscosity, K, α, Ms, T, γ).
    degree, orientation_degree : int
        L_m and the even L_n.
    tol : float
        Per-step tolerance of the stepper.
    mean_rtol : float
        Periodicity tolerance of the steady state.

    Returns
    -------
    m : numpy.ndarray, shape (B, V, 3)
        m̄/m0.
    info : dict
        :func:`mdf_neel.physics.neel_brown.solve_batch`'s, plus ``model``, ``particle``,
        ``sigma``, ``xi_per_tesla`` and ``tau_s`` as
        :func:`mdf_neel.physics.mean_magnetization` reports them.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(12) * 1e-6 / 12
    >>> b = np.zeros((1, 12, 3)); b[0, :, 0] = 8e-3 * np.cos(2 * np.pi * np.arange(12) / 12)
    >>> m, info = neel_brown_magnetization(t, b, {"diameter_m": 14e-9, "hydrodynamic_diameter_m": 20e-9},
    ...                                    4, 0, 1e-6, 1e-4)
    >>> m.shape, info["model"], info["resolution"], info["orientation_resolution"]
    ((1, 12, 3), 'neel-brown', 4, 0)
    """
    from ..physics.neel_brown import solve_batch

    p = _particle_parameters(particle)
    m, info = solve_batch(
        times_s,
        fields_T,
        p,
        steady_state=True,
        initial="equilibrium",
        rtol=mean_rtol,
        resolution=int(degree),
        tol=tol,
        method="full",
        orientation_resolution=int(orientation_degree),
    )
    info.update(model="neel-brown", particle=p.as_dict(), sigma=p.sigma, xi_per_tesla=p.xi_per_tesla, tau_s=p.tau_s)
    return m, info


def unique_members(fields_T):
    """Members with distinct fields, in batch order, and where every member's result is found.

    Parameters
    ----------
    fields_T : numpy.ndarray, shape (B, V, 3)

    Returns
    -------
    first : numpy.ndarray of int, shape (U,)
        Index of the first member of each distinct field, increasing.
    inverse : numpy.ndarray of int, shape (B,)
        ``fields_T[first][inverse]`` equals ``fields_T``.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.zeros((4, 2, 3)); f[1] = f[3] = 1.0
    >>> first, inverse = unique_members(f)
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0, 1])
    """
    flat = np.ascontiguousarray(fields_T).reshape(fields_T.shape[0], -1)
    _, first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[np.asarray(inverse).reshape(-1)]


def _step_seconds(particle, degree, orientation_degree, field_T) -> float:
    """Measured wall time of the linear algebra of one Rodas5P step [s]: one LU and eight solves."""
    from ..physics.neel_brown import neel_brown_operators

    ops = neel_brown_operators(_particle_parameters(particle), int(degree), int(orientation_degree))
    r = np.ones(ops.size)
    t0 = time.perf_counter()
    lu = ops.factor(np.asarray(field_T, dtype=float), 1e-9)
    for _ in range(8):
        lu.solve(ops.apply(r, field_T), trans="T")
    return time.perf_counter() - t0


def estimated_seconds(times_s, fields_T, particle, degree, orientation, step_tolerance, checked, reference_extra):
    """Projected wall time [s] of a verified neel-brown batch, from measured steps.

    The steps per period come from one period of the member with the largest field (an
    initial-value run from the joint Boltzmann density at ``step_tolerance``) at low degrees
    (L_m ≤ :data:`SURROGATE_DEGREE`, L_n ≤ 2: seconds), whose wall time per step also gives
    the per-step overhead; one step's linear algebra (LU and eight solves) is measured at the
    batch's degrees and at the reference's. A steady state takes :data:`PERIODS_PER_MEMBER`
    periods, the contract's step tolerance ends up about 10x tighter than its first (steps ∝
    tol^(-1/3): :data:`TIGHTENING_STEPS`), and the verification solves ``checked`` members at
    16x tighter tolerances (:data:`REFERENCE_STEPS`) at the batch's degrees and at the
    reference's. Degree changes and further rounds of the contract come on top.

    Parameters
    ----------
    times_s : numpy.ndarray, shape (V,)
    fields_T : numpy.ndarray, shape (B, V, 3)
    particle : dict
        Physics keywords.
    degree : int
        L_m of the batch.
    orientation : callable
        L_n of an L_m (:func:`orientation_degrees`).
    step_tolerance : float
        The batch's first step tolerance.
    checked : int
        Members solved by the verification (0: none).
    reference_extra : int
        How much higher the reference's L_m is (the contract's ``REFERENCE_EXTRA_DEGREE``).

    Returns
    -------
    dict
        ``seconds`` (the projection), ``steps`` (per period, measured), ``step_s`` and
        ``reference_step_s`` (per step), ``unknowns`` and ``reference_unknowns``.
    """
    from ..physics.neel.sh_operators import n_coeffs
    from ..physics.neel_brown import solve_trajectory

    B = fields_T.shape[0]
    worst = int(np.argmax(np.linalg.norm(fields_T, axis=-1).max(axis=-1)))
    peak = fields_T[worst][int(np.argmax(np.linalg.norm(fields_T[worst], axis=-1)))]
    ref_degree = degree + reference_extra

    def size(lm):
        ln = orientation(lm)
        return n_coeffs(lm) * (ln // 2 + 1) * (ln + 1)

    low = (min(int(degree), SURROGATE_DEGREE), min(int(orientation(degree)), 2))
    t0 = time.perf_counter()
    _, _, run = solve_trajectory(
        times_s,
        fields_T[worst],
        _particle_parameters(particle),
        degrees_mn=low,
        tol=step_tolerance,
        steady_state=False,
        initial="equilibrium",
        rtol=step_tolerance,
    )
    steps = max(int(run["steps"]), 1)
    overhead = max((time.perf_counter() - t0) / steps - _step_seconds(particle, *low, peak), 0.0)
    step = overhead + _step_seconds(particle, degree, orientation(degree), peak)
    ref_step = overhead + _step_seconds(particle, ref_degree, orientation(ref_degree), peak) if checked else step
    period = steps * step
    seconds = PERIODS_PER_MEMBER * (
        B * period * TIGHTENING_STEPS + min(checked, B) * steps * REFERENCE_STEPS * (step + ref_step)
    )
    return {
        "seconds": seconds,
        "steps": steps,
        "step_s": step,
        "reference_step_s": ref_step,
        "unknowns": size(degree),
        "reference_unknowns": size(ref_degree),
    }
