"""Physics parameters as one typed object: validation, equivalence with keywords, fingerprints."""

import numpy as np
import pytest

from mdf_neel.physics import PhysicsParameters
from mdf_neel.simulate import dictionary, system_functions, system_matrix
from mdf_neel.simulate._dictionary import dictionary_settings
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence

EQ = dict(
    angle_deg=30.0,
    diameter_m=20e-9,
    anisotropy_Jm3=1500.0,
    model="anisotropic-equilibrium",
    frequencies=[1, 2, 7, 8, 9],
)


def test_fields_are_validated_and_unknown_keywords_named():
    with pytest.raises(ValueError, match="PhysicsParameters.temperature_K"):
        PhysicsParameters(temperature_K=-1.0)
    with pytest.raises(ValueError, match="PhysicsParameters.alpha"):
        PhysicsParameters(alpha=float("nan"))
    with pytest.raises(TypeError, match="temperature"):
        PhysicsParameters.coerce(None, temprature_K=300.0)
    with pytest.raises(TypeError, match="PhysicsParameters"):
        PhysicsParameters.coerce(300.0)
    assert PhysicsParameters.coerce({"alpha": 0.2}, temperature_K=300.0) == PhysicsParameters(
        alpha=0.2, temperature_K=300.0
    )


def test_the_object_and_the_keywords_give_the_same_rows():
    seq, off = tiny_sequence(), tiny_offsets()
    by_object = system_functions(seq, off, physics=PhysicsParameters(temperature_K=350.0), **EQ)
    by_keyword = system_functions(seq, off, temperature_K=350.0, **EQ)
    np.testing.assert_array_equal(by_object, by_keyword)
    # a keyword overrides the object's field
    overridden = system_functions(seq, off, physics=PhysicsParameters(temperature_K=250.0), temperature_K=350.0, **EQ)
    np.testing.assert_array_equal(overridden, by_keyword)
    # and the temperature matters: ξ and σ scale with 1/T
    assert not np.allclose(by_object, system_functions(seq, off, **EQ))


def test_provenance_records_every_physics_field():
    sm = system_matrix(
        tiny_sequence(),
        tiny_offsets(),
        physics=PhysicsParameters(alpha=0.05),
        **{k: v for k, v in EQ.items() if k != "frequencies"},
    )
    params = sm.provenance["parameters"]
    assert params["alpha"] == pytest.approx(0.05)
    for name, default in (("temperature_K", 293.0), ("saturation_magnetization_Am", 474e3), ("gamma", 1.75e11)):
        assert params[name] == pytest.approx(default)


def test_fingerprint_depends_on_the_values_not_on_how_they_were_passed(tmp_path):
    seq, off = tiny_sequence(), tiny_offsets()

    def settings(**kw):
        return dictionary_settings(seq, off, **{k: v for k, v in SETTINGS.items()}, channels=("x", "y"), particle=kw)

    default = settings()
    assert settings(alpha=0.1) == default  # the default, passed explicitly
    assert settings(physics=PhysicsParameters()) == default
    assert settings(physics=PhysicsParameters(temperature_K=300.0)) != default
    assert settings(physics=PhysicsParameters(temperature_K=300.0)) == settings(temperature_K=300.0)
    # a cache made with other physics is refused, one made with the same physics is read
    cache = tmp_path / "dict.h5"
    dictionary(seq, off, **SETTINGS, cache=cache, progress=False)
    again = dictionary(seq, off, **SETTINGS, physics=PhysicsParameters(alpha=0.1), cache=cache, progress=False)
    assert again.stats["computed"] == 0
    with pytest.raises(ValueError, match="other settings.*particle"):
        dictionary(seq, off, **SETTINGS, physics=PhysicsParameters(temperature_K=300.0), cache=cache, progress=False)
