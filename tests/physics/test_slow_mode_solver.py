"""The slow-mode model as a method of the Néel solver: against the full model, its
selection by ``method="auto"``, its verification and the fallbacks when it fails."""

import math

import numpy as np
import pytest

from mdf_neel.physics import mean_magnetization
from mdf_neel.physics.neel import dispatch
from mdf_neel.physics.neel import slow_mode

KW = dict(diameter_m=18e-9, anisotropy_Jm3=5000.0, rtol=1e-3)  # σ = 3.8, degree 15


def paper_like_batch(n_samples=200):
    """2-D Lissajous drive (12 and 13 mT; 2 and 3 cycles, 25 and 37.5 kHz at 200 samples:
    the paper's drive rate) plus in-plane offsets, for easy axes at 0°, 40° and 110° in
    the drive plane: 12 members (12, P, 3) and axes (12, 3)."""
    t = np.arange(n_samples) / 2.5e6
    period = n_samples / 2.5e6
    drive = np.zeros((n_samples, 3))
    drive[:, 0] = 12e-3 * np.cos(2 * np.pi * 2 * t / period)
    drive[:, 1] = 13e-3 * np.cos(2 * np.pi * 3 * t / period)
    offsets = np.array([(0, 0, 0), (5e-3, -4e-3, 0), (-8e-3, 2e-3, 0), (3e-3, 9e-3, 0)])
    fields, axes = [], []
    for deg in (0.0, 40.0, 110.0):
        for o in offsets:
            fields.append(drive + o)
            axes.append((math.cos(math.radians(deg)), math.sin(math.radians(deg)), 0.0))
    return t, np.array(fields), np.array(axes)


def rel_l2(a, b):
    return np.linalg.norm(a - b, axis=(-2, -1)) / np.linalg.norm(b, axis=(-2, -1))


@pytest.fixture(scope="module")
def full_solution():
    t, fields, axes = paper_like_batch()
    return mean_magnetization(t, fields, easy_axis=axes, method="full", **KW)


def test_slow_mode_method_agrees_with_the_full_model(full_solution):
    t, fields, axes = paper_like_batch()
    m, info = mean_magnetization(t, fields, easy_axis=axes, method="slow-mode", return_info=True, **KW)
    assert info["method"] == "slow-mode" and info["slow_mode_accepted"]
    assert rel_l2(m, full_solution).max() < 1e-3
    # three members were solved in full to verify the batch, and keep those solutions
    assert info["slow_mode_verification_members"].size == 3
    assert np.all(info["lu_factorisations"][info["slow_mode_verification_members"]] > 0)


def test_auto_uses_the_slow_mode_model_only_for_large_planar_steady_state_batches(monkeypatch):
    t, fields, axes = paper_like_batch()
    monkeypatch.setattr(dispatch, "REDUCED_MIN_BATCH", 12)
    calls = []
    real = slow_mode.solve_slow_mode

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(slow_mode, "solve_slow_mode", counting)
    _, info = mean_magnetization(t, fields, easy_axis=axes, method="auto", return_info=True, **KW)
    assert info["method"] == "slow-mode" and len(calls) == 1
    # a field component out of the plane of drive and axis: not this model's case
    tilted = fields.copy()
    tilted[..., 2] = 1e-3
    _, info = mean_magnetization(t, tilted, easy_axis=axes, method="auto", return_info=True, **KW)
    assert info["method"] != "slow-mode" and len(calls) == 1
    # rtol below the model's own error: not used either
    _, info = mean_magnetization(t, fields, easy_axis=axes, method="auto", return_info=True, **{**KW, "rtol": 1e-4})
    assert info["method"] != "slow-mode" and len(calls) == 1


def test_bad_uses_of_the_slow_mode_method_raise():
    t, fields, axes = paper_like_batch()
    with pytest.raises(ValueError, match="steady_state"):
        mean_magnetization(t, fields, easy_axis=axes, method="slow-mode", steady_state=False, **KW)
    tilted = fields.copy()
    tilted[..., 2] = 1e-3
    with pytest.raises(ValueError, match="plane"):
        mean_magnetization(t, tilted, easy_axis=axes, method="slow-mode", **KW)


def test_a_wrong_slow_mode_result_is_rejected_and_auto_falls_back(monkeypatch, full_solution):
    """The verification is what makes the model safe: a slow-mode result that is off by
    2e-3 must be caught on the verified members, and "auto" must then solve the batch
    with another method."""
    t, fields, axes = paper_like_batch()
    monkeypatch.setattr(dispatch, "REDUCED_MIN_BATCH", 12)
    real = slow_mode.solve_slow_mode

    def biased(*args, **kw):
        m, info = real(*args, **kw)
        return m * (1.0 + 2e-3), info

    monkeypatch.setattr(slow_mode, "solve_slow_mode", biased)
    m, info = mean_magnetization(t, fields, easy_axis=axes, method="auto", return_info=True, **KW)
    assert info["method"] == "reduced" and info["slow_mode_accepted"] is False
    assert info["slow_mode_verification_error"] > 1e-3
    assert rel_l2(m, full_solution).max() < 1e-3


def test_members_outside_the_model_are_solved_in_full(monkeypatch, full_solution):
    """A member whose slow-mode moment leaves the unit ball is flagged and replaced by
    its full-model solution."""
    t, fields, axes = paper_like_batch()
    real = slow_mode.solve_slow_mode

    def one_broken(*args, **kw):
        m, info = real(*args, **kw)
        m[5] *= 3.0
        info["slow_mode_breakdown"] = np.max(np.linalg.norm(m, axis=-1), axis=1) > 1.0 + 1e-6
        return m, info

    monkeypatch.setattr(slow_mode, "solve_slow_mode", one_broken)
    m, info = mean_magnetization(t, fields, easy_axis=axes, method="slow-mode", return_info=True, **KW)
    assert 5 in info["slow_mode_full_members"]
    assert rel_l2(m, full_solution).max() < 1e-3


def test_without_its_own_check_only_members_outside_the_model_are_solved_in_full(monkeypatch, full_solution):
    """``verify_model=False`` (the row contract checks the batch itself): no member is solved
    in full to verify it, the batch is not rejected, and a member outside the model still
    gets its full-model solution."""
    from mdf_neel.physics import ParticleParameters, solve_neel

    t, fields, axes = paper_like_batch()
    particle = ParticleParameters(diameter_m=KW["diameter_m"], anisotropy_Jm3=KW["anisotropy_Jm3"])
    real = slow_mode.solve_slow_mode
    broken_member = 5

    def one_broken(*args, **kw):
        m, info = real(*args, **kw)
        m[broken_member] *= 3.0
        info["slow_mode_breakdown"] = np.max(np.linalg.norm(m, axis=-1), axis=1) > 1.0 + 1e-6
        return m, info

    monkeypatch.setattr(slow_mode, "solve_slow_mode", one_broken)
    m, info = solve_neel(t, fields, particle, axes, rtol=KW["rtol"], method="slow-mode", verify_model=False)
    assert info["slow_mode_accepted"] and info["slow_mode_verification_error"] is None
    assert info["slow_mode_verification_members"].size == 0
    assert np.array_equal(info["slow_mode_full_members"], [broken_member])
    assert np.count_nonzero(info["lu_factorisations"]) == 1
    assert rel_l2(m, full_solution).max() < 1e-3
    with pytest.raises(ValueError, match="verify_model"):
        solve_neel(t, fields, particle, axes, method="slow-mode", verify_model="no")
