"""``kypho simulate compare`` and ``kypho simulate sensitivity`` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kypho.cli import main


def test_compare_prints_both_protocols_and_writes_figure_and_json(tmp_path: Path) -> None:
    fig, js = tmp_path / "cmp.png", tmp_path / "cmp.json"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "compare",
            "--nx",
            "16",
            "--courant",
            "2",
            "--figure",
            str(fig),
            "--json",
            str(js),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "traditional" in result.output
    assert "staged" in result.output
    assert "not evidence about patients" in result.output
    assert fig.stat().st_size > 10_000
    payload = json.loads(js.read_text())
    assert [r["protocol"] for r in payload["results"]] == ["traditional", "staged"]
    assert all(r["max_balance_error"] < 1e-10 for r in payload["results"])


def test_sensitivity_runs_a_small_sample(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "sensitivity",
            "--n",
            "4",
            "--nx",
            "8",
            "--courant",
            "2",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "72 simulations" in result.output
    assert "breach threshold" in result.output
    assert out.read_text().splitlines()[0].startswith("parameter,label,range,first_order")
