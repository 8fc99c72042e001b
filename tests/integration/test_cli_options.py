"""Every command spells its common options the same way; old spellings still work."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kypho.cli import _COMMANDS, main


def leaves() -> list[tuple[str, click.Command]]:
    ctx = click.Context(main)
    found: list[tuple[str, click.Command]] = []

    def walk(command: click.Command | None, name: str) -> None:
        assert command is not None
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                walk(command.get_command(ctx, sub), f"{name} {sub}")
        else:
            found.append((name, command))

    for name in _COMMANDS:
        walk(main.get_command(ctx, name), name)
    return found


@pytest.mark.parametrize(("name", "command"), leaves(), ids=lambda v: str(v))
def test_every_command_takes_quiet_and_verbose(name: str, command: click.Command) -> None:
    options = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
    assert {"--quiet", "-q", "--verbose", "-v"} <= options, name
    # What a command writes is --out wherever it is an option; no --output in the help.
    text = command.get_help(click.Context(command))
    assert "--output" not in text
    assert "--extension" not in text


def test_schema_is_one_repeatable_option_with_the_old_spelling_hidden(tmp_path: Path) -> None:
    extension = tmp_path / "ext.yaml"
    extension.write_text(
        "variables:\n  - {name: bmi, label: Body mass index, type: number, unit: kg/m2, "
        "min: 10, max: 60, precision: 1, role: baseline}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    for spelling in ("--schema", "--extension"):
        out = tmp_path / f"dictionary{spelling}.csv"
        result = runner.invoke(main, ["dictionary", "--out", str(out), spelling, str(extension)])
        assert result.exit_code == 0, result.output
        assert "Body mass index" in out.read_text(encoding="utf-8")


def test_quiet_hides_warnings_and_verbose_adds_the_cause(tmp_path: Path) -> None:
    from kypho.analysis.demo import demo_cohort

    raw = demo_cohort(40, seed=4)
    raw["age"] = raw["age"].astype(object)
    raw.loc[3, "age"] = "old"
    data = tmp_path / "c.csv"
    raw.to_csv(data, index=False)
    runner = CliRunner()
    common = ["analyze", str(data), "--format", "md", "--no-figures", "--force", "--strict"]
    loud = runner.invoke(main, [*common, "--out", str(tmp_path / "a")])
    quiet = runner.invoke(main, [*common, "--out", str(tmp_path / "b"), "-q"])
    assert loud.exit_code == quiet.exit_code == 0
    assert "warning: 1 of 40 records rejected" in loud.stderr
    assert quiet.stderr == ""
    assert "report: " in quiet.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("variables: [1\n", encoding="utf-8")
    plain = runner.invoke(main, ["dictionary", "--schema", str(broken)])
    verbose = runner.invoke(main, ["dictionary", "--schema", str(broken), "-v"])
    assert plain.exit_code == verbose.exit_code == 2
    assert plain.stderr.startswith(f"error: {broken}: not valid YAML")
    assert "caused by ParserError" not in plain.stderr
    assert "caused by ParserError" in verbose.stderr


def test_db_log_out_and_export_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYPHO_USER", "admin")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "init"]).exit_code == 0
    for args in (["db", "log", "--out", "a.csv"], ["db", "log", "--output", "b.csv"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.csv").is_file()
    assert (tmp_path / "b.csv").is_file()
    for args in (["db", "export", "--out", "c.csv"], ["db", "export", "d.csv"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    both = runner.invoke(main, ["db", "export", "e.csv", "--out", "f.csv"])
    assert both.exit_code == 2
    assert "give the file to write once" in both.output
