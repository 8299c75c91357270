"""Equilibrium models against independent references (2-D sphere quadrature, series)."""

import numpy as np
import pytest

from tests.physics import _reference_physics as _reference  # independent references

from mdf_neel.physics import (
    ParticleParameters,
    anisotropic_equilibrium,
    integral_relaxation_time,
    langevin,
    langevin_magnetization,
    mean_magnetization,
)


def sphere_boltzmann_mean(xi_vec, sigma, n, n_theta=400, n_phi=800):
    """Independent reference (see tests/physics/_reference_physics.py)."""
    return _reference.sphere_boltzmann_mean(xi_vec, sigma, n, n_theta, n_phi)


def test_langevin_function_series_and_limits():
    x = np.array([0.0, 1e-8, 1e-4, 1e-3, 0.5, 5.0, 50.0, -2.0])
    ref = np.array(
        [
            0.0,
            1e-8 / 3,
            1e-4 / 3 - 1e-12 / 45,
            1e-3 / 3 - 1e-9 / 45,
            1 / np.tanh(0.5) - 2.0,
            1 / np.tanh(5.0) - 0.2,
            1 - 1 / 50.0,
            -(1 / np.tanh(2.0) - 0.5),
        ]
    )
    np.testing.assert_allclose(langevin(x), ref, rtol=1e-11, atol=1e-15)


def test_langevin_magnetization_direction_and_zero_field():
    p = ParticleParameters(22e-9)
    b = np.array([[0.0, 0.0, 0.0], [0.003, -0.004, 0.0]])
    m = langevin_magnetization(b, p.xi_per_tesla)
    np.testing.assert_array_equal(m[0], 0.0)
    xi = p.xi_per_tesla * 0.005
    np.testing.assert_allclose(m[1], (1 / np.tanh(xi) - 1 / xi) * np.array([0.6, -0.8, 0]), rtol=1e-13)


@pytest.mark.parametrize("case", range(12))
def test_anisotropic_equilibrium_matches_sphere_quadrature(case):
    rng = np.random.default_rng(case)
    n = rng.normal(size=3)
    n /= np.linalg.norm(n)
    xi_vec = rng.normal(size=3) * rng.uniform(0, 15)
    sigma = rng.uniform(0, 25)
    ref = sphere_boltzmann_mean(xi_vec, sigma, n)
    got = anisotropic_equilibrium(xi_vec[None, :], 1.0, sigma, n)[0]
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_anisotropic_equilibrium_k0_is_langevin_and_n_sign_invariant():
    p = ParticleParameters(25e-9)
    rng = np.random.default_rng(3)
    b = rng.normal(size=(4, 7, 3)) * 0.01
    m0 = anisotropic_equilibrium(b, p.xi_per_tesla, 0.0, (0, 1, 0))
    np.testing.assert_allclose(m0, langevin_magnetization(b, p.xi_per_tesla), atol=1e-13)
    m1 = anisotropic_equilibrium(b, p.xi_per_tesla, 7.0, (1, 2, 0))
    m2 = anisotropic_equilibrium(b, p.xi_per_tesla, 7.0, (-1, -2, 0))
    np.testing.assert_allclose(m1, m2, atol=1e-14)
    assert m1.shape == b.shape


def test_zero_field_is_zero_and_large_sigma_stable():
    m = anisotropic_equilibrium(np.zeros((2, 3)), 1e3, 300.0, (1, 0, 0))
    np.testing.assert_allclose(m, 0.0, atol=1e-14)
    # field along the axis, huge barrier: saturates without overflow
    m = anisotropic_equilibrium(np.array([[0.05, 0, 0]]), 2e3, 300.0, (1, 0, 0))
    assert np.all(np.isfinite(m)) and 0.99 < m[0, 0] <= 1.0


def test_integral_relaxation_time_table():
    # tau_int/tau of the exact integral (Coffey et al., Phys. Rev. E 49 (1994) 1869) to four
    # digits, from an independent scipy.integrate.quad evaluation of that integral
    for s, ref in [(0.5, 1.229), (2, 2.460), (5, 14.59), (10, 691.0), (20, 5.068e6), (30, 5.966e10)]:
        assert integral_relaxation_time(s) == pytest.approx(ref, rel=1e-3)


def test_mean_magnetization_equilibrium_models_shapes_and_copy():
    t = np.arange(16) * 1e-7
    b = np.zeros((2, 16, 3))
    b[..., 0] = 0.01 * np.cos(2 * np.pi * np.arange(16) / 16)
    b_copy = b.copy()
    m = mean_magnetization(t, b, diameter_m=20e-9, model="langevin")
    assert m.shape == (2, 16, 3)
    m2, info = mean_magnetization(
        t,
        b[0],
        diameter_m=20e-9,
        anisotropy_Jm3=3000,
        easy_axis=(0, 1, 0),
        model="anisotropic-equilibrium",
        return_info=True,
    )
    assert m2.shape == (16, 3) and info["model"] == "anisotropic-equilibrium"
    np.testing.assert_array_equal(b, b_copy)
    # axis perpendicular to the field: no component along y
    np.testing.assert_allclose(m2[:, 1:], 0.0, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(diameter_m=0.0), "diameter_m"),
        (dict(diameter_m=-1e-9), "diameter_m"),
        (dict(diameter_m=20e-9, anisotropy_Jm3=-1.0), "anisotropy_Jm3"),
        (dict(diameter_m=20e-9, easy_axis=(0, 0, 0)), "easy_axis"),
        (dict(diameter_m=20e-9, model="debye"), "model"),
        (dict(diameter_m=20e-9, temperature_K=0.0), "temperature_K"),
        (dict(diameter_m=20e-9, rtol=0.0), "rtol"),
        (dict(diameter_m=20e-9, step_tolerance=0.0), "step_tolerance"),
        (dict(diameter_m=20e-9, step_tolerance="tight"), "step_tolerance"),
        (dict(diameter_m=20e-9, initial="cold"), "initial"),
    ],
)
def test_bad_parameters_raise_naming_parameter(kwargs, word):
    t = np.arange(8) * 1e-7
    b = np.zeros((8, 3))
    with pytest.raises(ValueError, match=word):
        mean_magnetization(t, b, **kwargs)


def test_bad_fields_and_times_raise():
    t = np.arange(8) * 1e-7
    b = np.zeros((8, 3))
    bad = b.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="fields_T"):
        mean_magnetization(t, bad, diameter_m=20e-9, model="langevin")
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="fields_T"):
        mean_magnetization(t, bad, diameter_m=20e-9, model="langevin")
    with pytest.raises(ValueError, match="fields_T"):
        mean_magnetization(t, b[:, :2], diameter_m=20e-9, model="langevin")
    with pytest.raises(ValueError, match="times_s"):
        mean_magnetization(t[::-1], b, diameter_m=20e-9, model="langevin")
    tn = t.copy()
    tn[4] += 0.3e-7
    with pytest.raises(ValueError, match="times_s"):
        mean_magnetization(tn, b, diameter_m=20e-9, model="neel")
