"""``kypho.report._fork.Forked``: an answer from a forked child, or computed here."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from kypho.report._fork import Forked, can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and two CPUs")


def pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * 2


def nested(value: int) -> tuple[int, tuple[int, int]]:
    """A child that starts a child of its own (the Beyond worker's propensity scores)."""
    return os.getpid(), Forked(pid_and, value, name="kypho-test-inner").result()


def unpicklable(value: int) -> object:
    return lambda: value  # a lambda cannot be pickled back to the parent


def failing(value: int) -> int:
    raise ValueError(f"no answer for {value}")


def sleeping(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _children() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name.startswith("kypho-test")]


def test_the_answer_comes_from_the_child() -> None:
    pid, value = Forked(pid_and, 21, name="kypho-test").result()
    assert value == 42
    assert pid != os.getpid()
    assert _children() == []


def test_a_child_may_start_its_own() -> None:
    outer, (inner, value) = Forked(nested, 5, name="kypho-test").result()
    assert value == 10
    assert len({outer, inner, os.getpid()}) == 3


def test_an_answer_that_cannot_come_back_is_computed_here() -> None:
    answer = Forked(unpicklable, 7, name="kypho-test").result()
    assert callable(answer)
    assert answer() == 7  # type: ignore[operator]


def test_the_functions_own_error_is_raised_here() -> None:
    with pytest.raises(ValueError, match="no answer for 3"):
        Forked(failing, 3, name="kypho-test").result()
    assert _children() == []


def test_cancel_stops_the_child() -> None:
    worker = Forked(sleeping, 60.0, name="kypho-test")
    worker.cancel()
    assert _children() == []
    assert worker._process.exitcode == -signal.SIGKILL  # killed, not waited for
