"""From a paper's text to what the audit checks: summary tables and inline results.

:func:`extract` reads a :class:`~kypho.audit.document.Document` and returns an
:class:`Extraction`: the summary tables in the summary-table format (the same data
``kypho/data/paper_tables.yaml`` holds by hand; ``to_yaml()`` writes it for correction
and re-auditing), the results printed in running text
(:class:`~kypho.audit.inline.InlineResult`), and the lines it could not read, each
with its reason. Every value keeps the page and line it came from.

How a table is read
-------------------
A line beginning "Table N" opens a table. The lines after it, up to the column header,
are its title. The header is the first line ending in a P column ("P", "P value",
"P▽"); what stands before the P and a statistic column ("t / t'", "t", "χ²", "F",
"Z", "U") names the two groups. Each later line is split from the right into values —
``mean±SD`` (with a ``*`` mark), ``n(%)``, ``a:b`` ratios, whole counts, a named
statistic (``U = 392.00``), ``-`` for a statistic not printed, and P — and the text
left of the values is the row's label. A line of values without a label continues the
row above (a within-group "t = 4.075, P < 0.05" printed under a cell). A label without
values is a section heading. The table ends at its footnotes (lines that begin with a
footnote mark — ``▽ * † ‡ §`` — or "Values are", or that define abbreviations), which
run to the next heading.

What each row is, is read from its values: two ``mean±SD`` cells make a continuous
row; two whole numbers with a P a yes/no count row; ``a:b`` ratios a two-level
categorical row (levels from the label: "Gender (male to female)"); a row with a P but
no cells opens a categorical row whose levels are the rows after it (ordinal when its
statistic is U or its test Mann–Whitney); a row of percentages after such levels is
the percentage row of the level it matches; "Number 55 55" gives the group sizes.
The test comes from the statistic column ("t / t'" → the paper's t/t′ rule) and from
the footnotes ("P value of the age is calculated by variance analysis; others … by
chi-square test"). A within-group comparison is against the table's first row (the
baseline), as the star convention of such tables says.

Measurement scales are not printed in tables. kypho recognises common clinical scales
by label from ``kypho/data/clinical_scales.yaml`` (e.g. VAS 0–10, read as whole points
— marked ``assumed``, as in the hand transcription) and, for a unit of time, volume,
mass, length or percentage in the label, a lower bound of 0. Everything else is left
continuous and unbounded; ``to_yaml()`` lets the user say more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from kypho.audit.document import Document, Line
from kypho.audit.inline import InlineResult, find_inline
from kypho.audit.loader import FORMAT_NAME, FORMAT_VERSION, parse_summary_tables
from kypho.audit.model import SummaryTables
from kypho.errors import AuditError

__all__ = ["Extraction", "Unparsed", "extract"]


@dataclass(frozen=True)
class Unparsed:
    """A line the extraction could not use, and why."""

    page: int
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Extraction:
    """What was read from a paper.

    Attributes
    ----------
    source : str
        The file.
    data : dict or None
        The summary tables in the summary-table format (None when the paper has no
        table kypho could read); ``tables`` parses it.
    inline : tuple of InlineResult
        Results printed in the running text (outside the tables).
    unparsed : tuple of Unparsed
        Lines inside tables that could not be read, with the reason.
    """

    source: str
    data: dict[str, Any] | None
    inline: tuple[InlineResult, ...]
    unparsed: tuple[Unparsed, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def tables(self) -> SummaryTables | None:
        """The extracted tables as :class:`SummaryTables`, or None."""
        if self.data is None:
            return None
        return parse_summary_tables(self.data, source=self.source)

    def to_yaml(self) -> str:
        """The extracted tables as a summary-table YAML file, to correct and audit again."""
        head = (
            f"# Extracted by kypho audit from {self.source}.\n"
            "# Check every value against the paper; correct what is wrong, add what the\n"
            "# paper states elsewhere (a scale, a test), then: kypho audit THIS_FILE.yaml\n"
        )
        for u in self.unparsed:
            head += f"# NOT READ (page {u.page}, line {u.line}): {u.text!r}: {u.reason}\n"
        if self.data is None:
            return head + "# No summary table was found.\n"
        return head + yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)


# --- tokens --------------------------------------------------------------------------

_NUMBER = r"[-−]?\d+(?:\.\d+)?"
_P_TOKEN = re.compile(r"^(?:[<>≤≥]=?)?(?:\d*\.\d+|[01])\*?$")
_MEAN_SD = re.compile(rf"^{_NUMBER}±\d+(?:\.\d+)?\*?$")
_COUNT_PCT = re.compile(r"^\d+\(\d+(?:\.\d+)?\)\*?$")
_RATIO = re.compile(r"^\d+:\d+$")
_INT = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^\d+\.\d+$")
_NAMED_STAT = re.compile(rf"^(?:U|Z|z|t|F|H|χ²|χ2|X2)={_NUMBER}$")
_WITHIN = re.compile(rf"^t={_NUMBER},P[<>=≤≥]\d*\.?\d+$")
_TABLE_START = re.compile(r"^\s*Table\s+(\d+)\b[.:]?\s*(.*)$")
_HEADER_END = re.compile(
    r"^(?P<before>.*?)\s*(?P<stat>t\s*/\s*t['′’]|t\s*/\s*χ\s*[2²]|t|χ\s*[2²]|F|Z|U|statistic)?"
    r"\s*(?P<p>P\s*(?:value)?[▽†‡*]?)\s*$"
)
_FOOTNOTE_MARK = re.compile(r"^\s*(?:[▽*†‡§¶]|Values are|Data are|Abbreviations?\b|Note[s]?[:.])")
_ABBREVIATIONS = re.compile(r"^\s*\w{1,5}(?:\s+[\w-]+)+(?:\s*[,;]\s*\w{1,5}(?:\s+[\w-]+)+)+\s*\.?$")
_FOOTNOTE_TEST = re.compile(
    r"P\s*value\s*of\s*(?:the\s+)?(?P<what>.+?)\s+(?:is|are|was|were)\s+calculated\s+by\s+(?P<test>[^;.]+)",
    re.IGNORECASE,
)
_FOOTNOTE_OTHERS = re.compile(
    r"(?:others?|another|the rest|remaining)\s+(?:is|are|was|were)\s+calculated\s+by\s+(?P<test>[^;.]+)",
    re.IGNORECASE,
)
_N_LABEL = re.compile(
    r"^(?:number(?: of (?:patients|cases|subjects))?|n|no\.(?: of \w+)?|patients|cases)\s*$",
    re.IGNORECASE,
)
_LEVELS = re.compile(r"\((?P<a>[A-Za-z ]+?)\s+(?:to|vs\.?|/)\s+(?P<b>[A-Za-z ]+?)\)")
_UNIT = re.compile(r"\(\s*(?P<unit>[^()±]+?)\s*(?:±\s*SD)?\s*\)\s*$")
_NONNEGATIVE_UNITS = {
    "min", "h", "hour", "hours", "d", "day", "days", "s", "ml", "mL", "l", "L", "g", "mg",
    "kg", "mm", "cm", "m", "%", "yr", "years", "year",
}  # fmt: skip


def _normalise(text: str) -> str:
    """Join the parts of one printed value so that a value is one whitespace token."""
    t = text.replace("−", "-").replace("–", "-")
    t = re.sub(r"\s*±\s*", "±", t)
    t = re.sub(r"(\d)\s+\(\s*(\d+(?:\.\d+)?)\s*\)", r"\1(\2)", t)
    t = re.sub(r"(\d)\s*:\s*(\d)", r"\1:\2", t)
    t = re.sub(r"\bt\s*=\s*(-?\d+(?:\.\d+)?)\s*,\s*P\s*([<>=≤≥])\s*(\d*\.?\d+)", r"t=\1,P\2\3", t)
    t = re.sub(r"(?<![\w(])(U|Z|z|t|F|H|χ²|χ2|X2)\s*=\s*(-?\d)", r"\1=\2", t)
    t = re.sub(r"(^|\s)([<>≤≥]=?)\s+(\d*\.\d+)", r"\1\2\3", t)
    return t


def _original_prefix(text: str, kept: int) -> str:
    """The start of ``text`` holding ``kept`` non-space characters (normalising only
    removes spaces and maps dashes one to one, so the label reads as printed)."""
    count = 0
    for i, ch in enumerate(text):
        if count == kept:
            return text[:i].strip()
        if not ch.isspace():
            count += 1
    return text.strip()


def _split(text: str) -> tuple[str, list[str]]:
    """A body line as (label as printed, value tokens from left to right)."""
    tokens = _normalise(text).split()
    values: list[str] = []
    while tokens:
        tok = tokens[-1]
        if (
            _MEAN_SD.match(tok)
            or _COUNT_PCT.match(tok)
            or _RATIO.match(tok)
            or _NAMED_STAT.match(tok)
            or _WITHIN.match(tok)
            or _P_TOKEN.match(tok)
            or _INT.match(tok)
            or _DECIMAL.match(tok)
            or tok in ("-", "—")
        ):
            values.insert(0, tokens.pop())
        else:
            break
    kept = sum(len(t) for t in tokens)
    return (_original_prefix(text, kept) if tokens else ""), values


def _printed_within(tok: str) -> str:
    m = re.match(r"^t=(?P<t>[-\d.]+),P(?P<c>[<>=≤≥])(?P<p>[\d.]+)$", tok)
    if m is None:  # pragma: no cover - the caller matched _WITHIN
        return tok
    return f"t = {m['t']}, P {m['c']} {m['p']}"


def _printed_stat(tok: str) -> str:
    name, _, value = tok.partition("=")
    return f"{name} = {value}"


# --- clinical scales -------------------------------------------------------------------


@cache
def _scales() -> tuple[tuple[re.Pattern[str], dict[str, Any]], ...]:
    path = resources.files("kypho").joinpath("data", "clinical_scales.yaml")
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["scales"]
    out = []
    for e in entries:
        scale = {k: v for k, v in e.items() if k != "match"}
        out.append((re.compile(e["match"], re.IGNORECASE), scale))
    return tuple(out)


def _scale_for(title: str, label: str, unit: str) -> dict[str, Any] | None:
    where = f"{title} {label}"
    for pattern, scale in _scales():
        if pattern.search(where):
            return dict(scale)
    if unit in _NONNEGATIVE_UNITS:
        return {"type": "continuous", "min": 0}
    return None


# --- tests named in a table ---------------------------------------------------------------

_TEST_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"variance analysis|analysis of variance|anova", re.I), "anova"),
    (re.compile(r"mann[- ]whitney|rank[- ]sum|wilcoxon rank", re.I), "mann-whitney"),
    (re.compile(r"fisher", re.I), "fisher"),
    (re.compile(r"yates|continuity correct", re.I), "yates"),
    (re.compile(r"chi[- ]?square|χ\s*[2²]", re.I), "chi-square"),
    (re.compile(r"welch", re.I), "welch"),
    (re.compile(r"paired", re.I), "paired-t"),
    (re.compile(r"t\s*/\s*t['′’]", re.I), "t/t'"),
    (re.compile(r"\bt[- ]test|student", re.I), "student"),
)


def _test_from_words(text: str) -> str | None:
    for pattern, test in _TEST_WORDS:
        if pattern.search(text):
            return test
    return None


# --- a table's lines into rows ----------------------------------------------------------


@dataclass
class _Row:
    label: str
    values: list[str]
    line: Line
    lines: list[Line]
    section: str | None


@dataclass
class _Table:
    number: int
    title: str
    start: Line
    header: Line | None = None
    groups: tuple[str, str] | None = None
    stat_column: str | None = None
    p_column: str = "P"
    rows: list[_Row] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    end: int = 0


def _group_labels(before: str) -> tuple[str, str] | None:
    text = " ".join(before.split())
    if not text:
        return None
    parts = [p for p in re.split(r"\s{2,}", before.strip()) if p]
    if len(parts) == 2:
        return parts[0], parts[1]
    m = re.match(r"^(?P<a>.+?\bgroups?)\s+(?P<b>.+?\bgroups?)$", text, re.IGNORECASE)
    if m:
        return m["a"], m["b"]
    words = text.split()
    if len(words) % 2 == 0:
        half = len(words) // 2
        return " ".join(words[:half]), " ".join(words[half:])
    return None


def _tables(doc: Document) -> list[_Table]:
    lines = doc.lines
    found: list[_Table] = []
    i = 0
    while i < len(lines):
        m = _TABLE_START.match(lines[i].text)
        if not m:
            i += 1
            continue
        table = _Table(int(m.group(1)), m.group(2).strip(), lines[i])
        title: list[str] = [table.title] if table.title else []
        j = i + 1
        # title lines, then the header
        while j < len(lines):
            text = lines[j].text.strip()
            j += 1
            if not text:
                continue
            h = _HEADER_END.match(text)
            groups = _group_labels(h["before"]) if h and h["before"] else None
            if h and groups:
                table.header = lines[j - 1]
                table.groups = groups
                table.stat_column = " ".join(h["stat"].split()) if h["stat"] else None
                table.p_column = h["p"].replace(" ", "")
                break
            if _TABLE_START.match(text) or len(title) >= 4:
                break
            title.append(text)
        table.title = " ".join(title)
        if table.header is None:
            found.append(table)
            i += 1
            continue
        section: str | None = None
        pending_label: list[Line] = []
        in_notes = False
        while j < len(lines):
            line = lines[j]
            text = line.text.strip()
            if _TABLE_START.match(text):
                break
            j += 1
            if not text:
                continue
            label, values = _split(text)
            if (
                in_notes
                and table.footnotes
                and text[:1].islower()
                and not _ABBREVIATIONS.match(text)
            ):
                table.footnotes[-1] += " " + text  # a footnote wrapped onto this line
                continue
            if _FOOTNOTE_MARK.match(text) or (not values and _ABBREVIATIONS.match(text)):
                in_notes = True
                table.footnotes.append(text)
                continue
            if in_notes:
                j -= 1
                break
            if not values:
                pending_label.append(line)
                continue
            if not label:
                if table.rows:
                    table.rows[-1].values.extend(values)
                    table.rows[-1].lines.append(line)
                continue
            if pending_label:
                if label[:1].islower() and len(pending_label) == 1 and table.rows:
                    label = pending_label[0].text.strip() + " " + label
                else:
                    section = " ".join(p.text.strip() for p in pending_label)
                pending_label = []
            table.rows.append(_Row(label, values, line, [line], section))
        table.end = j
        found.append(table)
        i = max(j, i + 1)
    return found


# --- rows into the summary-table format ---------------------------------------------------


class _Builder:
    def __init__(self, table: _Table, keys: tuple[str, str], ns: dict[str, int] | None) -> None:
        self.t = table
        self.keys = keys
        self.ns = ns
        self.unparsed: list[Unparsed] = []
        self.row_tests: list[tuple[str, str]] = []
        self.default_test: str | None = None
        for note in table.footnotes:
            for m in _FOOTNOTE_TEST.finditer(note):
                test = _test_from_words(m["test"])
                if test:
                    self.row_tests.append((m["what"].strip().lower(), test))
            m2 = _FOOTNOTE_OTHERS.search(note)
            if m2:
                self.default_test = _test_from_words(m2["test"])
        if table.stat_column and self.default_test is None:
            self.default_test = _test_from_words(table.stat_column)

    def _source(self, row: _Row) -> dict[str, Any]:
        return {
            "page": row.line.page,
            "line": row.line.number,
            "text": " / ".join(ln.text.strip() for ln in row.lines),
        }

    def _skip(self, row: _Row, reason: str) -> None:
        self.unparsed.append(
            Unparsed(row.line.page, row.line.number, row.line.text.strip(), reason)
        )

    def _row_test(self, label: str) -> str | None:
        low = label.lower()
        for what, test in self.row_tests:
            if (
                low.startswith(what)
                or what.startswith(low)
                or re.search(rf"\b{re.escape(what)}\b", low)
            ):
                return test
        return None

    def build(self) -> dict[str, Any]:
        out_rows: list[dict[str, Any]] = []
        baseline: str | None = None
        open_cat: dict[str, Any] | None = None
        for row in self.t.rows:
            if open_cat is not None and open_cat["levels"] and self.percent_row(row, open_cat):
                continue
            entry = self._row(row, baseline, open_cat)
            if entry is None:
                continue
            if entry.get("_level"):
                continue
            if entry["kind"] == "continuous" and baseline is None:
                baseline = entry["label"]
            open_cat = (
                entry if entry["kind"] in ("categorical", "ordinal") and "levels" in entry else None
            )
            out_rows.append(entry)
        exhaustive = self._exhaustive(out_rows)
        table: dict[str, Any] = {"number": self.t.number, "title": self.t.title}
        table["statistic_column"] = self.t.stat_column
        table["p_column"] = self.t.p_column
        if self.default_test:
            table["test"] = self.default_test
        if self.t.footnotes:
            table["footnotes"] = list(self.t.footnotes)
        if exhaustive:
            table["exhaustive_sections"] = exhaustive
        table["rows"] = out_rows
        return table

    def _exhaustive(self, rows: list[dict[str, Any]]) -> list[str]:
        """Sections whose yes/no rows add up to every patient of each group."""
        if self.ns is None:
            return []
        sections: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            if r.get("section") and r["kind"] == "binary":
                sections.setdefault(r["section"], []).append(r)
        out = []
        for name, members in sections.items():
            if len(members) < 2:
                continue
            try:
                sums = {
                    k: sum(int(str(m["cells"][k]).split("(")[0]) for m in members)
                    for k in self.keys
                }
            except ValueError:
                continue
            if all(sums[k] == self.ns[k] for k in self.keys):
                out.append(name)
        return out

    def _row(
        self, row: _Row, baseline: str | None, open_cat: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        vals = list(row.values)
        label = row.label
        base: dict[str, Any] = {"label": label}
        if row.section:
            base["section"] = row.section
        cells: list[str] = []
        within: list[str | None] = []
        while (
            vals
            and len(cells) < 2
            and (
                _MEAN_SD.match(vals[0])
                or _COUNT_PCT.match(vals[0])
                or _RATIO.match(vals[0])
                or _INT.match(vals[0])
            )
        ):
            cells.append(vals.pop(0))
            if vals and _WITHIN.match(vals[0]):
                within.append(_printed_within(vals.pop(0)))
            else:
                within.append(None)
        # where the layout put a within-group "t = …, P …" after the row, it belongs to
        # the starred cells, in order
        trailing = [_printed_within(v) for v in vals if _WITHIN.match(v)]
        vals = [v for v in vals if not _WITHIN.match(v)]
        for i, cell in enumerate(cells):
            if trailing and within[i] is None and cell.endswith("*"):
                within[i] = trailing.pop(0)
        if trailing:
            self._skip(row, f"a within-group result with no starred cell to go with: {trailing[0]}")
            return None
        if len(cells) == 1:
            self._skip(row, "only one group's value could be read")
            return None
        rest = vals
        stat: str | None = None
        p: str | None = None
        if rest:
            p_tok = rest[-1]
            if _P_TOKEN.match(p_tok) or _INT.match(p_tok):
                p = p_tok
                rest = rest[:-1]
        if rest:
            s = rest[-1]
            stat = _printed_stat(s) if _NAMED_STAT.match(s) else s
            rest = rest[:-1]
        if rest:
            self._skip(row, f"values left over after the cells, statistic and P: {' '.join(rest)}")
            return None
        src = self._source(row)
        if not cells:
            if p is None:
                self._skip(row, "a row without group values or P")
                return None
            entry = dict(base)
            named_u = stat is not None and stat.startswith("U ")
            test = self._row_test(label) or ("mann-whitney" if named_u else self.default_test)
            entry["kind"] = "ordinal" if (named_u or test == "mann-whitney") else "categorical"
            if test:
                entry["test"] = test
            if stat is not None:
                entry["statistic"] = stat
            entry["p"] = p
            entry["levels"] = []
            entry["source"] = src
            return entry
        if all(_MEAN_SD.match(c) for c in cells):
            entry = dict(base)
            entry["kind"] = "continuous"
            unit = _UNIT.search(label)
            unit_text = unit["unit"].strip() if unit else ""
            if unit_text:
                entry["unit"] = unit_text
            entry["cells"] = dict(zip(self.keys, cells, strict=True))
            if any(within) and baseline is None:
                self._skip(
                    row,
                    "a within-group result on the table's first row: no earlier row to compare it with",
                )
                return None
            if any(within):
                entry["within"] = {
                    "versus": baseline,
                    "cells": {
                        k: w for k, w in zip(self.keys, within, strict=True) if w is not None
                    },
                }
            self._test_stat_p(entry, label, stat, p)
            scale = _scale_for(self.t.title, label, unit_text)
            if scale:
                entry["scale"] = scale
            entry["source"] = src
            return entry
        if all(_RATIO.match(c) for c in cells):
            entry = dict(base)
            entry["kind"] = "categorical"
            lv = _LEVELS.search(label)
            entry["levels"] = [lv["a"].strip(), lv["b"].strip()] if lv else ["level 1", "level 2"]
            entry["cells"] = dict(zip(self.keys, cells, strict=True))
            self._test_stat_p(entry, label, stat, p)
            entry["source"] = src
            return entry
        if (
            p is None
            and stat is None
            and all(_INT.match(c) for c in cells)
            and _N_LABEL.match(label)
        ):
            entry = dict(base)
            entry["kind"] = "n"
            entry["cells"] = dict(zip(self.keys, cells, strict=True))
            entry["source"] = src
            return entry
        if p is None and stat is None and open_cat is not None:
            return self._level(row, open_cat, cells)
        if p is None and stat is None and all(_DECIMAL.match(c) or _INT.match(c) for c in cells):
            self._skip(row, "group values without a P, after no categorical row")
            return None
        entry = dict(base)
        entry["kind"] = "binary"
        entry["cells"] = dict(zip(self.keys, cells, strict=True))
        self._test_stat_p(entry, label, stat, p)
        entry["source"] = src
        return entry

    def _test_stat_p(
        self, entry: dict[str, Any], label: str, stat: str | None, p: str | None
    ) -> None:
        """The row's test (from the footnotes), its printed statistic and P, where printed."""
        test = self._row_test(label)
        if test:
            entry["test"] = test
        if stat is not None:
            entry["statistic"] = stat
        if p is not None:
            entry["p"] = p

    def _level(self, row: _Row, cat: dict[str, Any], cells: list[str]) -> dict[str, Any]:
        levels: list[dict[str, Any]] = cat["levels"]
        cat["source"]["text"] += " / " + row.line.text.strip()
        levels.append({"label": row.label, "cells": dict(zip(self.keys, cells, strict=True))})
        return {"_level": True}

    def percent_row(self, row: _Row, cat: dict[str, Any]) -> bool:
        """Attach "Leakage rate(%) 3.6 16.4" to the level whose counts it matches."""
        if (
            self.ns is None
            or len(row.values) != 2
            or not re.search(r"%|rate|percent", row.label, re.I)
        ):
            return False
        try:
            pcts = [float(v) for v in row.values]
        except ValueError:
            return False
        for level in cat["levels"]:
            try:
                counts = [int(str(level["cells"][k]).split("(")[0]) for k in self.keys]
            except (KeyError, ValueError):
                continue
            ok = all(
                abs(100.0 * c / self.ns[k] - pc) <= 0.5 * 10.0 ** (-_decimals(v)) + 1e-9
                for c, k, pc, v in zip(counts, self.keys, pcts, row.values, strict=True)
            )
            if ok:
                level["percent_row"] = {
                    "label": row.label,
                    "cells": dict(zip(self.keys, row.values, strict=True)),
                }
                cat["source"]["text"] += " / " + row.line.text.strip()
                return True
        return False


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _group_keys(labels: tuple[str, str]) -> tuple[str, str]:
    keys = []
    for lab in labels:
        words = re.findall(r"[A-Za-z0-9]+", lab.lower())
        words = [w for w in words if w not in ("group", "groups", "the")] or words or ["group"]
        keys.append(words[0])
    if keys[0] == keys[1]:
        return "group1", "group2"
    return keys[0], keys[1]


def _group_sizes(tables: Sequence[_Table]) -> dict[int, int] | None:
    for t in tables:
        for r in t.rows:
            if (
                _N_LABEL.match(r.label)
                and len(r.values) == 2
                and all(_INT.match(v) for v in r.values)
            ):
                return {0: int(r.values[0]), 1: int(r.values[1])}
    return None


def _methods(doc: Document) -> str:
    text = doc.text
    m = re.search(
        r"Statistical (?:methods|analysis)\s*\n(?P<body>.+?)(?:\n\s*\n|\nResults)", text, re.S
    )
    return " ".join(m["body"].split()) if m else ""


def _alpha(methods: str) -> str:
    m = re.search(r"(?:α|alpha|significance level)\s*(?:=|of|was)?\s*(0?\.\d+)", methods, re.I)
    return m.group(1) if m else "0.05"


def extract(doc: Document) -> Extraction:
    """Read a paper's summary tables and inline results.

    Parameters
    ----------
    doc : Document
        From :func:`kypho.audit.document.read_document` or ``Document.from_text``.

    Returns
    -------
    Extraction

    Examples
    --------
    >>> text = '''Table 2
    ... Operation in two groups
    ...   A group  B group  t  P
    ... operation time(min) 32±4.46 29±5.17 0.782 0.528
    ... Values are mean ± SD
    ... The groups differed (t(108) = 3.26, p = .001).'''
    >>> ex = extract(Document.from_text(text))
    >>> ex.data["tables"][0]["rows"][0]["cells"]
    {'a': '32±4.46', 'b': '29±5.17'}
    >>> [r.label for r in ex.inline]
    ['t(108)']
    """
    raw_tables = _tables(doc)
    readable = [t for t in raw_tables if t.groups is not None and t.rows]
    unparsed: list[Unparsed] = []
    notes: list[str] = []
    for t in raw_tables:
        if t.groups is None:
            notes.append(
                f"Table {t.number} (page {t.start.page}, line {t.start.number}): no column "
                "header with two groups and a P column was found; the table was not read"
            )
    in_tables: set[int] = set()
    for t in raw_tables:
        last = t.end if t.end else t.start.number
        in_tables.update(range(t.start.number, last + 1))
    inline: list[InlineResult] = []
    for line in doc.lines:
        if line.number in in_tables:
            continue
        inline.extend(find_inline(line.text, page=line.page, line=line.number))
    if not readable:
        return Extraction(doc.source, None, tuple(inline), tuple(unparsed), tuple(notes))
    first = readable[0]
    labels = first.groups
    if labels is None:  # pragma: no cover - filtered above
        raise AuditError("no groups")
    keys = _group_keys(labels)
    sizes = _group_sizes(readable)
    ns = None if sizes is None else {keys[0]: sizes[0], keys[1]: sizes[1]}
    tables_out = []
    for t in readable:
        b = _Builder(t, keys, ns)
        built = b.build()
        unparsed.extend(b.unparsed)
        built["rows"] = [
            r
            for r in built["rows"]
            if r["kind"] not in ("categorical", "ordinal") or r.get("levels")
        ]
        if built["rows"]:
            tables_out.append(built)
    if ns is None:
        notes.append(
            "no 'Number' row gave the group sizes; they were set from the first table's counts"
        )
        ns = {keys[0]: 0, keys[1]: 0}
    methods = _methods(doc)
    data: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "study": {
            "title": _title(doc),
            "source": doc.source,
            "alpha": _alpha(methods),
            "alternative": "two-sided",
            "methods": methods,
            "groups": [
                {"key": keys[0], "label": labels[0], "n": ns[keys[0]]},
                {"key": keys[1], "label": labels[1], "n": ns[keys[1]]},
            ],
        },
        "tables": tables_out,
    }
    return Extraction(doc.source, data, tuple(inline), tuple(unparsed), tuple(notes))


def _title(doc: Document) -> str:
    """The paper's title: its first line, unless that is already a section heading."""
    from pathlib import PurePath

    for line in doc.lines[:20]:
        text = line.text.strip()
        if not text:
            continue
        if re.match(r"^(abstract|background|introduction|objective|summary)\b", text, re.I):
            break
        return text
    return PurePath(doc.source).stem
