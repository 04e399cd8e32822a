"""``tierwise review``: gather the records for the quarterly review pack and render it.

The sections are computed by ``tierwise.tiering.review`` (pure); this module reads the state
store (tier history per account, pins and honoured hand edits from the snapshots) and
renders a table, CSV (one file, a ``section`` column) or HTML.

History is read per account through ``StateStore.history``; on very large orgs a
store method returning all history since a date would be faster (see the REPORT).
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

from tierwise.sync.coverage.population import Population
from tierwise.sync.state import StateStore
from tierwise.tiering.review import SECTIONS, Pin, Point, ReviewPack, review_pack

TITLES = {
    "moves": "Tier moves since the last review, and why",
    "near_boundary": "Accounts within 3 points of a boundary",
    "overrides": "Pins and hand edits near or past expiry",
    "capacity": "Capacity use per tier and owner",
    "windows": "Outreach windows opened and ended",
    "tier1_quiet": "Tier 1 accounts with no activity in 30 days (monthly check)",
}
_SINCE = re.compile(r"^(\d+)d$")


def parse_since(text: str, now: datetime) -> datetime:
    """``90d`` (days back from now) or a date ``2026-09-01``."""
    match = _SINCE.match(text.strip())
    if match:
        return now - timedelta(days=int(match.group(1)))
    return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), now.tzinfo)


def build(store: StateStore, population: Population, since: datetime, now: datetime) -> ReviewPack:
    names = {a.key: a.name or "" for a in population.accounts}
    histories = {
        a.key: [Point(r.at, r.tier, r.rule, r.reason) for r in store.history(a.key)]
        for a in population.accounts
    }
    pins: list[Pin] = []
    for account in population.accounts:
        for record in account.records:
            if record.manual_tier:
                pins.append(Pin(account.key, record.manual_tier, record.manual_tier_until, "pin"))
            if record.override:
                until = record.override.get("until")
                pins.append(
                    Pin(
                        account.key,
                        record.override.get("tier", ""),
                        date.fromisoformat(until) if until else None,
                        "hand edit",
                    )
                )
    model = population.model
    return review_pack(
        since=since,
        now=now,
        decisions=list(population.decisions),
        names=names,
        histories=histories,
        pins=pins,
        stats=population.result.stats,
        top_tier=model.tiers[0].id,
        last_activity={a.key: a.fields.get("last_activity") for a in population.accounts},
    )


def to_json(pack: ReviewPack) -> dict[str, Any]:
    return {"since": pack.since.isoformat(), "today": pack.today.isoformat(), **pack.rows}


def to_text(pack: ReviewPack) -> str:
    lines = [f"tierwise review {pack.since.isoformat()} .. {pack.today.isoformat()}"]
    for section in SECTIONS:
        rows = pack.rows[section]
        lines.append(f"\n{TITLES[section]}: {len(rows)}")
        lines.extend("  " + " | ".join(row.values()) for row in rows[:50])
        if len(rows) > 50:
            lines.append(f"  ... {len(rows) - 50} more (use --format csv)")
    return "\n".join(lines)


def to_csv(pack: ReviewPack) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "account_or_owner", "detail"])
    for section in SECTIONS:
        for row in pack.rows[section]:
            values = list(row.values())
            writer.writerow([section, values[0], "; ".join(values[1:])])
    return out.getvalue()


def to_html(pack: ReviewPack) -> str:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>tierwise review</title>",
        f"<h1>Tier review {pack.since.isoformat()} .. {pack.today.isoformat()}</h1>",
    ]
    for section in SECTIONS:
        rows = pack.rows[section]
        parts.append(f"<h2 id='{section}'>{html.escape(TITLES[section])} ({len(rows)})</h2>")
        if rows:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>"
                for r in rows
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
    return "".join(parts)
