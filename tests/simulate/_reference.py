"""Independent reference computations for the simulation tests (numpy only).

Nothing here imports mdf_neel.simulate or mdf_neel.physics: the Langevin model, the
drive field, its time derivative and the Fourier coefficients are written out from
the paper's formulas (eqs. 3, 8, 9, 11).
"""

import math

import numpy as np

KB = 1.38064852e-23
MU0 = 4e-7 * math.pi
NA = 6.02214076e23


def xi_per_tesla(diameter_m, ms=474e3, temperature_K=293.0):
    return ms * math.pi * diameter_m**3 / 6 / (KB * temperature_K)


def cosine_drive(t, amplitudes_T, frequencies_Hz):
    """B(t) and dB/dt of a cosine Lissajous drive in x and y, shapes (V, 3)."""
    b = np.zeros(t.shape + (3,))
    db = np.zeros_like(b)
    for d, (a, f) in enumerate(zip(amplitudes_T, frequencies_Hz)):
        w = 2 * math.pi * f
        b[:, d] = a * np.cos(w * t)
        db[:, d] = -a * w * np.sin(w * t)
    return b, db


def _L(z):
    z = np.asarray(z, dtype=float)
    small = np.abs(z) < 1e-4
    zs = np.where(small, 1.0, z)
    return np.where(small, z / 3 - z**3 / 45, 1 / np.tanh(zs) - 1 / zs)


def _dL(z):
    z = np.asarray(z, dtype=float)
    small = np.abs(z) < 1e-4
    zs = np.where(small, 1.0, z)
    return np.where(small, 1 / 3 - z**2 / 15, 1 / zs**2 - 1 / np.sinh(zs) ** 2)


def langevin_moment_derivative(b, db, xi):
    """d/dt of m = L(ξ|B|) B/|B| by the chain rule, shapes (..., V, 3)."""
    r = np.linalg.norm(b, axis=-1, keepdims=True)
    e = b / r
    rdot = np.sum(e * db, axis=-1, keepdims=True)
    edot = (db - e * rdot) / r
    return xi * _dL(xi * r) * rdot * e + _L(xi * r) * edot


def langevin_phi(offsets_T, diameter_m, amplitudes_T, dividers, base_Hz, V, channel_vectors, rows):
    """φ̂[c, k, o] = (1/V) Σ_n p_c·ṁ_o(t_n) e^{−2πikn/V} with the analytic derivative ṁ."""
    cycle = V / base_Hz
    t = np.arange(V) / base_Hz
    freqs = [base_Hz / d for d in dividers]
    b, db = cosine_drive(t, amplitudes_T, freqs)
    xi = xi_per_tesla(diameter_m)
    mdot = langevin_moment_derivative(b[None] + np.asarray(offsets_T)[:, None, :], db[None], xi)  # (O, V, 3)
    proj = np.einsum("cd,otd->cot", np.asarray(channel_vectors, float), mdot)
    n = np.arange(V)
    kernel = np.exp(-2j * math.pi * np.outer(rows, n) / V) / V  # explicit DFT, no FFT
    del cycle
    return np.einsum("kn,con->cko", kernel, proj)
