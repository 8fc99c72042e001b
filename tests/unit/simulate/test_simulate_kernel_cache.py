"""The compiled kernels' disk cache cannot serve stale code.

numba's ``cache=True`` keys a cached kernel on its own source file's time stamp
and size only. A kernel that calls a compiled function defined in *another*
file embeds that function's compiled code, and its cache entry stays valid when
the other file changes: after an upgrade the process would run the old code
(seen during development as results moving at 1e-13 until the cache was
emptied). kypho therefore keeps every compiled function a kernel calls in that
kernel's own file; this test holds the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kypho.simulate

SIMULATE = Path(kypho.simulate.__file__).parent


def _compiled_modules() -> list[Path]:
    return sorted(
        p for p in SIMULATE.glob("*.py") if "import numba" in p.read_text(encoding="utf-8")
    )


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                found.add("kypho.simulate." + base if base else "kypho.simulate")
                found.update(f"kypho.simulate.{a.name}" for a in node.names if not base)
            else:
                found.add(base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_compiled_modules_are_found() -> None:
    names = {p.name for p in _compiled_modules()}
    assert {"_kernels.py", "_multigrid.py"} <= names


def test_no_compiled_module_imports_another_kypho_module() -> None:
    offending = {
        p.name: sorted(m for m in _imported_modules(p) if m == "kypho" or m.startswith("kypho."))
        for p in _compiled_modules()
    }
    offending = {name: mods for name, mods in offending.items() if mods}
    assert offending == {}, (
        "a module with compiled (numba) kernels imports other kypho modules; a kernel calling a compiled "
        f"function from another file is served stale from numba's cache when that file changes: {offending}"
    )


def test_the_check_sees_a_relative_import(tmp_path: Path) -> None:
    src = tmp_path / "k.py"
    src.write_text(
        "import numba\nfrom ._kernels import cg_update\nfrom . import flow\n", encoding="utf-8"
    )
    assert {"kypho.simulate._kernels", "kypho.simulate.flow"} <= _imported_modules(src)
