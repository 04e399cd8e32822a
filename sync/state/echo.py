"""How many records a pull will return, from what the store already knows (no API call).

Connectors pick their read path from this estimate (``Connector.pull_accounts``'s
``expected``): page by page for a few records, a bulk job (Salesforce Bulk API 2.0
query, HubSpot export) for many. An incremental pull after a large run is mostly
*echo reads*: tierwise's own writes moved ``SystemModstamp`` / ``hs_lastmodifieddate``,
so every record it wrote comes back. No CRM offers a way to skip those without
risking an outside edit that raced the write (DESIGN.md, "Echo reads"), so tierwise
reads them, and this estimate lets it read them the cheap way.

The estimate is never a filter: a wrong one costs calls, not records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from tierwise.sync.state.tables import account_snapshot, last_written, runs


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _count(counts: Mapping[str, Any] | None, name: str, system: str) -> int:
    per_system = (counts or {}).get(name) or {}
    value = per_system.get(system, 0) if isinstance(per_system, Mapping) else 0
    return int(value) if isinstance(value, int | float) else 0


def stored_count(engine: Engine, system: str) -> int:
    """Records of ``system`` in the store: what a full pull should return."""
    snap = account_snapshot
    with engine.connect() as conn:
        value = conn.execute(
            select(func.count()).select_from(snap).where(snap.c.system == system)
        ).scalar_one()
    return int(value)


def known_since(engine: Engine, system: str, since: datetime) -> int:
    """Records of ``system`` the pull from ``since`` returns again, by what the store knows.

    * Pulled at or after ``since`` (the stored CRM stamp): the watermark's boundary, and
      every record the last pull read inside the watermark's lag.
    * Written by tierwise after its last pull, at or after ``since``: an echo not yet
      read. Its CRM stamp is its write time or later, so the pull returns it.
    """
    snap, lw = account_snapshot, last_written
    since = _utc(since)
    with engine.connect() as conn:
        seen = conn.execute(
            select(func.count())
            .select_from(snap)
            .where(snap.c.system == system, snap.c.modified_at >= since)
        ).scalar_one()
        echoes = conn.execute(
            select(func.count())
            .select_from(
                lw.join(snap, (lw.c.system == snap.c.system) & (lw.c.crm_id == snap.c.crm_id))
            )
            .where(
                lw.c.system == system,
                lw.c.at >= since,
                lw.c.at > snap.c.updated,
                # Counted once: not already among the records seen at or after ``since``.
                (snap.c.modified_at < since) | snap.c.modified_at.is_(None),
            )
        ).scalar_one()
    return int(seen) + int(echoes)


def outside_edits(engine: Engine, system: str) -> int:
    """Outside edits the last incremental run read: its pull less the echoes of the run
    before it (what that one wrote). Zero when there is no such pair of runs."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(runs.c.kind, runs.c.counts)
            .where(runs.c.dry_run.is_(False), runs.c.finished.is_not(None))
            .order_by(runs.c.started.desc())
            .limit(2)
        ).all()
    if len(rows) < 2 or rows[0].kind != "incremental":
        return 0
    pulled = _count(rows[0].counts, "pulled", system)
    echoes = _count(rows[1].counts, "writes", system)
    return max(0, pulled - echoes)


def expected_pull(engine: Engine, system: str, since: datetime | None) -> int | None:
    """The ``expected`` argument of ``pull_accounts`` for a pull from ``since`` (None: full).

    None when a full pull meets an empty store (the first run): the size is unknown, and
    the connector may look at its first page (``totalSize``, ``total``) to choose."""
    if since is None:
        return stored_count(engine, system) or None
    return known_since(engine, system, since) + outside_edits(engine, system)
