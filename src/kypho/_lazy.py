"""A package's public names, each imported from its module on first use (PEP 562).

``import kypho.store`` then costs only the package's own file: pandas,
SQLAlchemy and the rest load when a name that needs them is first read, so a
command imports only what its step uses (issue 17's cold start). Each package
declares ``_LAZY`` (public name → module that defines it) and sets
``__getattr__ = lazy_attributes(__name__, _LAZY, globals())`` (imported under a
private name, so that it is not one of the package's public names); static type
checkers read the same names from an ``if TYPE_CHECKING:`` block.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, modules: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: a name of ``modules`` is imported once, then kept.

    Parameters
    ----------
    package
        The package's ``__name__`` (for the error of an unknown name).
    modules
        Each lazily exported name and the module it is defined in.
    namespace
        The package's ``globals()``: a name once imported is stored there, so
        that later reads do not come back here.
    """

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
