"""The data dictionary: one row per schema variable, derived from the schema alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kypho.errors import InputFileError
from kypho.output.cells import write_csv, write_xlsx
from kypho.output.markup import markdown_escape
from kypho.schema import Schema, Variable, load_schema

__all__ = ["DICTIONARY_COLUMNS", "data_dictionary", "write_dictionary"]

DICTIONARY_COLUMNS: tuple[str, ...] = (
    "name",
    "label",
    "type",
    "unit",
    "allowed",
    "required",
    "role",
    "timepoint",
    "phi",
    "description",
)


def allowed_text(var: Variable) -> str:
    """What a variable allows, with the level labels where they differ from the codes."""
    text = var.allowed()
    labelled = [f"{code} = {label}" for code, label in var.levels.items() if label != code]
    if labelled:
        text += "; " + "; ".join(labelled)
    return text


def data_dictionary(schema: Schema | None = None) -> pd.DataFrame:
    """Build the data dictionary of a schema.

    Parameters
    ----------
    schema
        The study schema; ``None`` uses kypho's built-in schema.

    Returns
    -------
    pandas.DataFrame
        One row per variable in declared order (derived variables last, with role
        ``derived``), columns ``name, label, type, unit, allowed, required, role,
        timepoint, phi, description``. Empty text where the schema declares nothing.

    Notes
    -----
    Every cell comes from the :class:`~kypho.schema.Variable` declaration; the
    ``allowed`` column is :meth:`Variable.allowed` (the words validation messages
    use) followed by ``code = label`` for levels whose label differs from the code.

    Examples
    --------
    >>> d = data_dictionary()
    >>> d.set_index("name").loc["vas_pre", ["label", "unit", "allowed", "timepoint"]].tolist()
    ['VAS score, preoperation', 'points', 'a number from 0 to 10', 'pre']
    """
    schema = schema or load_schema()
    rows = [
        {
            "name": v.name,
            "label": v.label,
            "type": v.type,
            "unit": v.unit or "",
            "allowed": allowed_text(v),
            "required": "yes" if v.required else "no",
            "role": v.role,
            "timepoint": v.timepoint or "",
            "phi": v.phi or "",
            "description": v.description,
        }
        for v in schema
    ]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def write_dictionary(path: str | Path, schema: Schema | None = None) -> Path:
    """Write the data dictionary to ``.csv``, ``.xlsx`` or ``.md``.

    Parameters
    ----------
    path
        Output file; its extension picks the format.
    schema
        The study schema; ``None`` uses kypho's built-in schema.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        If the extension is not one of ``.csv``, ``.xlsx``, ``.md`` or the file
        cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = write_dictionary(pathlib.Path(tempfile.mkdtemp()) / "dictionary.md")
    >>> print(out.read_text().splitlines()[3])
    | patient_name | Patient name | string |  | text | no | identifier |  | direct |  |
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".md", ".xlsx"):
        raise InputFileError(
            f"cannot write the data dictionary to {str(path)!r}: unsupported extension "
            f"{path.suffix!r}; allowed: .csv, .md, .xlsx"
        )
    from kypho.io.tables import check_folder

    check_folder(path)
    table = data_dictionary(schema)
    try:
        if suffix == ".csv":
            write_csv(table, path)
        elif suffix == ".xlsx":
            write_xlsx(table, path, sheet_name="Dictionary")
        else:
            path.write_text(markdown_table(table), encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``table`` (``|`` and newlines escaped)."""

    def cell(value: object) -> str:
        return markdown_escape(str(value)).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"
