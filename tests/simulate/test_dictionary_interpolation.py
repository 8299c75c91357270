"""simulate.dictionary with verified interpolation along K (anisotropy_interpolation=...)."""

import numpy as np
import pytest

from mdf_neel.simulate import AnisotropyInterpolation, SystemFunctionDictionary, dictionary
from mdf_neel.simulate import _dictionary as dictionary_module
from mdf_neel.simulate._dictionary import dictionary_settings
from mdf_neel.simulate._system_functions import angles_task
from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR
from mdf_neel.simulate.interpolation import (
    MAX_SHARE,
    RMS_SHARE,
    contract_errors,
    interpolate_at,
    lagrange_weights,
    stencil,
)
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence

K33 = np.linspace(100.0, 6500.0, 33)  # 200 J/m³ steps
GRID = dict(SETTINGS, anisotropies_Jm3=K33)  # 2 diameters x 33 K x 3 angles, anisotropic equilibrium


def per_angle_errors(approx, exact):
    """Row contract errors per (D, K, angle) element, computed here independently: (RMS over
    the rows, largest row) of each row's RMS difference over the offsets divided by the larger
    of the exact row's peak and 1e-5 of the exact element's peak."""
    peak = np.abs(exact).max(axis=(-3, -2, -1))[..., None, None]
    norm = np.maximum(np.abs(exact).max(axis=-1), 1e-5 * peak)
    rows = np.sqrt(np.mean(np.abs(approx - exact) ** 2, axis=-1)) / norm  # (D, K, A, C, F)
    flat = rows.reshape(rows.shape[:3] + (-1,))
    return np.sqrt(np.mean(flat**2, axis=-1)), flat.max(axis=-1)


@pytest.fixture(scope="module")
def exact():
    """Every element solved (no interpolation)."""
    return dictionary(tiny_sequence(), tiny_offsets(), **GRID, progress=False)


# --- the numerics --------------------------------------------------------------------------


def test_lagrange_reproduces_cubics_on_non_uniform_nodes():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(100.0, 9000.0, 40))
    coef = rng.normal(size=(4, 5)) + 1j * rng.normal(size=(4, 5))  # 5 independent complex cubics
    values = np.stack([np.polyval(coef[:, j], (x - 4000.0) / 1000.0) for j in range(5)], axis=-1)
    nodes = np.sort(rng.choice(x.size, 9, replace=False))
    for i in range(x.size):
        got = interpolate_at(values, x, nodes, i)
        np.testing.assert_allclose(got, values[i], rtol=1e-9, atol=1e-9 * np.abs(values).max())
    # weights sum to one and are the Kronecker delta at the nodes
    w = lagrange_weights([1.0, 2.5, 7.0, 7.5], 3.3)
    assert abs(w.sum() - 1.0) < 1e-14
    np.testing.assert_allclose(lagrange_weights([1.0, 2.5, 7.0, 7.5], 7.0), [0, 0, 1, 0], atol=1e-15)


def test_stencil_brackets_the_point_and_shifts_at_the_ends():
    nodes = [0, 4, 8, 10, 16, 32]
    assert list(stencil(nodes, 9)) == [4, 8, 10, 16]
    assert list(stencil(nodes, 1)) == [0, 4, 8, 10]
    assert list(stencil(nodes, 31)) == [8, 10, 16, 32]
    assert list(stencil([0, 5, 9], 2)) == [0, 5, 9]  # fewer than 4 nodes: all of them


def test_the_verification_measures_the_row_contract():
    # weak rows (down to 1e-6 of the peak) count through the contract's per-row normalisation
    rng = np.random.default_rng(1)
    exact = rng.normal(size=(2, 2, 5, 7)) * np.logspace(0, -6, 5)[:, None]  # (A, C, F, N): weak rows
    approx = exact * (1 + 1e-3 * rng.normal(size=exact.shape))
    rms, worst = per_angle_errors(approx[None, None], exact[None, None])
    assert contract_errors(approx, exact) == pytest.approx((rms.max(), worst.max()), rel=1e-12)


def test_settings_validation():
    with pytest.raises(ValueError, match="rtol"):
        AnisotropyInterpolation(rtol=-1.0)
    with pytest.raises(ValueError, match="max_stride"):
        AnisotropyInterpolation(max_stride=0)
    with pytest.raises(ValueError, match="unknown"):
        AnisotropyInterpolation.coerce({"rtol": 1e-3, "stride": 4})
    assert AnisotropyInterpolation.coerce({"rtol": 1e-2}) == AnisotropyInterpolation(1e-2, 16)
    with pytest.raises(ValueError, match="anisotropies_Jm3"):
        dictionary(
            tiny_sequence(),
            tiny_offsets(),
            **dict(GRID, anisotropies_Jm3=[500.0, 300.0, 900.0]),
            anisotropy_interpolation=AnisotropyInterpolation(),
            progress=False,
        )


# --- default behaviour unchanged -----------------------------------------------------------


def test_option_none_is_the_exact_dictionary_bitwise(exact):
    small = dict(GRID, anisotropies_Jm3=K33[:4])
    d = dictionary(tiny_sequence(), tiny_offsets(), **small, anisotropy_interpolation=None, progress=False)
    assert "interpolation" not in d.stats and not d.interpolated.any()
    np.testing.assert_array_equal(d.phi, exact.phi[:, :4])
    # independently: one physics call per (D, K) pair, outside the dictionary machinery
    for i_d, diameter in enumerate(small["diameters_m"]):
        for i_k, K in enumerate(small["anisotropies_Jm3"]):
            phi, _ = angles_task(
                {
                    "sequence": tiny_sequence(),
                    "offsets_T": tiny_offsets(),
                    "kwargs": dict(
                        diameter_m=diameter,
                        anisotropy_Jm3=float(K),
                        angles_deg=np.asarray(small["angles_deg"], float),
                        model=small["model"],
                        frequencies=small["frequencies"],
                        channels=("x", "y"),
                    ),
                }
            )
            np.testing.assert_array_equal(d.phi[i_d, i_k], phi)
    kw = dict(
        diameters_m=[2e-8],
        anisotropies_Jm3=[1.0],
        angles_deg=[0.0],
        frequencies=np.array([1]),
        channels=("x",),
        particle={},
        model="neel",
    )
    assert "anisotropy_interpolation" not in dictionary_settings(tiny_sequence(), tiny_offsets(), **kw)


def test_langevin_ignores_the_option():
    base = dict(GRID, anisotropies_Jm3=K33[:5], model="langevin")
    plain = dictionary(tiny_sequence(), tiny_offsets(), **base, progress=False)
    d = dictionary(
        tiny_sequence(),
        tiny_offsets(),
        **base,
        progress=False,
        anisotropy_interpolation=AnisotropyInterpolation(1e-3, 2),
    )
    np.testing.assert_array_equal(d.phi, plain.phi)
    assert d.stats == plain.stats and not d.interpolated.any()


# --- accuracy and cost on a smooth model ---------------------------------------------------


def test_interpolated_dictionary_is_within_rtol_everywhere(exact):
    rtol = 1e-3
    d = dictionary(
        tiny_sequence(),
        tiny_offsets(),
        **GRID,
        progress=False,
        anisotropy_interpolation=AnisotropyInterpolation(rtol=rtol, max_stride=8),
    )
    info = d.stats["interpolation"]
    n_grid = 2 * K33.size
    # weak rows count as much as strong ones: on this coarse K grid (200 J/m³) 50 of 66 pairs are solved
    assert info["grid_pairs"] == n_grid and info["exact_pairs"] < n_grid, info["exact_pairs"]
    assert d.stats["computed"] == info["exact_pairs"] * 3
    # every element, checked against the exact dictionary: the row contract holds
    rms, worst = per_angle_errors(d.phi, exact.phi)
    assert rms.max() <= rtol and worst.max() <= MAX_ROW_FACTOR * rtol, (rms.max(), worst.max())
    # the nodes are the exact solutions, bit for bit; the mask says which those are
    exact_pairs = ~d.interpolated[:, :, 0]
    assert exact_pairs.sum() == info["exact_pairs"]
    for i_d, nodes in enumerate(info["nodes"]):
        assert list(np.flatnonzero(exact_pairs[i_d])) == nodes
    np.testing.assert_array_equal(d.phi[exact_pairs], exact.phi[exact_pairs])
    assert np.all(d.interpolated == d.interpolated[:, :, :1])
    assert np.all(d.resolution[d.interpolated] == -1)
    # the recorded verification errors are what they claim: interpolant without the midpoint
    for v in info["verifications"]:
        assert not v["accepted"] or (v["error"] <= RMS_SHARE * rtol and v["max_row_error"] <= MAX_SHARE * 10 * rtol)
    assert info["max_accepted_error"] <= RMS_SHARE * rtol


def test_tiny_rtol_with_a_loose_stride_solves_everything(exact):
    d = dictionary(
        tiny_sequence(),
        tiny_offsets(),
        **GRID,
        progress=False,
        anisotropy_interpolation=AnisotropyInterpolation(rtol=1e-14, max_stride=64),
    )
    assert d.stats["interpolation"]["exact_pairs"] == 2 * K33.size
    assert not d.interpolated.any()
    np.testing.assert_array_equal(d.phi, exact.phi)


# --- a steep feature in K forces refinement ------------------------------------------------

K_STEP, K_WIDTH = 3000.0, 60.0


def synthetic_value(K, angles, shape):
    """A smooth part plus a steep tanh step at K_STEP (width K_WIDTH J/m³)."""
    c, f, o = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    pattern = np.cos(0.3 * f + 0.7 * o + c) + 1j * np.sin(0.2 * f - 0.5 * o)
    out = []
    for a in np.atleast_1d(angles):
        smooth = 1.0 + 0.3 * np.cos(np.deg2rad(a)) * (K / 6000.0) ** 2
        out.append((smooth + 0.8 * np.tanh((K - K_STEP) / K_WIDTH)) * pattern)
    return np.asarray(out)


def synthetic_pair(payload):
    kw = payload["kwargs"]
    shape = (len(kw["channels"]), len(kw["frequencies"]), payload["offsets_T"].shape[0])
    return synthetic_value(kw["anisotropy_Jm3"], kw["angles_deg"], shape), -1


def test_a_steep_feature_is_refined_and_verified(monkeypatch):
    monkeypatch.setattr(dictionary_module, "_compute_pair", synthetic_pair)
    K = np.arange(0.0, 6500.0, 100.0)  # 65 values
    rtol = 1e-3
    settings = dict(SETTINGS, diameters_m=[20e-9], anisotropies_Jm3=K)
    d = dictionary(
        tiny_sequence(),
        tiny_offsets(),
        **settings,
        progress=False,
        anisotropy_interpolation=AnisotropyInterpolation(rtol=rtol, max_stride=16),
    )
    info = d.stats["interpolation"]
    nodes = np.array(info["nodes"][0])
    gaps = np.diff(K[nodes])
    centres = 0.5 * (K[nodes][1:] + K[nodes][:-1])
    near = np.abs(centres - K_STEP) < 300
    assert gaps[near].max() <= 100.0  # solved at every K next to the step
    assert gaps[~near].max() >= 400.0  # ... but not where φ̂ is smooth
    assert info["exact_pairs"] < K.size
    assert any(not v["accepted"] for v in info["verifications"])
    assert info["max_accepted_error"] <= RMS_SHARE * rtol
    # independent check of every element against the synthetic function itself
    shape = d.phi.shape[3:]
    truth = np.stack([synthetic_value(k, settings["angles_deg"], shape) for k in K])[np.newaxis]
    rms, worst = per_angle_errors(d.phi, truth)
    assert rms.max() <= rtol and worst.max() <= MAX_ROW_FACTOR * rtol, (rms.max(), worst.max())
    np.testing.assert_array_equal(rms[~d.interpolated], 0.0)


# --- cache and resume ----------------------------------------------------------------------

SOLVE = dictionary_module._compute_pair  # the real task function


def counting(limit=None):
    """A stand-in for the task function that counts calls and fails after ``limit`` of them."""
    calls = []

    def task(payload):
        if limit is not None and len(calls) >= limit:
            raise RuntimeError("simulated crash")
        calls.append(payload["kwargs"]["anisotropy_Jm3"])
        return SOLVE(payload)

    return task, calls


def test_interrupted_run_resumes_without_recomputing_exact_elements(tmp_path, monkeypatch, exact):
    option = AnisotropyInterpolation(rtol=1e-3, max_stride=8)
    reference = dictionary(tiny_sequence(), tiny_offsets(), **GRID, progress=False, anisotropy_interpolation=option)
    n_exact = reference.stats["interpolation"]["exact_pairs"]
    n_initial = 2 * 5  # K indices 0, 8, 16, 24, 32 per diameter
    cache = tmp_path / "d.h5"

    task, calls = counting(limit=n_initial)
    monkeypatch.setattr(dictionary_module, "_compute_pair", task)
    with pytest.raises(RuntimeError, match="simulated crash"):
        dictionary(
            tiny_sequence(), tiny_offsets(), **GRID, cache=cache, progress=False, anisotropy_interpolation=option
        )
    assert len(calls) == n_initial and not cache.exists()

    task, calls = counting()
    monkeypatch.setattr(dictionary_module, "_compute_pair", task)
    resumed = dictionary(
        tiny_sequence(), tiny_offsets(), **GRID, cache=cache, progress=False, anisotropy_interpolation=option
    )
    assert len(calls) == n_exact - n_initial
    assert not {float(k) for k in K33[[0, 8, 16, 24, 32]]} & set(calls)
    assert resumed.stats["resumed"] == n_initial * 3
    np.testing.assert_array_equal(resumed.phi, reference.phi)
    np.testing.assert_array_equal(resumed.interpolated, reference.interpolated)
    assert resumed.stats["interpolation"]["verifications"] == reference.stats["interpolation"]["verifications"]

    # finished cache: nothing is solved again, the mask round-trips through load()
    task, calls = counting()
    monkeypatch.setattr(dictionary_module, "_compute_pair", task)
    again = dictionary(
        tiny_sequence(), tiny_offsets(), **GRID, cache=cache, progress=False, anisotropy_interpolation=option
    )
    assert calls == [] and again.stats["computed"] == 0
    np.testing.assert_array_equal(again.phi, reference.phi)
    loaded = SystemFunctionDictionary.load(cache)
    np.testing.assert_array_equal(loaded.phi, reference.phi)
    np.testing.assert_array_equal(loaded.interpolated, reference.interpolated)
    np.testing.assert_array_equal(loaded.resolution, reference.resolution)
    rms, worst = per_angle_errors(loaded.phi, exact.phi)
    assert rms.max() <= 1e-3 and worst.max() <= MAX_ROW_FACTOR * 1e-3


def test_cache_with_another_interpolation_setting_is_refused(tmp_path):
    cache = tmp_path / "d.h5"
    settings = dict(GRID, anisotropies_Jm3=K33[:9], diameters_m=[20e-9])
    dictionary(
        tiny_sequence(),
        tiny_offsets(),
        **settings,
        cache=cache,
        progress=False,
        anisotropy_interpolation={"rtol": 1e-3, "max_stride": 4},
    )
    with pytest.raises(ValueError, match=r"other settings.*anisotropy_interpolation\.rtol"):
        dictionary(
            tiny_sequence(),
            tiny_offsets(),
            **settings,
            cache=cache,
            progress=False,
            anisotropy_interpolation={"rtol": 1e-2, "max_stride": 4},
        )
    with pytest.raises(ValueError, match=r"other settings.*anisotropy_interpolation"):
        dictionary(tiny_sequence(), tiny_offsets(), **settings, cache=cache, progress=False)
    # a cache without the option (and without the mask, as older caches) stays valid without it
    plain = tmp_path / "plain.h5"
    first = dictionary(tiny_sequence(), tiny_offsets(), **settings, cache=plain, progress=False)
    import h5py

    with h5py.File(plain, "a") as f:
        del f["interpolated"]
    again = dictionary(tiny_sequence(), tiny_offsets(), **settings, cache=plain, progress=False)
    assert again.stats["computed"] == 0
    np.testing.assert_array_equal(again.phi, first.phi)
    assert not SystemFunctionDictionary.load(plain).interpolated.any()
