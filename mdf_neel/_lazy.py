"""The one mechanism for package attributes that are imported on first use.

A package lists ``{attribute: module}`` and gets a module-level ``__getattr__`` and
``__dir__`` (PEP 562). The attribute is imported from its module on first access and
cached in the package, so later look-ups cost nothing.
"""

from __future__ import annotations

import importlib
import sys


def lazy_attributes(package: str, attributes: dict):
    """``__getattr__`` and ``__dir__`` for ``package`` with lazily imported ``attributes``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    attributes : dict of str to str
        Attribute name → module that defines it (absolute, or relative to ``package``).

    Returns
    -------
    __getattr__, __dir__ : callable
        To be bound at the package's module level.

    Examples
    --------
    >>> getattr_, dir_ = lazy_attributes("mdf_neel", {"validate": "mdf_neel.mdf"})
    >>> getattr_("validate").__name__
    'validate'
    """

    def __getattr__(name):
        module = attributes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # cached: later look-ups bypass __getattr__
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(attributes))

    return __getattr__, __dir__
