"""kypho's statistics engine: the paper's tests, checked against R, PSPP and NIST.

Every test takes plain arrays (or tables of counts) and returns a frozen result
object with ``method``, ``statistic``, ``dof``, ``p_value`` and ``to_frame()``.

Batch mode: with ``axis=None`` (the default) the input is one sample and the
result fields are Python numbers; with ``axis=k`` the observations lie along axis
``k``, the other axes index independent samples (e.g. 100 000 simulated studies),
and every numeric field is an array of their shape. Tables of counts
(``chi_square``, ``mann_whitney_from_counts``, ``smd_categorical``) are batched by
extra leading axes instead.
"""

from __future__ import annotations

from kypho.errors import StatisticsWarning
from kypho.stats.contingency import ChiSquareResult, chi_square
from kypho.stats.describe import DescribeResult, describe
from kypho.stats.effect import SMDResult, smd_categorical, smd_continuous
from kypho.stats.multiplicity import adjust_pvalues
from kypho.stats.paired import PairedTResult, paired_t
from kypho.stats.rank import MannWhitneyResult, mann_whitney, mann_whitney_from_counts
from kypho.stats.reliability import (
    BlandAltmanResult,
    ICCResult,
    ICCTable,
    KappaResult,
    bland_altman,
    bland_altman_plot,
    icc,
    icc_table,
    koo_li,
    koo_li_interval,
    weighted_kappa,
)
from kypho.stats.ttest import TTestResult, independent_t, independent_t_from_summary
from kypho.stats.variance import VarianceTestResult, variance_test

__all__ = [
    "BlandAltmanResult",
    "ChiSquareResult",
    "DescribeResult",
    "ICCResult",
    "ICCTable",
    "KappaResult",
    "MannWhitneyResult",
    "PairedTResult",
    "SMDResult",
    "StatisticsWarning",
    "TTestResult",
    "VarianceTestResult",
    "adjust_pvalues",
    "bland_altman",
    "bland_altman_plot",
    "chi_square",
    "describe",
    "icc",
    "icc_table",
    "independent_t",
    "independent_t_from_summary",
    "koo_li",
    "koo_li_interval",
    "mann_whitney",
    "mann_whitney_from_counts",
    "paired_t",
    "smd_categorical",
    "smd_continuous",
    "variance_test",
    "weighted_kappa",
]
