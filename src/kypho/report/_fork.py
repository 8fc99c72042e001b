"""A function computed in a forked process while this one goes on (the report's workers).

:class:`Forked` starts ``function(*args)`` in a child made by ``fork``: the child
inherits the arguments (a frame of a million patients is not pickled through a
pipe) and every module already imported; only its answer comes back, pickled.
:meth:`Forked.result` waits for it; if the child could not answer for any
reason (killed, an error, an answer that cannot be pickled), the function runs
again here, so a failure of the worker machinery costs time, never the result,
and an error of the function itself is raised here as it would be without a
worker. :meth:`Forked.cancel` stops a child whose answer is no longer wanted.

A child is never left behind: it ends when the process that started it ends
(a watchdog thread, also after SIGKILL), and one not collected is stopped at
exit. Children are not daemonic processes, so a child may start its own
(the Beyond worker computes its propensity scores in a second one).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Forked", "can_fork"]

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a forked child can run beside this process (fork exists, two CPUs or more)."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2


def _exit_with_parent() -> None:
    """In a child: exit as soon as the process that started it is gone.

    A parent killed with SIGKILL would otherwise leave its child computing an
    answer that nobody collects.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="kypho-exit-with-parent", daemon=True).start()


def _child(function: Callable[..., Any], args: tuple[Any, ...], send: Any) -> None:
    _exit_with_parent()
    try:
        try:
            send.send(("ok", function(*args)))
        except Exception:  # the parent computes it itself (and meets the error there)
            send.send(("failed", None))
    finally:
        send.close()


class Forked(Generic[T]):
    """``function(*args)`` computed in a forked child; :meth:`result` waits for it.

    Parameters
    ----------
    function
        A function whose answer can be pickled.
    *args
        Its arguments, inherited by the child (not pickled).
    name
        The child's process name (``multiprocessing.active_children()``).
    """

    def __init__(self, function: Callable[..., T], *args: Any, name: str) -> None:
        self._function = function
        self._args = args
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(function, args, send), name=name)
        self._process.start()
        send.close()  # the child holds its own copy of the sending end
        atexit.register(self.cancel)

    def result(self) -> T:
        """The answer, computed here if the child could not give it."""
        try:
            status, value = self._receive.recv()
        except (EOFError, OSError):  # the child ended before it could answer
            status, value = "failed", None
        finally:
            self._close()
        if status != "ok":
            return self._function(*self._args)
        answer: T = value
        return answer

    def cancel(self) -> None:
        """Stop the child if it still runs (its answer is dropped)."""
        if self._process.is_alive():
            self._process.kill()
        self._close()

    def _close(self) -> None:
        atexit.unregister(self.cancel)
        self._receive.close()
        self._process.join()
