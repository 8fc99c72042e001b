"""Hostile YAML in a schema, plan or audit file: a clear error, quickly, within limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.analysis import load_plan
from kypho.audit.loader import load_summary_tables
from kypho.cli import main
from kypho.errors import AnalysisError, AuditError, SchemaError
from kypho.safe_yaml import MAX_BYTES, load_yaml
from kypho.schema import load_schema

# 9 levels of 9 aliases: 9⁹ ≈ 3.9·10⁸ strings once expanded, from 600 bytes
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP = "variables: " + "[" * 5000 + "]" * 5000 + "\n"


def test_billion_laughs_refused_while_composing() -> None:
    with pytest.raises(SchemaError) as exc:
        load_yaml(LAUGHS, "laughs.yaml", SchemaError)
    assert str(exc.value) == (
        "laughs.yaml: cannot read this YAML: more than 200,000 values once its anchors and "
        "aliases are expanded (line 6); a declaration file is far smaller"
    )


def test_aliases_within_the_limit_are_read() -> None:
    assert load_yaml("a: &x {n: 1}\nb: *x\nc: {<<: *x, m: 2}\n", "ok", SchemaError) == {
        "a": {"n": 1},
        "b": {"n": 1},
        "c": {"n": 1, "m": 2},
    }


def test_too_large_text_refused() -> None:
    with pytest.raises(AuditError) as exc:
        load_yaml(b"#" * (MAX_BYTES + 1), "big.yaml", AuditError)
    assert str(exc.value) == (
        "big.yaml: 1,000,001 bytes is more than kypho reads as a declaration file (1,000,000 bytes)"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (LAUGHS, "cannot read this YAML: more than 200,000 values"),
        (DEEP, "cannot read this YAML: nested more than 40 levels deep (line 1)"),
        (b"variables:\n  - {name: x, label: \xff}\n", "not UTF-8 text (byte 32, line 2)"),
        ("a: !!python/object/apply:os.system [echo]\n", "not valid YAML ("),
    ],
)
def test_every_declaration_loader_refuses(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    path = tmp_path / "hostile.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    for load, error in (
        (lambda: load_schema(extensions=[path]), SchemaError),
        (lambda: load_schema(path), SchemaError),
        (lambda: load_plan(extensions=[path]), AnalysisError),
        (lambda: load_summary_tables(path), AuditError),
    ):
        with pytest.raises(error) as exc:
            load()
        assert expected in str(exc.value), (load, str(exc.value))


def test_cli_names_the_hostile_plan_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(DEEP.replace("variables", "tables"), encoding="utf-8")
    runner = CliRunner()
    for option in ("--plan", "--schema"):
        result = runner.invoke(
            main, ["analyze", "-q", "--out", str(tmp_path / "out"), option, str(path)]
        )
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"error: {path}: cannot read this YAML: nested more than 40 levels deep (line 1)\n"
        )


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).parents[3] / "src/kypho/data").glob("*.yaml"))
)
def test_kyphos_own_files_parse_the_same_in_c(name: str) -> None:
    """``load_own_yaml`` (libyaml's safe loader, for kypho's shipped files) gives the
    document ``load_yaml`` gives: the same values of the same types."""
    from kypho.safe_yaml import load_own_yaml

    text = (Path(__file__).parents[3] / "src/kypho/data" / name).read_text(encoding="utf-8")
    fast = load_own_yaml(text, name, SchemaError)
    slow = load_yaml(text, name, SchemaError)
    assert fast == slow
    assert repr(fast) == repr(slow)  # 1 vs 1.0 vs True, date vs str: repr tells them apart


def test_kyphos_own_loader_reports_bad_yaml_as_the_callers_error() -> None:
    from kypho.safe_yaml import load_own_yaml

    with pytest.raises(SchemaError, match=r"^own\.yaml: not valid YAML \("):
        load_own_yaml("a: [1, 2\n", "own.yaml", SchemaError)
