"""The Excel data-entry workbook, generated from the schema.

Sheet ``Data`` has one column per input (non-derived) variable, headed by its
schema name, with a comment giving the label, unit and what is allowed, and an
Excel data validation: a drop-down of the level codes for categories, ordinals
and booleans, a range for numbers and dates. Sheet ``Dictionary`` is the data
dictionary; a hidden sheet ``Lists`` holds the drop-down entries, each range
named ``choices_<variable>`` (a list typed into the validation itself is
limited to 255 characters and breaks on commas).
A filled-in workbook is read back by :func:`kypho.io.read_table`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kypho.errors import InputFileError
from kypho.io.dictionary import DICTIONARY_COLUMNS, allowed_text, data_dictionary
from kypho.io.tables import DATA_SHEET, check_folder
from kypho.output.cells import neutralise_workbook
from kypho.schema import Schema, Variable, load_schema

__all__ = ["BOOLEAN_CHOICES", "write_template"]

#: The drop-down entries of a boolean column (validation also accepts true/false, 1/0).
BOOLEAN_CHOICES: tuple[str, str] = ("yes", "no")
_LISTS_SHEET = "Lists"
_DICTIONARY_SHEET = "Dictionary"
_LAST_ROW = 1_048_576
# Excel's own limits on data-validation prompt and error texts.
_PROMPT_MAX = 255
_TITLE_MAX = 32
# Unbounded numbers still get a "decimal" check so that text is refused.
_HUGE = "1E+307"
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FONT = Font(bold=True, color="C00000")


def write_template(path: str | Path, schema: Schema | None = None) -> Path:
    """Write the Excel data-entry workbook of a schema.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write.
    schema
        The study schema (with any extensions already loaded); ``None`` uses
        kypho's built-in schema.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputFileError
        If ``path`` does not end in ``.xlsx`` or cannot be written.

    Notes
    -----
    The header holds schema *names*, so a filled workbook reads back without any
    label matching. Required columns have red bold headers. Data validation is
    a help for whoever types the data, not a guarantee (pasted cells bypass
    Excel's validation): :func:`kypho.validation.validate` remains the check.
    Text-like columns (ids, text, levels, lists) are formatted as text so that
    Excel keeps ``007`` as typed; date columns as ``yyyy-mm-dd``.

    References
    ----------
    .. [1] ECMA-376, Office Open XML File Formats, Part 1, §18.3.1.32
       ``dataValidation`` (list, whole, decimal and date types) and §18.2.5
       ``definedName``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from kypho.io import read_table
    >>> f = write_template(pathlib.Path(tempfile.mkdtemp()) / "entry.xlsx")
    >>> list(read_table(f).columns[:3])
    ['patient_id', 'patient_name', 'hospital_number']
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputFileError(
            f"cannot write the template to {str(path)!r}: the template is an Excel "
            f"workbook, its name must end in .xlsx (got {path.suffix or 'no extension'!r})"
        )
    check_folder(path)
    schema = schema or load_schema()
    book = Workbook()
    data = book.active
    if not isinstance(data, Worksheet):  # pragma: no cover - a new Workbook always has one
        raise InputFileError("openpyxl created a workbook without a worksheet")
    data.title = DATA_SHEET
    lists = book.create_sheet(_LISTS_SHEET)
    lists.sheet_state = "hidden"
    _fill_dictionary(book.create_sheet(_DICTIONARY_SHEET), schema)

    list_column = 0
    for position, var in enumerate(schema.input_variables, start=1):
        letter = get_column_letter(position)
        cell = data.cell(row=1, column=position, value=var.name)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        if var.required:
            cell.font = _REQUIRED_FONT
        cell.comment = _comment(var)
        data.column_dimensions[letter].width = max(12, min(40, len(var.name) + 4))
        if var.type in ("id", "string", "category", "ordinal", "list"):
            data.column_dimensions[letter].number_format = "@"
        elif var.type == "date":
            data.column_dimensions[letter].number_format = "yyyy-mm-dd"
        choices = _choices(var)
        source = None
        if choices:
            list_column += 1
            source = _write_choices(book, lists, list_column, var.name, choices)
        validation = _validation(var, source)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{_LAST_ROW}")
            data.add_data_validation(validation)
    data.freeze_panes = "B2"
    neutralise_workbook(book)
    try:
        book.save(path)
    except OSError as exc:
        raise InputFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path


def _comment(var: Variable) -> Comment:
    lines = [var.label]
    if var.unit:
        lines.append(f"Unit: {var.unit}")
    lines.append(f"Allowed: {allowed_text(var)}")
    if var.required:
        lines.append("Required.")
    if var.description:
        lines.append(var.description)
    text = "\n".join(lines)
    comment = Comment(text, "kypho")
    comment.width = 320
    comment.height = max(80, 20 * (1 + len(text) // 45))
    return comment


def _choices(var: Variable) -> tuple[str, ...]:
    if var.type in ("category", "ordinal"):
        return var.codes
    if var.type == "boolean":
        return BOOLEAN_CHOICES
    return ()


def _write_choices(
    book: Workbook, sheet: Worksheet, column: int, name: str, choices: tuple[str, ...]
) -> str:
    """Put the choices in a column of the Lists sheet; return the workbook name of that range.

    A drop-down refers to the range by a defined name, the form every Excel
    version and LibreOffice accept for a list kept on another sheet.
    """
    sheet.cell(row=1, column=column, value=name)
    for row, choice in enumerate(choices, start=2):
        sheet.cell(row=row, column=column, value=choice).number_format = "@"
    letter = get_column_letter(column)
    target = f"{quote_sheetname(_LISTS_SHEET)}!${letter}$2:${letter}${len(choices) + 1}"
    defined = f"choices_{name}"
    book.defined_names[defined] = DefinedName(defined, attr_text=target)
    return defined


def _validation(var: Variable, source: str | None) -> DataValidation | None:
    if source is not None:
        rule = DataValidation(type="list", formula1=source, allow_blank=True)
    elif var.type in ("integer", "number"):
        lo = _HUGE if var.min is None else _number(var.min)
        hi = _HUGE if var.max is None else _number(var.max)
        lo = "-" + lo if var.min is None else lo
        kind = "whole" if var.type == "integer" else "decimal"
        rule = DataValidation(
            type=kind, operator="between", formula1=lo, formula2=hi, allow_blank=True
        )
    elif var.type == "date":
        lo = _date(var.min, dt.date(1900, 1, 1))
        hi = _date(var.max, dt.date(9999, 12, 31))
        rule = DataValidation(
            type="date", operator="between", formula1=lo, formula2=hi, allow_blank=True
        )
    else:
        return None
    rule.showErrorMessage = True
    rule.showInputMessage = True
    rule.errorTitle = var.name[:_TITLE_MAX]
    rule.error = f"{var.name!r} must be {var.allowed()}"[:_PROMPT_MAX]
    rule.promptTitle = var.label[:_TITLE_MAX]
    rule.prompt = allowed_text(var)[:_PROMPT_MAX]
    return rule


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else repr(number)


def _date(value: object, default: dt.date) -> str:
    day = value if isinstance(value, dt.date) else default
    return f"DATE({day.year},{day.month},{day.day})"


def _fill_dictionary(sheet: Worksheet, schema: Schema) -> None:
    table = data_dictionary(schema)
    sheet.append(list(DICTIONARY_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for row in table.itertuples(index=False):
        sheet.append([str(v) for v in row])
    widths = {"name": 24, "label": 40, "allowed": 50, "description": 60}
    for position, column in enumerate(DICTIONARY_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = widths.get(column, 12)
    sheet.freeze_panes = "B2"
