"""Write kypho_records.sav with kypho (input of display.sps); run by run.sh.

The records are literal (not drawn at random) so that a change to the schema
elsewhere does not change this file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kypho.io import write_table
from kypho.validate import validate


def records() -> pd.DataFrame:
    """Four typed records, each column of a different kind."""
    raw = pd.DataFrame(
        {
            "patient_id": ["K-1", "K-2", "K-3", "K-4"],
            "group": ["control", "experimental", "Experimental group", "control"],
            "sex": ["male", "female", "male", "male"],
            "age": [102, 49, 53, 46],
            "pain": [None, "no", "yes", "no"],
            "asia_grade": ["C", "D", "C", "E"],
            "operation_date": ["2031-07-27", "2003-09-12", "2065-04-30", "2009-08-17"],
            "vas_pre": [1.79, 3.46, 9.48, None],
            "level": ["T12", "L1", "t3", "L5"],
            "leak_sites": ["B;S", "C;D", "", "none"],
            "notes": ["alpha", "bravo", None, "echo"],
        }
    )
    return validate(raw).data


if __name__ == "__main__":
    write_table(records(), Path(__file__).with_name("kypho_records.sav"))
