"""The row contract with the quasi-static series: chosen for fast-relaxing particles,
checked against converged full solves, and replaced by the stepper when it misses."""

import numpy as np
import pytest

from mdf_neel.fitting.metrics import frequency_set
from mdf_neel.physics.neel import dispatch
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.simulate import accuracy
from mdf_neel.simulate._system_functions import angle_system_functions, neel_resolution
from mdf_neel.simulate.accuracy import MAX_ROW_FACTOR, contract_row_errors, contract_summary

SEQUENCE = paper_2d_sequence()
ROWS = frequency_set(SEQUENCE)[0]
ANGLES, OFFSETS = [0.0, 75.0], [0, 60, 115, 37]
#: 14 nm / 100 J/m³: the weakest high mixing orders of the grid, τ_1 = 4.9 ns
PARTICLE = dict(diameter_m=14e-9, anisotropy_Jm3=100.0)


def _rows(**kw):
    return angle_system_functions(
        SEQUENCE, paper_2d_offsets()[0][OFFSETS], angles_deg=ANGLES, frequencies=ROWS, **PARTICLE, **kw
    )


@pytest.fixture(scope="module")
def converged():
    offsets = paper_2d_offsets()[0][OFFSETS]
    degree = neel_resolution(SEQUENCE, offsets, rtol=1e-6, **PARTICLE)
    return _rows(method="full", resolution=degree + 4, step_tolerance=2.5e-8)


@pytest.fixture
def small_batches(monkeypatch):
    # the series (like the slow-mode model) is tried on batches of 48 members and more; 8 here
    monkeypatch.setattr(accuracy, "SLOW_MODE_MIN_BATCH", 8)


def _summary(rows, reference):
    return contract_summary(contract_row_errors(rows, reference))


def test_fast_relaxing_particles_take_the_series_and_hold_the_contract(small_batches, converged):
    rows, info = _rows(return_info=True)
    contract = info["contract"]
    assert info["method"] == "quasi-static" and contract["method"] == "quasi-static"
    assert contract["met"] and contract["verified"] and contract["step_tolerance"] is None
    assert info["steps"].sum() == 0  # no time stepping in the batch
    true = _summary(rows, converged)
    assert true["rms"] <= 1e-3 and true["max"] <= MAX_ROW_FACTOR * 1e-3, true


def test_a_series_that_misses_its_check_is_replaced_by_the_stepper(small_batches, converged, monkeypatch):
    # the zeroth order alone (the Boltzmann density at the instantaneous field) misses the rows
    monkeypatch.setattr(dispatch, "choose_order", lambda tau_s, frequency_Hz, rtol: 0)
    rows, info = _rows(return_info=True)
    history = info["contract"]["history"]
    assert history[0]["method"] == "quasi-static" and accuracy._ratio(history[0], 1e-3, 0.3) > 1.0
    assert info["contract"]["met"] and info["method"] == "full"
    true = _summary(rows, converged)
    assert true["rms"] <= 1e-3 and true["max"] <= MAX_ROW_FACTOR * 1e-3, true


def test_only_fast_relaxing_particles_try_the_series():
    # 26 nm / 8500 J/m³ relaxes in 0.09 s at zero field; 14 nm / 100 J/m³ in 4.9 ns
    p = dict(diameter_m=26e-9, anisotropy_Jm3=8500.0, model="neel")
    times = SEQUENCE.times_s()
    assert not accuracy._quasi_static_applies(p, times, None, 1e-3)
    assert accuracy._quasi_static_applies(dict(PARTICLE, model="neel"), times, None, 1e-3)
    # 22 nm / 1100 J/m³: τ_1 = 37 ns; 2π f τ_1 = 0.29 at the Nyquist frequency (1.25 MHz), 0.105
    # at the paper's highest row (455 kHz), whose fourth order truncates at 0.105^5 = 1.3e-5
    slow = dict(diameter_m=22e-9, anisotropy_Jm3=1100.0, model="neel")
    assert not accuracy._quasi_static_applies(slow, times, None, 1e-3)
    assert accuracy._quasi_static_applies(slow, times, 455e3, 1e-3)
    # 16 nm / 8600 J/m³: 0.225 at the highest row, order 6 (0.225^7 = 3e-5)
    at_16 = dict(diameter_m=16e-9, anisotropy_Jm3=8600.0)
    fields = np.full((1, 3), 0.039 / np.sqrt(3.0))
    assert accuracy._quasi_static_applies(at_16, times, 455e3, 1e-3, fields)
    assert not accuracy._quasi_static_applies(at_16, times, 455e3, 1e-4, fields)  # order 7 needed


def test_the_series_table_is_graded_and_bounded(monkeypatch):
    # 28 nm / 100 J/m³ at the paper's fields (39 mT, ξ = 53): the graded quadrant (order 4) takes
    # 8.5 MiB where a uniform one would take 500 MiB; a table above the bound is refused
    from mdf_neel.physics import ParticleParameters
    from mdf_neel.physics.neel import quasi_static

    times = SEQUENCE.times_s()
    at_28 = dict(diameter_m=28e-9, anisotropy_Jm3=100.0)
    fields = np.full((1, 3), 0.039 / np.sqrt(3.0))
    size = quasi_static.table_bytes(ParticleParameters(28e-9, 100.0), 0.039, 4)
    monkeypatch.setattr(quasi_static, "TABLE_GRADING", None)
    uniform = quasi_static.table_bytes(ParticleParameters(28e-9, 100.0), 0.039, 4)
    monkeypatch.undo()
    assert size < 16 * 2**20 < 256 * 2**20 < uniform
    assert accuracy._quasi_static_applies(at_28, times, 455e3, 1e-3, fields)
    monkeypatch.setattr(quasi_static, "MAX_TABLE_BYTES", size - 1)
    assert not accuracy._quasi_static_applies(at_28, times, 455e3, 1e-3, fields)


def test_brownian_rotation_asked_for_the_series_keeps_its_own_relaxation_time():
    # the Brownian operator maps onto the Néel solver with τ_B (here 3.1 µs): the series does
    # not apply at these rows (2π·455 kHz·τ_B = 8.9), and must not be taken for a Néel particle
    # of the same core (τ_1 = 4.9 ns at 14 nm, where it would apply)
    with pytest.raises(ValueError, match="does not apply"):
        angle_system_functions(
            SEQUENCE,
            paper_2d_offsets()[0][OFFSETS],
            angles_deg=ANGLES,
            frequencies=ROWS,
            diameter_m=14e-9,
            model="brown",
            hydrodynamic_diameter_m=20e-9,
            method="quasi-static",
        )


def test_a_miss_by_the_degree_tries_the_series_again_two_degrees_higher(small_batches):
    # 14 nm / 2500 J/m³ (σ = 0.89): the coarse series' degree check passes degree 9, at the
    # edge of its share, and the series misses there; two degrees higher it holds (on a whole
    # dictionary pair the full model, the path without the second try, took 12x longer)
    particle = dict(diameter_m=14e-9, anisotropy_Jm3=2500.0)
    offsets = paper_2d_offsets()[0][OFFSETS]

    def rows(**kw):
        return angle_system_functions(SEQUENCE, offsets, angles_deg=ANGLES, frequencies=ROWS, **particle, **kw)

    found, info = rows(return_info=True)
    history = info["contract"]["history"]
    assert [h["method"] for h in history] == ["quasi-static", "quasi-static"]
    assert accuracy._ratio(history[0], 1e-3, accuracy.SLOW_MODE_ACCEPT_FRACTION) > 1.0
    assert history[1]["degree"] == history[0]["degree"] + accuracy.REFERENCE_EXTRA_DEGREE
    assert info["contract"]["met"] and info["method"] == "quasi-static"
    assert info["contract"]["degree"] == history[1]["degree"]
    degree = neel_resolution(SEQUENCE, offsets, rtol=1e-6, **particle)
    true = _summary(found, rows(method="full", resolution=degree + 4, step_tolerance=2.5e-8))
    assert true["rms"] <= 1e-3 and true["max"] <= MAX_ROW_FACTOR * 1e-3, true


def test_the_series_tail_is_the_next_term_of_its_last_two_orders():
    # rows_of: the x moment of each member at two samples, as (channel, frequency, member)
    def rows_of(m):
        return m[:, :2, 0].T[None]

    rng = np.random.default_rng(1)
    batch = rng.uniform(1.0, 2.0, (5, 4, 3))
    pattern = rng.uniform(-1.0, 1.0, (5, 4, 3))
    batch_rows = rows_of(batch)
    for r in (0.1, 0.5, 2.0):  # converging, and past the best order
        increments = np.stack([1e-3 * pattern, 1e-3 * r * pattern], axis=2)
        tail = accuracy._series_tail(rows_of, increments, batch_rows, np.zeros(5, dtype=int))
        last = accuracy._estimate(batch_rows, np.zeros(5), rows_of(increments[:, :, 1]), 0.0, np.zeros(5))
        assert last["rms"] > 0.0 and tail["last_rms"] == last["rms"]
        assert tail["ratio"] == pytest.approx(r, rel=1e-12) and tail["ratio_max"] == pytest.approx(r, rel=1e-12)
        assert tail["rms"] == pytest.approx(last["rms"] * r, rel=1e-12)
        assert tail["max"] == pytest.approx(last["max"] * r, rel=1e-12)
    # order 0 has no order below it
    assert accuracy._series_tail(rows_of, np.zeros((5, 4, 2, 3)), batch_rows, np.zeros(5, dtype=int)) is None


def test_a_series_whose_terms_do_not_converge_is_not_checked(small_batches, monkeypatch):
    # a tail beyond the bounds: the series is neither checked against the reference nor tried
    # again two degrees higher, and the next method holds the contract
    monkeypatch.setattr(
        accuracy,
        "_series_tail",
        lambda *a: {"rms": 1.0, "max": 1.0, "ratio": 2.0, "ratio_max": 2.0, "last_rms": 0.5, "last_max": 0.5},
    )
    rows, info = _rows(return_info=True)
    history = info["contract"]["history"]
    assert [h["method"] for h in history].count("quasi-static") == 1 and history[0]["rms"] == 1.0
    assert history[0]["screen"] == "next term" and info["contract"]["checks"] == len(history) - 1
    assert info["contract"]["met"] and info["method"] != "quasi-static"
