"""kypho.progress: bars on stderr only when someone can see them."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from kypho import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _automatic(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("KYPHO_PROGRESS", raising=False)
    progress.configure(enabled=None)
    yield
    progress.configure(enabled=None)


def _draw(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO) -> str:
    monkeypatch.setattr("sys.stderr", stream)
    with progress.bar("simulating studies", total=4, unit="studies") as shown:
        for _ in range(4):
            shown.advance()
        shown.describe("last batch")
    assert shown.done == 4
    return stream.getvalue()


def test_a_terminal_gets_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _draw(monkeypatch, _Terminal())
    assert "simulating studies" in text
    assert "4/4" in text


def test_a_pipe_or_file_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _draw(monkeypatch, io.StringIO()) == ""


def test_quiet_wins_over_the_terminal_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KYPHO_PROGRESS", "1")
    progress.configure(enabled=False)
    assert _draw(monkeypatch, _Terminal()) == ""


def test_the_environment_forces_bars_on_or_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYPHO_PROGRESS", "1")
    assert "simulating studies" in _draw(monkeypatch, io.StringIO())
    monkeypatch.setenv("KYPHO_PROGRESS", "0")
    assert _draw(monkeypatch, _Terminal()) == ""


def test_a_ticking_bar_shows_the_step_without_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    with progress.bar("reading big.csv", ticking=True):
        pass
    assert "reading big.csv [" in stream.getvalue()
