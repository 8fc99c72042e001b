"""The report's "Measurement reliability" section, from a table of repeated reads.

:func:`reliability_section` turns :func:`kypho.radiograph.agreement.reliability`
into an HTML fragment (every value escaped) with a methods paragraph naming each
ICC form as Koo & Li ask (model, type, unit), the table of estimates with CIs
and Koo & Li bands, and one Bland–Altman plot per measure and comparison (SVG).
``kypho analyze --reliability READS.csv`` adds it to ``report.html``.
"""

from __future__ import annotations

import html
import io

from kypho.radiograph.agreement import ReliabilityResult

__all__ = ["SECTION_ID", "SECTION_TITLE", "reliability_section"]

SECTION_ID = "reliability"
SECTION_TITLE = "Measurement reliability"

_METHODS = (
    "Inter-rater reliability compares the raters' first reads of the same films; "
    "intra-rater reliability compares each rater's first and repeat reads, made blinded "
    "to the first. For every continuous measure kypho reports the intraclass correlation "
    "ICC(A,1) of McGraw and Wong (Shrout and Fleiss's ICC(2,1)): absolute agreement of "
    "single measurements, from a two-way random-effects model between raters and a "
    "two-way mixed-effects model within a rater, with its {conf} confidence interval; "
    "values are read by Koo and Li's (2016) bands over the whole interval (below 0.5 poor, "
    "0.5-0.75 moderate, 0.75-0.9 good, above 0.9 excellent). Bland-Altman limits of "
    "agreement (bias ± 1.96 SD, each with its {conf} CI) are given for pairs of reads, "
    "and for ordinal grades the weighted kappa with linear and quadratic weights "
    "(Fleiss-Cohen-Everitt standard errors)."
)


def _number(value: float) -> str:
    return "—" if value != value else f"{value:.3f}"  # NaN != NaN


def reliability_section(
    result: ReliabilityResult, *, confidence: float = 0.95, figures: bool = True
) -> tuple[str, dict[str, bytes]]:
    """The section's HTML fragment and its figures (``{file name: SVG bytes}``).

    With ``figures=False`` (``kypho analyze --no-figures``) no plot is drawn and
    matplotlib is not imported; the fragment is the same.

    Examples
    --------
    >>> import pandas as pd
    >>> from kypho.radiograph.agreement import reliability
    >>> reads = pd.DataFrame({"subject": list("aabbcc"), "rater": list("ABABAB"),
    ...                       "x": [1.0, 1.2, 2.0, 2.1, 3.0, 2.7]})
    >>> fragment, figures = reliability_section(reliability(reads))
    >>> "ICC(A,1)" in fragment, sorted(figures)
    (True, ['bland_altman_x_inter-rater.svg'])
    """
    esc = html.escape
    conf = f"{confidence:.0%}"
    parts = [f"<p>{esc(_METHODS.format(conf=conf))}</p>"]
    parts.append('<table class="plain"><thead><tr>')
    heads = [
        "Measure",
        "Comparison",
        "Statistic",
        "Estimate",
        f"{conf} CI",
        "n",
        "Koo & Li",
        "Detail",
    ]
    parts.append("".join(f"<th>{esc(h)}</th>" for h in heads))
    parts.append("</tr></thead><tbody>")
    for row in result.rows:
        cells = [
            row.label,
            row.comparison,
            row.statistic,
            _number(row.estimate),
            f"{_number(row.ci_low)} to {_number(row.ci_high)}",
            str(row.n),
            row.interpretation,
            row.detail,
        ]
        parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    parts.append("</tbody></table>")
    for note in result.notes:
        parts.append(f'<p class="note">{esc(note)}</p>')
    fragment = "\n".join(parts)
    return fragment, (_bland_altman_figures(result) if figures else {})


def _bland_altman_figures(result: ReliabilityResult) -> dict[str, bytes]:
    """One Bland–Altman plot per pair of reads, as SVG bytes by file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kypho.stats.reliability import bland_altman_plot

    figures: dict[str, bytes] = {}
    for (measure, comparison), (a, b, ba) in result.pairs.items():
        label = next(r.label for r in result.rows if r.measure == measure)
        ax = bland_altman_plot(a, b, label=label, unit=result.units.get(measure, ""), result=ba)
        ax.set_title(f"Bland–Altman: {label}, {comparison}", fontsize=10)
        figure = ax.get_figure(root=True)
        if figure is None:
            continue
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
        plt.close(figure)
        slug = comparison.replace(" ", "_").replace("(", "").replace(")", "")
        figures[f"bland_altman_{measure}_{slug}.svg"] = buffer.getvalue()
    return figures
