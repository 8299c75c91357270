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
    model : {"neel", "anisotropic-equilibrium", "brown", "neel-brown"}, default="neel"
        Physics of the dictionary (the equilibrium one is cheap, for tests);
        ``"brown"``: tracers turning in a liquid (:mod:`mdf_neel.physics.brown`), whose
        K and easy axis do not enter; ``"neel-brown"``: the moment turning in the core
        and the core in the liquid (:mod:`mdf_neel.physics.neel_brown`), whose easy axis
        does not enter and K does.
    alpha : float, default=0.1
        Gilbert damping.
    saturation_magnetization_Am : float, default=474e3
    temperature_K : float, default=293.0
    hydrodynamic_diameter_m, viscosity_Pas : float or None, default=None
        Fixed liquid parameters of ``model="brown"`` and ``"neel-brown"``:
        hydrodynamic diameter D_h [m] (None: the core diameter) and viscosity η [Pa s]
        (None: 1e-3, water).
    hydrodynamic_diameters_m, viscosities_Pas : tuple of float or None, default=None
        At most one: a grid of D_h [m] or η [Pa s] that takes the place of the
        anisotropy grid (:class:`~mdf_neel.simulate.liquid.LiquidAxis`), so the fit picks
        (D, D_h) or (D, η); the matching fixed parameter must then be None. K is held at
        the one value of ``anisotropies_Jm3`` (0 where it does not enter and more are
        given).
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
        ``{"diameter_m": D, "anisotropy_Jm3": K}`` minimising ε_global; with a liquid
        axis ``{"diameter_m": D, "viscosity_Pas": η}`` (or ``"hydrodynamic_diameter_m"``).
    error_map_ : ndarray of shape (n_diameters, n_anisotropies)
        ε_global of every grid point ((n_diameters, n_liquid_values) with a liquid axis).
    liquid_parameter_ : str or None
        The liquid parameter of the second axis (``"viscosity_Pas"`` or
        ``"hydrodynamic_diameter_m"``), None when it is K.
    liquid_values_, atom_liquid_values_ : ndarray or None
        The liquid axis' values, and that of the optimum (shape (1,)).
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

    Tracers in a liquid: the fit picks the viscosity as it picks K (``model="brown"``,
    a hydrodynamic diameter of 25 nm; the data are at 1.3 mPa s, between the grid's
    points):

    >>> small, rows = preset("paper-2d", grid=(2, 2))[1], [16, 33, 50]
    >>> X = np.array([[0.0]])  # the easy axis does not enter Brownian rotation
    >>> sm = [system_matrix(seq, small, angle_deg=0.0, diameter_m=16e-9, model="brown",
    ...                     hydrodynamic_diameter_m=25e-9, viscosity_Pas=1.3e-3, frequencies=rows, rtol=1e-2)]
    >>> fluid = NeelModel(diameters_m=(16e-9,), model="brown", hydrodynamic_diameter_m=25e-9,
    ...                   viscosities_Pas=(1e-3, 2e-3), frequencies=rows, rtol=1e-2, cache=False).fit(X, sm)
    >>> fluid.best_params_
    {'diameter_m': 1.6e-08, 'viscosity_Pas': 0.001}
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
        hydrodynamic_diameter_m=None,
        viscosity_Pas=None,
        hydrodynamic_diameters_m=None,
        viscosities_Pas=None,
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
        self.hydrodynamic_diameter_m = hydrodynamic_diameter_m
        self.viscosity_Pas = viscosity_Pas
        self.hydrodynamic_diameters_m = hydrodynamic_diameters_m
        self.viscosities_Pas = viscosities_Pas
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
        self.best_params_ = {"diameter_m": float(self.diameters_m_[i_d])}
        if self.liquid_parameter_ is None:
            self.best_params_["anisotropy_Jm3"] = float(self.anisotropies_Jm3_[i_k])
        else:
            self.best_params_[self.liquid_parameter_] = float(self.liquid_values_[i_k])
