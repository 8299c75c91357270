"""What MPIFiles / MPIReco read from our files equals what read_system_matrix returns.

The reference is ``tests/mdf/_mpifiles_emulation.py``: MPIFiles' reading rules
(``getSystemMatrix``, ``systemMatrix`` with ``bgCorrection``, ``calibGrid``,
``filterFrequencies``, ``noiseEstimate``) re-implemented with h5py/numpy from its source.
Every kind of file we write is checked: simulated matrices, SYNTHETIC calibrations
(background corrected or raw), converted files (frequency selection, background
correction, compression) and the bundled samples.
"""

from __future__ import annotations

import glob
import os

import h5py
import numpy as np
import pytest

from mdf_neel.errors import MDFError
from mdf_neel.mdf import read_system_matrix, write_system_matrix
from tests.mdf import _mpifiles_emulation as mpif

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = sorted(
    glob.glob(os.path.join(ROOT, "sample_mdf", "synthetic_measured", "*.mdf"))
    + glob.glob(os.path.join(ROOT, "sample_mdf", "simulated", "*.mdf"))
)  # the system matrices (the phantom measurement is checked in tests/test_samples.py)
EPS32 = float(np.finfo(np.float32).eps)
#: rows of the synthetic test matrices: DC, the drive fundamentals (16, 17) and harmonics up to 60
BINS = np.arange(61)


def _columns(sm) -> np.ndarray:
    """Our (C, K, O) data as MPIFiles' (O, rows) with rows (k, c): frequency fastest, channel slowest."""
    C, K, O = sm.data.shape
    return sm.data.reshape(C * K, O).T


def _rows(sm) -> list:
    return [(int(k) + 1, c + 1) for c in range(sm.num_channels) for k in sm.frequency_indices]


def _tolerance(sm) -> float:
    """Absolute tolerance of a complex64 comparison: rounding of the data and of a background
    mean that is zero before rounding (each at most eps32 of the largest magnitude involved)."""
    scale = float(np.abs(sm.data).max())
    if sm.background is not None:
        scale = max(scale, float(np.abs(sm.background).max()))
    return 2 * EPS32 * scale


def _check_same_as_mpifiles(path):
    """Matrix (both bgCorrection settings), grid and noise estimate as MPIFiles reads them.

    ``bgCorrection=false`` must give our plain read; ``bgCorrection=true`` our read with
    MPIFiles' rule (``background_correction="interpolate"``, a no-op on corrected data),
    and, once the file is background corrected, our plain read too (never twice).
    """
    ours = read_system_matrix(path)
    corrected = ours
    if ours.background is not None and not ours.is_background_corrected:
        corrected = read_system_matrix(path, background_correction="interpolate")
    with mpif.open_file(path) as f:
        rows = mpif.filter_frequencies(f)
        assert rows == _rows(ours)
        atol = _tolerance(ours)
        for bg, expected in ((False, ours), (True, corrected)):
            S = mpif.get_system_matrix(f, rows, bg_correction=bg, tf_correction=False)
            np.testing.assert_allclose(S, _columns(expected), rtol=0, atol=atol, err_msg=f"bgCorrection={bg}")
        grid = mpif.calib_grid(f)
        np.testing.assert_array_equal(grid["shape"], ours.grid_size)
        np.testing.assert_array_equal(grid["fov"], ours.field_of_view)
        np.testing.assert_array_equal(grid["center"], ours.field_of_view_center)
        assert grid["unit"] == ours.field_of_view_unit
        points = ours.offset_fields_T if ours.field_of_view_unit == "T" else ours.positions_m
        # the regular grid's points from fov/size/centre: float64 arithmetic on numbers of size fov
        np.testing.assert_allclose(grid["points"], points, rtol=0, atol=1e-12 * np.abs(grid["fov"]).max())
        if ours.noise_estimate is None:
            assert "/custom/noiseEstimate" not in f
        else:
            np.testing.assert_array_equal(mpif.noise_estimate(f, rows), ours.noise_estimate.reshape(-1))
            weights = mpif.whitening_weights(f, rows)
            assert np.all(np.isfinite(weights)) and np.all((weights > 0) & (weights <= 1))
    return ours


# --------------------------------------------------------------------------------------
# files of each kind
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sequence_and_grid():
    from mdf_neel.simulate import preset

    return preset("paper-2d", grid=(3, 3))


@pytest.fixture(scope="module")
def simulated(sequence_and_grid):
    from mdf_neel.simulate import system_matrix

    seq, grid = sequence_and_grid
    return system_matrix(seq, grid, angle_deg=30.0, diameter_m=20e-9, model="langevin", frequencies=BINS)


def _synthetic(sequence_and_grid, **kwargs):
    from mdf_neel.simulate.synthetic import synthetic_calibration

    seq, grid = sequence_and_grid
    settings = dict(angles_deg=[30.0], model="langevin", population=((20e-9, 0.0, 1.0),), frequencies=BINS, seed=7)
    settings.update(kwargs)
    return synthetic_calibration(seq, grid, show_progress=False, **settings)[0]


@pytest.fixture(scope="module")
def synthetic(sequence_and_grid):
    return _synthetic(sequence_and_grid, background_frames=50)


@pytest.fixture(scope="module")
def synthetic_raw(sequence_and_grid):
    return _synthetic(sequence_and_grid, background_corrected=False)


# --------------------------------------------------------------------------------------
# grid / field of view
# --------------------------------------------------------------------------------------
def test_simulated_matrix_is_read_alike(simulated, tmp_path):
    path = write_system_matrix(tmp_path / "sim.mdf", simulated)
    ours = _check_same_as_mpifiles(path)
    assert ours.method == "hybrid" and ours.experiment.is_simulation and ours.field_of_view_unit == "T"
    assert ours.noise_estimate is None  # noise-free: nothing to whiten


def test_tesla_grid_is_written_as_hybrid_whatever_the_method(simulated, tmp_path):
    """A grid in tesla labelled "simulation" would be read by MPIFiles as metres (calibGrid)."""
    path = write_system_matrix(tmp_path / "sim.mdf", simulated.replace(method="simulation"))
    with h5py.File(path) as f:
        assert f["/calibration/method"].asstr()[()] == "hybrid"
        assert int(f["/experiment/isSimulation"][()]) == 1
    _check_same_as_mpifiles(path)


def test_older_simulation_files_still_read_in_tesla(simulated, tmp_path):
    """Files written before the change say method "simulation": MPIFiles reads metres, we keep tesla."""
    path = write_system_matrix(tmp_path / "old.mdf", simulated)
    with h5py.File(path, "r+") as f:
        del f["/calibration/method"]
        f["/calibration/method"] = "simulation"
    ours = read_system_matrix(path)
    assert ours.method == "simulation" and ours.field_of_view_unit == "T"
    with mpif.open_file(path) as f:
        assert mpif.calib_grid(f)["unit"] == "m"


# --------------------------------------------------------------------------------------
# background correction
# --------------------------------------------------------------------------------------
def test_corrected_synthetic_calibration_is_not_corrected_twice(synthetic, tmp_path):
    path = write_system_matrix(tmp_path / "syn.mdf", synthetic)
    ours = _check_same_as_mpifiles(path)
    assert ours.is_background_corrected
    # the stored background frames hold the noise only: their mean is zero up to complex64 rounding
    assert np.abs(ours.background.mean(axis=-1)).max() <= 2 * EPS32 * np.abs(ours.background).max()
    # and the subtracted estimate is recorded: raw frames = stored frames + estimate
    b_hat = ours.provenance["subtracted_background"]
    assert b_hat.shape == ours.data.shape[:2] and np.abs(b_hat[:, 20:]).min() > 0


def test_raw_synthetic_calibration_is_corrected_once_on_both_sides(synthetic_raw, tmp_path):
    path = write_system_matrix(tmp_path / "raw.mdf", synthetic_raw)
    _check_same_as_mpifiles(path)
    for method in ("mean", "interpolate"):  # one block of background frames: the two rules agree
        ours = read_system_matrix(path, background_correction=method)
        with mpif.open_file(path) as f:
            S = mpif.get_system_matrix(f, _rows(ours), bg_correction=True, tf_correction=False)
        np.testing.assert_allclose(S, _columns(ours), rtol=0, atol=_tolerance(ours), err_msg=method)
    plain = read_system_matrix(path)
    assert not plain.is_background_corrected
    with mpif.open_file(path) as f:
        S = mpif.get_system_matrix(f, _rows(plain), bg_correction=False, tf_correction=False)
    np.testing.assert_allclose(S, _columns(plain), rtol=0, atol=_tolerance(plain))


def test_writer_removes_the_mean_of_background_frames_of_corrected_data(synthetic_raw, tmp_path):
    """Corrected data next to raw background frames: the writer stores the frames' spread only."""
    sm = synthetic_raw.replace(
        data=synthetic_raw.data - synthetic_raw.background.mean(axis=-1, keepdims=True), is_background_corrected=True
    )
    path = write_system_matrix(tmp_path / "c.mdf", sm)
    back = _check_same_as_mpifiles(path)
    np.testing.assert_allclose(
        back.background,
        sm.background - sm.background.mean(axis=-1, keepdims=True),
        rtol=0,
        atol=EPS32 * np.abs(sm.background).max(),
    )


# --------------------------------------------------------------------------------------
# noise estimate
# --------------------------------------------------------------------------------------
def test_noise_estimate_estimates_the_stated_noise(synthetic):
    """std of 50 background frames against σ·|H(f_k)|: per bin, 2(E − 1) = 98 real degrees of
    freedom give E[σ̂/σ] = 1 − 1/(4·49) and a spread of 1/sqrt(4·49) = 0.071; the mean over the
    2·58 bins with noise has a spread of 0.0066, so 5 of those bound it."""
    prov = synthetic.provenance
    sigma = prov["noise_sigma"] * np.abs(prov["transfer_function"]["values_at_stored_bins"])
    ratio = synthetic.noise_estimate[:, 3:] / sigma[3:]  # DC has no noise (H(0) = 0); bins 1, 2 neither to speak of
    assert abs(ratio.mean() - (1 - 1 / 196)) < 5 * 0.071 / np.sqrt(ratio.size)
    # DC: the background frames do not vary; the estimate is the smallest positive one (whitening stays finite)
    np.testing.assert_array_equal(synthetic.noise_estimate[:, 0], synthetic.noise_estimate[:, 1:].min())


def test_noise_estimate_on_disk_is_mpifiles_layout(synthetic, tmp_path):
    path = write_system_matrix(tmp_path / "syn.mdf", synthetic)
    with h5py.File(path) as f:
        ds = f["/custom/noiseEstimate"]
        K_full = synthetic.receiver.num_frequencies
        assert ds.dtype == np.float64 and ds.shape == (2, K_full)  # Julia (K_full, C)
        table = ds[()]
    assert np.all(np.isnan(np.delete(table, BINS, axis=1)))  # bins that are not stored
    np.testing.assert_array_equal(table[:, BINS], synthetic.noise_estimate)
    back = read_system_matrix(path, frequencies=[5, 40])
    np.testing.assert_array_equal(back.noise_estimate, synthetic.noise_estimate[:, [5, 40]])


def test_noise_free_synthetic_data_have_no_noise_estimate(sequence_and_grid, tmp_path):
    sm = _synthetic(sequence_and_grid, noise_level=0.0, background_frames=3)
    assert sm.noise_estimate is None
    path = write_system_matrix(tmp_path / "clean.mdf", sm)
    with h5py.File(path) as f:
        assert "/custom/noiseEstimate" not in f


@pytest.mark.parametrize(
    "shape, value, expect",
    [((817, 2), 1.0, "expected (C, V//2 + 1) = (2, 817)"), ((2, 817), -1.0, "standard deviations >= 0")],
)
def test_bad_noise_estimate_raises(synthetic, tmp_path, shape, value, expect):
    path = write_system_matrix(tmp_path / "syn.mdf", synthetic)
    with h5py.File(path, "r+") as f:
        del f["/custom/noiseEstimate"]
        f["/custom/noiseEstimate"] = np.full(shape, value)
    with pytest.raises(MDFError, match="noiseEstimate") as info:
        read_system_matrix(path)
    assert expect in str(info.value) and "syn.mdf" in str(info.value)
    from mdf_neel.mdf import validate

    assert any(line.startswith("/custom/noiseEstimate: must") for line in validate(path))


def test_measurement_noise_estimate_round_trip(synthetic, tmp_path):
    from mdf_neel.mdf import read_measurement, write_measurement
    from mdf_neel.systemmatrix import Measurement

    data = np.concatenate([synthetic.data, synthetic.background], axis=-1)[np.newaxis]
    meas = Measurement(
        data=data,
        frequency_indices=synthetic.frequency_indices,
        is_background_frame=np.r_[np.zeros(synthetic.num_positions, bool), np.ones(50, bool)],
        drive_field=synthetic.drive_field,
        receiver=synthetic.receiver,
        noise_estimate=synthetic.noise_estimate,
    )
    path = write_measurement(tmp_path / "m.mdf", meas)
    back = read_measurement(path)
    np.testing.assert_array_equal(back.noise_estimate, synthetic.noise_estimate)
    with h5py.File(path) as f:
        assert "/calibration" not in f


# --------------------------------------------------------------------------------------
# frequency filtering
# --------------------------------------------------------------------------------------
def test_frequency_filter_matches_ours(synthetic, tmp_path):
    from mdf_neel.mdf import frequency_mask

    path = write_system_matrix(tmp_path / "syn.mdf", synthetic)
    settings = dict(snr_threshold=3.0, min_frequency_Hz=40e3, max_frequency_Hz=80e3)
    keep = synthetic.frequency_indices[frequency_mask(synthetic, **settings)]
    with mpif.open_file(path) as f:
        rows = mpif.filter_frequencies(f, snr_thresh=3.0, min_freq=40e3, max_freq=80e3)
    # MPIFiles keeps (k, c) pairs; we keep a frequency when any channel passes
    assert sorted({k - 1 for k, _ in rows}) == keep.tolist()
    assert {(k, c) for k, c in rows} == {
        (int(k) + 1, c + 1)
        for c in range(2)
        for i, k in enumerate(synthetic.frequency_indices)
        if k in keep and synthetic.snr[c, i] >= 3.0
    }
    assert 0 < len(keep) < 40


# --------------------------------------------------------------------------------------
# converted files
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        dict(min_frequency_Hz=30e3, snr_threshold=2.0),
        dict(background_correction="mean"),
        dict(background_correction="interpolate", max_frequency_Hz=60e3),
        dict(recompress=0.5, transform="DCT-II"),
    ],
    ids=["selection", "bg-mean", "bg-interpolate", "compressed"],
)
def test_converted_files_are_read_alike(synthetic_raw, tmp_path, options):
    from mdf_neel.mdf import convert

    src = write_system_matrix(tmp_path / "raw.mdf", synthetic_raw)
    out = convert(src, tmp_path / "out.mdf", **options)
    ours = _check_same_as_mpifiles(out)
    assert ours.noise_estimate is not None


# --------------------------------------------------------------------------------------
# the bundled samples
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: os.path.relpath(p, os.path.join(ROOT, "sample_mdf")))
def test_samples_are_read_alike(path):
    ours = _check_same_as_mpifiles(path)
    assert (ours.noise_estimate is not None) == ("synthetic_measured" in path)
