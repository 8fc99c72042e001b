"""Generated prose: the "Statistical methods" paragraph and one results paragraph per table.

The methods paragraph names only the tests that ran, how each was chosen, α,
and the software with its versions; the results paragraphs take every number
from the table model, in the register of the paper ("There was no significant
difference in … between the two groups (…; P = 0.437)").
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kypho.analysis.model import AnalysisResult, Comparison, Row, Table
from kypho.report.format import (
    format_statistic,
    format_summary,
    group_noun,
    in_sentence,
    p_phrase,
)

if TYPE_CHECKING:
    from kypho.eligibility import Flow

__all__ = ["flow_text", "methods_text", "results_text", "software_versions"]


def software_versions() -> dict[str, str]:
    """Versions of kypho, Python, NumPy, SciPy, pandas and matplotlib (those importable)."""
    import importlib.metadata as metadata

    from kypho import __version__

    versions = {"kypho": __version__, "Python": platform.python_version()}
    for name, dist in (
        ("NumPy", "numpy"),
        ("SciPy", "scipy"),
        ("pandas", "pandas"),
        ("matplotlib", "matplotlib"),
    ):
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def methods_text(result: AnalysisResult, versions: Mapping[str, str] | None = None) -> str:
    """The "Statistical methods" paragraph for what the analysis actually ran.

    Parameters
    ----------
    result
        The analysis; only the tests in ``result.tests_used`` are named.
    versions
        ``{software: version}``; ``None`` asks :func:`software_versions`.

    Returns
    -------
    str
        One paragraph.

    References
    ----------
    The paper's "Statistical methods" section, whose plan this restates with the
    choices kypho made explicit (which t′, the rule of the χ² test).
    """
    versions = versions if versions is not None else software_versions()
    used = result.tests_used
    alpha = f"{result.alpha:g}"
    level = f"{100 * result.confidence:g}%"
    parts = [
        "Continuous data are expressed as mean ± standard deviation (SD) and counts as "
        "number of patients (%)."
    ]
    if used & {"student", "welch", "cochran-cox"}:
        t_prime = (
            "Welch's t′ with Satterthwaite's degrees of freedom"
            if result.t_prime == "welch"
            else "the Cochran–Cox t′"
        )
        parts.append(
            "Between the groups, continuous variables were compared by the independent-samples "
            "t test after an F test of the homogeneity of variances: Student's t test when the "
            f"F test did not reject equal variances at α = {alpha}, otherwise {t_prime}."
        )
    if "anova" in used:
        parts.append(
            "Age was compared by one-way analysis of variance, as in the original report; with "
            "two groups its F statistic is the square of Student's t and gives the same P."
        )
    if "paired-t" in used:
        baselines = _baselines(result)
        against = (
            f"the value {baselines[0]}" if len(baselines) == 1 else "the measure's baseline value"
        )
        parts.append(
            f"Within each group, each later value was compared with {against} by the paired t test."
        )
    count_tests = []
    if "pearson" in used:
        count_tests.append("Pearson's χ² test")
    if "yates" in used:
        count_tests.append(
            "the χ² test with Yates's continuity correction (2 × 2 tables with an expected count below 5)"
        )
    if "fisher" in used:
        count_tests.append(
            "Fisher's exact test (fewer than 40 patients or an expected count below 1)"
        )
    if "ffh" in used:
        count_tests.append(
            "the Fisher–Freeman–Halton exact test by Monte Carlo simulation (sparse larger tables)"
        )
    if count_tests:
        parts.append("Counts were compared by " + _join(count_tests) + ".")
    if "mann-whitney" in used:
        parts.append(
            "Ordinal grades were compared by the Mann–Whitney U rank-sum test, with the normal "
            "approximation Z corrected for ties."
        )
    parts.append(
        f"Between-group differences are given with their {level} confidence intervals, and "
        "baseline balance by standardised mean differences (SMD)."
    )
    parts.append(
        f"All tests were two-sided with α = {alpha}; no adjustment was made for multiple "
        "comparisons."
    )
    software = ", ".join(
        f"{name} {version}" for name, version in versions.items() if name != "kypho"
    )
    parts.append(f"The analysis was run with kypho {versions.get('kypho', '')} ({software}).")
    return " ".join(parts)


def _baselines(result: AnalysisResult) -> list[str]:
    """The distinct baseline timepoints of the measure tables, as running text says them."""
    said: list[str] = []
    for table in result.tables:
        rows = list(table.rows)
        for i, row in enumerate(rows[:-1]):
            if row.kind == "section" and row.variable:
                when = _when(rows[i + 1], result.timepoint_phrases)
                if when not in said:
                    said.append(when)
    return said


def _p_phrase(comparison: Comparison | None) -> str:
    return p_phrase(comparison.p_value) if comparison is not None else ""


def _significant(comparison: Comparison | None, alpha: float) -> bool | None:
    if comparison is None or comparison.p_value is None:
        return None
    return comparison.p_value < alpha


def _lower(label: str) -> str:
    # Drop a trailing unit, "Operation time (min)" -> "operation time"; keep acronyms.
    return in_sentence(label.split(" (")[0])


def _name(row: Row, names: Mapping[str, str]) -> str:
    """The row's variable as running text names it: the schema's ``phrase``, else its label."""
    if row.variable and row.variable in names:
        return names[row.variable]
    return _lower(row.label)


def _row_phrase(row: Row, alpha: float, names: Mapping[str, str]) -> str:
    comparison = row.comparison
    values = (
        " vs ".join(format_summary(c, alpha=alpha) for c in row.cells)
        if row.kind != "header"
        else ""
    )
    detail = format_statistic(comparison)
    bits = [b for b in (values, detail, _p_phrase(comparison) if comparison else "") if b]
    return f"{_name(row, names)} ({'; '.join(bits)})"


def _table_paragraph(
    table: Table, alpha: float, phrases: Mapping[str, str], names: Mapping[str, str]
) -> str:
    measures = [r for r in table.rows if r.kind == "section" and r.variable]
    if measures:
        return _measure_paragraph(table, alpha, phrases, names)
    same: list[str] = []
    differ: list[str] = []
    untested: list[str] = []
    for row in table.rows:
        sig = _significant(row.comparison, alpha)
        if row.comparison is None or row.kind in ("section", "level", "n"):
            continue
        if sig is None:
            untested.append(_name(row, names))
        elif sig:
            differ.append(_row_phrase(row, alpha, names))
        else:
            same.append(_row_phrase(row, alpha, names))
    sentences = []
    if differ:
        sentences.append(
            f"There was a significant difference between the two groups in {_join(differ)}."
        )
    if same:
        sentences.append(
            f"There was no significant difference between the two groups in {_join(same)}."
        )
    if untested:
        sentences.append(f"No test could be computed for {_join(untested)}.")
    if not sentences:
        return f"Table {table.number} shows descriptive values only."
    sentences[-1] = sentences[-1][:-1] + f" (Table {table.number})."
    return " ".join(sentences)


def _when(row: Row, phrases: Mapping[str, str]) -> str:
    """The timepoint of a row as running text says it: "before the operation"."""
    if row.timepoint and row.timepoint in phrases:
        return phrases[row.timepoint]
    return f"at {_lower(row.label)}"


def _timepoint_phrase(row: Row, phrases: Mapping[str, str]) -> str:
    return f"{_when(row, phrases)} ({_p_phrase(row.comparison)})"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _measure_paragraph(
    table: Table, alpha: float, phrases: Mapping[str, str], names: Mapping[str, str]
) -> str:
    sentences: list[str] = []
    rows = list(table.rows)
    for i, section in enumerate(rows):
        if section.kind != "section" or not section.variable:
            continue
        block = []
        for row in rows[i + 1 :]:
            if row.kind == "section":
                break
            block.append(row)
        if not block:
            continue
        name = _name(section, names)
        baseline, later = block[0], block[1:]
        sig = _significant(baseline.comparison, alpha)
        if sig is not None:
            verb = "differed significantly" if sig else "did not differ significantly"
            sentences.append(
                f"{_capital(_when(baseline, phrases))}, {name} {verb} between the two groups "
                f"({_p_phrase(baseline.comparison)})."
            )
        changed = [
            _when(r, phrases)
            for r in later
            if all(
                c.within is not None and c.within.p_value is not None and c.within.p_value < alpha
                for c in r.cells
            )
        ]
        if changed:
            sentences.append(
                f"In each group, {name} {_join(changed)} differed significantly from its "
                f"value {_when(baseline, phrases)} (paired t test)."
            )
        same = [r for r in later if _significant(r.comparison, alpha) is False]
        differ = [r for r in later if _significant(r.comparison, alpha)]
        if differ:
            sentences.append(
                f"Between the groups, {name} differed significantly "
                f"{_join([_timepoint_phrase(r, phrases) for r in differ])}."
            )
        if same:
            sentences.append(
                f"There was no significant difference between the two groups in {name} "
                f"{_join([_timepoint_phrase(r, phrases) for r in same])}."
            )
    if not sentences:
        return f"Table {table.number} shows descriptive values only."
    sentences[-1] = sentences[-1][:-1] + f" (Table {table.number})."
    return " ".join(sentences)


def flow_text(flow: Flow, result: AnalysisResult, figure: int | None = 1) -> str:
    """The opening sentence of the results: screened, excluded, included, by group.

    Examples
    --------
    >>> from kypho.eligibility import Flow
    >>> from kypho.analysis.model import AnalysisResult
    >>> flow = Flow(screened=124, excluded=14, included=110,
    ...             included_by_group={"e": 55, "c": 55})
    >>> result = AnalysisResult((), ("e", "c"), ("Experimental group", "Control group"),
    ...                         (55, 55), 0.05, 0.95, "welch")
    >>> flow_text(flow, result)
    'Of the 124 patients screened, 14 were excluded (the reasons are given in Figure 1) and 110 were included: 55 in the experimental group and 55 in the control group.'
    """
    where = f" (the reasons are given in Figure {figure})" if figure is not None else ""
    groups = _join(
        [
            f"{n} in the {group_noun(label)}"
            for label, n in zip(result.group_labels, result.n_by_group, strict=True)
        ]
    )
    excluded = "1 was" if flow.excluded == 1 else f"{flow.excluded} were"
    included = "1 was" if flow.included == 1 else f"{flow.included} were"
    return (
        f"Of the {flow.screened} patients screened, {excluded} excluded{where} and "
        f"{included} included: {groups}."
    )


def results_text(result: AnalysisResult) -> dict[int, str]:
    """One results paragraph per table, keyed by table number.

    Timepoints are said as the schema's ``phrase`` gives them ("before the
    operation", "at the last follow-up"), never "At preoperation"; a variable
    whose schema entry declares a ``phrase`` is named by it.
    """
    phrases, names = result.timepoint_phrases, result.variable_phrases
    return {
        table.number: _table_paragraph(table, result.alpha, phrases, names)
        for table in result.tables
    }
