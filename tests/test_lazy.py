"""Package attributes imported on first use (mdf_neel._lazy)."""

import pytest

import mdf_neel
import mdf_neel.mdf


@pytest.mark.parametrize("package", [mdf_neel, mdf_neel.mdf])
def test_lazy_attributes_resolve_list_and_cache(package):
    for name in package._LAZY:
        assert name in dir(package)
        value = getattr(package, name)
        assert callable(value)
        assert vars(package)[name] is value  # cached: later look-ups skip __getattr__


def test_unknown_attribute_names_the_package():
    with pytest.raises(AttributeError, match="'mdf_neel.mdf' has no attribute 'nope'"):
        mdf_neel.mdf.nope
