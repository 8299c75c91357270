"""3-D sequences and mixing orders for any number of drive channels.

The N-D rule is checked three ways: against an independent search of all integer
combinations of low order (a mathematical statement, no tie-break involved), against a
plain scalar search of the same box with MPIFiles' tie-break, and against MPIFiles' own
loops transcribed from ``src/MixingFactors.jl`` (the three-loop rule on master and the
N-D rule with ``/measurement/_manualPrefactors`` on the N-D branch).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mdf_neel.sequence import (
    DriveField,
    bruker_3d_offsets,
    bruker_3d_sequence,
    check_prefactors,
    mixing_orders,
    paper_2d_sequence,
)


def _drive(dividers, strengths, base=2.5e6, **kw):
    D = len(dividers)
    return DriveField(
        base,
        np.reshape(dividers, (D, 1)),
        np.reshape(strengths, (1, D, 1)),
        np.zeros((1, D, 1)),
        "sine",
        **kw,
    )


# --- MPIFiles' rules, transcribed from src/MixingFactors.jl -----------------------------


def _mpifiles_master(q, mask, K):
    """``mixingFactors`` on MPIFiles master (94fb671): nested loops mx, my, mz over
    ``-N:N`` with ``N = round(K/q·mask)``, 1-based row ``k = h + 1``, replace on ``>=``."""
    N = [int(np.rint(K / qq * m)) for qq, m in zip(q, mask)]
    N += [0] * (3 - len(N))
    q = list(q) + [1] * (3 - len(q))
    mo = np.zeros((K, 4), dtype=np.int64)
    mo[:, 3] = -1
    for mx in range(-N[0], N[0] + 1):
        for my in range(-N[1], N[1] + 1):
            for mz in range(-N[2], N[2] + 1):
                k = mx * q[0] + my * q[1] + mz * q[2] + 1
                order = abs(mx) + abs(my) + abs(mz)
                if 1 <= k <= K and (mo[k - 1, 3] < 0 or mo[k - 1, 3] >= order):
                    mo[k - 1] = (mx, my, mz, order)
    return mo


def _mpifiles_nd_branch(prefactors, K, max_factor):
    """``_mixingFactors(prefactors, numFreqs, N)`` of MPIFiles' N-D rework (828fcd7):
    ``CartesianIndices`` over ``(-N:N)^P`` (first factor fastest), ``k = Σ m·q`` used as
    the 1-based row (so row k holds bin k), replace on ``>=``. Returned as rows per bin."""
    P = len(prefactors)
    rows = np.zeros((K, P + 1), dtype=np.int64)
    rows[:, -1] = -1
    rng = range(-max_factor, max_factor + 1)
    for rev in itertools.product(rng, repeat=P):
        m = rev[::-1]  # itertools varies the last entry fastest; Julia the first
        k = sum(a * b for a, b in zip(m, prefactors))
        order = sum(abs(a) for a in m)
        if 1 <= k <= K and (rows[k - 1, -1] < 0 or rows[k - 1, -1] >= order):
            rows[k - 1, :-1] = m
            rows[k - 1, -1] = order
    by_bin = np.zeros_like(rows)
    by_bin[:, -1] = -1
    by_bin[1:] = rows[:-1]  # row k (1-based) describes bin k, i.e. 0-based row k - 1
    return by_bin


def _lowest_order_by_enumeration(q, max_order, K):
    """Smallest Σ|m_p| over ALL integer vectors with Σ|m_p| <= max_order reaching each bin
    (-1 where none does): no box, no tie-break."""
    best = np.full(K, -1, dtype=np.int64)
    P = len(q)
    for order in range(max_order, -1, -1):
        # every vector of L1 norm exactly `order`
        for split in itertools.product(range(order + 1), repeat=P):
            if sum(split) != order:
                continue
            for signs in itertools.product((1, -1), repeat=P):
                h = sum(s * a * b for s, a, b in zip(signs, split, q))
                if 0 <= h < K:
                    best[h] = order
    return best


# --- the preset ---------------------------------------------------------------------------


def test_bruker_3d_sequence_cycle_and_bins():
    seq = bruker_3d_sequence()
    df = seq.drive_field
    # lcm(102, 96, 99) = 53856 base periods = 21.5424 ms at 2.5 MHz
    assert df.cycle_s == pytest.approx(53856 / 2.5e6, rel=1e-15)
    assert seq.receiver.num_sampling_points == 53856
    assert seq.receiver.num_frequencies == 26929
    assert seq.receiver.bandwidth_Hz == 1.25e6 and seq.receiver.num_channels == 3
    assert df.harmonics_per_cycle.tolist() == [53856 // 102, 53856 // 96, 53856 // 99] == [528, 561, 544]
    assert df.strengths_T[0, :, 0].tolist() == [12e-3, 12e-3, 12e-3]
    # cosine drive: every channel at its amplitude at t = 0; the field repeats after one cycle
    b0 = seq.field_T(np.array([0.0, df.cycle_s]))
    np.testing.assert_allclose(b0, 12e-3, rtol=1e-9)
    # bins of the fundamentals carry the drive frequencies
    f = seq.receiver.frequencies_Hz
    np.testing.assert_allclose(f[[528, 561, 544]], 2.5e6 / np.array([102, 96, 99]), rtol=1e-12)


def test_bruker_sequence_with_z_off_is_the_2d_scan_of_mpifiles_test_file():
    """MPIFiles' Bruker test measurement: dividers 102/96/99, (14, 14, 0) mT, 1.25 MHz."""
    seq = bruker_3d_sequence(strengths_T=(14e-3, 14e-3, 0.0))
    assert seq.drive_field.cycle_s == pytest.approx(652.8e-6, rel=1e-12)  # lcm(102, 96) / 2.5 MHz
    assert seq.receiver.num_sampling_points == 1632
    assert seq.drive_field.mixing_prefactors.tolist() == [16, 17, 1]
    assert mixing_orders(seq.drive_field, 817)[18].tolist() == [-1, 2, 0, 3]
    with pytest.raises(ValueError, match="three"):
        bruker_3d_sequence(strengths_T=(12e-3, 12e-3))


def test_bruker_3d_offsets_grid():
    g = bruker_3d_offsets(grid=(3, 4, 5))
    assert g.size.tolist() == [3, 4, 5] and g.offsets_T.shape == (60, 3)
    # outermost offsets at ±12 mT on every axis, x fastest
    np.testing.assert_allclose(g.offsets_T.min(axis=0), -12e-3, rtol=1e-12)
    np.testing.assert_allclose(g.offsets_T.max(axis=0), 12e-3, rtol=1e-12)
    assert g.offsets_T[1, 0] > g.offsets_T[0, 0] and g.offsets_T[1, 1] == g.offsets_T[0, 1]
    with pytest.raises(ValueError, match="three values"):
        bruker_3d_offsets(grid=(3, 3))


# --- the N-D rule -------------------------------------------------------------------------


def test_3d_orders_are_the_lowest_over_all_integer_combinations():
    """For the Bruker 3-D sequence, every bin of order <= 6 has exactly the smallest
    |mx|+|my|+|mz| of any integer combination, and no bin the table calls higher is
    reachable with order <= 6."""
    seq = bruker_3d_sequence()
    K = seq.receiver.num_frequencies
    table = mixing_orders(seq.drive_field, K)
    assert table.shape == (K, 4)
    q = np.array([528, 561, 544])
    reached = table[:, 3] >= 0
    np.testing.assert_array_equal(table[reached, :3] @ q, np.flatnonzero(reached))
    np.testing.assert_array_equal(np.abs(table[:, :3]).sum(axis=1)[reached], table[reached, 3])
    low = _lowest_order_by_enumeration(q, 6, K)
    in_low = low >= 0
    np.testing.assert_array_equal(table[in_low, 3], low[in_low])
    assert np.all(table[~in_low, 3] > 6)
    # worked examples: fundamentals, sum and difference frequencies
    assert table[528].tolist() == [1, 0, 0, 1]
    assert table[561].tolist() == [0, 1, 0, 1]
    assert table[544].tolist() == [0, 0, 1, 1]
    assert table[561 - 544].tolist() == [0, 1, -1, 2]
    assert table[528 + 544].tolist() == [1, 0, 1, 2]


@pytest.mark.parametrize(
    "dividers, strengths, K",
    [
        ((12, 10, 11), (1e-2, 1e-2, 1e-2), 331),  # a short 3-D Lissajous (V = 660)
        ((12, 10, 11), (1e-2, 0.0, 1e-2), 101),  # y inactive
        ((102, 96), (1e-2, 1e-2), 817),  # the paper's 2-D sequence
        ((102, 96, 99), (1e-2, 1e-2, 0.0), 817),  # Bruker 2-D: z present but off
    ],
)
def test_table_equals_mpifiles_master_loops(dividers, strengths, K):
    drive = _drive(dividers, strengths)
    expected = _mpifiles_master(drive.harmonics_per_cycle.tolist(), drive.active_channels.tolist(), K)
    np.testing.assert_array_equal(mixing_orders(drive, K), expected)


def test_nd_rule_with_four_prefactors_against_a_scalar_search():
    """Four prefactors (P = 4): the vectorised search equals a plain scalar search of the
    same box with MPIFiles' tie-break (last visited, first factor slowest)."""
    q = [7, 9, 11, 13]
    K = 60
    table = mixing_orders(_drive((12, 10), (1e-2, 1e-2)), K, prefactors=q)
    assert table.shape == (K, 5)
    N = [int(np.rint(K / v)) for v in q]
    expected = np.zeros((K, 5), dtype=np.int64)
    expected[:, -1] = -1
    for m in itertools.product(*(range(-n, n + 1) for n in N)):
        h = sum(a * b for a, b in zip(m, q))
        order = sum(abs(a) for a in m)
        if 0 <= h < K and (expected[h, -1] < 0 or expected[h, -1] >= order):
            expected[h] = (*m, order)
    np.testing.assert_array_equal(table, expected)
    low = _lowest_order_by_enumeration(q, 4, K)
    np.testing.assert_array_equal(table[low >= 0, -1], low[low >= 0])


def test_agrees_with_mpifiles_nd_branch_on_orders():
    """MPIFiles' N-D rule searches every factor over ±maxFactor; with the cap binding on
    every factor the box is the same, so every bin's lowest order agrees. The N-D rule
    stores bin k in 1-based row k (one row early, DC never written), which the
    transcription undoes."""
    q = (10, 11, 12)
    K = 200  # round(K/q) = 20, 18, 17: a cap of 6 binds on all three
    drive = _drive((66, 60, 55), (1e-2, 1e-2, 1e-2), base=1.0, cycle_s=660.0, manual_prefactors=q)
    table = mixing_orders(drive, K, max_factor=6)
    branch = _mpifiles_nd_branch(q, K, 6)
    assert table[0].tolist() == [0, 0, 0, 0] and branch[0, -1] == -1
    np.testing.assert_array_equal(table[1:, -1], branch[1:, -1])
    reached = branch[1:, -1] >= 0
    np.testing.assert_array_equal(branch[1:, :-1][reached] @ np.array(q), np.flatnonzero(reached) + 1)
    # the cap only removes combinations: orders up to it stay exact
    low = _lowest_order_by_enumeration(q, 6, K)
    np.testing.assert_array_equal(table[low >= 0, -1], low[low >= 0])


def test_manual_prefactors_override_the_drive():
    """``/measurement/_manualPrefactors`` replace the computed prefactors (MPIFiles' N-D
    rule) and are all searched, including for a channel without drive strength."""
    drive = _drive((102, 96, 99), (12e-3, 12e-3, 0.0))
    assert drive.mixing_prefactors.tolist() == [16, 17, 1]
    manual = _drive((102, 96, 99), (12e-3, 12e-3, 0.0), manual_prefactors=[16, 17, 20])
    assert manual.mixing_prefactors.tolist() == [16, 17, 20]
    table = mixing_orders(manual, 817)
    assert table[20].tolist() == [0, 0, 1, 1] and table[4].tolist() == [-1, 0, 1, 2]  # 4 = 20 - 16
    np.testing.assert_array_equal(table, mixing_orders(drive, 817, prefactors=[16, 17, 20]))
    # a single channel with manual prefactors follows the general rule, not h -> (h, order h)
    one = _drive((102,), (12e-3,), manual_prefactors=[4])
    t1 = mixing_orders(one, 9)
    assert t1[8].tolist() == [2, 0, 0, 2] and t1[3, 3] == -1
    for bad in ([0, 3], [], [1.5], [[1, 2]]):
        with pytest.raises(ValueError, match="prefactors"):
            check_prefactors(bad)


def test_two_d_results_unchanged():
    seq = paper_2d_sequence()
    table = mixing_orders(seq.drive_field, 817)
    assert table.shape == (817, 4)
    assert table[18].tolist() == [-1, 2, 0, 3] and table[33].tolist() == [1, 1, 0, 2]
    np.testing.assert_array_equal(table, _mpifiles_master([16, 17], [True, True], 817))
