"""Azimuthal truncation policy: which orders |m| <= M (about the easy axis) to keep, when
truncating pays, and the verification that raises M for the whole batch when needed."""

from __future__ import annotations

import logging
import math

import numpy as np

from ..particles import ParticleParameters
from .discretisation import NeelDiscretisation

__all__ = [
    "initial_azimuthal_order",
    "next_azimuthal_order",
    "truncation_pays",
    "azimuthal_check_fields",
    "solve_truncated",
]

logger = logging.getLogger("mdf_neel.physics")


#: largest relative L2 difference of m̄ (per rtol) between |m| <= M and |m| <= M + step on the
#: verified members: the truncation's share of the error budget
AZIMUTHAL_ERROR_FRACTION = 0.2
#: orders added for the reference solve of the verification
AZIMUTHAL_VERIFY_STEP = 4
#: verified members: the largest azimuthal tails rank them, a random one guards the ranking
AZIMUTHAL_VERIFY_WORST = 2
AZIMUTHAL_VERIFY_RANDOM = 1
#: static screen (per rtol): a lower bound on M, since the switching density needs more
AZIMUTHAL_STATIC_PER_RTOL = 0.1
#: truncate only when a step costs at most this fraction of an untruncated one
AZIMUTHAL_MAX_COST = 0.5
#: after a failed verification, the next order is tried while its step costs at most this
#: fraction of an untruncated one (else all orders)
AZIMUTHAL_ESCALATION_MAX_COST = 0.8


def azimuthal_check_fields(fields_frame, particle: ParticleParameters, count: int = 4):
    """Fields (k, 3) [T] (easy-axis frame) at which :func:`initial_azimuthal_order` screens
    the truncation: the ``count`` samples whose wells tilt most from the axis (largest
    |B⊥| / (B_K − |B∥|), B_K = 2K/Ms, then largest |B⊥|) and the largest |B|, each also
    with B∥ reversed — the metastable well at B has the shape of the stable well at
    (B⊥, −B∥) (180° rotation about x̂), so both wells are tested as the dominant one."""
    b = np.asarray(fields_frame, dtype=float).reshape(-1, 3)
    bperp = np.hypot(b[:, 0], b[:, 1])
    bpar = np.abs(b[:, 2])
    bk = 2.0 * particle.anisotropy_Jm3 / particle.saturation_magnetization_Am
    gap = bk - bpar
    q = np.where(gap > 0, bperp / np.where(gap > 0, gap, 1.0), np.inf)
    order = np.lexsort((-bperp, -q))  # q descending, then |B⊥| descending
    pick = list(order[:count]) + [int(np.argmax(np.linalg.norm(b, axis=1)))]
    pts = b[np.unique(pick)]
    flipped = pts * np.array([1.0, 1.0, -1.0])
    return np.concatenate([pts, flipped])


def _step_cost(N: int, M: int) -> float:
    """Relative cost of one banded step (LU ~ n·kl², solves ~ n·kl) with |m| <= M: the
    degree-major band is ~4M+2, the untruncated m-major one ~2N+1."""
    if M >= N:
        n, kl = (N + 1) ** 2, 2 * N + 1
    else:
        n, kl = (N + 1) * (2 * M + 1) - M * (M + 1), 4 * M + 2
    return n * kl * (kl + 8.0)


def truncation_pays(N: int, M: int) -> bool:
    """Whether |m| <= M is worth it at degree N (:data:`AZIMUTHAL_MAX_COST`)."""
    return M < N and _step_cost(N, M) <= AZIMUTHAL_MAX_COST * _step_cost(N, N)


def next_azimuthal_order(N: int, M: int) -> int:
    """The next order to use when the truncation at M fails its verification:
    M + AZIMUTHAL_VERIFY_STEP while that step costs at most
    :data:`AZIMUTHAL_ESCALATION_MAX_COST` of an untruncated one, else N (no truncation)."""
    M2 = M + AZIMUTHAL_VERIFY_STEP
    return M2 if (M2 < N and _step_cost(N, M2) <= AZIMUTHAL_ESCALATION_MAX_COST * _step_cost(N, N)) else N


def initial_azimuthal_order(particle: ParticleParameters, N: int, fields_frame, rtol: float = 1e-4) -> int:
    """First azimuthal order M (|m| <= M, easy-axis frame) to try at degree N.

    With a strong barrier the density is two sharp peaks near ±ẑ, tilted by the
    transverse field: its harmonics decay fast in |m| although N must be large. Keeping
    |m| <= M (degree-major order) shrinks the unknowns from (N+1)² to ~(N+1)(2M+1) and
    the band from ~2N to ~4M. The first guess is ``max(M_static, ceil(7 + 1.6 √σ))``
    (the orders needed at D = 22 and 28 nm, K = 9000 J/m³), where M_static is the
    smallest order whose truncated discrete equilibria at
    :func:`azimuthal_check_fields` agree with the untruncated ones to
    ``AZIMUTHAL_STATIC_PER_RTOL · rtol`` in m̄ — a lower bound: the solver then verifies
    the truncation on the worst-indicated members (:func:`solve_truncated`) and raises M
    when needed. Returns N (no truncation) when no order that passes pays
    (:func:`truncation_pays`), e.g. for field-dominated, weakly anisotropic particles.

    Parameters
    ----------
    particle : ParticleParameters
    N : int
        Harmonic degree.
    fields_frame : numpy.ndarray, shape (..., 3)
        The fields of the run in the easy-axis frame [T].
    rtol : float
        Target relative accuracy of m̄.

    Returns
    -------
    int
        M in [1, N].
    """
    N = int(N)
    guess = int(math.ceil(7.0 + 1.6 * math.sqrt(max(particle.sigma, 0.0))))
    if not truncation_pays(N, max(1, guess)):
        return N
    pts = azimuthal_check_fields(fields_frame, particle)
    full = NeelDiscretisation.build(particle, N)
    ref = full.moments(full.equilibrium(pts))
    tol = AZIMUTHAL_STATIC_PER_RTOL * rtol
    M = 1
    while truncation_pays(N, M):
        disc = NeelDiscretisation.build(particle, N, M)
        if np.max(np.linalg.norm(disc.moments(disc.equilibrium(pts)) - ref, axis=1)) <= tol:
            M = max(M, guess)
            return M if truncation_pays(N, M) else N
        M += 1
    return N


def solve_truncated(solve, verify_solve, disc, particle, N, verify, rtol, nb, seed=0):
    """``solve(disc, members, tail)`` (a dict, "m" the moments (k, P, 3), other per-member
    arrays) for the whole batch at the azimuthal order ``disc.M``; with ``verify`` and
    M < N, the truncation is checked: the AZIMUTHAL_VERIFY_WORST members with the largest
    azimuthal tail and AZIMUTHAL_VERIFY_RANDOM random ones are solved in full with
    AZIMUTHAL_VERIFY_STEP more orders by ``verify_solve(disc, members)`` (the full model) and
    must agree to AZIMUTHAL_ERROR_FRACTION·rtol (relative L2 of m̄); otherwise the batch
    is solved again at :func:`next_azimuthal_order` and checked again. The verified
    members keep their (more accurate) verification solves. Only members with a full
    solve (tail >= 0) are verified: for the reduced method, its training and
    verification members. Adds ``azimuthal_resolution``, ``azimuthal_verification_error``
    and ``azimuthal_tail`` (per member) and ``n_coefficients``; work of rejected
    attempts is added to ``steps``, ``periods`` and ``lu_factorisations``."""
    rng = np.random.default_rng(seed)
    M = disc.M
    cost = {}
    all_members = np.arange(nb)
    while True:
        d = disc if disc.M == M else NeelDiscretisation.build(particle, N, M)
        tail = np.zeros(nb)
        out = solve(d, all_members, tail)
        for key in ("steps", "periods", "lu_factorisations"):
            if key in out:
                cost[key] = cost.get(key, 0) + out[key]
        out["n_coefficients"] = d.n
        out["azimuthal_resolution"] = np.full(nb, M)
        out["azimuthal_tail"] = tail
        out["azimuthal_verification_error"] = 0.0
        if not verify or M >= N:
            break
        cand = np.nonzero(tail >= 0.0)[0]
        worst = cand[np.argsort(-tail[cand], kind="stable")][:AZIMUTHAL_VERIFY_WORST]
        rest = np.setdiff1d(cand, worst)
        pick = np.concatenate([worst, rng.choice(rest, size=min(AZIMUTHAL_VERIFY_RANDOM, rest.size), replace=False)])
        pick = np.sort(pick.astype(np.int64))
        if pick.size == 0:  # no member with a full solve to verify on
            logger.warning("Néel FP: |m| <= %d not verified (no full solve)", M)
            break
        M_v = min(M + AZIMUTHAL_VERIFY_STEP, N)  # a reference: need not pay as an order
        d_v = NeelDiscretisation.build(particle, N, M_v)
        vs = verify_solve(d_v, pick)
        for key in ("steps", "periods", "lu_factorisations"):
            if key in vs and key in cost:
                cost[key][pick] += vs[key]
        ref = vs["m"]
        err = np.linalg.norm(out["m"][pick] - ref, axis=(1, 2)) / np.maximum(np.linalg.norm(ref, axis=(1, 2)), 1e-300)
        out["azimuthal_verification_error"] = float(err.max(initial=0.0))
        if err.max(initial=0.0) <= AZIMUTHAL_ERROR_FRACTION * rtol:
            out["m"][pick] = ref
            logger.info(
                "Néel FP: |m| <= %d verified against |m| <= %d on %d member(s): max difference %.2e",
                M,
                M_v,
                pick.size,
                float(err.max(initial=0.0)),
            )
            break
        logger.info(
            "Néel FP: |m| <= %d differs from |m| <= %d by %.2e (> %.1e); solving the batch again with %s",
            M,
            M_v,
            float(err.max()),
            AZIMUTHAL_ERROR_FRACTION * rtol,
            f"|m| <= {next_azimuthal_order(N, M)}" if next_azimuthal_order(N, M) < N else "all orders",
        )
        M = next_azimuthal_order(N, M)
    out.update(cost)
    return out
