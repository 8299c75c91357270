"""Background correction (mean, MPIFiles' interpolation) on raw-h5py files with a known
background drift."""

from __future__ import annotations

import numpy as np
import pytest

from mdf_neel.errors import MDFError
from mdf_neel.mdf.reader import read_measurement, read_system_matrix
from tests.mdf._builders import make_truth, write_v2

TOL = dict(rtol=1e-5, atol=1e-4)


def _drifting(rng, O=12, E=4, bg_acq=None):
    """Signal s plus a background a + b·t linear in the acquisition index t."""
    t = make_truth(rng, E=E, grid=(O, 1, 1))
    N = O + E
    bg_acq = np.rint(np.arange(E) * (N - 1) / (E - 1)).astype(int) if bg_acq is None else np.asarray(bg_acq)
    fg_acq = np.setdiff1d(np.arange(N), bg_acq)
    C, K = t["C"], t["K_full"]
    a = rng.normal(size=(C, K, 1)) + 1j * rng.normal(size=(C, K, 1))
    b = rng.normal(size=(C, K, 1)) + 1j * rng.normal(size=(C, K, 1))
    signal = t["fg"][0].copy()
    t["fg"] = (signal + a + b * fg_acq)[None]
    t["bg"] = (a + b * bg_acq)[None]
    return t, signal, a, b, fg_acq, bg_acq


@pytest.mark.parametrize("layout", [dict(permutation=True), dict(interleave_bg=True)], ids=str)
def test_interpolation_removes_linear_drift_exactly(tmp_path, rng, layout):
    # O + E - 1 = 15 is a multiple of E - 1 = 3: background at acquisition 0, 5, 10, 15
    t, signal, *_ = _drifting(rng)
    path = write_v2(tmp_path / "sm.mdf", t, **layout)
    sm = read_system_matrix(path, background_correction="interpolate")
    assert sm.is_background_corrected
    np.testing.assert_allclose(sm.data, signal, **TOL)
    np.testing.assert_allclose(sm.background, t["bg"][0], **TOL)  # background returned uncorrected


def test_mean_subtracts_average_background(tmp_path, rng):
    t, signal, a, b, fg_acq, bg_acq = _drifting(rng)
    path = write_v2(tmp_path / "sm.mdf", t, permutation=True)
    sm = read_system_matrix(path, background_correction="mean", frequencies=[2, 3])
    expect = (signal + b * (fg_acq - bg_acq.mean()))[:, [2, 3]]
    np.testing.assert_allclose(sm.data, expect, **TOL)


def test_interpolation_block_means_hand_computed(tmp_path, rng):
    """N = 6, background at acquisition 0, 1 (one block) and 5: the block is replaced by
    its mean m, then alpha = t/5·2 at t = 2, 3, 4 gives m, 0.8m + 0.2·b5, 0.4m + 0.6·b5."""
    t = make_truth(rng, E=3, grid=(3, 1, 1))
    bg = t["bg"][0]
    m, b5 = (bg[..., 0] + bg[..., 1]) / 2, bg[..., 2]
    expect_bg = np.stack([m, 0.8 * m + 0.2 * b5, 0.4 * m + 0.6 * b5], axis=-1)
    path = write_v2(tmp_path / "sm.mdf", t, permutation=True, bg_acquisition=[0, 1, 5])
    sm = read_system_matrix(path, background_correction="interpolate")
    np.testing.assert_allclose(sm.data, t["fg"][0] - expect_bg, **TOL)


def test_measurement_background_correction(tmp_path, rng):
    t, signal, *_ = _drifting(rng)
    path = write_v2(tmp_path / "m.mdf", t, calibration=False, interleave_bg=True)
    m = read_measurement(path, background_correction="interpolate")
    np.testing.assert_allclose(m.foreground[0], signal, **TOL)
    np.testing.assert_allclose(m.background[0], t["bg"][0], **TOL)
    assert m.is_background_corrected


def test_correction_without_background_is_an_error(tmp_path, rng):
    path = write_v2(tmp_path / "sm.mdf", make_truth(rng))
    with pytest.raises(MDFError, match="no background frames"):
        read_system_matrix(path, background_correction="mean")
    with pytest.raises(ValueError, match="background_correction"):
        read_system_matrix(path, background_correction="median")


def test_sparse_file_background_interpolation(tmp_path, rng):
    """B + E convention: the two background frames follow the coefficients; without a
    permutation they are adjacent in acquisition order, i.e. one block (MPIFiles'
    measBGFrameBlockLengths), so every position gets the block mean subtracted."""
    t = make_truth(rng, E=2, grid=(3, 2, 1), sparse=("DCT-II", 2))
    path = write_v2(tmp_path / "s.mdf", t)
    sm = read_system_matrix(path, background_correction="interpolate")
    expect = t["fg"][0] - t["bg"][0].mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(sm.data, expect, **TOL)
