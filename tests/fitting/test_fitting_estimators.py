"""M0/M1/M2 estimators on synthetic dictionaries: planted truth, API, scikit-learn."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
)

from mdf_neel.fitting import DictionaryModel, EquilibriumModel, NeelModel, neg_nrmse_global, nrmse_global
from mdf_neel.systemmatrix import SystemMatrix
from tests.fitting._fitting_synth import ROWS, as_system_matrices, band_pass, random_dictionary, synthesize

ANGLES = (0.0, 45.0, 90.0, 135.0)


def _X(angles=ANGLES):
    return np.asarray(angles, dtype=float).reshape(-1, 1)


def _one_hot(dic, i_d, i_k):
    w = np.zeros((len(dic.diameters_m), len(dic.anisotropies_Jm3)))
    w[i_d, i_k] = 1.0
    return w


def _neel(dic, **kw):
    return NeelModel(dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, frequencies=ROWS, dictionary=dic, **kw)


def _m2(dic, **kw):
    return DictionaryModel(
        dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, frequencies=ROWS, dictionary=dic, **kw
    )


@pytest.mark.parametrize("tf_mode", ["per_angle", "shared"])
def test_m1_recovers_planted_grid_point_exactly(dic, tf_mode):
    y = as_system_matrices(synthesize(dic, _one_hot(dic, 2, 1), ANGLES, band_pass(ROWS)), ANGLES)
    est = _neel(dic, tf_mode=tf_mode).fit(_X(), y)
    assert est.best_params_ == {"diameter_m": dic.diameters_m[2], "anisotropy_Jm3": dic.anisotropies_Jm3[1]}
    assert est.error_map_.shape == (3, 4)
    # closed-form residual ||S||² − |S·Φ^H|²/||Φ||²: exact up to a sqrt(eps) cancellation floor
    assert est.error_map_[2, 1] < 1e-6 and np.min(np.delete(est.error_map_.ravel(), 2 * 4 + 1)) > 0.1
    assert est.training_error_ < 1e-12
    tf = band_pass(ROWS)
    got = est.transfer_function_ if tf_mode == "shared" else est.transfer_function_[1]
    np.testing.assert_allclose(got, tf, rtol=1e-10)


def test_m1_per_angle_tf_absorbs_angle_dependent_tf(dic, rng):
    tfs = np.stack([band_pass(ROWS, phase=p) * (1 + i) for i, p in enumerate([0.1, 0.5, 0.9, 1.3])])
    y = as_system_matrices(synthesize(dic, _one_hot(dic, 0, 3), ANGLES, tfs), ANGLES)
    per = _neel(dic).fit(_X(), y)
    shared = _neel(dic, tf_mode="shared").fit(_X(), y)
    assert per.training_error_ < 1e-12
    assert shared.training_error_ > 0.1  # one TF cannot explain four


def test_m1_error_map_matches_metrics_of_explicit_fit(dic, rng):
    data = synthesize(dic, rng.uniform(size=(3, 4)), ANGLES, band_pass(ROWS), noise=0.02, rng=rng)
    y = as_system_matrices(data, ANGLES)
    est = _neel(dic).fit(_X(), y)
    # independent evaluation of one grid point: fit its TF row by row with lstsq, then eq. 22
    i_d, i_k = 1, 2
    model = np.empty_like(data)
    for a in range(4):
        for c in range(2):
            for f in range(len(ROWS)):
                phi = dic.phi[i_d, i_k, a, c, f]
                coef, *_ = np.linalg.lstsq(phi[:, None], data[a, c, f], rcond=None)
                model[a, c, f] = coef[0] * phi
    assert est.error_map_[i_d, i_k] == pytest.approx(nrmse_global(data, model), rel=1e-9)
    assert est.score(_X(), y) == pytest.approx(-est.training_error_, rel=1e-12)


def test_m0_single_anisotropy_dictionary(rng):
    dic = random_dictionary(rng, n_d=4, n_k=1, angles=(0.0,))
    data = synthesize(dic, _one_hot(dic, 3, 0), (0.0,), band_pass(ROWS))
    data = np.concatenate([data] * 3)  # angle-independent model: same pattern at three angles
    angles = (0.0, 60.0, 120.0)
    est = EquilibriumModel(dic.diameters_m, frequencies=ROWS, dictionary=dic).fit(
        _X(angles), as_system_matrices(data, angles)
    )
    assert est.best_params_ == {"diameter_m": dic.diameters_m[3]}
    assert est.error_map_.shape == (4,)
    assert est.training_error_ < 1e-12


def test_m2_noise_free_grid_point_gets_all_weight(dic):
    y = as_system_matrices(synthesize(dic, _one_hot(dic, 1, 2), ANGLES, band_pass(ROWS)), ANGLES)
    est = _m2(dic).fit(_X(), y)
    w = est.weights_
    assert w[1, 2] > 0.999 * w.sum()
    assert w[1, 2] == pytest.approx(1.0, rel=1e-8)
    assert est.training_error_ < 1e-10


def test_m2_objective_identity_and_not_worse_than_m1(dic, rng):
    wtrue = rng.uniform(size=(3, 4)) * (rng.uniform(size=(3, 4)) > 0.5)
    data = synthesize(dic, wtrue, ANGLES, band_pass(ROWS), noise=0.01, rng=rng)
    y = as_system_matrices(data, ANGLES)
    m1 = _neel(dic).fit(_X(), y)
    m2 = _m2(dic).fit(_X(), y)
    # ε_global² · (A·C·F·N) = ||M w − y||² (docs/fitting.md): prediction-based vs Gram-based
    entries = data.size
    assert m2.training_error_**2 * entries == pytest.approx(m2.objective_, rel=1e-8)
    assert m2.training_error_ <= m1.training_error_ + 1e-12
    np.testing.assert_allclose(m2.error_map_, m1.error_map_, rtol=1e-10)
    assert np.all(m2.weights_ >= 0)
    assert m2.singular_values_.shape == (12,) and np.all(np.diff(m2.singular_values_) <= 1e-9)


def test_m2_rank_regularisation(dic, rng):
    data = synthesize(dic, rng.uniform(size=(3, 4)), ANGLES, band_pass(ROWS), noise=0.01, rng=rng)
    y = as_system_matrices(data, ANGLES)
    errs = [_m2(dic, rank=s).fit(_X(), y).training_error_ for s in (1, 3, 12)]
    assert errs[2] <= errs[1] + 1e-12 and errs[2] <= errs[0] + 1e-12
    assert _m2(dic, rank=3).fit(_X(), y).rank_ == 3


@pytest.mark.parametrize("estimator", ["m1", "m2"])
def test_shared_tf_predicts_held_out_angle(rng, estimator):
    dic = random_dictionary(rng, angles=(0.0, 30.0, 60.0, 90.0, 120.0))
    angles = dic.angles_deg
    w = _one_hot(dic, 2, 2) + 0.5 * _one_hot(dic, 0, 1) if estimator == "m2" else _one_hot(dic, 2, 2)
    data = synthesize(dic, w, angles, band_pass(ROWS), noise=1e-3, rng=rng)
    train = [0, 1, 3, 4]
    make = _neel if estimator == "m1" else _m2
    est = make(dic, tf_mode="shared").fit(
        _X([angles[i] for i in train]), as_system_matrices(data[train], [angles[i] for i in train])
    )
    (pred,) = est.predict(_X([60.0]))
    assert isinstance(pred, SystemMatrix) and pred.easy_axis_angle_deg == 60.0
    assert pred.method == "simulation" and pred.experiment.is_simulation
    err = nrmse_global(data[2:3], pred.data[None])
    assert err < 0.02  # noise level is 1e-3 of the peak; a wrong model gives O(1)
    per_angle = make(dic).fit(
        _X([angles[i] for i in train]), as_system_matrices(data[train], [angles[i] for i in train])
    )
    with pytest.raises(ValueError, match="shared"):
        per_angle.predict(_X([60.0]))


def test_array_inputs_give_array_outputs(dic):
    data = synthesize(dic, _one_hot(dic, 0, 0), ANGLES, band_pass(ROWS))
    est = NeelModel(dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, dictionary=dic).fit(_X(), data)
    pred = est.predict(_X())
    assert isinstance(pred, np.ndarray) and pred.shape == data.shape
    np.testing.assert_allclose(pred, data, atol=1e-10 * np.abs(data).max())


def test_input_errors(dic):
    y = as_system_matrices(synthesize(dic, _one_hot(dic, 0, 0), ANGLES, band_pass(ROWS)), ANGLES)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 1\)"):
        _neel(dic).fit(np.array(ANGLES), y)
    with pytest.raises(ValueError, match="tf_mode"):
        _neel(dic, tf_mode="global").fit(_X(), y)
    with pytest.raises(ValueError, match="4 angles but y has 3"):
        _neel(dic).fit(_X(), y[:3])
    with pytest.raises(ValueError, match="not in the dictionary"):
        _neel(dic).fit(_X((0.0, 45.0, 90.0, 10.0)), y)
    with pytest.raises(ValueError, match="metres"):
        NeelModel((22.0,), anisotropies_Jm3=(1000.0,), dictionary=dic).fit(_X(), y)
    with pytest.raises(ValueError, match="rank"):
        _m2(dic, rank=0).fit(_X(), y)
    with pytest.raises(ValueError, match="lacks rows"):
        NeelModel(dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, dictionary=dic).fit(_X(), y)  # I_freq


# --------------------------------------------------------------------------- scikit-learn API
@pytest.mark.parametrize("Est", [EquilibriumModel, NeelModel, DictionaryModel])
def test_sklearn_parameter_checks(Est):
    est = Est()
    check_no_attributes_set_in_init(Est.__name__, est)
    check_get_params_invariance(Est.__name__, est)
    check_set_params(Est.__name__, est)
    assert clone(est).get_params() == est.get_params()


def test_clone_shares_dictionary_and_pickle_roundtrip(dic):
    est = _m2(dic, rank=5)
    c = clone(est)
    assert c.dictionary is dic and c.rank == 5 and c is not est
    y = as_system_matrices(synthesize(dic, _one_hot(dic, 1, 1), ANGLES, band_pass(ROWS)), ANGLES)
    est.fit(_X(), y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.weights_, est.weights_)
    np.testing.assert_allclose(again.predict(_X([45.0]))[0].data, est.predict(_X([45.0]))[0].data)
    assert not hasattr(clone(est), "weights_")


def test_grid_search_over_rank(dic, rng):
    data = synthesize(dic, rng.uniform(size=(3, 4)), ANGLES, band_pass(ROWS), noise=0.01, rng=rng)
    y = as_system_matrices(data, ANGLES)
    gs = GridSearchCV(_m2(dic), {"rank": [1, 2, 6]}, cv=LeaveOneGroupOut())
    gs.fit(_X(), y, groups=np.array(ANGLES))
    assert gs.best_params_["rank"] in (1, 2, 6)
    assert gs.best_estimator_.rank_ == gs.best_params_["rank"]
    assert np.all(gs.cv_results_["mean_test_score"] <= 0)


@pytest.mark.parametrize("tf_mode", ["per_angle", "shared"])
def test_cross_val_score_leave_angles_out(rng, tf_mode):
    dic = random_dictionary(rng, angles=(0.0, 30.0, 60.0, 90.0, 120.0, 150.0))
    angles = dic.angles_deg
    data = synthesize(dic, _one_hot(dic, 1, 3), angles, band_pass(ROWS), noise=1e-3, rng=rng)
    y = as_system_matrices(data, angles)
    scores = cross_val_score(
        _neel(dic, tf_mode=tf_mode),
        _X(angles),
        y,
        groups=np.repeat([0, 1, 2], 2),
        cv=LeaveOneGroupOut(),
        scoring=neg_nrmse_global,
    )
    assert scores.shape == (3,)
    assert np.all(scores > -0.02) and np.all(scores <= 0)
