"""The table audit's t tests, batched across rows, against one row at a time."""

from __future__ import annotations

import math

from kypho.audit import audit, load_paper_tables
from kypho.audit._base import Ctx
from kypho.audit._continuous_rows import (
    _between_pairs,
    _candidates,
    _f_rules,
    _pair_key,
    _t_ranges,
    between_tests,
    continuous_findings,
)
from kypho.audit.model import ContinuousRow
from kypho.stats import independent_t_from_summary


def _rows():
    tables = load_paper_tables()
    keys = (tables.groups[0].key, tables.groups[1].key)
    for table in tables.tables:
        for row in table.rows:
            if isinstance(row, ContinuousRow):
                pair = _between_pairs(row, keys)
                if pair is not None:
                    yield tables, table, row, pair


def test_batch_equals_each_row_alone() -> None:
    tables = load_paper_tables()
    batch = between_tests(tables, 0.05)
    checked = 0
    for _, _, row, (c1, c2) in _rows():
        for name in _candidates(row.test):
            alone = _t_ranges([(c1, c2)], name)[0]
            assert batch.t_range(c1, c2, name) == alone, (row.label, name)
            # The printed point against the t test called on the printed numbers alone.
            scalar = independent_t_from_summary(
                c1.mean.value, c1.sd.value, c1.n, c2.mean.value, c2.sd.value, c2.n, method=name
            )
            assert math.isclose(alone.t, abs(scalar.statistic), rel_tol=1e-12)
            assert math.isclose(alone.p, scalar.p_value, rel_tol=1e-12)
            assert alone.t_lo <= alone.t <= alone.t_hi
            assert alone.p_lo <= alone.p <= alone.p_hi
            checked += 1
        assert batch.f_rule(c1, c2, 0.05) == _f_rules([(c1, c2)], 0.05)[0]
    assert checked > 40  # the paper's tables have dozens of mean ± SD rows


def test_findings_do_not_depend_on_the_batch() -> None:
    """Each row's findings with the study's batch and with none (computed alone)."""
    tables = load_paper_tables()
    batch = between_tests(tables, 0.05)
    for _, table, row, _ in _rows():
        with_batch = continuous_findings(Ctx(tables, table, 0.05, "up_or_down", batch), row)
        alone = continuous_findings(Ctx(tables, table, 0.05, "up_or_down"), row)
        assert with_batch == alone, row.label


def test_the_batch_holds_each_distinct_pair_once() -> None:
    tables = load_paper_tables()
    batch = between_tests(tables, 0.05)
    pairs = {_pair_key(*pair) for *_, pair in _rows()}
    assert set(k[:-1] for k in batch.f) == pairs
    assert len(batch.t) == len(
        {(_pair_key(*p), n) for *_, r, p in _rows() for n in _candidates(r.test)}
    )
    assert audit(tables).counts()["total"] > 0
