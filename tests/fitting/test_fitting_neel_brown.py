"""Combined Néel–Brown tracers over a liquid axis: the dictionary, M1/M2 fits of the viscosity, the cache.

Tolerances come from the row contract: each side's rows are within ``rtol`` RMS (``10·rtol``
max) of converged rows, so two solves of the same tracer differ by at most twice that."""

import numpy as np
import pytest

from mdf_neel.fitting import DictionaryModel, NeelModel
from mdf_neel.physics import PhysicsParameters
from mdf_neel.simulate import dictionary, system_functions, system_matrix
from mdf_neel.simulate._dictionary import dictionary_settings
from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR, contract_row_errors, contract_summary
from mdf_neel.simulate.cache import default_cache_path
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence

RTOL = 1e-2  # the tiny problem at a loose contract: each solve takes seconds
ROWS = SETTINGS["frequencies"]
OFFSETS = tiny_offsets()[:2]  # two offsets on a line: a 2 x 1 grid
ANGLES = (0.0, 90.0)  # the easy axis turns with the body: both angles have the same rows
CORE, SHELL, K = 12e-9, 14e-9, 0.0
GRID = (1e-3, 2e-3)
TRUE_ETA = GRID[1]
MODELS = ("brown", "neel-brown")
# α = 1e8 slows the moment's diffusion in the core far below the body's (ω τ_B ≈ 2 at 1 mPa s),
# so the rows follow the viscosity; K = 0 keeps the easy-axis degree at 0 (cheap and exact)
PHYSICS = PhysicsParameters(alpha=1e8, hydrodynamic_diameter_m=SHELL)
ESTIMATOR = dict(anisotropies_Jm3=(K,), model="neel-brown", alpha=1e8, hydrodynamic_diameter_m=SHELL,
                 viscosities_Pas=GRID, frequencies=ROWS, rtol=RTOL)  # fmt: skip
DICTIONARY = dict(diameters_m=[CORE], anisotropies_Jm3=[K], angles_deg=ANGLES, frequencies=ROWS, model="neel-brown",
                  viscosities_Pas=GRID, physics=PHYSICS, rtol=RTOL, progress=False)  # fmt: skip


def _within_twice_the_contract(rows, reference):
    err = contract_summary(contract_row_errors(rows, reference))
    assert err["rms"] <= 2.0 * RTOL and err["max"] <= 2.0 * MAX_ROW_FACTOR * RTOL, err
    return err


def _X():
    return np.reshape(np.asarray(ANGLES), (-1, 1))


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """The dictionary the estimators ask for, made once by mdf_neel.simulate (they must ask for the same one)."""
    path = tmp_path_factory.mktemp("neel_brown") / "dictionary.h5"
    return path, dictionary(tiny_sequence(), OFFSETS, **DICTIONARY, cache=path)


@pytest.fixture(scope="module")
def measured():
    """A calibration at the grid's second viscosity, one per angle (the same rows at both)."""
    sm = system_matrix(tiny_sequence(), OFFSETS, angle_deg=0.0, diameter_m=CORE, anisotropy_Jm3=K, model="neel-brown",
                       physics=PHYSICS, viscosity_Pas=TRUE_ETA, frequencies=ROWS, rtol=RTOL, unit="1/s")  # fmt: skip
    return [sm.replace(easy_axis_angle_deg=a) for a in ANGLES]


def test_the_viscosity_axis_holds_the_tracer_at_each_viscosity_with_one_solve_per_pair(cached, measured):
    d = cached[1]
    assert d.phi.shape == (1, 2, 2, 2, ROWS.size, 2)
    assert list(d.grid_axes) == ["diameter_m", "viscosity_Pas", "angle_deg"]
    np.testing.assert_array_equal(d.anisotropies_Jm3, [K, K])
    assert d.stats == {"computed": 2, "resumed": 0}  # one angle solved per (D, η), copied to the other
    assert np.all(d.phi[:, :, 1] == d.phi[:, :, 0])
    one = system_functions(tiny_sequence(), OFFSETS, diameter_m=CORE, anisotropy_Jm3=K, angle_deg=ANGLES[1],
                           model="neel-brown", physics=PHYSICS, viscosity_Pas=GRID[0], frequencies=ROWS,
                           rtol=RTOL)  # fmt: skip
    _within_twice_the_contract(d.element(0, 0, 1), one)
    _within_twice_the_contract(d.element(0, 1, 1), measured[1].data)
    # the axis matters far beyond the contract: doubling η doubles τ_B
    assert contract_summary(contract_row_errors(d.element(0, 1, 0), one))["rms"] > 10.0 * RTOL


def test_m1_and_m2_pick_the_viscosity_of_the_data(cached, measured):
    path = cached[0]
    m1 = NeelModel((CORE,), cache=path, **ESTIMATOR).fit(_X(), measured)
    assert m1.liquid_parameter_ == "viscosity_Pas"
    np.testing.assert_array_equal(m1.liquid_values_, GRID)
    assert m1.best_params_ == {"diameter_m": CORE, "viscosity_Pas": TRUE_ETA}
    e = m1.error_map_[0]
    assert e[1] <= 2.0 * RTOL and e[0] > 5.0 * e[1]  # the data's viscosity fits within the contract, the other not
    m2 = DictionaryModel((CORE,), cache=path, **ESTIMATOR).fit(_X(), measured)
    assert m2.weights_.shape == (1, 2) and m2.liquid_parameter_ == "viscosity_Pas"
    assert abs(m2.weights_[0, 1]) > 10.0 * abs(m2.weights_[0, 0])


def test_the_cache_of_one_liquid_model_is_not_reused_for_the_other(cached):
    path = cached[0]
    with pytest.raises(ValueError, match="other settings.*model"):
        dictionary(tiny_sequence(), OFFSETS, **dict(DICTIONARY, model="brown"), cache=path)
    # the shared cache files are named by the settings' fingerprint: the models get different files
    kw = dict(diameters_m=[CORE], anisotropies_Jm3=[K], angles_deg=ANGLES, frequencies=ROWS, channels=("x", "y"),
              particle=PHYSICS.keywords(), liquid_axis=cached[1].liquid_axis)  # fmt: skip
    names = {m: default_cache_path(dictionary_settings(tiny_sequence(), OFFSETS, model=m, **kw)) for m in MODELS}
    assert names["brown"] != names["neel-brown"]


def test_the_fit_command_takes_neel_brown_with_the_liquid_options(measured, tmp_path):
    from mdf_neel.cli import main
    from mdf_neel.mdf import write_system_matrix

    path = write_system_matrix(tmp_path / "sm.mdf", measured[0])
    args = ["fit", str(path), "--model", "m1", "--physics", "neel-brown", "--diameters", "12nm",
            "--viscosities", "1mPas,2mPas", "--max-mixing-order", "2", "2", "--out", str(tmp_path / "fit")]  # fmt: skip
    # the liquid options are taken; K enters, so the paper's K grid is refused along the liquid axis
    with pytest.raises(ValueError, match="anisotropies_Jm3 must hold one value"):
        main(args)


def test_an_angle_free_model_with_a_k_axis_solves_one_angle_per_diameter_and_k(monkeypatch):
    # without a liquid axis K varies and matters: one solve per (D, K), copied over the angles (a cheap
    # model declared angle-free stands in for neel-brown, whose solves cost seconds)
    from mdf_neel.simulate import _dictionary

    monkeypatch.setattr(_dictionary, "ANGLE_FREE_MODELS", _dictionary.ANGLE_FREE_MODELS + ("anisotropic-equilibrium",))
    d = dictionary(tiny_sequence(), tiny_offsets(), **SETTINGS, progress=False)
    n_d, n_k, n_a = d.grid_shape
    assert d.stats == {"computed": n_d * n_k, "resumed": 0}
    assert np.all(d.phi == d.phi[:, :, :1])
    for i_d, D in enumerate(SETTINGS["diameters_m"]):
        for i_k, k in enumerate(SETTINGS["anisotropies_Jm3"]):
            one = system_functions(tiny_sequence(), tiny_offsets(), diameter_m=D, anisotropy_Jm3=k, angle_deg=0.0,
                                   model="anisotropic-equilibrium", frequencies=ROWS)  # fmt: skip
            np.testing.assert_allclose(d.element(i_d, i_k, n_a - 1), one, rtol=1e-12, atol=0)
    # K matters: the two anisotropies give different rows
    assert not np.allclose(d.phi[:, 0], d.phi[:, 1])
