"""Reading a summary-table file (YAML) into :class:`~kypho.audit.model.SummaryTables`.

The format is documented in ``docs/audit.md``; ``kypho/data/summary_example.yaml`` is a
small example and ``kypho/data/paper_tables.yaml`` the transcription of the paper's
Tables 1–7. Every problem is reported as :class:`~kypho.errors.AuditError` with the
table, the row and the field it is in, what was received and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, cast, get_args

from kypho.audit.model import (
    CategoricalRow,
    ContinuousRow,
    CountCell,
    CountRow,
    DeclaredTest,
    Group,
    Level,
    MeanSDCell,
    NRow,
    PercentRow,
    Row,
    Scale,
    SourceRef,
    SummaryTable,
    SummaryTables,
    Within,
)
from kypho.audit.parsing import (
    parse_count,
    parse_mean_sd,
    parse_number,
    parse_p,
    parse_ratio,
    parse_statistic,
    parse_within,
    statistic_name,
)
from kypho.errors import AuditError, InputFileError
from kypho.safe_yaml import MAX_BYTES, load_yaml

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "load_paper_tables",
    "load_summary_tables",
    "paper_tables_path",
    "parse_summary_tables",
]

FORMAT_NAME = "kypho-summary-tables"
FORMAT_VERSION = 1

_KINDS = ("n", "continuous", "binary", "categorical", "ordinal")
_TESTS: tuple[str, ...] = get_args(DeclaredTest)
_SCALE_TYPES = ("continuous", "integer", "binary")
_TOP_KEYS = {"format", "format_version", "study", "tables"}
_STUDY_KEYS = {"title", "source", "design", "alpha", "alternative", "methods", "groups"}
_TABLE_KEYS = {
    "number",
    "title",
    "statistic_column",
    "p_column",
    "test",
    "footnotes",
    "exhaustive_sections",
    "rows",
}
_ROW_KEYS = {
    "label",
    "section",
    "kind",
    "cells",
    "levels",
    "n",
    "test",
    "statistic",
    "p",
    "scale",
    "unit",
    "within",
    "source",
}
_SCALE_KEYS = {"type", "min", "max", "assumed", "note"}


def paper_tables_path() -> Path:
    """Path of the bundled transcription of the paper's Tables 1–7."""
    return Path(str(resources.files("kypho").joinpath("data", "paper_tables.yaml")))


def load_paper_tables() -> SummaryTables:
    """The paper's Tables 1–7 exactly as published (``kypho/data/paper_tables.yaml``).

    Returns
    -------
    SummaryTables
        Two groups (experimental, control; 55 each) and seven tables.

    Examples
    --------
    >>> paper = load_paper_tables()
    >>> [t.number for t in paper.tables]
    [1, 2, 3, 4, 5, 6, 7]
    >>> paper.tables[1].rows[0].p.text
    '0.528'
    """
    return load_summary_tables(paper_tables_path())


def load_summary_tables(path: str | Path) -> SummaryTables:
    """Read a summary-table YAML file.

    Raises
    ------
    InputFileError
        When the file cannot be read.
    AuditError
        When it is not valid YAML or does not follow the format.
    """
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise AuditError(
                f"{p.name}: larger than {MAX_BYTES:,} bytes, too large for a summary-table file"
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read summary-table file {str(p)!r}: {exc}") from exc
    data = load_yaml(raw, p.name, AuditError)
    return parse_summary_tables(data, source=p.name)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AuditError(f"{where}: expected a mapping (got {type(value).__name__} {value!r})")
    return cast(Mapping[str, Any], value)


def _unknown_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise AuditError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _string(value: object, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise AuditError(f"{where}: expected a non-empty text (got {value!r})")
    return value.strip()


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AuditError(f"{where}: expected a whole number of at least 1 (got {value!r})")
    return value


def _test(value: object, default: DeclaredTest, where: str) -> DeclaredTest:
    if value is None:
        return default
    if value not in _TESTS:
        raise AuditError(f"{where}: unknown test {value!r} (allowed: {', '.join(_TESTS)})")
    return cast(DeclaredTest, value)


def parse_summary_tables(data: object, *, source: str = "<data>") -> SummaryTables:
    """Build :class:`SummaryTables` from already parsed YAML/JSON data.

    Parameters
    ----------
    data : mapping
        The file's content (see ``docs/audit.md``).
    source : str
        Name of the file, used in error messages.

    Raises
    ------
    AuditError
        When ``data`` does not follow the format; the message names the place.
    """
    top = _mapping(data, source)
    _unknown_keys(top, _TOP_KEYS, source)
    if top.get("format") != FORMAT_NAME:
        raise AuditError(f"{source}: 'format' must be {FORMAT_NAME!r} (got {top.get('format')!r})")
    if top.get("format_version") != FORMAT_VERSION:
        raise AuditError(
            f"{source}: 'format_version' must be {FORMAT_VERSION} "
            f"(got {top.get('format_version')!r})"
        )
    study = _mapping(top.get("study"), f"{source}: study")
    _unknown_keys(study, _STUDY_KEYS, f"{source}: study")
    groups = _groups(study.get("groups"), f"{source}: study.groups")
    alpha = _alpha(study.get("alpha", "0.05"), f"{source}: study.alpha")
    alternative = study.get("alternative", "two-sided")
    if alternative != "two-sided":
        raise AuditError(
            f"{source}: study.alternative must be 'two-sided' (got {alternative!r}); "
            "one-sided published tests are not supported yet"
        )
    raw_tables = top.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        raise AuditError(f"{source}: 'tables' must be a non-empty list (got {raw_tables!r})")
    tables = tuple(_table(t, groups, f"{source}: tables[{i}]") for i, t in enumerate(raw_tables))
    numbers = [t.number for t in tables]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise AuditError(f"{source}: table number(s) used twice: {duplicates}")
    return SummaryTables(
        title=_string(study.get("title"), f"{source}: study.title"),
        source=_string(study.get("source"), f"{source}: study.source", required=False),
        groups=groups,
        tables=tables,
        alpha=alpha,
        alternative="two-sided",
        methods=_string(study.get("methods"), f"{source}: study.methods", required=False),
    )


def _alpha(value: object, where: str) -> float:
    try:
        alpha = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        alpha = float("nan")
    if not 0.0 < alpha < 1.0:
        raise AuditError(f"{where}: expected a number between 0 and 1 (got {value!r})")
    return alpha


def _groups(value: object, where: str) -> tuple[Group, Group]:
    if not isinstance(value, list) or len(value) != 2:
        raise AuditError(f"{where}: expected a list of exactly 2 groups (got {value!r})")
    out = []
    for i, g in enumerate(value):
        gw = f"{where}[{i}]"
        m = _mapping(g, gw)
        _unknown_keys(m, {"key", "label", "n"}, gw)
        key = _string(m.get("key"), f"{gw}.key")
        out.append(
            Group(
                key,
                _string(m.get("label", key), f"{gw}.label"),
                _positive_int(m.get("n"), f"{gw}.n"),
            )
        )
    if out[0].key == out[1].key:
        raise AuditError(f"{where}: the two groups have the same key {out[0].key!r}")
    return out[0], out[1]


def _table(value: object, groups: tuple[Group, Group], where: str) -> SummaryTable:
    m = _mapping(value, where)
    _unknown_keys(m, _TABLE_KEYS, where)
    number = m.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise AuditError(f"{where}.number: expected a table number of at least 1 (got {number!r})")
    tw = f"{where.split(':')[0]}: table {number}"
    stat_col = m.get("statistic_column")
    default_stat: str | None = None
    if stat_col is not None and str(stat_col).strip():
        default_stat = statistic_name(str(stat_col), f"{tw}, statistic_column")
    default_test = _test(m.get("test"), "unknown", f"{tw}, test")
    raw_rows = m.get("rows")
    if not isinstance(raw_rows, list) or not raw_rows:
        raise AuditError(f"{tw}: 'rows' must be a non-empty list (got {raw_rows!r})")
    rows = tuple(
        _row(r, groups, default_stat, default_test, f"{tw}, rows[{i}]")
        for i, r in enumerate(raw_rows)
    )
    footnotes = m.get("footnotes") or []
    sections = m.get("exhaustive_sections") or []
    if not isinstance(footnotes, list) or not all(isinstance(f, str) for f in footnotes):
        raise AuditError(f"{tw}, footnotes: expected a list of texts (got {footnotes!r})")
    if not isinstance(sections, list) or not all(isinstance(f, str) for f in sections):
        raise AuditError(
            f"{tw}, exhaustive_sections: expected a list of section names (got {sections!r})"
        )
    continuous = {r.label for r in rows if isinstance(r, ContinuousRow)}
    for r in rows:
        if not isinstance(r, ContinuousRow):
            continue
        for cell in r.cells.values():
            if cell.within is not None and cell.within.versus not in continuous:
                raise AuditError(
                    f"{tw}, row {r.label!r}, within.versus: {cell.within.versus!r} is not a "
                    f"continuous row of this table (rows: {', '.join(sorted(continuous))})"
                )
    known_sections = {r.section for r in rows}
    for s in sections:
        if s not in known_sections:
            raise AuditError(f"{tw}, exhaustive_sections: no row has section {s!r}")
    return SummaryTable(
        number=number,
        title=_string(m.get("title"), f"{tw}, title"),
        rows=rows,
        statistic_column=None if stat_col is None else str(stat_col),
        p_column=str(m.get("p_column", "P")),
        footnotes=tuple(f.strip() for f in footnotes),
        exhaustive_sections=tuple(sections),
    )


def _row(
    value: object,
    groups: tuple[Group, Group],
    default_stat: str | None,
    default_test: DeclaredTest,
    where: str,
) -> Row:
    m = _mapping(value, where)
    _unknown_keys(m, _ROW_KEYS, where)
    label = _string(m.get("label"), f"{where}.label")
    rw = f"{where.rsplit(',', 1)[0]}, row {label!r}"
    kind = m.get("kind")
    if kind not in _KINDS:
        raise AuditError(f"{rw}: unknown kind {kind!r} (allowed: {', '.join(_KINDS)})")
    section = m.get("section")
    if section is not None and not isinstance(section, str):
        raise AuditError(f"{rw}, section: expected a text (got {section!r})")
    keys = [g.key for g in groups]
    ns = _row_n(m.get("n"), groups, rw)
    source = _source_ref(m.get("source"), rw)
    if kind == "n":
        cells = _cells(m.get("cells"), keys, rw)
        return NRow(
            label,
            {k: parse_count(v, f"{rw}, {k}")[0] for k, v in cells.items()},
            section,
            source=source,
        )
    test = _test(m.get("test"), default_test, f"{rw}, test")
    stat_text = m.get("statistic")
    statistic = (
        None if stat_text is None else parse_statistic(stat_text, default_stat, f"{rw}, statistic")
    )
    p = None if m.get("p") is None else parse_p(m.get("p"), f"{rw}, p")
    common: dict[str, Any] = {
        "label": label,
        "section": section,
        "test": test,
        "statistic": statistic,
        "statistic_text": None if stat_text is None else str(stat_text),
        "p": p,
        "source": source,
    }
    if kind == "continuous":
        if m.get("levels") is not None:
            raise AuditError(f"{rw}: a continuous row has no 'levels'")
        return ContinuousRow(
            **common,
            cells=_mean_sd_cells(m, keys, ns, rw),
            scale=_scale(m.get("scale"), rw),
            unit=str(m.get("unit") or ""),
        )
    if m.get("within") is not None:
        raise AuditError(f"{rw}: 'within' is only for continuous rows")
    if m.get("scale") is not None:
        raise AuditError(f"{rw}: 'scale' is only for continuous rows")
    if kind == "binary":
        cells = _cells(m.get("cells"), keys, rw)
        return CountRow(
            **common, cells={k: _count_cell(v, ns[k], f"{rw}, {k}") for k, v in cells.items()}
        )
    return CategoricalRow(**common, levels=_levels(m, keys, ns, rw), ordinal=kind == "ordinal")


def _source_ref(value: object, where: str) -> SourceRef | None:
    """Where an extracted row came from: ``{page, line, text}`` (written by extraction)."""
    if value is None:
        return None
    m = _mapping(value, f"{where}, source")
    _unknown_keys(m, {"page", "line", "text"}, f"{where}, source")
    return SourceRef(
        _positive_int(m.get("page"), f"{where}, source.page"),
        _positive_int(m.get("line"), f"{where}, source.line"),
        _string(m.get("text"), f"{where}, source.text"),
    )


def _row_n(value: object, groups: tuple[Group, Group], where: str) -> dict[str, int]:
    ns = {g.key: g.n for g in groups}
    if value is None:
        return ns
    m = _mapping(value, f"{where}, n")
    for k, v in m.items():
        if k not in ns:
            raise AuditError(f"{where}, n: unknown group {k!r} (groups: {', '.join(ns)})")
        ns[k] = _positive_int(v, f"{where}, n.{k}")
    return ns


def _cells(value: object, keys: list[str], where: str) -> dict[str, Any]:
    m = _mapping(value, f"{where}, cells")
    if set(m) != set(keys):
        raise AuditError(
            f"{where}, cells: expected one cell per group ({', '.join(keys)}) "
            f"(got {', '.join(map(str, m)) or 'none'})"
        )
    return {k: m[k] for k in keys}


def _mean_sd_cells(
    m: Mapping[str, Any], keys: list[str], ns: dict[str, int], where: str
) -> dict[str, MeanSDCell]:
    cells = _cells(m.get("cells"), keys, where)
    within_texts: dict[str, Any] = {}
    versus = ""
    wtest: DeclaredTest = "paired-t"
    within_raw = m.get("within")
    if within_raw is not None:
        wm = _mapping(within_raw, f"{where}, within")
        _unknown_keys(wm, {"versus", "cells", "test"}, f"{where}, within")
        versus = _string(wm.get("versus"), f"{where}, within.versus")
        within_texts = _cells(wm.get("cells"), keys, f"{where}, within")
        wtest = _test(wm.get("test"), "paired-t", f"{where}, within.test")
    out = {}
    for k, v in cells.items():
        cw = f"{where}, {k}"
        if isinstance(v, Mapping):
            _unknown_keys(v, {"mean", "sd", "n"}, cw)
            mean, sd = (
                parse_number(v.get("mean"), f"{cw}.mean"),
                parse_number(v.get("sd"), f"{cw}.sd"),
            )
            marked = mean.marked or sd.marked
            text = f"{mean.text}±{sd.text}"
            n = ns[k] if v.get("n") is None else _positive_int(v.get("n"), f"{cw}.n")
        else:
            mean, sd, marked = parse_mean_sd(v, cw)
            text, n = str(v).strip(), ns[k]
        within = None
        if k in within_texts:
            wtext = within_texts[k]
            stat, p = parse_within(wtext, "t", f"{where}, within.{k}")
            within = Within(str(wtext).strip(), stat, p, versus, wtest)
        out[k] = MeanSDCell(text, n, mean, sd, marked, within)
    return out


def _count_cell(value: object, n: int, where: str) -> CountCell:
    if isinstance(value, Mapping):
        _unknown_keys(value, {"count", "percent", "n"}, where)
        count = value.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise AuditError(
                f"{where}.count: expected a whole number of at least 0 (got {count!r})"
            )
        pct = value.get("percent")
        percent = None if pct is None else parse_number(pct, f"{where}.percent")
        cn = n if value.get("n") is None else _positive_int(value.get("n"), f"{where}.n")
        text = str(count) if percent is None else f"{count}({percent.text})"
        return CountCell(text, cn, count, percent)
    count, percent = parse_count(value, where)
    return CountCell(str(value).strip(), n, count, percent)


def _levels(
    m: Mapping[str, Any], keys: list[str], ns: dict[str, int], where: str
) -> tuple[Level, ...]:
    raw = m.get("levels")
    if not isinstance(raw, list) or len(raw) < 2:
        raise AuditError(f"{where}, levels: expected a list of at least 2 levels (got {raw!r})")
    if all(isinstance(x, str) for x in raw):
        # Levels named in a list, counts printed as a ratio per group ("12:43").
        cells = _cells(m.get("cells"), keys, where)
        counts = {k: parse_ratio(v, len(raw), f"{where}, {k}") for k, v in cells.items()}
        return tuple(
            Level(str(lab), {k: CountCell(str(counts[k][i]), ns[k], counts[k][i]) for k in keys})
            for i, lab in enumerate(raw)
        )
    if m.get("cells") is not None:
        raise AuditError(
            f"{where}: give counts either in 'cells' (as '12:43') or per level, not both"
        )
    out = []
    for i, lv in enumerate(raw):
        lw = f"{where}, levels[{i}]"
        lm = _mapping(lv, lw)
        _unknown_keys(lm, {"label", "cells", "percent_row"}, lw)
        label = _string(lm.get("label"), f"{lw}.label")
        lw = f"{where}, level {label!r}"
        cells = _cells(lm.get("cells"), keys, lw)
        prow = None
        if lm.get("percent_row") is not None:
            pm = _mapping(lm.get("percent_row"), f"{lw}, percent_row")
            _unknown_keys(pm, {"label", "cells"}, f"{lw}, percent_row")
            plabel = _string(pm.get("label"), f"{lw}, percent_row.label")
            pcells = _cells(pm.get("cells"), keys, f"{lw}, percent_row")
            prow = PercentRow(
                plabel, {k: parse_number(v, f"{lw}, percent_row.{k}") for k, v in pcells.items()}
            )
        out.append(
            Level(label, {k: _count_cell(v, ns[k], f"{lw}, {k}") for k, v in cells.items()}, prow)
        )
    return tuple(out)


def _scale(value: object, where: str) -> Scale:
    if value is None:
        return Scale()
    m = _mapping(value, f"{where}, scale")
    _unknown_keys(m, _SCALE_KEYS, f"{where}, scale")
    stype = m.get("type", "continuous")
    if stype not in _SCALE_TYPES:
        raise AuditError(
            f"{where}, scale.type: unknown scale {stype!r} (allowed: {', '.join(_SCALE_TYPES)})"
        )
    bounds: list[float | None] = []
    for name in ("min", "max"):
        b = m.get(name)
        if b is not None and (isinstance(b, bool) or not isinstance(b, int | float)):
            raise AuditError(f"{where}, scale.{name}: expected a number (got {b!r})")
        bounds.append(None if b is None else float(b))
    lo, hi = bounds
    if lo is not None and hi is not None and lo >= hi:
        raise AuditError(f"{where}, scale: min must be below max (got min {lo:g}, max {hi:g})")
    if stype == "binary":
        lo, hi = 0.0, 1.0
    assumed = m.get("assumed", False)
    if not isinstance(assumed, bool):
        raise AuditError(f"{where}, scale.assumed: expected true or false (got {assumed!r})")
    return Scale(
        stype, lo, hi, assumed, _string(m.get("note"), f"{where}, scale.note", required=False)
    )
