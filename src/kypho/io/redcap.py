"""REDCap interoperability: data dictionaries and records, in and out.

A site already collecting its data in REDCap can use kypho for analysis, audit and
radiographs, and a kypho study can be set up in REDCap:

* :func:`schema_from_dictionary` turns a REDCap data dictionary (the CSV of the
  Data Dictionary page) into a kypho schema document — a whole schema, or an
  extension of kypho's — with REDCap's instruments and branching logic as the
  schema's ``forms``; :func:`dictionary_from_schema` writes a schema as a data
  dictionary REDCap accepts. A dictionary written by kypho carries every kypho
  fact REDCap has no column for (role, unit, repeated measure and timepoint,
  formula, eligibility criteria) in its Field Annotation, so kypho → REDCap →
  kypho gives back the same schema.
* :func:`records_from_redcap` reads a REDCap records export (raw codes or labels,
  with repeating instruments) into kypho's columns, ready for
  :func:`kypho.validation.validate` and the store; :func:`records_to_redcap`
  writes kypho's records as a REDCap import file.

Nothing is dropped silently: what kypho cannot represent (a file upload field, a
datetime validation, a branching expression beyond ``[field] op 'value'``
comparisons, section headers, matrix layout, longitudinal events) is named in a
warning of the result, or refused with a :class:`~kypho.errors.InputFileError`.

References
----------
.. [1] Vanderbilt University. Creating a Data Dictionary in REDCap (the REDCap
   data dictionary guide, 2015): the eighteen columns A-R of the dictionary CSV,
   "Variable / Field Name" to "Field Annotation"; field types text, notes,
   dropdown, radio, checkbox, yesno, truefalse, calc, slider, file, descriptive,
   sql; choices written "code, label | code, label"; text validation types
   (date_ymd, integer, number, ...); "y" in Identifier? and Required Field?;
   branching logic in REDCap field notation, e.g. ``[sex] = '2'``, ``[leak(2)] = '1'``
   for a checkbox option. Mirrored at
   https://online.documentine.com/examples-of-data-repository/1/pdf-data-dictionary-center-for-research-informatics.html
.. [2] REDCap data export and import conventions (REDCap Data Import Tool and
   Data Exports pages): raw exports give codes, label exports give choice labels
   and field labels as headers; a checkbox exports one column per option,
   ``<field>___<code>``, 1/0 (raw) or Checked/Unchecked (labels), headed
   "<label> (choice=<choice label>)" in a label export; yesno and truefalse are
   1/0 (Yes/No, True/False); repeating instruments add ``redcap_repeat_instrument``
   and ``redcap_repeat_instance``; each instrument has a ``<form>_complete``
   status column (0 Incomplete, 1 Unverified, 2 Complete); dates are exported
   and imported as YYYY-MM-DD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kypho.errors import InputFileError
from kypho.schema import Schema, Variable

__all__ = [
    "DICTIONARY_COLUMNS",
    "FIELD_TYPES",
    "RedcapRecords",
    "RedcapSchema",
    "dictionary_from_schema",
    "read_dictionary",
    "records_from_redcap",
    "records_to_redcap",
    "schema_from_dictionary",
]

#: The columns of a REDCap data dictionary, A to R, in order [1]_.
DICTIONARY_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
(
    _NAME,
    _FORM,
    _SECTION,
    _TYPE,
    _LABEL,
    _CHOICES,
    _NOTE,
    _VALIDATION,
    _MIN,
    _MAX,
    _IDENTIFIER,
    _BRANCHING,
    _REQUIRED,
    _ALIGN,
    _QUESTION,
    _MATRIX,
    _RANKING,
    _ANNOTATION,
) = DICTIONARY_COLUMNS

#: REDCap's field types [1]_.
FIELD_TYPES: tuple[str, ...] = (
    "text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "calc", "slider",
    "descriptive", "file", "sql", "signature",
)  # fmt: skip

# The marker of kypho's facts in a Field Annotation: "kypho {json}".
_KYPHO = "kypho "
_DATE_VALIDATIONS = frozenset({"date_ymd", "date_mdy", "date_dmy"})
_NUMBER_VALIDATIONS = frozenset(
    {"number", "number_1dp", "number_2dp", "number_3dp", "number_4dp", "number_comma_decimal"}
    | {f"number_{k}dp_comma_decimal" for k in range(1, 5)}
)
# Validations kypho does not check: kept as text, with a warning.
_TEXT_VALIDATIONS = frozenset(
    {"email", "phone", "phone_australia", "postalcode_canada", "zipcode", "alpha_only", "ssn",
     "mrn_10d", "mrn_generic", "vmrn", "time", "time_mm_ss", "datetime_ymd", "datetime_mdy",
     "datetime_dmy", "datetime_seconds_ymd", "datetime_seconds_mdy", "datetime_seconds_dmy"}
)  # fmt: skip
_CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox"})
_NO_DATA_TYPES = frozenset({"descriptive"})
_UNSUPPORTED_TYPES = frozenset({"file", "sql", "signature"})
_BOOLEAN_CHOICES = {"yesno": ("Yes", "No"), "truefalse": ("True", "False")}
# REDCap's own export columns that are not study data.
_SYSTEM_COLUMNS = ("redcap_data_access_group", "redcap_survey_identifier")
_REPEAT_INSTRUMENT = "redcap_repeat_instrument"
_REPEAT_INSTANCE = "redcap_repeat_instance"
_EVENT = "redcap_event_name"


@dataclass(frozen=True)
class RedcapSchema:
    """Result of :func:`schema_from_dictionary`.

    Attributes
    ----------
    document
        The kypho schema document (the mapping a ``study.yaml`` holds): a whole
        schema, or an extension (``variables``, ``repeated``, ``derived`` only).
    warnings
        Every REDCap feature kypho did not carry over, named with its field.
    """

    document: Mapping[str, Any]
    warnings: tuple[str, ...]

    def to_yaml(self) -> str:
        """The document as YAML text, for a ``study.yaml`` or an extension file."""
        import yaml

        header = "".join(f"# warning: {w}\n" for w in self.warnings)
        body: str = yaml.safe_dump(dict(self.document), sort_keys=False, allow_unicode=True)
        return header + body


@dataclass(frozen=True)
class RedcapRecords:
    """Result of :func:`records_from_redcap`.

    Attributes
    ----------
    data
        One row per record, in kypho's columns (raw values, as a reader gives
        them: pass to :func:`kypho.validation.validate`).
    labelled
        Whether the export had labels (headers and values) rather than raw codes.
    ignored
        REDCap columns that are not study data (form status, access group), named.
    warnings
        What was read in a way worth knowing (instances mapped to timepoints).
    """

    data: pd.DataFrame
    labelled: bool
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------------------
# kypho -> REDCap dictionary


def dictionary_from_schema(schema: Schema, *, form: str | None = None) -> pd.DataFrame:
    """A REDCap data dictionary for the schema, one row per column.

    Parameters
    ----------
    schema
        The study schema.
    form
        The instrument of every field; ``None`` names it after the study.

    Returns
    -------
    pandas.DataFrame
        The eighteen columns of :data:`DICTIONARY_COLUMNS`, as text; the first row is
        the record id. Write it with :func:`kypho.output.cells.write_csv` and upload it on
        REDCap's Data Dictionary page.

    Raises
    ------
    InputFileError
        When a level code is not a valid REDCap choice code (letters, digits and
        underscores).

    Notes
    -----
    Categories and ordinals become radio fields, booleans yesno, lists checkboxes
    (with an extra choice for kypho's "none" token: an observed, empty list),
    numbers and dates text fields with REDCap's validation and range. Derived
    variables are read-only text fields (``@READONLY``) that kypho's computed
    values can be imported into. Everything else kypho knows is in the Field
    Annotation, after ``kypho``.

    Examples
    --------
    >>> from kypho.schema import load_schema
    >>> d = dictionary_from_schema(load_schema())
    >>> d.iloc[0, :5].tolist()
    ['patient_id', 'kyphoplasty_staged_perfusion', '', 'text', 'Patient ID']
    """
    form_name = form or _form_name(schema.study)
    seen: dict[str, str] = {}
    for var in schema:
        other = seen.setdefault(var.name.casefold(), var.name)
        if other != var.name:
            raise InputFileError(
                f"variables {other!r} and {var.name!r} differ only in case; REDCap variable "
                "names are lower case, so they would be one field"
            )
    rows = [_dictionary_row(schema, var, form_name, i == 0) for i, var in enumerate(schema)]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS), dtype="string").fillna("")


def _form_name(text: str) -> str:
    name = re.sub(r"[^0-9a-z]+", "_", text.casefold()).strip("_")
    return name if name and not name[0].isdigit() else f"form_{name}"


def _dictionary_row(schema: Schema, var: Variable, form: str, first: bool) -> dict[str, str]:
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    # REDCap variable names are lower case: kypho's own name travels in the annotation
    row[_NAME], row[_FORM], row[_LABEL] = var.name.casefold(), form, var.label
    row[_NOTE] = var.unit or ""
    row[_IDENTIFIER] = "y" if var.phi == "direct" else ""
    row[_REQUIRED] = "y" if var.required else ""
    facts: dict[str, Any] = {"type": var.type, "role": var.role}
    if var.name != var.name.casefold():
        facts["name"] = var.name
    for key in ("unit", "precision", "phi", "measure", "timepoint"):
        if getattr(var, key) is not None:
            facts[key] = getattr(var, key)
    if var.description:
        facts["description"] = var.description
    if var.phrase:
        facts["phrase"] = var.phrase
    if var.timepoint is not None:
        tp = schema.timepoints[var.timepoint]
        facts["timepoint_label"], facts["timepoint_order"] = tp.label, tp.order
        facts["measure_label"] = var.measure_label or var.label
    if var.derived:
        facts["derived"] = True
    if var.type in ("category", "ordinal", "list"):
        facts["levels"] = dict(var.levels)
    derivation = next(
        (d for d in schema.derivations if var.name in _outputs_of(d, var.measure, var.timepoint)),
        None,
    )
    if derivation is not None:
        facts["formula"] = {
            "formula": derivation.formula,
            "name": derivation.name,
            "inputs": {
                k: list(v) if isinstance(v, tuple) else v for k, v in derivation.inputs.items()
            },
            "options": dict(derivation.options),
            "outputs": list(derivation.outputs),
        }
    if first:
        facts["study"] = _study_facts(schema)
    row[_TYPE], choices, validation = _field_type(schema, var)
    row[_CHOICES], row[_VALIDATION] = choices, validation
    if var.type in ("integer", "number", "date"):
        row[_MIN] = "" if var.min is None else _bound(var.min)
        row[_MAX] = "" if var.max is None else _bound(var.max)
    # the action tag after kypho's facts: a cell starting with "@" would be neutralised
    # as a spreadsheet formula when the dictionary is written
    tags = " @READONLY" if var.derived else ""
    row[_ANNOTATION] = _KYPHO + json.dumps(facts, ensure_ascii=False, default=str) + tags
    return row


def _outputs_of(derivation: Any, measure: str | None, timepoint: str | None) -> list[str]:
    return [derivation.column(o, timepoint) for o in derivation.outputs]


def _study_facts(schema: Schema) -> dict[str, Any]:
    """What the schema says about the study as a whole (carried on the record id)."""
    return {
        "study": schema.study,
        "title": schema.title,
        "group_column": schema.group_column,
        "reference_date": schema.reference_date,
        "missing_values": list(schema.missing_values),
        "none_token": schema.none_token,
        "timepoints": {
            name: {
                "label": tp.label,
                "order": tp.order,
                **({"phrase": tp.phrase} if tp.phrase else {}),
            }
            for name, tp in schema.timepoints.items()
        },
        "rules": [
            {"name": r.name, "left": r.left, "op": r.op, "right": r.right, "message": r.message}
            for r in schema.rules
        ],
        "eligibility": {
            kind: [
                {
                    "id": c.id,
                    "label": c.label,
                    "variable": c.variable,
                    "op": c.op,
                    "value": c.value,
                    **({"reason": c.reason} if c.reason else {}),
                }
                for c in schema.criteria
                if c.kind == kind
            ]
            for kind in ("inclusion", "exclusion")
        },
    }


def _bound(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _field_type(schema: Schema, var: Variable) -> tuple[str, str, str]:
    """(Field Type, Choices, Text Validation Type) of a variable."""
    if var.type in ("category", "ordinal", "list"):
        codes = list(var.levels.items())
        if var.type == "list":
            codes.append((schema.none_token, "None"))
        for code, _ in codes:
            if not re.fullmatch(r"[0-9A-Za-z_]+", code):
                raise InputFileError(
                    f"variable {var.name!r} has level code {code!r}; REDCap choice codes "
                    "may hold only letters, digits and underscores"
                )
        choices = " | ".join(f"{code}, {label}" for code, label in codes)
        return ("checkbox" if var.type == "list" else "radio"), choices, ""
    if var.type == "boolean":
        return "yesno", "", ""
    if var.type == "integer":
        return "text", "", "integer"
    if var.type == "number":
        return "text", "", "number"
    if var.type == "date":
        return "text", "", "date_ymd"
    if var.phi == "free_text":
        return "notes", "", ""
    return "text", "", ""


# --------------------------------------------------------------------------------------
# REDCap dictionary -> kypho


def read_dictionary(path: str | Path) -> pd.DataFrame:
    """Read a REDCap data dictionary CSV (as text; the header checked).

    Raises
    ------
    InputFileError
        When the file cannot be read or lacks REDCap's first five columns.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(
            f"cannot read the REDCap data dictionary {str(path)!r}: {exc}"
        ) from exc
    return _checked_dictionary(frame, str(path))


def _checked_dictionary(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = frame.rename(columns=lambda c: str(c).strip())
    missing = [c for c in DICTIONARY_COLUMNS[:5] if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{source} is not a REDCap data dictionary: it lacks the column(s) "
            + ", ".join(repr(c) for c in missing)
        )
    for column in DICTIONARY_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    unknown = [c for c in frame.columns if c not in DICTIONARY_COLUMNS]
    if unknown:
        raise InputFileError(
            f"{source}: column(s) {', '.join(map(repr, unknown))} are not REDCap "
            "data dictionary columns"
        )
    return frame.fillna("").astype(str)


def schema_from_dictionary(
    dictionary: pd.DataFrame | str | Path,
    *,
    group_column: str | None = None,
    study: str | None = None,
    title: str | None = None,
    base: Schema | None = None,
) -> RedcapSchema:
    """A kypho schema document from a REDCap data dictionary.

    Parameters
    ----------
    dictionary
        The dictionary (a frame of its columns, or the path of its CSV).
    group_column
        The field that holds the treatment group (a radio or dropdown). With it (or
        with a dictionary kypho wrote), the result is a whole schema; without it, an
        extension of ``base``.
    study, title
        The study's name and title (a whole schema); default from the dictionary.
    base
        For an extension: the schema it extends. Its variables are left out of the
        extension (and a field that disagrees with one is named in a warning).

    Returns
    -------
    RedcapSchema

    Raises
    ------
    InputFileError
        When a field name is not a valid variable name, a choice list is malformed,
        or ``group_column`` names no categorical field.

    Examples
    --------
    >>> d = pd.DataFrame({"Variable / Field Name": ["record_id", "arm", "pain"],
    ...                   "Form Name": ["enrol"] * 3, "Section Header": [""] * 3,
    ...                   "Field Type": ["text", "radio", "slider"],
    ...                   "Field Label": ["Record", "Arm", "Pain"],
    ...                   "Choices, Calculations, OR Slider Labels": ["", "1, A | 2, B", ""]})
    >>> out = schema_from_dictionary(d, group_column="arm", study="demo")
    >>> [v["type"] for v in out.document["variables"]]
    ['id', 'category', 'number']
    """
    source = str(dictionary) if isinstance(dictionary, str | Path) else "the data dictionary"
    frame = (
        read_dictionary(dictionary)
        if isinstance(dictionary, str | Path)
        else _checked_dictionary(dictionary.copy(), source)
    )
    warnings: list[str] = []
    rows = [r for _, r in frame.iterrows() if r[_NAME].strip()]
    facts = [_annotation(r) for r in rows]
    study_facts = facts[0].get("study") if rows and facts[0] else None
    variables: list[dict[str, Any]] = []
    repeated: dict[str, dict[str, Any]] = {}
    derived: list[dict[str, Any]] = []
    timepoints: dict[str, dict[str, Any]] = {}
    forms: dict[str, list[Any]] = {}
    for i, (row, fact) in enumerate(zip(rows, facts, strict=True)):
        spec = _variable_spec(row, fact, first=i == 0, warnings=warnings)
        if spec is None:
            continue
        _form_field(row, spec, forms, warnings)
        if fact.get("measure") is not None and fact.get("timepoint") is not None:
            _add_repeated(spec, fact, repeated, timepoints, derived)
        elif spec.pop("_derived", False):
            derived.append(spec)
        else:
            variables.append(spec)
    for measure in repeated.values():
        measure.pop("_tps_seen", None)
    doc: dict[str, Any] = {}
    whole = study_facts is not None or group_column is not None
    if whole:
        doc.update(_whole_schema_head(study_facts, group_column, study, title, variables, source))
        declared = (study_facts or {}).get("timepoints") or timepoints
        if declared:
            doc["timepoints"] = declared
    doc["variables"] = variables
    for spec in [*variables, *derived]:
        spec.pop("_derived", None)
    repeated_specs = [m for m in repeated.values() if not m.pop("_is_derived", False)]
    derived_repeated = [m for m in repeated.values() if m not in repeated_specs]
    if repeated_specs:
        doc["repeated"] = repeated_specs
    if derived or derived_repeated:
        doc["derived"] = _in_row_order(rows, [*derived, *derived_repeated])
    if whole and study_facts is not None:
        _study_tail(doc, study_facts)
    if forms and study_facts is None:
        _boolean_conditions(forms, [*variables, *derived])
        doc["forms"] = {
            "instruments": [
                {"name": name, "label": name.replace("_", " ").capitalize(), "fields": fields}
                for name, fields in forms.items()
            ]
        }
    if not whole:
        doc = _as_extension(doc, base, warnings)
    return RedcapSchema(document=doc, warnings=tuple(warnings))


def _annotation(row: pd.Series) -> dict[str, Any]:
    text = row[_ANNOTATION]
    at = text.find(_KYPHO + "{")
    if at < 0:
        return {}
    try:
        facts, _ = json.JSONDecoder().raw_decode(text[at + len(_KYPHO) :])
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"field {row[_NAME]!r}: its Field Annotation starts kypho's facts but they "
            f"are not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(facts, dict):
        raise InputFileError(
            f"field {row[_NAME]!r}: kypho's facts in its Field Annotation are not a mapping"
        )
    return facts


def _choices(row: pd.Series) -> dict[str, str]:
    text = row[_CHOICES].strip()
    out: dict[str, str] = {}
    for part in text.split("|") if text else []:
        code, sep, label = part.partition(",")
        if not sep or not code.strip():
            raise InputFileError(
                f"field {row[_NAME]!r}: choice {part.strip()!r} is not written 'code, label'"
            )
        out[code.strip()] = label.strip()
    if row[_TYPE] in _CHOICE_TYPES and not out:
        raise InputFileError(f"field {row[_NAME]!r} is a {row[_TYPE]} field without choices")
    return out


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputFileError(f"field {name!r}: range bound {text!r} is not a number") from None


def _variable_spec(
    row: pd.Series, fact: Mapping[str, Any], *, first: bool, warnings: list[str]
) -> dict[str, Any] | None:
    """The kypho declaration of one dictionary row (``None``: a field without data)."""
    name, ftype = row[_NAME].strip(), row[_TYPE].strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InputFileError(
            f"field {name!r} is not a REDCap variable name (lower-case letters, digits and "
            "underscores, starting with a letter)"
        )
    if ftype in _NO_DATA_TYPES:
        warnings.append(f"field {name!r}: a {ftype} field holds no data and is not imported")
        return None
    if ftype in _UNSUPPORTED_TYPES:
        warnings.append(
            f"field {name!r}: REDCap {ftype} fields are not supported by kypho; not imported"
        )
        return None
    for column, what in (
        (_SECTION, "section header"),
        (_ALIGN, "custom alignment"),
        (_QUESTION, "survey question number"),
        (_MATRIX, "matrix group"),
        (_RANKING, "matrix ranking"),
    ):
        if row[column].strip() and not fact:
            warnings.append(
                f"field {name!r}: the {what} {row[column].strip()!r} is layout that kypho's "
                "schema does not keep"
            )
    spec: dict[str, Any] = {
        "name": str(fact.get("name", name)),
        "label": row[_LABEL].strip() or name,
    }
    if fact:
        return _spec_from_facts(row, fact, spec)
    validation = row[_VALIDATION].strip()
    if first:
        spec.update(type="id", required=True, role="id")
        return spec
    if ftype in ("radio", "dropdown"):
        spec.update(type="category", levels=_choices(row))
    elif ftype == "checkbox":
        spec.update(type="list", levels=_choices(row))
    elif ftype in _BOOLEAN_CHOICES:
        spec.update(type="boolean")
    elif ftype == "slider":
        spec.update(type="number", min=0, max=100)
        if row[_CHOICES].strip():
            spec["description"] = f"REDCap slider labels: {row[_CHOICES].strip()}"
    elif ftype == "calc":
        spec.update(type="number", description=f"REDCap calculation: {row[_CHOICES].strip()}")
        warnings.append(
            f"field {name!r}: a REDCap calculated field is imported as an entered number; "
            "kypho does not evaluate REDCap calculations (declare a formula to derive it)"
        )
    elif ftype in ("text", "notes"):
        spec.update(_text_type(name, ftype, validation, row, warnings))
    else:
        raise InputFileError(f"field {name!r} has field type {ftype!r}, which REDCap does not have")
    if row[_NOTE].strip():
        spec.setdefault("description", row[_NOTE].strip())
    if row[_IDENTIFIER].strip().casefold() == "y":
        spec.update(role="identifier", phi="direct")
    else:
        spec.setdefault("role", "outcome")
    return spec


def _text_type(
    name: str, ftype: str, validation: str, row: pd.Series, warnings: list[str]
) -> dict[str, Any]:
    if ftype == "notes":
        return {"type": "string", "phi": "free_text"}
    if not validation:
        return {"type": "string"}
    if validation == "integer" or validation in _NUMBER_VALIDATIONS:
        lo, hi = _number(row[_MIN], name), _number(row[_MAX], name)
        out: dict[str, Any] = {"type": "integer" if validation == "integer" else "number"}
        if lo is not None:
            out["min"] = int(lo) if lo.is_integer() else lo
        if hi is not None:
            out["max"] = int(hi) if hi.is_integer() else hi
        if validation.startswith("number_") and validation[7].isdigit():
            out["precision"] = int(validation[7])
        return out
    if validation in _DATE_VALIDATIONS:
        out = {"type": "date"}
        for key, column in (("min", _MIN), ("max", _MAX)):
            if row[column].strip():
                out[key] = row[column].strip()
        return out
    if validation in _TEXT_VALIDATIONS:
        warnings.append(
            f"field {name!r}: REDCap validation {validation!r} is not checked by kypho; "
            "the field is imported as text"
        )
        return {"type": "string"}
    raise InputFileError(f"field {name!r} has text validation {validation!r}, unknown to kypho")


def _spec_from_facts(
    row: pd.Series, fact: Mapping[str, Any], spec: dict[str, Any]
) -> dict[str, Any]:
    """A field kypho wrote: every fact from its annotation, ranges from REDCap's columns."""
    spec["type"] = fact["type"]
    spec["role"] = fact["role"]
    for key in ("unit", "precision", "phi", "description", "levels", "phrase"):
        if key in fact:
            spec[key] = fact[key]
    if row[_REQUIRED].strip().casefold() == "y":
        spec["required"] = True
    if fact["type"] in ("integer", "number"):
        for key, column in (("min", _MIN), ("max", _MAX)):
            value = _number(row[column], spec["name"])
            if value is not None:
                spec[key] = int(value) if value.is_integer() else value
    elif fact["type"] == "date":
        for key, column in (("min", _MIN), ("max", _MAX)):
            if row[column].strip():
                spec[key] = row[column].strip()
    if "formula" in fact and fact["formula"]["name"] in (spec["name"], fact.get("measure")):
        formula = fact["formula"]
        spec["formula"] = formula["formula"]
        spec["inputs"] = formula["inputs"]
        if formula["options"]:
            spec["options"] = formula["options"]
        if formula["outputs"] != [formula["name"]]:
            spec["outputs"] = formula["outputs"]
    if fact.get("derived"):
        spec["_derived"] = True
    return spec


def _add_repeated(
    spec: dict[str, Any],
    fact: Mapping[str, Any],
    repeated: dict[str, dict[str, Any]],
    timepoints: dict[str, dict[str, Any]],
    derived: list[dict[str, Any]],
) -> None:
    """Fold one column of a repeated measure (kypho's annotation) into its measure."""
    measure, tp = str(fact["measure"]), str(fact["timepoint"])
    timepoints.setdefault(tp, {"label": fact["timepoint_label"], "order": fact["timepoint_order"]})
    entry = repeated.get(measure)
    if entry is None:
        entry = {k: v for k, v in spec.items() if k not in ("name", "_derived")}
        # the column's label names its timepoint; the measure's is declared once
        entry["label"] = fact.get("measure_label", entry.get("label"))
        entry = {"name": measure, **entry, "timepoints": []}
        if spec.get("_derived"):
            entry["_is_derived"] = True
        repeated[measure] = entry
    entry["timepoints"].append(tp)


def _in_row_order(rows: Sequence[pd.Series], specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    position: dict[str, int] = {}
    for i, row in enumerate(rows):
        fact = _annotation(row)
        position.setdefault(str(fact.get("measure") or row[_NAME]), i)
    return sorted(specs, key=lambda s: position.get(str(s["name"]), len(rows)))


def _whole_schema_head(
    facts: Mapping[str, Any] | None,
    group_column: str | None,
    study: str | None,
    title: str | None,
    variables: list[dict[str, Any]],
    source: str,
) -> dict[str, Any]:
    facts = facts or {}
    group = group_column or facts.get("group_column")
    if not variables:
        raise InputFileError(f"{source} declares no field")
    spec = next((v for v in variables if v["name"] == group), None)
    if spec is None or spec.get("type") != "category":
        raise InputFileError(
            f"{source}: the group column {group!r} is not a radio or dropdown field of the dictionary"
        )
    if not facts:
        spec.update(role="group", required=True)
    head: dict[str, Any] = {
        "study": study or facts.get("study") or "redcap-study",
        "title": title if title is not None else facts.get("title", ""),
        "id_column": variables[0]["name"],
        "group_column": group,
    }
    if facts.get("reference_date"):
        head["reference_date"] = facts["reference_date"]
    return head


def _study_tail(doc: dict[str, Any], facts: Mapping[str, Any]) -> None:
    doc["missing_values"] = facts.get("missing_values", [""])
    doc["none_token"] = facts.get("none_token", "none")
    if facts.get("rules"):
        doc["rules"] = facts["rules"]
    elig = facts.get("eligibility") or {}
    if any(elig.values()):
        doc["eligibility"] = elig


def _as_extension(doc: dict[str, Any], base: Schema | None, warnings: list[str]) -> dict[str, Any]:
    """Keep only the variables ``base`` lacks; name the fields that disagree with it."""
    if base is None:
        return {k: v for k, v in doc.items() if k in ("variables", "repeated", "derived")}
    out: dict[str, Any] = {}
    # REDCap names are lower case: match the schema's names ignoring case
    known = {n.casefold(): n for n in [*base.variables, *base.repeated]}
    for key in ("variables", "repeated", "derived"):
        kept = []
        for spec in doc.get(key, []):
            name = known.get(str(spec["name"]).casefold())
            if name is not None:
                var = base.variables.get(name)
                if var is not None and spec.get("type") not in (var.type, "id"):
                    warnings.append(
                        f"field {name!r}: REDCap gives type {spec.get('type')!r}, the study "
                        f"schema {var.type!r}; the schema's declaration is kept"
                    )
                continue
            kept.append(spec)
        if kept:
            out[key] = kept
    return out


_BRANCH = re.compile(
    r"^\s*\[(?P<field>[a-z][a-z0-9_]*)(?:\((?P<code>[0-9A-Za-z_]+)\))?\]\s*"
    r"(?P<op>=|<>|!=)\s*(?P<q>['\"]?)(?P<value>[^'\"]*)(?P=q)\s*$"
)


def _form_field(
    row: pd.Series, spec: Mapping[str, Any], forms: dict[str, list[Any]], warnings: list[str]
) -> None:
    """The field's place in its instrument: required, help and branching (``show_if``)."""
    name = spec["name"]
    form = row[_FORM].strip() or "form"
    entry: dict[str, Any] = {"name": name}
    if row[_REQUIRED].strip().casefold() == "y":
        entry["required"] = True
    if row[_NOTE].strip():
        entry["help"] = row[_NOTE].strip()
    logic = row[_BRANCHING].strip()
    if logic:
        condition = _condition(logic)
        if condition is None:
            warnings.append(
                f"field {name!r}: branching logic {logic!r} is more than kypho's "
                "[field] = / <> 'value' comparisons (joined by 'or' on one field); "
                "the field is always shown"
            )
        else:
            entry["show_if"] = condition
    forms.setdefault(form, []).append(entry if len(entry) > 1 else name)


def _boolean_conditions(forms: Mapping[str, list[Any]], specs: list[dict[str, Any]]) -> None:
    """A condition on a yes/no field compares with true/false, not REDCap's 1/0."""
    booleans = {s["name"] for s in specs if s.get("type") == "boolean"}
    truth = {"1": True, "0": False}
    for fields in forms.values():
        for entry in fields:
            cond = entry.get("show_if") if isinstance(entry, dict) else None
            if cond is None or cond["field"] not in booleans:
                continue
            value = cond["value"]
            cond["value"] = (
                [truth.get(v, v) for v in value]
                if isinstance(value, list)
                else truth.get(value, value)
            )


def _condition(logic: str) -> dict[str, Any] | None:
    """kypho's ``show_if`` of a REDCap branching expression, or ``None`` if beyond it."""
    parts = re.split(r"\s+or\s+", logic, flags=re.IGNORECASE)
    parsed = [_BRANCH.match(p) for p in parts]
    if any(m is None for m in parsed):
        return None
    matches = [m for m in parsed if m is not None]
    fields = {m["field"] for m in matches}
    if len(fields) != 1:
        return None
    field = fields.pop()
    if any(m["code"] for m in matches):
        return None  # a checkbox option, [leak(C)] = '1': kypho's show_if has no "ticked"
    if len(matches) == 1:
        m = matches[0]
        return {"field": field, "op": "==" if m["op"] == "=" else "!=", "value": m["value"]}
    if all(m["op"] == "=" for m in matches):
        return {"field": field, "op": "in", "value": [m["value"] for m in matches]}
    return None


# --------------------------------------------------------------------------------------
# records


def records_from_redcap(
    records: pd.DataFrame | str | Path,
    schema: Schema,
    *,
    dictionary: pd.DataFrame | None = None,
) -> RedcapRecords:
    """kypho's table from a REDCap records export (raw or labelled).

    Parameters
    ----------
    records
        The export (its CSV, or a frame of its text cells).
    schema
        The study schema (from the project's dictionary, or kypho's).
    dictionary
        The project's data dictionary, when its labels differ from the schema's
        (a labelled export is matched by field labels and choice labels).

    Returns
    -------
    RedcapRecords

    Raises
    ------
    InputFileError
        When a column matches no field, the export is longitudinal
        (``redcap_event_name``), a repeating instrument's field is not a repeated
        measure of the schema, or an instance has no timepoint to go to.

    Notes
    -----
    A checkbox's columns become one ``list`` value (``"C;S"``; the none choice an
    empty list, no box ticked a missing value); yes/no and true/false become
    true/false; choice labels become codes. A repeating instrument's instance *k*
    of a field becomes the *k*-th timepoint (in time order) of the schema's
    repeated measure of that name; a record's rows are joined into one.
    """
    source = str(records) if isinstance(records, str | Path) else "the records export"
    if isinstance(records, str | Path):
        try:
            frame = pd.read_csv(records, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputFileError(f"cannot read the REDCap export {source!r}: {exc}") from exc
    else:
        frame = records.astype(str).copy()
    if _EVENT in frame.columns:
        raise InputFileError(
            f"{source} is from a longitudinal REDCap project ({_EVENT!r}); kypho reads "
            "one row per record: export each event separately, or as repeated measures"
        )
    fields = _fields(schema, dictionary)
    labelled = schema.id_column not in frame.columns
    columns, ignored = _header(frame, fields, labelled, source)
    frame = frame.set_axis([c[0] for c in columns], axis=1)
    warnings: list[str] = []
    rows = _join_rows(frame, schema, warnings, source)
    data: dict[str, pd.Series] = {}
    for name in rows.columns:
        if name.startswith("\0") or name in (_REPEAT_INSTRUMENT, _REPEAT_INSTANCE):
            continue
        if (
            "___" in name
            and name.split("___")[0] in fields
            and fields[name.split("___")[0]].type == "list"
        ):
            continue
        var = fields.get(name)
        if var is None:
            continue
        data[name] = _decode(rows[name], var, labelled)
    for name, var in fields.items():
        if var.type == "list":
            boxes = [c for c in rows.columns if c.startswith(name + "___")]
            if boxes:
                data[name] = _checkbox(rows, name, boxes, var, schema.none_token, labelled)
    order = [v.name for v in schema if v.name in data]
    return RedcapRecords(
        data=pd.DataFrame({k: data[k] for k in order}).reset_index(drop=True),
        labelled=labelled,
        ignored=tuple(ignored),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class _Field:
    name: str
    type: str
    label: str
    levels: Mapping[str, str]


def _fields(schema: Schema, dictionary: pd.DataFrame | None) -> dict[str, _Field]:
    out = {v.name: _Field(v.name, v.type, v.label, dict(v.levels)) for v in schema.input_variables}
    for measure, tps in schema.repeated.items():
        var = schema[f"{measure}_{tps[0]}"]
        if not var.derived:
            out.setdefault(measure, _Field(measure, var.type, var.label, dict(var.levels)))
    if dictionary is not None:
        for _, row in _checked_dictionary(dictionary.copy(), "the data dictionary").iterrows():
            name = row[_NAME].strip()
            if name in out:
                levels = _choices(row) if row[_TYPE] in _CHOICE_TYPES else out[name].levels
                out[name] = _Field(name, out[name].type, row[_LABEL].strip(), levels)
    return out


def _header(
    frame: pd.DataFrame, fields: Mapping[str, _Field], labelled: bool, source: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """``[(internal name, header)]`` for every column, and the ignored ones."""
    by_label = {f.label: f.name for f in fields.values()}
    out: list[tuple[str, str]] = []
    ignored: list[str] = []
    for header in frame.columns:
        text = str(header)
        name = _column_name(text, fields, by_label, labelled)
        if name is None:
            if (
                text.endswith("_complete")
                or text in _SYSTEM_COLUMNS
                or re.fullmatch(r"Complete\?(\.\d+)?|Survey Identifier|Data Access Group", text)
            ):
                ignored.append(text)
                out.append((f"\0{text}", text))
                continue
            raise InputFileError(
                f"{source}: column {text!r} matches no field of the schema "
                + ("by its label" if labelled else "by its name")
            )
        out.append((name, text))
    return out, ignored


def _column_name(
    text: str, fields: Mapping[str, _Field], by_label: Mapping[str, str], labelled: bool
) -> str | None:
    if text in (_REPEAT_INSTRUMENT, "Repeat Instrument"):
        return _REPEAT_INSTRUMENT
    if text in (_REPEAT_INSTANCE, "Repeat Instance"):
        return _REPEAT_INSTANCE
    if not labelled:
        lower = {k.casefold(): k for k in fields}
        head, sep, code = text.partition("___")
        name = lower.get(head.casefold())
        if name is None:
            return None
        return f"{name}{sep}{code}" if sep else name
    match = re.fullmatch(r"(?P<label>.*) \(choice=(?P<choice>.*)\)", text)
    if match and match["label"] in by_label:
        field = fields[by_label[match["label"]]]
        for code, label in field.levels.items():
            if label == match["choice"]:
                return f"{field.name}___{code}"
        return None
    return by_label.get(text)


def _join_rows(
    frame: pd.DataFrame, schema: Schema, warnings: list[str], source: str
) -> pd.DataFrame:
    """One row per record: repeating instances folded into the measures' timepoints."""
    idc = schema.id_column
    if _REPEAT_INSTRUMENT not in frame.columns:
        return frame
    repeat = frame[_REPEAT_INSTRUMENT].str.strip() != ""
    base = frame[~repeat].drop_duplicates(subset=[idc]).set_index(idc, drop=False)
    for _, row in frame[repeat].iterrows():
        record, instrument = row[idc], row[_REPEAT_INSTRUMENT]
        instance = int(row[_REPEAT_INSTANCE] or 1)
        for name, value in row.items():
            name = str(name)
            if name in (idc, _REPEAT_INSTRUMENT, _REPEAT_INSTANCE) or name.startswith("\0"):
                continue
            if value == "":
                continue
            tps = schema.repeated.get(name)
            if tps is None:
                raise InputFileError(
                    f"{source}: record {record!r}, repeating instrument {instrument!r}: field "
                    f"{name!r} is not a repeated measure of the schema, so its instances have "
                    "nowhere to go"
                )
            if instance > len(tps):
                raise InputFileError(
                    f"{source}: record {record!r}, {instrument!r} instance {instance}: "
                    f"{name!r} has only {len(tps)} timepoints ({', '.join(tps)})"
                )
            column = f"{name}_{tps[instance - 1]}"
            if record not in base.index:
                base.loc[record, idc] = record
            base.loc[record, column] = value
    instruments = sorted(set(frame.loc[repeat, _REPEAT_INSTRUMENT]))
    if instruments:
        warnings.append(
            "repeating instrument(s) "
            + ", ".join(map(repr, instruments))
            + ": instance k of a field is timepoint k of its repeated measure"
        )
    return base.reset_index(drop=True).fillna("")


def _decode(values: pd.Series, field: _Field, labelled: bool) -> pd.Series:
    text = values.astype(str).str.strip()
    if field.type == "boolean":
        truth = {"1": "true", "0": "false", "yes": "true", "no": "false", "true": "true",
                 "false": "false", "": ""}  # fmt: skip
        return text.str.casefold().map(lambda v: truth.get(v, v))
    if labelled and field.levels:
        by_label = {label: code for code, label in field.levels.items()}
        return text.map(lambda v: by_label.get(v, v))
    return text


def _checkbox(
    rows: pd.DataFrame,
    name: str,
    boxes: list[str],
    field: _Field,
    none_token: str,
    labelled: bool,
) -> pd.Series:
    codes = {b: b.split("___", 1)[1] for b in boxes}
    by_case = {c.casefold(): c for c in [*field.levels, none_token]}
    ticked = {
        b: rows[b].astype(str).str.strip().str.casefold().isin(["1", "checked"]) for b in boxes
    }
    out = []
    for i in range(len(rows)):
        on = [by_case.get(codes[b].casefold(), codes[b]) for b in boxes if ticked[b].iloc[i]]
        if not on:
            out.append("")  # no box ticked: not recorded
        elif on == [none_token]:
            out.append(none_token)
        else:
            out.append(";".join(c for c in on if c != none_token))
    return pd.Series(out, index=rows.index, dtype="string")


def records_to_redcap(data: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A REDCap import file (raw codes) of kypho's records.

    Parameters
    ----------
    data
        Typed records (``validate(...).data``, optionally with ``derive``'s columns).
    schema
        The study schema; the columns follow :func:`dictionary_from_schema`.

    Returns
    -------
    pandas.DataFrame
        Text cells: codes for choices, 1/0 for yes/no and for each checkbox option
        (``<field>___<code>``), dates as YYYY-MM-DD, missing values empty.

    Examples
    --------
    >>> from kypho.schema import load_schema
    >>> s = load_schema()
    >>> df = pd.DataFrame({"patient_id": ["P1"], "pain": [True], "leak_sites": ["C;S"]})
    >>> records_to_redcap(df, s).iloc[0].to_dict()
    {'patient_id': 'P1', 'pain': '1', 'leak_sites___b': '0', 'leak_sites___c': '1', 'leak_sites___s': '1', 'leak_sites___d': '0', 'leak_sites___none': '0'}
    """
    out: dict[str, pd.Series] = {}
    for var in schema:
        if var.name not in data.columns:
            continue
        values = data[var.name]
        missing = values.isna()
        if var.type == "list":
            text = values.astype("string").fillna("")
            for code in [*var.codes, schema.none_token]:
                if code == schema.none_token:
                    hit = ~missing & (text == "")
                else:
                    hit = text.str.split(";").map(lambda parts, c=code: c in parts)
                column = pd.Series(hit.astype(int).astype(str), index=data.index)
                out[f"{var.name.casefold()}___{code.casefold()}"] = column.where(~missing, "")
            continue
        if var.type == "boolean":
            text = values.map(lambda v: "" if pd.isna(v) else ("1" if bool(v) else "0"))
        elif var.type == "date":
            text = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        else:
            text = values.astype(object).map(lambda v: "" if pd.isna(v) else _cell(v))
        out[var.name.casefold()] = pd.Series(text, index=data.index).fillna("").astype(str)
    return pd.DataFrame(out, index=data.index).reset_index(drop=True)


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
