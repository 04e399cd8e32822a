"""The state store (SQLAlchemy; SQLite or PostgreSQL) and the run lock."""

from __future__ import annotations

from tierwise.sync.records import Snapshot, TaskRecord
from tierwise.sync.state.history import HistoryRow
from tierwise.sync.state.lock import LockHeldError, RunLock
from tierwise.sync.state.store import (
    RunRecord,
    StateStore,
    make_engine,
    normalise_url,
)

__all__ = [
    "HistoryRow",
    "LockHeldError",
    "RunLock",
    "RunRecord",
    "Snapshot",
    "StateStore",
    "TaskRecord",
    "make_engine",
    "normalise_url",
]
