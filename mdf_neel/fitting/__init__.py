"""Fitting the models M0/M1/M2 of Albers et al. (2022) to measured system matrices.

Reference: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022). "The paper" and its equation and section numbers in this
package refer to it.

scikit-learn estimators (X = easy-axis angles in degrees, shape (n, 1); y = the
measured :class:`~mdf_neel.systemmatrix.SystemMatrix` per angle):

* :class:`EquilibriumModel` (M0): Langevin dictionary over diameters;
* :class:`NeelModel` (M1): Néel dictionary over (diameter, anisotropy);
* :class:`DictionaryModel` (M2): non-negative TSVD-regularised mixture.

Metrics (eqs. 19–22) live in :mod:`mdf_neel.fitting.metrics`; saving and loading
fitted models, and writing their predictions as MDF files (:func:`predict_mdf`), in
:mod:`mdf_neel.fitting.io`; report pictures in
:mod:`mdf_neel.fitting.report`. See ``docs/fitting.md``.
"""

from ._base import PAPER_ANGLES_DEG, PAPER_ANISOTROPIES_JM3, PAPER_DIAMETERS_M
from .dictionary_model import DictionaryModel
from .equilibrium import EquilibriumModel
from .io import load_model, predict_mdf, save_model
from .metrics import (
    frequency_set,
    mixing_order_map,
    neg_nrmse_global,
    nrmse_global,
    nrmse_per_angle,
    nrmse_per_frequency,
    nrmse_rows,
    nrmse_scorer,
)
from .neel import NeelModel

__all__ = [
    "EquilibriumModel",
    "NeelModel",
    "DictionaryModel",
    "save_model",
    "load_model",
    "predict_mdf",
    "frequency_set",
    "mixing_order_map",
    "nrmse_rows",
    "nrmse_per_frequency",
    "nrmse_per_angle",
    "nrmse_global",
    "neg_nrmse_global",
    "nrmse_scorer",
    "PAPER_DIAMETERS_M",
    "PAPER_ANISOTROPIES_JM3",
    "PAPER_ANGLES_DEG",
]
