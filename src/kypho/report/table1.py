"""``kypho.table1``: a Table 1 for a notebook, in one call.

Like tableone's ``TableOne`` or gtsummary's ``tbl_summary``, :func:`table1` takes
the patients and returns a table object: Jupyter displays it (``_repr_html_``),
``print`` shows it as Markdown, and it exports to the report's five formats
(:meth:`TableOne.save` picks the format from the file name). The numbers are the
analysis engine's, laid out by :func:`kypho.report.format.layout`, so a Table 1
made here is the report's Table 1, cell for cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kypho.analysis.model import Table
from kypho.errors import AnalysisError
from kypho.report.format import Grid, layout
from kypho.report.render import TABLE_CSS, to_csv, to_html, to_latex, to_markdown

if TYPE_CHECKING:
    import pandas as pd

    from kypho.schema import Schema

__all__ = ["TableOne", "table1"]

_SUFFIXES = {".md": "md", ".html": "html", ".csv": "csv", ".tex": "tex", ".docx": "docx"}


@dataclass(frozen=True)
class TableOne:
    """A characteristics table: the computed :class:`~kypho.analysis.Table` and its layout.

    Attributes
    ----------
    table
        The numbers (cells, tests, SMDs), for further computation.
    grid
        The table as printed.
    """

    table: Table
    grid: Grid

    def __repr__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return f"<style>{TABLE_CSS}</style>" + self.to_html()

    def to_markdown(self) -> str:
        """The table as GitHub-flavoured Markdown, with caption and footnotes."""
        return to_markdown(self.grid)

    def to_html(self) -> str:
        """An HTML ``<table class="kypho">`` with its footnotes (style: ``TABLE_CSS``)."""
        return to_html(self.grid)

    def to_csv(self) -> str:
        """The printed table as CSV text."""
        return to_csv(self.grid)

    def to_latex(self) -> str:
        """A booktabs ``table`` environment."""
        return to_latex(self.grid)

    def to_frame(self) -> pd.DataFrame:
        """The numbers, one line per row and group (as ``results.csv``)."""
        return self.table.to_frame()

    def save(self, path: str | Path) -> Path:
        """Write the table to ``path``; the format follows the suffix (.md, .html, .csv, .tex, .docx).

        Raises
        ------
        AnalysisError
            If the suffix is none of those.
        """
        target = Path(path)
        kind = _SUFFIXES.get(target.suffix.lower())
        if kind is None:
            raise AnalysisError(
                f"cannot tell the format of {target.name!r}; give a file ending in "
                + ", ".join(_SUFFIXES)
            )
        if kind == "docx":
            from kypho.report.word import write_docx

            return write_docx([self.grid], target)
        text = {
            "md": self.to_markdown,
            "html": lambda: (
                '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<style>{TABLE_CSS}</style></head><body>\n{self.to_html()}\n</body></html>\n"
            ),
            "csv": self.to_csv,
            "tex": self.to_latex,
        }[kind]()
        target.write_text(text, encoding="utf-8")
        return target


def table1(
    data: pd.DataFrame,
    variables: Sequence[str] | None = None,
    *,
    schema: Schema | None = None,
    title: str | None = None,
    smd: bool = True,
) -> TableOne:
    """Baseline characteristics by group, as a displayable, exportable table.

    Parameters
    ----------
    data
        Validated patient records (``kypho.validate(...).data``), one row per
        patient; derived variables the table needs are derived first. Not modified.
    variables
        Schema variables to show, in order (numbers as mean ± SD with a t test,
        booleans and categories as n (%) with a χ² test); ``None``: the rows of
        Table 1 of the analysis plan.
    schema
        The study schema; ``None`` uses the built-in one.
    title
        Caption; ``None``: the plan's title for Table 1, or "Patient characteristics".
    smd
        Whether to show standardised mean differences.

    Returns
    -------
    TableOne

    Raises
    ------
    AnalysisError
        If a variable is not in the schema, or a group has no patient.

    Examples
    --------
    >>> from kypho.analysis.demo import demo_cohort
    >>> from kypho.validate import validate
    >>> t = table1(validate(demo_cohort(40, seed=1)).data, ["age", "sex"])
    >>> t.grid.header[:3]
    ('', 'Experimental group', 'Control group')
    >>> [row.cells[0] for row in t.grid.rows][:2]
    ['Number', 'Age (yr)']
    """
    from dataclasses import replace

    from kypho.analysis import analyze, load_plan
    from kypho.analysis.plan import RowSpec, TableSpec
    from kypho.measures import derive
    from kypho.schema import load_schema

    schema = schema if schema is not None else load_schema()
    plan = load_plan()
    planned = plan.tables[0] if plan.tables else None
    if variables is None:
        if planned is None:
            raise AnalysisError("the analysis plan has no table to take Table 1's rows from")
        spec = replace(planned, smd=smd, title=title or planned.title)
    else:
        unknown = [v for v in variables if v not in schema.variables]
        if unknown:
            raise AnalysisError(
                f"table1: {', '.join(map(repr, unknown))} "
                f"{'is' if len(unknown) == 1 else 'are'} not variables of the schema "
                f"{schema.study!r}"
            )
        rows = (RowSpec("n", label="Number"), *(RowSpec("variable", name=v) for v in variables))
        spec = TableSpec(1, title or "Patient characteristics", rows, smd=smd)
    needed = {row.name for row in spec.rows if row.name}
    if any(name not in data.columns and schema[name].derived for name in needed):
        data = derive(data, schema)
    result = analyze(data, schema, replace(plan, tables=(spec,)))
    table = result.tables[0]
    return TableOne(table, layout(table, alpha=result.alpha))
