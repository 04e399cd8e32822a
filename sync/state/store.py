"""The state store: everything tierwise remembers between runs, behind one class.

It holds the run ledger, the last pulled snapshot of every account (an incremental
pull only returns changed records, but percentiles and capacities need the whole
population), each account's current tier and score history, the values tierwise
last wrote (to recognise hand edits), the task idempotency ledger, pull watermarks
and the run lock. SQLite by default; PostgreSQL through ``TIERWISE_DATABASE_URL``.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

from tierwise.sync.records import TaskRecord
from tierwise.sync.state.history import TierHistory, chunked, utc
from tierwise.sync.state.lock import RunLock, advisory_key
from tierwise.sync.state.snapshots import SnapshotStore
from tierwise.sync.state.tables import (
    runs,
    tasks,
    watermarks,
)
from tierwise.tiering.records import Decision

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATE_LOCK = threading.Lock()


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (two workers starting
    together on a new file would otherwise both create the tables; one would fail).

    PostgreSQL gets the same guarantee from an advisory lock inside the transaction.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://``/``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    kind: str
    dry_run: bool
    started: datetime
    finished: datetime | None
    status: str
    counts: Mapping[str, Any]
    api_calls: Mapping[str, Any]
    errors: Sequence[Any]


class StateStore(SnapshotStore, TierHistory):
    def __init__(self, engine: Engine, *, lock_name: str = "tierwise.run") -> None:
        self.engine = engine
        self.lock_name = lock_name

    @classmethod
    def from_url(cls, url: str, *, lock_name: str = "tierwise.run") -> StateStore:
        return cls(make_engine(url), lock_name=lock_name)

    # -- schema -----------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; runs on every start)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        # Alembic's environment is module-global: one migration at a time per process.
        with _MIGRATE_LOCK, _sqlite_file_lock(self.engine), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Two containers starting together on an empty database: one migrates,
                # the other waits and then finds the schema current.
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": advisory_key("tierwise.migrate")},
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    def lock(self, owner: str | None = None) -> RunLock:
        return RunLock(self.engine, self.lock_name, owner or uuid.uuid4().hex)

    # -- run ledger -------------------------------------------------------------
    def start_run(self, run_id: str, kind: str, dry_run: bool, started: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(runs).values(
                    id=run_id,
                    kind=kind,
                    dry_run=dry_run,
                    started=started,
                    status="running",
                    counts={},
                    api_calls={},
                    errors=[],
                )
            )

    def finish_run(
        self,
        run_id: str,
        *,
        finished: datetime,
        status: str,
        counts: Mapping[str, Any],
        api_calls: Mapping[str, Any],
        errors: Sequence[Any],
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    finished=finished,
                    status=status,
                    counts=dict(counts),
                    api_calls=dict(api_calls),
                    errors=list(errors),
                )
            )

    def list_runs(self, limit: int = 20) -> list[RunRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).order_by(runs.c.started.desc()).limit(limit)).all()
        return [
            RunRecord(
                id=r.id,
                kind=r.kind,
                dry_run=bool(r.dry_run),
                started=utc(r.started) or r.started,
                finished=utc(r.finished),
                status=r.status,
                counts=r.counts or {},
                api_calls=r.api_calls or {},
                errors=r.errors or [],
            )
            for r in rows
        ]

    # -- snapshots --------------------------------------------------------------
    def record_run(
        self,
        run_id: str,
        at: datetime,
        decisions: Sequence[Decision],
        overrides: Mapping[tuple[str, str], Mapping[str, str] | None],
        watermarks: Mapping[tuple[str, str], str],
        also: Callable[[Connection], None] | None = None,
    ) -> int:
        """A run's record as ONE transaction: tier history, honoured hand edits, the
        watermarks ``{(system, object): value}`` and ``also(conn)`` (e.g. the outreach
        windows). Either all of it is kept or none (a crash here leaves the watermarks
        where they were, so the next run re-reads). Returns the history points written."""
        with self.engine.begin() as conn:
            points = self._record_decisions(conn, run_id, at, decisions)
            self._set_overrides(conn, overrides)
            for (system, object_name), value in watermarks.items():
                self._set_watermark(conn, system, object_name, value, at)
            if also is not None:
                also(conn)
        return points

    # -- task ledger ------------------------------------------------------------
    def tasks(self, *, status: str | None = None) -> list[TaskRecord]:
        query = select(tasks)
        if status is not None:
            query = query.where(tasks.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(tasks.c.key)).all()
        return [
            TaskRecord(
                key=r.key,
                system=r.system,
                crm_task_id=r.crm_task_id,
                account_key=r.account_key,
                crm_account_id=r.crm_account_id,
                tier=r.tier,
                status=r.status,
                due=r.due,
                created=utc(r.created),
            )
            for r in rows
        ]

    def record_tasks(self, created: Sequence[TaskRecord], now: datetime) -> None:
        if not created:
            return
        with self.engine.begin() as conn:
            for chunk in chunked([t.key for t in created], 500):
                conn.execute(delete(tasks).where(tasks.c.key.in_(chunk)))
            conn.execute(
                insert(tasks),
                [
                    {
                        "key": t.key,
                        "system": t.system,
                        "crm_task_id": t.crm_task_id,
                        "account_key": t.account_key,
                        "crm_account_id": t.crm_account_id,
                        "tier": t.tier,
                        "status": t.status,
                        "due": t.due,
                        "created": now,
                        "closed": None,
                    }
                    for t in created
                ],
            )

    def close_tasks(self, keys: Sequence[str], now: datetime) -> None:
        with self.engine.begin() as conn:
            for chunk in chunked(list(keys), 500):
                conn.execute(
                    update(tasks).where(tasks.c.key.in_(chunk)).values(status="closed", closed=now)
                )

    # -- watermarks -------------------------------------------------------------
    def watermark(self, system: str, object_name: str) -> str | None:
        with self.engine.connect() as conn:
            value: str | None = conn.execute(
                select(watermarks.c.value).where(
                    watermarks.c.system == system, watermarks.c.object == object_name
                )
            ).scalar_one_or_none()
        return value

    def set_watermark(self, system: str, object_name: str, value: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            self._set_watermark(conn, system, object_name, value, now)

    @staticmethod
    def _set_watermark(
        conn: Connection, system: str, object_name: str, value: str, now: datetime
    ) -> None:
        conn.execute(
            delete(watermarks).where(
                watermarks.c.system == system, watermarks.c.object == object_name
            )
        )
        conn.execute(
            insert(watermarks).values(system=system, object=object_name, value=value, updated=now)
        )

    def connection(self) -> Connection:
        return self.engine.connect()
