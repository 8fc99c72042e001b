"""Readers of the committed statistics oracles (tests/reference/oracles/stats/).

``stats_oracle.out`` is base R's printed output; its lines ``data <name> = ...``
and ``value <case> <field> = <number>`` carry inputs and results at 15
significant digits. ``stats_pspp.csv`` is GNU PSPP 1.6.2's CSV output, split here
into its tables in order of appearance.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ORACLES = Path(__file__).resolve().parents[1] / "oracles" / "stats"


@dataclass(frozen=True)
class ROracle:
    data: dict[str, np.ndarray]
    values: dict[tuple[str, str], float]

    def __call__(self, case: str, field: str) -> float:
        return self.values[(case, field)]


@dataclass(frozen=True)
class PsppTable:
    title: str
    rows: list[list[str]]


@dataclass(frozen=True)
class PsppOutput:
    all_tables: list[PsppTable]

    def tables(self, title: str) -> list[PsppTable]:
        """All tables with this title, in output order."""
        return [t for t in self.all_tables if t.title == title]

    @staticmethod
    def matches(value: float, cell: str) -> bool:
        """Whether ``value`` rounds to PSPP's printed ``cell`` (e.g. ``-.65``).

        Tolerance: half a unit of the last printed digit, plus 1e-12 for ties.
        """
        decimals = len(cell.split(".")[1]) if "." in cell else 0
        return abs(value - float(cell)) <= 0.5 * 10.0**-decimals + 1e-12


def _read_r() -> ROracle:
    data: dict[str, np.ndarray] = {}
    values: dict[tuple[str, str], float] = {}
    for line in (ORACLES / "stats_oracle.out").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^data (\w+) = (.*)$", line)
        if m:
            data[m.group(1)] = np.array(
                [np.nan if v == "NA" else float(v) for v in m.group(2).split()]
            )
            continue
        m = re.match(r"^value (\S+) (\S+) = (\S+)$", line)
        if m:
            values[(m.group(1), m.group(2))] = float(m.group(3))
    return ROracle(data, values)


def _read_pspp() -> PsppOutput:
    tables: list[PsppTable] = []
    text = (ORACLES / "stats_pspp.csv").read_text(encoding="utf-8")
    for block in re.split(r"^Table: ", text, flags=re.MULTILINE)[1:]:
        title, _, body = block.partition("\n")
        rows = [row for row in csv.reader(io.StringIO(body)) if row]
        tables.append(PsppTable(title.strip(), rows))
    return PsppOutput(tables)


@pytest.fixture(scope="session")
def r_oracle() -> ROracle:
    return _read_r()


@pytest.fixture(scope="session")
def pspp() -> PsppOutput:
    return _read_pspp()
