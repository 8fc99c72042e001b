"""Parsing of printed values: "69.47±6.90", "4(7.3)", "12:43", "P < 0.05", "U = 392.00".

Each parser takes the printed text and a ``where`` phrase naming its place in the file
(used in error messages), and returns :class:`~kypho.audit.model.Reported` objects that
keep the text and its number of decimals.
"""

from __future__ import annotations

import re

from kypho.audit.model import Comparator, Reported, ReportedStatistic
from kypho.errors import AuditError

__all__ = [
    "parse_count",
    "parse_mean_sd",
    "parse_number",
    "parse_p",
    "parse_ratio",
    "parse_statistic",
    "parse_within",
    "statistic_name",
]

_NUMBER = r"[-+−]?(?:\d+(?:\.\d*)?|\.\d+)"
_NUMBER_RE = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<star>\*?)\s*$")
_P_RE = re.compile(
    rf"^\s*(?:[Pp]\s*)?(?P<cmp><=|>=|≤|≥|<|>|=)?\s*(?P<num>{_NUMBER})\s*(?P<star>\*?)\s*$"
)
_MEAN_SD_RE = re.compile(
    rf"^\s*(?P<mean>{_NUMBER})\s*(?:±|\+/-|\+-)\s*(?P<sd>{_NUMBER})\s*(?P<star>\*?)\s*$"
)
_COUNT_RE = re.compile(
    rf"^\s*(?P<count>\d+)\s*(?:\(\s*(?P<pct>{_NUMBER})\s*%?\s*\))?\s*(?P<star>\*?)\s*$"
)
_RATIO_RE = re.compile(r"^\s*\d+(?:\s*:\s*\d+)+\s*$")
_STAT_RE = re.compile(rf"^\s*(?P<name>[^=\d\s][^=]*?)\s*=\s*(?P<num>{_NUMBER})\s*(?P<star>\*?)\s*$")
_WITHIN_RE = re.compile(r"^\s*(?P<stat>[^,;]+?)\s*[,;]\s*(?P<p>[Pp].*?)\s*$")

_CMP: dict[str, Comparator] = {
    "<": "<",
    "<=": "<=",
    "≤": "<=",
    ">": ">",
    ">=": ">=",
    "≥": ">=",
    "=": "=",
}

# Printed names of statistics -> the audit's names.
_STAT_NAMES = {
    "t": "t",
    "t'": "t",
    "t′": "t",
    "t / t'": "t",
    "t/t'": "t",
    "t / t′": "t",
    "u": "U",
    "z": "z",
    "f": "F",
    "χ2": "chi2",
    "χ²": "chi2",
    "chi2": "chi2",
    "chi-square": "chi2",
    "x2": "chi2",
}


def _decimals(number: str) -> int:
    return len(number.split(".", 1)[1]) if "." in number else 0


def _value(number: str) -> float:
    return float(number.replace("−", "-"))


def _require_text(text: object, where: str, expected: str) -> str:
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise AuditError(
            f"{where}: expected {expected} written as a quoted string, so that its printed "
            f"decimals are kept (got {text!r})"
        )
    return str(text)


def parse_number(text: object, where: str) -> Reported:
    """Parse a plain printed number, with an optional trailing star ("0.004*").

    Raises
    ------
    AuditError
        When ``text`` is not a string holding one number. Floats are refused: YAML
        would turn ``32.00`` into ``32.0`` and lose the printed decimals.
    """
    s = _require_text(text, where, "a number such as '0.528'")
    m = _NUMBER_RE.match(s)
    if m is None:
        raise AuditError(f"{where}: expected a number such as '0.528' (got {s!r})")
    num = m["num"]
    return Reported(s.strip(), _value(num), _decimals(num), "=", bool(m["star"]))


def parse_p(text: object, where: str) -> Reported:
    """Parse a printed P value: ``"0.528"``, ``"0.004*"``, ``"< 0.05"``, ``"P<0.001"``."""
    s = _require_text(text, where, "a P value such as '0.528' or '< 0.05'")
    m = _P_RE.match(s)
    if m is None:
        raise AuditError(f"{where}: expected a P value such as '0.528' or '< 0.05' (got {s!r})")
    num = m["num"]
    cmp = _CMP[m["cmp"] or "="]
    return Reported(s.strip(), _value(num), _decimals(num), cmp, bool(m["star"]))


def statistic_name(printed: str, where: str) -> str:
    """Map a printed statistic name ("t / t'", "U", "χ²") to the audit's name."""
    key = printed.strip().lower().replace(" ", "")
    for k, v in _STAT_NAMES.items():
        if key == k.replace(" ", ""):
            return v
    allowed = "t, t', t / t', U, Z, F, χ²"
    raise AuditError(f"{where}: unknown statistic name {printed!r} (allowed: {allowed})")


def parse_statistic(text: object, default_name: str | None, where: str) -> ReportedStatistic | None:
    """Parse a printed statistic: ``"0.782"`` (named by the column), ``"U = 392.00"``.

    A dash (``"-"``) or an empty string means the paper printed no statistic.
    """
    s = _require_text(text, where, "a statistic such as '0.782' or 'U = 392.00'")
    if s.strip() in ("", "-", "–", "—"):
        return None
    m = _STAT_RE.match(s)
    if m is not None:
        name = statistic_name(m["name"], where)
        num = m["num"]
        text = num + ("*" if m["star"] else "")
        return ReportedStatistic(
            name, Reported(text, _value(num), _decimals(num), "=", bool(m["star"]))
        )
    if default_name is None:
        raise AuditError(
            f"{where}: the statistic {s!r} has no name and the table declares no "
            "statistic_column; write it with its name, such as 't = 0.782'"
        )
    return ReportedStatistic(default_name, parse_number(s, where))


def parse_mean_sd(text: object, where: str) -> tuple[Reported, Reported, bool]:
    """Parse ``"69.47±6.90"`` (a trailing star is allowed) into mean, SD and the star."""
    s = _require_text(text, where, "'mean±SD' such as '69.47±6.90'")
    m = _MEAN_SD_RE.match(s)
    if m is None:
        raise AuditError(f"{where}: expected 'mean±SD' such as '69.47±6.90' (got {s!r})")
    mean = Reported(m["mean"], _value(m["mean"]), _decimals(m["mean"]))
    sd = Reported(m["sd"], _value(m["sd"]), _decimals(m["sd"]))
    return mean, sd, bool(m["star"])


def parse_count(text: object, where: str) -> tuple[int, Reported | None]:
    """Parse ``"4(7.3)"`` or ``"4"`` into the count and the printed percentage."""
    s = _require_text(text, where, "a count such as '4' or '4(7.3)'")
    m = _COUNT_RE.match(s)
    if m is None:
        raise AuditError(f"{where}: expected a count such as '4' or '4(7.3)' (got {s!r})")
    pct = m["pct"]
    percent = None if pct is None else Reported(pct, _value(pct), _decimals(pct))
    return int(m["count"]), percent


def parse_ratio(text: object, n_levels: int, where: str) -> tuple[int, ...]:
    """Parse ``"12:43"`` into one count per level."""
    s = _require_text(text, where, f"{n_levels} counts joined by ':' such as '12:43'")
    if _RATIO_RE.match(s) is None:
        raise AuditError(f"{where}: expected counts joined by ':' such as '12:43' (got {s!r})")
    counts = tuple(int(part) for part in s.split(":"))
    if len(counts) != n_levels:
        raise AuditError(
            f"{where}: {s!r} has {len(counts)} counts but the row has {n_levels} levels"
        )
    return counts


def parse_within(
    text: object, default_name: str, where: str
) -> tuple[ReportedStatistic | None, Reported | None]:
    """Parse a within-group result printed under a value: ``"t = 4.075, P < 0.05"``.

    Either part may be missing (``"P < 0.05"`` alone, ``"t = 4.075"`` alone).
    """
    s = _require_text(text, where, "a result such as 't = 4.075, P < 0.05'")
    m = _WITHIN_RE.match(s)
    if m is not None:
        return parse_statistic(m["stat"], default_name, where), parse_p(m["p"], where)
    if s.strip().lower().startswith("p"):
        return None, parse_p(s, where)
    return parse_statistic(s, default_name, where), None
