"""Orientation imaging end to end on a small grid with the equilibrium model.

Calibrations: SYNTHETIC matrices (noise 1e-3 of the peak, background frames) of an
anisotropic-equilibrium particle at four easy-axis angles on a 7 x 7 offset grid. The
phantom: one disc of particles with one easy axis, measured with the same receive chain
and the calibrations' absolute noise. The reconstruction must put the particles where the
disc is and recover their axis; with noise-free data it must do so almost exactly.
"""

import numpy as np
import pytest

from mdf_neel.reconstruct import (
    ReconstructionSettings,
    RowSelection,
    axial_difference_deg,
    orientation_map,
    reconstruct,
)
from mdf_neel.simulate import PhantomSample, disk_phantom, phantom_measurement, preset
from mdf_neel.simulate.synthetic import synthetic_calibration

SEQ, GRID = preset("paper-2d", grid=(7, 7))
BINS = np.arange(0, 300)
POP = [(22e-9, 1100.0, 1.0)]
ANGLES = [0.0, 45.0, 90.0, 135.0]
SETTINGS = ReconstructionSettings(iterations=100, lambda_rel=1e-4, weighting="none", rows=RowSelection(min_snr=3.0))


@pytest.fixture(scope="module")
def calibrations():
    return {
        noise: synthetic_calibration(
            SEQ,
            GRID,
            angles_deg=ANGLES,
            population=POP,
            model="anisotropic-equilibrium",
            frequencies=BINS,
            noise_level=noise,
            seed=3,
        )
        for noise in (0.0, 1e-3)
    }


def _phantom_and_measurement(angle, sigma):
    ph = disk_phantom(GRID, [PhantomSample((-4e-3, 2e-3), 6e-3, 1.0, angle)])
    meas = phantom_measurement(
        SEQ,
        ph,
        population=POP,
        model="anisotropic-equilibrium",
        frequencies=BINS,
        noise_sigma=sigma,
        background_corrected=True,
        seed=11,
    )
    return ph, meas


@pytest.mark.parametrize("angle", [45.0, 135.0])
def test_single_orientation_phantom_is_recovered(calibrations, angle):
    sms = calibrations[1e-3]
    ph, meas = _phantom_and_measurement(angle, sms[0].provenance["noise_sigma"])
    rec = reconstruct(sms, meas, SETTINGS)
    occupied = ph.concentration.reshape(GRID.size[1], GRID.size[0]) > 0
    assert occupied.sum() == 5
    om = rec.orientation()
    total = om.total[0, 0]
    # position: the concentration sits in the disc (the rest is at the noise level)
    assert np.all(total[occupied] > 0.8) and np.all(total[occupied] < 1.2)
    assert np.max(total[~occupied]) < 0.3
    # orientation: per position and of the whole disc, in degrees modulo 180
    per_position = axial_difference_deg(om.angle_deg[0, 0][occupied], angle)
    assert np.max(per_position) < 6.0
    whole = orientation_map(rec.concentration[0, :, 0][:, occupied].sum(axis=-1), ANGLES)
    assert axial_difference_deg(whole.angle_deg, angle) < 3.0
    assert whole.coherence > 0.6


def test_noise_free_data_are_recovered_almost_exactly(calibrations):
    sms = calibrations[0.0]
    ph, meas = _phantom_and_measurement(45.0, 0.0)
    rec = reconstruct(sms, meas, ReconstructionSettings(iterations=300, lambda_rel=1e-6, weighting="none"))
    truth = np.zeros((4, GRID.offsets_T.shape[0]))
    truth[1] = ph.concentration
    err = np.linalg.norm(rec.concentration[0].reshape(4, -1) - truth) / np.linalg.norm(truth)
    assert err < 0.02  # 20 sweeps leave about 0.1, 300 sweeps 0.004
    assert rec.residual[0] < 5e-3
