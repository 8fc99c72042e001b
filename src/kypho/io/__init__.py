"""How data get in and out: tables (CSV, Excel, SPSS), the data-entry template, the dictionary."""

from __future__ import annotations

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
