"""Combined Néel–Brown rotation through the system-matrix layer and ``mdf-neel simulate``.

Tolerances come from the row contract: each side's rows are within ``rtol`` RMS (``10·rtol``
max) of converged rows, so two models with the same exact rows differ by at most twice that
(normalised by the reference side's row peaks; the two peaks agree to the same order)."""

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf import validate, write_system_matrix
from mdf_neel.physics import ParticleParameters
from mdf_neel.simulate import preset, system_functions, system_matrix
from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR, contract_row_errors, contract_summary
from mdf_neel.simulate._neel_brown_rows import unique_members
from tests.simulate._tiny import tiny_offsets, tiny_sequence

RTOL = 1e-2


def _within_twice_the_contract(rows, reference):
    err = contract_summary(contract_row_errors(rows, reference))
    assert err["rms"] <= 2.0 * RTOL and err["max"] <= 2.0 * MAX_ROW_FACTOR * RTOL, err
    return err


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    # the test sequence (72 samples) on two offsets of the paper's grid, as an MDF template
    _, grid = preset("paper-2d", grid=(2, 1))
    sm = system_matrix(tiny_sequence(), grid, angle_deg=0, diameter_m=16e-9, model="langevin")
    return write_system_matrix(tmp_path_factory.mktemp("template") / "template.mdf", sm)


def _simulate(template, out, model):
    args = ["simulate", "--template", str(template), "--angles", "0,90", "--diameter", "16e-9",
            "--model", model, "--alpha", "1e8", "--hydrodynamic-diameter", "20e-9", "--viscosity", "1e-3",
            "--rtol", str(RTOL), "--workers", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    data = []
    for name in ("theta_000.mdf", "theta_090.mdf"):
        assert validate(out / name) == []
        with h5py.File(out / name, "r") as f:
            data.append((f["/measurement/data"][0], _provenance(f["/_provenance"])))
    return data


def _provenance(prov):
    return {
        "model": prov["model"].asstr()[()],
        "hydrodynamic_diameter_m": prov["parameters/hydrodynamic_diameter_m"][()],
        "viscosity_Pas": prov["parameters/viscosity_Pas"][()],
        "unit": prov["units/viscosity_Pas"].asstr()[()],
        "brown_time_s": prov["solver/brown_time_s"][()],
        "orientation_resolution": prov["solver"].get("orientation_resolution", np.array(-1))[()],
        "verified": bool(prov["row_contract/verified"][()]),
        "met": bool(prov["row_contract/met"][()]),
        "rtol": prov["row_contract/rtol"][()],
    }


def test_cli_neel_brown_writes_valid_files_with_liquid_provenance_and_brown_rows_without_neel(template, tmp_path):
    # α = 1e8 switches the Néel process off (its rates fall as 1/α: τ_B/τ = 4e-9 here), so
    # the particle turns rigidly and the rows are Brownian rotation's (model="brown")
    nb = _simulate(template, tmp_path / "nb", "neel-brown")
    p = ParticleParameters(16e-9, alpha=1e8, hydrodynamic_diameter_m=20e-9, viscosity_Pas=1e-3)
    for _, prov in nb:
        assert prov["model"] == "neel-brown" and prov["unit"] == "Pa s"
        assert prov["hydrodynamic_diameter_m"] == 20e-9 and prov["viscosity_Pas"] == 1e-3
        assert prov["brown_time_s"] == pytest.approx(p.brown_time_s, rel=1e-12)
        assert prov["orientation_resolution"] == 0  # K = 0: the density stays uniform in the axis
        assert prov["verified"] and prov["met"] and prov["rtol"] == RTOL
    # the easy axis turns with the body: every angle has the same rows
    np.testing.assert_array_equal(nb[0][0], nb[1][0])
    brown = _simulate(template, tmp_path / "brown", "brown")
    assert np.abs(brown[0][0]).max() > 0
    _within_twice_the_contract(nb[0][0], brown[0][0])


def test_without_anisotropy_the_rows_are_the_neel_models_with_the_parallel_relaxation_time():
    # K = 0: Néel and Brown diffusion in parallel, 1/τ' = 1/τ + 1/τ_B; model="neel" at K = 0
    # with α' = α τ/τ' and γ' = γ̃(1 + α'²) has the same precession γ̃ = γ/(1 + α²), free
    # diffusion τ' and drift (tests/physics/test_neel_brown.py); η = 3e-6 Pa s makes
    # τ_B = 1.3 τ, so the body's rotation counts
    seq, off = tiny_sequence(), tiny_offsets()[[0, 4]]
    liquid = dict(hydrodynamic_diameter_m=20e-9, viscosity_Pas=3e-6)
    p = ParticleParameters(16e-9, **liquid)
    tau_eff = 1.0 / (1.0 / p.tau_s + 1.0 / p.brown_time_s)
    alpha = p.alpha * p.tau_s / tau_eff
    gamma = p.gamma / (1.0 + p.alpha**2) * (1.0 + alpha**2)
    kw = dict(diameter_m=16e-9, rtol=RTOL, resolution=8, return_info=True)
    rows, info = system_functions(seq, off, model="neel-brown", angle_deg=30.0, **liquid, **kw)
    ref, _ = system_functions(seq, off, model="neel", alpha=alpha, gamma=gamma, method="full", **kw)
    assert info["contract"]["verified"] and info["contract"]["met"]
    _within_twice_the_contract(rows, ref)
    # the body's rotation is seen: the plain Néel rows are far outside
    plain, _ = system_functions(seq, off, model="neel", method="full", **kw)
    assert contract_summary(contract_row_errors(plain, ref))["rms"] > 4.0 * RTOL


def test_members_of_the_same_field_are_solved_once():
    f = np.zeros((5, 3, 3))
    f[1] = f[4] = 2.0
    f[2] = -1.0
    first, inverse = unique_members(f)
    assert first.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(f[first][inverse], f)


def test_the_reference_is_higher_in_both_the_moment_and_the_axis_degree(monkeypatch):
    # the verification's reference must check the truncation in the easy axis too: with K > 0
    # every solve at moment degree L_m + 2 is at axis degree L_n + 2
    from mdf_neel.simulate import _neel_brown_rows
    from mdf_neel.simulate.accuracy import REFERENCE_EXTRA_DEGREE

    calls = []

    def fake(times_s, fields_T, particle, degree, orientation_degree, tol, mean_rtol):
        calls.append((degree, orientation_degree, tol))
        # a smooth periodic moment whose error falls with the degrees and the step tolerance
        phase = 2 * np.pi * np.arange(times_s.size) / times_s.size
        m = np.zeros(fields_T.shape)
        m[..., 0] = np.tanh(200.0 * fields_T[..., 0]) + 1e-3 * 2.0**-degree + tol * np.cos(3 * phase)
        return m, {"method": "full", "resolution": degree, "orientation_resolution": orientation_degree}

    monkeypatch.setattr(_neel_brown_rows, "neel_brown_magnetization", fake)
    # the cost estimate solves and factorises for real: not what is tested here
    estimate = dict(seconds=1.0, steps=1, step_s=1.0, reference_step_s=1.0, unknowns=1, reference_unknowns=1)
    monkeypatch.setattr(_neel_brown_rows, "estimated_seconds", lambda *args: estimate)
    seq, off = tiny_sequence(), tiny_offsets()[[0, 4]]
    rows, info = system_functions(seq, off, model="neel-brown", diameter_m=16e-9, anisotropy_Jm3=3000.0,
                                  hydrodynamic_diameter_m=20e-9, resolution=8, rtol=RTOL, return_info=True)  # fmt: skip
    lm, ln = info["contract"]["degree"], info["orientation_resolution"]
    assert info["contract"]["met"] and lm == 8 and ln >= 2
    reference = [(d, o) for d, o, t in calls if t < info["contract"]["step_tolerance"]]
    assert reference and all((d, o) == (lm + REFERENCE_EXTRA_DEGREE, ln + REFERENCE_EXTRA_DEGREE) for d, o in reference)
    assert {(d, o) for d, o, _ in calls} == {(lm, ln), (lm + 2, ln + 2)}
