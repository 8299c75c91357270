"""Estimators share one persistent dictionary: computed once, refused when settings change."""

import numpy as np

from mdf_neel.fitting import DictionaryModel, NeelModel
from mdf_neel.simulate import _dictionary as dictionary_module
from mdf_neel.simulate import system_matrix
from tests.fitting._fitting_synth import GRID, ROWS, SEQ

ANGLES = (0.0, 45.0, 90.0)
GRID_KW = dict(
    diameters_m=[18e-9, 20e-9], anisotropies_Jm3=[500.0, 1000.0], model="anisotropic-equilibrium", frequencies=ROWS
)


def _measured():
    return [
        system_matrix(
            SEQ, GRID, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1000.0, model="anisotropic-equilibrium", unit="1/s"
        )
        for a in ANGLES
    ]


def test_m1_m2_and_a_shared_tf_m1_compute_the_dictionary_once(monkeypatch, private_cache_dir):
    solved = []
    real = dictionary_module._compute_pair
    monkeypatch.setattr(dictionary_module, "_compute_pair", lambda payload: solved.append(1) or real(payload))
    X, sms = np.reshape(ANGLES, (-1, 1)), _measured()
    m1 = NeelModel(**GRID_KW).fit(X, sms)
    assert len(solved) == 4  # one task per (D, K) pair
    DictionaryModel(rank=2, **GRID_KW).fit(X, sms)
    shared = NeelModel(tf_mode="shared", **GRID_KW).fit(X, sms)
    assert len(solved) == 4 and len(list(private_cache_dir.glob("dictionary-*.h5"))) == 1
    assert m1.best_params_ == shared.best_params_ == {"diameter_m": 20e-9, "anisotropy_Jm3": 1000.0}
    NeelModel(cache=False, **GRID_KW).fit(X, sms)  # no cache: computed again
    assert len(solved) == 8


def test_another_accuracy_gets_another_dictionary(monkeypatch, private_cache_dir):
    # the rtol of a Néel dictionary is part of the fingerprint; the settings are compared,
    # not solved, so the equilibrium physics stands in and the Néel settings are checked
    from mdf_neel.simulate._dictionary import dictionary_settings
    from mdf_neel.simulate.cache import default_cache_path

    kw = dict(
        diameters_m=[2e-8],
        anisotropies_Jm3=[500.0],
        angles_deg=[0.0],
        frequencies=ROWS,
        channels=("x", "y"),
        model="neel",
    )
    a = default_cache_path(dictionary_settings(SEQ, GRID[0], particle={"rtol": 1e-3}, **kw))
    b = default_cache_path(dictionary_settings(SEQ, GRID[0], particle={"rtol": 1e-4}, **kw))
    assert a != b and str(private_cache_dir) in a
