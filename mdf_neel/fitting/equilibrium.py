"""M0: the equilibrium (Langevin) model with a fitted transfer function (paper §3.3)."""

from __future__ import annotations

from ._base import PAPER_DIAMETERS_M, _FittingModel

__all__ = ["EquilibriumModel"]


class EquilibriumModel(_FittingModel):
    """M0: Langevin equilibrium dictionary over diameters, per-row transfer function (eq. 15).

    The model cannot express the easy-axis angle: one dictionary row set per diameter
    serves every angle; the fitted transfer function does the rest.

    Parameters
    ----------
    diameters_m : tuple of float, default=P_diam of the paper (14, 16, ..., 28 nm)
        Core diameters D [m] of the grid.
    frequencies : array_like of int or None, default=None
        0-based rfft bins to fit and score; ``None`` = I_freq (mixing orders
        0..9 x 0..9 without (0,0), (0,1), (1,0): 97 rows) for SystemMatrix inputs,
        all dictionary rows for array inputs.
    tf_mode : {"per_angle", "shared"}, default="per_angle"
        One TF per angle (the paper) or one per receive channel for all angles.
    channel_reduction : {"mean", "sum"}, default="mean"
        How receive channels enter ε (:mod:`mdf_neel.fitting.metrics`).
    saturation_magnetization_Am : float, default=474e3
        Ms [A/m] (enters β).
    temperature_K : float, default=293.0
    dictionary : object or None, default=None
        A precomputed ``mdf_neel.simulate`` dictionary (attributes ``phi``,
        ``diameters_m``, ``anisotropies_Jm3`` (one entry), ``angles_deg``,
        ``frequency_indices``, ``channels``, ``offsets_T``); shared, not copied, by
        :func:`sklearn.base.clone`. ``None``: simulated (or read from ``cache``).
    cache : bool, str or None, default=True
        Dictionary cache (:func:`mdf_neel.simulate.dictionary`): ``True`` shares one
        file per set of settings in the user's cache directory (``MDF_NEEL_CACHE_DIR``
        moves it), so estimators fitted to the same data compute their dictionary once
        and a refit costs seconds; a path names the file; ``False`` or ``None``: none.
    workers : int or None, default=None
        Worker processes for the simulation.

    Attributes
    ----------
    best_params_ : dict
        ``{"diameter_m": D}`` minimising ε_global (eq. 22).
    error_map_ : ndarray of shape (n_diameters,)
        ε_global of every diameter (each with its own fitted TF).
    transfer_function_ : ndarray, complex
        ``(n_angles, C, F)`` per angle, or ``(C, F)`` shared.
    row_errors_ : ndarray of shape (n_angles, C, F)
        ε (eq. 20) of the fitted model per angle, channel and row.
    training_error_ : float
        ε_global on the training data.
    angles_deg_, frequency_indices_, mixing_orders_, channels_
        What was fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> rows = [16, 17, 33]
    >>> X = np.array([[0.0], [45.0], [90.0]])  # easy-axis angles in degrees, shape (n_samples, 1)
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1000.0,
    ...                      model="anisotropic-equilibrium", frequencies=rows) for a in X[:, 0]]
    >>> m0 = EquilibriumModel(diameters_m=(18e-9, 20e-9, 22e-9), frequencies=rows, cache=False).fit(X, sms)
    >>> m0.best_params_
    {'diameter_m': 2e-08}
    >>> m0.error_map_.shape
    (3,)
    """

    _single_anisotropy = True
    _angle_independent = True

    def __init__(
        self,
        diameters_m=PAPER_DIAMETERS_M,
        *,
        frequencies=None,
        tf_mode="per_angle",
        channel_reduction="mean",
        saturation_magnetization_Am=474e3,
        temperature_K=293.0,
        dictionary=None,
        cache=True,
        workers=None,
    ):
        self.diameters_m = diameters_m
        self.frequencies = frequencies
        self.tf_mode = tf_mode
        self.channel_reduction = channel_reduction
        self.saturation_magnetization_Am = saturation_magnetization_Am
        self.temperature_K = temperature_K
        self.dictionary = dictionary
        self.cache = cache
        self.workers = workers

    def _dictionary_model(self):
        return "langevin"

    def _fit_core(self, data, view):
        errors = self._fit_single_atom(data, view)
        self.error_map_ = errors
        self.best_params_ = {"diameter_m": float(self.diameters_m_[self.atoms_[0, 0]])}
