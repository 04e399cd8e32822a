"""The run lock: at most one sync cycle at a time, also across containers.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated connection
for the whole run; the server drops it when that connection dies, so a killed worker
never leaves a stale lock. SQLite (one host): a lock row taken with one atomic
upsert that only succeeds when the row is absent or expired; the holder heartbeats
to extend it. A holder killed outright (SIGKILL) is recognised by its host and pid:
when that process no longer exists the row is taken over at once with a
compare-and-swap on the old owner; otherwise it expires.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from tierwise.sync.state.tables import run_lock
from tierwise.tiering.errors import (
    LockHeldError as LockHeldError,  # re-exported: a run signal of the tree
)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` derived from the lock name."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass
class RunLock:
    engine: Engine
    name: str
    owner: str
    ttl: timedelta = timedelta(minutes=10)
    _connection: Connection | None = None
    _held: bool = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self, now: datetime | None = None) -> None:
        """Take the lock or raise ``LockHeldError`` at once (never waits)."""
        if self.engine.dialect.name == "postgresql":
            self._acquire_advisory()
        else:
            self._acquire_row(now or datetime.now(UTC))
        self._held = True

    def heartbeat(self, now: datetime | None = None) -> None:
        """Extend the lock row's expiry (no-op on PostgreSQL: the lock lives with the session)."""
        if not self._held or self.engine.dialect.name == "postgresql":
            return
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                update(run_lock)
                .where(run_lock.c.name == self.name, run_lock.c.owner == self.owner)
                .values(heartbeat=now, expires=now + self.ttl)
            )

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(self.name)}
                )
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
            return
        with self.engine.begin() as conn:
            conn.execute(
                delete(run_lock).where(run_lock.c.name == self.name, run_lock.c.owner == self.owner)
            )

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _acquire_advisory(self) -> None:
        conn = self.engine.connect()
        try:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(self.name)}
            ).scalar_one()
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            raise LockHeldError(
                f"another tierwise run holds the run lock {self.name!r} on this database; "
                "this run did nothing (it is safe to retry later)"
            )
        self._connection = conn

    def _acquire_row(self, now: datetime) -> None:
        # One statement: insert, or take over only an expired row. Concurrent callers
        # serialise on SQLite's write lock, so exactly one of them ends up the owner.
        host, pid = socket.gethostname(), os.getpid()
        stmt = sqlite_insert(run_lock).values(
            name=self.name,
            owner=self.owner,
            acquired=now,
            heartbeat=now,
            expires=now + self.ttl,
            host=host,
            pid=pid,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[run_lock.c.name],
            set_={
                "owner": stmt.excluded.owner,
                "acquired": stmt.excluded.acquired,
                "heartbeat": stmt.excluded.heartbeat,
                "expires": stmt.excluded.expires,
                "host": stmt.excluded.host,
                "pid": stmt.excluded.pid,
            },
            where=run_lock.c.expires < now,
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)
            row = conn.execute(
                select(
                    run_lock.c.owner, run_lock.c.heartbeat, run_lock.c.host, run_lock.c.pid
                ).where(run_lock.c.name == self.name)
            ).one()
            if row.owner != self.owner and row.host == host and not _alive(row.pid):
                taken = conn.execute(
                    update(run_lock)
                    .where(run_lock.c.name == self.name, run_lock.c.owner == row.owner)
                    .values(
                        owner=self.owner,
                        acquired=now,
                        heartbeat=now,
                        expires=now + self.ttl,
                        host=host,
                        pid=pid,
                    )
                )
                if taken.rowcount == 1:
                    return
        if row.owner != self.owner:
            raise LockHeldError(
                f"another tierwise run ({row.owner}) holds the run lock {self.name!r} "
                f"(last heartbeat {row.heartbeat}); this run did nothing"
            )


def _alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this host (unknown counts as alive)."""
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
