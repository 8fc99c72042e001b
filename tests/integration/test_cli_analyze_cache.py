"""The bundled cohort's analysis, figures and Beyond section are cached between runs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.cli import main


def _ids(text: str) -> str:
    # matplotlib names SVG clip paths and markers with a random salt: drawn again, only these differ.
    return re.sub(r"\b[mp][0-9a-f]{10}\b", "ID", text)


def _html(folder: Path) -> str:
    text = _ids((folder / "report.html").read_text(encoding="utf-8"))
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:+]+", "DATE", text)


@pytest.mark.slow
def test_a_second_run_reuses_the_figures_and_beyond_and_writes_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KYPHO_CACHE_DIR", str(cache))
    runner = CliRunner()
    first = runner.invoke(main, ["analyze", "--out", str(tmp_path / "a"), "-q"])
    assert first.exit_code == 0, first.output
    entries = sorted(p.name.split("-")[0] for p in cache.iterdir())
    assert entries == ["analysis", "beyond", "figures"]
    second = runner.invoke(main, ["analyze", "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    assert "[2/7] validating 124 records: kept" in second.stderr
    summary = first.stdout.rsplit("report:", 1)[0]
    assert summary.startswith("records read 124")
    assert "between-group tests" in summary
    assert second.stdout.rsplit("report:", 1)[0] == summary
    fresh = runner.invoke(main, ["analyze", "--out", str(tmp_path / "c"), "-q", "--no-cache"])
    assert fresh.exit_code == 0, fresh.output
    assert fresh.stdout.rsplit("report:", 1)[0] == summary
    for other in ("b", "c"):
        assert _html(tmp_path / "a") == _html(tmp_path / other)
        for name in ("tables.csv", "results.csv", "report.md", "tables.tex"):
            assert (tmp_path / other / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
        for made in (tmp_path / "a" / "figures").iterdir():
            again = tmp_path / other / "figures" / made.name
            if made.suffix == ".svg":
                assert _ids(again.read_text("utf-8")) == _ids(made.read_text("utf-8"))
            else:
                assert again.read_bytes() == made.read_bytes(), made.name


@pytest.mark.slow
def test_a_damaged_analysis_entry_is_computed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KYPHO_CACHE_DIR", str(cache))
    runner = CliRunner()
    args = ["analyze", "--out", str(tmp_path / "a"), "--format", "csv", "--no-figures"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    (entry,) = cache.glob("analysis-*")
    (entry / "analysis.pickle").write_bytes(b"not a pickle")
    second = runner.invoke(main, [*args[:2], str(tmp_path / "b"), *args[3:]])
    assert second.exit_code == 0, second.output
    assert "kept" not in second.stderr
    assert "[2/7] validating 124 records (" in second.stderr
    assert (tmp_path / "b" / "results.csv").read_bytes() == (
        tmp_path / "a" / "results.csv"
    ).read_bytes()


@pytest.mark.slow
def test_a_report_from_the_cache_imports_no_scipy_or_matplotlib(
    tmp_path: Path,
) -> None:
    """The point of the cache: a warm `make run` needs none of the costly libraries."""
    env_code = (
        "import os, sys\n"
        f"os.environ['KYPHO_CACHE_DIR'] = {str(tmp_path / 'cache')!r}\n"
        "from kypho.cli import main\n"
        "out = sys.argv[1]\n"
        "try:\n"
        "    main(['analyze', '--out', out, '-q'], prog_name='kypho')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = ('scipy.special', 'scipy.stats', 'matplotlib', 'pyreadstat')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", env_code, str(tmp_path / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        for name in ("first", "second")
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr
    loaded = [ast.literal_eval(done.stdout.strip().splitlines()[-1]) for done in runs]
    # The first run computes (so the check can fail); the second imports none of them.
    assert {"matplotlib", "scipy.special"} <= set(loaded[0])
    assert loaded[1] == []


def test_kypho_cache_0_turns_it_off_and_keys_keep_entries_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kypho import cache

    monkeypatch.setenv("KYPHO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KYPHO_CACHE", "0")
    cache.store("figures", "key", {"a.svg": b"<svg/>"})
    assert cache.load("figures", "key") is None
    assert not (tmp_path / "cache").exists()
    monkeypatch.setenv("KYPHO_CACHE", "1")
    cache.store("figures", "key", {"a.svg": b"<svg/>", "a.png": b"png"})
    assert cache.load("figures", "key") == {"a.svg": b"<svg/>", "a.png": b"png"}
    assert cache.load("figures", "other key") is None


@pytest.mark.slow
def test_a_users_own_file_is_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kypho.analysis.demo import demo_cohort

    monkeypatch.setenv("KYPHO_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "study.csv"
    demo_cohort(60, seed=3).to_csv(source, index=False)
    args = ["analyze", str(source), "--out", str(tmp_path / "r"), "--format", "html", "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "cache").exists()


def test_no_cache_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYPHO_CACHE_DIR", str(tmp_path / "cache"))
    args = ["analyze", "--out", str(tmp_path / "r"), "--format", "md", "--no-figures", "-q"]
    result = CliRunner().invoke(main, [*args, "--no-cache"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_a_user_plans_beyond_section_reaches_the_report(tmp_path: Path) -> None:
    """`--plan` with `beyond: {trajectories: [vas]}`: one trajectory model, not four."""
    plan = tmp_path / "plan.yaml"
    plan.write_text("beyond:\n  trajectories: [vas]\n", encoding="utf-8")
    out = tmp_path / "r"
    args = ["analyze", "--out", str(out), "--plan", str(plan), "--format", "html", "-q"]
    result = CliRunner().invoke(main, [*args, "--no-figures"])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    # One table per modelled measure, each captioned with its interaction test.
    assert page.count("Group × time interaction") == 1
    assert "VAS score (points): Experimental group minus Control group" in page
