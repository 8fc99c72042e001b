"""kypho: clinical studies of kyphoplasty, from patient records to the published tables.

The top level re-exports the everyday entry points. They are imported lazily (on
first attribute access) so that ``import kypho`` and the command line start fast.

>>> import kypho
>>> kypho.load_schema()["vas_pre"].allowed()
'a number from 0 to 10'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kypho._lazy import lazy_attributes as _lazy_attributes
from kypho.errors import KyphoError

__version__ = "0.1.0"

__all__ = [
    "KyphoError",
    "__version__",
    "derive",
    "load_schema",
    "read_table",
    "screen",
    "table1",
    "validate",
    "write_table",
]

_LAZY = {
    "derive": "kypho.measures",
    "load_schema": "kypho.schema",
    "read_table": "kypho.io",
    "screen": "kypho.eligibility",
    "table1": "kypho.report.table1",
    "validate": "kypho.validation",
    "write_table": "kypho.io",
}

if TYPE_CHECKING:
    from kypho.eligibility import screen
    from kypho.io import read_table, write_table
    from kypho.measures import derive
    from kypho.report.table1 import table1
    from kypho.schema import load_schema
    from kypho.validation import validate


__getattr__ = _lazy_attributes(__name__, _LAZY, globals())
