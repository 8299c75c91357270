"""Row weights, frames and solvers as the driver applies them."""

import dataclasses

import numpy as np
import pytest

from mdf_neel import Measurement, MDFError
from mdf_neel.reconstruct import (
    MeasurementOptions,
    ReconstructionSettings,
    absolute_lambda,
    measurement_frames,
    reconstruct,
    stack_system_matrices,
)

from .test_reconstruct_problem import BINS, SEQ, _matrix


def _noisy_measurement(rng, sms, sigma_ck, n_fg=4, n_bg=30):
    """Foreground = column 5 of block 0 + noise; background frames = noise only, std sigma (C, K)."""
    C, K = sigma_ck.shape
    N = n_fg + n_bg

    def noise():
        return (rng.normal(size=(C, K, N)) + 1j * rng.normal(size=(C, K, N))) * sigma_ck[..., None] / np.sqrt(2)

    data = noise()
    data[..., n_bg:] += sms[0].data[:, :, 5][..., None]
    return Measurement(
        data=data[None],
        frequency_indices=BINS,
        is_background_frame=np.arange(N) < n_bg,
        drive_field=SEQ.drive_field,
        receiver=sms[0].receiver,
    )


def test_row_scales_follow_the_weighting(rng):
    sms = [_matrix(rng, a) for a in (0.0, 90.0)]
    sms[1].snr[:] = 20.0
    sms[0].snr[:] = 5.0
    sigma = np.exp(rng.normal(size=(2, BINS.size)))
    meas = _noisy_measurement(rng, sms, sigma)
    A = stack_system_matrices(sms)
    base = ReconstructionSettings(iterations=5)
    rec = reconstruct(sms, meas, dataclasses.replace(base, weighting="none"))
    np.testing.assert_array_equal(rec.row_scale, 1.0)
    rec = reconstruct(sms, meas, dataclasses.replace(base, weighting="row_energy"))
    np.testing.assert_allclose(rec.row_scale.ravel(), 1 / np.linalg.norm(A, axis=1), rtol=1e-12)
    # snr: sigma_i = rms_o |a| / SNR per matrix, the median of the two (= their mean)
    rec = reconstruct(sms, meas, dataclasses.replace(base, weighting="snr"))
    rms = [np.sqrt(np.mean(np.abs(sm.data) ** 2, axis=-1)) for sm in sms]
    expected = 1 / np.median([rms[0] / 5.0, rms[1] / 20.0], axis=0)
    np.testing.assert_allclose(rec.row_scale, expected, rtol=1e-12)
    # noise: the spread of 30 background frames estimates sigma to about 1/sqrt(30) per row
    rec = reconstruct(sms, meas, dataclasses.replace(base, weighting="noise"))
    ratio = rec.row_scale * sigma
    assert np.median(np.abs(ratio - 1)) < 0.2
    assert rec.lambda_abs == pytest.approx(absolute_lambda(A, base.lambda_rel, rec.row_scale.ravel()))


def test_noise_weighting_needs_a_noise_estimate(rng):
    sms = [_matrix(rng, a) for a in (0.0, 90.0)]
    meas = _noisy_measurement(rng, sms, np.ones((2, BINS.size)), n_bg=1)
    with pytest.raises(MDFError, match="noise estimate"):
        reconstruct(sms, meas, ReconstructionSettings(weighting="noise"))


def test_frames_each_or_averaged_and_cgnr(rng):
    sms = [_matrix(rng, a) for a in (0.0, 90.0)]
    meas = _noisy_measurement(rng, sms, np.full((2, BINS.size), 1e-3))
    each = MeasurementOptions(average_frames=False, background_correction=None)
    frames = measurement_frames(meas, BINS, each)
    assert frames.shape == (4, 2 * BINS.size)
    np.testing.assert_allclose(measurement_frames(meas, BINS, MeasurementOptions())[0], frames.mean(axis=0))
    picked = measurement_frames(meas, BINS, dataclasses.replace(each, frames=(1, 3)))
    np.testing.assert_array_equal(picked, frames[[1, 3]])
    settings = ReconstructionSettings(iterations=100, lambda_rel=1e-6, weighting="none", measurement=each)
    for method in ("kaczmarz", "cgnr"):
        rec = reconstruct(sms, meas, dataclasses.replace(settings, method=method))
        assert rec.concentration.shape == (4, 2, 1, 3, 4)
        # every frame holds one unit of block 0 at position 5 (noise 1e-3 of unit-variance data)
        np.testing.assert_allclose(rec.concentration[:, 0, 0].reshape(4, -1)[:, 5], 1.0, atol=1e-2)
    with pytest.raises(MDFError, match="foreground frames"):
        measurement_frames(meas, BINS, dataclasses.replace(each, frames=(9,)))


def test_noise_estimates_of_the_matrices_come_first(rng):
    sms = [_matrix(rng, a) for a in (0.0, 90.0)]
    meas = _noisy_measurement(rng, sms, np.ones((2, BINS.size)))
    est = np.exp(rng.normal(size=(2, BINS.size)))
    # set as attributes: matrices read from files carry them where the file stores /custom/noiseEstimate
    for i, sm in enumerate(sms):
        sm.noise_estimate = est * (1 + i)
    rec = reconstruct(sms, meas, ReconstructionSettings(iterations=5, weighting="noise"))
    np.testing.assert_allclose(rec.row_scale, 1 / (1.5 * est), rtol=1e-12)


def test_background_of_an_in_memory_measurement_is_subtracted(rng):
    sms = [_matrix(rng, a) for a in (0.0, 90.0)]
    meas = _noisy_measurement(rng, sms, np.full((2, BINS.size), 1e-3))
    offset = 5.0 * np.exp(2j * np.pi * rng.random((2, BINS.size)))  # a background in every frame
    meas = meas.replace(data=meas.data + offset[None, :, :, None])
    exact = ReconstructionSettings(iterations=100, lambda_rel=1e-6, weighting="none", enforce_nonnegative=False)
    corrected = reconstruct(sms, meas, exact).concentration[0, 0, 0].ravel()
    assert corrected[5] == pytest.approx(1.0, abs=1e-2)
    raw = dataclasses.replace(exact, measurement=MeasurementOptions(background_correction=None))
    assert abs(reconstruct(sms, meas, raw).concentration[0, 0, 0].ravel()[5] - 1.0) > 0.05
