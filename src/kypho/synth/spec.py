"""How a synthetic cohort is generated, as data: ``kypho/data/synth.yaml``.

A synthesis specification binds a paper's published rows to schema columns
(:class:`~kypho.synth.targets.Binding`) and lists, in order, how each patient's
columns are drawn (the ``steps``), which patients are made ineligible, and the
dates, ids and note of the records. :func:`load_synth_spec` reads and checks one;
:func:`kypho.synth.synthesize` follows it. The file's header documents the keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kypho.errors import SchemaError
from kypho.safe_yaml import load_yaml, read_yaml_file
from kypho.synth.targets import Binding

__all__ = ["STEP_KINDS", "SynthSpec", "load_synth_spec"]

#: The kinds of step a specification may use (``draw:``).
STEP_KINDS = (
    "counts",
    "subtype",
    "cement_distribution",
    "leak_types",
    "latent",
    "continuous",
    "trajectories",
    "percent_loss",
    "height_ratios",
    "landmarks",
)
_TOP_KEYS = frozenset(
    [
        "tables",
        "seed",
        "rho",
        "exact_up_to",
        "ineligible_at_published_size",
        "binding",
        "steps",
        "ineligible",
        "dates",
        "ids",
        "note",
    ]
)


@dataclass(frozen=True)
class SynthSpec:
    """A synthesis specification (see ``kypho/data/synth.yaml`` for every key).

    Attributes
    ----------
    binding
        Which published row is which schema column.
    steps
        How the columns are drawn, in the order of the random draws.
    seed
        The default seed (the bundled cohort's, for the built-in specification).
    rho
        Correlation between timepoints of a patient's latent trajectory.
    exact_up_to
        Above this many patients per group, summaries are matched by exact
        standardisation only (no repair to the printed rounding).
    ineligible_at_published_size
        Screened-but-ineligible patients added at the published size by default.
    ineligible
        ``(column, value)`` making each ineligible patient fail one criterion.
    dates, ids, note
        The enrolment window and follow-up; the record-id columns; a free-text note.
    tables
        The published tables (a summary-table YAML file), or ``None`` for the paper's.
    source
        Where the specification was read from.
    """

    binding: Binding
    steps: tuple[Mapping[str, Any], ...]
    seed: int = 0
    rho: float = 0.5
    exact_up_to: int = 500
    ineligible_at_published_size: int = 0
    ineligible: tuple[tuple[str, Any], ...] = ()
    dates: Mapping[str, Any] = field(default_factory=dict)
    ids: tuple[Mapping[str, Any], ...] = ()
    note: Mapping[str, str] | None = None
    tables: Path | None = None
    source: str = ""


def load_synth_spec(path: str | Path | None = None) -> SynthSpec:
    """Read a synthesis specification.

    Parameters
    ----------
    path
        A YAML file; ``None`` reads kypho's specification of the paper's cohort.
        A relative ``tables:`` path is taken from the file's folder.

    Returns
    -------
    SynthSpec

    Raises
    ------
    SchemaError
        When the file cannot be read or parsed, or a key or step is malformed.

    Examples
    --------
    >>> spec = load_synth_spec()
    >>> spec.seed, spec.steps[0]["draw"]
    (20200101, 'counts')
    """
    if path is None:
        text = resources.files("kypho.data").joinpath("synth.yaml").read_text(encoding="utf-8")
        source, folder = "kypho/data/synth.yaml", None
        doc = load_yaml(text, source, SchemaError)
    else:
        source, folder = str(path), Path(path).parent
        doc = read_yaml_file(Path(path), "synthesis specification", SchemaError)
    if not isinstance(doc, dict):
        raise SchemaError(f"{source}: a synthesis specification must be a YAML mapping")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise SchemaError(
            f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    steps = tuple(doc.get("steps") or ())
    for i, step in enumerate(steps, start=1):
        if not isinstance(step, Mapping) or step.get("draw") not in STEP_KINDS:
            got = step.get("draw") if isinstance(step, Mapping) else step
            raise SchemaError(
                f"{source}: step {i} draws {got!r}; the kinds are {', '.join(STEP_KINDS)}"
            )
    tables = doc.get("tables")
    note = doc.get("note")
    return SynthSpec(
        binding=_binding(doc.get("binding") or {}, source),
        steps=steps,
        seed=int(doc.get("seed", 0)),
        rho=float(doc.get("rho", 0.5)),
        exact_up_to=int(doc.get("exact_up_to", 500)),
        ineligible_at_published_size=int(doc.get("ineligible_at_published_size", 0)),
        ineligible=tuple((str(e["column"]), e.get("value")) for e in doc.get("ineligible") or ()),
        dates=_dates(doc.get("dates") or {}, source),
        ids=tuple(doc.get("ids") or ()),
        note={str(k): str(v) for k, v in note.items()} if isinstance(note, Mapping) else None,
        tables=None if tables is None else (folder or Path.cwd()) / str(tables),
        source=source,
    )


def _binding(doc: Mapping[str, Any], source: str) -> Binding:
    try:
        return Binding(
            continuous={
                (int(e["table"]), str(e["row"])): str(e["column"])
                for e in doc.get("continuous") or ()
            },
            repeated={int(k): str(v) for k, v in (doc.get("repeated") or {}).items()},
            counts={
                (int(e["table"]), str(e["row"])): (str(e["column"]), str(e["code"]))
                for e in doc.get("counts") or ()
            },
            categorical={
                (int(e["table"]), str(e["row"])): (
                    str(e["column"]),
                    {str(k): str(v) for k, v in (e.get("levels") or {}).items()},
                )
                for e in doc.get("categorical") or ()
            },
            leak_types={
                str(g): {str(k): int(v) for k, v in types.items()}
                for g, types in (doc.get("leak_types") or {}).items()
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(
            f"{source}: a binding entry is malformed ({exc}); each names table, row and column"
        ) from None


def _dates(doc: Mapping[str, Any], source: str) -> Mapping[str, Any]:
    if not doc:
        return {}
    window = doc.get("enrolment")
    if not (isinstance(window, list) and len(window) == 2):
        raise SchemaError(f"{source}: dates.enrolment must be [first date, last date]")
    first, last = (w if isinstance(w, dt.date) else dt.date.fromisoformat(str(w)) for w in window)
    return {**doc, "enrolment": (first, last)}
