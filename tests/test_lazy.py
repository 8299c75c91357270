"""Package attributes imported on first use (mdf_neel._lazy)."""

import importlib
import pkgutil

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


def test_no_function_is_shadowed_by_its_submodule():
    importlib.import_module("mdf_neel.mdf.conversion")  # importing a module sets a package attribute
    assert callable(mdf_neel.mdf.convert) and callable(mdf_neel.convert)


def test_no_public_name_is_also_a_submodule():
    clashes = []
    packages = ["mdf_neel"] + [i.name for i in pkgutil.walk_packages(mdf_neel.__path__, "mdf_neel.") if i.ispkg]
    for name in packages:
        package = importlib.import_module(name)
        submodules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        clashes += [f"{name}.{attr}" for attr in getattr(package, "__all__", ()) if attr in submodules]
    assert not clashes, f"public names that are also submodules (importing one replaces the other): {clashes}"


def test_unknown_attribute_names_the_package():
    with pytest.raises(AttributeError, match="'mdf_neel.mdf' has no attribute 'nope'"):
        mdf_neel.mdf.nope
