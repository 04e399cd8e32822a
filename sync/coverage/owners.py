"""The capacity report: per owner and tier, load, cap and overflow, plus a rebalance proposal.

Rows come from ``RunStats.owner_load`` (computed by tiering while it applied the
caps, so the report counts exactly what the run did) and the proposal from
``tierwise.tiering.capacity.propose_rebalance``. Renderers: JSON (plain dicts), CSV, HTML.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tierwise.sync.coverage.population import Population
from tierwise.tiering.capacity import propose_rebalance

LOAD_COLUMNS = ("owner", "group", "tier", "load", "cap", "overflow", "room")
MOVE_COLUMNS = ("account", "name", "score", "from_owner", "to_owner", "tier")


def capacity_report(population: Population) -> dict[str, Any]:
    """``{"owners": [...], "tiers": [...], "rebalance": [...], "notes": [...]}``."""
    stats = population.result.stats
    names = {a.key: a.name or "" for a in population.accounts}
    owners = [
        {**asdict(row), "room": None if row.cap is None else max(row.cap - row.load, 0)}
        for row in stats.owner_load
    ]
    tiers = [
        {
            "tier": t.tier,
            "label": t.label,
            "accounts": t.accounts,
            "capacity": t.capacity,
            "pins_over_limit": stats.pins_over_limit_per_tier.get(t.tier, 0),
        }
        for t in stats.per_tier
    ]
    moves = propose_rebalance(
        population.model,
        list(population.decisions),
        stats.owner_load,
        {a.key: a.fields for a in population.accounts},
    )
    rebalance = [
        {
            "account": m.account,
            "name": names.get(m.account, ""),
            "score": m.score,
            "from_owner": m.from_owner,
            "to_owner": m.to_owner,
            "tier": m.tier,
        }
        for m in moves
    ]
    return {
        "owners": owners,
        "tiers": tiers,
        "rebalance": rebalance,
        "notes": list(stats.capacity_notes),
        "proposal_only": "tierwise never reassigns owners; apply moves in the CRM",
    }


def to_csv(report: dict[str, Any]) -> str:
    """The owner rows, then a blank line and the proposed moves (two tables, one file)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LOAD_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(_blank_none(r) for r in report["owners"])
    out.write("\n")
    moves = csv.DictWriter(out, fieldnames=MOVE_COLUMNS)
    moves.writeheader()
    moves.writerows(report["rebalance"])
    return out.getvalue()


def to_text(report: dict[str, Any]) -> str:
    lines = ["capacity per owner and tier (load / cap, overflow to the next tier):"]
    for row in report["owners"]:
        cap = "-" if row["cap"] is None else str(row["cap"])
        group = f" [{row['group']}]" if row["group"] else ""
        lines.append(
            f"  {row['owner']:<20}{group} {row['tier']:<10} {row['load']:>5} / {cap:<5}"
            f" overflow {row['overflow']}"
        )
    lines.extend(f"  capacity: {note}" for note in report["notes"])
    if report["rebalance"]:
        lines.append("rebalance proposal (not applied; tierwise never reassigns owners):")
        lines.extend(
            f"  {m['account']} ({m['score']:.0f}) {m['from_owner']} -> {m['to_owner']} "
            f"keeps {m['tier']}"
            for m in report["rebalance"]
        )
    else:
        lines.append("rebalance proposal: none (no overflow, or no owner with room)")
    return "\n".join(lines)


def to_html(report: dict[str, Any]) -> str:
    return (
        "<!doctype html><meta charset='utf-8'><title>tierwise capacity</title>"
        "<h1>Capacity per owner and tier</h1>"
        + _table(LOAD_COLUMNS, report["owners"])
        + "".join(f"<p>{html.escape(n)}</p>" for n in report["notes"])
        + "<h2>Rebalance proposal (not applied)</h2>"
        + _table(MOVE_COLUMNS, report["rebalance"])
    )


def _table(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _blank_none(row: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in row.items()}
