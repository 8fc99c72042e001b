"""Progress bars for long steps, on stderr.

Every step of kypho that can take more than a second (reading, validation, the
"Beyond the paper" analyses, figures, ``synth``, ``db import``/``export``) opens
a bar with :func:`bar` and advances it. Bars are drawn by tqdm on stderr, and
only when someone can see them: never when stderr is not a terminal (a pipe, a
log file, a test), never after ``configure(enabled=False)`` (the commands'
``--quiet``). Otherwise ``KYPHO_PROGRESS=1`` forces them on and
``KYPHO_PROGRESS=0`` off.
When off, a bar costs one function call per update and tqdm is not imported.

Examples
--------
>>> with bar("simulating", total=3) as shown:
...     for _ in range(3):
...         shown.advance()
>>> shown.done
3
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Bar", "bar", "configure", "enabled"]

_setting: bool | None = None


def configure(*, enabled: bool | None) -> None:
    """Turn bars off (``False``), on (``True``) or back to automatic (``None``)."""
    global _setting
    _setting = enabled


def enabled() -> bool:
    """Whether a bar opened now would be drawn.

    ``configure(enabled=False)`` (``--quiet``) wins; then ``KYPHO_PROGRESS``;
    then ``configure(enabled=True)``; otherwise bars are drawn when stderr is a
    terminal.
    """
    if _setting is False:
        return False
    forced = os.environ.get("KYPHO_PROGRESS", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    if _setting is not None:
        return _setting
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class Bar:
    """One bar: :meth:`advance` by a number of items, :meth:`describe` the current part.

    Attributes
    ----------
    done : int
        Items done so far (counted whether or not the bar is drawn).
    """

    def __init__(self, shown: Any | None) -> None:
        self._shown = shown
        self.done = 0

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done."""
        self.done += count
        if self._shown is not None:
            self._shown.update(count)

    def describe(self, text: str) -> None:
        """Show ``text`` after the bar's label (what is being done now)."""
        if self._shown is not None:
            self._shown.set_postfix_str(text, refresh=True)


@contextmanager
def bar(
    description: str, total: int | None = None, *, unit: str = "it", ticking: bool = False
) -> Iterator[Bar]:
    """A progress bar for the ``with`` block; removed from the terminal when it ends.

    Parameters
    ----------
    description : str
        What is being done, e.g. ``"validating 10,000 records"``.
    total : int, optional
        Items in all; without it the bar counts items and elapsed time.
    unit : str
        Name of one item (``"rows"``, ``"studies"``, ``"figures"``).
    ticking : bool
        Redraw twice a second even without updates, for a step that cannot
        report its own progress (the elapsed time keeps moving).
    """
    if not enabled():
        yield Bar(None)
        return
    from tqdm import tqdm

    shown = tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=(total or 0) >= 10_000 or (total is None and unit != "it"),
        leave=False,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.2,
        bar_format=(
            None
            if total
            else "{desc} [{elapsed}]"
            if ticking and unit == "it"
            else "{desc}: {n_fmt} {unit} [{elapsed}]"
        ),
    )
    stop = threading.Event()
    ticker = None
    if ticking:

        def tick() -> None:
            while not stop.wait(0.5):
                shown.refresh()

        ticker = threading.Thread(target=tick, name="kypho-progress", daemon=True)
        ticker.start()
    try:
        yield Bar(shown)
    finally:
        stop.set()
        if ticker is not None:
            ticker.join()
        shown.close()
