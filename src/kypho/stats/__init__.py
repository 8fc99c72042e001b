"""kypho's statistics engine: the paper's tests, checked against R, PSPP and NIST.

Every test takes plain arrays (or tables of counts) and returns a frozen result
object with ``method``, ``statistic``, ``dof``, ``p_value`` and ``to_frame()``.

Batch mode: with ``axis=None`` (the default) the input is one sample and the
result fields are Python numbers; with ``axis=k`` the observations lie along axis
``k``, the other axes index independent samples (e.g. 100 000 simulated studies),
and every numeric field is an array of their shape. Tables of counts
(``chi_square``, ``mann_whitney_from_counts``, ``smd_categorical``) are batched by
extra leading axes instead.

The names below are imported on first use (module ``__getattr__``), so that a
command needing one test (``kypho audit``) does not import every test's
dependencies (pandas, matplotlib for the reliability plots).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kypho._lazy import lazy_attributes as _lazy_attributes
from kypho.errors import StatisticsWarning

# Imported here, not lazily: ``describe`` is also the name of its submodule, which
# importing any test sets as an attribute of this package; binding the function
# now, after that import, keeps ``kypho.stats.describe`` the function.
from kypho.stats.describe import DescribeResult, describe

if TYPE_CHECKING:
    from kypho.stats.contingency import ChiSquareResult, chi_square
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

_LAZY = {
    "BlandAltmanResult": "kypho.stats.reliability",
    "ChiSquareResult": "kypho.stats.contingency",
    "ICCResult": "kypho.stats.reliability",
    "ICCTable": "kypho.stats.reliability",
    "KappaResult": "kypho.stats.reliability",
    "MannWhitneyResult": "kypho.stats.rank",
    "PairedTResult": "kypho.stats.paired",
    "SMDResult": "kypho.stats.effect",
    "TTestResult": "kypho.stats.ttest",
    "VarianceTestResult": "kypho.stats.variance",
    "adjust_pvalues": "kypho.stats.multiplicity",
    "bland_altman": "kypho.stats.reliability",
    "bland_altman_plot": "kypho.stats.reliability",
    "chi_square": "kypho.stats.contingency",
    "icc": "kypho.stats.reliability",
    "icc_table": "kypho.stats.reliability",
    "independent_t": "kypho.stats.ttest",
    "independent_t_from_summary": "kypho.stats.ttest",
    "koo_li": "kypho.stats.reliability",
    "koo_li_interval": "kypho.stats.reliability",
    "mann_whitney": "kypho.stats.rank",
    "mann_whitney_from_counts": "kypho.stats.rank",
    "paired_t": "kypho.stats.paired",
    "smd_categorical": "kypho.stats.effect",
    "smd_continuous": "kypho.stats.effect",
    "variance_test": "kypho.stats.variance",
    "weighted_kappa": "kypho.stats.reliability",
}

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


__getattr__ = _lazy_attributes(__name__, _LAZY, globals())
