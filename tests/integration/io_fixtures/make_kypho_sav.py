"""Write kypho_records.sav with kypho (input of display.sps); run by run.sh."""

from __future__ import annotations

from pathlib import Path

from kypho.io import example_records, write_table
from kypho.validate import validate

COLUMNS = [
    "patient_id",
    "group",
    "sex",
    "age",
    "pain",
    "asia_grade",
    "operation_date",
    "vas_pre",
    "leak_sites",
    "notes",
]

if __name__ == "__main__":
    data = validate(example_records(4, seed=7, missing=0.2)).data
    write_table(data[COLUMNS], Path(__file__).with_name("kypho_records.sav"))
