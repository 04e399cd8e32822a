"""What the I/O steps of a run share: the store, the CRMs, the clock, the stop flag.

The composition root (``tierwise.sync.bootstrap``) builds the engine; the engine hands each I/O
step (gather, apply, record) one ``Runtime`` instead of itself, so a step is a plain
function of its inputs and can be read — and tested — on its own.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from tierwise.connectors.base import Connector
from tierwise.sync.progress import Progress
from tierwise.sync.state import StateStore


@dataclass
class Runtime:
    """The run's collaborators. ``store_lock`` serialises store writes and progress
    updates coming from the one-thread-per-CRM steps; ``heartbeat`` keeps the run lock
    alive during long steps (set once the lock is held)."""

    store: StateStore
    connectors: list[Connector]
    clock: Callable[[], datetime]
    stop: threading.Event
    progress: Progress
    store_lock: threading.RLock = field(default_factory=threading.RLock)
    heartbeat: Callable[[], None] = lambda: None

    @property
    def by_system(self) -> Mapping[str, Connector]:
        return {c.system: c for c in self.connectors}

    def beat(self) -> None:
        """Heartbeat the run lock (from any CRM thread)."""
        with self.store_lock:
            self.heartbeat()

    def each_crm(self, work: Callable[[Connector], None]) -> None:
        """Run ``work`` for every CRM at once: their API budgets are independent, so a run
        lasts as long as its slowest CRM instead of the sum of both. Each thread carries
        the run's log context; the first error is re-raised after all have finished."""
        if len(self.connectors) <= 1:
            for connector in self.connectors:
                work(connector)
            return
        with ThreadPoolExecutor(
            max_workers=len(self.connectors), thread_name_prefix="tierwise-crm"
        ) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, work, connector)
                for connector in self.connectors
            ]
        errors = [e for e in (f.exception() for f in futures) if e is not None]
        if errors:
            raise errors[0]


class LockedProgress:
    """Serialises progress updates from the per-CRM threads."""

    def __init__(self, inner: Progress, lock: threading.RLock) -> None:
        self.inner = inner
        self.lock = lock

    def step(self, label: str, total: int | None = None) -> None:
        with self.lock:
            self.inner.step(label, total)

    def advance(self, count: int = 1) -> None:
        with self.lock:
            self.inner.advance(count)

    def close(self) -> None:
        with self.lock:
            self.inner.close()
