"""Generate a synthetic cohort whose summaries reproduce a paper's tables.

:func:`synthesize` draws individual-patient data in the schema's input columns
such that, after kypho's own derivations (:func:`kypho.measures.derive`) and
eligibility screening (:func:`kypho.eligibility.screen`), the included patients'
group summaries print as the published ones:

* every published count exactly (sex, manifestations, vertebral region, cement
  grade, leakage and leak types), the patients carrying each being drawn at random;
* every published mean ± SD to its printed rounding, by exact standardisation,
  bounds, rounding to the stored resolution and a greedy repair
  (:mod:`kypho.synth.draw`); derived measures through their inputs (blood loss
  through haemoglobin, height ratios through the three heights);
* a published between-group t, where the printed means and SDs allow it, by a
  joint repair of both groups (:func:`kypho.synth.draw.repair_t`);
* eligibility: every included patient meets the paper's criteria; optional
  screened-but-ineligible patients each fail a named criterion;
* within-patient correlation over time: a latent patient effect per measure
  (VAS) and a shared fracture-severity effect (height ratios, wedge angle).

What cannot be reproduced (published test statistics that no data with the
published means, SDs and counts can give, scales on which a mean or SD is
impossible) is listed in the returned :class:`~kypho.synth.report.SynthReport`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from kypho.audit.loader import load_paper_tables, load_summary_tables
from kypho.audit.model import SummaryTables
from kypho.errors import DataError, SchemaError
from kypho.schema import Schema, Variable, load_schema
from kypho.schema.dtypes import typed_column
from kypho.synth.draw import (
    Movable,
    Target,
    apportion,
    fit,
    repair,
    repair_t,
    shape,
    trajectories,
)
from kypho.synth.report import Achieved, SynthReport, build_report, t_range
from kypho.synth.spec import SynthSpec, load_synth_spec
from kypho.synth.targets import Binding, ContinuousTarget, Targets, collect_targets

__all__ = [
    "CHUNK_ROWS",
    "SynthChunk",
    "SynthChunks",
    "Synthesis",
    "bundled_seed",
    "synthesize",
    "synthesize_chunks",
]

FloatArray = npt.NDArray[np.float64]
Columns = dict[str, npt.NDArray[np.generic]]
# A value on its grid: (values, step per patient, write total steps back to the inputs)
Grid = tuple[FloatArray, FloatArray, Callable[[npt.NDArray[np.int64]], FloatArray]]


def bundled_seed() -> int:
    """The seed of the bundled ``kypho/data/cohort.csv`` (kypho's specification's seed)."""
    return load_synth_spec().seed


@dataclass(frozen=True)
class Synthesis:
    """Result of :func:`synthesize`.

    Attributes
    ----------
    data
        The cohort, typed as :func:`kypho.validation.validate` types its output, one
        column per schema input variable in declared order.
    report
        What was and was not reproduced, value by value.
    seed
        The seed that reproduces ``data``.
    included
        Boolean mask: the patients generated as eligible.
    """

    data: pd.DataFrame
    report: SynthReport
    seed: int
    included: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """The cohort (a copy)."""
        return self.data.copy()


def synthesize(
    tables: SummaryTables | None = None,
    *,
    n: int | None = None,
    seed: int = 0,
    ineligible: int | None = None,
    schema: Schema | None = None,
    binding: Binding | None = None,
    exact: bool | None = None,
    rho: float | None = None,
    spec: SynthSpec | None = None,
) -> Synthesis:
    """Generate individual-patient data consistent with published summary tables.

    Parameters
    ----------
    tables
        The published tables; ``None`` uses the specification's (the kypho paper's
        Tables 1–7 for kypho's own).
    n
        Patients included; ``None`` uses the published group sizes. Otherwise the
        groups are split in the published proportion and every count scaled to it
        (largest remainder, so counts add up exactly).
    seed
        Seed of the NumPy generator: the same seed gives the same cohort.
    ineligible
        Screened-but-ineligible patients added (each failing a named criterion,
        the specification's ``ineligible`` list); ``None`` adds the specification's
        ``ineligible_at_published_size`` (14 for the paper) at the published size
        and none otherwise.
    schema
        The study schema; ``None`` uses the built-in one.
    binding
        How the tables' rows map to schema columns; ``None`` uses the specification's.
    exact
        Repair every group summary to the printed rounding; ``None`` does so when
        each group has at most the specification's ``exact_up_to`` (500) patients.
    rho
        Correlation between timepoints of a patient's latent trajectory; ``None``
        uses the specification's (0.5).
    spec
        How the cohort is drawn (:func:`kypho.synth.spec.load_synth_spec`); ``None``
        uses kypho's specification of the paper's cohort (``kypho/data/synth.yaml``).

    Returns
    -------
    Synthesis

    Raises
    ------
    DataError
        When ``n``, ``ineligible`` or ``rho`` is out of range, or the tables' groups
        are not the schema's.
    SchemaError
        When the binding or a step names a column the schema lacks.

    Notes
    -----
    For each group and measurement, scores :math:`z_{it} = \\sqrt{\\rho}u_i +
    \\sqrt{1-\\rho}e_{it}` are mapped to a marginal with the published mean and SD
    that respects the bounds (normal, or gamma from a nearby bound), standardised
    exactly (:math:`x' = m + s(x - \\bar x)/s_x`), rounded to the stored resolution
    and repaired step by step until mean and SD print as published (first to the
    decimals kypho's tables show, when finer than the paper's and reachable). Where
    a printed t is possible with the printed summaries, both groups are then
    repaired together until the cohort's t prints the same.

    A group of more than :data:`CHUNK_ROWS` patients (not repaired) is drawn in
    chunks of that many (:func:`synthesize_chunks`; ``kypho synth`` writes them to
    the file as they come), each from the published distributions with its counts
    scaled to the chunk.

    Examples
    --------
    >>> s = synthesize(seed=1)
    >>> len(s.data), int(s.included.sum())
    (124, 110)
    """
    chunks = synthesize_chunks(
        tables,
        n=n,
        seed=seed,
        ineligible=ineligible,
        schema=schema,
        binding=binding,
        exact=exact,
        rho=rho,
        spec=spec,
    )
    parts = list(chunks)
    if len(parts) == 1:
        frame, included = parts[0].data, parts[0].included
    else:
        frame = pd.concat([p.data for p in parts], ignore_index=True)
        included = np.concatenate([p.included for p in parts])
    return Synthesis(
        data=frame,
        report=chunks.report,
        seed=seed,
        included=pd.Series(included, index=frame.index, name="included"),
    )


#: Patients of one group drawn at a time when a group is larger (bounds memory).
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class SynthChunk:
    """Consecutive rows of a synthetic cohort (see :func:`synthesize_chunks`).

    Attributes
    ----------
    data
        The rows, typed and ordered as :attr:`Synthesis.data`.
    included
        Boolean mask: the rows generated as eligible.
    """

    data: pd.DataFrame
    included: npt.NDArray[np.bool_]


class SynthChunks:
    """A synthetic cohort drawn chunk by chunk: iterate once for :class:`SynthChunk` s.

    Attributes
    ----------
    total
        Rows of the whole cohort (included and ineligible).
    included_total
        Rows generated as eligible.
    seed
        The seed that reproduces the cohort.
    report
        The reproduction report; available once every chunk has been drawn.
    """

    def __init__(self, run: _Run) -> None:
        self._run = run
        self.total = run.total
        self.included_total = run.included_n
        self.seed = run.seed
        self._report: SynthReport | None = None

    def __iter__(self) -> Iterator[SynthChunk]:
        if self._report is not None:
            raise RuntimeError("a synthetic cohort's chunks can be drawn only once")
        yield from self._run.chunks()
        self._report = self._run.report()

    @property
    def report(self) -> SynthReport:
        if self._report is None:
            raise RuntimeError("the report is ready once every chunk has been drawn")
        return self._report


def synthesize_chunks(
    tables: SummaryTables | None = None,
    *,
    n: int | None = None,
    seed: int = 0,
    ineligible: int | None = None,
    schema: Schema | None = None,
    binding: Binding | None = None,
    exact: bool | None = None,
    rho: float | None = None,
    spec: SynthSpec | None = None,
    chunk_rows: int | None = None,
) -> SynthChunks:
    """:func:`synthesize`'s cohort, drawn and handed over in chunks of rows.

    Parameters are :func:`synthesize`'s, and ``chunk_rows`` (default
    :data:`CHUNK_ROWS`): a group with more
    patients than this (and not repaired to the printed rounding) is drawn
    ``chunk_rows`` patients at a time, each chunk from the published
    distributions with its counts scaled to the chunk, so memory holds one chunk
    whatever ``n``. A cohort whose groups fit in one chunk each is drawn exactly
    as :func:`synthesize` always drew it (one chunk); the chunks joined are
    :func:`synthesize`'s cohort for the same arguments.

    Raises
    ------
    DataError, SchemaError
        As :func:`synthesize`, before any chunk is drawn.
    """
    schema = schema or load_schema()
    spec = spec or load_synth_spec()
    if tables is None:
        tables = load_summary_tables(spec.tables) if spec.tables else load_paper_tables()
    rho = spec.rho if rho is None else rho
    if n is not None and n < 2:
        raise DataError(f"n must be a whole number of at least 2 (got {n})")
    if ineligible is not None and ineligible < 0:
        raise DataError(f"ineligible must be 0 or more (got {ineligible})")
    if not 0.0 <= rho < 1.0:
        raise DataError(f"rho must be from 0 to below 1 (got {rho})")
    chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be 1 or more (got {chunk_rows})")
    _check_names(schema, spec)
    targets = collect_targets(tables, schema, binding or spec.binding)
    if set(targets.groups) != set(schema.group_levels):
        raise DataError(
            "the tables' groups "
            + ", ".join(repr(g) for g in targets.groups)
            + " must be the schema's groups "
            + ", ".join(repr(g) for g in schema.group_levels)
        )
    published = {g: targets.groups[g] for g in schema.group_levels}
    if n is None:
        sizes = published
    else:
        split = apportion(n, [published[g] for g in schema.group_levels])
        sizes = dict(zip(schema.group_levels, (int(v) for v in split), strict=True))
    default_bad = spec.ineligible_at_published_size if n is None else 0
    n_bad = default_bad if ineligible is None else ineligible
    if n_bad and not spec.ineligible:
        raise DataError(f"{spec.source} lists no ineligible patients to add")
    run = _Run(
        rng=np.random.default_rng(seed),
        schema=schema,
        spec=spec,
        targets=targets,
        sizes=sizes,
        published=published,
        n_bad=n_bad,
        rho=rho,
        exact=exact,
        seed=seed,
        chunk_rows=chunk_rows,
    )
    return SynthChunks(run)


@dataclass
class _Run:
    """The state of one synthesis: what is drawn, in which chunks, and what came out."""

    rng: np.random.Generator
    schema: Schema
    spec: SynthSpec
    targets: Targets
    sizes: Mapping[str, int]
    published: Mapping[str, int]
    n_bad: int
    rho: float
    exact: bool | None
    seed: int
    chunk_rows: int
    achieved: dict[str, Achieved] = field(default_factory=dict)

    @property
    def included_n(self) -> int:
        return sum(self.sizes.values())

    @property
    def total(self) -> int:
        return self.included_n + self.n_bad

    def is_exact(self, group: str) -> bool:
        return self.sizes[group] <= self.spec.exact_up_to if self.exact is None else self.exact

    @property
    def all_exact(self) -> bool:
        return all(self.is_exact(g) for g in self.schema.group_levels)

    def chunked(self) -> bool:
        """Whether some group is drawn in several chunks."""
        return any(
            self.sizes[g] > self.chunk_rows and not self.is_exact(g)
            for g in self.schema.group_levels
        )

    def chunks(self) -> Iterator[SynthChunk]:
        if not self.chunked():
            yield self._whole()
            return
        start = 0
        groups = self.schema.group_levels
        for group in groups:
            size = self.sizes[group]
            for first in range(0, size, self.chunk_rows):
                block = self._block(group, min(self.chunk_rows, size - first))
                cols = block.draw(False, self.rho)
                self.achieved.setdefault(group, Achieved()).absorb(block.got)
                yield self._finish(cols, start, np.ones(len(cols[self.schema.group_column]), bool))
                start += len(cols[self.schema.group_column])
        if self.n_bad:
            bad = self._ineligible_blocks()
            data = _stack(bad, self.schema.group_column)
            _make_ineligible(data, 0, self.n_bad, self.spec.ineligible)
            yield self._finish(data, start, np.zeros(self.n_bad, dtype=bool))

    def _block(self, group: str, n: int) -> _Block:
        return _Block(
            self.rng,
            self.schema,
            self.spec,
            self.targets,
            group,
            n,
            self.published[group],
        )

    def _ineligible_blocks(self) -> list[Columns]:
        blocks: list[Columns] = []
        bad_split = apportion(self.n_bad, [1.0] * len(self.schema.group_levels))
        for group, k in zip(self.schema.group_levels, bad_split, strict=True):
            if k:
                blocks.append(self._block(group, int(k)).draw(False, self.rho))
        return blocks

    def _finish(self, data: Columns, start: int, included: npt.NDArray[np.bool_]) -> SynthChunk:
        """Dates, ids and typing of one chunk (rows ``start + 1`` on of the cohort)."""
        n = len(included)
        if self.spec.dates:
            _add_dates(self.rng, data, n, self.spec.dates, self.schema)
        _add_ids(data, n, self.spec.ids, start=start, total=self.total)
        return SynthChunk(_typed(self.schema, data, n, self.spec.note), included)

    def _whole(self) -> SynthChunk:
        """The cohort in one piece, drawn as it always was (repairs, t, register order)."""
        schema, spec, rng = self.schema, self.spec, self.rng
        blocks: list[Columns] = []
        for group in schema.group_levels:
            block = self._block(group, self.sizes[group])
            blocks.append(block.draw(self.is_exact(group), self.rho))
            self.achieved[group] = block.got
        if self.sizes == self.published and self.all_exact:
            _aim_at_published_t(rng, self.targets, self.achieved, list(schema.group_levels))
        included_n = self.included_n
        if self.n_bad:
            blocks.extend(self._ineligible_blocks())
        group_col = schema.group_column
        data = _stack(blocks, group_col)
        total = len(data[group_col])
        included = np.zeros(total, dtype=bool)
        included[:included_n] = True
        if self.n_bad:
            _make_ineligible(data, included_n, self.n_bad, spec.ineligible)
        operation = spec.dates.get("operation")
        if spec.dates:
            _add_dates(rng, data, total, spec.dates, schema)
        if total <= 2 * spec.exact_up_to and operation in data:
            # published-size cohorts list patients in order of operation, as a register
            # would; a large cohort stays group by group
            order = np.argsort(data[operation], kind="stable")
            data = {k: v[order] for k, v in data.items()}
            included = included[order]
        _add_ids(data, total, spec.ids)
        return SynthChunk(_typed(schema, data, total, spec.note), included)

    def report(self) -> SynthReport:
        return build_report(
            self.targets,
            self.achieved,
            exact=self.all_exact,
            sizes=self.sizes,
            published=self.published,
            schema=self.schema,
        )


def _aim_at_published_t(
    rng: np.random.Generator,
    targets: Targets,
    achieved: Mapping[str, Achieved],
    groups: list[str],
) -> None:
    """Where a printed between-group t is possible with the printed means and SDs, move
    values (keeping those summaries) until the cohort's t prints the same."""
    if len(groups) != 2:
        return
    for t in targets.continuous:
        stat = t.row_data.statistic
        pair = [achieved[g].handles.get(t.column) for g in groups]
        if stat is None or pair[0] is None or pair[1] is None or stat.value.comparator != "=":
            continue
        lo, hi = t_range(t, groups, pooled=True)
        rep = stat.value
        if rep.high < lo or rep.low > hi:
            continue  # impossible on the printed summaries: the report says so
        a, b = (
            Movable(m.y.copy(), m.step, m.lo, m.hi, m.target, m.k.copy())
            for m, _ in (pair[0], pair[1])
        )
        if repair_t(a, b, rep.value, rep.half_unit, rng):
            for g, moved, (_, apply) in zip(groups, (a, b), (pair[0], pair[1]), strict=True):
                achieved[g].values[t.column] = apply(moved.k)


def _labels(
    rng: np.random.Generator, n: int, counts: Mapping[str, int], rest: str
) -> npt.NDArray[np.str_]:
    """``n`` codes with exactly these counts (the remainder gets ``rest``), shuffled."""
    keys = [*counts, rest]
    sizes = [int(k) for k in counts.values()]
    sizes.append(max(n - sum(sizes), 0))
    # the codes' positions shuffled, then the codes looked up: the same draws and
    # the same result as shuffling the codes themselves, at a third of the cost
    positions = np.repeat(np.arange(len(keys), dtype=np.intp), sizes)[:n]
    shuffled: npt.NDArray[np.str_] = np.array(keys)[rng.permutation(positions)]
    return shuffled


def _scaled(
    counts: Mapping[str, Mapping[str, int]], group: str, n: int, n_pub: int
) -> dict[str, int]:
    """The group's published counts, scaled to ``n`` patients (exact when ``n == n_pub``)."""
    codes = list(counts)
    values = [counts[c].get(group, 0) for c in codes]
    if n == n_pub:
        return dict(zip(codes, values, strict=True))
    rest = max(n_pub - sum(values), 0)
    parts = apportion(n, [*values, rest])
    return dict(zip(codes, (int(p) for p in parts[: len(codes)]), strict=True))


def _bounds(
    schema: Schema, column: str, target: ContinuousTarget | None
) -> tuple[float | None, float | None]:
    """The tightest of the published scale, the schema's range and the inclusion criteria."""
    var = schema[column]
    scale = target.row_data.scale if target is not None else None
    crit_lo, crit_hi = _criterion_bounds(schema, column)
    lows = [
        float(v)
        for v in (scale.min if scale else None, var.min, crit_lo)
        if isinstance(v, int | float)
    ]
    highs = [
        float(v)
        for v in (scale.max if scale else None, var.max, crit_hi)
        if isinstance(v, int | float)
    ]
    return (max(lows) if lows else None, min(highs) if highs else None)


def _target(target: ContinuousTarget, group: str) -> Target:
    cell = target.cells[group]
    return Target(cell.mean.value, cell.sd.value, cell.mean.half_unit, cell.sd.half_unit)


def _display_target(target: Target, var: Variable) -> Target:
    """The target to the decimals kypho's tables show, where finer than the paper's.

    The paper printed "32" and "5.5"; kypho shows two decimals. Aiming at 32.00 and
    5.50 (when the data's resolution allows it) makes kypho's tables show the paper's
    numbers, not merely numbers that round to them.
    """
    if var.precision is None:
        return target
    half = 0.5 * 10.0 ** (-var.precision)
    return Target(target.mean, target.sd, min(target.mean_half, half), min(target.sd_half, half))


def _stack(blocks: list[Columns], group_column: str) -> Columns:
    """The blocks' columns one under another, each block freed once copied."""
    total = sum(len(b[group_column]) for b in blocks)
    out: Columns = {}
    for name in blocks[0]:
        # the widest string type of any block, so that no value is cut
        dtype = np.result_type(*(b[name].dtype for b in blocks))
        out[name] = np.empty(total, dtype=dtype)
    start = 0
    while blocks:
        block = blocks.pop(0)
        size = len(block[group_column])
        for name in out:
            out[name][start : start + size] = block[name]
        start += size
    return out


# The keys of a step that name schema columns (or repeated measures), by kind.
_COLUMN_KEYS: Mapping[str, tuple[str, ...]] = {
    "counts": ("column",),
    "subtype": ("column",),
    "cement_distribution": ("column",),
    "leak_types": ("column", "sites"),
    "latent": (),
    "continuous": ("column",),
    "trajectories": ("measure",),
    "percent_loss": ("column", "before", "after"),
    "height_ratios": ("level",),
    "landmarks": ("height", "angle"),
}


def _step_columns(step: Mapping[str, Any]) -> list[str]:
    """Every schema column or repeated measure a step names."""
    names = [str(step[k]) for k in _COLUMN_KEYS[str(step["draw"])] if k in step]
    kind = step["draw"]
    if kind == "counts" and "then" in step:
        names.append(str(step["then"]["column"]))
    if kind == "cement_distribution":
        names.append(str(step["pattern"]["column"]))
        names.extend(str(c) for c in step["areas"])
    if kind == "subtype":
        names.extend(str(c) for c in step["flags"])
    if kind == "height_ratios":
        for side in step["sides"]:
            names.extend(str(side[k]) for k in ("ratio", "injured", "above", "below"))
    if kind == "landmarks":
        names.extend(str(c) for pair in step["corners"].values() for c in pair)
    for key in ("by", "before_mean", "depth_mm"):
        by = step.get(key)
        if isinstance(by, Mapping):
            inner = by.get("by", by)
            if isinstance(inner, Mapping) and "column" in inner:
                names.append(str(inner["column"]))
    return names


def _check_names(schema: Schema, spec: SynthSpec) -> None:
    needed: list[str] = []
    for step in spec.steps:
        try:
            needed.extend(_step_columns(step))
        except (KeyError, TypeError, AttributeError) as exc:
            raise SchemaError(
                f"{spec.source}: the {step['draw']!r} step lacks {exc}; see the file's header"
            ) from None
    needed += [c for c, _ in spec.ineligible]
    needed += [str(v) for k, v in spec.dates.items() if k == "operation"]
    needed += [str(e["column"]) for e in spec.ids]
    missing = list(dict.fromkeys(c for c in needed if c not in schema and c not in schema.repeated))
    if missing:
        raise SchemaError(
            "the synthetic cohort needs schema variables "
            + ", ".join(repr(m) for m in missing)
            + " that this schema lacks"
        )


@dataclass
class _Block:
    """One group's patients, drawn step by step as the specification lists them."""

    rng: np.random.Generator
    schema: Schema
    spec: SynthSpec
    targets: Targets
    group: str
    n: int
    n_pub: int
    exact: bool = False
    rho: float = 0.5
    cols: Columns = field(default_factory=dict)
    got: Achieved = field(default_factory=Achieved)
    latent: dict[str, FloatArray] = field(default_factory=dict)

    def draw(self, exact: bool, rho: float) -> Columns:
        """Every step, then the eligibility columns; returns the columns."""
        self.exact, self.rho = exact, rho
        self.cols[self.schema.group_column] = np.full(self.n, self.group)
        for step in self.spec.steps:
            _STEPS[str(step["draw"])](self, step)
        _eligible_baseline(self.rng, self.cols, self.n, self.schema)
        return self.cols

    def labels(self, column: str, rest: str) -> npt.NDArray[np.str_]:
        """The published counts of ``column`` (scaled to the group), shuffled."""
        count_t = self.targets.counts
        counts = (
            _scaled(count_t[column].counts, self.group, self.n, self.n_pub)
            if column in count_t
            else {}
        )
        return _labels(self.rng, self.n, counts, rest)

    def by_code(self, spec: Mapping[str, Any], otherwise: float) -> FloatArray:
        """A value per patient from an earlier column's codes (``otherwise`` for the rest)."""
        out = np.full(self.n, float(otherwise))
        codes = self.got.codes[str(spec["column"])]
        for code, value in spec["values"].items():
            out[codes == code] = float(value)
        return out

    def realise(
        self,
        column: str,
        z: FloatArray,
        to_grid: Callable[[FloatArray], Grid],
        fallback: tuple[float, float],
    ) -> None:
        """Draw ``column`` to its published mean ± SD (its fallback when unpublished)."""
        n, schema, got = self.n, self.schema, self.got
        target = self.targets.continuous_for(column)
        lo, hi = _bounds(schema, column, target)
        if target is not None and self.group in target.cells:
            tgt = _target(target, self.group)
        else:
            # not published: kypho's default, non-negative, and said so in the report
            target = None
            tgt = Target(fallback[0], fallback[1], 0.5, 0.5)
            lo = 0.0 if lo is None else lo
            got.defaults[column] = fallback
        y = fit(shape(z, tgt.mean, tgt.sd, lo, hi), tgt.mean, tgt.sd, lo, hi)
        y_grid, step, apply = to_grid(y)
        if self.exact and target is not None:
            lo_a = np.full(n, -np.inf if lo is None else lo)
            hi_a = np.full(n, np.inf if hi is None else hi)
            k, ok = repair(y_grid, step, lo_a, hi_a, _display_target(tgt, schema[column]), self.rng)
            if not ok:
                k, _ = repair(y_grid, step, lo_a, hi_a, tgt, self.rng)
            y_grid = apply(k)
            got.handles[column] = (Movable(y_grid.copy(), step, lo_a, hi_a, tgt, k), apply)
        else:
            y_grid = apply(np.zeros(n, dtype=np.int64))
        if target is not None:
            got.values[target.column] = y_grid

    def direct(self, column: str, res: float) -> Callable[[FloatArray], Grid]:
        """The grid of a value stored as drawn, to its resolution."""
        integer = self.schema[column].type == "integer"

        def to_grid(y: FloatArray) -> Grid:
            base = np.round(y / res) * res

            def apply(k: npt.NDArray[np.int64]) -> FloatArray:
                v = _round_res(base + k * res, res)
                self.cols[column] = v.astype(np.int64) if integer else v
                return v

            return base, np.full(self.n, res), apply

        return to_grid


def _fallback(step: Mapping[str, Any]) -> tuple[float, float]:
    mean, sd = step["fallback"]
    return float(mean), float(sd)


def _step_counts(b: _Block, step: Mapping[str, Any]) -> None:
    """A category or boolean column with the published counts exactly."""
    column = str(step["column"])
    drawn = b.labels(column, str(step["rest"]))
    var = b.schema[column]
    if var.type == "boolean":
        flags = drawn == "true"
        b.cols[column] = flags
        b.got.codes[column] = np.where(flags, "true", "false")
    else:
        if not var.derived:
            b.cols[column] = drawn
        b.got.codes[column] = drawn
    then = step.get("then")
    if then is not None:
        finer = np.full(b.n, "", dtype="<U8")
        for code, weights in then["weights"].items():
            sel = drawn == code
            w = np.array(list(weights.values()), dtype=np.float64)
            finer[sel] = b.rng.choice(list(weights), size=int(sel.sum()), p=w / w.sum())
        b.cols[str(then["column"])] = finer
        b.got.codes[str(then["column"])] = finer


def _step_cement_grade(b: _Block, step: Mapping[str, Any]) -> None:
    """Filling pattern and film areas that :func:`kypho.classify.cement_grade` grades back."""
    column = str(step["column"])
    grade = b.labels(column, str(step["rest"]))
    high = np.isin(grade, list(step["high"]))
    patterns = step["pattern"]["grades"]
    pattern = np.full(b.n, "", dtype=f"<U{max(len(str(p)) for p in patterns.values())}")
    for code, value in patterns.items():
        pattern[grade == code] = value
    b.cols[str(step["pattern"]["column"])] = pattern
    for area, bands in step["areas"].items():
        hi_band = [int(v) for v in bands["high"]]
        lo_band = [int(v) for v in bands["low"]]
        on_high = b.rng.integers(hi_band[0], hi_band[1], b.n)
        on_low = b.rng.integers(lo_band[0], lo_band[1], b.n)
        b.cols[str(area)] = np.where(high, on_high, on_low).astype(np.float64)
    b.got.codes[column] = grade


def _step_leakage(b: _Block, step: Mapping[str, Any]) -> None:
    """Leak / no leak by the published counts; one leak type per leaking patient."""
    leak = b.labels(str(step["column"]), str(step["rest"])) == "true"
    types = b.targets.leak_types.get(b.group, {})
    sites = np.full(b.n, "", dtype="<U16")
    k = int(leak.sum())
    if k:
        codes = list(types) or [str(step["default_type"])]
        weights = [types[c] for c in codes] if types else [1]
        drawn = b.rng.permutation(np.repeat(np.array(codes), apportion(k, weights)))
        sites[np.flatnonzero(leak)] = drawn
    b.cols[str(step["sites"])] = sites
    b.got.codes[str(step["column"])] = np.where(leak, "true", "false")
    b.got.leak_sites = sites


def _step_subtype(b: _Block, step: Mapping[str, Any]) -> None:
    """A category drawn by weights, and the boolean columns each code implies."""
    weights = step["weights"]
    p = np.array([float(w) for w in weights.values()])
    subtype = b.rng.choice(list(weights), size=b.n, p=p / p.sum())
    b.cols[str(step["column"])] = subtype
    for flag, codes in step["flags"].items():
        b.cols[str(flag)] = np.isin(subtype, list(codes))


def _step_latent(b: _Block, step: Mapping[str, Any]) -> None:
    """A per-patient effect for later steps: N(mean, sd), times a factor by code."""
    if "mean" in step:
        effect = b.rng.normal(float(step["mean"]), float(step["sd"]), b.n)
    else:
        effect = b.rng.standard_normal(b.n)
    if "by" in step:
        effect = effect * b.by_code(step["by"], float(step["otherwise"]))
    b.latent[str(step["name"])] = effect


def _step_continuous(b: _Block, step: Mapping[str, Any]) -> None:
    column = str(step["column"])
    z = b.rng.standard_normal(b.n)
    b.realise(column, z, b.direct(column, float(step["resolution"])), _fallback(step))


def _step_trajectories(b: _Block, step: Mapping[str, Any]) -> None:
    """A repeated measure whose timepoints correlate (rho), optionally through a latent."""
    columns = b.schema.measure_columns(str(step["measure"]))
    latent = b.latent[str(step["latent"])] if "latent" in step else None
    if latent is not None and step.get("sign", 1) == -1:
        latent = -latent
    z = trajectories(b.rng, b.n, len(columns), rho=b.rho, latent=latent)
    res = float(step["resolution"])
    for j, column in enumerate(columns.values()):
        b.realise(column, z[:, j], b.direct(column, res), _fallback(step))


def _step_percent_loss(b: _Block, step: Mapping[str, Any]) -> None:
    """A published % loss drawn through the values before and after (blood loss, Hb)."""
    res = float(step["resolution"])
    spec = step["before_mean"]
    mean = (
        b.by_code(spec["by"], float(spec["otherwise"]))
        if isinstance(spec, Mapping)
        else np.full(b.n, float(spec))
    )
    before = _round_res(b.rng.normal(mean, float(step["before_sd"])), res)
    b.cols[str(step["before"])] = before
    after_col = str(step["after"])

    def grid(y: FloatArray) -> Grid:
        after = _round_res(before * (1.0 - y / 100.0), res)

        def apply(k: npt.NDArray[np.int64]) -> FloatArray:
            b.cols[after_col] = _round_res(after - k * res, res)
            return _percent_loss(before, np.asarray(b.cols[after_col], dtype=np.float64))

        return _percent_loss(before, after), res / before * 100.0, apply

    b.realise(str(step["column"]), b.rng.standard_normal(b.n), grid, _fallback(step))


def _step_height_ratios(b: _Block, step: Mapping[str, Any]) -> None:
    """Published height ratios through the injured and the neighbouring heights."""
    res = float(step["resolution"])
    level_mm = _level_heights(
        b.cols[str(step["level"])],
        b.latent[str(step["body"])],
        step["heights_mm"],
        float(step["below_last_mm"]),
    )
    sd = float(step["neighbour_sd"])
    for side in step["sides"]:
        factor = float(side["factor"])
        injured = b.schema.measure_columns(str(side["injured"]))
        z_h = trajectories(
            b.rng, b.n, len(injured), rho=b.rho, latent=b.latent[str(step["latent"])]
        )
        for j, tp in enumerate(injured):
            above = _round_res(level_mm[0] * factor * b.rng.normal(1.0, sd, b.n), res)
            below = _round_res(level_mm[1] * factor * b.rng.normal(1.0, sd, b.n), res)
            b.cols[b.schema.measure_columns(str(side["above"]))[tp]] = above
            b.cols[b.schema.measure_columns(str(side["below"]))[tp]] = below
            ratio_col = b.schema.measure_columns(str(side["ratio"]))[tp]
            b.realise(
                ratio_col,
                z_h[:, j],
                _ratio_grid(b, injured[tp], above, below, res),
                _fallback(step),
            )


def _ratio_grid(
    b: _Block, name: str, above: FloatArray, below: FloatArray, res: float
) -> Callable[[FloatArray], Grid]:
    ref = (above + below) / 2.0

    def grid(y: FloatArray) -> Grid:
        inj = _round_res(y / 100.0 * ref, res)

        def apply(k: npt.NDArray[np.int64]) -> FloatArray:
            b.cols[name] = _round_res(inj + k * res, res)
            return _ratio(np.asarray(b.cols[name], dtype=np.float64), above, below)

        return _ratio(inj, above, below), res / ref * 100.0, apply

    return grid


def _step_landmarks(b: _Block, step: Mapping[str, Any]) -> None:
    """Endplate corners on the lateral film, consistent with the heights and wedge angle.

    In the vertebra's own frame (mm): inferior endplate from the posterior corner
    (0, 0) to the anterior corner (D, 0); superior anterior corner (D, h_ant);
    superior posterior corner (0, h_ant + D·tan w), so that the anterior height is
    the stored one and the angle between the endplate lines is the stored wedge
    angle w. Each patient's film then rotates (sagittal alignment), scales (px per mm
    × magnification) and shifts the points; coordinates are kept to 0.1 px.
    :func:`kypho.measures.wedge_angle_from_landmarks` gives back w to within a few
    hundredths of a degree.
    """
    corners: Mapping[str, tuple[str, str]] = step["corners"]
    if any(c not in b.schema.repeated for pair in corners.values() for c in pair):
        return
    n, rng = b.n, b.rng
    depth_spec = step["depth_mm"]
    depth = rng.normal(
        b.by_code(depth_spec["by"], float(depth_spec["otherwise"])), float(depth_spec["sd"])
    )
    mag_mean, mag_sd = (float(v) for v in step["magnification"])
    scale = float(step["px_per_mm"]) * rng.normal(mag_mean, mag_sd, n)
    theta = np.radians(rng.normal(0.0, float(step["rotation_sd"]), n))
    cos, sin = np.cos(theta), np.sin(theta)
    lo, hi = (float(v) for v in step["offset_px"])
    x0, y0 = rng.uniform(lo, hi, n), rng.uniform(lo, hi, n)
    heights = b.schema.measure_columns(str(step["height"]))
    angles = b.schema.measure_columns(str(step["angle"]))
    first = next(iter(corners.values()))[0]
    for tp in b.schema.repeated[first]:
        h_ant = b.cols.get(heights.get(tp, ""))
        wedge = b.cols.get(angles.get(tp, ""))
        if h_ant is None or wedge is None:
            continue
        h = np.asarray(h_ant, dtype=np.float64)
        h_post = h + depth * np.tan(np.radians(np.asarray(wedge, dtype=np.float64)))
        frame = {
            "inf_post": (np.zeros(n), np.zeros(n)),
            "inf_ant": (depth, np.zeros(n)),
            "sup_ant": (depth, h),
            "sup_post": (np.zeros(n), h_post),
        }
        for corner, (x, y) in frame.items():
            x_col, y_col = corners[corner]
            b.cols[f"{x_col}_{tp}"] = np.round(x0 + scale * (cos * x - sin * y), 1)
            b.cols[f"{y_col}_{tp}"] = np.round(y0 + scale * (sin * x + cos * y), 1)


_STEPS: Mapping[str, Callable[[_Block, Mapping[str, Any]], None]] = {
    "counts": _step_counts,
    "subtype": _step_subtype,
    "cement_distribution": _step_cement_grade,
    "leak_types": _step_leakage,
    "latent": _step_latent,
    "continuous": _step_continuous,
    "trajectories": _step_trajectories,
    "percent_loss": _step_percent_loss,
    "height_ratios": _step_height_ratios,
    "landmarks": _step_landmarks,
}


def _percent_loss(before: FloatArray, after: FloatArray) -> FloatArray:
    """:func:`kypho.measures.blood_loss` on float arrays, with the same arithmetic."""
    out: FloatArray = (before - after) / before * 100.0
    return out


def _ratio(injured: FloatArray, above: FloatArray, below: FloatArray) -> FloatArray:
    """:func:`kypho.measures.height_ratio` on float arrays, with the same arithmetic."""
    ref = (above + below) / 2.0
    out: FloatArray = injured / ref * 100.0
    return out


def _round_res(x: FloatArray, res: float) -> FloatArray:
    """Round to the resolution, as decimals (so 23.4 is stored as the float nearest 23.4)."""
    decimals = max(0, round(float(-np.log10(res))))
    return np.round(np.round(x / res) * res, decimals)


def _level_heights(
    level: npt.NDArray[np.generic],
    body: FloatArray,
    heights_mm: Mapping[str, float],
    below_last: float,
) -> tuple[FloatArray, FloatArray]:
    """Heights of the vertebrae above and below the fractured one, scaled by body size.

    ``heights_mm`` lists every level from the top down with its height; the vertebra
    below the last level has ``below_last``.
    """
    mm = np.array([float(v) for v in heights_mm.values()])
    pos = np.full(len(level), -1, dtype=np.int64)
    for i, name in enumerate(heights_mm):
        pos[level == name] = i
    above = mm[np.clip(pos - 1, 0, len(mm) - 1)]
    below = np.where(pos + 1 < len(mm), mm[np.clip(pos + 1, 0, len(mm) - 1)], below_last)
    return above * body, below * body


def _eligible_baseline(rng: np.random.Generator, cols: Columns, n: int, schema: Schema) -> None:
    """Fill each criterion's column, not generated otherwise, so the patient is eligible.

    Read from the schema's criteria: an inclusion ``==`` gets the required value, an
    exclusion gets ``False`` (the condition is absent), and an inclusion bound on a
    number (the T-score ≤ −2.5) gets values beyond it, one decimal, a gamma-shaped
    distance (mean 0.8) past the threshold.
    """
    for crit in schema.criteria:
        name = crit.variable
        if name in cols:
            continue
        var = schema[name]
        if crit.kind == "exclusion":
            if var.type == "boolean" and crit.op == "==" and crit.value is True:
                cols[name] = np.zeros(n, dtype=bool)
            continue
        if crit.op == "==":
            cols[name] = np.full(n, crit.value)
        elif crit.op in ("<=", "<", ">=", ">") and var.type == "number":
            sign = -1.0 if crit.op in ("<=", "<") else 1.0
            # strict bounds step one decimal past the threshold
            start = float(crit.value) + (sign * 0.1 if crit.op in ("<", ">") else 0.0)
            values = start + sign * np.floor(rng.gamma(2.0, 0.4, n) * 10.0) / 10.0
            lo = var.min if isinstance(var.min, float) else -np.inf
            hi = var.max if isinstance(var.max, float) else np.inf
            cols[name] = np.round(np.clip(values, lo, hi), 1)
        elif crit.op == "in":
            cols[name] = np.full(n, next(iter(crit.value)))


def _criterion_bounds(schema: Schema, column: str) -> tuple[float | None, float | None]:
    """Bounds an inclusion criterion puts on a column (age ≥ 60: ``(60, None)``)."""
    lo: float | None = None
    hi: float | None = None
    for crit in schema.criteria:
        if crit.kind != "inclusion" or crit.variable != column:
            continue
        if crit.op in (">=", ">") and isinstance(crit.value, int | float):
            lo = float(crit.value) + (1.0 if crit.op == ">" else 0.0)
        elif crit.op in ("<=", "<") and isinstance(crit.value, int | float):
            hi = float(crit.value) - (1.0 if crit.op == "<" else 0.0)
    return lo, hi


def _make_ineligible(
    data: Columns, start: int, count: int, failures: tuple[tuple[str, Any], ...]
) -> None:
    for j in range(count):
        column, value = failures[j % len(failures)]
        row = start + j
        if value is None:
            arr = data[column].astype(np.float64)
            arr[row] = np.nan
            data[column] = arr
        else:
            data[column][row] = value


# Mean length of a month in days (365.25 / 12), for follow-up in months.
DAYS_PER_MONTH = 30.4375


def _add_dates(
    rng: np.random.Generator, data: Columns, n: int, dates: Mapping[str, Any], schema: Schema
) -> None:
    """Operation dates in the enrolment window, follow-up after it, birth dates from age."""
    window: tuple[dt.date, dt.date] = dates["enrolment"]
    first = np.datetime64(window[0].isoformat(), "D")
    span = (np.datetime64(window[1].isoformat(), "D") - first).astype(np.int64) + 1
    op = first + rng.integers(0, span, n).astype("timedelta64[D]")
    data[str(dates["operation"])] = op
    followup = dates.get("followup")
    if followup is not None:
        shape_k, scale = (float(v) for v in followup["gamma"])
        days = int(followup["min_days"]) + np.round(rng.gamma(shape_k, scale, n)).astype(np.int64)
        data[str(followup["column"])] = op + days.astype("timedelta64[D]")
        if "months" in followup:
            data[str(followup["months"])] = np.floor(days / DAYS_PER_MONTH * 10.0) / 10.0
    birth = dates.get("birth")
    if birth is not None:
        age_column = str(birth["age_column"])
        age = np.asarray(data[age_column], dtype=np.int64)
        op_year = op.astype("datetime64[Y]").astype(np.int64) + 1970
        op_doy = (op - op.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
        # a birthday later in the year than the operation has not come yet: born a year earlier
        birth_doy = rng.integers(0, 365, n)
        earliest = schema[str(birth["column"])].min
        if isinstance(earliest, dt.date):
            # The far tail of a large cohort's ages (about 40 per million draws at
            # 118-120) would put the birth before the schema's earliest date of birth:
            # such an age is lowered to the oldest one a valid date of birth allows.
            oldest = op_year - earliest.year - (birth_doy > op_doy)
            if np.any(age > oldest):
                age = np.minimum(age, oldest)
                data[age_column] = age.astype(np.asarray(data[age_column]).dtype)
        birth_year = op_year - age - (birth_doy > op_doy)
        jan1 = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        data[str(birth["column"])] = jan1 + np.minimum(birth_doy, 364).astype("timedelta64[D]")


def _numbered(prefix: str, digits: npt.NDArray[np.uint32], width: int) -> npt.NDArray[np.str_]:
    """``prefix`` + the last ``width`` digits, built as code points (no per-patient loop)."""
    n = len(digits)
    head = np.broadcast_to(np.array([ord(c) for c in prefix], dtype=np.uint32), (n, len(prefix)))
    points = np.ascontiguousarray(np.concatenate([head, digits[:, -width:]], axis=1))
    out: npt.NDArray[np.str_] = points.view(f"<U{len(prefix) + width}").ravel()
    return out


def _add_ids(
    data: Columns,
    n: int,
    ids: tuple[Mapping[str, Any], ...],
    *,
    start: int = 0,
    total: int | None = None,
) -> None:
    """Numbered ids of rows ``start + 1`` to ``start + n`` of a cohort of ``total``
    (default ``n``): at least 3 digits (4 for a ``wide`` one), more as ``total`` needs."""
    width = max(3, len(str(n if total is None else total)))
    widest = max(4, width)
    numbers = np.arange(start + 1, start + n + 1, dtype=np.int64)
    # the decimal digits of 1..n once, as code points, zero-padded to the widest label
    powers = 10 ** np.arange(widest - 1, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + ord("0")).astype(np.uint32)
    for entry in ids:
        wide = bool(entry.get("wide", False))
        data[str(entry["column"])] = _numbered(
            str(entry["prefix"]), digits, widest if wide else width
        )


def _typed(schema: Schema, data: Columns, n: int, note: Mapping[str, str] | None) -> pd.DataFrame:
    """One column per schema input variable, typed by :func:`kypho.schema.dtypes.typed_column`
    (the dtypes :func:`kypho.validation.validate` gives)."""
    out: dict[str, pd.Series] = {}
    note_column = note["column"] if note else None
    for var in schema.input_variables:
        values: Any = data.get(var.name)
        if note is not None and var.name == note_column:
            values = pa.repeat(pa.scalar(note["text"], pa.string()), n)
        elif values is not None and var.type in ("category", "ordinal"):
            # positions into the codes, not strings, so that a million rows stay fast
            codes = np.full(n, -1, dtype=np.int16)
            for j, code in enumerate(var.codes):
                codes[values == code] = j
            values = codes
        elif values is not None and var.type == "boolean":
            values = np.asarray(values, dtype=bool)
        elif values is not None and var.type == "integer":
            values = np.asarray(values, dtype=np.int64)
        elif values is not None and var.type == "number":
            values = np.asarray(values, dtype=np.float64)
        elif values is not None and var.type != "date":
            # text: through Arrow, which pandas' text columns hold (no Python objects)
            values = _arrow_text(np.asarray(values).astype(str))
        out[var.name] = typed_column(var, values, n)
    return pd.DataFrame(out, copy=False)


def _arrow_text(values: npt.NDArray[np.str_]) -> pa.Array:
    """NumPy text as an Arrow string array; ASCII text is encoded as a whole array.

    NumPy keeps text as fixed-width UTF-32 padded with NULs; for ASCII each code
    point is its UTF-8 byte, so the bytes and offsets are built by array
    operations (pyarrow's own conversion encodes each string in turn).
    """
    n = len(values)
    width = values.dtype.itemsize // 4
    if n == 0 or width == 0:
        return pa.array(values, type=pa.string())
    points = np.ascontiguousarray(values).view(np.uint32).reshape(n, width)
    if int(points.max()) >= 128:
        return pa.array(values, type=pa.string())
    filled = points != 0
    # a string's length is its last non-NUL position (NumPy drops trailing NULs only)
    lengths = np.where(filled.any(axis=1), width - np.argmax(filled[:, ::-1], axis=1), 0)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 2**31:
        return pa.array(values, type=pa.string())
    kept = np.arange(width) < lengths[:, None]
    data = points[kept].astype(np.uint8)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )
