"""Sequences: receiver axes, mixing orders and grids, against MPIFiles' worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from mdf_neel.sequence import DriveField, Receiver, mixing_order_to_bin, mixing_orders, paper_2d_sequence, regular_grid


def test_paper_sequence_cycle_and_bins():
    seq = paper_2d_sequence()
    # lcm(102, 96) = 1632 base periods = 652.8 µs; V = 2·1.25 MHz·652.8 µs = 1632 → 817 bins
    assert seq.drive_field.cycle_s == pytest.approx(652.8e-6)
    assert seq.receiver.num_sampling_points == 1632
    assert seq.receiver.num_frequencies == 817
    assert seq.drive_field.harmonics_per_cycle.tolist() == [16, 17]


def test_mixing_orders_worked_example():
    seq = paper_2d_sequence()
    table = mixing_orders(seq.drive_field, seq.receiver.num_frequencies)
    assert table.shape == (817, 4)
    assert tuple(table[16]) == (1, 0, 0, 1)
    assert tuple(table[17]) == (0, 1, 0, 1)
    assert tuple(table[18]) == (-1, 2, 0, 3)
    assert tuple(table[0]) == (0, 0, 0, 0)
    # every reached bin is consistent with h = 16·mx + 17·my and order = |mx| + |my|
    reached = table[:, 3] >= 0
    h = 16 * table[:, 0] + 17 * table[:, 1]
    np.testing.assert_array_equal(h[reached], np.flatnonzero(reached))
    np.testing.assert_array_equal(np.abs(table[:, 0]) + np.abs(table[:, 1]), table[:, 3])
    assert mixing_order_to_bin(-1, 2) == 18
    # bin 16 is the x drive frequency 2.5 MHz / 102
    assert seq.receiver.frequencies_Hz[16] == pytest.approx(2.5e6 / 102)
    assert seq.receiver.frequencies_Hz[17] == pytest.approx(2.5e6 / 96)


def test_mixing_orders_minimal_order_by_brute_force():
    """Each bin's order is the smallest |mx|+|my| with 16 mx + 17 my = k (independent search)."""
    seq = paper_2d_sequence()
    table = mixing_orders(seq.drive_field, 817)
    for k in (1, 5, 33, 50, 100, 400, 816):
        best = min(abs(mx) + abs(my) for mx in range(-60, 61) for my in range(-60, 61) if 16 * mx + 17 * my == k)
        assert table[k, 3] == best, k


def test_inactive_z_channel_ignored():
    drive = DriveField(
        2.5e6, [[102], [96], [99]], np.array([12e-3, 12e-3, 0.0]).reshape(1, 3, 1), np.zeros((1, 3, 1)), "sine"
    )
    assert drive.cycle_s == pytest.approx(652.8e-6)  # lcm of the active channels only
    table = mixing_orders(drive, 817)
    assert tuple(table[18]) == (-1, 2, 0, 3)
    assert np.all(table[:, 2] == 0)


def test_odd_V_frequency_axis():
    """MPIFiles' test file: V = 625 at bandwidth 125e6/16 → K = 313, f_1 = 25 kHz (rfftfreq)."""
    rx = Receiver(bandwidth_Hz=125e6 / 16, num_sampling_points=625, num_channels=3)
    assert rx.num_frequencies == 313
    f = rx.frequencies_Hz
    assert f.shape == (313,)
    assert f[1] == pytest.approx(25e3, rel=1e-12)
    assert f[-1] == pytest.approx(312 * 25e3)


def test_even_V_last_bin_is_bandwidth():
    rx = Receiver(bandwidth_Hz=1.25e6, num_sampling_points=1632, num_channels=2)
    assert rx.num_frequencies == 817
    assert rx.frequencies_Hz[-1] == pytest.approx(1.25e6)
    assert rx.times_s()[1] == pytest.approx(0.4e-6)


def test_regular_grid_x_fastest():
    pts = regular_grid([3, 2, 1], [3.0, 4.0, 0.0], [0.0, 1.0, 5.0])
    assert pts.shape == (6, 3)
    np.testing.assert_allclose(pts[:, 0], [-1, 0, 1, -1, 0, 1])  # x fastest
    np.testing.assert_allclose(pts[:, 1], [0, 0, 0, 2, 2, 2])  # cell centres 1 ± 1
    np.testing.assert_allclose(pts[:, 2], 5.0)  # size-1 axis sits at the centre


def test_one_offset_grid_type_with_conversions_at_the_edges():
    from mdf_neel.sequence import OffsetGrid, as_offset_grid, paper_2d_offsets

    grid = paper_2d_offsets(grid=(4, 3))
    assert isinstance(grid, OffsetGrid)
    offsets, size, fov, center = grid  # still unpacks as the former 4-tuple
    assert size.tolist() == [4, 3, 1] and offsets.shape == (12, 3)
    assert as_offset_grid(grid) is grid
    from_tuple = as_offset_grid((offsets, size, fov, center))
    np.testing.assert_array_equal(from_tuple.offsets_T, offsets)
    inferred = as_offset_grid(offsets)  # bare offsets: the regular grid is recognised
    assert inferred.size.tolist() == [4, 3, 1]
    np.testing.assert_allclose(inferred.field_of_view_T, fov)
    with pytest.raises(ValueError, match="does not match"):
        as_offset_grid((offsets, [5, 3, 1], fov, center))
    with pytest.raises(ValueError, match="NaN"):
        as_offset_grid(np.full((2, 3), np.nan))
