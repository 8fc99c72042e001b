"""The former name of :mod:`kypho.validation`, kept so old imports keep working.

``from kypho.validate import validate`` still works. The module is also callable,
so that after ``import kypho.validate`` (which makes ``kypho.validate`` this
module) ``kypho.validate(df)`` validates, as the top-level function does.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from kypho.validation import ValidationResult, resolve_columns, validate

__all__ = ["ValidationResult", "resolve_columns", "validate"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> ValidationResult:
        return validate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
