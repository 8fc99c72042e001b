"""``kypho reliability``: inter- and intra-rater reliability from a CSV of repeated reads.

The CSV has one row per read: ``subject``, ``rater``, ``read`` (1 = first read,
2 = repeat; optional), then one column per measure — numbers, or grades of an
ordinal scale (the schema's, e.g. ``cement_grade``, or one given with
``--scale``). See :mod:`kypho.radiograph.agreement`.
"""

from __future__ import annotations

from pathlib import Path

import click

from kypho.errors import InputFileError

__all__ = ["reliability"]


def _scales(values: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text in values:
        name, sep, grades = text.partition("=")
        if not sep or not name.strip() or not grades.strip():
            raise click.BadParameter(
                f"expected COLUMN=GRADE1,GRADE2,... lowest first (got {text!r})",
                param_hint="--scale",
            )
        out[name.strip()] = [g.strip() for g in grades.split(",") if g.strip()]
    return out


@click.command("reliability")
@click.argument("reads", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every statistic to this CSV.",
)
@click.option(
    "--figures",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write a Bland–Altman plot (PNG) per measure and comparison into this folder.",
)
@click.option(
    "--scale",
    "scale",
    multiple=True,
    help="A grade column's scale: COLUMN=I,II,III,IV (lowest first).",
)
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
def reliability(
    reads: Path, out: Path | None, figures: Path | None, scale: tuple[str, ...], confidence: float
) -> None:
    """ICC (form named), Bland–Altman limits and weighted kappa for every measure of READS.

    READS is a CSV with one row per read: subject, rater, read (1, 2, ...), then
    one column per measure.
    """
    import pandas as pd

    from kypho.radiograph.agreement import reliability as compute

    try:
        table = pd.read_csv(reads, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"cannot read the reads file {reads}: {exc}") from exc
    result = compute(table, scales=_scales(scale), confidence=confidence)
    frame = result.to_frame()
    shown = frame.assign(
        estimate=frame["estimate"].map("{:.3f}".format),
        ci=[
            f"{lo:.3f} to {hi:.3f}"
            for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)
        ],
    )[["label", "comparison", "statistic", "estimate", "ci", "n", "interpretation"]]
    click.echo(
        f"{len(table)} reads of {table['subject'].nunique()} subjects by {table['rater'].nunique()} rater(s); {confidence:.0%} CIs"
    )
    click.echo(shown.to_string(index=False))
    for note in result.notes:
        click.echo(f"note: {note}")
    if out is not None:
        from kypho.io.tables import write_table

        write_table(frame, out)
        click.echo(f"wrote {out}")
    if figures is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from kypho.output.folder import (
            files_manifest,
            open_output_folder,
            publish,
            staging_folder,
        )
        from kypho.stats.reliability import bland_altman_plot

        # kypho replaces only the plots it wrote itself there (kypho.output.folder)
        folder = open_output_folder(figures, inputs=[reads])
        written: list[Path] = []
        with staging_folder(folder) as staging:
            for (measure, comparison), (a, b, ba) in result.pairs.items():
                label = next(r.label for r in result.rows if r.measure == measure)
                ax = bland_altman_plot(
                    a, b, label=label, unit=result.units.get(measure, ""), result=ba
                )
                ax.set_title(f"Bland–Altman: {label}, {comparison}", fontsize=10)
                name = f"bland_altman_{measure}_{comparison.replace(' ', '_').replace('(', '').replace(')', '')}.png"
                figure = ax.get_figure(root=True)
                if figure is not None:
                    figure.savefig(staging / name, dpi=150, bbox_inches="tight")
                    plt.close(figure)
                    written.append(figures / name)
            publish(folder, staging, files_manifest(staging, command="kypho reliability"))
        for path in written:
            click.echo(f"wrote {path}")
