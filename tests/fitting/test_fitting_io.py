import json

import numpy as np
import pytest

from mdf_neel.errors import MDFError
from mdf_neel.fitting import DictionaryModel, NeelModel
from mdf_neel.fitting.io import load_model, save_model
from tests.fitting._fitting_synth import ROWS, as_system_matrices, band_pass, synthesize

ANGLES = (0.0, 45.0, 90.0, 135.0)
X = np.reshape(ANGLES, (-1, 1))


@pytest.mark.parametrize(
    "make",
    [
        lambda d: NeelModel(d.diameters_m, anisotropies_Jm3=d.anisotropies_Jm3, frequencies=ROWS, dictionary=d),
        lambda d: DictionaryModel(
            d.diameters_m, anisotropies_Jm3=d.anisotropies_Jm3, frequencies=ROWS, dictionary=d, tf_mode="shared", rank=4
        ),
    ],
)
def test_save_load_roundtrip_predicts_the_same(dic, rng, tmp_path, make):
    data = synthesize(dic, rng.uniform(size=(3, 4)), ANGLES, band_pass(ROWS), noise=0.01, rng=rng)
    est = make(dic).fit(X, as_system_matrices(data, ANGLES))
    path = save_model(est, tmp_path / "m")
    meta = json.loads(open(path).read())
    assert meta["estimator"] == type(est).__name__ and "dictionary" not in meta["params"]
    back = load_model(tmp_path / "m")
    assert back.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    np.testing.assert_allclose(back.error_map_, est.error_map_)
    np.testing.assert_allclose(back.transfer_function_, est.transfer_function_)
    assert back.training_error_ == pytest.approx(est.training_error_)
    p0 = est.predict(X[:2])
    p1 = back.predict(X[:2])
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(b.data, a.data)
        assert b.easy_axis_angle_deg == a.easy_axis_angle_deg
        np.testing.assert_allclose(b.offset_fields_T, a.offset_fields_T)
        assert b.drive_field.cycle_s == pytest.approx(a.drive_field.cycle_s)


def test_load_rejects_mismatched_files(dic, tmp_path):
    data = synthesize(dic, np.ones((3, 4)), ANGLES, band_pass(ROWS))
    est = NeelModel(dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, frequencies=ROWS, dictionary=dic)
    save_model(est.fit(X, as_system_matrices(data, ANGLES)), tmp_path)
    with open(tmp_path / "model.h5", "ab") as fh:
        fh.write(b"junk")
    with pytest.raises(MDFError, match="checksum"):
        load_model(tmp_path)
    with pytest.raises(MDFError, match="model description"):
        load_model(tmp_path / "absent")


def test_predict_mdf_writes_one_valid_file_per_angle_and_refuses_array_fits(dic, rng, tmp_path):
    from mdf_neel.fitting import predict_mdf
    from mdf_neel.mdf import validate

    data = synthesize(dic, np.ones((3, 4)), ANGLES, band_pass(ROWS))
    est = NeelModel(dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, frequencies=ROWS, dictionary=dic)
    paths = predict_mdf(est.fit(X, as_system_matrices(data, ANGLES)), X[:2], tmp_path / "out")
    assert [p.rsplit("/", 1)[1] for p in paths] == ["predicted_000.00deg.mdf", "predicted_045.00deg.mdf"]
    assert all(validate(p) == [] for p in paths)
    on_arrays = NeelModel(dic.diameters_m, anisotropies_Jm3=dic.anisotropies_Jm3, frequencies=ROWS, dictionary=dic)
    with pytest.raises(ValueError, match="SystemMatrix inputs"):
        predict_mdf(on_arrays.fit(X, data), X, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
