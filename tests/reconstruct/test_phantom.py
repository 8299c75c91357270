"""SYNTHETIC phantom measurements: signal, linearity, noise and background statistics."""

import numpy as np
import pytest

from mdf_neel.mdf import read_measurement, write_measurement
from mdf_neel.simulate import PhantomSample, disk_phantom, phantom_measurement, preset
from mdf_neel.simulate.phantom import Phantom
from mdf_neel.simulate.synthetic import bandpass_transfer_function, synthetic_calibration

SEQ, GRID = preset("paper-2d", grid=(5, 5))
BINS = np.array([16, 33, 50, 67, 84, 101, 118])
POP = [(22e-9, 1100.0, 0.7), (20e-9, 1500.0, 0.3)]
QUIET = dict(noise_level=0.0, background_level=0.0, foreground_frames=1, background_frames=0)


def _measure(phantom, **kw):
    args = dict(population=POP, model="anisotropic-equilibrium", frequencies=BINS, **QUIET)
    args.update(kw)
    return phantom_measurement(SEQ, phantom, **args)


def _point(o, c=1.0, angle=30.0):
    conc = np.zeros(25)
    conc[o] = c
    return Phantom(GRID, conc, np.full(25, angle))


def test_a_point_phantom_is_the_calibration_column():
    # the independent generator of calibrations, noise-free: column o is the unit sample at o
    sm = synthetic_calibration(
        SEQ,
        GRID,
        angles_deg=[30.0],
        population=POP,
        model="anisotropic-equilibrium",
        frequencies=BINS,
        noise_level=0.0,
        background_level=0.0,
    )[0]
    for o in (0, 12, 18):
        u = _measure(_point(o, 2.0)).foreground[0, :, :, 0]
        np.testing.assert_allclose(u, 2.0 * sm.data[:, :, o], rtol=1e-12, atol=1e-12 * np.abs(sm.data).max())


def test_signals_add_over_positions_and_angles():
    conc = np.zeros(25)
    conc[[3, 17]] = (1.0, 0.4)
    angle = np.zeros(25)
    angle[17] = 120.0
    both = _measure(Phantom(GRID, conc, angle)).foreground[0, ..., 0]
    one = _measure(_point(3, 1.0, 0.0)).foreground[0, ..., 0]
    two = _measure(_point(17, 0.4, 120.0)).foreground[0, ..., 0]
    np.testing.assert_allclose(both, one + two, rtol=1e-12, atol=1e-12 * np.abs(both).max())
    # the transfer function: the ratio to the H = 1 signal is the band-pass
    plain = _measure(Phantom(GRID, conc, angle), transfer_function=None).foreground[0, ..., 0]
    H = bandpass_transfer_function(SEQ.receiver.frequencies_Hz[BINS])
    np.testing.assert_allclose(both, plain * H[None, :], rtol=1e-12)


def test_noise_and_background_statistics(tmp_path):
    sigma, E, N = 3.0, 150, 50
    meas = _measure(
        _point(12), noise_sigma=sigma, background_level=4.0, foreground_frames=N, background_frames=E, seed=7
    )
    H = np.abs(bandpass_transfer_function(SEQ.receiver.frequencies_Hz[BINS]))
    bg = meas.background[0]  # (C, K, E)
    # E|n|^2 = sigma^2 |H|^2: the pooled estimate over C*K*E samples has relative spread 1/sqrt(C*K*E)
    ratio = np.mean(np.abs(bg - bg.mean(-1, keepdims=True)) ** 2 / (sigma * H[None, :, None]) ** 2) * E / (E - 1)
    assert abs(ratio - 1.0) < 5 / np.sqrt(bg.size)
    # the background spectrum has magnitude 4 sigma |H| in every bin (mean over E frames: noise / sqrt(E))
    expected = np.broadcast_to(4.0 * sigma * H, bg.shape[:2])
    np.testing.assert_allclose(np.abs(bg.mean(-1)), expected, atol=5 * sigma * H.max() / np.sqrt(E))
    assert meas.is_background_frame[:E].all() and not meas.is_background_frame[E:].any()
    assert meas.experiment.is_simulation and meas.provenance["synthetic"] == "yes"
    # through the file: the reader's background correction leaves the clean signal plus noise
    path = write_measurement(tmp_path / "phantom.mdf", meas)
    back = read_measurement(path, background_correction="mean")
    clean = _measure(_point(12)).foreground[0, ..., 0]
    mean_fg = back.foreground[0].mean(-1)
    tol = 5 * sigma * H.max() * np.sqrt(1 / N + 1 / E)
    assert np.max(np.abs(mean_fg - clean)) < tol


def test_stored_transfer_function_divides_out(tmp_path):
    meas = _measure(_point(12), store_transfer_function=True)
    back = read_measurement(write_measurement(tmp_path / "tf.mdf", meas), transfer_function_correction=True)
    plain = _measure(_point(12), transfer_function=None).foreground[0, ..., 0]
    keep = BINS > 0
    np.testing.assert_allclose(back.foreground[0, :, keep, 0].T, plain[:, keep], rtol=1e-5)  # complex64 on disk


def test_disk_phantoms_and_bad_input():
    ph = disk_phantom(
        GRID, [PhantomSample((0.0, 0.0), 8e-3, 1.0, 30.0), PhantomSample((-14e-3, -14e-3), 2e-3, 0.5, 90.0)]
    )
    assert ph.concentration[0] == 0.5 and ph.angle_deg[0] == 90.0
    assert ph.concentration[12] == 1.0 and ph.angle_deg[12] == 30.0
    with pytest.raises(ValueError, match="overlap"):
        disk_phantom(GRID, [PhantomSample((0.0, 0.0), 8e-3, 1.0, 0.0), PhantomSample((1e-3, 0.0), 8e-3, 1.0, 0.0)])
    with pytest.raises(ValueError, match="covers no grid point"):
        disk_phantom(GRID, [PhantomSample((1.0, 1.0), 1e-3, 1.0, 0.0)])
    with pytest.raises(ValueError, match=r"shape \(25,\)"):
        Phantom(GRID, np.ones(24), np.zeros(25))
    with pytest.raises(ValueError, match=">= 0"):
        Phantom(GRID, -np.ones(25), np.zeros(25))
