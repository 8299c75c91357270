"""M2: non-negative, TSVD-regularised mixture of dictionary atoms (paper §3.5, eqs. 16–18)."""

from __future__ import annotations

import logging
import numbers

import numpy as np

from . import _kernels as K
from ._base import PAPER_ANISOTROPIES_JM3, PAPER_DIAMETERS_M, _FittingModel

__all__ = ["DictionaryModel"]

logger = logging.getLogger("mdf_neel.fitting")


class DictionaryModel(_FittingModel):
    """M2: weights ``w_{D,K} >= 0`` over the (D, K) dictionary, shared by all angles.

    ``tf_mode="per_angle"`` is the paper's two-step procedure: every atom gets its
    own per-angle TF (eq. 15, giving Ψ of eq. 12), then the weights solve the
    weighted, TSVD-projected non-negative least-squares problem (eqs. 16–18). The
    stacked matrix is never formed: its Gram matrix ``M^H M`` (J x J) and ``M^H y``
    are accumulated block by block and the projected problem is solved exactly with
    :func:`scipy.optimize.nnls` (see ``docs/fitting.md``).

    ``tf_mode="shared"`` (beyond the paper, its proposed future work) fits one TF per
    (receive channel, row) for all angles jointly with the weights, by alternating
    minimisation: TF given w in closed form, w given TF by the TSVD-NNLS step. It
    starts at the best single atom (shared-TF M1) and stops when the relative
    decrease of ε_global² drops below ``tol`` or after ``max_iter`` rounds (the best
    iterate is kept: for ``rank < J`` the projected w-step need not decrease the
    unprojected objective).

    Parameters
    ----------
    diameters_m : tuple of float, default=P_diam (14, ..., 28 nm)
    anisotropies_Jm3 : tuple of float, default=P_anis (100, ..., 9000 J/m³)
    rank : int or None, default=None
        Singular values kept (s of eq. 18; the paper uses 21 = 3 % of 720).
        ``None`` keeps all numerically non-zero ones (no regularisation).
    frequencies : array_like of int or None, default=None
        0-based rfft bins; ``None`` = I_freq (97 rows).
    tf_mode : {"per_angle", "shared"}, default="per_angle"
    model : {"neel", "anisotropic-equilibrium", "brown", "neel-brown"}, default="neel"
    alpha, saturation_magnetization_Am, temperature_K
        Particle constants of the dictionary.
    hydrodynamic_diameter_m, viscosity_Pas, hydrodynamic_diameters_m, viscosities_Pas
        Liquid parameters of ``model="brown"`` and ``"neel-brown"``, fixed or as the
        grid in the place of K (weights over (D, D_h) or (D, η)); see
        :class:`~mdf_neel.fitting.NeelModel`.
    channel_reduction : {"mean", "sum"}, default="mean"
    svd_domain : {"complex", "real"}, default="complex"
        SVD of the complex stacked matrix (the paper) or of its real stacking.
    max_iter : int, default=50
        Alternation rounds in ``tf_mode="shared"``.
    tol : float, default=1e-8
        Relative objective decrease that stops the alternation.
    rtol : float, default=1e-3
        Accuracy of the simulated dictionary: the row contract of
        :class:`mdf_neel.simulate.accuracy.SolverSettings` (RMS of the per-row NRMSE
        against a converged solve). Part of the cache fingerprint.
    dictionary, cache, workers
        See :class:`~mdf_neel.fitting.EquilibriumModel`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_diameters, n_anisotropies)
        Non-negative mixture weights (for ``"shared"`` normalised to sum 1, the TF
        carries the scale); (n_diameters, n_liquid_values) with a liquid axis.
    singular_values_ : ndarray of shape (J,)
        Singular values of the stacked weighted matrix M, descending.
    rank_ : int
        Singular values actually kept.
    transfer_function_ : ndarray, complex
        ``(n_angles, n_atoms, C, F)``: the per-angle TF of each atom with non-zero
        weight (``atom_params_`` lists them), or ``(C, F)`` shared.
    error_map_ : ndarray of shape (n_diameters, n_anisotropies)
        ε_global of each single atom with its own TF (the M1 error map, a by-product).
    objective_ : float
        ``‖M w − y‖²`` of the weighted, unprojected problem (ε_global² times the
        number of (angle, channel, row, position) entries for the mean reduction).
    n_iter_ : int
        Alternation rounds (``"shared"``), 1 for ``"per_angle"``.
    atom_params_ : ndarray of shape (n_atoms, 2)
        (D, K) of the atoms with non-zero weight.
    liquid_parameter_, liquid_values_, atom_liquid_values_
        With a liquid axis: its parameter, its values and each atom's value (n_atoms,);
        None otherwise.
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
    >>> m2 = DictionaryModel(diameters_m=(18e-9, 20e-9), anisotropies_Jm3=(500.0, 1000.0), rank=2,
    ...                      model="anisotropic-equilibrium", frequencies=rows, cache=False).fit(X, sms)
    >>> m2.rank_, m2.training_error_ < 1e-6
    (2, True)
    >>> [p.data.shape for p in m2.predict(X[:1])]
    [(2, 3, 9)]
    """

    def __init__(
        self,
        diameters_m=PAPER_DIAMETERS_M,
        *,
        anisotropies_Jm3=PAPER_ANISOTROPIES_JM3,
        rank=None,
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
        svd_domain="complex",
        max_iter=50,
        tol=1e-8,
        rtol=1e-3,
        dictionary=None,
        cache=True,
        workers=None,
    ):
        self.diameters_m = diameters_m
        self.anisotropies_Jm3 = anisotropies_Jm3
        self.rank = rank
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
        self.svd_domain = svd_domain
        self.max_iter = max_iter
        self.tol = tol
        self.rtol = rtol
        self.dictionary = dictionary
        self.cache = cache
        self.workers = workers

    def _dictionary_model(self):
        return self.model

    def _check_extra_params(self):
        if self.rank is not None and (
            not isinstance(self.rank, numbers.Integral) or isinstance(self.rank, bool) or self.rank < 1
        ):
            raise ValueError(f"rank must be a positive integer or None, got {self.rank!r}")
        if self.svd_domain not in ("complex", "real"):
            raise ValueError(f"svd_domain must be 'complex' or 'real', got {self.svd_domain!r}")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not (float(self.tol) >= 0):
            raise ValueError(f"tol must be >= 0, got {self.tol!r}")

    def _entries(self, data):
        A, C, F, O = data.shape
        factor = 1.0 if self.channel_reduction == "mean" else float(C)
        return A * C * F * O / factor

    def _fit_core(self, data, view):
        n_d, n_k = len(self.diameters_m_), len(self.anisotropies_Jm3_)
        if self.tf_mode == "per_angle":
            w = self._fit_per_angle(data, view)
        else:
            w = self._fit_shared(data, view)
        self.weights_ = w.reshape(n_d, n_k)
        atoms = np.flatnonzero(w > 0)
        self.atoms_ = np.column_stack([atoms // n_k, atoms % n_k]).astype(np.int64).reshape(-1, 2)
        self.atom_weights_ = w[atoms]
        if self.tf_mode == "per_angle":
            self._tf = self._tf_all[atoms].transpose(1, 0, 2, 3)  # (A, n_atoms, C, F)
            del self._tf_all
        self.transfer_function_ = self._tf
        logger.info("M2 (%s): %d atoms with non-zero weight, rank %d", self.tf_mode, atoms.size, self.rank_)

    def _fit_per_angle(self, data, view):
        H, r, yy, num, den = K.per_angle_gram(data, view)
        tf, res = K.per_angle_residuals(data, num, den)
        errors = K.global_errors(K.row_errors_from_residuals(data, res), self.channel_reduction)
        self.error_map_ = errors.reshape(len(self.diameters_m_), len(self.anisotropies_Jm3_))
        w, sv, s = K.tsvd_nnls(H, r, self.rank, svd_domain=self.svd_domain)
        self._tf_all = tf
        self.singular_values_ = sv
        self.rank_ = s
        self.objective_ = K.objective_from_gram(H, r, yy, w)
        self.n_iter_ = 1
        return w

    def _fit_shared(self, data, view):
        Q, n, yy = K.per_row_gram(data, view)  # (C, F, J, J), (J, C, F), (C, F)
        Qr = Q.real
        diag = np.einsum("cfjj->jcf", Qr)
        t_all = K._safe_ratio(n, diag)
        f_all = np.sum(yy[None] - (n.real**2 + n.imag**2) * K._safe_ratio(1.0, diag).real, axis=(1, 2))
        f_all = np.maximum(f_all, 0.0)
        entries = self._entries(data)
        self.error_map_ = np.sqrt(f_all / entries).reshape(len(self.diameters_m_), len(self.anisotropies_Jm3_))
        j0 = int(np.argmin(f_all))
        w = np.zeros(view.num_atoms)
        w[j0] = 1.0
        t = t_all[j0]
        obj = float(f_all[j0])
        sv, s = None, 0
        n_iter = 0
        for n_iter in range(1, int(self.max_iter) + 1):
            H = np.einsum("cf,cfij->ij", t.real**2 + t.imag**2, Q)
            r = np.einsum("cf,jcf->j", np.conj(t), n)
            w_new, sv, s = K.tsvd_nnls(H, r, self.rank, svd_domain=self.svd_domain)
            total = w_new.sum()
            if total <= 0:
                break
            w_new = w_new / total
            wn = np.einsum("j,jcf->cf", w_new, n)
            wqw = np.einsum("cfi,i->cf", np.einsum("cfij,j->cfi", Qr, w_new), w_new)
            t_new = K._safe_ratio(wn, wqw)
            obj_new = float(max(np.sum(yy - (wn.real**2 + wn.imag**2) * K._safe_ratio(1.0, wqw).real), 0.0))
            decrease = obj - obj_new
            if obj_new < obj:
                w, t, obj = w_new, t_new, obj_new
            if decrease <= float(self.tol) * max(obj, np.finfo(float).tiny):
                break
        if sv is None:  # pragma: no cover - max_iter >= 1 always runs one round
            sv = np.zeros(view.num_atoms)
        self._tf = t
        self.singular_values_ = sv
        self.rank_ = s
        self.objective_ = obj
        self.n_iter_ = n_iter
        return w
