"""The row-accuracy contract: the metric, the settings, and default rows against converged solves."""

import numpy as np
import pytest

from mdf_neel.fitting.metrics import frequency_set, nrmse_rows
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.simulate import accuracy
from mdf_neel.simulate._system_functions import angle_system_functions, neel_resolution
from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR, ROW_FLOOR, SolverSettings, contract_row_errors, contract_summary

SEQUENCE = paper_2d_sequence()
ROWS = frequency_set(SEQUENCE)[0]  # the paper's 97 I_freq rows
#: converged reference: 100x tighter steps than the loosest default batch, four more degrees
REFERENCE_STEP_TOLERANCE = 2.5e-8


def test_contract_errors_are_eq20_with_a_floor_on_the_normalisation(rng):
    ref = rng.normal(size=(2, 5, 9)) + 1j * rng.normal(size=(2, 5, 9))
    ref[1, 3] *= 1e-8  # a row far below the floor
    sim = ref + 1e-9 * (rng.normal(size=ref.shape) + 1j * rng.normal(size=ref.shape))
    got = contract_row_errors(sim, ref)
    plain = nrmse_rows(ref, sim)  # eq. 20, normalised by each row's own peak
    strong = np.abs(ref).max(axis=-1) >= ROW_FLOOR * np.abs(ref).max()
    np.testing.assert_allclose(got[strong], plain[strong], rtol=1e-12)
    floor = ROW_FLOOR * np.abs(ref).max()
    expected_weak = np.sqrt(np.mean(np.abs(sim[1, 3] - ref[1, 3]) ** 2)) / floor
    assert got[1, 3] == pytest.approx(expected_weak, rel=1e-12)
    assert got[1, 3] < plain[1, 3] * 1e-2
    summary = contract_summary(got)
    assert summary["max"] == got.max() and summary["rms"] == pytest.approx(np.sqrt(np.mean(got**2)))


def test_solver_settings_validate_and_fold_legacy_keywords():
    assert SolverSettings.coerce(None, rtol=1e-4).rtol == 1e-4
    assert SolverSettings.coerce({"method": "full"}, rtol=None).method == "full"
    assert SolverSettings().mean_rtol == pytest.approx(1e-4)
    for bad in (
        dict(rtol=0.0),
        dict(rtol="x"),
        dict(method="euler"),
        dict(resolution=0),
        dict(step_tolerance=-1.0),
        dict(verify="yes"),
    ):
        with pytest.raises(ValueError, match="SolverSettings"):
            SolverSettings(**bad)
    with pytest.raises(TypeError, match="SolverSettings"):
        SolverSettings.coerce(3)


def _rows(diameter_m, anisotropy_Jm3, angles, offset_index, **kw):
    offsets = paper_2d_offsets()[0][offset_index]
    return angle_system_functions(
        SEQUENCE,
        offsets,
        angles_deg=angles,
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        frequencies=ROWS,
        **kw,
    )


def _converged(diameter_m, anisotropy_Jm3, angles, offset_index):
    offsets = paper_2d_offsets()[0][offset_index]
    degree = neel_resolution(SEQUENCE, offsets, diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3, rtol=1e-6)
    return _rows(
        diameter_m,
        anisotropy_Jm3,
        angles,
        offset_index,
        method="full",
        resolution=degree + 4,
        step_tolerance=REFERENCE_STEP_TOLERANCE,
    )


def _assert_contract(rows, reference, rtol=accuracy.DEFAULT_RTOL):
    # one matrix per angle: each is normalised by its own peak
    err = contract_row_errors(rows, reference)
    summary = contract_summary(err)
    assert summary["rms"] <= rtol and summary["max"] <= MAX_ROW_FACTOR * rtol, summary
    return summary


def test_default_rows_hold_the_contract_where_the_old_default_missed_it():
    # 14 nm / 100 J/m³: the weakest high mixing orders of the grid (about 1e-5 of the peak)
    angles, offsets = [0.0, 75.0], [0, 60, 115]
    reference = _converged(14e-9, 100.0, angles, offsets)
    rows, info = _rows(14e-9, 100.0, angles, offsets, return_info=True)
    _assert_contract(rows, reference)
    assert info["contract"]["met"] and info["contract"]["verified"]
    # the same batch at the former default (m̄ tolerance 1e-4, unverified) misses it
    old = _rows(14e-9, 100.0, angles, offsets, rtol=1e-3, step_tolerance=2.5e-5)
    assert contract_summary(contract_row_errors(old, reference))["max"] > MAX_ROW_FACTOR * 1e-3


def test_a_failed_check_tightens_the_steps_until_the_contract_holds(monkeypatch):
    monkeypatch.setattr(accuracy, "STEP_TOL_PER_RTOL", 0.25)  # far too loose a start
    angles, offsets = [30.0], [0, 60, 120]
    rows, info = _rows(16e-9, 2300.0, angles, offsets, return_info=True)
    contract = info["contract"]
    assert contract["checks"] >= 2 and contract["met"]
    assert contract["history"][0]["max"] > contract["history"][-1]["max"]
    _assert_contract(rows, _converged(16e-9, 2300.0, angles, offsets))


@pytest.mark.slow
@pytest.mark.parametrize("diameter_m, anisotropy_Jm3", [(16e-9, 2300.0), (22e-9, 1100.0), (20e-9, 4400.0)])
def test_default_rows_hold_the_contract_on_the_paper_grid(diameter_m, anisotropy_Jm3):
    angles, offsets = [0.0, 30.0, 75.0], [0, 60, 120, 5, 37]
    rows, info = _rows(diameter_m, anisotropy_Jm3, angles, offsets, return_info=True)
    assert info["contract"]["met"]
    _assert_contract(rows, _converged(diameter_m, anisotropy_Jm3, angles, offsets))


def test_a_too_low_first_degree_is_raised_until_its_error_fits(monkeypatch):
    # an m̄ target of 1000·rtol gives a degree far too low for the rows; the check of the
    # degree's own error must raise it, and the rows must still hold the contract
    monkeypatch.setattr(accuracy, "DEGREE_RTOL_PER_RTOL", 1e3)
    angles, offsets = [20.0, 80.0], [0, 30, 60, 90, 120]
    rows, info = _rows(18e-9, 1500.0, angles, offsets, return_info=True)
    from mdf_neel.physics import ParticleParameters, choose_resolution

    p = ParticleParameters(18e-9, 1500.0)
    fields = SEQUENCE.field_T(SEQUENCE.times_s())[None] + paper_2d_offsets()[0][offsets][:, None]
    first = choose_resolution(p.xi_per_tesla * np.linalg.norm(fields, axis=-1).max(), p.sigma, 1.0)
    assert info["contract"]["degree"] > first
    assert info["contract"]["met"]
    _assert_contract(rows, _converged(18e-9, 1500.0, angles, offsets))


def _synthetic_estimate(rate, scale):
    """Estimates of a stepper whose row errors grow as scale·tol^rate (max 5x the RMS)."""

    def estimate_at(tol):
        rms = scale * tol**rate
        return {"rms": rms, "max": 5.0 * rms}

    return estimate_at


@pytest.mark.parametrize("rate", [1.0, 1.2, 1.4, 2.0])
def test_the_pilot_loosens_only_within_the_bounds(rate):
    rtol = 1e-3
    start = accuracy.STEP_TOL_PER_RTOL * rtol
    # far inside the bounds at the start: the pilot loosens, and what it keeps is measured
    # (not predicted) to lie within RETRY_AIM of the acceptance bounds
    estimate_at = _synthetic_estimate(rate, 1e-6 / start**rate)
    est, tol = accuracy._pilot(estimate_at, start, rtol)
    assert tol > start
    assert est == estimate_at(tol)
    assert accuracy._ratio(est, rtol) <= accuracy.RETRY_AIM
    assert tol <= start * accuracy.LOOSEN_MAX_FACTOR**accuracy.LOOSEN_TRIES
    # too large at the start: tightened, never loosened
    estimate_at = _synthetic_estimate(rate, 1e-2 / start**rate)
    _, tol = accuracy._pilot(estimate_at, start, rtol)
    assert tol < start


def test_the_slow_mode_model_is_held_to_a_stricter_rms_margin():
    # its error is a model error that varies more between members than the stepper's, so
    # four checked members stand for the batch less well
    rtol = 1e-3
    est = {"rms": 0.4 * rtol, "max": 0.0}
    assert accuracy._ratio(est, rtol) <= 1.0
    assert accuracy._ratio(est, rtol, accuracy.SLOW_MODE_ACCEPT_FRACTION) > 1.0
    assert accuracy.SLOW_MODE_ACCEPT_FRACTION < accuracy.ACCEPT_FRACTION
