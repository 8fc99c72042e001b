"""Only cells that could be a missing token are trimmed and looked up.

``token_candidates`` lets the CSV reader and validation skip trimming a cell that
is longer than every token and starts and ends with a visible ASCII character
(trimming cannot shorten it). These tests check that rule on texts chosen to sit
on each side of it, and that validation still finds every token in a ``str``
column, whatever its length or the spaces around it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kypho.schema.dtypes import token_candidates
from kypho.validation import validate

_TEXTS = [
    "", "NA", "null", "nulls", " NA ", "\tnull", "null\t", "  n/a   ", "\u00a0NA", "NA\u3000",
    "ÑA", "Ña", "éé", "ééééé", "not available", "x" * 40, " " * 30, "P00001", "SYN-00001",
    "-", "(none)", "_NA_", "Synthetic Patient 7", None,
]  # fmt: skip


def test_a_cell_left_out_cannot_be_a_token_once_trimmed() -> None:
    array = pa.array(_TEXTS, pa.large_string())
    maybe = token_candidates(array, 4)
    trimmed = pc.utf8_length(pc.utf8_trim_whitespace(array)).to_pylist()
    for text, candidate, length in zip(_TEXTS, maybe.tolist(), trimmed, strict=True):
        if text is None:
            assert candidate is False
        elif not candidate:
            assert length > 4, text
    # the long ids and names with visible ends are skipped; a non-ASCII end is kept
    skipped = [t for t, m in zip(_TEXTS, maybe.tolist(), strict=True) if not m and t is not None]
    assert skipped == ["nulls", "not available", "x" * 40, "P00001", "SYN-00001",
                       "(none)", "Synthetic Patient 7"]  # fmt: skip


def test_the_same_mask_over_several_blocks() -> None:
    chunked = pa.chunked_array([pa.array(_TEXTS[:10]), pa.array(_TEXTS[10:])])
    whole = token_candidates(pa.array(_TEXTS), 4)
    assert np.array_equal(token_candidates(chunked, 4), whole)


def test_validation_finds_tokens_in_a_text_column() -> None:
    names = ["  NA  ", "null\t", "Null", "\u00a0n/a\u00a0", "Synthetic Patient 1", "x" * 40]
    raw = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(len(names))],
            "patient_name": pd.array(names, dtype="str"),
            "group": "control",
            "sex": "female",
            "age": 70,
            "level": "L1",
        }
    )
    data = validate(raw).data
    assert data["patient_name"].isna().tolist() == [True, True, True, True, False, False]
