"""kypho's statistics engine: the paper's tests, checked against R, PSPP and NIST.

Every function takes plain arrays (or tables of counts) and returns a frozen
result object with ``method``, ``statistic``, ``dof``, ``p_value`` and
``to_frame()``. With ``axis=None`` (the default) the input is one sample and the
fields are Python numbers; with ``axis=k`` the observations lie along axis ``k``,
the other axes index a batch of independent samples, and the numeric fields are
arrays (see each function's docstring).
"""

from __future__ import annotations

from kypho.stats.describe import DescribeResult, describe
from kypho.stats.ttest import TTestResult, independent_t, independent_t_from_summary
from kypho.stats.variance import VarianceTestResult, variance_test

__all__ = [
    "DescribeResult",
    "TTestResult",
    "VarianceTestResult",
    "describe",
    "independent_t",
    "independent_t_from_summary",
    "variance_test",
]
