"""Common machinery of the M0/M1/M2 estimators: inputs, dictionary access, prediction.

A fitted model of this package is always "a few dictionary atoms with weights and
transfer functions": M0/M1 use one atom (the best grid point) with weight 1, M2 the
atoms with non-zero weight. Prediction for an angle ϑ is

* ``tf_mode="per_angle"``: ``Σ_n w_n · â_{n,ϑ} · φ_n(ϑ)`` with the per-atom, per-angle
  transfer function of eq. 15 (known for the fitted angles; when scoring, fitted to
  the scored data, which is the paper's definition of the model error);
* ``tf_mode="shared"``: ``â · Σ_n w_n φ_n(ϑ)`` with one TF per (channel, row), so any
  angle and any offset grid can be predicted.

For tracers in a liquid (``model="brown"`` or ``"neel-brown"``) the second grid axis
may be a liquid parameter instead of K (``hydrodynamic_diameters_m`` or ``viscosities_Pas``,
:class:`~mdf_neel.simulate.liquid.LiquidAxis`): atoms are then (D, liquid value) with K
held fixed, and everything else is the same.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from ..sequence import as_offset_grid
from ..systemmatrix import SystemMatrix
from . import _kernels as K
from .metrics import CHANNEL_REDUCTIONS, frequency_set, mixing_order_map, nrmse_rows, global_error_from_rows

logger = logging.getLogger("mdf_neel.fitting")

#: P_diam of the paper (eq. 24): 14, 16, ..., 28 nm.
PAPER_DIAMETERS_M = tuple(float(d) * 1e-9 for d in range(14, 29, 2))
#: P_anis of the paper (eq. 25): 100, 200, ..., 9000 J/m³.
PAPER_ANISOTROPIES_JM3 = tuple(float(k) for k in range(100, 9001, 100))
#: P_angle of the paper (eq. 23): 0, 15, ..., 165 degrees.
PAPER_ANGLES_DEG = tuple(float(a) for a in range(0, 180, 15))

TF_MODES = ("per_angle", "shared")
_CHANNEL_NAMES = ("x", "y", "z")
_ANGLE_TOL_DEG = 1e-6
_OFFSET_TOL_T = 1e-9


def _check_angles(X) -> np.ndarray:
    """Easy-axis angles (n,) in degrees from X of shape (n, 1)."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 1:
        raise ValueError(
            f"X must hold easy-axis angles in degrees with shape (n_samples, 1), got shape {arr.shape}; "
            "use numpy.reshape(angles, (-1, 1))"
        )
    if arr.shape[0] == 0:
        raise ValueError("X has no samples")
    if not np.all(np.isfinite(arr)):
        raise ValueError("X (easy-axis angles) contains NaN or inf")
    return arr[:, 0].copy()


def _angle_match(wanted, available) -> np.ndarray:
    """Index into ``available`` of each wanted angle (equal mod 180°), -1 where absent."""
    wanted = np.asarray(wanted, dtype=np.float64).reshape(-1)
    available = np.asarray(available, dtype=np.float64).reshape(-1)
    if available.size == 0:
        return np.full(wanted.size, -1, dtype=np.int64)
    d = np.abs((wanted[:, None] - available[None, :] + 90.0) % 180.0 - 90.0)
    idx = np.argmin(d, axis=1)
    return np.where(d[np.arange(wanted.size), idx] <= _ANGLE_TOL_DEG, idx, -1)


def _grid_match(wanted, available, name) -> np.ndarray:
    wanted = np.asarray(wanted, dtype=np.float64).reshape(-1)
    available = np.asarray(available, dtype=np.float64).reshape(-1)
    out = []
    for v in wanted:
        hit = np.flatnonzero(np.isclose(available, v, rtol=1e-9, atol=0.0))
        if hit.size == 0:
            raise ValueError(f"{name} value {v:g} is not in the dictionary's grid {available.tolist()}")
        out.append(int(hit[0]))
    return np.array(out, dtype=np.int64)


class _Measured:
    """Measured training/scoring data: rows (A, C, F, O) plus metadata of SM inputs."""

    def __init__(self, data, templates, rows, orders, channels):
        self.data = data
        self.templates = templates  # list of SystemMatrix (fitted rows) or None
        self.rows = rows
        self.orders = orders
        self.channels = channels


class _FittingModel(BaseEstimator):
    """Base class; subclasses set ``_dictionary_model`` and implement ``_fit_core``."""

    _single_anisotropy = False  # M0: the dictionary has one (ignored) anisotropy
    _angle_independent = False  # M0: one dictionary angle serves every angle

    # ------------------------------------------------------------------ sklearn hooks
    def __sklearn_clone__(self):
        # The (possibly multi-GB) precomputed dictionary is shared, not deep-copied:
        # it is read-only input, like a memory-mapped array.
        params = self.get_params(deep=False)
        dictionary = params.pop("dictionary", None)
        new = type(self)(**{k: clone(v, safe=False) for k, v in params.items()}, dictionary=dictionary)
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.two_d_array = True
        return tags

    # ------------------------------------------------------------------ parameters
    def _physics(self):
        """The estimator's physics parameters as one typed object (fields it lacks keep their defaults)."""
        from ..physics import PhysicsParameters

        names = ("alpha", "saturation_magnetization_Am", "temperature_K", "hydrodynamic_diameter_m", "viscosity_Pas")
        return PhysicsParameters.coerce(None, **{name: getattr(self, name, None) for name in names})

    def _solver(self) -> dict:
        """Solver keywords of the dictionary (the row contract ``rtol`` of Fokker–Planck models)."""
        from ..simulate._system_functions import CONTRACT_MODELS

        rtol = getattr(self, "rtol", None)
        if rtol is None or self._dictionary_model() not in CONTRACT_MODELS:
            return {}
        return {"rtol": float(rtol)}

    def _liquid_axis(self, diameters_m):
        """The liquid axis the parameters ask for (None without one), checked against the model."""
        from ..simulate.liquid import LiquidAxis

        try:
            axis = LiquidAxis.from_keywords(
                hydrodynamic_diameters_m=getattr(self, "hydrodynamic_diameters_m", None),
                viscosities_Pas=getattr(self, "viscosities_Pas", None),
            )
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if axis is None:
            return None
        axis.check(self._dictionary_model(), diameters_m)
        if getattr(self, axis.parameter, None) is not None:
            raise ValueError(
                f"{axis.parameter}={getattr(self, axis.parameter)!r} is fixed and {axis.keyword} varies it: "
                f"set {axis.parameter}=None"
            )
        return axis

    def _check_params(self):
        if self.tf_mode not in TF_MODES:
            raise ValueError(f"tf_mode must be one of {TF_MODES}, got {self.tf_mode!r}")
        if self.channel_reduction not in CHANNEL_REDUCTIONS:
            raise ValueError(f"channel_reduction must be one of {CHANNEL_REDUCTIONS}, got {self.channel_reduction!r}")
        d = np.asarray(self.diameters_m, dtype=np.float64).reshape(-1)
        if d.size == 0 or np.any(~np.isfinite(d)) or np.any(d <= 0):
            raise ValueError(f"diameters_m must be positive diameters in metres, got {self.diameters_m!r}")
        if np.any(d > 1e-6):
            raise ValueError(f"diameters_m must be in metres (e.g. 22e-9), got {d.tolist()}")
        if self._single_anisotropy:
            k = np.zeros(1)
        else:
            k = np.asarray(self.anisotropies_Jm3, dtype=np.float64).reshape(-1)
            if k.size == 0 or np.any(~np.isfinite(k)) or np.any(k < 0):
                raise ValueError(f"anisotropies_Jm3 must be non-negative values in J/m³, got {self.anisotropies_Jm3!r}")
        from ..physics import MODELS

        if getattr(self, "model", None) is not None and self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        self._physics()  # validates the physics parameters (also when a dictionary is given)
        axis = self._liquid_axis(d)
        if axis is not None:
            from ..simulate._dictionary import AXIS_FREE_MODELS

            # K is held at one value along a liquid axis; where K does not enter, any value does
            if k.size != 1 and self._dictionary_model() not in AXIS_FREE_MODELS:
                raise ValueError(f"with {axis.keyword} anisotropies_Jm3 must hold one value, got {k.tolist()}")
            k = np.full(len(axis), k[0] if k.size == 1 else 0.0)
        return d, k, axis

    # ------------------------------------------------------------------ inputs
    def _measured(self, y, n_samples, *, rows=None, channels=None, dictionary=None) -> _Measured:
        """Turn y (SystemMatrix sequence or complex array) into rows (A, C, F, O)."""
        if isinstance(y, SystemMatrix):
            raise ValueError("y must be a sequence of SystemMatrix objects (one per angle in X), not a single one")
        if isinstance(y, np.ndarray) and y.dtype != object:
            arr = np.asarray(y)
            if arr.ndim != 4 or arr.shape[0] != n_samples:
                raise ValueError(
                    f"array y must have shape (n_samples={n_samples}, channels, frequencies, positions), got {arr.shape}"
                )
            dic = dictionary if dictionary is not None else self.dictionary
            if rows is None:
                if dic is None:
                    raise ValueError(
                        "fitting to a plain array y needs a precomputed `dictionary` (it defines the rows)"
                    )
                dic_rows = np.asarray(dic.frequency_indices, dtype=np.int64)
                if arr.shape[2] != dic_rows.size:
                    raise ValueError(
                        f"array y has {arr.shape[2]} frequency rows but the dictionary has {dic_rows.size}; "
                        "the rows of an array y are the dictionary's frequency_indices"
                    )
                want = dic_rows if self.frequencies is None else np.asarray(self.frequencies, dtype=np.int64)
                pos = _row_positions(dic_rows, want, "the dictionary")
                rows = want
            else:
                dic_rows = np.asarray(self.dictionary.frequency_indices, dtype=np.int64)
                pos = _row_positions(dic_rows, rows, "the dictionary")
            chans = tuple(channels) if channels is not None else tuple(dic.channels)[: arr.shape[1]]
            return _Measured(np.asarray(arr[:, :, pos], dtype=np.complex128), None, np.asarray(rows), None, chans)
        items = list(y)
        if len(items) != n_samples:
            raise ValueError(f"X has {n_samples} angles but y has {len(items)} system matrices")
        if not all(isinstance(s, SystemMatrix) for s in items):
            raise TypeError("y must be a sequence of SystemMatrix objects or a complex array (n, C, F, O)")
        first = items[0]
        for i, s in enumerate(items):
            if s.num_channels != first.num_channels or s.num_positions != first.num_positions:
                raise ValueError(
                    f"system matrix {i} has {s.num_channels} channels x {s.num_positions} positions, "
                    f"but the first has {first.num_channels} x {first.num_positions}"
                )
            if s.offset_fields_T is None:
                raise ValueError(f"system matrix {i} has no offset fields; hybrid or simulated matrices are required")
        orders = None
        if rows is None:
            if self.frequencies is None:
                rows, orders = frequency_set(first.sequence)
            else:
                rows = np.asarray(self.frequencies, dtype=np.int64).reshape(-1)
                if np.any(np.diff(np.sort(rows)) == 0):
                    raise ValueError("frequencies contains repeated bins")
                rows = np.sort(rows)
        if orders is None:
            try:
                orders = mixing_order_map(first.sequence)[rows]
            except ValueError as exc:  # e.g. a sequence that is not a Lissajous pattern
                logger.info("no mixing orders for the rows (%s); reports show frequency bins instead", exc)
                orders = None
        selected = []
        for i, s in enumerate(items):
            try:
                selected.append(s.select_frequencies(rows))
            except KeyError as exc:
                raise ValueError(f"system matrix {i} (angle sample {i}) lacks rows needed for the fit: {exc}") from None
        chans = tuple(channels) if channels is not None else _CHANNEL_NAMES[: first.num_channels]
        data = np.stack([s.data for s in selected]).astype(np.complex128, copy=False)
        return _Measured(data, selected, np.asarray(rows, dtype=np.int64), orders, chans)

    # ------------------------------------------------------------------ dictionary
    def _load_dictionary(
        self, *, sequence, offsets_T, angles_deg, rows, channels, diameters_m, anisotropies_Jm3, liquid_axis=None
    ):
        """The one place a dictionary is obtained: the given one, or mdf_neel.simulate."""
        if self.dictionary is not None:
            return self.dictionary
        if sequence is None:
            raise ValueError("a dictionary can only be simulated for SystemMatrix inputs (they carry the sequence)")
        from ..simulate import dictionary as simulate_dictionary

        angles = (0.0,) if self._angle_independent else tuple(float(a) for a in np.unique(angles_deg % 180.0))
        logger.info(
            "dictionary: model %s, %d diameters x %d %s x %d angles, %d rows, %d offsets",
            self._dictionary_model(),
            len(diameters_m),
            len(anisotropies_Jm3),
            "anisotropies" if liquid_axis is None else liquid_axis.keyword,
            len(angles),
            len(rows),
            len(offsets_T),
        )
        if liquid_axis is None:
            second = {"anisotropies_Jm3": tuple(float(k) for k in anisotropies_Jm3)}
        else:  # K held at one value along the liquid axis
            second = {"anisotropies_Jm3": (float(anisotropies_Jm3[0]),), liquid_axis.keyword: liquid_axis.values}
        return simulate_dictionary(
            sequence,
            offsets_T,
            diameters_m=tuple(float(d) for d in diameters_m),
            angles_deg=angles,
            frequencies=np.asarray(rows, dtype=np.int64),
            model=self._dictionary_model(),
            channels=tuple(channels),
            cache=self.cache,
            workers=self.workers,
            physics=self._physics(),
            **second,
            **self._solver(),
        )

    def _second_index(self, dic, anisotropies_Jm3, liquid_parameter, liquid_values) -> np.ndarray:
        """Indices along the dictionary's second axis: of the anisotropies, or of the liquid values."""
        dic_axis = getattr(dic, "liquid_axis", None)
        if liquid_parameter is None:
            if dic_axis is not None:
                raise ValueError(
                    f"the dictionary's second axis is {dic_axis.keyword}, not K: give {dic_axis.keyword}= "
                    "to the estimator"
                )
            return _grid_match(anisotropies_Jm3, dic.anisotropies_Jm3, "anisotropy_Jm3")
        if dic_axis is None or dic_axis.parameter != liquid_parameter:
            held = "K" if dic_axis is None else dic_axis.keyword
            raise ValueError(f"the estimator fits {liquid_parameter} but the dictionary's second axis is {held}")
        return _grid_match(liquid_values, dic_axis.values, liquid_parameter)

    def _view(self, dic, measured: _Measured, angles_deg, diameters_m, anisotropies_Jm3, offsets_T, liquid_axis=None):
        phi = dic.phi
        d_idx = _grid_match(diameters_m, dic.diameters_m, "diameter_m")
        if self._single_anisotropy:
            if len(np.atleast_1d(dic.anisotropies_Jm3)) != 1:
                raise ValueError("the M0 (equilibrium) dictionary must have a single anisotropy entry")
            k_idx = np.zeros(1, dtype=np.int64)
        else:
            k_idx = self._second_index(
                dic,
                anisotropies_Jm3,
                None if liquid_axis is None else liquid_axis.parameter,
                None if liquid_axis is None else liquid_axis.values,
            )
        if not (np.array_equal(d_idx, np.arange(phi.shape[0])) and np.array_equal(k_idx, np.arange(phi.shape[1]))):
            phi = phi[np.ix_(d_idx, k_idx)]
        dic_angles = np.atleast_1d(np.asarray(dic.angles_deg, dtype=np.float64))
        if self._angle_independent and dic_angles.size == 1:
            a_idx = np.zeros(len(angles_deg), dtype=np.int64)
        else:
            a_idx = _angle_match(angles_deg, dic_angles)
            if np.any(a_idx < 0):
                missing = np.asarray(angles_deg)[a_idx < 0]
                raise ValueError(
                    f"angles {missing.tolist()} deg are not in the dictionary's angles {dic_angles.tolist()}"
                )
        dic_channels = tuple(dic.channels)
        try:
            c_idx = [dic_channels.index(c) for c in measured.channels]
        except ValueError:
            raise ValueError(f"channels {measured.channels} are not all in the dictionary's {dic_channels}") from None
        f_idx = _row_positions(np.asarray(dic.frequency_indices, dtype=np.int64), measured.rows, "the dictionary")
        if phi.shape[-1] != measured.data.shape[-1]:
            raise ValueError(
                f"the dictionary has {phi.shape[-1]} offsets but the data {measured.data.shape[-1]} positions"
            )
        if offsets_T is not None and getattr(dic, "offsets_T", None) is not None:
            if not np.allclose(np.asarray(dic.offsets_T), offsets_T, rtol=0, atol=_OFFSET_TOL_T):
                raise ValueError("the dictionary was simulated for other offset fields than the measured matrices")
        return K.DictionaryView(phi, a_idx, c_idx, f_idx)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y):
        """Fit the model to measured system matrices.

        Parameters
        ----------
        X : array_like of shape (n_samples, 1)
            Easy-axis angles ϑ in degrees (the sample axis).
        y : sequence of SystemMatrix, or complex ndarray of shape (n_samples, C, F, O)
            Measured matrices for those angles. SystemMatrix inputs provide the
            sequence and offsets for which the dictionary is simulated; an array
            needs a precomputed ``dictionary`` and its rows are the dictionary's.

        Returns
        -------
        self
        """
        angles = _check_angles(X)
        d, k, axis = self._check_params()
        self._check_extra_params()
        measured = self._measured(y, angles.size)
        seq = offsets = None
        if measured.templates is not None:
            seq = measured.templates[0].sequence
            offsets = measured.templates[0].offset_fields_T
        dic = self._load_dictionary(
            sequence=seq,
            offsets_T=offsets,
            angles_deg=angles,
            rows=measured.rows,
            channels=measured.channels,
            diameters_m=d,
            anisotropies_Jm3=k if not self._single_anisotropy else (0.0,),
            liquid_axis=axis,
        )
        view = self._view(dic, measured, angles, d, k, offsets, axis)
        data = K.FitData(measured.data)
        self.n_features_in_ = 1
        self.angles_deg_ = angles
        self.frequency_indices_ = measured.rows.copy()
        self.mixing_orders_ = None if measured.orders is None else np.asarray(measured.orders)
        self.channels_ = tuple(measured.channels)
        self.diameters_m_ = d
        self.anisotropies_Jm3_ = k
        self.liquid_parameter_ = None if axis is None else axis.parameter
        self.liquid_values_ = None if axis is None else np.asarray(axis.values)
        self._fit_core(data, view)
        self.atom_params_ = np.column_stack([d[self.atoms_[:, 0]], k[self.atoms_[:, 1]]])
        self.atom_liquid_values_ = None if axis is None else self.liquid_values_[self.atoms_[:, 1]]
        self._atom_phi = np.stack([view.atoms(a, self._flat_atoms()) for a in range(angles.size)])
        self._templates = measured.templates
        self._sequence = seq
        self._output_kind = "system_matrix" if measured.templates is not None else "array"
        pred = self._predict_arrays(angles, y_rows=None)
        self.row_errors_ = nrmse_rows(measured.data, pred)
        self.training_error_ = global_error_from_rows(self.row_errors_, self.channel_reduction)
        return self

    def _check_extra_params(self):
        pass

    def _flat_atoms(self):
        return self.atoms_[:, 0] * len(self.anisotropies_Jm3_) + self.atoms_[:, 1]

    def _fit_single_atom(self, data, view):
        """M0/M1: the grid point minimising ε_global (eq. 22), closed-form residuals (§4.5)."""
        num, den = K.row_statistics(data, view)
        if self.tf_mode == "per_angle":
            tf, res = K.per_angle_residuals(data, num, den)
        else:
            tf, res = K.shared_residuals(data, num, den)
        errors = K.global_errors(K.row_errors_from_residuals(data, res), self.channel_reduction)
        best = int(np.argmin(errors))
        n_k = len(self.anisotropies_Jm3_)
        self.atoms_ = np.array([[best // n_k, best % n_k]], dtype=np.int64)
        self.atom_weights_ = np.ones(1)
        if self.tf_mode == "per_angle":
            self._tf = tf[best][:, None]  # (A, 1, C, F)
            self.transfer_function_ = tf[best]  # (A, C, F)
        else:
            self._tf = tf[best]  # (C, F)
            self.transfer_function_ = tf[best]
        return errors

    # ------------------------------------------------------------------ predict
    def _phi_atoms(self, angle_deg, offsets=None):
        """φ of the fitted atoms at one angle: (n_atoms, C, F, O)."""
        if offsets is None:
            a = _angle_match([angle_deg], self.angles_deg_)[0]
            if a >= 0:
                return self._atom_phi[a]
            if self._angle_independent:
                return self._atom_phi[0]
            dic = self.dictionary
            if dic is not None:
                ad = _angle_match([angle_deg], np.atleast_1d(dic.angles_deg))[0]
                if ad >= 0:
                    d_idx = _grid_match(self.atom_params_[:, 0], dic.diameters_m, "diameter_m")
                    k_idx = (
                        np.zeros(len(d_idx), dtype=np.int64)
                        if self._single_anisotropy
                        else self._second_index(
                            dic, self.atom_params_[:, 1], self._fitted_liquid(), self._atom_liquid_values()
                        )
                    )
                    c_idx = [tuple(dic.channels).index(c) for c in self.channels_]
                    f_idx = _row_positions(np.asarray(dic.frequency_indices), self.frequency_indices_, "the dictionary")
                    sub = np.asarray(dic.phi)[d_idx, k_idx, ad]
                    return sub[:, c_idx][:, :, f_idx]
        return self._simulate_atoms(angle_deg, offsets)

    def _simulate_atoms(self, angle_deg, offsets):
        if self._sequence is None:
            raise ValueError(
                f"angle {angle_deg:g} deg (or the requested grid) is not covered by the fit or the given dictionary, "
                "and a model fitted to arrays has no sequence to simulate with"
            )
        from ..simulate import system_functions

        offs = self._templates[0].offset_fields_T if offsets is None else offsets
        liquid, values = self._fitted_liquid(), self._atom_liquid_values()
        out = []
        for i, (dm, kj) in enumerate(self.atom_params_):
            out.append(
                system_functions(
                    self._sequence,
                    offs,
                    angle_deg=float(angle_deg),
                    diameter_m=float(dm),
                    anisotropy_Jm3=float(kj),
                    model=self._dictionary_model(),
                    frequencies=self.frequency_indices_,
                    channels=self.channels_,
                    physics=self._physics(),
                    **({} if liquid is None else {liquid: float(values[i])}),
                    **self._solver(),
                )
            )
        return np.stack(out)

    def _fitted_liquid(self):
        """The liquid parameter fitted along the second axis (None: K)."""
        return getattr(self, "liquid_parameter_", None)

    def _atom_liquid_values(self):
        """The liquid value of each atom (None without a liquid axis)."""
        if self._fitted_liquid() is None:
            return None
        return np.asarray(self.liquid_values_)[np.asarray(self.atoms_)[:, 1]]

    def _predict_one(self, angle_deg, *, offsets=None, y_row=None):
        phi = self._phi_atoms(angle_deg, offsets)  # (n, C, F, O)
        w = self.atom_weights_
        if self.tf_mode == "shared":
            return self._tf[:, :, None] * np.tensordot(w, phi, axes=(0, 0))
        if y_row is not None:
            tf = K.transfer_function_lstsq(y_row[None], phi)  # (n, C, F)
        else:
            a = _angle_match([angle_deg], self.angles_deg_)[0]
            if a < 0:
                raise ValueError(
                    f"a tf_mode='per_angle' model has transfer functions only for the fitted angles "
                    f"{self.angles_deg_.tolist()}; angle {angle_deg:g} deg needs tf_mode='shared' "
                    "(or scoring against data, which fits its own per-angle TF)"
                )
            tf = self._tf[a]
        return np.tensordot(w, tf[:, :, :, None] * phi, axes=(0, 0))

    def _predict_arrays(self, angles, *, y_rows=None, offsets=None):
        out = [
            self._predict_one(theta, offsets=offsets, y_row=None if y_rows is None else y_rows[i])
            for i, theta in enumerate(angles)
        ]
        return np.stack(out)

    def predict(self, X, *, grid=None):
        """Predict system matrices for easy-axis angles.

        Parameters
        ----------
        X : array_like of shape (n_samples, 1)
            Angles in degrees. With ``tf_mode="per_angle"`` only fitted angles can be
            predicted (their TFs are known); ``"shared"`` predicts any angle.
        grid : OffsetGrid, optional
            Predict on another (e.g. finer) offset grid, simulating the atoms there
            (:class:`mdf_neel.sequence.OffsetGrid`, e.g. from
            :func:`~mdf_neel.sequence.paper_2d_offsets` or
            :func:`~mdf_neel.simulate.regrid`; a 4-tuple or bare (O', 3) offsets are
            converted by :func:`~mdf_neel.sequence.as_offset_grid`).

        Returns
        -------
        list of SystemMatrix, or numpy.ndarray of shape (n_samples, C, F, O)
            SystemMatrix objects when the model was fitted to SystemMatrix inputs,
            complex arrays when it was fitted to arrays.
        """
        check_is_fitted(self, "atoms_")
        angles = _check_angles(X)
        grid = None if grid is None else as_offset_grid(grid)
        offsets = None if grid is None else grid.offsets_T
        data = self._predict_arrays(angles, offsets=offsets)
        return self._wrap(angles, data, grid)

    def _predict_for_score(self, X, y):
        """Predictions used for scoring; per-angle TFs are fitted to ``y`` (eq. 14)."""
        check_is_fitted(self, "atoms_")
        angles = _check_angles(X)
        measured = self._measured(y, angles.size, rows=self.frequency_indices_, channels=self.channels_)
        y_rows = measured.data if self.tf_mode == "per_angle" else None
        return self._wrap(angles, self._predict_arrays(angles, y_rows=y_rows), None)

    def score(self, X, y):
        """``−ε_global`` (eq. 22) of the model on measured matrices (higher is better).

        In ``tf_mode="per_angle"`` the transfer functions of the scored angles are
        fitted to ``y`` (eq. 14), as in the paper; in ``"shared"`` mode the fitted
        TF is used, so held-out angles are a true prediction.
        """
        from .metrics import nrmse_scorer

        return nrmse_scorer(self.channel_reduction)(self, X, y)

    def _wrap(self, angles, data, grid):
        if self._output_kind == "array":
            return data
        return [self._system_matrix(theta, data[i], grid) for i, theta in enumerate(angles)]

    def _system_matrix(self, angle_deg, data, grid):
        a = _angle_match([angle_deg], self.angles_deg_)[0]
        template = self._templates[a if a >= 0 else 0]
        changes = dict(
            data=data,
            method="simulation",
            easy_axis_angle_deg=float(angle_deg),
            background=None,
            is_background_corrected=True,
            is_transfer_function_corrected=False,
            receiver=_receiver_without_tf(template.receiver),
            provenance=self._provenance(angle_deg),
            source_path=None,
        )
        if grid is not None:
            changes.update(
                offset_fields_T=grid.offsets_T,
                grid_size=grid.size,
                field_of_view=grid.field_of_view_T,
                field_of_view_center=grid.center_T,
                positions_m=None,
            )
        import dataclasses

        from ..systemmatrix import new_uuid, utc_now

        exp = dataclasses.replace(template.experiment, is_simulation=True, uuid=new_uuid())
        changes.update(experiment=exp, uuid=new_uuid(), time=utc_now())
        return template.replace(**changes)

    def _provenance(self, angle_deg) -> dict:
        from .. import __version__

        fit = {
            "estimator": type(self).__name__,
            "model": self._dictionary_model(),
            "tf_mode": self.tf_mode,
            "angle_deg": float(angle_deg),
            "angle_convention": "n(theta) = (cos theta, sin theta, 0); theta in degrees from the x axis towards y",
            "atom_diameters_m": np.asarray(self.atom_params_[:, 0]),
            "atom_anisotropies_Jm3": np.asarray(self.atom_params_[:, 1]),
            "atom_weights": np.asarray(self.atom_weights_),
            "training_nrmse_global": float(getattr(self, "training_error_", float("nan"))),
            "frequency_indices": np.asarray(self.frequency_indices_),
        }
        if getattr(self, "rank_", None) is not None:
            fit["rank"] = int(self.rank_)
        fit.update(self._physics().keywords())
        liquid = self._fitted_liquid()
        if liquid is not None:  # varied along the liquid axis: one value per atom
            from ..simulate.liquid import LIQUID_PARAMETERS

            del fit[liquid]
            fit[f"atom_{LIQUID_PARAMETERS[liquid][0]}"] = self._atom_liquid_values()
        return {"software": f"mdf_neel {__version__}", "fitting": fit}


def _receiver_without_tf(receiver):
    import dataclasses

    return dataclasses.replace(receiver, transfer_function=None)


def _row_positions(available, wanted, where) -> np.ndarray:
    available = np.asarray(available, dtype=np.int64)
    wanted = np.asarray(wanted, dtype=np.int64)
    pos = np.searchsorted(available, wanted)
    pos_c = np.minimum(pos, max(available.size - 1, 0))
    ok = (pos < available.size) & (available[pos_c] == wanted) if available.size else np.zeros(wanted.size, bool)
    if not np.all(ok):
        # fall back to an unsorted lookup before giving up
        lookup = {int(v): i for i, v in enumerate(available)}
        try:
            return np.array([lookup[int(v)] for v in wanted], dtype=np.int64)
        except KeyError:
            missing = wanted[~ok][:10].tolist()
            raise ValueError(f"frequency bins {missing} are not in {where}") from None
    return pos
