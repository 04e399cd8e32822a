"""Give the memory a step freed back to the operating system before the next step.

A run's steps each build and drop millions of small objects (a page's parsed rows, the
records read back from the store, the decision columns). CPython returns its own arenas
when they empty, but what went through glibc's ``malloc`` (strings and containers over
512 bytes, the HTTP bodies, the worker threads' arenas) stays in the process as free
chunks until ``malloc_trim`` hands the unused pages back. Measured on a 100k-account
full run (bench/RESULTS.md, session 8): the worker's peak RSS 500 -> 468 MiB with a trim
after each step. Elsewhere than glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only: musl has none
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> None:
    """Return the heap's free pages to the OS (glibc ``malloc_trim(0)``); a no-op where
    the C library has no such call. Costs a walk of the free lists: call it between
    steps, not in a loop."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
