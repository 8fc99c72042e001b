"""No Python module names a study variable: the schema and the plan are the one source.

An AST scan of every module under ``src/kypho`` (outside ``data/``) for string
literals equal to a variable or repeated-measure name of the bundled schema or of the
example study's (``data/examples/vertebroplasty``), which kypho runs with no code of its
own. Docstrings
and ``__all__`` entries are not code that reads data, and are not scanned. Three of the
schema's names are also words of a vocabulary kypho itself speaks — ``group`` (a schema
role, and the group column of every result frame), ``level`` (a kind of table row) and
``notes`` (a REDCap field type) — and are not scanned either: a literal ``"group"``
there names kypho's concept, not the study's column (the schema's group column is read
from ``group_column``).

Modules still being changed by other engineers are listed in :data:`PENDING`, each with
who removes the entry; the list can only shrink: an entry whose module no longer needs
it fails the test, so that it is removed.
"""

from __future__ import annotations

import ast
import functools
import typing
from pathlib import Path

import pytest

from kypho.analysis.model import RowKind
from kypho.io.redcap import FIELD_TYPES
from kypho.schema import load_schema
from kypho.schema.model import _ROLES

SRC = Path(__file__).resolve().parents[3] / "src" / "kypho"
EXAMPLE = SRC / "data" / "examples" / "vertebroplasty" / "study.yaml"

#: module (relative to src/kypho) -> who removes the entry, once the module reads
#: its variables from the schema or the plan.
PENDING: dict[str, str] = {
    # empty: every module reads its variables from the schema or the plan (the
    # modules of perf, submit and declare that named them have been changed)
}


def _vocabulary() -> frozenset[str]:
    return frozenset(_ROLES) | frozenset(typing.get_args(RowKind)) | frozenset(FIELD_TYPES)


@functools.cache
def _names() -> frozenset[str]:
    names: frozenset[str] = frozenset()
    for schema in (load_schema(), load_schema(EXAMPLE)):
        names |= frozenset(schema.variables) | frozenset(schema.repeated)
    return names - _vocabulary()


def _docstrings(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            ids.update(id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    return ids


def _hits(path: Path, names: frozenset[str]) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in names
        and id(node) not in skip
    )


def _modules() -> list[str]:
    return sorted(
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if "data" not in p.relative_to(SRC).parts
    )


def test_the_scan_finds_a_variable_name() -> None:
    """The scan is live: a literal naming a variable is found, a docstring is not."""
    names = _names()
    assert {"vas", "blood_loss", "hb_pre"} <= names
    assert {"odi", "vas_back_m12", "arm"} <= names  # the example study's
    assert not {"group", "level", "notes"} & names


def test_the_scan_sees_literals_but_not_docstrings(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Uses hb_pre."""\n__all__ = ["blood_loss"]\n\n\ndef f(d):\n'
        '    """hb_pre."""\n    return d["hb_pre"] + d.get(f"vas_{1}")\n',
        encoding="utf-8",
    )
    assert _hits(module, _names()) == [(7, "hb_pre")]


@pytest.mark.parametrize("module", [m for m in _modules() if m not in PENDING])
def test_no_module_names_a_study_variable(module: str) -> None:
    hits = _hits(SRC / module, _names())
    assert not hits, (
        f"src/kypho/{module} names study variables "
        + ", ".join(f"{name!r} (line {line})" for line, name in hits)
        + "; read them from the schema or the plan instead"
    )


@pytest.mark.parametrize("module", sorted(PENDING))
def test_pending_entries_are_still_needed(module: str) -> None:
    assert (SRC / module).is_file(), f"{module} no longer exists: remove its PENDING entry"
    assert _hits(SRC / module, _names()), (
        f"src/kypho/{module} names no study variable any more: "
        f"remove its PENDING entry (owner: {PENDING[module]})"
    )
