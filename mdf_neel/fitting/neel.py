"""M1: one Néel parameter pair (D, K) with a fitted transfer function (paper §3.4)."""

from __future__ import annotations

from ._base import PAPER_ANISOTROPIES_JM3, PAPER_DIAMETERS_M, _FittingModel

__all__ = ["NeelModel"]


class NeelModel(_FittingModel):
    """M1: grid search over (D, K) of the Néel dictionary, per-row transfer function (eq. 15).

    Every grid point gets its closed-form TF and residual (paper §4.5), so the whole
    error map costs one pass over the dictionary.

    Parameters
    ----------
    diameters_m : tuple of float, default=P_diam (14, 16, ..., 28 nm)
        Core diameters D [m].
    anisotropies_Jm3 : tuple of float, default=P_anis (100, 200, ..., 9000 J/m³)
        Uniaxial anisotropy constants K [J/m³].
    frequencies : array_like of int or None, default=None
        0-based rfft bins; ``None`` = I_freq (97 rows) for SystemMatrix inputs.
    tf_mode : {"per_angle", "shared"}, default="per_angle"
        One TF per angle (the paper, eq. 14) or one per receive channel for all
        angles (fitted jointly: for each grid point the TF minimising ε_global).
    model : {"neel", "anisotropic-equilibrium"}, default="neel"
        Physics of the dictionary (the equilibrium one is cheap, for tests).
    alpha : float, default=0.1
        Gilbert damping.
    saturation_magnetization_Am : float, default=474e3
    temperature_K : float, default=293.0
    channel_reduction : {"mean", "sum"}, default="mean"
    rtol : float, default=1e-3
        Accuracy of the simulated dictionary: the row contract of
        :class:`mdf_neel.simulate.accuracy.SolverSettings` (RMS of the per-row NRMSE
        against a converged solve). Part of the cache fingerprint.
    dictionary, cache, workers
        See :class:`~mdf_neel.fitting.EquilibriumModel`.

    Attributes
    ----------
    best_params_ : dict
        ``{"diameter_m": D, "anisotropy_Jm3": K}`` minimising ε_global.
    error_map_ : ndarray of shape (n_diameters, n_anisotropies)
        ε_global of every grid point.
    transfer_function_ : ndarray, complex, ``(n_angles, C, F)`` or ``(C, F)`` (shared)
    row_errors_, training_error_, angles_deg_, frequency_indices_, mixing_orders_, channels_
        As in :class:`~mdf_neel.fitting.EquilibriumModel`.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> rows = [16, 17, 33]
    >>> X = np.array([[0.0], [45.0], [90.0]])  # easy-axis angles in degrees, shape (n_samples, 1)
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1000.0,
    ...                      model="anisotropic-equilibrium", frequencies=rows) for a in X[:, 0]]
    >>> m1 = NeelModel(diameters_m=(18e-9, 20e-9), anisotropies_Jm3=(500.0, 1000.0),
    ...                model="anisotropic-equilibrium", frequencies=rows, cache=False).fit(X, sms)
    >>> m1.best_params_
    {'diameter_m': 2e-08, 'anisotropy_Jm3': 1000.0}
    >>> m1.training_error_ < 1e-6  # the data came from this model
    True
    """

    def __init__(
        self,
        diameters_m=PAPER_DIAMETERS_M,
        *,
        anisotropies_Jm3=PAPER_ANISOTROPIES_JM3,
        frequencies=None,
        tf_mode="per_angle",
        model="neel",
        alpha=0.1,
        saturation_magnetization_Am=474e3,
        temperature_K=293.0,
        channel_reduction="mean",
        rtol=1e-3,
        dictionary=None,
        cache=True,
        workers=None,
    ):
        self.diameters_m = diameters_m
        self.anisotropies_Jm3 = anisotropies_Jm3
        self.frequencies = frequencies
        self.tf_mode = tf_mode
        self.model = model
        self.alpha = alpha
        self.saturation_magnetization_Am = saturation_magnetization_Am
        self.temperature_K = temperature_K
        self.channel_reduction = channel_reduction
        self.rtol = rtol
        self.dictionary = dictionary
        self.cache = cache
        self.workers = workers

    def _dictionary_model(self):
        return self.model

    def _fit_core(self, data, view):
        errors = self._fit_single_atom(data, view)
        self.error_map_ = errors.reshape(len(self.diameters_m_), len(self.anisotropies_Jm3_))
        i_d, i_k = self.atoms_[0]
        self.best_params_ = {
            "diameter_m": float(self.diameters_m_[i_d]),
            "anisotropy_Jm3": float(self.anisotropies_Jm3_[i_k]),
        }
