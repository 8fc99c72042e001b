"""REDCap interoperability: dictionaries kypho -> REDCap -> kypho, a hand-written
dictionary, raw and labelled records exports, repeating instruments, import files.

The hand-written files in tests/unit/io/redcap/ follow REDCap's documented formats:
the data dictionary's eighteen columns A-R ("Variable / Field Name" ... "Field
Annotation"), choices as "code, label | ...", "y" flags, branching logic in field
notation (Vanderbilt University, "Creating a Data Dictionary in REDCap", 2015); a
records export with raw codes or with labels (field labels as headers, checkbox
options as "<label> (choice=<choice>)", Checked/Unchecked, Yes/No, "Complete?"
status columns) as REDCap's Data Exports page writes them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kypho.cli import main
from kypho.errors import InputFileError
from kypho.io.redcap import (
    DICTIONARY_COLUMNS,
    dictionary_from_schema,
    read_dictionary,
    records_from_redcap,
    records_to_redcap,
    schema_from_dictionary,
)
from kypho.output.cells import write_csv
from kypho.schema import Schema, load_schema
from kypho.store import Store
from kypho.validation import validate

HERE = Path(__file__).parent / "redcap"
EXAMPLE = Path(str(resources.files("kypho").joinpath("data", "examples", "vertebroplasty")))


def _reload(document_yaml: str, tmp_path: Path, name: str = "s.yaml") -> Schema:
    path = tmp_path / name
    path.write_text(document_yaml, encoding="utf-8")
    return load_schema(path)


@pytest.mark.parametrize("source", [None, EXAMPLE / "study.yaml"], ids=["kypho", "example"])
def test_round_trip_kypho_redcap_kypho_reproduces_the_schema(
    source: Path | None, tmp_path: Path
) -> None:
    schema = load_schema(source)
    csv = write_csv(dictionary_from_schema(schema), tmp_path / "dictionary.csv")
    back = schema_from_dictionary(read_dictionary(csv))
    assert back.warnings == ()
    again = _reload(back.to_yaml(), tmp_path)
    assert again == schema  # variables, timepoints, derivations, rules, criteria, all


def test_the_dictionary_is_in_redcaps_format() -> None:
    d = dictionary_from_schema(load_schema())
    assert tuple(d.columns) == DICTIONARY_COLUMNS
    rows = d.set_index("Variable / Field Name")
    assert rows.index[0] == "patient_id"
    assert rows.loc["group", "Field Type"] == "radio"
    assert rows.loc["group", "Choices, Calculations, OR Slider Labels"] == (
        "experimental, Experimental group | control, Control group"
    )
    assert rows.loc["pain", "Field Type"] == "yesno"
    assert rows.loc["age", ["Text Validation Type OR Show Slider Number",
                            "Text Validation Min", "Text Validation Max"]].tolist() == [
        "integer", "18", "120",
    ]  # fmt: skip
    assert rows.loc["operation_date", "Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert rows.loc["leak_sites", "Field Type"] == "checkbox"
    assert rows.loc["leak_sites", "Choices, Calculations, OR Slider Labels"].endswith("none, None")
    assert rows.loc["patient_name", "Identifier?"] == "y"
    assert rows.loc["group", "Required Field?"] == "y"
    # REDCap names are lower case; kypho's own name is in the annotation
    assert "leak_b" in rows.index
    assert '"name": "leak_B"' in rows.loc["leak_b", "Field Annotation"]
    assert rows.loc["blood_loss", "Field Annotation"].startswith("kypho {")
    assert rows.loc["blood_loss", "Field Annotation"].endswith("} @READONLY")


def test_a_hand_written_dictionary_imports_with_branching_and_choices(tmp_path: Path) -> None:
    result = schema_from_dictionary(HERE / "dictionary.csv", group_column="arm", study="pvp")
    assert result.warnings == (
        "field 'steroids': the section header 'Medication' is layout that kypho's schema "
        "does not keep",
        "field 'bmi': a REDCap calculated field is imported as an entered number; kypho "
        "does not evaluate REDCap calculations (declare a formula to derive it)",
        "field 'xray': REDCap file fields are not supported by kypho; not imported",
        "field 'email': REDCap validation 'email' is not checked by kypho; the field is "
        "imported as text",
        "field 'note_end': a descriptive field holds no data and is not imported",
    )
    schema = _reload(result.to_yaml(), tmp_path)
    assert schema.id_column == "study_id"
    assert schema.group_levels == ("1", "2")
    assert dict(schema["arm"].levels) == {"1": "Vertebroplasty", "2": "Conservative care"}
    assert schema["complications"].type == "list"
    assert schema["complications"].codes == ("1", "2", "3")
    assert schema["age"].type == "integer"
    assert (schema["age"].min, schema["age"].max) == (50, 110)
    assert schema["cement_ml"].precision == 1
    assert schema["enrol_date"].type == "date"
    assert schema["initials"].phi == "direct"
    assert schema["followup_reason"].phi == "free_text"
    assert "xray" not in schema
    assert "note_end" not in schema
    forms = result.document["forms"]["instruments"]
    assert [f["name"] for f in forms] == ["enrolment", "procedure", "outcome"]
    fields = {(f if isinstance(f, str) else f["name"]): f for form in forms for f in form["fields"]}
    assert fields["pregnant"]["show_if"] == {"field": "sex", "op": "==", "value": "1"}
    assert fields["steroid_dose"]["show_if"] == {"field": "steroids", "op": "==", "value": True}
    assert fields["followup_reason"]["show_if"] == {"field": "arm", "op": "in", "value": ["1", "2"]}
    assert fields["arm"] == {"name": "arm", "required": True}
    # the web forms read them as their own instruments and branching
    from kypho.schema.forms import load_forms

    web = load_forms(schema, tmp_path / "s.yaml")
    pregnant = next(f for f in web["enrolment"].fields if f.variable.name == "pregnant")
    assert pregnant.show_if is not None
    assert pregnant.show_if.met({"sex": "1"})
    assert not pregnant.show_if.met({"sex": "2"})
    dose = next(f for f in web["enrolment"].fields if f.variable.name == "steroid_dose")
    assert dose.show_if is not None
    assert dose.show_if.met({"steroids": True})


def test_complex_branching_is_named_not_dropped() -> None:
    d = read_dictionary(HERE / "dictionary.csv")
    d.loc[d["Variable / Field Name"] == "pregnant", "Branching Logic (Show field only if...)"] = (
        "[sex] = '1' and [age] < 55"
    )
    result = schema_from_dictionary(d, group_column="arm")
    assert (
        "field 'pregnant': branching logic \"[sex] = '1' and [age] < 55\" is more than kypho's "
        "[field] = / <> 'value' comparisons (joined by 'or' on one field); the field is "
        "always shown"
    ) in result.warnings


def test_an_extension_keeps_only_what_the_base_schema_lacks() -> None:
    d = dictionary_from_schema(load_schema())
    extra = d.iloc[[0]].copy()
    extra["Variable / Field Name"] = "odi_last"
    extra["Field Label"] = "ODI at last follow-up"
    extra["Field Type"] = "text"
    extra["Text Validation Type OR Show Slider Number"] = "number"
    extra["Field Annotation"] = ""
    plain = pd.concat([d, extra], ignore_index=True)
    plain["Field Annotation"] = ""  # as a site's own REDCap project would have it
    result = schema_from_dictionary(plain, base=load_schema())
    assert [v["name"] for v in result.document["variables"]] == ["odi_last"]
    assert (
        "field 'cement_grade': REDCap gives type 'category', the study schema 'ordinal'; "
        "the schema's declaration is kept"
    ) in result.warnings
    extended = load_schema(extensions=[dict(result.document)])
    assert extended["odi_last"].type == "number"


@pytest.fixture(scope="module")
def hand_schema(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    result = schema_from_dictionary(HERE / "dictionary.csv", group_column="arm", study="pvp")
    return _reload(result.to_yaml(), tmp_path_factory.mktemp("hand"))


def test_labelled_and_raw_exports_import_identically(hand_schema: Schema) -> None:
    raw = records_from_redcap(HERE / "records_raw.csv", hand_schema)
    labels = records_from_redcap(HERE / "records_labels.csv", hand_schema)
    assert not raw.labelled
    assert labels.labelled
    pd.testing.assert_frame_equal(raw.data, labels.data)
    assert raw.ignored == ("enrolment_complete", "procedure_complete", "outcome_complete")
    assert labels.ignored == ("Complete?", "Complete?.1", "Complete?.2")
    assert raw.data["complications"].tolist() == ["1", "", "1;3"]
    assert raw.data["pregnant"].tolist() == ["false", "", "false"]
    checked = validate(raw.data, hand_schema)
    assert checked.problems.empty
    assert checked.data["arm"].astype(str).tolist() == ["1", "2", "1"]


def test_redcap_records_go_into_the_store(hand_schema: Schema, tmp_path: Path) -> None:
    records = records_from_redcap(HERE / "records_labels.csv", hand_schema).data
    with Store.init(f"sqlite:///{tmp_path / 'r.db'}", admin="ann", schema=hand_schema) as store:
        outcome = store.import_frame(records, reason="from REDCap")
        assert outcome.n_rejected == 0
        stored = store.read()
    assert stored["study_id"].tolist() == ["R01", "R02", "R03"]
    assert stored["complications"].tolist()[2] == "1;3"


def test_kypho_records_to_redcap_and_back(tmp_path: Path) -> None:
    schema = load_schema()
    cohort = resources.files("kypho").joinpath("data", "cohort.csv")
    data = validate(pd.read_csv(str(cohort), dtype=str, keep_default_na=False), schema).data
    out = records_to_redcap(data, schema)
    assert out.columns[0] == "patient_id"
    assert {"leak_sites___c", "leak_sites___none"} <= set(out.columns)
    path = tmp_path / "import.csv"
    out.to_csv(path, index=False)
    back = records_from_redcap(path, schema)
    again = validate(back.data, schema).data
    pd.testing.assert_frame_equal(again.reset_index(drop=True), data.reset_index(drop=True))


def test_repeating_instrument_instances_become_timepoints() -> None:
    schema = load_schema(EXAMPLE / "study.yaml")
    export = pd.DataFrame(
        {
            "record_id": ["V1", "V1", "V1", "V2", "V2"],
            "redcap_repeat_instrument": ["", "pain_diary", "pain_diary", "", "pain_diary"],
            "redcap_repeat_instance": ["", "1", "2", "", "1"],
            "arm": ["pvp", "", "", "conservative", ""],
            "vas_back": ["", "8.1", "4.2", "", "7.0"],
        }
    )
    result = records_from_redcap(export, schema)
    assert result.data.to_dict("records") == [
        {"record_id": "V1", "arm": "pvp", "vas_back_base": "8.1", "vas_back_w1": "4.2"},
        {"record_id": "V2", "arm": "conservative", "vas_back_base": "7.0", "vas_back_w1": ""},
    ]
    assert result.warnings == (
        "repeating instrument(s) 'pain_diary': instance k of a field is timepoint k of "
        "its repeated measure",
    )
    export.loc[2, "redcap_repeat_instance"] = "9"
    with pytest.raises(InputFileError) as info:
        records_from_redcap(export, schema)
    assert str(info.value) == (
        "the records export: record 'V1', 'pain_diary' instance 9: 'vas_back' has only 5 "
        "timepoints (base, w1, m1, m3, m12)"
    )


def test_unsupported_exports_are_refused_by_name(hand_schema: Schema) -> None:
    with pytest.raises(InputFileError) as info:
        records_from_redcap(pd.DataFrame({"study_id": ["1"], "redcap_event_name": ["v1"]}),
                            hand_schema)  # fmt: skip
    assert "longitudinal REDCap project ('redcap_event_name')" in str(info.value)
    with pytest.raises(InputFileError) as info:
        records_from_redcap(pd.DataFrame({"study_id": ["1"], "weight": ["70"]}), hand_schema)
    assert str(info.value) == (
        "the records export: column 'weight' matches no field of the schema by its name"
    )


def test_malformed_choices_are_named() -> None:
    d = read_dictionary(HERE / "dictionary.csv")
    d.loc[d["Variable / Field Name"] == "sex", "Choices, Calculations, OR Slider Labels"] = (
        "1, Female | Male"
    )
    with pytest.raises(InputFileError) as info:
        schema_from_dictionary(d, group_column="arm")
    assert str(info.value) == "field 'sex': choice 'Male' is not written 'code, label'"


def test_cli_dictionary_schema_records(tmp_path: Path) -> None:
    runner = CliRunner()
    dict_csv = tmp_path / "dict.csv"
    r = runner.invoke(main, ["redcap", "dictionary", "--out", str(dict_csv)])
    assert r.exit_code == 0, r.output
    assert "114 fields" in r.output
    schema_yaml = tmp_path / "study.yaml"
    r = runner.invoke(
        main,
        [
            "redcap",
            "schema",
            str(HERE / "dictionary.csv"),
            "--group",
            "arm",
            "--out",
            str(schema_yaml),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "warning: field 'xray': REDCap file fields are not supported by kypho" in r.output
    table = tmp_path / "records.csv"
    r = runner.invoke(
        main,
        ["redcap", "records", str(HERE / "records_labels.csv"), "--schema", str(schema_yaml),
         "--out", str(table)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "3 records (labelled export)" in r.output
    r = runner.invoke(main, ["validate", str(table), "--schema", str(schema_yaml)])
    assert r.exit_code == 0, r.output
