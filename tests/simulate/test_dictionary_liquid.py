"""Dictionaries of Brownian tracers over a liquid axis (hydrodynamic diameter or viscosity)."""

import json
import os

import h5py
import numpy as np
import pytest

from mdf_neel.simulate import SystemFunctionDictionary, dictionary, system_functions
from mdf_neel.simulate._dictionary import dictionary_settings
from mdf_neel.simulate.liquid import LiquidAxis
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence

ROWS = SETTINGS["frequencies"]
# a 12 nm core in a 14 nm shell: ω τ_B ≈ 2 at 1 mPa s on the tiny sequence's 300 kHz drive,
# so the rows change strongly along both axes
BASE = dict(diameters_m=[12e-9], angles_deg=[0.0, 60.0], frequencies=ROWS, model="brown", progress=False)
ETAS = [1e-3, 2e-3]
CUBE_ROOT_2 = 2.0 ** (1.0 / 3.0)


@pytest.fixture(scope="module")
def by_viscosity():
    return dictionary(tiny_sequence(), tiny_offsets(), **BASE, viscosities_Pas=ETAS, hydrodynamic_diameter_m=14e-9)


def test_viscosity_axis_elements_are_the_tracers_at_each_viscosity(by_viscosity):
    d = by_viscosity
    assert d.phi.shape == (1, 2, 2, 2, ROWS.size, 6)
    assert d.liquid_axis == LiquidAxis("viscosity_Pas", (1e-3, 2e-3))
    assert list(d.grid_axes) == ["diameter_m", "viscosity_Pas", "angle_deg"]
    np.testing.assert_array_equal(d.grid_axes["viscosity_Pas"], ETAS)
    assert d.particle["viscosity_Pas"] is None and d.particle["hydrodynamic_diameter_m"] == 14e-9
    np.testing.assert_array_equal(d.anisotropies_Jm3, [0.0, 0.0])
    assert d.stats == {"computed": 2, "resumed": 0}  # one solve per (D, η); the easy axis does not enter
    assert np.all(d.phi[:, :, 1] == d.phi[:, :, 0])
    assert "viscosities_Pas=2" in repr(d)
    for j, eta in enumerate(ETAS):
        one = system_functions(tiny_sequence(), tiny_offsets(), diameter_m=12e-9, model="brown", frequencies=ROWS,
                               hydrodynamic_diameter_m=14e-9, viscosity_Pas=eta)  # fmt: skip
        # both hold the row contract (rtol 1e-3 of each row's peak) against a converged solve
        np.testing.assert_allclose(d.element(0, j, 0), one, rtol=0, atol=2e-3 * np.abs(one).max())
    # the axis matters far beyond the contract: doubling η doubles τ_B
    step = np.abs(d.element(0, 1, 0) - d.element(0, 0, 0)).max()
    assert step > 0.1 * np.abs(d.element(0, 0, 0)).max()


def test_hydrodynamic_axis_agrees_with_the_viscosity_axis_at_equal_brown_time(by_viscosity):
    # τ_B = 3 η V_h / (kB T) and the drift Ms Vc / (6 η V_h) depend on η·D_h³ only: doubling η
    # is the same operator as a shell 2^(1/3) times larger
    d = dictionary(tiny_sequence(), tiny_offsets(), **BASE, hydrodynamic_diameters_m=[14e-9, 14e-9 * CUBE_ROOT_2])
    assert d.liquid_axis.parameter == "hydrodynamic_diameter_m" and d.particle["viscosity_Pas"] == 1e-3
    assert list(d.grid_axes)[1] == "hydrodynamic_diameter_m"
    peak = np.abs(by_viscosity.phi).max()
    np.testing.assert_allclose(d.phi, by_viscosity.phi, rtol=0, atol=2e-3 * peak)


KW = dict(BASE, viscosities_Pas=ETAS, hydrodynamic_diameter_m=14e-9)


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("liquid") / "liquid.h5"
    dictionary(tiny_sequence(), tiny_offsets(), **KW, cache=path)
    return path


def test_liquid_axis_cache_roundtrip_and_the_saved_file_names_the_axis(cache_file, by_viscosity):
    np.testing.assert_array_equal(SystemFunctionDictionary.load(cache_file).phi, by_viscosity.phi)
    assert dictionary(tiny_sequence(), tiny_offsets(), **KW, cache=cache_file).stats == {"computed": 0, "resumed": 2}
    loaded = SystemFunctionDictionary.load(cache_file)
    assert loaded.liquid_axis == by_viscosity.liquid_axis and loaded.particle["viscosity_Pas"] is None
    assert list(loaded.grid_axes)[1] == "viscosity_Pas"
    with h5py.File(cache_file, "r") as f:
        np.testing.assert_array_equal(f["viscosities_Pas"][()], ETAS)
        assert json.loads(f["settings"].asstr()[()])["liquid_axis"] == {"parameter": "viscosity_Pas", "values": ETAS}


@pytest.mark.parametrize(
    "change",
    [
        dict(viscosities_Pas=[1e-3, 3e-3]),
        dict(viscosities_Pas=None, hydrodynamic_diameter_m=None, hydrodynamic_diameters_m=[14e-9, 18e-9]),
        dict(viscosities_Pas=None, anisotropies_Jm3=[0.0], viscosity_Pas=1e-3),
    ],
    ids=["other-values", "other-parameter", "no-axis"],
)
def test_cache_with_another_axis_is_refused(cache_file, change):
    other = {k: v for k, v in dict(KW, **change).items() if v is not None}
    with pytest.raises(ValueError, match="other settings.*liquid_axis"):
        dictionary(tiny_sequence(), tiny_offsets(), **other, cache=cache_file)


def test_the_shared_cache_recomputes_when_the_axis_changes(private_cache_dir):
    first = dictionary(tiny_sequence(), tiny_offsets(), **KW, cache=True)
    again = dictionary(tiny_sequence(), tiny_offsets(), **dict(KW, viscosities_Pas=[1e-3, 3e-3]), cache=True)
    assert again.stats == {"computed": 2, "resumed": 0} and len(os.listdir(private_cache_dir)) == 2
    np.testing.assert_array_equal(again.phi[:, 0], first.phi[:, 0])  # η = 1e-3 in both: the same solve
    assert not np.allclose(again.phi[:, 1], first.phi[:, 1])


def test_an_interrupted_liquid_dictionary_resumes_from_its_journal(tmp_path, by_viscosity):
    cache = tmp_path / "d.h5"

    def boom(done, total):
        if done == 1:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        dictionary(tiny_sequence(), tiny_offsets(), **dict(KW, progress=boom), cache=cache)
    assert [n for n in os.listdir(str(cache) + ".parts") if n.endswith(".npz")] == ["e_0_0_0.npz"]
    done = dictionary(tiny_sequence(), tiny_offsets(), **KW, cache=cache)
    assert done.stats == {"computed": 1, "resumed": 1}
    np.testing.assert_array_equal(done.phi, by_viscosity.phi)


def test_a_liquid_model_with_anisotropy_solves_every_angle_along_the_axis(monkeypatch):
    # a model in which K and the easy axis enter (as a joint Néel–Brown model would) takes the
    # same axis: one task per (D, liquid value) with all its angles; the closed-form anisotropic
    # equilibrium stands in (it ignores the liquid, so the columns must agree exactly)
    from mdf_neel.simulate import liquid

    monkeypatch.setattr(liquid, "LIQUID_MODELS", liquid.LIQUID_MODELS + ("anisotropic-equilibrium",))
    kw = dict(BASE, model="anisotropic-equilibrium", anisotropies_Jm3=[2000.0], angles_deg=[0.0, 45.0, 90.0])
    kw.update(diameters_m=[18e-9, 22e-9], viscosities_Pas=ETAS)
    d = dictionary(tiny_sequence(), tiny_offsets(), **kw)
    assert d.phi.shape[:3] == (2, 2, 3) and d.stats == {"computed": 12, "resumed": 0}
    np.testing.assert_array_equal(d.anisotropies_Jm3, [2000.0, 2000.0])
    np.testing.assert_array_equal(d.phi[:, 0], d.phi[:, 1])
    assert np.abs(d.phi[1, 0, 0] - d.phi[1, 0, 1]).max() > 1e-3 * np.abs(d.phi[1, 0, 0]).max()
    one = system_functions(tiny_sequence(), tiny_offsets(), angle_deg=45.0, diameter_m=22e-9, anisotropy_Jm3=2000.0,
                           model="anisotropic-equilibrium", frequencies=ROWS)  # fmt: skip
    # all angles of a task are one call; the equilibrium quadrature may use another node count
    np.testing.assert_allclose(d.element(1, 1, 1), one, rtol=0, atol=1e-12 * np.abs(one).max())


def test_without_an_axis_the_settings_are_unchanged():
    # the axis enters the settings (and fingerprints) only when given: existing caches stay valid
    kw = dict(diameters_m=[2e-8], anisotropies_Jm3=[0.0], angles_deg=[0.0], frequencies=np.array([1]), channels=("x",))
    plain = dictionary_settings(tiny_sequence(), tiny_offsets(), model="brown", particle={}, **kw)
    assert "liquid_axis" not in plain and plain["particle"]["viscosity_Pas"] == 1e-3
    axis = LiquidAxis.from_keywords(viscosities_Pas=[1e-3])
    with_axis = dictionary_settings(tiny_sequence(), tiny_offsets(), model="brown", particle={}, liquid_axis=axis, **kw)
    assert with_axis["liquid_axis"] == {"parameter": "viscosity_Pas", "values": [1e-3]}
    assert with_axis["particle"]["viscosity_Pas"] is None
    assert {k: v for k, v in with_axis.items() if k not in ("liquid_axis", "particle")} == {
        k: v for k, v in plain.items() if k != "particle"
    }


def test_bad_liquid_axes_are_refused():
    kw = dict(BASE)
    with pytest.raises(TypeError, match="not both"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, viscosities_Pas=ETAS, hydrodynamic_diameters_m=[20e-9])
    with pytest.raises(ValueError, match="carrier liquid"):
        dictionary(tiny_sequence(), tiny_offsets(), **dict(kw, model="neel"), viscosities_Pas=ETAS)
    with pytest.raises(ValueError, match="enclose every core"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, hydrodynamic_diameters_m=[10e-9, 20e-9])
    with pytest.raises(ValueError, match="metres"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, hydrodynamic_diameters_m=[20.0])
    with pytest.raises(ValueError, match="positive"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, viscosities_Pas=[1e-3, -1e-3])
    with pytest.raises(ValueError, match="twice"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, viscosities_Pas=[1e-3, 1e-3])
    with pytest.raises(TypeError, match="viscosity_Pas is fixed"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, viscosities_Pas=ETAS, viscosity_Pas=1e-3)
    with pytest.raises(ValueError, match="one value"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw, viscosities_Pas=ETAS, anisotropies_Jm3=[0.0, 1.0])
    with pytest.raises(TypeError, match="needs anisotropies_Jm3"):
        dictionary(tiny_sequence(), tiny_offsets(), **kw)
