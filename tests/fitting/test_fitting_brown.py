"""Fluid-tracer calibrations: M1/M2 over a viscosity (or hydrodynamic-diameter) axis of Brownian rotation."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
)

from mdf_neel.fitting import DictionaryModel, NeelModel, load_model, save_model
from mdf_neel.physics import PhysicsParameters
from mdf_neel.simulate import dictionary, system_functions, system_matrix
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence

ROWS = SETTINGS["frequencies"]
ANGLES = (0.0, 90.0)  # the easy axis does not enter Brownian rotation; two samples all the same
# a 12 nm core in a 14 nm shell: ω τ_B ≈ 2 at 1 mPa s on the tiny sequence's ~300 kHz drive
CORE, SHELL = 12e-9, 14e-9
GRID = (0.5e-3, 1e-3, 2e-3, 4e-3)  # factor-2 spacing
TRUE_ETA = 1.2e-3  # off the grid; its nearest grid point (in log η) is 1e-3
LIQUID = dict(model="brown", hydrodynamic_diameter_m=SHELL, frequencies=ROWS)


def _X(angles=ANGLES):
    return np.reshape(np.asarray(angles, dtype=float), (-1, 1))


def _measured(eta, angles=ANGLES):
    """One calibration per angle; Brownian rotation does not see the easy axis, so one solve serves all."""
    sm = system_matrix(tiny_sequence(), tiny_offsets(), angle_deg=angles[0], diameter_m=CORE, model="brown",
                       hydrodynamic_diameter_m=SHELL, viscosity_Pas=eta, frequencies=ROWS, unit="1/s")  # fmt: skip
    return [sm.replace(easy_axis_angle_deg=float(a)) for a in angles]


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory):
    """The dictionary the estimators ask for, made once by mdf_neel.simulate (they must ask for the same one)."""
    path = tmp_path_factory.mktemp("brown") / "dictionary.h5"
    dictionary(tiny_sequence(), tiny_offsets(), diameters_m=[CORE], angles_deg=ANGLES, frequencies=ROWS,
               model="brown", viscosities_Pas=GRID, physics=PhysicsParameters(hydrodynamic_diameter_m=SHELL),
               rtol=1e-3, cache=path, progress=False)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def measured():
    return _measured(TRUE_ETA)


def test_m1_recovers_an_off_grid_viscosity_within_the_grid_spacing(cache_file, measured):
    est = NeelModel((CORE,), viscosities_Pas=GRID, cache=cache_file, **LIQUID).fit(_X(), measured)
    assert est.liquid_parameter_ == "viscosity_Pas"
    assert est.best_params_ == {"diameter_m": CORE, "viscosity_Pas": 1e-3}
    best = est.best_params_["viscosity_Pas"]
    assert abs(np.log(best / TRUE_ETA)) <= np.log(2.0)  # within one grid step
    # ε_global falls towards the true viscosity from both sides: the optimum is not an edge effect
    e = est.error_map_[0]
    assert e.shape == (4,) and np.all(np.diff(e[:2]) < 0) and np.all(np.diff(e[1:]) > 0)
    # the rows move with η far more than the solver's row contract (rtol 1e-3): the minimum is resolved
    assert e[1] < 0.5 * min(e[0], e[2])
    np.testing.assert_array_equal(est.atom_liquid_values_, [1e-3])
    np.testing.assert_array_equal(est.anisotropies_Jm3_, np.zeros(4))
    (pred,) = est.predict(_X([0.0]))
    assert pred.provenance["fitting"]["model"] == "brown"
    np.testing.assert_array_equal(pred.provenance["fitting"]["atom_viscosities_Pas"], [1e-3])
    assert "viscosity_Pas" not in pred.provenance["fitting"]


def test_m1_on_grid_viscosity_is_exact_and_the_hydrodynamic_axis_picks_the_equivalent_shell(cache_file):
    y = _measured(2e-3)
    est = NeelModel((CORE,), viscosities_Pas=GRID, cache=cache_file, **LIQUID).fit(_X(), y)
    assert est.best_params_["viscosity_Pas"] == 2e-3
    # both solves hold the row contract (rtol 1e-3 RMS) against a converged one
    assert est.training_error_ < 2e-3
    # τ_B ∝ η D_h³: at 1 mPa s, a shell 2^(1/3) larger turns as the 14 nm one at 2 mPa s
    shells = tuple(SHELL * f for f in (1.0, 2.0 ** (1 / 3), 4.0 ** (1 / 3)))
    by_shell = NeelModel((CORE,), model="brown", hydrodynamic_diameters_m=shells, frequencies=ROWS, cache=False)
    by_shell.fit(_X(ANGLES[:1]), y[:1])
    assert by_shell.best_params_ == {"diameter_m": CORE, "hydrodynamic_diameter_m": shells[1]}


def test_m2_puts_the_weight_on_the_two_grid_viscosities_around_the_true_one(cache_file, measured):
    est = DictionaryModel((CORE,), viscosities_Pas=GRID, cache=cache_file, **LIQUID).fit(_X(), measured)
    w = est.weights_[0]
    assert w.shape == (4,) and np.all(w >= 0)
    assert w[1] + w[2] > 0.95 * w.sum() and w[1] > w[2]  # 1.2 mPa s lies between 1 and 2, nearer 1
    assert (
        est.training_error_
        <= NeelModel((CORE,), viscosities_Pas=GRID, cache=cache_file, **LIQUID).fit(_X(), measured).training_error_
        + 1e-12
    )
    assert set(est.atom_liquid_values_) <= set(GRID)


def test_precomputed_dictionary_and_array_data(cache_file):
    from mdf_neel.simulate import SystemFunctionDictionary

    dic = SystemFunctionDictionary.load(cache_file)
    y = system_functions(tiny_sequence(), tiny_offsets(), diameter_m=CORE, model="brown", hydrodynamic_diameter_m=SHELL,
                         viscosity_Pas=4e-3, frequencies=ROWS)[None]  # fmt: skip
    est = NeelModel((CORE,), viscosities_Pas=GRID, dictionary=dic, **LIQUID).fit(_X((0.0,)), y)
    assert est.best_params_["viscosity_Pas"] == 4e-3
    with pytest.raises(ValueError, match="second axis is viscosities_Pas"):
        NeelModel((CORE,), anisotropies_Jm3=(0.0,), dictionary=dic, **LIQUID).fit(_X((0.0,)), y)
    with pytest.raises(ValueError, match="hydrodynamic_diameter_m but the dictionary"):
        NeelModel((CORE,), model="brown", hydrodynamic_diameters_m=(SHELL,), dictionary=dic).fit(_X((0.0,)), y)
    with pytest.raises(ValueError, match="not in the dictionary's grid"):
        NeelModel((CORE,), viscosities_Pas=(3e-3,), dictionary=dic, **LIQUID).fit(_X((0.0,)), y)


def test_save_load_and_predict_at_a_new_angle(cache_file, measured, tmp_path):
    est = NeelModel((CORE,), viscosities_Pas=GRID, tf_mode="shared", cache=cache_file, **LIQUID).fit(_X(), measured)
    save_model(est, tmp_path / "m1")
    back = load_model(tmp_path / "m1")
    assert back.best_params_ == est.best_params_ and back.liquid_parameter_ == "viscosity_Pas"
    np.testing.assert_array_equal(back.liquid_values_, GRID)
    # a new angle is simulated at the fitted viscosity; Brownian rotation does not see the axis
    new = back.predict(_X([45.0]))[0].data
    np.testing.assert_allclose(new, est.predict(_X([0.0]))[0].data, rtol=0, atol=2e-3 * np.abs(new).max())


def test_bad_liquid_parameters_are_refused_in_fit_not_in_init(measured):
    X = _X()
    bad = [
        (dict(viscosities_Pas=GRID, hydrodynamic_diameters_m=(20e-9,)), "not both"),
        (dict(viscosities_Pas=GRID, model="neel"), "carrier liquid"),
        (dict(viscosities_Pas=GRID, viscosity_Pas=1e-3), "set viscosity_Pas=None"),
        (dict(viscosities_Pas=(1e-3, -1.0)), "positive"),
        (dict(viscosity_Pas=0.0), "viscosity_Pas must be positive"),
        (dict(hydrodynamic_diameters_m=(10e-9,)), "enclose every core"),
        (dict(model="brwon"), "model must be one of"),
        (dict(model="neel-anisotropic", viscosities_Pas=GRID), "model must be one of"),
    ]
    for params, message in bad:
        kw = dict(LIQUID, **params)
        if "hydrodynamic_diameters_m" in kw:
            kw.pop("hydrodynamic_diameter_m")
        est = NeelModel((CORE,), cache=False, **kw)  # stored unchanged, validated in fit
        assert est.get_params()["model"] == kw["model"]
        with pytest.raises(ValueError, match=message):
            est.fit(X, measured)


@pytest.mark.parametrize("Est", [NeelModel, DictionaryModel])
def test_sklearn_parameter_rules_with_liquid_parameters(Est):
    est = Est(model="brown", hydrodynamic_diameter_m=30e-9, viscosities_Pas=GRID)
    check_no_attributes_set_in_init(Est.__name__, est)
    check_get_params_invariance(Est.__name__, est)
    check_set_params(Est.__name__, est)
    assert clone(est).get_params() == est.get_params()
    assert est.set_params(viscosities_Pas=None, viscosity_Pas=2e-3).get_params()["viscosity_Pas"] == 2e-3


def test_fit_cli_fits_the_viscosity_of_a_fluid_calibration(tmp_path):
    pytest.importorskip("matplotlib")
    from mdf_neel.cli import main
    from mdf_neel.fitting.metrics import frequency_set
    from mdf_neel.mdf import write_system_matrix

    rows, _ = frequency_set(tiny_sequence(), 2, 2)  # the rows the command fits with --max-mixing-order 2 2
    sm = system_matrix(tiny_sequence(), tiny_offsets(), angle_deg=0.0, diameter_m=CORE, model="brown",
                       hydrodynamic_diameter_m=SHELL, viscosity_Pas=TRUE_ETA, frequencies=rows, unit="1/s")  # fmt: skip
    path = tmp_path / "fluid.mdf"
    write_system_matrix(path, sm)
    out = tmp_path / "fit"
    args = ["fit", str(path), "--model", "m1", "--physics", "brown", "--diameters", "12nm", "--max-mixing-order",
            "2", "2", "--hydrodynamic-diameter", str(SHELL), "--viscosities", "1mPas,2mPas", "--no-predict",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    model = load_model(out / "model")
    assert model.liquid_parameter_ == "viscosity_Pas" and model.get_params()["viscosities_Pas"] == (1e-3, 2e-3)
    assert model.best_params_["viscosity_Pas"] == 1e-3
    assert model.best_params_["diameter_m"] == pytest.approx(CORE, rel=1e-12)
    assert "'viscosity_Pas': 0.001" in (out / "report" / "report.md").read_text()
    with pytest.raises(ValueError, match="need --model m1/m2 with --physics brown"):
        main(["fit", str(path), "--model", "m1", "--viscosities", "1e-3", "--out", str(out)])


def test_a_liquid_model_with_anisotropy_holds_one_k_along_the_axis(monkeypatch, measured):
    # where K enters (a joint Néel–Brown model), the liquid axis needs K fixed at one value
    from mdf_neel.simulate import liquid

    monkeypatch.setattr(liquid, "LIQUID_MODELS", liquid.LIQUID_MODELS + ("anisotropic-equilibrium",))
    kw = dict(LIQUID, model="anisotropic-equilibrium", viscosities_Pas=GRID, cache=False)
    with pytest.raises(ValueError, match="anisotropies_Jm3 must hold one value"):
        NeelModel((CORE,), anisotropies_Jm3=(500.0, 1000.0), **kw).fit(_X(), measured)
    est = NeelModel((CORE,), anisotropies_Jm3=(1000.0,), **kw).fit(_X(), measured)
    np.testing.assert_array_equal(est.anisotropies_Jm3_, np.full(4, 1000.0))
    np.testing.assert_array_equal(est.atom_params_[:, 1], [1000.0])
