"""The bundled cohort's figures and Beyond section are cached between runs (kypho.cache)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kypho.cli import main


def _html(folder: Path) -> str:
    text = (folder / "report.html").read_text(encoding="utf-8")
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
    assert entries == ["beyond", "figures"]
    second = runner.invoke(main, ["analyze", "--out", str(tmp_path / "b"), "-q"])
    assert second.exit_code == 0, second.output
    assert _html(tmp_path / "a") == _html(tmp_path / "b")
    for png in (tmp_path / "a" / "figures").iterdir():
        assert (tmp_path / "b" / "figures" / png.name).read_bytes() == png.read_bytes()


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
