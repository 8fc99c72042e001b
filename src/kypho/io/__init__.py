"""How data get in and out: tables (CSV, Excel, SPSS), the data-entry template, the dictionary.

The names are imported on first use (module ``__getattr__``), so that reading a
CSV file does not import openpyxl for the Excel template.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kypho._lazy import lazy_attributes as _lazy_attributes

if TYPE_CHECKING:
    from kypho.io.dictionary import data_dictionary, write_dictionary
    from kypho.io.example import example_records
    from kypho.io.tables import read_table, write_table
    from kypho.io.template import write_template

__all__ = [
    "data_dictionary",
    "example_records",
    "read_table",
    "write_dictionary",
    "write_table",
    "write_template",
]

_LAZY = {
    "data_dictionary": "kypho.io.dictionary",
    "example_records": "kypho.io.example",
    "read_table": "kypho.io.tables",
    "write_dictionary": "kypho.io.dictionary",
    "write_table": "kypho.io.tables",
    "write_template": "kypho.io.template",
}


__getattr__ = _lazy_attributes(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
