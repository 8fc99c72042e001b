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
