"""The declared schema: loading, expansion of repeated measures, extensions, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kypho.errors import SchemaError
from kypho.schema import load_schema


def test_builtin_schema_covers_the_papers_variables() -> None:
    schema = load_schema()
    for name in [
        "patient_id", "group", "sex", "age", "operation_date", "followup_months", "pain",
        "percussion_pain", "constipation", "level", "denis_subtype", "bmd_t_score",
        "asia_grade", "operation_time", "hb_pre", "hb_post", "cement_volume",
        "cement_pattern", "cement_area_ap", "cement_area_lat", "leak_sites",
    ]:  # fmt: skip
        assert name in schema, name
    assert schema.measure_columns("vas") == {
        "pre": "vas_pre", "2h": "vas_2h", "4h": "vas_4h", "48h": "vas_48h",
    }  # fmt: skip
    assert list(schema.measure_columns("wedge_angle")) == ["pre", "d3", "last"]
    assert schema.group_levels == ("experimental", "control")
    assert schema["vas_2h"].measure == "vas"
    assert schema["vas_2h"].timepoint == "2h"
    assert schema["cement_grade"].derived
    assert not schema["vas_2h"].derived
    assert len(schema.criteria) == 13  # inclusion (a)-(g) and exclusion (a)-(f)


def test_extension_adds_timepoint_and_variable_without_code_changes(tmp_path: Path) -> None:
    ext = tmp_path / "ext.yaml"
    ext.write_text(
        "timepoints:\n  m12: {label: 12 months, order: 9}\n"
        "extend_repeated: {vas: [m12]}\n"
        "variables:\n  - {name: odi_pre, label: ODI, type: number, min: 0, max: 100, role: outcome}\n",
        encoding="utf-8",
    )
    schema = load_schema(extensions=[ext])
    assert schema.measure_columns("vas")["m12"] == "vas_m12"
    assert schema["vas_m12"].max == 10
    assert schema["odi_pre"].allowed() == "a number from 0 to 100"


def test_extension_cannot_redefine_a_variable() -> None:
    with pytest.raises(SchemaError) as err:
        load_schema(extensions=[{"variables": [{"name": "age", "type": "integer"}]}])
    assert str(err.value) == "kypho/data/study.yaml: variable 'age' is declared twice"


def test_bad_type_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text(
        "id_column: pid\ngroup_column: g\nvariables:\n  - {name: pid, type: id}\n"
        "  - {name: g, type: colour}\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as err:
        load_schema(bad)
    assert str(err.value) == (
        f"{bad}: variable 'g' has type 'colour'; allowed: boolean, category, date, id, "
        "integer, list, number, ordinal, string"
    )


def test_unknown_variable_lookup() -> None:
    with pytest.raises(SchemaError, match=r"^the schema has no variable 'odi'$"):
        load_schema()["odi"]


def test_a_label_ending_in_parentheses_takes_the_unit_inside_them() -> None:
    example = Path(__file__).parents[3] / "src/kypho/data/examples/vertebroplasty/study.yaml"
    schema = load_schema(example)
    assert schema["vas_back_base"].measure_display_label == "Back pain (VAS, points)"
    assert schema["vas_back_base"].display_label == "Back pain (VAS), baseline (points)"
    builtin = load_schema()
    labels = [
        label
        for s in (schema, builtin)
        for v in s.variables.values()
        for label in (v.display_label, v.measure_display_label)
    ]
    assert not [label for label in labels if ") (" in label]
