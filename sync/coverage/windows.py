"""Outreach windows in the state store (table ``outreach_window``, migration 0003).

The pure core decides which windows are open; this module only loads them before a
run and replaces them with the run's result afterwards, in one transaction, so a
run that fails before its record step leaves the previous windows untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Column, Date, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Connection, Engine

from tierwise.tiering.records import Window

_metadata = MetaData()
outreach_window = Table(
    "outreach_window",
    _metadata,
    Column("account_key", String(255), primary_key=True),
    Column("trigger", String(64), nullable=False),
    Column("tier", String(64), nullable=False),
    Column("opened", Date, nullable=False),
    Column("until", Date, nullable=False),
)


def load_windows(engine: Engine) -> dict[str, Window]:
    """The windows the last recorded run kept, by account key."""
    with engine.connect() as conn:
        rows = conn.execute(select(outreach_window)).all()
    return {r.account_key: Window(r.trigger, r.tier, r.opened, r.until) for r in rows}


def save_windows(conn: Connection, windows: Mapping[str, Window]) -> None:
    """Replace the stored windows with ``windows``, inside the caller's transaction (the
    run's ``record``, so history, watermarks and windows are kept together or not at all)."""
    conn.execute(delete(outreach_window))
    if windows:
        conn.execute(
            insert(outreach_window),
            [
                {
                    "account_key": key,
                    "trigger": w.trigger,
                    "tier": w.tier,
                    "opened": w.opened,
                    "until": w.until,
                }
                for key, w in windows.items()
            ],
        )
