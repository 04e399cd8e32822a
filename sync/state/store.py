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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

from tierwise.connectors.base import CrmAccount, TierwiseValues
from tierwise.sync.records import Snapshot, TaskRecord
from tierwise.sync.state.codec import (
    NO_INVALID,
    Interner,
    decode_row,
    decode_tierwise,
    encode_fields,
    encode_tierwise,
)
from tierwise.sync.state.history import TierHistory, chunked, utc
from tierwise.sync.state.lock import RunLock, advisory_key
from tierwise.sync.state.tables import (
    account_snapshot,
    last_written,
    runs,
    tasks,
    watermarks,
)
from tierwise.tiering.records import Decision

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Rows per fetch when a whole table is read (server-side cursor on PostgreSQL), and
# records per statement when many are written: the worker never holds a whole table
# as database rows, only the compact records built from them.
READ_CHUNK = 5000
WRITE_CHUNK = 5000
# The tier fields a hand edit is read from (``TierwiseValues`` attributes).
TIER_FIELDS = ("tier", "customer_tier")
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


class StateStore(TierHistory):
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
    def upsert_snapshots(
        self,
        accounts: Sequence[CrmAccount],
        keys: Mapping[tuple[str, str], str],
        now: datetime,
        pull: str | None = None,
    ) -> None:
        """Store pulled records (replacing earlier pulls of the same record).

        The stored ``override`` (an honoured hand edit) survives a re-pull. ``pull``
        is the pull's token (``delete_snapshots_not_pulled``).
        """
        if not accounts:
            return
        ids_by_system: dict[str, list[str]] = {}
        for acc in accounts:
            ids_by_system.setdefault(acc.system, []).append(acc.crm_id)
        with self.engine.begin() as conn:
            overrides: dict[tuple[str, str], Any] = {}
            for system, ids in ids_by_system.items():
                for chunk in chunked(ids, 500):
                    for row in conn.execute(
                        select(account_snapshot.c.crm_id, account_snapshot.c.override).where(
                            account_snapshot.c.system == system,
                            account_snapshot.c.crm_id.in_(chunk),
                        )
                    ):
                        overrides[(system, row.crm_id)] = row.override
                    conn.execute(
                        delete(account_snapshot).where(
                            account_snapshot.c.system == system,
                            account_snapshot.c.crm_id.in_(chunk),
                        )
                    )
            conn.execute(
                insert(account_snapshot),
                [
                    {
                        "system": acc.system,
                        "crm_id": acc.crm_id,
                        "key": keys[(acc.system, acc.crm_id)],
                        "domain": acc.domain,
                        "name": acc.name,
                        "owner_id": acc.owner_id,
                        "modified_at": acc.modified_at,
                        "fields": encode_fields(acc.fields),
                        "written": encode_tierwise(acc.written),
                        "manual_tier": acc.manual_tier,
                        "manual_tier_until": acc.manual_tier_until,
                        "invalid": dict(acc.invalid),
                        "override": overrides.get((acc.system, acc.crm_id)),
                        "updated": now,
                        "pulled": pull,
                    }
                    for acc in accounts
                ],
            )

    def delete_snapshots_except(self, system: str, keep_ids: Iterable[str]) -> int:
        """After a full pull: forget records the CRM no longer has."""
        keep = set(keep_ids)
        with self.engine.begin() as conn:
            stored = [
                r.crm_id
                for r in conn.execute(
                    select(account_snapshot.c.crm_id).where(account_snapshot.c.system == system)
                )
            ]
            gone = [crm_id for crm_id in stored if crm_id not in keep]
            for chunk in chunked(gone, 500):
                conn.execute(
                    delete(account_snapshot).where(
                        account_snapshot.c.system == system, account_snapshot.c.crm_id.in_(chunk)
                    )
                )
        return len(gone)

    def delete_snapshots_not_pulled(self, system: str, pull: str) -> int:
        """After a full pull that saved every record with the token ``pull``: forget the
        records it did not see (the CRM no longer has them), without holding their ids."""
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(account_snapshot).where(
                    account_snapshot.c.system == system,
                    (account_snapshot.c.pulled != pull) | account_snapshot.c.pulled.is_(None),
                )
            ).rowcount
        return int(gone or 0)

    def count_pulled(self, system: str, pull: str) -> int:
        """How many distinct records one pull saved (an incremental pull repeats the
        records on its boundary; each is stored once): counted here, so the pull keeps
        no set of a million ids in memory."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.count()).where(
                    account_snapshot.c.system == system, account_snapshot.c.pulled == pull
                )
            ).scalar()
        return int(found or 0)

    def snapshots(self) -> list[Snapshot]:
        return list(self.iter_snapshots())

    def iter_snapshots(
        self,
        intern: Interner | None = None,
        system: str | None = None,
        *,
        other_than: Collection[str] = (),
        not_pulled: str | None = None,
    ) -> Iterator[Snapshot]:
        """Every stored snapshot (of ``system``, else of every system but ``other_than``;
        with ``not_pulled``, only those that pull did not save) by (system, crm_id), read
        in chunks into the compact form: field values as a ``FieldRow``, repeated strings
        and dates shared (with whatever else ``intern`` is shared with, e.g. the history
        keys)."""
        intern = intern or Interner()
        query = _SNAPSHOT_ROWS.order_by(account_snapshot.c.system, account_snapshot.c.crm_id)
        if system is not None:
            query = query.where(account_snapshot.c.system == system)
        if other_than:
            query = query.where(account_snapshot.c.system.not_in(list(other_than)))
        if not_pulled is not None:
            query = query.where(
                or_(account_snapshot.c.pulled.is_(None), account_snapshot.c.pulled != not_pulled)
            )
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=READ_CHUNK).execute(query):
                yield _snapshot(r, intern)

    def read_snapshots(
        self, system: str, crm_ids: Sequence[str], intern: Interner | None = None
    ) -> list[Snapshot]:
        """The stored snapshots of these records (any order), as ``iter_snapshots`` reads
        them: a pull reads back each batch it saved while its next page is on the way."""
        intern = intern or Interner()
        found: list[Snapshot] = []
        with self.engine.connect() as conn:
            for chunk in chunked(crm_ids, 500):
                query = _SNAPSHOT_ROWS.where(
                    account_snapshot.c.system == system, account_snapshot.c.crm_id.in_(chunk)
                )
                found.extend(_snapshot(r, intern) for r in conn.execute(query))
        return found

    def set_overrides(self, overrides: Mapping[tuple[str, str], Mapping[str, str] | None]) -> None:
        with self.engine.begin() as conn:
            self._set_overrides(conn, overrides)

    @staticmethod
    def _set_overrides(
        conn: Connection, overrides: Mapping[tuple[str, str], Mapping[str, str] | None]
    ) -> None:
        for (system, crm_id), value in overrides.items():
            conn.execute(
                update(account_snapshot)
                .where(account_snapshot.c.system == system, account_snapshot.c.crm_id == crm_id)
                .values(override=dict(value) if value is not None else None)
            )

    # -- what tierwise wrote ----------------------------------------------------
    def record_written(
        self, written: Mapping[tuple[str, str], TierwiseValues], now: datetime
    ) -> None:
        """After a successful write: the CRM now holds these values, written by tierwise."""
        if not written:
            return
        items = list(written.items())
        with self.engine.begin() as conn:
            for start in range(0, len(items), WRITE_CHUNK):
                self._record_written(conn, items[start : start + WRITE_CHUNK], now)

    @staticmethod
    def _record_written(
        conn: Connection,
        items: Sequence[tuple[tuple[str, str], TierwiseValues]],
        now: datetime,
    ) -> None:
        """One chunk of ``record_written`` (a Bulk API write hands over the whole set)."""
        rows = [
            {"k_system": system, "k_crm_id": crm_id, "encoded": encode_tierwise(values)}
            for (system, crm_id), values in items
        ]
        # Three executemany statements per batch, not three statements per record: this
        # runs after every write chunk and was the slowest step of a 10k-account run.
        conn.execute(
            update(account_snapshot)
            .where(
                account_snapshot.c.system == bindparam("k_system"),
                account_snapshot.c.crm_id == bindparam("k_crm_id"),
            )
            .values(written=bindparam("encoded")),
            rows,
        )
        by_system: dict[str, list[str]] = {}
        for (system, crm_id), _values in items:
            by_system.setdefault(system, []).append(crm_id)
        for system, ids in by_system.items():
            for chunk in chunked(ids, 500):
                conn.execute(
                    delete(last_written).where(
                        last_written.c.system == system, last_written.c.crm_id.in_(chunk)
                    )
                )
        conn.execute(
            insert(last_written),
            [
                {
                    "system": r["k_system"],
                    "crm_id": r["k_crm_id"],
                    "values": r["encoded"],
                    "at": now,
                }
                for r in rows
            ],
        )

    def last_written(self) -> dict[tuple[str, str], TierwiseValues]:
        with self.engine.connect() as conn:
            return {
                (r.system, r.crm_id): decode_tierwise(r.values)
                for r in conn.execution_options(yield_per=READ_CHUNK).execute(select(last_written))
            }

    def last_written_edited(self) -> dict[tuple[str, str], TierwiseValues]:
        """``last_written`` where the stored snapshot's tier differs from it: the only
        entries the hand-edit check can act on (``merge.detect_hand_edits`` finds no edit
        where the CRM holds the tier tierwise wrote, and looks up no record without a
        snapshot). After a quiet run this is nearly empty, instead of one entry per
        record written since tierwise went live."""
        lw, snap = last_written, account_snapshot
        query = select(lw.c.system, lw.c.crm_id, lw.c["values"], snap.c.written).join(
            snap, (snap.c.system == lw.c.system) & (snap.c.crm_id == lw.c.crm_id)
        )
        found: dict[tuple[str, str], TierwiseValues] = {}
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=READ_CHUNK).execute(query):
                mine, held = r[2] or {}, r.written or {}
                if any(mine.get(name) != held.get(name) for name in TIER_FIELDS):
                    found[(r.system, r.crm_id)] = decode_tierwise(mine)
        return found

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


# Every snapshot column a run reads (not the bookkeeping ones).
_SNAPSHOT_ROWS = select(*(c for c in account_snapshot.c if c.name not in ("updated", "pulled")))


def _snapshot(r: Any, intern: Interner) -> Snapshot:
    """One stored row in the compact form (``StateStore.iter_snapshots``)."""
    return Snapshot(
        system=intern.text(r.system),
        crm_id=r.crm_id,
        key=intern.text(r.key),
        domain=intern.text(r.domain),
        name=intern.text(r.name),
        owner_id=intern.text(r.owner_id),
        modified_at=intern.stamp(utc(r.modified_at)),
        fields=decode_row(r.fields, intern),
        written=decode_tierwise(r.written, intern),
        manual_tier=intern.text(r.manual_tier),
        manual_tier_until=r.manual_tier_until,
        invalid=r.invalid or NO_INVALID,
        override=r.override,
    )
