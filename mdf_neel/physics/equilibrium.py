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

    The integrands are entire functions of u (I0(b⊥ s), s·I1(b⊥ s) are functions of
    s² = 1 − u²) whose width is ~1/sqrt(κ). Measured worst error over 200 random (n, ξ, σ)
    against 2000 nodes: 24 nodes reach round-off (≤ 3e-13) at κ = 20, 32 nodes at κ = 60,
    48 nodes at κ = 150; the rule ``24 + 4 sqrt(κ)`` keeps a margin of ≥ 1.5× on that.
    """
    return int(min(4000, max(24, 24 + 4.0 * np.sqrt(max(kappa, 0.0)))))


def anisotropic_equilibrium(fields_T, xi_per_tesla: float, sigma: float, easy_axis, n_nodes: int | None = None):
    """Boltzmann-equilibrium mean moment with uniaxial anisotropy (normalised by m0).

    One Gauss–Legendre grid in u = n·m is shared by every sample; the work is a single
    broadcast over (samples, nodes) in chunks (milliseconds for 10⁴ samples).

    Parameters
    ----------
    fields_T : array_like, shape (..., 3)
        µ0·H in tesla.
    xi_per_tesla : float
        Ms Vc / (kB T) [1/T].
    sigma : float
        Reduced barrier K Vc / (kB T) (>= 0).
    easy_axis : array_like, shape (3,) or broadcastable to ``fields_T.shape[:-1] + (3,)``
        Easy axis direction(s) (normalised here; n and −n are equivalent), e.g. one axis
        per batch member with shape (B, 1, 3) for fields (B, T, 3).
    n_nodes : int, optional
        Gauss–Legendre nodes in u (default from :func:`boltzmann_nodes`).

    Returns
    -------
    numpy.ndarray, shape (..., 3)
    """
    b = np.asarray(fields_T, dtype=float)
    n = np.asarray(easy_axis, dtype=float)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    shape = b.shape
    flat = b.reshape(-1, 3) * xi_per_tesla  # ξ vectors
    nflat = np.broadcast_to(n, shape).reshape(-1, 3)
    bpar = np.einsum("ij,ij->i", flat, nflat)
    perp = flat - bpar[:, None] * nflat
    bperp = np.linalg.norm(perp, axis=1)
    kappa_max = float(np.max(np.abs(bpar) + bperp, initial=0.0) + 2.0 * sigma)
    q = boltzmann_nodes(kappa_max) if n_nodes is None else int(n_nodes)
    u, w = np.polynomial.legendre.leggauss(q)
    s = np.sqrt(1.0 - u * u)
    su2 = sigma * u * u
    # every row is shifted by its largest exponent (ratios unchanged, nothing overflows)
    mpar = np.empty(flat.shape[0])
    mperp = np.empty(flat.shape[0])
    step = max(1, _CHUNK * 64 // q)
    for start in range(0, flat.shape[0], step):
        sl = slice(start, start + step)
        bp = bpar[sl, None]
        bq = bperp[sl, None]
        arg = bq * s[None, :]
        expo = su2[None, :] + bp * u[None, :] + arg
        expo -= expo.max(axis=1, keepdims=True)
        e = np.exp(expo)
        e *= w[None, :]
        g0 = e * i0e(arg)
        z = g0.sum(axis=1)
        mpar[sl] = (g0 @ u) / z
        e *= i1e(arg)
        mperp[sl] = (e @ s) / z
    with np.errstate(invalid="ignore", divide="ignore"):
        eperp = np.where(bperp[:, None] > 0, perp / np.where(bperp > 0, bperp, 1.0)[:, None], 0.0)
    out = mpar[:, None] * nflat + mperp[:, None] * eperp
    return out.reshape(shape)
