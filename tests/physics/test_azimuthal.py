"""Azimuthal truncation |m| <= M of the Néel discretisation (easy-axis frame).

The truncated model is the Galerkin restriction of the full one. Checks: exactness where
the density is axially symmetric, the restriction itself, and at a strong barrier the
automatic order (with its per-member tail test and escalation) against the untruncated
solve. The untruncated model is validated independently in test_fokker_planck.py."""

import math

import numpy as np
import pytest

from mdf_neel.physics import ParticleParameters, mean_magnetization
from mdf_neel.physics.neel import dispatch
from mdf_neel.physics.neel.discretisation import NeelDiscretisation, azimuthal_orders
from mdf_neel.physics.neel.frame import rotation_to_z
from mdf_neel.physics.neel.truncation import AZIMUTHAL_ERROR_FRACTION, initial_azimuthal_order, truncation_pays

AXIS30 = (math.cos(math.radians(30)), math.sin(math.radians(30)), 0.0)
# strong barrier: D = 22 nm, K = 9000 J/m³ (σ ≈ 12.4), the paper's grid corner
STRONG = dict(diameter_m=22e-9, anisotropy_Jm3=9000.0)
N_STRONG = 34


def strong_drive(n_samples=256, period_s=40e-6):
    """One period of an elliptic drive (12.6 / 13.6 mT) at two offsets: the component
    along a 30° easy axis reverses, so the particles switch over the barrier."""
    t = np.arange(n_samples) * (period_s / n_samples)
    w = 2 * np.pi / period_s
    fields = []
    for off in ((0.0, 0.0), (4e-3, -3e-3)):
        b = np.zeros((n_samples, 3))
        b[:, 0] = 12.59e-3 * np.cos(w * t) + off[0]
        b[:, 1] = 13.55e-3 * np.sin(w * t) + off[1]
        fields.append(b)
    return t, np.stack(fields)


def rel_l2(a, b):
    return np.linalg.norm(a - b, axis=(-2, -1)) / np.linalg.norm(b, axis=(-2, -1))


def test_truncated_operator_is_the_restriction():
    p = ParticleParameters(22e-9, 9000.0)
    full = NeelDiscretisation.build(p, 12)
    trunc = NeelDiscretisation.build(p, 12, 3)
    ms = azimuthal_orders(12)
    assert trunc.n == int(np.sum(np.abs(ms) <= 3))
    assert np.all(np.abs(ms[trunc.perm]) <= 3)
    B = np.array([2e-3, 1e-3, -4e-3])
    A_full = full.operator(B).toarray()
    A_trunc = trunc.operator(B).toarray()
    # same basis functions in both orders: the truncated matrix is the full one restricted
    pos_full = {int(o): i for i, o in enumerate(full.perm)}
    sel = np.array([pos_full[int(o)] for o in trunc.perm])
    np.testing.assert_allclose(A_trunc, A_full[np.ix_(sel, sel)], atol=1e-9 * np.abs(A_full).max())
    assert np.all(A_trunc[trunc.i0] == 0.0)  # probability conserved
    # the monitored tail is exactly the highest kept order
    np.testing.assert_array_equal(np.sort(np.abs(ms[trunc.perm[trunc.tail_idx]])), np.full(trunc.tail_idx.size, 3))
    assert full.tail_idx.size == 0
    assert trunc.kl < full.kl  # degree-major order: the narrower band


def test_axial_field_is_exact_with_m_le_1():
    # field along the easy axis: the density stays axially symmetric (m = 0 only), so
    # keeping |m| <= 1 must reproduce the untruncated run to round-off
    t = np.arange(128) * (40e-6 / 128)
    b = np.zeros((128, 3))
    b[:, :2] = np.outer(20e-3 * np.cos(2 * np.pi * t / 40e-6), AXIS30[:2])
    kw = dict(STRONG, easy_axis=AXIS30, rtol=1e-3, resolution=20, method="full")
    m1, info = mean_magnetization(t, b, azimuthal_resolution=1, return_info=True, **kw)
    mf = mean_magnetization(t, b, azimuthal_resolution=20, **kw)
    assert info["n_coefficients"] == 21 + 2 * 20  # m = 0 for l <= 20, m = ±1 for 1 <= l <= 20
    np.testing.assert_allclose(m1, mf, atol=1e-10)
    assert np.max(np.abs(mf)) > 0.5  # a real signal, not a trivial zero


def test_automatic_truncation_at_a_strong_barrier_matches_untruncated():
    t, f = strong_drive()
    kw = dict(STRONG, easy_axis=AXIS30, rtol=1e-3, resolution=N_STRONG, method="full")
    m_auto, info = mean_magnetization(t, f, return_info=True, **kw)
    m_full = mean_magnetization(t, f, azimuthal_resolution=N_STRONG, **kw)
    assert np.all(info["azimuthal_resolution"] < N_STRONG)  # the truncated model is tested
    assert info["azimuthal_verification_error"] <= AZIMUTHAL_ERROR_FRACTION * 1e-3
    assert np.all(rel_l2(m_auto, m_full) <= AZIMUTHAL_ERROR_FRACTION * 1e-3)
    # and the truncation matters here: |m| <= 3 is visibly wrong
    m3 = mean_magnetization(t, f, azimuthal_resolution=3, **kw)
    assert np.max(rel_l2(m3, m_full)) > 1e-2


def test_too_small_an_order_is_caught_and_raised(monkeypatch):
    t, f = strong_drive()
    kw = dict(STRONG, easy_axis=AXIS30, rtol=1e-3, resolution=N_STRONG, method="full")
    m_full = mean_magnetization(t, f, azimuthal_resolution=N_STRONG, **kw)
    monkeypatch.setattr(dispatch, "initial_azimuthal_order", lambda *a, **k: 2)
    m, info = mean_magnetization(t, f, return_info=True, **kw)
    assert np.all(info["azimuthal_resolution"] > 2)  # raised from the bad start
    assert np.all(rel_l2(m, m_full) <= AZIMUTHAL_ERROR_FRACTION * 1e-3)


def test_reduced_method_verifies_the_truncation_too(monkeypatch):
    t, f = strong_drive()
    f = np.concatenate([f, f * np.array([1.0, -1.0, 1.0]), 0.8 * f, 0.9 * f])
    kw = dict(STRONG, easy_axis=AXIS30, rtol=1e-3, resolution=N_STRONG)
    m_full = mean_magnetization(t, f, azimuthal_resolution=N_STRONG, method="full", **kw)
    monkeypatch.setattr(dispatch, "initial_azimuthal_order", lambda *a, **k: 2)
    m, info = mean_magnetization(t, f, return_info=True, method="reduced", **kw)
    assert np.all(info["azimuthal_resolution"] > 2)
    assert np.all(rel_l2(m, m_full) <= 1e-3)


def test_weak_anisotropy_strong_field_is_not_truncated():
    # field-dominated density (ξ >> σ): it follows the field far from the axis, every
    # order matters; the static screen must refuse the truncation
    p = ParticleParameters(28e-9, 100.0)
    t, f = strong_drive()
    R = rotation_to_z(AXIS30)
    fr = np.einsum("ij,btj->bti", R, f)
    N = 30
    assert initial_azimuthal_order(p, N, fr, 1e-3) == N


def test_truncation_pays_only_for_small_orders():
    assert truncation_pays(58, 14)
    assert not truncation_pays(20, 9)
    assert not truncation_pays(10, 10)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_bad_azimuthal_resolution_is_refused(bad):
    t = np.arange(8) * 1e-7
    with pytest.raises(ValueError, match="azimuthal_resolution"):
        mean_magnetization(t, np.zeros((8, 3)), diameter_m=20e-9, azimuthal_resolution=bad)
