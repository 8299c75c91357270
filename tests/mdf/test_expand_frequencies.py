"""Band bounds exactly as MPIFiles' filterFrequencies, and the export without MDF frequency
selection (``convert(..., expand_frequencies=True)``, ``mdf-neel convert --expand-frequencies``)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf.conversion import (
    convert,
    expand_frequencies,
    frequency_mask,
    mpifiles_frequencies,
    select_frequencies,
)
from mdf_neel.mdf.reader import read_measurement, read_system_matrix
from mdf_neel.mdf.validation import validate
from mdf_neel.mdf.writer import write_system_matrix
from tests.mdf._builders import make_truth, write_v2

SAMPLE = Path(__file__).resolve().parents[2] / "sample_mdf" / "synthetic_measured" / "theta_000.mdf"
#: A bound one float64 step above bin 53's frequency as MPIFiles computes it (53·(2.5e6/1632)).
ABOVE_BIN_53_HZ = 81188.72549019608


# --------------------------------------------------------------------------------------
# band bounds
# --------------------------------------------------------------------------------------
def test_mpifiles_frequencies_follow_the_abstractffts_formula():
    sm = read_system_matrix(SAMPLE)
    rx = sm.receiver
    f = mpifiles_frequencies(rx)
    V, bw = rx.num_sampling_points, rx.bandwidth_Hz
    assert f.shape == (V // 2 + 1,)
    # rfftfreq(V, 2bw)[k + 1] = k * (2bw / V) in Julia: two float64 roundings, same in plain Python floats
    step = (2 * bw) / V
    assert [float(v) for v in f] == [k * step for k in range(V // 2 + 1)]
    # each value is the exact k·2bw/V up to the two roundings (at most one ulp of the step times k, plus one of f)
    for k in (1, 53, 320, V // 2):
        exact = Fraction(k) * 2 * Fraction(bw) / V
        assert abs(Fraction(float(f[k])) - exact) <= k * Fraction(math.ulp(step)) / 2 + Fraction(math.ulp(f[k])) / 2
    # the case that matters: MPIFiles' bin 53 lies one float64 step below numpy's rfftfreq value
    assert float(f[53]) == 81188.72549019607
    assert np.fft.rfftfreq(V, 1 / (2 * bw))[53] == ABOVE_BIN_53_HZ
    assert np.nextafter(f[53], np.inf) == ABOVE_BIN_53_HZ


def test_min_freq_one_step_above_a_bin_drops_it_as_mpifiles(tmp_path):
    assert main(["convert", str(SAMPLE), str(tmp_path / "a.mdf"), "--min-freq", repr(ABOVE_BIN_53_HZ)]) == 0
    assert read_system_matrix(tmp_path / "a.mdf").frequency_indices[0] == 54
    f53 = float(mpifiles_frequencies(read_system_matrix(SAMPLE).receiver)[53])
    assert read_system_matrix(convert(SAMPLE, tmp_path / "b.mdf", min_frequency_Hz=f53)).frequency_indices[0] == 53


def test_bounds_exactly_on_every_bin_are_inclusive_and_one_step_off_exclusive():
    sm = read_system_matrix(SAMPLE)
    f = mpifiles_frequencies(sm.receiver)
    bins = sm.frequency_indices
    for k in bins[1:]:
        on = frequency_mask(sm, min_frequency_Hz=f[k], max_frequency_Hz=f[k])
        assert bins[on].tolist() == [k]
        above = frequency_mask(sm, min_frequency_Hz=np.nextafter(f[k], np.inf))
        below = frequency_mask(sm, max_frequency_Hz=np.nextafter(f[k], -np.inf))
        assert bins[above][0] == k + 1 if k < bins[-1] else not above.any()
        assert bins[below][-1] == k - 1
    # select_frequencies and the measurement path use the same rule
    assert select_frequencies(sm, min_frequency_Hz=ABOVE_BIN_53_HZ).frequency_indices[0] == 54


def test_mask_equals_mpifiles_index_search(rng):
    # MPIFiles keeps 1-based bins from searchsortedfirst(f, minFreq) to searchsortedlast(f, maxFreq)
    sm = read_system_matrix(SAMPLE)
    f = mpifiles_frequencies(sm.receiver)
    on_bins = f[rng.integers(1, 321, 40)]
    bounds = np.concatenate([on_bins, np.nextafter(on_bins, np.inf), np.nextafter(on_bins, -np.inf)])
    bounds = np.concatenate([bounds, rng.uniform(0, 5e5, 40)])
    for lo, hi in zip(bounds, rng.permutation(bounds) + 3e5):
        first = np.searchsorted(f, lo, side="left") + 1
        last = np.searchsorted(f, hi, side="right")
        expect = [k for k in sm.frequency_indices if first <= k + 1 <= last]
        got = sm.frequency_indices[frequency_mask(sm, min_frequency_Hz=lo, max_frequency_Hz=hi)].tolist()
        assert got == expect, (lo, hi)


def test_measurement_band_uses_the_same_rule(tmp_path, rng):
    t = make_truth(rng, V=1632, grid=(2, 1, 1))
    t["bandwidth"] = 1.25e6
    src = write_v2(tmp_path / "m.mdf", t, calibration=False)
    out = convert(src, tmp_path / "o.mdf", min_frequency_Hz=ABOVE_BIN_53_HZ, max_frequency_Hz=ABOVE_BIN_53_HZ + 2e3)
    assert read_measurement(out).frequency_indices.tolist() == [54]


def test_nan_bound_is_refused():
    sm = read_system_matrix(SAMPLE)
    with pytest.raises(ValueError, match="min_frequency_Hz"):
        frequency_mask(sm, min_frequency_Hz=float("nan"))


# --------------------------------------------------------------------------------------
# expansion
# --------------------------------------------------------------------------------------
def test_expanded_sample_validates_and_reads_back_to_the_stored_rows(tmp_path):
    out = tmp_path / "full.mdf"
    assert main(["convert", str(SAMPLE), str(out), "--expand-frequencies"]) == 0
    assert validate(out) == []
    orig = read_system_matrix(SAMPLE)
    K_full, E = orig.receiver.num_frequencies, orig.num_background_frames
    with h5py.File(out, "r") as f:
        assert f["measurement/data"].shape == (1, 2, K_full, orig.num_positions + E)
        assert f["measurement/data"].dtype == np.complex64
        assert f["measurement/isFrequencySelection"][()] == 0
        assert "measurement/frequencySelection" not in f
        assert f["measurement/isSparsityTransformed"][()] == 0
        assert f["calibration/snr"].shape == (1, 2, K_full)
        stored = f["_provenance/frequency_expansion/stored_bins"][()]
    np.testing.assert_array_equal(stored, orig.frequency_indices)
    full = read_system_matrix(out)
    np.testing.assert_array_equal(full.frequency_indices, np.arange(K_full))
    back = full.select_frequencies(orig.frequency_indices)
    np.testing.assert_array_equal(back.data, orig.data)
    np.testing.assert_array_equal(back.snr, orig.snr)
    # background frames as the writer stores them without expansion
    plain = read_system_matrix(write_system_matrix(tmp_path / "plain.mdf", orig))
    np.testing.assert_array_equal(back.background, plain.background)
    others = np.setdiff1d(np.arange(K_full), orig.frequency_indices)
    assert not full.data[:, others].any() and not full.background[:, others].any() and not full.snr[:, others].any()
    # SNR 0 on the added bins: MPIFiles' SNR threshold brings back exactly the stored bins that pass it
    np.testing.assert_array_equal(
        np.flatnonzero(frequency_mask(full, snr_threshold=2.0)),
        orig.frequency_indices[frequency_mask(orig, snr_threshold=2.0)],
    )


def test_transfer_function_and_background_are_expanded(tmp_path, rng):
    t = make_truth(rng, E=2)
    sel = np.array([2, 3, 5, 11])
    src = write_v2(tmp_path / "in.mdf", t, selection=sel, tf=True)
    out = convert(src, tmp_path / "full.mdf", expand_frequencies=True)
    assert validate(out) == []
    with h5py.File(out, "r") as f:
        tf = f["acquisition/receiver/transferFunction"][()]
    assert tf.shape == (t["C"], t["K_full"])
    np.testing.assert_allclose(tf[:, sel], t["tf"][:, sel], rtol=1e-15)
    others = np.setdiff1d(np.arange(t["K_full"]), sel)
    assert np.all(tf[:, others] == 1)
    # a reader dividing by the transfer function gets the stored rows corrected and zeros elsewhere
    full = read_system_matrix(out, transfer_function_correction=True)
    ref = read_system_matrix(src, transfer_function_correction=True)
    np.testing.assert_allclose(full.data[:, sel], ref.data, rtol=1e-6)
    np.testing.assert_allclose(full.background[:, sel], ref.background, rtol=1e-6)
    assert not full.data[:, others].any() and not full.background[:, others].any()


def test_selection_then_expansion_zeroes_the_dropped_rows(tmp_path, rng):
    t = make_truth(rng)
    src = write_v2(tmp_path / "in.mdf", t)
    out = convert(src, tmp_path / "full.mdf", max_frequency_Hz=2e5, receive_channels=[1], expand_frequencies=True)
    sm = read_system_matrix(out)
    kept = np.flatnonzero(mpifiles_frequencies(sm.receiver) <= 2e5)
    assert sm.num_channels == 1 and sm.num_frequencies == t["K_full"]
    np.testing.assert_allclose(sm.data[0, kept], t["fg"][0, 1, kept], rtol=1e-5, atol=1e-5)
    assert not sm.data[0, kept[-1] + 1 :].any() and not sm.snr[0, kept[-1] + 1 :].any()


def test_sparsity_transformed_input_is_expanded_decompressed(tmp_path, rng):
    t = make_truth(rng, E=1, sparse=("DCT-IV", 3))
    sel = np.array([1, 4, 7])
    src = write_v2(tmp_path / "in.mdf", t, selection=sel)
    out = convert(src, tmp_path / "full.mdf", expand_frequencies=True)
    with h5py.File(out, "r") as f:
        assert f["measurement/isSparsityTransformed"][()] == 0 and "measurement/subsamplingIndices" not in f
    sm = read_system_matrix(out)
    np.testing.assert_allclose(sm.data[:, sel], t["fg"][0][:, sel], rtol=1e-5, atol=1e-5)
    assert sm.num_frequencies == t["K_full"]


def test_measurement_is_expanded(tmp_path, rng):
    t = make_truth(rng, E=1, J=2)
    sel = np.array([0, 2, 9])
    src = write_v2(tmp_path / "m.mdf", t, selection=sel, calibration=False)
    out = convert(src, tmp_path / "full.mdf", expand_frequencies=True)
    assert validate(out) == []
    meas = read_measurement(out)
    assert meas.data.shape[:3] == (2, t["C"], t["K_full"])
    np.testing.assert_allclose(meas.data[:, :, sel], read_measurement(src).data, rtol=1e-6)
    assert not np.delete(meas.data, sel, axis=2).any()


def test_expand_with_recompress_is_refused_and_writes_nothing(tmp_path):
    out = tmp_path / "x.mdf"
    with pytest.raises(ValueError, match="recompress"):
        convert(SAMPLE, out, expand_frequencies=True, recompress=0.5)
    assert main(["convert", str(SAMPLE), str(out), "--expand-frequencies", "--recompress", "0.5"]) == 2
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_expand_in_memory_does_not_modify_and_checks_type():
    sm = read_system_matrix(SAMPLE)
    before = sm.data.copy()
    full = expand_frequencies(sm)
    assert full.data.shape[1] == sm.receiver.num_frequencies and np.array_equal(sm.data, before)
    assert "frequency_expansion" not in sm.provenance
    with pytest.raises(TypeError, match="SystemMatrix or Measurement"):
        expand_frequencies(sm.data)


def test_noise_estimate_is_expanded_with_positive_fill():
    sm = read_system_matrix(SAMPLE)
    if "noise_estimate" not in type(sm).__dataclass_fields__:
        pytest.skip("SystemMatrix has no noise_estimate")
    noise = np.linspace(0.0, 2.0, sm.num_channels * sm.num_frequencies).reshape(sm.num_channels, -1)
    full = expand_frequencies(sm.replace(noise_estimate=noise))
    np.testing.assert_array_equal(full.noise_estimate[:, sm.frequency_indices], noise)
    others = np.setdiff1d(np.arange(sm.receiver.num_frequencies), sm.frequency_indices)
    assert np.all(full.noise_estimate[:, others] == noise[noise > 0].min())


def test_failed_expanded_write_leaves_the_previous_output(tmp_path, monkeypatch):
    import mdf_neel.mdf.writer as writer
    from mdf_neel.errors import MDFError

    out = tmp_path / "full.mdf"
    out.write_bytes(b"previous")

    def refuse(tmp, target):
        raise MDFError("refused for the test", path=target)

    monkeypatch.setattr(writer, "_validate_before_rename", refuse)
    with pytest.raises(MDFError, match="refused"):
        convert(SAMPLE, out, expand_frequencies=True)
    assert out.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["full.mdf"]
