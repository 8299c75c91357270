"""The quasi-static (adiabatic) series of the Néel solver: the Debye limit, agreement with
the full model on an anisotropic, nonlinear 2-D drive, and where it refuses to apply."""

import math

import numpy as np
import pytest

from mdf_neel.physics import ParticleParameters, mean_magnetization, solve_neel
from mdf_neel.physics.neel import quasi_static


def _debye_case(n_samples=16, omega_tau=0.02, xi_amplitude=1e-4):
    """K = 0, a weak field along the easy axis at one harmonic of the period, chosen so that
    ωτ = ``omega_tau`` (τ = τ_s, the relaxation time of the l = 1 moment)."""
    p = ParticleParameters(diameter_m=14e-9, anisotropy_Jm3=0.0)
    period = 2.0 * math.pi * p.tau_s / omega_tau
    t = np.arange(n_samples) * period / n_samples
    b = np.zeros((n_samples, 3))
    b[:, 0] = xi_amplitude / p.xi_per_tesla * np.cos(2.0 * math.pi * t / period)
    return p, t, b


@pytest.mark.parametrize("rtol", [1e-2, 1e-4])
def test_weak_field_response_is_the_debye_series_truncated_at_the_chosen_order(rtol):
    # linear response of the l = 1 moment: m = (ξ/3) h / (1 + iωτ) exactly (precession and the
    # l = 2 coupling are of second order in h); the series truncated at order K misses
    # (−iωτ)^(K+1) / (1 + iωτ) of it
    omega_tau, xi_amp = 0.02, 1e-4
    p, t, b = _debye_case(omega_tau=omega_tau, xi_amplitude=xi_amp)
    m, info = mean_magnetization(
        t,
        b,
        diameter_m=p.diameter_m,
        anisotropy_Jm3=0.0,
        easy_axis=(1, 0, 0),
        method="quasi-static",
        resolution=4,
        rtol=rtol,
        return_info=True,
    )
    order = info["quasi_static_order"]
    eps_nyquist = omega_tau * len(t) / 2
    assert eps_nyquist ** (order + 1) <= rtol < eps_nyquist**order
    first_harmonic = 2.0 * np.fft.rfft(m[:, 0])[1] / len(t)
    truncated = sum((-1j * omega_tau) ** k for k in range(order + 1))
    expected = xi_amp / 3.0 * truncated
    # nonlinearity (ξ²/15 ≈ 7e-10 relative) and the table's interpolation (< 1e-9) bound it
    assert abs(first_harmonic - expected) <= 1e-8 * xi_amp / 3.0
    exact = xi_amp / 3.0 / (1.0 + 1j * omega_tau)
    remainder = abs(exact - expected) / (xi_amp / 3.0)
    assert remainder == pytest.approx(omega_tau ** (order + 1) / math.hypot(1.0, omega_tau), rel=1e-3)
    # nothing leaks into the other components or harmonics beyond the nonlinear level
    assert np.abs(m[:, 1:]).max() <= 1e-9 * xi_amp
    assert info["method"] == "quasi-static" and info["steps"].sum() == 0
    # the order was chosen from the l = 1 rate, 1/τ_s exactly at K = 0
    assert info["quasi_static_relaxation_time_s"] == pytest.approx(p.tau_s, rel=1e-10)


def test_the_two_highest_orders_are_returned_as_the_debye_series_terms():
    # the series' order-k term of the first harmonic is (−iωτ)^k (ξ/3) h exactly (see above);
    # the second member is the first shifted by a quarter period, a symmetric image that is
    # mapped, not solved
    omega_tau, xi_amp = 0.02, 1e-4
    p, t, b = _debye_case(omega_tau=omega_tau, xi_amplitude=xi_amp)
    fields = np.stack([b, np.roll(b, -len(t) // 4, axis=0)])
    m, info = mean_magnetization(
        t,
        fields,
        diameter_m=p.diameter_m,
        anisotropy_Jm3=0.0,
        easy_axis=(1, 0, 0),
        method="quasi-static",
        resolution=4,
        rtol=1e-4,
        return_info=True,
    )
    order = info["quasi_static_order"]
    assert order >= 2 and info["solved_members"] == 1
    increments = info["quasi_static_increments"]
    assert increments.shape == (2, len(t), 2, 3)
    for member, phase in ((0, 1.0), (1, 1j)):  # a quarter-period advance multiplies by e^{iπ/2}
        for slot, k in ((0, order - 1), (1, order)):
            harmonic = 2.0 * np.fft.rfft(increments[member, :, slot, 0])[1] / len(t)
            expected = phase * xi_amp / 3.0 * (-1j * omega_tau) ** k
            # relative to the term: the nonlinearity (ξ²/15 ≈ 7e-10) and the table's interpolation
            assert abs(harmonic - expected) <= 1e-8 * abs(expected)


def test_order_for_a_lower_highest_frequency_truncates_the_harmonics_below_it():
    # the caller uses only the first harmonic (a system matrix's rows): the order follows
    # from ωτ at that frequency, not at Nyquist (8x higher here), and the first harmonic
    # still holds the Debye remainder ωτ^(K+1) / sqrt(1 + (ωτ)²) <= rtol
    omega_tau, xi_amp, rtol = 0.02, 1e-4, 1e-4
    p, t, b = _debye_case(omega_tau=omega_tau, xi_amplitude=xi_amp)
    drive_Hz = 1.0 / (len(t) * (t[1] - t[0]))
    kw = dict(method="quasi-static", resolution=4, rtol=rtol)
    _, at_nyquist = solve_neel(t, b, p, (1, 0, 0), **kw)
    m, info = solve_neel(t, b, p, (1, 0, 0), highest_frequency_Hz=drive_Hz, **kw)
    order = info["quasi_static_order"]
    assert omega_tau ** (order + 1) <= rtol < omega_tau**order
    assert order < at_nyquist["quasi_static_order"]
    assert info["quasi_static_frequency_Hz"] == pytest.approx(drive_Hz, rel=1e-12)
    first_harmonic = 2.0 * np.fft.rfft(m[:, 0])[1] / len(t)
    exact = xi_amp / 3.0 / (1.0 + 1j * omega_tau)
    assert abs(first_harmonic - exact) / (xi_amp / 3.0) <= omega_tau ** (order + 1) * (1 + 1e-3)
    # a frequency the time grid cannot hold, or none, is refused by name
    for bad in (0.0, -1.0, 1.01 * 0.5 / (t[1] - t[0]), "1e5", True):
        with pytest.raises(ValueError, match="highest_frequency_Hz"):
            solve_neel(t, b, p, (1, 0, 0), highest_frequency_Hz=bad, **kw)


def _planar_batch():
    """2-D Lissajous drive (12 and 13 mT at 25 and 50 kHz, 128 samples over 40 µs) plus three
    in-plane offsets, for easy axes at 20° and 125° in the drive plane: 6 members."""
    n = 128
    period = 40e-6
    t = np.arange(n) * period / n
    drive = np.zeros((n, 3))
    drive[:, 0] = 12e-3 * np.cos(2 * np.pi * t / period)
    drive[:, 1] = 13e-3 * np.sin(2 * np.pi * 2 * t / period)
    fields, axes = [], []
    for deg in (20.0, 125.0):
        for offset in ((0.0, 0.0, 0.0), (6e-3, -4e-3, 0.0), (-9e-3, 3e-3, 0.0)):
            fields.append(drive + np.asarray(offset))
            axes.append((math.cos(math.radians(deg)), math.sin(math.radians(deg)), 0.0))
    return t, np.array(fields), np.array(axes)


def test_agrees_with_the_full_model_on_an_anisotropic_nonlinear_drive():
    # σ = 1.6, ξ up to 4; 2π f_Nyquist τ_1 = 0.097: the series' order 5 at rtol 1e-6 misses
    # about 0.097^6 = 8e-7 at the Nyquist frequency, far less at the drive's harmonics that
    # carry m̄; the full model at a per-step tolerance of 1e-9 is within about 1e-8
    t, fields, axes = _planar_batch()
    kw = dict(diameter_m=14e-9, anisotropy_Jm3=4400.0, easy_axis=axes, resolution=8, rtol=1e-6)
    m, info = mean_magnetization(t, fields, method="quasi-static", return_info=True, **kw)
    ref = mean_magnetization(t, fields, method="full", step_tolerance=1e-9, azimuthal_resolution=8, **kw)
    assert info["quasi_static_order"] >= 3
    assert np.abs(m - ref).max() < 2e-6
    # the zeroth order alone (the Boltzmann density at the instantaneous field) is far off:
    # the comparison can fail
    m0, info0 = mean_magnetization(t, fields, method="quasi-static", return_info=True, **dict(kw, rtol=0.5))
    assert info0["quasi_static_order"] == 0 and np.abs(m0 - ref).max() > 1e-3


def test_refuses_slow_particles_and_fields_out_of_the_axis_plane():
    t, fields, axes = _planar_batch()
    with pytest.raises(ValueError, match="does not apply.*needs <= 0.25"):
        mean_magnetization(t, fields, diameter_m=26e-9, anisotropy_Jm3=8500.0, easy_axis=axes, method="quasi-static")
    with pytest.raises(ValueError, match="does not apply.*does not reach rtol"):
        mean_magnetization(
            t, fields, diameter_m=14e-9, anisotropy_Jm3=4400.0, easy_axis=axes, method="quasi-static", rtol=1e-12
        )
    tilted = axes.copy()
    tilted[:, 2] = 0.3
    with pytest.raises(ValueError, match="one plane"):
        mean_magnetization(t, fields, diameter_m=14e-9, anisotropy_Jm3=4400.0, easy_axis=tilted, method="quasi-static")
    with pytest.raises(ValueError, match="steady_state"):
        mean_magnetization(
            t,
            fields,
            diameter_m=14e-9,
            anisotropy_Jm3=4400.0,
            easy_axis=axes,
            method="quasi-static",
            steady_state=False,
        )


def test_series_terms_follow_the_chain_rule():
    # f_3 has the monomials Ḃ³ (4), ḂB̈ (4) and B⃛ (2); every term's weight is its order
    term_order, exponents, src, kind, coef = quasi_static.series_terms(3)
    assert np.bincount(term_order).tolist() == [1, 2, 5, 10]
    weights = (exponents * np.repeat(np.arange(1, 4), 2)[None, :]).sum(axis=1)
    assert np.array_equal(weights, term_order)
    # each term is built from terms one order lower only
    used = kind >= 0
    assert np.all(term_order[src[used]] == np.repeat(term_order[:, None], src.shape[1], axis=1)[used] - 1)
