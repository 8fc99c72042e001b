"""Malformed schema extensions are SchemaErrors that say where, never TypeErrors."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kypho.analysis import load_plan
from kypho.errors import AnalysisError, SchemaError
from kypho.schema import load_schema

# a few seconds in the suite; HYPOTHESIS_PROFILE=fuzz for the long run
_N = 10_000 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 60

_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
)
_any = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_VARIABLE_KEYS = [
    "name", "label", "type", "unit", "min", "max", "levels", "required", "precision",
    "role", "phi", "timepoint", "timepoints", "description",
]  # fmt: skip
_variable = st.dictionaries(
    st.sampled_from(_VARIABLE_KEYS),
    _any | st.sampled_from(["number", "category", "date", "list", "x_new", "pre", "outcome"]),
    max_size=6,
)
_extension = st.fixed_dictionaries(
    {},
    optional={
        "timepoints": _any | st.dictionaries(st.text(max_size=3), _any, max_size=2),
        "variables": _any | st.lists(_variable, max_size=3),
        "repeated": _any | st.lists(_variable, max_size=2),
        "derived": _any | st.lists(_variable, max_size=2),
        "rules": _any
        | st.lists(
            st.dictionaries(
                st.sampled_from(["name", "left", "op", "right", "message"]),
                _any | st.sampled_from(["age", "<", "vas_pre"]),
            ),
            max_size=2,
        ),
        "extend_repeated": _any | st.dictionaries(st.sampled_from(["vas", "odi", "x"]), _any),
    },
)


@settings(max_examples=_N, deadline=None)
@given(_extension)
def test_random_extensions_load_or_raise_schema_error(ext: dict[str, Any]) -> None:
    message = ""
    try:
        load_schema(extensions=[ext])
    except SchemaError as exc:
        message = str(exc)
    assert message == "" or message.startswith(("extension", "kypho/data/study.yaml"))


@pytest.mark.parametrize(
    ("ext", "message"),
    [
        ({"variables": 5}, "extension: variables: must be a list (got 5)"),
        (
            {"variables": [[1]]},
            "extension: variables[1]: must be a mapping of keys to values (got [1])",
        ),
        (
            {"variables": [{"name": "x", "type": "number", "min": "low"}]},
            "extension: variables[1] ('x'), min: must be a number (got 'low')",
        ),
        (
            {"variables": [{"name": "x", "type": ["number"]}]},
            "extension: variables[1] ('x'), type: must be a single value (got ['number'])",
        ),
        (
            {"timepoints": ["m6"]},
            "extension: timepoints: must be a mapping of keys to values (got ['m6'])",
        ),
        (
            {"extend_repeated": {"vas": "m6"}},
            "extension: extend_repeated, 'vas': must be a list of single values (got 'm6')",
        ),
        (
            {"rules": [{"name": "r", "left": "age", "op": "<", "right": "age"}]},
            "extension: rules[1] ('r'): needs 'message'",
        ),
    ],
)
def test_malformed_extension_named_where(ext: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError) as exc:
        load_schema(extensions=[ext])
    assert str(exc.value) == message


def test_file_extension_not_utf8(tmp_path: Any) -> None:
    path = tmp_path / "ext.yaml"
    path.write_bytes(b"variables:\n  - {name: caf\xe9, type: string}\n")
    with pytest.raises(SchemaError) as exc:
        load_schema(extensions=[path])
    assert str(exc.value) == f"{path}: not UTF-8 text (byte 25, line 2); save the file as UTF-8"


_row = st.dictionaries(
    st.sampled_from(
        ["kind", "label", "variable", "measure", "test", "display", "baseline", "timepoints"]
    ),
    _any | st.sampled_from(["age", "vas", "n", "section", "t", "pre", "ratio", "sex", "yes-no"]),
    max_size=4,
)
_table = st.dictionaries(
    st.sampled_from(["number", "title", "smd", "rows", "footnotes"]),
    _any | st.lists(_row, max_size=3) | st.integers(1, 9),
    max_size=4,
)
_plan = st.fixed_dictionaries(
    {},
    optional={
        "alpha": _any,
        "confidence": _any,
        "t_prime": _any,
        "within": _any,
        "tables": _any | st.lists(_table, max_size=2),
        "add_rows": _any
        | st.lists(
            st.dictionaries(
                st.sampled_from(["table", "rows"]),
                _any | st.integers(1, 8) | st.lists(_row, max_size=2),
            ),
            max_size=2,
        ),
        "extend_timepoints": _any | st.dictionaries(st.sampled_from(["vas", "odi"]), _any),
    },
)
_SCHEMA = load_schema()


@settings(max_examples=_N, deadline=None)
@given(_plan)
def test_random_plan_extensions_load_or_raise_analysis_error(ext: dict[str, Any]) -> None:
    with contextlib.suppress(AnalysisError):
        load_plan(extensions=[ext]).check(_SCHEMA)
