"""The forms: section of the schema: instruments, branching, extensions, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kypho.errors import SchemaError
from kypho.schema import load_schema
from kypho.schema.forms import Condition, load_forms


def test_every_entered_variable_is_in_exactly_one_form() -> None:
    schema = load_schema()
    forms = load_forms(schema)
    names = [n for inst in forms for n in inst.names]
    assert len(names) == len(set(names))
    expected = {v.name for v in schema.input_variables} - {schema.id_column}
    assert set(names) == expected
    assert "additional" not in forms  # the built-in forms list every variable
    assert forms.double_entry


def test_required_fields_respect_branching() -> None:
    forms = load_forms(load_schema())
    screening = forms["screening"]
    subtype = next(f for f in screening.fields if f.name == "denis_subtype")
    assert subtype.show_if == Condition("denis_type", "==", "compression")
    missing = {f.name for f in screening.missing({"denis_type": "burst"})}
    assert "denis_subtype" not in missing
    assert "bmd_t_score" in missing


def test_conditions_compare_as_form_text() -> None:
    assert Condition("pain", "==", True).met({"pain": True})
    assert not Condition("pain", "==", True).met({"pain": "false"})
    assert Condition("n", "in", [1, 2]).met({"n": 2.0})
    assert Condition("n", "!=", 1).met({"n": None})


def _schema_file(tmp_path: Path, forms: str) -> Path:
    from importlib import resources

    text = resources.files("kypho.data").joinpath("study.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\nforms:")] + "\n" + forms
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("forms", "message"),
    [
        ("forms:\n  instruments:\n    - {name: a, fields: [nope]}\n", "not a variable"),
        (
            "forms:\n  instruments:\n    - {name: a, fields: [age]}\n    - {name: b, fields: [age]}\n",
            "in both forms",
        ),
        ("forms:\n  instruments:\n    - {name: a, fields: [blood_loss]}\n", "kypho derives"),
        (
            "forms:\n  instruments:\n    - {name: a, fields: [{name: age, show_if: {field: age, op: '<'}}]}\n",
            "show_if",
        ),
        ("forms:\n  instruments:\n    - {name: a, colour: red}\n", "unknown key"),
    ],
)
def test_malformed_forms_are_refused(tmp_path: Path, forms: str, message: str) -> None:
    path = _schema_file(tmp_path, forms)
    with pytest.raises(SchemaError, match=message):
        load_forms(load_schema(path), path)


def test_a_schema_without_forms_gets_one_form_per_role(tmp_path: Path) -> None:
    path = _schema_file(tmp_path, "")
    forms = load_forms(load_schema(path), path)
    assert "outcome" in forms
    assert not forms.double_entry
