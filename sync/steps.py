"""What one cycle's steps returned so far, and how long each took.

``SyncEngine.run`` fills a ``Steps`` as the cycle goes; the run report is built once, at
the end, from whatever it holds (a cycle that stopped half-way reports its half).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tierwise.sync.apply import Applied
from tierwise.sync.gather import Gathered, Validated
from tierwise.sync.records import Plan
from tierwise.sync.targets import Decisions


@dataclass
class Steps:
    """The results the steps returned so far (the report is built from them)."""

    validated: Validated | None = None
    gathered: Gathered | None = None
    decided: Decisions | None = None
    plan: Plan | None = None
    applied: Applied | None = None
    status: str = "running"
    message: str = ""
    # Wall seconds per step, measured on the monotonic clock (not the injected one).
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 3)
