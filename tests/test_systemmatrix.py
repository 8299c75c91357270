"""The data model: shape checks, frequency selection, grid views."""

import numpy as np
import pytest

from mdf_neel import SystemMatrix
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence, regular_grid


def _sm(C=2, K=None, grid=(3, 2), rng=None, **kw):
    seq = paper_2d_sequence()
    offsets, size, fov, center = paper_2d_offsets(grid=grid)
    K = K or seq.receiver.num_frequencies
    O = offsets.shape[0]
    rng = rng or np.random.default_rng(0)
    data = rng.standard_normal((C, K, O)) + 1j * rng.standard_normal((C, K, O))
    return SystemMatrix(
        data=data,
        frequency_indices=np.arange(K),
        drive_field=seq.drive_field,
        receiver=seq.receiver,
        grid_size=size,
        field_of_view=fov,
        field_of_view_center=center,
        offset_fields_T=offsets,
        **kw,
    )


def test_sizes_and_frequencies():
    sm = _sm()
    assert (sm.num_channels, sm.num_frequencies, sm.num_positions) == (2, 817, 6)
    assert sm.frequencies_Hz[16] == pytest.approx(2.5e6 / 102)
    assert sm.frequencies_Hz[-1] == pytest.approx(1.25e6)
    assert sm.grid_shape == (1, 2, 3)


def test_grid_view_is_x_fastest():
    sm = _sm()
    img = sm.to_grid()[0, 5]
    # position index ix + Nx*iy  ->  img[0, iy, ix]
    assert img[0, 1, 2] == sm.data[0, 5, 2 + 3 * 1]
    # offsets follow the same order: x changes fastest
    assert sm.offset_fields_T[1, 0] > sm.offset_fields_T[0, 0]
    assert sm.offset_fields_T[1, 1] == sm.offset_fields_T[0, 1]


def test_select_frequencies_keeps_rows_and_does_not_mutate():
    sm = _sm(snr=np.arange(2 * 817, dtype=float).reshape(2, 817))
    before = sm.data.copy()
    sub = sm.select_frequencies([18, 16, 17])
    assert list(sub.frequency_indices) == [16, 17, 18]
    np.testing.assert_array_equal(sub.data[:, 0], sm.data[:, 16])
    np.testing.assert_array_equal(sub.snr[:, 2], sm.snr[:, 18])
    np.testing.assert_array_equal(sm.data, before)
    with pytest.raises(KeyError):
        sub.select_frequencies([20])


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(grid_size=(4, 2, 1)), "prod\\(grid_size\\)"),
        (dict(frequency_indices=np.arange(816)), "frequency_indices"),
        (dict(offset_fields_T=np.zeros((5, 3))), "offset_fields_T"),
        (dict(snr=np.zeros((2, 3))), "snr"),
        (dict(background=np.zeros((2, 5, 1))), "background"),
    ],
)
def test_inconsistent_shapes_are_refused(change, match):
    sm = _sm()
    with pytest.raises(ValueError, match=match):
        sm.replace(**change)


def test_frequency_indices_must_be_in_range_and_increasing():
    sm = _sm(K=3)
    with pytest.raises(ValueError, match="increasing"):
        sm.replace(frequency_indices=[0, 2, 1])
    with pytest.raises(ValueError, match="lie in"):
        sm.replace(frequency_indices=[0, 1, 817])


def test_regular_grid_cell_centred():
    pts = regular_grid((2, 3, 1), (2.0, 3.0, 0.0), (0.0, 1.0, 5.0))
    np.testing.assert_allclose(pts[:, 0], [-0.5, 0.5] * 3)
    np.testing.assert_allclose(pts[:, 1], [0, 0, 1, 1, 2, 2])
    np.testing.assert_allclose(pts[:, 2], 5.0)


def test_paper_offsets_hit_the_stated_extent_for_any_grid():
    for grid in [(11, 11), (41, 41)]:
        offsets, size, fov, center = paper_2d_offsets(grid=grid)
        assert offsets[:, 0].min() == pytest.approx(-14.35e-3)
        assert offsets[:, 0].max() == pytest.approx(14.35e-3)
        assert offsets[:, 1].max() == pytest.approx(14.71e-3)
        assert offsets.shape == (grid[0] * grid[1], 3)
    # paper step: 2.870 mT (x), 2.942 mT (y)
    offsets, *_ = paper_2d_offsets()
    assert offsets[1, 0] - offsets[0, 0] == pytest.approx(2.870e-3)
    assert offsets[11, 1] - offsets[0, 1] == pytest.approx(2.942e-3)


def test_drive_field_is_cosine_with_paper_amplitudes():
    seq = paper_2d_sequence()
    t = seq.times_s()
    B = seq.field_T()
    assert B.shape == (1632, 3)
    np.testing.assert_allclose(B[:, 0], 12.59e-3 * np.cos(2 * np.pi * 2.5e6 / 102 * t), atol=1e-15)
    np.testing.assert_allclose(B[:, 1], 13.55e-3 * np.cos(2 * np.pi * 2.5e6 / 96 * t), atol=1e-15)
    assert np.all(B[:, 2] == 0)
    assert seq.drive_field.cycle_s == pytest.approx(652.8e-6)
