"""Brownian rotation through the system-matrix layer, the dictionary and ``mdf-neel simulate``."""

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf import validate
from mdf_neel.physics import ParticleParameters, langevin_magnetization, mean_magnetization
from mdf_neel.sequence import paper_2d_sequence
from mdf_neel.simulate import dictionary, system_functions
from mdf_neel.simulate._dictionary import dictionary_settings
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence


def test_cli_brown_records_model_liquid_and_row_contract(tmp_path):
    out = tmp_path / "sm"
    args = ["simulate", "--preset", "paper-2d", "--grid", "2x2", "--angles", "0,90", "--diameter", "14e-9",
            "--anisotropy", "3000", "--model", "brown", "--hydrodynamic-diameter", "30e-9", "--viscosity", "2e-3",
            "--workers", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    p = ParticleParameters(14e-9, hydrodynamic_diameter_m=30e-9, viscosity_Pas=2e-3)
    data = []
    for name in ("theta_000.mdf", "theta_090.mdf"):
        assert validate(out / name) == []
        with h5py.File(out / name, "r") as f:
            prov = f["/_provenance"]
            assert prov["model"].asstr()[()] == "brown"
            assert prov["parameters/hydrodynamic_diameter_m"][()] == 30e-9
            assert prov["parameters/viscosity_Pas"][()] == 2e-3
            assert prov["units/viscosity_Pas"].asstr()[()] == "Pa s"
            assert prov["solver/brown_time_s"][()] == pytest.approx(p.brown_time_s, rel=1e-12)
            assert prov["row_contract/verified"][()] and prov["row_contract/met"][()]
            data.append(f["/measurement/data"][:])
    # neither the easy axis nor K enters Brownian rotation
    np.testing.assert_array_equal(data[0], data[1])
    assert np.abs(data[0]).max() > 0


def test_dictionary_of_brown_is_one_element_per_diameter_and_fingerprints_the_solver():
    kw = dict(SETTINGS, model="brown", diameters_m=[14e-9], anisotropies_Jm3=[0.0, 2000.0], angles_deg=[0.0, 60.0])
    d = dictionary(tiny_sequence(), tiny_offsets(), **kw, viscosity_Pas=2e-3, progress=False)
    assert d.stats["computed"] == 1
    assert np.all(d.phi[0] == d.phi[0, 0, 0])
    assert d.resolution[0, 0, 0] > 0
    assert d.particle["viscosity_Pas"] == 2e-3 and d.particle["hydrodynamic_diameter_m"] is None
    settings = dictionary_settings(tiny_sequence(), tiny_offsets(), **kw, channels=("x", "y"), particle={})
    assert isinstance(settings["solver"], dict)  # the Fokker–Planck solver's settings, not "closed-form"
    one = system_functions(tiny_sequence(), tiny_offsets(), angle_deg=60.0, diameter_m=14e-9, model="brown",
                           viscosity_Pas=2e-3, frequencies=SETTINGS["frequencies"])  # fmt: skip
    # both hold the row contract (rtol 1e-3 of each row's peak) against a converged solve
    np.testing.assert_allclose(d.element(0, 1, 1), one, rtol=0, atol=2e-3 * np.abs(one).max())


def test_low_viscosity_approaches_langevin_linearly_in_the_viscosity():
    # τ_B ∝ η: at τ_B ω ≪ 1 the lag behind the Langevin equilibrium is first order in τ_B,
    # so the deviation from Langevin shrinks 10× from η = 1e-6 to 1e-7 Pa s (to O(τ_B²))
    seq = paper_2d_sequence()
    t = seq.times_s()
    b = seq.field_T(t)
    f = np.stack([b, b + np.array([4e-3, -3e-3, 0.0])])
    p = ParticleParameters(22e-9)
    lan = langevin_magnetization(f, p.xi_per_tesla)
    dev = []
    for eta in (1e-6, 1e-7):
        m = mean_magnetization(t, f, diameter_m=22e-9, model="brown", viscosity_Pas=eta, rtol=1e-6)
        dev.append(m - lan)
    # ω τ_B ≈ 6.5e-5 at 1e-7 Pa s: a lag of order ξ-scaled dm/dt·τ_B, ~2e-4 of full scale
    assert np.abs(dev[1]).max() < 3e-4
    # the stepper error (rtol 1e-6) is < 1 % of the 1e-6 Pa s deviation of ~2e-3
    np.testing.assert_allclose(dev[0], 10 * dev[1], atol=0.01 * np.abs(dev[0]).max())
