"""The state store's account snapshots and what tierwise last wrote to each record.

A mixin of ``StateStore`` (needs ``self.engine``), kept apart so the store stays a
readable size: the pulled records a run tiers (saved in batches as they arrive, read
back in the compact form), the hand-edit overrides stored with them, and the values
tierwise wrote (to recognise hand edits).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from tierwise.connectors.base import CrmAccount, TierwiseValues
from tierwise.sync.records import Snapshot
from tierwise.sync.state.codec import (
    NO_INVALID,
    Interner,
    decode_row,
    decode_tierwise,
    encode_fields,
    encode_tierwise,
)
from tierwise.sync.state.history import chunked, utc
from tierwise.sync.state.tables import account_snapshot, last_written

# Rows per fetch when a whole table is read (server-side cursor on PostgreSQL), and
# records per statement when many are written: the worker never holds a whole table
# as database rows, only the compact records built from them.
READ_CHUNK = 5000
WRITE_CHUNK = 5000
# The tier fields a hand edit is read from (``TierwiseValues`` attributes).
TIER_FIELDS = ("tier", "customer_tier")


class SnapshotStore:
    """Snapshot and last-written reads and writes; needs ``self.engine``."""

    engine: Engine

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
