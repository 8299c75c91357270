"""Tests of the SYNTHETIC measured-like calibration generator (mdf_neel.simulate.synthetic)."""

import numpy as np
import pytest

from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.simulate import system_functions
from mdf_neel.simulate._system_functions import angle_system_functions
from mdf_neel.simulate.synthetic import bandpass_transfer_function, synthetic_calibration

MODEL = "anisotropic-equilibrium"  # fast; the generator is model-agnostic
BINS = np.array([0, 16, 17, 33, 50, 99, 165])  # DC, drive fundamentals, (1,1), (1,2), (3,3), (5,5)


@pytest.fixture(scope="module", autouse=True)
def memoized_physics():
    """Cache the (deterministic) physics between tests: the generator is what is tested here."""
    import mdf_neel.simulate.synthetic as synthetic

    cache = {}

    def cached(sequence, offsets_T, **kw):
        key = (
            np.asarray(offsets_T).tobytes(),
            repr(
                sorted((k, np.asarray(v).tobytes() if k in ("frequencies", "angles_deg") else v) for k, v in kw.items())
            ),
        )
        if key not in cache:
            cache[key] = angle_system_functions(sequence, offsets_T, **kw)
        return cache[key].copy()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(synthetic, "angle_system_functions", cached)
        yield


@pytest.fixture(scope="module")
def setup():
    seq = paper_2d_sequence()
    return seq, paper_2d_offsets((3, 3))


def make(setup, **kw):
    seq, grid = setup
    args = dict(angles_deg=[0.0, 45.0], population=[(22e-9, 1100.0, 1.0)], frequencies=BINS, model=MODEL, seed=7)
    args.update(kw)
    return synthetic_calibration(seq, *grid, **args)


# --- transfer function against scipy's analogue Butterworth design (independent) -------


def test_bandpass_matches_scipy_butterworth():
    from scipy import signal

    f = np.linspace(0, 1.25e6, 400)
    w = 2 * np.pi * f
    bh, ah = signal.butter(2, 2 * np.pi * 40e3, "highpass", analog=True)
    bl, al = signal.butter(2, 2 * np.pi * 600e3, "lowpass", analog=True)
    _, hh = signal.freqs(bh, ah, worN=w)
    _, hl = signal.freqs(bl, al, worN=w)
    expected = 2.5 * hh * hl * np.exp(-1j * w * 1e-6)
    got = bandpass_transfer_function(f, highpass_Hz=40e3, lowpass_Hz=600e3, delay_s=1e-6, gain=2.5)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert got[0] == 0  # DC blocked
    with pytest.raises(ValueError):
        bandpass_transfer_function(f, highpass_Hz=1e6, lowpass_Hz=1e5)


# --- generator ---------------------------------------------------------------------------------


def test_clean_signal_is_weighted_model_times_transfer_function(setup):
    seq, grid = setup
    pop = [(22e-9, 1100.0, 0.75), (18e-9, 300.0, 0.25)]
    sms = make(setup, population=pop, noise_level=0.0, background_level=0.0, angles_deg=[30.0])
    phi = [
        system_functions(
            seq,
            grid[0],
            angle_deg=30.0,
            diameter_m=d,
            anisotropy_Jm3=k,
            model=MODEL,
            frequencies=BINS,
            channels=("x", "y"),
        )
        for d, k, _ in pop
    ]
    tf = bandpass_transfer_function(seq.receiver.frequencies_Hz[BINS])
    expected = (0.75 * phi[0] + 0.25 * phi[1]) * tf[None, :, None]
    np.testing.assert_allclose(sms[0].data, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_array_equal(sms[0].background, 0)


def test_reproducible_with_seed(setup):
    a, b, c = make(setup), make(setup), make(setup, seed=8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)
        np.testing.assert_array_equal(x.background, y.background)
        np.testing.assert_array_equal(x.snr, y.snr)
    assert not np.array_equal(a[0].data, c[0].data)
    # different seeds change the noise only: the difference is at the noise scale
    sigma = a[0].provenance["noise_sigma"]
    assert np.abs(a[0].data - c[0].data).max() < 20 * sigma
    assert np.abs(a[0].data).max() > 100 * sigma


def test_background_statistics_match_noise_model(setup):
    seq, _ = setup
    E = 4000
    sm = make(
        setup, background_frames=E, background_level=3.0, noise_level=1e-3, angles_deg=[0.0], background_corrected=False
    )[0]
    sigma = sm.provenance["noise_sigma"]
    h = np.abs(bandpass_transfer_function(seq.receiver.frequencies_Hz[BINS]))
    bg = sm.background  # (C, K, E)
    mean = bg.mean(axis=-1)
    dev = bg - mean[..., None]
    live = h > 0  # DC has |H| = 0: no noise, no background there
    # constant background spectrum: |b| = background_level * sigma * |H|, identical in every frame
    np.testing.assert_allclose(
        np.abs(mean[:, live]), np.broadcast_to(3.0 * sigma * h[live], (2, live.sum())), rtol=0.05
    )
    # circular complex Gaussian with E|n|^2 = sigma^2 |H|^2: each part has variance sigma^2 |H|^2 / 2
    var_re = dev.real.var(axis=-1)[:, live]
    var_im = dev.imag.var(axis=-1)[:, live]
    target = (sigma * h[live]) ** 2 / 2
    np.testing.assert_allclose(var_re, np.broadcast_to(target, var_re.shape), rtol=0.1)
    np.testing.assert_allclose(var_im, np.broadcast_to(target, var_im.shape), rtol=0.1)
    corr = (dev.real * dev.imag).mean(axis=-1)[:, live] / target
    assert np.abs(corr).max() < 0.1  # real and imaginary parts uncorrelated
    np.testing.assert_array_equal(bg[:, ~live], 0)


def test_background_correction_flag(setup):
    raw = make(setup, background_corrected=False, angles_deg=[0.0])[0]
    cor = make(setup, background_corrected=True, angles_deg=[0.0])[0]
    assert not raw.is_background_corrected and cor.is_background_corrected
    b_hat = raw.background.mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(cor.data, raw.data - b_hat)
    # every frame loses the same estimate: the background frames keep their spread, mean 0
    np.testing.assert_allclose(cor.background, raw.background - b_hat)
    np.testing.assert_allclose(cor.provenance["subtracted_background"], b_hat[..., 0])
    np.testing.assert_array_equal(raw.snr, cor.snr)
    np.testing.assert_array_equal(raw.noise_estimate, cor.noise_estimate)


def test_snr_high_on_signal_rows_low_on_dc(setup):
    sm = make(setup, noise_level=1e-3)[0]
    k = list(sm.frequency_indices)
    assert sm.snr.shape == (2, len(BINS)) and np.all(np.isfinite(sm.snr)) and np.all(sm.snr >= 0)
    assert sm.snr[0, k.index(0)] < 3  # DC: background and noise only
    assert sm.snr[0, k.index(33)] > 100  # (1,1) in the x channel
    assert sm.snr[1, k.index(33)] > 100
    # the SNR is MPIFiles' rule applied to the raw (not background-corrected) foreground
    from mdf_neel.mdf.conversion import estimate_snr

    b_hat = sm.provenance["subtracted_background"][..., None]
    raw = sm.replace(data=sm.data + b_hat, background=sm.background + b_hat)
    np.testing.assert_allclose(estimate_snr(raw), sm.snr, rtol=1e-9)


def test_metadata_says_synthetic(setup):
    sms = make(setup)
    assert [s.easy_axis_angle_deg for s in sms] == [0.0, 45.0]
    for s in sms:
        assert s.method == "hybrid" and s.experiment.is_simulation
        assert "SYNTHETIC" in s.experiment.name and "SYNTHETIC" in s.experiment.description
        assert s.provenance["synthetic"] == "yes" and s.provenance["seed"] == 7
        assert s.num_background_frames == 10 and s.background.shape == (2, len(BINS), 10)
        np.testing.assert_array_equal(s.frequency_indices, BINS)


def test_bad_arguments(setup):
    with pytest.raises(ValueError, match="model"):
        make(setup, model="brown")
    with pytest.raises(ValueError, match="background_frames"):
        make(setup, background_frames=0)
    with pytest.raises(ValueError, match="population"):
        make(setup, population=[(22e-9, 1100.0)])
    with pytest.raises(ValueError, match="transfer_function"):
        make(setup, transfer_function="lowpass")


def test_files_validate_and_read_back(setup, tmp_path):
    from mdf_neel.mdf import read_system_matrix, validate, write_system_matrix

    for sm in make(setup):
        path = tmp_path / f"synthetic_{sm.easy_axis_angle_deg:g}.mdf"
        write_system_matrix(path, sm)
        assert validate(path) == []
        back = read_system_matrix(path)
        np.testing.assert_allclose(back.data, sm.data, rtol=1e-6, atol=1e-6 * np.abs(sm.data).max())
        np.testing.assert_allclose(back.background, sm.background, atol=1e-6 * np.abs(sm.data).max())
        np.testing.assert_allclose(back.snr, sm.snr)
        np.testing.assert_array_equal(back.frequency_indices, BINS)
        assert back.easy_axis_angle_deg == sm.easy_axis_angle_deg and back.experiment.is_simulation
        assert back.is_background_corrected
