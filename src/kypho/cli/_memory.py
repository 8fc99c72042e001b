"""Keep freed memory in the process for the batch commands (``synth``, ``db``).

Drawing and writing a large cohort allocates and frees arrays of the same sizes
chunk after chunk. By default glibc hands large freed blocks back to the
kernel, and pyarrow's allocator (mimalloc) purges freed pages; every new chunk
then faults its pages in again and the kernel zeroes each one. Profiles of
``kypho synth --n 300000`` (``perf record``) showed the kernel's page zeroing at
about a fifth of the samples, and system time fell from 2.3-2.9 s to 0.9 s with
freed memory kept. Peak memory is what the command needs at its largest, as
before; the process simply keeps it until it exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Iterator

__all__ = ["no_cycle_collection", "reuse_freed_memory"]

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2).
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 1024 * 1024 * 1024
_TOP_PAD = 64 * 1024 * 1024


def reuse_freed_memory() -> None:
    """Let this process reuse the memory it frees instead of returning it to the kernel.

    pyarrow allocates from the system allocator, and glibc keeps blocks up to
    32 MiB and up to 1 GiB of free heap for reuse. On a system without glibc
    only pyarrow's allocator is changed. Meant for a command's process, called
    once at its start.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    mallopt(_M_TOP_PAD, _TOP_PAD)


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Run the block without Python's cyclic garbage collector (back on after it, if it was on).

    Importing pandas, SQLAlchemy and pyarrow creates hundreds of thousands of
    objects, and the collector walks them again and again as they are made:
    ``perf record`` of ``kypho db export`` at 10⁵ records put about 3 % of its
    time in the collector. A command makes few reference cycles, and whatever
    memory they hold is freed when the command ends; objects without cycles are
    freed at once as always.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
