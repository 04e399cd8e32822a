"""Progress reporting for long steps; the CLI plugs in rich bars on a terminal.

The engine runs one thread per CRM, and each calls ``step`` then ``advance`` for its own
work. Progress is therefore tracked per thread: each CRM's step gets a bar of its own
with its own counts (one shared "current task" showed one CRM's counts under the
other's label). Nothing is drawn when stderr is not a terminal.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Protocol


class Progress(Protocol):
    def step(self, label: str, total: int | None = None) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    def step(self, label: str, total: int | None = None) -> None:
        return None

    def advance(self, count: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


class PerThreadBars:
    """Bars keyed by the calling thread; ``backend`` is rich's ``Progress`` (or a fake)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._current: dict[int, Any] = {}
        self._lock = threading.Lock()

    def step(self, label: str, total: int | None = None) -> None:
        me = threading.get_ident()
        with self._lock:
            previous = self._current.get(me)
            if previous is not None:
                # The step before is done: fill its bar (total unknown: what it counted).
                task = self.backend.tasks[_index(self.backend, previous)]
                self.backend.update(previous, total=task.completed, completed=task.completed)
            self._current[me] = self.backend.add_task(label, total=total)

    def advance(self, count: int = 1) -> None:
        with self._lock:
            task = self._current.get(threading.get_ident())
            if task is not None:
                self.backend.advance(task, count)

    def close(self) -> None:
        self.backend.stop()


def _index(backend: Any, task_id: Any) -> int:
    for i, task in enumerate(backend.tasks):
        if task.id == task_id:
            return i
    raise KeyError(task_id)


def rich_bars() -> PerThreadBars:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    backend = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        redirect_stderr=True,
        redirect_stdout=False,
        transient=True,
    )
    backend.start()
    return PerThreadBars(backend)


def make_progress() -> Progress:
    """Bars on a terminal; nothing at all when stderr is a file, a pipe or a log collector."""
    return rich_bars() if sys.stderr.isatty() else NoProgress()
