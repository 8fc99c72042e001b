"""What is computed for the report: the analysis plan as data, and the engine that runs it.

``load_plan()`` reads the declared plan (which variables go in which table, at
which timepoints, compared how); ``analyze(data, schema, plan)`` returns an
:class:`AnalysisResult` of :class:`Table` objects that every renderer reads.
"""

from __future__ import annotations

from kypho.analysis.engine import analyze
from kypho.analysis.model import AnalysisResult, Comparison, Row, Summary, Table
from kypho.analysis.plan import BeyondSpec, Plan, RowSpec, TableSpec, load_plan

__all__ = [
    "AnalysisResult",
    "BeyondSpec",
    "Comparison",
    "Plan",
    "Row",
    "RowSpec",
    "Summary",
    "Table",
    "TableSpec",
    "analyze",
    "load_plan",
]
