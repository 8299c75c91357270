"""Newton–Krylov shooting of periodic steady states: batched GMRES on I − Φ for a linear
period map Φ (a replayed step sequence), with the corrected period's outputs combined by
linearity. Shared by the full and the reduced model."""

from __future__ import annotations

import numpy as np

__all__ = ["batched_gmres", "linear_shooting"]


def batched_gmres(matvec, rhs, tol, maxiter):
    """Solve matvec(x) = rhs for a batch (nb, n) with unrestarted GMRES, each member to
    ``‖r‖ <= tol[b]``. matvec takes (k, n) and an index array of active members.

    Returns (x, iterations, coefficients): x[b] = Σ_j coefficients[b, j] v_j, where v_j is
    the vector the j-th matvec call received for member b (coefficients (nb, maxiter),
    zero beyond the member's last call)."""
    nb, n = rhs.shape
    beta = np.linalg.norm(rhs, axis=1)
    x = np.zeros_like(rhs)
    coefficients = np.zeros((nb, maxiter))
    active = np.nonzero(beta > tol)[0]
    if active.size == 0:
        return x, 0, coefficients
    m = maxiter
    V = np.zeros((nb, m + 1, n))
    H = np.zeros((nb, m + 1, m))
    V[:, 0] = rhs / np.where(beta > 0, beta, 1.0)[:, None]
    done = np.zeros(nb, dtype=bool)
    done[beta <= tol] = True
    kdone = np.zeros(nb, dtype=int)
    its = 0
    for j in range(m):
        act = np.nonzero(~done)[0]
        if act.size == 0:
            break
        its += 1
        w = matvec(V[act, j], act)
        for i in range(j + 1):  # modified Gram-Schmidt
            hij = np.einsum("bn,bn->b", w, V[act, i])
            H[act, i, j] = hij
            w -= hij[:, None] * V[act, i]
        hn = np.linalg.norm(w, axis=1)
        H[act, j + 1, j] = hn
        V[act, j + 1] = w / np.where(hn > 0, hn, 1.0)[:, None]
        for a in act:
            e1 = np.zeros(j + 2)
            e1[0] = beta[a]
            yv, *_ = np.linalg.lstsq(H[a, : j + 2, : j + 1], e1, rcond=None)
            res = np.linalg.norm(H[a, : j + 2, : j + 1] @ yv - e1)
            if res <= tol[a] or H[a, j + 1, j] == 0 or j == m - 1:
                x[a] = yv @ V[a, : j + 1]
                coefficients[a, : j + 1] = yv
                done[a] = True
                kdone[a] = j + 1
    return x, its, coefficients


def linear_shooting(period_map, residual, tol, maxiter=40):
    """Newton–Krylov shooting for a linear period map Φ (a replayed step sequence).

    Solves (I − Φ) δ = residual (= y(T) − y(0)) by GMRES and returns δ with the period
    map's outputs for δ, combined from those of the GMRES vectors by linearity, so that
    the corrected period needs no further run: y(0) + δ ends at y(T) + Φδ, and every
    recorded quantity linear in the state (m̄ at the samples) is that of y(0) plus δ's.

    Parameters
    ----------
    period_map : callable
        ``period_map(v, idx) -> (phi_v, linear, bounds)``: v (k, n) the vectors for the
        members ``idx`` (positions in ``residual``); phi_v (k, n) = Φv; ``linear`` a
        tuple of arrays (k, ...) linear in v; ``bounds`` a tuple of non-negative arrays
        (k,) that are seminorms of the trajectory from v (a running maximum of a norm).
    residual : ndarray, shape (nb, n)
        At least one member above its ``tol`` (the callers shoot only such members), so
        that ``period_map`` is called and the output shapes are known.
    tol : ndarray, shape (nb,)
        GMRES tolerance on ‖(I − Φ) δ − residual‖ per member.

    Returns
    -------
    delta : ndarray, shape (nb, n)
    phi_delta : ndarray, shape (nb, n)
    linear : tuple
        Σ_j c_j linear_j, the outputs for δ, each of shape (nb, ...).
    bounds : tuple
        Σ_j |c_j| bounds_j, shape (nb,) each: bounds on δ's seminorms (triangle
        inequality), to add to those of y(0)'s trajectory.
    """
    calls = []

    def matvec(v, act):
        phi_v, linear, bounds = period_map(v, act)
        calls.append((act, phi_v, linear, bounds))
        return v - phi_v

    delta, _, coef = batched_gmres(matvec, residual, tol=tol, maxiter=maxiter)
    phi_delta = np.zeros_like(residual)
    linear = bounds = ()
    for j, (act, phi_v, lin_j, bnd_j) in enumerate(calls):
        c = coef[act, j]
        if j == 0:
            nb = residual.shape[0]
            linear = tuple(np.zeros((nb,) + a.shape[1:]) for a in lin_j)
            bounds = tuple(np.zeros(nb) for _ in bnd_j)
        phi_delta[act] += c[:, None] * phi_v
        for acc, a in zip(linear, lin_j):
            acc[act] += c.reshape((-1,) + (1,) * (a.ndim - 1)) * a
        for acc, a in zip(bounds, bnd_j):
            acc[act] += np.abs(c) * a
    return delta, phi_delta, linear, bounds
