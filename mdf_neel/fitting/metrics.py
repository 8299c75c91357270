"""Mixing orders, the fit frequency set I_freq and the NRMSE measures (eqs. 19–22).

Array convention of this module: measured and model data are complex arrays of
shape ``(A, C, F, O)`` = angles x receive channels x frequency rows x positions
(one :class:`~mdf_neel.systemmatrix.SystemMatrix` ``data`` per angle, rows already
selected). The paper's sums "additionally along channels" can be means or sums; here
receive channels are treated as extra rows: the default ``channel_reduction="mean"``
averages squared errors over angles *and* channels;
``"sum"`` sums over channels (a factor ``sqrt(C)`` larger).
"""

from __future__ import annotations

import numpy as np
from ..sequence import Sequence, mixing_orders

__all__ = [
    "mixing_order_map",
    "frequency_set",
    "nrmse_rows",
    "nrmse_per_frequency",
    "nrmse_per_angle",
    "nrmse_global",
    "frequency_errors_from_rows",
    "global_error_from_rows",
    "neg_nrmse_global",
    "nrmse_scorer",
    "CHANNEL_REDUCTIONS",
]

CHANNEL_REDUCTIONS = ("mean", "sum")

#: Mixing orders left out of I_freq: DC and the two drive frequencies (paper §5.3).
DEFAULT_EXCLUDED = ((0, 0), (0, 1), (1, 0))


def _drive_field(sequence):
    return sequence.drive_field if isinstance(sequence, Sequence) else sequence


def mixing_order_map(sequence, num_frequencies=None) -> np.ndarray:
    """Mixing orders ``(mx, my)`` of every rfft bin of a two-channel Lissajous sequence.

    The drive periods per cycle are derived from the dividers (16 and 17 for the
    paper's 2.5 MHz/102, /96 sequence), so bin ``k = mx·16 + my·17`` (eq. 19); for
    each bin the pair with the smallest ``|mx| + |my|`` is used (MPIFiles' table,
    :func:`mdf_neel.sequence.mixing_orders`).

    Parameters
    ----------
    sequence : Sequence or DriveField
        The drive field (at least two channels).
    num_frequencies : int, optional
        K_full; default the receiver's ``V//2 + 1`` (required for a bare DriveField).

    Returns
    -------
    numpy.ndarray of int64, shape (K_full, 2)
        ``(mx, my)`` per bin (minimal ``|mx| + |my|``, MPIFiles tie-breaking). Bins
        that no pair reaches hold (0, 0); :func:`mdf_neel.sequence.mixing_orders`
        marks them with order -1.
    """
    drive = _drive_field(sequence)
    if num_frequencies is None:
        if not isinstance(sequence, Sequence):
            raise ValueError("num_frequencies is required when a DriveField (not a Sequence) is given")
        num_frequencies = sequence.receiver.num_frequencies
    if drive.num_channels < 2:
        raise ValueError(f"a two-channel Lissajous drive field is required, got {drive.num_channels} channel(s)")
    return mixing_orders(drive, int(num_frequencies))[:, :2].copy()


def frequency_set(sequence, max_mx: int = 9, max_my: int = 9, *, exclude=DEFAULT_EXCLUDED, num_frequencies=None):
    """The fit/score frequency set I_freq (paper §5.3).

    ``I_freq = {k(mx, my) | mx = 0..max_mx, my = 0..max_my} minus exclude`` with
    ``k(mx, my) = mx·m_x + my·m_y`` (m = drive periods per cycle, from the dividers).
    The default (9, 9) gives the paper's 97 rows.

    Parameters
    ----------
    sequence : Sequence or DriveField
    max_mx, max_my : int
        Upper bounds M_x, M_y (>= 0).
    exclude : iterable of (int, int)
        Mixing orders left out (default DC and the two drive frequencies).
    num_frequencies : int, optional
        K_full (default from the receiver).

    Returns
    -------
    bins : numpy.ndarray of int64, shape (F,)
        0-based rfft bins, strictly increasing.
    orders : numpy.ndarray of int64, shape (F, 2)
        ``(mx, my)`` of each bin.

    Raises
    ------
    ValueError
        If two pairs map to the same bin, a bin lies outside the rfft range, or the
        minimal-|m| representation of a bin is not the requested pair.
    """
    drive = _drive_field(sequence)
    if num_frequencies is None:
        if not isinstance(sequence, Sequence):
            raise ValueError("num_frequencies is required when a DriveField (not a Sequence) is given")
        num_frequencies = sequence.receiver.num_frequencies
    if int(max_mx) < 0 or int(max_my) < 0:
        raise ValueError(f"max_mx and max_my must be >= 0, got {max_mx}, {max_my}")
    mx_per, my_per = (int(v) for v in drive.harmonics_per_cycle[:2])
    excluded = {tuple(int(v) for v in p) for p in exclude}
    pairs = [(mx, my) for mx in range(int(max_mx) + 1) for my in range(int(max_my) + 1) if (mx, my) not in excluded]
    bins = np.array([mx * mx_per + my * my_per for mx, my in pairs], dtype=np.int64)
    orders = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    if np.unique(bins).size != bins.size:
        raise ValueError(f"mixing orders up to ({max_mx}, {max_my}) are not unique for periods ({mx_per}, {my_per})")
    if bins.size and bins.max() >= int(num_frequencies):
        raise ValueError(f"bin {bins.max()} of I_freq lies beyond the {num_frequencies} rfft bins")
    table = mixing_order_map(drive, num_frequencies)
    mismatch = np.any(table[bins] != orders, axis=1)
    if np.any(mismatch):
        i = int(np.flatnonzero(mismatch)[0])
        raise ValueError(
            f"bin {bins[i]} has the smaller mixing order {tuple(int(v) for v in table[bins[i]])}, "
            f"not {tuple(int(v) for v in orders[i])}; "
            "lower max_mx/max_my"
        )
    order = np.argsort(bins)
    return bins[order], orders[order]


def _check_pair(calib, model):
    calib = np.asarray(calib)
    model = np.asarray(model)
    if calib.shape != model.shape:
        raise ValueError(f"measured data {calib.shape} and model data {model.shape} must have the same shape")
    if calib.ndim < 1 or calib.shape[-1] == 0:
        raise ValueError(f"data need a non-empty last (position) axis, got shape {calib.shape}")
    return calib, model


def nrmse_rows(calib, model) -> np.ndarray:
    """Per-row NRMSE, eq. 20: ``‖S − S_model‖₂ / (sqrt(N)·‖S‖_∞)`` over the last axis.

    Parameters
    ----------
    calib, model : array_like, complex, shape (..., N)
        Measured and model rows (N positions).

    Returns
    -------
    numpy.ndarray, shape (...)
        ε per row. A measured row that is identically zero gives ``inf``, unless
        the model row is zero too (then 0).
    """
    calib, model = _check_pair(calib, model)
    n = calib.shape[-1]
    err = np.sqrt(np.sum(np.abs(calib - model) ** 2, axis=-1) / n)
    peak = np.max(np.abs(calib), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = err / peak
    out = np.where((peak == 0) & (err == 0), 0.0, out)
    return out


def _check_4d(calib, model):
    calib, model = _check_pair(calib, model)
    if calib.ndim != 4:
        raise ValueError(f"expected (angles, channels, frequencies, positions) arrays, got shape {calib.shape}")
    return calib, model


def _channel_factor(channel_reduction, n_channels):
    if channel_reduction not in CHANNEL_REDUCTIONS:
        raise ValueError(f"channel_reduction must be one of {CHANNEL_REDUCTIONS}, got {channel_reduction!r}")
    return 1.0 if channel_reduction == "mean" else float(n_channels)


def frequency_errors_from_rows(row_errors, channel_reduction="mean") -> np.ndarray:
    """Eq. 21 from per-row errors ε of shape (A, C, F): returns (F,)."""
    e = np.asarray(row_errors, dtype=np.float64)
    if e.ndim != 3:
        raise ValueError(f"row errors must have shape (angles, channels, frequencies), got {e.shape}")
    factor = _channel_factor(channel_reduction, e.shape[1])
    return np.sqrt(factor * np.mean(e**2, axis=(0, 1)))


def global_error_from_rows(row_errors, channel_reduction="mean") -> float:
    """Eq. 22 from per-row errors ε of shape (A, C, F)."""
    f = frequency_errors_from_rows(row_errors, channel_reduction)
    return float(np.sqrt(np.mean(f**2)))


def nrmse_per_frequency(calib, model, channel_reduction="mean") -> np.ndarray:
    """Per-frequency NRMSE over angles (and channels), eq. 21.

    Parameters
    ----------
    calib, model : array_like, complex, shape (A, C, F, N)
        Measured and model system matrices of A angles.
    channel_reduction : {"mean", "sum"}
        Channels as extra rows (mean of ε² over angles and channels) or summed.

    Returns
    -------
    numpy.ndarray, shape (F,)
    """
    calib, model = _check_4d(calib, model)
    return frequency_errors_from_rows(nrmse_rows(calib, model), channel_reduction)


def nrmse_global(calib, model, channel_reduction="mean") -> float:
    """Global NRMSE, eq. 22: root mean square of eq. 21 over the F frequency rows.

    Parameters
    ----------
    calib, model : array_like, complex, shape (A, C, F, N)
    channel_reduction : {"mean", "sum"}

    Returns
    -------
    float
    """
    calib, model = _check_4d(calib, model)
    return global_error_from_rows(nrmse_rows(calib, model), channel_reduction)


def nrmse_per_angle(calib, model) -> np.ndarray:
    """Row errors grouped per angle (the statistics of the paper's Fig. 6 box plots).

    Parameters
    ----------
    calib, model : array_like, complex, shape (A, C, F, N)

    Returns
    -------
    numpy.ndarray, shape (A, C·F)
        ε of every (channel, frequency) row of each angle (194 values for C = 2, F = 97).
    """
    calib, model = _check_4d(calib, model)
    e = nrmse_rows(calib, model)
    return e.reshape(e.shape[0], -1)


def _as_stack(y, frequency_indices=None):
    """Stack a sequence of SystemMatrix objects (or arrays) into (A, C, F, N)."""
    from ..systemmatrix import SystemMatrix

    if isinstance(y, np.ndarray) and y.ndim == 4:
        return y
    items = list(y)
    if items and all(isinstance(s, SystemMatrix) for s in items):
        if frequency_indices is not None:
            items = [s.select_frequencies(frequency_indices) for s in items]
        return np.stack([s.data for s in items])
    return np.stack([np.asarray(s) for s in items])


def _score_system_matrices(y_true, y_pred, channel_reduction="mean"):
    """ε_global between measured and predicted matrices, on the predicted rows."""
    from ..systemmatrix import SystemMatrix

    y_pred_list = list(y_pred) if not isinstance(y_pred, np.ndarray) else y_pred
    rows = None
    if len(y_pred_list) and isinstance(y_pred_list[0], SystemMatrix):
        rows = y_pred_list[0].frequency_indices
    return nrmse_global(_as_stack(y_true, rows), _as_stack(y_pred_list), channel_reduction)


class _NRMSEScorer:
    """Scorer ``(estimator, X, y) -> -ε_global``; see :data:`neg_nrmse_global`."""

    def __init__(self, channel_reduction="mean"):
        self.channel_reduction = channel_reduction

    def __call__(self, estimator, X, y, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("neg_nrmse_global does not support sample weights")
        predict = getattr(estimator, "_predict_for_score", None)
        y_pred = predict(X, y) if predict is not None else estimator.predict(X)
        return -_score_system_matrices(y, y_pred, self.channel_reduction)

    def __repr__(self):
        return f"neg_nrmse_global(channel_reduction={self.channel_reduction!r})"


#: scikit-learn scorer ``scorer(estimator, X, y) = −ε_global`` (eq. 22, higher is better).
#: For the estimators of :mod:`mdf_neel.fitting` in ``tf_mode="per_angle"`` the
#: per-angle transfer functions of the scored angles are fitted to the scored data
#: (eq. 14, the paper's definition of the model error); in ``"shared"`` mode the
#: prediction is used as is. Any other estimator is scored on ``predict(X)``.
neg_nrmse_global = _NRMSEScorer()


def nrmse_scorer(channel_reduction="mean"):
    """A scorer like :data:`neg_nrmse_global` with another channel reduction."""
    _channel_factor(channel_reduction, 1)
    return _NRMSEScorer(channel_reduction)
