"""The audit's result: one :class:`Finding` per checked value, and its JSON form.

The JSON document (``AuditReport.to_dict()``) has a stable, versioned schema,
documented in ``docs/audit.md``::

    {
      "schema_version": "1.2",
      "tool": "kypho audit",
      "kypho_version": "...",
      "study": {"title": ..., "source": ..., "groups": [...], "tables": [...]},
      "alpha": 0.05,
      "summary": {"consistent": 0, "inconsistent": 0, "impossible": 0,
                  "not_checkable": 0, "decision_errors": 0, "total": 0},
      "findings": [ {"table": 2, "row": ..., "column": ..., "group": ..., "check": ...,
                     "reported": ..., "recomputed": ..., "status": ..., "reason": ...,
                     ...}, ... ]
    }

Fields are only ever added within a major version; renaming or removing one bumps
``schema_version``'s major number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CHECKS", "SCHEMA_VERSION", "STATUSES", "AuditReport", "Finding", "Status"]

SCHEMA_VERSION = "1.2"

Status = Literal["consistent", "inconsistent", "impossible", "not_checkable"]
STATUSES: tuple[Status, ...] = ("consistent", "inconsistent", "impossible", "not_checkable")

#: Every check the audit runs, with what it compares (documented in docs/audit.md).
CHECKS: dict[str, str] = {
    "group_size": "the printed group size against the study's n",
    "p_range": "a printed P value lies in [0, 1]",
    "mean_bounds": "a mean lies within the scale's bounds",
    "sd_bounds": "an SD is non-negative and not above the largest SD the bounded scale allows",
    "grim": "GRIM: the mean is possible for n whole-number values",
    "grimmer": "GRIMMER: mean and SD are possible together for n whole-number values",
    "debit": "DEBIT: mean and SD are possible together for n binary values",
    "variance_test": "F test on the printed SDs: which of t and t′ the paper's rule calls for",
    "t_from_summaries": "the printed t against t recomputed from means, SDs and n",
    "p_from_summaries": "the printed P against P recomputed from the printed summaries",
    "p_from_statistic": "the printed P against P from the printed statistic (statcheck's rule)",
    "paired_t_bounds": "a printed paired t against the range any within-patient correlation allows",
    "decision": "significant or not at alpha: the printed P against the recomputed P",
    "counts": "counts are whole, non-negative and sum to n",
    "percent": "a printed percentage against 100 × count / n",
    "identical_counts": "identical proportions in both groups force P = 1",
    "section_p": "rows of one exhaustive two-level section are one 2×2 table and share one P",
    "u_from_counts": "the printed Mann–Whitney U against U recomputed from the grade counts",
    "chi_square_from_counts": "a printed χ² against χ² (Pearson, Yates) recomputed from the printed counts",
}


@dataclass(frozen=True)
class Finding:
    """One checked value.

    Attributes
    ----------
    table : int
        The table's number in the paper.
    row : str
        The row's label as printed.
    column : str
        Which printed value: ``"P"``, ``"t"``, ``"U"``, ``"mean"``, ``"SD"``,
        ``"mean ± SD"``, ``"count"``, ``"%"``, ``"n"``, ``"within t"``, ``"within P"``,
        ``"test"``.
    check : str
        The check's name (a key of :data:`CHECKS`).
    status : str
        ``consistent``, ``inconsistent``, ``impossible`` or ``not_checkable``.
    reason : str
        Why, in a sentence, with the numbers.
    reported : str or None
        The value as printed.
    recomputed : str or None
        The recomputed value as text (a range in brackets where the printed rounding
        leaves one).
    group : str or None
        The group's key for a per-group value; None for a between-group value.
    section : str or None
        The row's section ("Clinical manifestations"), if any.
    method : str or None
        The test or procedure used for the recomputation.
    recomputed_value, recomputed_low, recomputed_high : float or None
        The recomputed number and the range over the printed rounding.
    assumption : str or None
        What the check had to assume that the paper does not print (df, the scale).
    decision_error : bool or None
        For ``decision`` and P checks: whether significance at alpha flips.
    source_text : str or None
        The text the check read, quoted from the paper (schema 1.1).
    page, line : int or None
        Where in the paper that text is, 1-based (schema 1.1); None for a
        transcribed YAML file.
    """

    table: int
    row: str
    column: str
    check: str
    status: Status
    reason: str
    reported: str | None = None
    recomputed: str | None = None
    group: str | None = None
    section: str | None = None
    method: str | None = None
    recomputed_value: float | None = None
    recomputed_low: float | None = None
    recomputed_high: float | None = None
    assumption: str | None = None
    decision_error: bool | None = None
    source_text: str | None = None
    page: int | None = None
    line: int | None = None


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


@dataclass(frozen=True)
class AuditReport:
    """Every finding of an audit, in table order, with the study it is about."""

    title: str
    source: str
    groups: tuple[tuple[str, str, int], ...]
    alpha: float
    findings: tuple[Finding, ...]
    kypho_version: str = ""
    #: The number and title of each table audited, in order (schema 1.2).
    tables: tuple[tuple[int, str], ...] = ()

    def table_title(self, number: int) -> str:
        """The title of table ``number`` ("" when it has none or is not known)."""
        return next((title for n, title in self.tables if n == number), "")

    def counts(self) -> dict[str, int]:
        """Number of findings per status, plus ``decision_errors`` and ``total``."""
        out: dict[str, int] = {s: sum(f.status == s for f in self.findings) for s in STATUSES}
        out["decision_errors"] = sum(
            f.check == "decision" and f.decision_error is True for f in self.findings
        )
        out["total"] = len(self.findings)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per finding, columns as in the JSON schema."""
        import pandas as pd  # here: the command line does not need pandas

        return pd.DataFrame(
            [asdict(f) for f in self.findings], columns=[f.name for f in fields(Finding)]
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``SCHEMA_VERSION``, documented in docs/audit.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": "kypho audit",
            "kypho_version": self.kypho_version,
            "study": {
                "title": self.title,
                "source": self.source,
                "groups": [{"key": k, "label": lab, "n": n} for k, lab, n in self.groups],
                "tables": [{"number": n, "title": title} for n, title in self.tables],
            },
            "alpha": self.alpha,
            "summary": self.counts(),
            "findings": [_json_safe(_fields_of(f)) for f in self.findings],
        }


def _fields_of(finding: Finding) -> dict[str, Any]:
    """``asdict`` without its deep copy: every field of a finding is a plain value."""
    return {name: getattr(finding, name) for name in _FINDING_FIELDS}


def _json_safe(entry: dict[str, Any]) -> dict[str, Any]:
    """JSON has no infinity: an unbounded range end is written as null (its text says ∞)."""
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in entry.items()
    }
