"""Reads and writes of the change-control tables, through the state store's engine.

One small class so the rest of ``tierwise.sync.change`` never writes SQL; each method is one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.change.tables import change_journal, change_runs, change_tasks, model_ledger
from tierwise.sync.state import StateStore
from tierwise.sync.state.codec import decode_tierwise, encode_tierwise


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One record a run wrote: the fields, what the CRM held before, what was written."""

    system: str
    crm_id: str
    account_key: str
    fields: tuple[str, ...]
    held: TierwiseValues
    desired: TierwiseValues


# Journal rows per INSERT: a full run journals every record it writes (two million at a
# million accounts per CRM), and one statement of them all held every row's encoded
# values at once, the biggest transient of a full run (issue 15).
JOURNAL_CHUNK = 2000


def batched(items: Iterable[JournalEntry], size: int) -> Iterator[list[JournalEntry]]:
    """Consecutive lists of at most ``size`` entries (``itertools.batched`` is 3.12+)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class ChangeJournal:
    def __init__(self, store: StateStore) -> None:
        self.engine = store.engine

    def record_run(
        self,
        run_id: str,
        entries: Iterable[JournalEntry],
        task_keys: Sequence[str],
        now: datetime,
        *,
        model_hash: str | None,
        plan_hash: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Before a run writes: the values it replaces, its task keys, its model (write-ahead).

        ``entries`` is read once, in chunks of ``JOURNAL_CHUNK`` rows, all in one
        transaction: a generator keeps a full run from holding every row at once."""
        with self.engine.begin() as conn:
            conn.execute(delete(change_journal).where(change_journal.c.run_id == run_id))
            conn.execute(delete(change_tasks).where(change_tasks.c.run_id == run_id))
            conn.execute(delete(change_runs).where(change_runs.c.run_id == run_id))
            self._insert(conn, run_id, entries, now)
            keys = sorted(set(task_keys))
            if keys:
                conn.execute(
                    insert(change_tasks), [{"run_id": run_id, "task_key": k} for k in keys]
                )
            conn.execute(
                insert(change_runs).values(
                    run_id=run_id,
                    model_hash=model_hash,
                    plan_hash=plan_hash,
                    detail=dict(detail or {}),
                )
            )

    def append(self, run_id: str, entries: Iterable[JournalEntry], now: datetime) -> None:
        """More entries of a run ``record_run`` opened: a run journals each chunk of
        writes just before it sends it (``ChangeGate.journal_writes``)."""
        with self.engine.begin() as conn:
            self._insert(conn, run_id, entries, now)

    @staticmethod
    def _insert(
        conn: Connection, run_id: str, entries: Iterable[JournalEntry], now: datetime
    ) -> None:
        for chunk in batched(entries, JOURNAL_CHUNK):
            conn.execute(
                insert(change_journal),
                [
                    {
                        "run_id": run_id,
                        "system": e.system,
                        "crm_id": e.crm_id,
                        "account_key": e.account_key,
                        "fields": list(e.fields),
                        "held": encode_tierwise(e.held),
                        "desired": encode_tierwise(e.desired),
                        "at": now,
                    }
                    for e in chunk
                ],
            )

    def entries(self, run_id: str) -> list[JournalEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(change_journal)
                .where(change_journal.c.run_id == run_id)
                .order_by(change_journal.c.system, change_journal.c.crm_id)
            ).all()
        return [
            JournalEntry(
                r.system,
                r.crm_id,
                r.account_key,
                tuple(r.fields),
                decode_tierwise(r.held),
                decode_tierwise(r.desired),
            )
            for r in rows
        ]

    def task_keys(self, run_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return [
                r.task_key
                for r in conn.execute(
                    select(change_tasks.c.task_key).where(change_tasks.c.run_id == run_id)
                )
            ]

    def runs(self, run_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """``run_id -> (model hash, plan hash)`` for the runs that have them."""
        if not run_ids:
            return {}
        with self.engine.connect() as conn:
            return {
                r.run_id: (r.model_hash, r.plan_hash)
                for r in conn.execute(
                    select(change_runs).where(change_runs.c.run_id.in_(list(run_ids)))
                )
            }

    def record_model(
        self, sha256: str, path: str, figures: Mapping[str, Any], forced: bool, now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(model_ledger).values(
                    at=now, sha256=sha256, path=path, forced=forced, figures=dict(figures)
                )
            )

    def models(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                {
                    "at": r.at,
                    "sha256": r.sha256,
                    "path": r.path,
                    "forced": r.forced,
                    "figures": r.figures,
                }
                for r in conn.execute(select(model_ledger).order_by(model_ledger.c.id))
            ]
