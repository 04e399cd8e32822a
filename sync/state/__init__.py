"""The state store (SQLAlchemy; SQLite or PostgreSQL) and the run lock."""

from __future__ import annotations

from sync.records import Snapshot, TaskRecord
from sync.state.history import HistoryRow
from sync.state.lock import LockHeldError, RunLock
from sync.state.store import (
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
