"""docs/audit.md stays true: its Python example runs and its tables list what exists."""

from __future__ import annotations

import re
from pathlib import Path

from kypho.audit import CHECKS, SCHEMA_VERSION, Finding

DOC = Path(__file__).resolve().parents[3] / "docs" / "audit.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", _text(), flags=re.S)
    assert blocks
    namespace: dict[str, object] = {"print": lambda *a, **k: None}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert namespace["row"].cells["experimental"].mean.text == "32"  # type: ignore[attr-defined]


def test_every_check_is_documented() -> None:
    section = _text().split("## The checks", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert documented == set(CHECKS)


def test_every_json_field_is_documented() -> None:
    text = _text()
    assert f'"schema_version": "{SCHEMA_VERSION}"' in text
    for name in Finding.__dataclass_fields__:
        assert f"`{name}`" in text, name
