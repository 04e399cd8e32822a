"""Apply a plan: the only step that writes to the CRMs.

Writes go out in chunks with the stop flag checked between them, and each chunk's
successes are handed to ``on_written`` at once, so a stopped or crashed run keeps
what it did and the next run only does the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from connectors.base import AccountUpdate, Connector, TaskOutcome, TaskRequest, WriteOutcome
from sync.progress import NoProgress, Progress
from tiering.errors import StopRequested as StopRequested  # re-exported: a run signal of the tree

T = TypeVar("T")

# Big enough that connectors fill their largest batches; small enough to stop promptly.
CHUNK = 2000


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise StopRequested


def write_updates(
    connector: Connector,
    updates: Sequence[AccountUpdate],
    on_written: Callable[[Sequence[str]], None],
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    chunk: int | None = None,
) -> WriteOutcome:
    total = WriteOutcome()
    progress = progress or NoProgress()
    size = chunk or max(1, connector.write_chunk_size(len(updates)))
    for part in chunks(updates, size):
        check_stop(stop)
        outcome = connector.write_accounts(part)
        on_written(outcome.written)
        total.written.extend(outcome.written)
        total.failed.extend(outcome.failed)
        progress.advance(len(part))
    return total


def ensure_tasks(
    connector: Connector,
    requests: Sequence[TaskRequest],
    on_done: Callable[[TaskOutcome], None],
    stop: threading.Event | None = None,
    chunk: int = CHUNK,
) -> TaskOutcome:
    total = TaskOutcome()
    for part in chunks(requests, chunk):
        check_stop(stop)
        outcome = connector.ensure_tasks(part)
        on_done(outcome)
        total.created.update(outcome.created)
        total.existing.update(outcome.existing)
        total.failed.extend(outcome.failed)
    return total
