"""Equilibrium magnetisation models: Langevin (no anisotropy) and the Boltzmann
equilibrium with uniaxial anisotropy.

Both return the mean moment normalised by m0 = Ms·Vc (a vector in the unit ball) and are
vectorised over any leading shape of the field array.

The anisotropic model integrates the Boltzmann density ``f ∝ exp(ξ·m + σ (n·m)²)`` in the
frame of the easy axis: with ``u = n·m``, ``s = sqrt(1 − u²)``, ``b∥ = ξ·n`` and
``b⊥ = |ξ − b∥ n|`` the azimuthal integral is a modified Bessel function, so

    Z    = 2π ∫ e^{σu² + b∥u} I0(b⊥ s) du
    m̄∥  = 2π/Z ∫ u e^{σu² + b∥u} I0(b⊥ s) du
    m̄⊥  = 2π/Z ∫ s e^{σu² + b∥u} I1(b⊥ s) du      (along the in-plane part of ξ)

evaluated with Gauss–Legendre in u and exponentially scaled Bessel functions (all
exponents are shifted by their maximum, so nothing overflows for ξ, σ up to ~1e4).
"""

from __future__ import annotations

import numpy as np
from scipy.special import i0e, i1e

__all__ = ["langevin", "langevin_magnetization", "anisotropic_equilibrium", "boltzmann_nodes"]

_CHUNK = 8192


def langevin(x):
    """Langevin function L(x) = coth(x) − 1/x, accurate for small |x|.

    Parameters
    ----------
    x : array_like
        Argument (dimensionless).

    Returns
    -------
    numpy.ndarray
        L(x), same shape as ``x``.
    """
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 0.02
    xs = x[small]
    # series x/3 − x³/45 + 2x⁵/945 − x⁷/4725 (truncation < 1e-16 relative below 0.02)
    x2 = xs * xs
    out[small] = xs * (1.0 / 3.0 - x2 * (1.0 / 45.0 - x2 * (2.0 / 945.0 - x2 / 4725.0)))
    xl = x[~small]
    out[~small] = 1.0 / np.tanh(xl) - 1.0 / xl
    return out


def langevin_magnetization(fields_T, xi_per_tesla: float):
    """Langevin mean moment m̄ = L(ξ|B|) B/|B| (normalised by m0).

    Parameters
    ----------
    fields_T : array_like, shape (..., 3)
        µ0·H in tesla.
    xi_per_tesla : float
        Ms Vc / (kB T) [1/T].

    Returns
    -------
    numpy.ndarray, shape (..., 3)
    """
    b = np.asarray(fields_T, dtype=float)
    norm = np.linalg.norm(b, axis=-1)
    x = xi_per_tesla * norm
    lx = langevin(x)
    # L(x)/|B| -> ξ/3 as |B| -> 0
    scale = np.where(norm > 0, lx / np.where(norm > 0, norm, 1.0), xi_per_tesla / 3.0)
    return b * scale[..., None]


def boltzmann_nodes(kappa: float) -> int:
    """Number of Gauss–Legendre nodes in u for a concentration κ = ξ + 2σ.

    The integrands are entire functions of u whose width is ~1/sqrt(κ); 200 nodes are
    exact to round-off up to κ ~ 1e3, more are used beyond.
    """
    return int(min(4000, max(200, 200 + 4.0 * np.sqrt(max(kappa, 0.0)) * 10)))


def anisotropic_equilibrium(fields_T, xi_per_tesla: float, sigma: float, easy_axis,
                            n_nodes: int | None = None):
    """Boltzmann-equilibrium mean moment with uniaxial anisotropy (normalised by m0).

    Parameters
    ----------
    fields_T : array_like, shape (..., 3)
        µ0·H in tesla.
    xi_per_tesla : float
        Ms Vc / (kB T) [1/T].
    sigma : float
        Reduced barrier K Vc / (kB T) (>= 0).
    easy_axis : array_like, shape (3,)
        Easy axis direction (normalised here; n and −n are equivalent).
    n_nodes : int, optional
        Gauss–Legendre nodes in u (default from :func:`boltzmann_nodes`).

    Returns
    -------
    numpy.ndarray, shape (..., 3)
    """
    b = np.asarray(fields_T, dtype=float)
    n = np.asarray(easy_axis, dtype=float)
    n = n / np.linalg.norm(n)
    shape = b.shape
    flat = b.reshape(-1, 3) * xi_per_tesla  # ξ vectors
    bpar = flat @ n
    perp = flat - bpar[:, None] * n
    bperp = np.linalg.norm(perp, axis=1)
    kappa_max = float(np.max(np.abs(bpar) + bperp, initial=0.0) + 2.0 * sigma)
    q = boltzmann_nodes(kappa_max) if n_nodes is None else int(n_nodes)
    u, w = np.polynomial.legendre.leggauss(q)
    s = np.sqrt(1.0 - u * u)
    mpar = np.empty(flat.shape[0])
    mperp = np.empty(flat.shape[0])
    for start in range(0, flat.shape[0], _CHUNK):
        sl = slice(start, start + _CHUNK)
        bp = bpar[sl, None]
        bq = bperp[sl, None]
        arg = bq * s[None, :]
        # log of e^{σu² + b∥u} I0(b⊥ s) without the scaled-Bessel factor
        expo = sigma * u[None, :] ** 2 + bp * u[None, :] + arg
        expo -= expo.max(axis=1, keepdims=True)
        e = np.exp(expo) * w[None, :]
        g0 = e * i0e(arg)
        g1 = e * i1e(arg)
        z = g0.sum(axis=1)
        mpar[sl] = (g0 * u[None, :]).sum(axis=1) / z
        mperp[sl] = (g1 * s[None, :]).sum(axis=1) / z
    with np.errstate(invalid="ignore", divide="ignore"):
        eperp = np.where(bperp[:, None] > 0, perp / np.where(bperp > 0, bperp, 1.0)[:, None], 0.0)
    out = mpar[:, None] * n[None, :] + mperp[:, None] * eperp
    return out.reshape(shape)
