"""Exact symmetries between steady-state batch members (mdf_neel.physics.neel.symmetry)."""

import numpy as np
import pytest

from mdf_neel.physics import ParticleParameters
from mdf_neel.physics import solve_neel
from mdf_neel.physics.neel.symmetry import SYMMETRIES, expand_members, symmetry_classes
from mdf_neel.sequence import paper_2d_sequence


def _random_periodic(rng, T, nharm=5):
    t = np.arange(T) / T
    out = np.zeros((T, 3))
    for k in range(1, nharm + 1):
        a, b = rng.normal(size=(2, 3)) / k
        out += np.outer(np.cos(2 * np.pi * k * t), a) + np.outer(np.sin(2 * np.pi * k * t), b)
    return out + rng.normal(size=3) * 0.1


def test_classes_find_rotations_shifts_and_copies_only():
    rng = np.random.default_rng(3)
    T = 64
    a, other = _random_periodic(rng, T), _random_periodic(rng, T)
    mirror = np.array([1.0, 1.0, -1.0])  # a reflection: not a symmetry of the dynamics
    fields = np.stack(
        [
            a,
            np.roll(a, -7, axis=0) * SYMMETRIES[2],  # g_x, shift 7
            a * SYMMETRIES[1],  # g_z, no shift
            other,
            a.copy(),
            a * mirror,
            a + 1e-6,  # too different
        ]
    )
    reps, source, sym, shift = symmetry_classes(fields, atol=1e-12)
    assert reps.tolist() == [0, 3, 5, 6]
    assert reps[source].tolist() == [0, 0, 0, 3, 0, 5, 6]
    assert (sym[1], shift[1]) == (2, 7)
    assert (sym[2], shift[2]) == (1, 0)
    # the mapping reproduces every member's field from its representative
    np.testing.assert_allclose(expand_members(fields[reps], source, sym, shift), fields, atol=1e-12)


def test_classes_of_the_paper_lissajous_pair_angles_and_mirrored_offsets():
    """(ϑ, (x, y)) and (−ϑ, (x, −y)) are related by the lab 180° rotation about x and a
    half-repetition shift: one of each pair is solved."""
    from mdf_neel.physics.neel.frame import rotations

    seq = paper_2d_sequence()
    times = seq.times_s()
    drive = seq.field_T(times)
    offsets = np.array([[2e-3, 3e-3, 0.0], [2e-3, -3e-3, 0.0], [2e-3, 0.0, 0.0]])
    angles = [30.0, 150.0]
    fields = np.concatenate([drive[None] + offsets[:, None, :] for _ in angles])
    axes = np.repeat([[np.cos(np.deg2rad(a)), np.sin(np.deg2rad(a)), 0.0] for a in angles], 3, axis=0)
    R = rotations(axes, fields.shape[0])
    fr = np.einsum("bij,btj->bti", R, fields)
    reps, source, sym, shift = symmetry_classes(fr, atol=1e-10 * np.abs(fields).max())
    assert reps.size == 3
    # 30° (x, y) ↔ 150° (x, −y), shifted by half the repetition
    assert reps[source][4] == 0 and shift[4] == times.size // 2
    assert reps[source][3] == 1 and reps[source][5] == 2


@pytest.mark.parametrize("method", ["full"])
def test_symmetric_members_match_independent_solves(method):
    """Steady states mapped by the symmetry equal the members' own solves (to rtol)."""
    seq = paper_2d_sequence()
    times = seq.times_s()
    drive = seq.field_T(times)
    offsets = np.array([[4e-3, 5e-3, 0.0], [4e-3, -5e-3, 0.0]])
    angles = [30.0, 150.0]
    fields = np.concatenate([drive[None] + offsets[:, None, :] for _ in angles])
    axes = np.repeat([[np.cos(np.deg2rad(a)), np.sin(np.deg2rad(a)), 0.0] for a in angles], 2, axis=0)
    particle = ParticleParameters(diameter_m=14e-9, anisotropy_Jm3=1100.0)
    rtol = 1e-3
    m_sym, info = solve_neel(times, fields, particle, axes, rtol=rtol, method=method)
    m_ind, info_ind = solve_neel(times, fields, particle, axes, rtol=rtol, method=method, symmetry=False)
    assert info["solved_members"] == 2 and info_ind["solved_members"] == 4
    err = np.linalg.norm(m_sym - m_ind, axis=(1, 2)) / np.linalg.norm(m_ind, axis=(1, 2))
    assert np.all(err < rtol), err


def test_slow_mode_batch_solves_one_member_per_symmetry_class():
    """The slow-mode method maps symmetric members as the full model does: the mapped
    members equal their own slow-mode solves (same tables) to rounding of the table
    symmetry, and the verified members (full solves) are reported as batch indices."""
    seq = paper_2d_sequence()
    times = seq.times_s()
    drive = seq.field_T(times)
    ox = np.array([-6e-3, 0.0, 6e-3])
    offsets = np.array([[x, y, 0.0] for y in (-5e-3, 5e-3) for x in ox])
    angles = [30.0, 150.0]
    fields = np.concatenate([drive[None] + offsets[:, None, :] for _ in angles])
    axes = np.repeat([[np.cos(np.deg2rad(a)), np.sin(np.deg2rad(a)), 0.0] for a in angles], offsets.shape[0], axis=0)
    particle = ParticleParameters(diameter_m=14e-9, anisotropy_Jm3=1100.0)
    kw = dict(rtol=1e-3, method="slow-mode")
    m_sym, info = solve_neel(times, fields, particle, axes, **kw)
    m_ind, info_ind = solve_neel(times, fields, particle, axes, symmetry=False, **kw)
    assert info["solved_members"] == 6 and info_ind["solved_members"] == 12
    src = info["symmetry_source"]
    assert np.all(src < 6) and np.all(src[:6] == np.arange(6))
    assert info["slow_mode_accepted"] and info_ind["slow_mode_accepted"]
    full_sym = np.asarray(info["slow_mode_full_members"])
    assert np.all(full_sym < 6)  # solved members, as batch indices
    # members that are slow-mode results in both runs (directly or by their source)
    full_ind = np.asarray(info_ind["slow_mode_full_members"])
    both = [b for b in range(12) if src[b] not in full_sym and b not in full_ind]
    assert len(both) >= 3
    scale = np.abs(m_ind).max()
    np.testing.assert_allclose(m_sym[both], m_ind[both], rtol=0, atol=1e-7 * scale)
    # every member (including full solves in one run only) within the model tolerance
    err = np.linalg.norm(m_sym - m_ind, axis=(1, 2)) / np.linalg.norm(m_ind, axis=(1, 2))
    assert np.all(err < 1e-3), err
    # per-member arrays are expanded to the batch
    assert info["slow_mode_gap"].shape == (12,)
    np.testing.assert_array_equal(info["slow_mode_gap"], info["slow_mode_gap"][src])
