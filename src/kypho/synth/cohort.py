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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kypho.audit.loader import load_paper_tables
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
from kypho.synth.targets import PAPER_BINDING, Binding, ContinuousTarget, Targets, collect_targets

__all__ = ["BUNDLED_SEED", "Synthesis", "synthesize"]

FloatArray = npt.NDArray[np.float64]
Columns = dict[str, npt.NDArray[np.generic]]

# Above this many patients per group the summaries are matched by exact
# standardisation only; the greedy repair to the printed rounding is for
# published-size cohorts.
EXACT_UP_TO = 500

# How finely each generated measurement is stored: the resolution of the
# instrument (whole years, whole minutes, 0.1 ml on the syringe, 1 mm on a 10 cm
# VAS line, 0.1 mm and 0.1° on the film, 0.1 g/L of haemoglobin).
RESOLUTION: Mapping[str, float] = {
    "age": 1.0,
    "operation_time": 1.0,
    "cement_volume": 0.1,
    "vas": 0.1,
    "wedge_angle": 0.1,
    "height": 0.1,
    "hb": 0.1,
}

# Thoracolumbar OVCF cluster at the junction: relative frequency of each level.
LEVEL_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "thoracic": {"T5": 1, "T6": 1, "T7": 2, "T8": 2, "T9": 3, "T10": 4, "T11": 9, "T12": 16},
    "lumbar": {"L1": 16, "L2": 9, "L3": 4, "L4": 2, "L5": 1},
}

# Denis compression subtypes and the walls that collapsed in each.
SUBTYPES: Mapping[str, tuple[float, bool, bool, bool]] = {
    # subtype: (weight, superior endplate, inferior endplate, anterior wall)
    "A": (0.30, True, True, False),
    "B": (0.35, True, False, False),
    "C": (0.15, False, True, False),
    "D": (0.20, False, False, True),
}

# Screened-but-ineligible patients: (column, value) making each fail one criterion.
INELIGIBLE: tuple[tuple[str, object], ...] = (
    ("age", 57),
    ("age", 55),
    ("age", 58),
    ("bmd_t_score", -2.0),
    ("bmd_t_score", -1.8),
    ("n_fractured_levels", 2),
    ("n_fractured_levels", 3),
    ("vertebral_metastasis", True),
    ("coagulation_dysfunction", True),
    ("denis_type", "burst"),
    ("asia_grade", "D"),
    ("other_fracture", True),
    ("progressive_nerve_injury", True),
    ("bmd_t_score", None),
)

NOTE = "synthetic record (kypho synth): not a real patient"
ENROLMENT = (dt.date(2020, 1, 1), dt.date(2021, 6, 30))
MIN_FOLLOWUP_DAYS = 183  # "followed up for at least 6 months"
RHO = 0.5
# The seed of the bundled kypho/data/cohort.csv (and the CLI's default).
BUNDLED_SEED = 20200101


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
    binding: Binding = PAPER_BINDING,
    exact: bool | None = None,
    rho: float = RHO,
) -> Synthesis:
    """Generate individual-patient data consistent with published summary tables.

    Parameters
    ----------
    tables
        The published tables; ``None`` uses the kypho paper's Tables 1–7.
    n
        Patients included; ``None`` uses the published group sizes. Otherwise the
        groups are split in the published proportion and every count scaled to it
        (largest remainder, so counts add up exactly).
    seed
        Seed of the NumPy generator: the same seed gives the same cohort.
    ineligible
        Screened-but-ineligible patients added (each failing a named criterion,
        see :data:`INELIGIBLE`); ``None`` adds 14 at the published size and none
        otherwise.
    schema
        The study schema; ``None`` uses the built-in one.
    binding
        How the tables' rows map to schema columns.
    exact
        Repair every group summary to the printed rounding; ``None`` does so when
        each group has at most 500 patients.
    rho
        Correlation between timepoints of a patient's latent trajectory.

    Returns
    -------
    Synthesis

    Raises
    ------
    DataError
        When ``n``, ``ineligible`` or ``rho`` is out of range, or the tables' groups
        are not the schema's.
    SchemaError
        When the binding names a column the schema lacks.

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

    Examples
    --------
    >>> s = synthesize(seed=1)
    >>> len(s.data), int(s.included.sum())
    (124, 110)
    """
    schema = schema or load_schema()
    tables = tables or load_paper_tables()
    if n is not None and n < 2:
        raise DataError(f"n must be a whole number of at least 2 (got {n})")
    if ineligible is not None and ineligible < 0:
        raise DataError(f"ineligible must be 0 or more (got {ineligible})")
    if not 0.0 <= rho < 1.0:
        raise DataError(f"rho must be from 0 to below 1 (got {rho})")
    _check_names(schema)
    targets = collect_targets(tables, schema, binding)
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
    n_bad = (14 if n is None else 0) if ineligible is None else ineligible
    rng = np.random.default_rng(seed)

    blocks: list[Columns] = []
    achieved: dict[str, Achieved] = {}
    for group in schema.group_levels:
        is_exact = sizes[group] <= EXACT_UP_TO if exact is None else exact
        cols, got = _group_block(
            rng, schema, targets, group, sizes[group], published[group], is_exact, rho
        )
        blocks.append(cols)
        achieved[group] = got
    if sizes == published and all(
        (sizes[g] <= EXACT_UP_TO if exact is None else exact) for g in schema.group_levels
    ):
        _aim_at_published_t(rng, targets, achieved, list(schema.group_levels))
    included_n = sum(sizes.values())
    if n_bad:
        bad_split = apportion(n_bad, [1.0] * len(schema.group_levels))
        for group, k in zip(schema.group_levels, bad_split, strict=True):
            if k:
                cols, _ = _group_block(
                    rng, schema, targets, group, int(k), published[group], False, rho
                )
                blocks.append(cols)
    data = _stack(blocks)
    total = len(data["group"])
    included = np.zeros(total, dtype=bool)
    included[:included_n] = True
    if n_bad:
        _make_ineligible(data, included_n, n_bad)
    _add_dates(rng, data, total)
    if total <= 2 * EXACT_UP_TO:
        # published-size cohorts list patients in order of operation, as a register
        # would; a large cohort stays group by group (reordering would double its memory)
        order = np.argsort(data["operation_date"], kind="stable")
        data = {k: v[order] for k, v in data.items()}
        included = included[order]
    _add_ids(data, total)
    frame = _typed(schema, data, total)
    report = build_report(
        targets,
        achieved,
        exact=all(
            (sizes[g] <= EXACT_UP_TO if exact is None else exact) for g in schema.group_levels
        ),
        sizes=sizes,
        published=published,
        schema=schema,
    )
    return Synthesis(
        data=frame,
        report=report,
        seed=seed,
        included=pd.Series(included, index=frame.index, name="included"),
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


def _stack(blocks: list[Columns]) -> Columns:
    """The blocks' columns one under another, each block freed once copied."""
    total = sum(len(b["group"]) for b in blocks)
    out: Columns = {}
    for name in blocks[0]:
        # the widest string type of any block, so that no value is cut
        dtype = np.result_type(*(b[name].dtype for b in blocks))
        out[name] = np.empty(total, dtype=dtype)
    start = 0
    while blocks:
        block = blocks.pop(0)
        size = len(block["group"])
        for name in out:
            out[name][start : start + size] = block[name]
        start += size
    return out


def _check_names(schema: Schema) -> None:
    needed = [
        "age",
        "sex",
        "level",
        "hb_pre",
        "hb_post",
        "cement_pattern",
        "cement_area_ap",
        "cement_area_lat",
        "leak_sites",
        "denis_subtype",
        "bmd_t_score",
        "operation_date",
        "last_followup_date",
    ]
    missing = [c for c in needed if c not in schema]
    for measure in ("vas", "ant_height_injured", "mid_height_injured", "wedge_angle"):
        if measure not in schema.repeated:
            missing.append(measure)
    if missing:
        raise SchemaError(
            "the synthetic cohort needs schema variables "
            + ", ".join(repr(m) for m in missing)
            + " that this schema lacks"
        )


def _labels(
    rng: np.random.Generator, n: int, counts: Mapping[str, int], rest: str
) -> npt.NDArray[np.str_]:
    """``n`` codes with exactly these counts (the remainder gets ``rest``), shuffled."""
    keys = [*counts, rest]
    sizes = [int(k) for k in counts.values()]
    sizes.append(max(n - sum(sizes), 0))
    arr = np.repeat(np.array(keys), sizes)[:n]
    shuffled: npt.NDArray[np.str_] = rng.permutation(arr)
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


def _group_block(
    rng: np.random.Generator,
    schema: Schema,
    targets: Targets,
    group: str,
    n: int,
    n_pub: int,
    exact: bool,
    rho: float,
) -> tuple[Columns, Achieved]:
    cols: Columns = {"group": np.full(n, group)}
    got = Achieved()
    count_t = targets.counts

    def labels(column: str, rest: str) -> npt.NDArray[np.str_]:
        counts = _scaled(count_t[column].counts, group, n, n_pub) if column in count_t else {}
        return _labels(rng, n, counts, rest)

    sex = labels("sex", "female")
    cols["sex"] = sex
    for flag in ("pain", "percussion_pain", "constipation"):
        cols[flag] = labels(flag, "false") == "true"
    region = labels("region", "thoracic")
    level = np.full(n, "", dtype="<U8")
    for name, weights in LEVEL_WEIGHTS.items():
        sel = region == name
        w = np.array(list(weights.values()), dtype=np.float64)
        level[sel] = rng.choice(list(weights), size=int(sel.sum()), p=w / w.sum())
    cols["level"] = level
    got.codes.update({"sex": sex, "region": region, "level": level})
    for flag in ("pain", "percussion_pain", "constipation"):
        got.codes[flag] = np.where(cols[flag], "true", "false")

    grade = labels("cement_grade", "IV")
    _cement(rng, cols, grade)
    got.codes["cement_grade"] = grade
    leak = labels("leakage", "false") == "true"
    cols["leak_sites"] = _leak_sites(rng, leak, targets.leak_types.get(group, {}), n, n_pub)
    got.codes["leakage"] = np.where(leak, "true", "false")
    got.leak_sites = cols["leak_sites"]

    p_sub = np.array([v[0] for v in SUBTYPES.values()])
    subtype = rng.choice(list(SUBTYPES), size=n, p=p_sub / p_sub.sum())
    cols["denis_subtype"] = subtype
    for j, name in enumerate(
        ("superior_endplate_collapse", "inferior_endplate_collapse", "anterior_wall_collapse")
    ):
        flags = {code: spec[j + 1] for code, spec in SUBTYPES.items()}
        cols[name] = np.isin(subtype, [code for code, on in flags.items() if on])

    male = sex == "male"
    # A patient's body size scales all of the patient's vertebral heights.
    body = rng.normal(1.0, 0.06, n) * np.where(male, 1.0, 0.95)
    severity = rng.standard_normal(n)

    def realise(
        column: str,
        target: ContinuousTarget | None,
        z: FloatArray,
        to_grid: Callable[
            [FloatArray],
            tuple[FloatArray, FloatArray, Callable[[npt.NDArray[np.int64]], FloatArray]],
        ],
        fallback: tuple[float, float],
    ) -> None:
        lo, hi = _bounds(schema, column, target)
        if target is not None and group in target.cells:
            tgt = _target(target, group)
        else:
            # not published: kypho's default, non-negative, and said so in the report
            target = None
            tgt = Target(fallback[0], fallback[1], 0.5, 0.5)
            lo = 0.0 if lo is None else lo
            got.defaults[column] = fallback
        y = fit(shape(z, tgt.mean, tgt.sd, lo, hi), tgt.mean, tgt.sd, lo, hi)
        y_grid, step, apply = to_grid(y)
        if exact and target is not None:
            lo_a = np.full(n, -np.inf if lo is None else lo)
            hi_a = np.full(n, np.inf if hi is None else hi)
            k, ok = repair(y_grid, step, lo_a, hi_a, _display_target(tgt, schema[column]), rng)
            if not ok:
                k, _ = repair(y_grid, step, lo_a, hi_a, tgt, rng)
            y_grid = apply(k)
            got.handles[column] = (Movable(y_grid.copy(), step, lo_a, hi_a, tgt, k), apply)
        else:
            y_grid = apply(np.zeros(n, dtype=np.int64))
        if target is not None:
            got.values[target.column] = y_grid

    def direct(
        column: str, res: float, integer: bool = False
    ) -> Callable[
        [FloatArray], tuple[FloatArray, FloatArray, Callable[[npt.NDArray[np.int64]], FloatArray]]
    ]:
        def to_grid(
            y: FloatArray,
        ) -> tuple[FloatArray, FloatArray, Callable[[npt.NDArray[np.int64]], FloatArray]]:
            base = np.round(y / res) * res

            def apply(k: npt.NDArray[np.int64]) -> FloatArray:
                v = _round_res(base + k * res, res)
                cols[column] = v.astype(np.int64) if integer else v
                return v

            return base, np.full(n, res), apply

        return to_grid

    for column in ("age", "operation_time", "cement_volume"):
        realise(
            column,
            targets.continuous_for(column),
            rng.standard_normal(n),
            direct(column, RESOLUTION[column], schema[column].type == "integer"),
            (70.0, 7.0) if column == "age" else (30.0, 5.0),
        )

    # blood loss through haemoglobin
    hb_res = RESOLUTION["hb"]
    hb_pre = _round_res(rng.normal(np.where(male, 128.0, 116.0), 11.0), hb_res)
    cols["hb_pre"] = hb_pre

    def hb_grid(
        y: FloatArray,
    ) -> tuple[FloatArray, FloatArray, Callable[[npt.NDArray[np.int64]], FloatArray]]:
        post = _round_res(hb_pre * (1.0 - y / 100.0), hb_res)

        def apply(k: npt.NDArray[np.int64]) -> FloatArray:
            cols["hb_post"] = _round_res(post - k * hb_res, hb_res)
            return blood_loss(hb_pre, np.asarray(cols["hb_post"], dtype=np.float64))

        return blood_loss(hb_pre, post), hb_res / hb_pre * 100.0, apply

    realise(
        "blood_loss",
        targets.continuous_for("blood_loss"),
        rng.standard_normal(n),
        hb_grid,
        (2.0, 0.8),
    )

    vas = schema.measure_columns("vas")
    z_vas = trajectories(rng, n, len(vas), rho=rho)
    for j, column in enumerate(vas.values()):
        realise(
            column,
            targets.continuous_for(column),
            z_vas[:, j],
            direct(column, RESOLUTION["vas"]),
            (3.0, 1.0),
        )

    # Heights: a shared severity effect links a patient's ratios over time; more
    # collapse (lower ratio) goes with a larger wedge angle.
    level_mm = _level_heights(level, body)
    res_h = RESOLUTION["height"]
    for side, factor in (("ant", 1.0), ("mid", 0.93)):
        injured = schema.measure_columns(f"{side}_height_injured")
        z_h = trajectories(rng, n, len(injured), rho=rho, latent=severity)
        for j, tp in enumerate(injured):
            above = _round_res(level_mm[0] * factor * rng.normal(1.0, 0.01, n), res_h)
            below = _round_res(level_mm[1] * factor * rng.normal(1.0, 0.01, n), res_h)
            cols[f"{side}_height_above_{tp}"] = above
            cols[f"{side}_height_below_{tp}"] = below
            ref = (above + below) / 2.0

            def ratio_grid(
                y: FloatArray,
                ref: FloatArray = ref,
                above: FloatArray = above,
                below: FloatArray = below,
                name: str = injured[tp],
            ) -> tuple[FloatArray, FloatArray, Callable[[npt.NDArray[np.int64]], FloatArray]]:
                inj = _round_res(y / 100.0 * ref, res_h)

                def apply(k: npt.NDArray[np.int64]) -> FloatArray:
                    cols[name] = _round_res(inj + k * res_h, res_h)
                    return height_ratio(np.asarray(cols[name], dtype=np.float64), above, below)

                return height_ratio(inj, above, below), res_h / ref * 100.0, apply

            ratio_col = f"{side}_height_ratio_{tp}"
            realise(
                ratio_col, targets.continuous_for(ratio_col), z_h[:, j], ratio_grid, (80.0, 8.0)
            )

    wedge = schema.measure_columns("wedge_angle")
    z_w = trajectories(rng, n, len(wedge), rho=rho, latent=-severity)
    for j, column in enumerate(wedge.values()):
        realise(
            column,
            targets.continuous_for(column),
            z_w[:, j],
            direct(column, RESOLUTION["wedge_angle"]),
            (10.0, 3.0),
        )
    _landmarks(rng, cols, schema, n)
    _eligible_baseline(rng, cols, n, schema)
    return cols, got


def _landmarks(rng: np.random.Generator, cols: Columns, schema: Schema, n: int) -> None:
    """Endplate corners on the lateral film, consistent with the heights and wedge angle.

    In the vertebra's own frame (mm): inferior endplate from the posterior corner
    (0, 0) to the anterior corner (D, 0); superior anterior corner (D, h_ant);
    superior posterior corner (0, h_ant + D·tan w), so that the anterior height is
    the stored one and the angle between the endplate lines is the stored wedge
    angle w. Each patient's film then rotates (sagittal alignment, SD 5°), scales
    (10 px/mm × magnification about 1.1) and shifts the points; coordinates are kept
    to 0.1 px. :func:`kypho.measures.wedge_angle_from_landmarks` gives back w to
    within a few hundredths of a degree.
    """
    corners = ("sup_ant", "sup_post", "inf_ant", "inf_post")
    if any(f"{c}_{axis}" not in schema.repeated for c in corners for axis in "xy"):
        return
    lumbar = cols["level"].astype("<U1") == "L"
    depth = rng.normal(np.where(lumbar, 35.0, 30.0), 2.0)
    scale = 10.0 * rng.normal(1.1, 0.03, n)
    theta = np.radians(rng.normal(0.0, 5.0, n))
    cos, sin = np.cos(theta), np.sin(theta)
    x0, y0 = rng.uniform(300.0, 700.0, n), rng.uniform(300.0, 700.0, n)
    for tp in schema.repeated["sup_ant_x"]:
        h_ant = cols.get(f"ant_height_injured_{tp}")
        wedge = cols.get(f"wedge_angle_{tp}")
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
            cols[f"{corner}_x_{tp}"] = np.round(x0 + scale * (cos * x - sin * y), 1)
            cols[f"{corner}_y_{tp}"] = np.round(y0 + scale * (sin * x + cos * y), 1)


def blood_loss(hb_pre: FloatArray, hb_post: FloatArray) -> FloatArray:
    """:func:`kypho.measures.blood_loss` on float arrays, with the same arithmetic."""
    out: FloatArray = (hb_pre - hb_post) / hb_pre * 100.0
    return out


def height_ratio(injured: FloatArray, above: FloatArray, below: FloatArray) -> FloatArray:
    """:func:`kypho.measures.height_ratio` on float arrays, with the same arithmetic."""
    ref = (above + below) / 2.0
    out: FloatArray = injured / ref * 100.0
    return out


def _round_res(x: FloatArray, res: float) -> FloatArray:
    """Round to the resolution, as decimals (so 23.4 is stored as the float nearest 23.4)."""
    decimals = max(0, round(float(-np.log10(res))))
    return np.round(np.round(x / res) * res, decimals)


def _level_heights(
    level: npt.NDArray[np.generic], body: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Anterior heights (mm) of the vertebrae above and below the fractured one.

    Plausible adult values rising down the spine (about 16 mm at T1 to 29 mm at L5).
    The ratios are unit-free, so only their relative size matters.
    """
    order = [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
    mm = np.array([15.0 + 0.7 * i for i in range(1, 13)] + [24.5 + 1.0 * i for i in range(1, 6)])
    pos = np.full(len(level), -1, dtype=np.int64)
    for i, name in enumerate(order):
        pos[level == name] = i
    above = mm[np.clip(pos - 1, 0, len(mm) - 1)]
    below = np.where(pos + 1 < len(mm), mm[np.clip(pos + 1, 0, len(mm) - 1)], 28.0)
    return above * body, below * body


def _cement(rng: np.random.Generator, cols: Columns, grade: npt.NDArray[np.generic]) -> None:
    """Filling pattern and film areas that :func:`kypho.classify.cement_grade` grades as ``grade``.

    Grades I/II: both films in 50–75 %; III/IV: both films above 75 %. Dense for
    I and III, spongy for II and IV.
    """
    n = len(grade)
    high = np.isin(grade, ["III", "IV"])
    cols["cement_pattern"] = np.where(np.isin(grade, ["I", "III"]), "dense", "spongy")
    ap = np.where(high, rng.integers(76, 96, n), rng.integers(52, 76, n))
    lat = np.where(high, rng.integers(76, 96, n), rng.integers(50, 76, n))
    cols["cement_area_ap"] = ap.astype(np.float64)
    cols["cement_area_lat"] = lat.astype(np.float64)


def _leak_sites(
    rng: np.random.Generator,
    leak: npt.NDArray[np.bool_],
    types: Mapping[str, int],
    n: int,
    n_pub: int,
) -> npt.NDArray[np.generic]:
    """One leak type per leaking patient, in the published proportions."""
    sites = np.full(n, "", dtype="<U16")
    k = int(leak.sum())
    if k == 0:
        return sites
    codes = list(types) or ["C"]
    weights = [types[c] for c in codes] if types else [1]
    counts = apportion(k, weights)
    drawn = rng.permutation(np.repeat(np.array(codes), counts))
    sites[np.flatnonzero(leak)] = drawn
    return sites


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


def _make_ineligible(data: Columns, start: int, count: int) -> None:
    for j in range(count):
        column, value = INELIGIBLE[j % len(INELIGIBLE)]
        row = start + j
        if value is None:
            arr = data[column].astype(np.float64)
            arr[row] = np.nan
            data[column] = arr
        else:
            data[column][row] = value  # type: ignore[assignment]


EARLIEST_BIRTH_YEAR = 1900
"""The earliest year of birth the schema accepts (its ``birth_date`` minimum)."""


def _add_dates(rng: np.random.Generator, data: Columns, n: int) -> None:
    first = np.datetime64(ENROLMENT[0].isoformat(), "D")
    span = (np.datetime64(ENROLMENT[1].isoformat(), "D") - first).astype(np.int64) + 1
    op = first + rng.integers(0, span, n).astype("timedelta64[D]")
    days = MIN_FOLLOWUP_DAYS + np.round(rng.gamma(2.0, 90.0, n)).astype(np.int64)
    data["operation_date"] = op
    data["last_followup_date"] = op + days.astype("timedelta64[D]")
    data["followup_months"] = np.floor(days / 30.4375 * 10.0) / 10.0
    age = np.asarray(data["age"], dtype=np.int64)
    op_year = op.astype("datetime64[Y]").astype(np.int64) + 1970
    op_doy = (op - op.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    # a birthday later in the year than the operation has not come yet: born a year earlier
    birth_doy = rng.integers(0, 365, n)
    # The far tail of a large cohort's ages (about 40 per million draws at 118-120)
    # would put the birth before the schema's earliest date of birth: such an age is
    # lowered to the oldest one a valid date of birth allows, so every row validates.
    oldest = op_year - EARLIEST_BIRTH_YEAR - (birth_doy > op_doy)
    if np.any(age > oldest):
        age = np.minimum(age, oldest)
        data["age"] = age.astype(np.asarray(data["age"]).dtype)
    birth_year = op_year - age - (birth_doy > op_doy)
    jan1 = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    data["birth_date"] = jan1 + np.minimum(birth_doy, 364).astype("timedelta64[D]")


def _numbered(prefix: str, digits: npt.NDArray[np.uint32], width: int) -> npt.NDArray[np.str_]:
    """``prefix`` + the last ``width`` digits, built as code points (no per-patient loop)."""
    n = len(digits)
    head = np.broadcast_to(np.array([ord(c) for c in prefix], dtype=np.uint32), (n, len(prefix)))
    points = np.ascontiguousarray(np.concatenate([head, digits[:, -width:]], axis=1))
    out: npt.NDArray[np.str_] = points.view(f"<U{len(prefix) + width}").ravel()
    return out


def _add_ids(data: Columns, n: int) -> None:
    width = max(3, len(str(n)))
    widest = max(4, width)
    numbers = np.arange(1, n + 1, dtype=np.int64)
    # the decimal digits of 1..n once, as code points, zero-padded to the widest label
    powers = 10 ** np.arange(widest - 1, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + ord("0")).astype(np.uint32)
    data["patient_id"] = _numbered("P", digits, width)
    data["patient_name"] = _numbered("Synthetic Patient ", digits, width)
    data["hospital_number"] = _numbered("SYN-", digits, widest)


def _typed(schema: Schema, data: Columns, n: int) -> pd.DataFrame:
    """One column per schema input variable, typed as :func:`kypho.validation.validate` types."""
    out: dict[str, pd.Series] = {}
    for var in schema.input_variables:
        values = data.get(var.name)
        if var.type in ("category", "ordinal") and values is not None:
            # integer codes, not strings, so that a million rows stay fast
            codes = np.full(n, -1, dtype=np.int16)
            for j, code in enumerate(var.codes):
                codes[values == code] = j
            out[var.name] = typed_column(var, codes)
        elif var.type == "boolean" and values is not None:
            out[var.name] = typed_column(var, np.asarray(values, dtype=bool))
        elif var.type == "integer" and values is not None:
            out[var.name] = typed_column(var, np.asarray(values, dtype=np.int64))
        elif var.type == "number" and values is not None:
            out[var.name] = typed_column(var, np.asarray(values, dtype=np.float64))
        elif var.type == "date" and values is not None:
            out[var.name] = typed_column(var, values.astype("datetime64[ns]"))
        elif var.name == "notes":
            out[var.name] = typed_column(var, [NOTE] * n)
        elif values is not None:
            out[var.name] = typed_column(var, values.astype(object))
        else:
            out[var.name] = typed_column(var, None, n)
    return pd.DataFrame(out, copy=False)
