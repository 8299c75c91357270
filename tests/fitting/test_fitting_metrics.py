import numpy as np
import pytest

from mdf_neel.fitting.metrics import (
    frequency_set,
    mixing_order_map,
    neg_nrmse_global,
    nrmse_global,
    nrmse_per_angle,
    nrmse_per_frequency,
    nrmse_rows,
    nrmse_scorer,
)
from mdf_neel.sequence import DriveField, Receiver, Sequence, paper_2d_sequence


def test_paper_frequency_set():
    bins, orders = frequency_set(paper_2d_sequence())
    assert bins.size == 97 and bins.max() == 297
    assert np.all(np.diff(bins) > 0)
    np.testing.assert_array_equal(bins, 16 * orders[:, 0] + 17 * orders[:, 1])
    pairs = {tuple(p) for p in orders}
    assert (1, 1) in pairs and (9, 9) in pairs
    assert not {(0, 0), (0, 1), (1, 0)} & pairs
    assert 33 in bins and 16 not in bins and 17 not in bins and 0 not in bins


def test_mixing_order_map_paper_examples():
    table = mixing_order_map(paper_2d_sequence())
    assert tuple(table[16]) == (1, 0) and tuple(table[17]) == (0, 1)
    assert tuple(table[33]) == (1, 1)
    assert tuple(table[1]) == (-1, 1)  # 17 - 16
    assert tuple(table[15]) == (2, -1)  # 32 - 17


def test_mixing_orders_derived_from_dividers():
    # 1 MHz/100 and /96: cycle lcm = 2400 samples -> 24 and 25 drive periods per cycle
    drive = DriveField(
        1e6,
        np.array([[100], [96]]),
        np.full((1, 2, 1), 0.01),
        np.zeros((1, 2, 1)),
        np.full((2, 1), "sine", dtype=object),
    )
    seq = Sequence(drive, Receiver(bandwidth_Hz=0.5e6, num_sampling_points=2400, num_channels=2))
    bins, orders = frequency_set(seq, 2, 2)
    assert 24 + 25 in bins and tuple(orders[bins == 49][0]) == (1, 1)
    assert tuple(mixing_order_map(seq)[1]) == (-1, 1)


def test_frequency_set_rejects_out_of_range():
    with pytest.raises(ValueError, match="beyond"):
        frequency_set(paper_2d_sequence(), 9, 50)  # 50·17 = 850 > 816
    with pytest.raises(ValueError, match="smaller mixing order"):
        frequency_set(paper_2d_sequence(), 20, 0)  # 17·16 = 16·17
    with pytest.raises(ValueError, match="not unique"):
        frequency_set(paper_2d_sequence(), 17, 16)


def test_nrmse_rows_hand_example():
    calib = np.array([1.0, 2j, -2.0])
    model = np.array([1.0, 0.0, -2.0])
    # ||diff||_2 = 2, N = 3, ||calib||_inf = 2
    assert nrmse_rows(calib, model) == pytest.approx(1 / np.sqrt(3))


def test_nrmse_rows_zero_rows():
    z = np.zeros(4, complex)
    assert nrmse_rows(z, z) == 0.0
    assert np.isinf(nrmse_rows(z, z + 1))


def _rows_with_errors(eps):
    """calib = ones (N = 4, peak 1); model differs in one entry by 2ε -> ε per row."""
    eps = np.asarray(eps, dtype=float)
    calib = np.ones(eps.shape + (4,), complex)
    model = calib.copy()
    model[..., 0] -= 2 * eps
    return calib, model


def test_frequency_and_global_hand_example():
    # A = 2 angles, C = 2 channels, F = 2 rows
    eps = np.zeros((2, 2, 2))
    eps[:, :, 0] = [[0.1, 0.2], [0.3, 0.4]]
    eps[:, :, 1] = 0.5
    calib, model = _rows_with_errors(eps)
    np.testing.assert_allclose(nrmse_rows(calib, model), eps)
    per_f = nrmse_per_frequency(calib, model)
    np.testing.assert_allclose(per_f, [np.sqrt(0.075), 0.5])
    assert nrmse_global(calib, model) == pytest.approx(np.sqrt((0.075 + 0.25) / 2))
    assert nrmse_global(calib, model, channel_reduction="sum") == pytest.approx(np.sqrt(2 * (0.075 + 0.25) / 2))
    box = nrmse_per_angle(calib, model)
    assert box.shape == (2, 4)
    np.testing.assert_allclose(np.sort(box[1]), [0.3, 0.4, 0.5, 0.5])


def test_bad_shapes_and_options():
    with pytest.raises(ValueError, match="same shape"):
        nrmse_rows(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="angles, channels"):
        nrmse_global(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="channel_reduction"):
        nrmse_scorer("max")


def test_scorer_uses_predict_for_plain_estimators():
    calib, model = _rows_with_errors(np.full((3, 2, 2), 0.25))

    class Fixed:
        def predict(self, X):
            return model

    assert neg_nrmse_global(Fixed(), np.zeros((3, 1)), calib) == pytest.approx(-0.25)
