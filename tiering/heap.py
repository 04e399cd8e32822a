"""Cyclic garbage collection paused while a run builds its large, acyclic results.

Merging, tiering and planning a million accounts allocate millions of small objects
that live until the run ends (merged accounts, columns, briefs, updates) and form no
reference cycles: reference counting frees them. Each allocation burst still counts
towards the collector's thresholds, and every full collection walks the whole heap,
the population included, to find nothing: a fifth of a million-account run. Pausing
automatic collection around those pure steps, and restoring it after, removes that
cost without changing a result; a caller that has already paused it keeps it paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Automatic cyclic collection off for the block, then back as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
