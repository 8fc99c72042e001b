"""The public surface: every package's ``__all__`` is sorted and names what it exports."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["kypho", "kypho.schema", "kypho.stats", "kypho.io", "kypho.audit", "kypho.store", "kypho.output",
            "kypho.report", "kypho.analysis", "kypho.synth", "kypho.beyond", "kypho.errors",
            "kypho.radiograph", "kypho.simulate"]  # fmt: skip


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions; each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    for attr in exported:
        assert getattr(module, attr) is not None, f"{name}.{attr}"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_are_exported(name: str) -> None:
    """Every public (non-underscore) function or class defined by the package is in __all__."""
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and callable(value)
        and getattr(value, "__module__", "").startswith(name)
    }
    assert public <= set(module.__all__), sorted(public - set(module.__all__))


def test_import_kypho_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, kypho; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_analysing_a_csv_imports_no_excel_plotting_or_scipy_stats() -> None:
    """The cold start of ``kypho analyze``: reading a CSV and computing the tables need
    neither openpyxl, matplotlib nor ``scipy.stats`` (about a second of imports)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kypho.analysis import analyze, load_plan\n"
        "from kypho.cli.analyze import _default_cohort\n"
        "from kypho.eligibility import screen\n"
        "from kypho.io import read_table\n"
        "from kypho.measures import derive\n"
        "from kypho.schema import load_schema\n"
        "from kypho.validation import validate\n"
        "schema = load_schema()\n"
        "data = derive(validate(read_table(_default_cohort(), schema=schema), schema).data, schema)\n"
        "included = data[screen(data, schema).included.to_numpy()]\n"
        "result = analyze(included, schema, load_plan())\n"
        "assert len(result.tables) == 7\n"
        "print(sorted(m for m in ('openpyxl', 'matplotlib', 'scipy.stats') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
