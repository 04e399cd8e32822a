# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Freed heap memory goes back to the OS between steps (sync/memory.py, issue 15)."""

from __future__ import annotations

import resource
import sys

import pytest

from tierwise.sync.memory import _malloc_trim, release_free_memory


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or _malloc_trim() is None, reason="glibc only"
)
def test_pages_freed_between_live_blocks_leave_the_process() -> None:
    # 40,000 blocks of 1.5 KB (glibc malloc, not CPython's arenas), every 16th kept: the
    # pages between the survivors are free but stay resident until they are trimmed.
    blocks = [bytes(1500) for _ in range(40_000)]
    kept = blocks[::16]
    del blocks
    freed = rss()
    release_free_memory()
    trimmed = rss()
    assert 2500 == len(kept)
    assert freed - trimmed > 20 * 2**20


def test_without_glibc_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert _malloc_trim() is None
        release_free_memory()  # no call to make: returns quietly
    finally:
        monkeypatch.undo()
        _malloc_trim.cache_clear()
