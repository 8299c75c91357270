"""Independent reference computations for the physics tests (no mdf_neel code)."""

import numpy as np


def sphere_boltzmann_mean(xi_vec, sigma, n, n_theta=400, n_phi=800):
    """Mean of m under f ∝ exp(ξ·m + σ (n·m)²) by a 2-D product quadrature in the lab frame.

    Gauss–Legendre in cos θ times a uniform φ grid; independent of the 1-D Bessel
    formulation used by the package.
    """
    x, w = np.polynomial.legendre.leggauss(n_theta)  # cos(theta)
    phi = np.arange(n_phi) * 2 * np.pi / n_phi
    st = np.sqrt(1 - x**2)
    m = np.stack(
        [
            st[:, None] * np.cos(phi)[None, :],
            st[:, None] * np.sin(phi)[None, :],
            np.broadcast_to(x[:, None], (n_theta, n_phi)),
        ],
        axis=-1,
    )
    expo = m @ np.asarray(xi_vec) + sigma * (m @ np.asarray(n)) ** 2
    expo -= expo.max()
    f = np.exp(expo) * w[:, None]
    return (f[..., None] * m).sum(axis=(0, 1)) / f.sum()
