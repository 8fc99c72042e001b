"""The README's examples run: its Python block, and the commands of its usage section."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
COHORT = Path(__file__).resolve().parents[2] / "src" / "kypho" / "data" / "cohort.csv"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_python_example_runs_on_the_bundled_cohort(capsys: pytest.CaptureFixture[str]) -> None:
    code = _blocks("python")[0].replace('"study.xlsx"', repr(str(COHORT)))
    namespace: dict[str, object] = {}
    exec(compile(code, str(README), "exec"), namespace)
    printed = capsys.readouterr().out
    # blood loss, 1.91±0.84 vs 1.93±0.69 (bundled cohort): Student t after the F test
    assert printed.startswith("Student t ")
    assert namespace["checked"].n_rejected == 0  # type: ignore[attr-defined]
    assert namespace["screening"].flow.included == 110  # type: ignore[attr-defined]


def test_usage_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `kypho ...` line of the usage block runs, with files made in a temp folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYPHO_USER", "readme")
    runner = CliRunner()
    # the usage block reads study.xlsx: make it from the bundled cohort
    from kypho.io import read_table, write_table

    write_table(read_table(COHORT), tmp_path / "study.xlsx")
    example = COHORT.parent / "summary_example.yaml"  # a user's own transcription
    (tmp_path / "my_tables.yaml").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    usage = _blocks("console")[1]
    ran = 0
    for line in usage.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command.startswith("kypho "):
            continue
        for part in command.split("&&"):
            args = shlex.split(part.strip())[1:]
            if args[:1] == ["synth"] and "--n" in args:
                args[args.index("--n") + 1] = "300"  # same command, a smaller cohort
            if args[:1] == ["analyze"]:
                args.append("--no-figures")
            result = runner.invoke(main, args)
            assert result.exit_code == 0, (args, result.output)
            ran += 1
    assert ran >= 12
