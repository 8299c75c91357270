"""Orientation maps: the axial (double-angle) mean against hand-computed cases."""

import numpy as np
import pytest

from mdf_neel.reconstruct import axial_difference_deg, orientation_map

ANGLES = np.arange(0.0, 180.0, 15.0)


@pytest.mark.parametrize("index", range(12))
def test_a_single_angle_is_recovered_with_full_coherence(index):
    c = np.zeros(12)
    c[index] = 2.5
    m = orientation_map(c, ANGLES)
    assert float(m.angle_deg) == pytest.approx(ANGLES[index], abs=1e-9)
    assert float(m.coherence) == pytest.approx(1.0, abs=1e-12)
    assert float(m.total) == 2.5


def test_the_mean_wraps_around_180_degrees():
    # 165° and 15° are 30° apart across 0°: their axial mean is 0°, not 90°
    c = np.zeros(12)
    c[1] = c[11] = 1.0
    m = orientation_map(c, ANGLES)
    assert axial_difference_deg(m.angle_deg, 0.0) < 1e-9
    assert float(m.coherence) == pytest.approx(np.cos(np.deg2rad(30.0)), abs=1e-12)


def test_orthogonal_or_uniform_axes_have_no_coherence():
    c = np.zeros(12)
    c[0] = c[6] = 1.0  # 0° and 90°
    assert float(orientation_map(c, ANGLES).coherence) == pytest.approx(0.0, abs=1e-12)
    assert float(orientation_map(np.ones(12), ANGLES).coherence) == pytest.approx(0.0, abs=1e-12)


def test_unequal_weights_and_negative_values():
    # weights 3 at 0°, 1 at 90°: z = 3 - 1 = 2 (real), T = 4 -> 0°, R = 0.5
    c = np.zeros(12)
    c[0], c[6], c[3] = 3.0, 1.0, -5.0  # the negative value is clipped
    m = orientation_map(c, ANGLES)
    assert float(m.angle_deg) == pytest.approx(0.0, abs=1e-9)
    assert float(m.coherence) == pytest.approx(0.5, abs=1e-12)
    assert float(m.total) == 4.0


def test_images_along_an_axis_and_empty_positions():
    conc = np.zeros((2, 12, 3, 4))  # (frames, angles, y, x)
    conc[0, 4, 1, 2] = 1.0  # 60°
    conc[1, 8, 0, 0] = 1.0  # 120°
    m = orientation_map(conc, ANGLES, axis=1)
    assert m.total.shape == (2, 3, 4)
    assert m.angle_deg[0, 1, 2] == pytest.approx(60.0) and m.angle_deg[1, 0, 0] == pytest.approx(120.0)
    assert np.isnan(m.angle_deg[0, 0, 0]) and np.isnan(m.coherence[0, 0, 0]) and m.total[0, 0, 0] == 0
    with pytest.raises(ValueError, match="12 angles"):
        orientation_map(conc, ANGLES, axis=2)


def test_axial_difference():
    assert axial_difference_deg(179.0, 1.0) == pytest.approx(2.0)
    assert axial_difference_deg(0.0, 90.0) == pytest.approx(90.0)
    assert axial_difference_deg(-30.0, 150.0) == pytest.approx(0.0)
