"""What ``tierwise report`` adds to the outcome report for issue 16: spend and capacity.

* **Spend**: each tier's planned spend (its play's ``budget_per_account`` x the tier's
  accounts at the period's end) and, from the same report's outcomes, pipeline and won
  revenue per unit of spend, also beyond the untiered baseline (tierwise.tiering.spend).
* **Capacity**: the figures the run summary and ``/metrics`` show (sync/report.py
  ``over_capacity``/``pins_over_limit``/``capacity_notes``; metrics
  ``tierwise_tier_over_capacity``/``tierwise_pins_over_limit``), from the stored
  accounts tiered the way a run tiers them, plus the pinned accounts past
  ``overrides.max_per_tier`` by name.

The sections go into the report's JSON (``spend``, ``capacity``), its text (after the
table), its CSV (spend columns on each tier's row) and its HTML (two more tables).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

from tierwise.sync.coverage.population import Population
from tierwise.tiering.model import TieringModel
from tierwise.tiering.spend import SpendRow, TierOutcome, spend_rows

SPEND_COLUMNS = (
    "budget_per_account",
    "planned_spend",
    "pipeline_per_spend",
    "revenue_per_spend",
    "incremental_pipeline_per_spend",
    "incremental_revenue_per_spend",
)


def spend(model: TieringModel, rows: Sequence[Any], baseline: str) -> tuple[list[SpendRow], float]:
    """Spend rows per tier from an outcome report's rows (``tier``, ``accounts``,
    ``new_pipeline``, ``revenue``) and the total planned spend."""
    outcomes = {r.tier: TierOutcome(r.accounts, r.new_pipeline, r.revenue) for r in rows}
    budgets = {t.id: (t.play.budget_per_account if t.play else None) for t in model.tiers}
    result = spend_rows(budgets, outcomes, outcomes.get(baseline))
    return result, sum(r.planned_spend or 0.0 for r in result)


def spend_json(rows: Sequence[SpendRow], total: float) -> dict[str, Any]:
    return {"tiers": [asdict(r) for r in rows], "planned_spend": total}


def spend_text(rows: Sequence[SpendRow], total: float) -> str:
    lines = ["planned spend per tier (baseline: untiered accounts)"]
    for row in rows:
        planned = "-" if row.planned_spend is None else f"{row.planned_spend:,.0f}"
        lines.append(
            f"  {row.tier:<8} {row.accounts:>6} accounts  spend {planned:>10}  "
            f"pipeline/spend {_num(row.pipeline_per_spend)}  "
            f"revenue/spend {_num(row.revenue_per_spend)}  "
            f"beyond baseline {_num(row.incremental_pipeline_per_spend)} / "
            f"{_num(row.incremental_revenue_per_spend)}"
        )
    lines.append(f"  planned spend, all tiers: {total:,.0f}")
    return "\n".join(lines)


def capacity(population: Population) -> dict[str, Any]:
    """Tiers over capacity (for any reason), pins past ``overrides.max_per_tier`` per tier
    and by account, and the run summary's capacity lines."""
    stats = population.result.stats
    names = {a.key: a.name or "" for a in population.accounts}
    return {
        "over_capacity": {
            t.tier: t.accounts - t.capacity
            for t in stats.per_tier
            if t.capacity is not None and t.accounts > t.capacity
        },
        "pins_over_limit": dict(stats.pins_over_limit_per_tier),
        "pins_over_limit_accounts": [
            {"account": key, "name": names.get(key, "")} for key in stats.pins_over_limit
        ],
        "notes": list(stats.capacity_notes),
    }


def capacity_text(section: Mapping[str, Any]) -> str:
    notes = section["notes"]
    if not notes:
        return "capacity: every tier within capacity; no pins past overrides.max_per_tier"
    lines = [f"capacity: {note}" for note in notes]
    lines.extend(
        f"  pin past the limit: {p['account']} {p['name']}".rstrip()
        for p in section["pins_over_limit_accounts"]
    )
    return "\n".join(lines)


def add_spend_columns(path: Path, rows: Sequence[SpendRow]) -> None:
    """The report CSV (one row per tier) gains the spend columns on each tier's row."""
    by_tier = {r.tier: asdict(r) for r in rows}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        names = list(reader.fieldnames or [])
        table = list(reader)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*names, *SPEND_COLUMNS])
        writer.writeheader()
        for line in table:
            extra = by_tier.get(line.get("tier", ""), {})
            writer.writerow({**line, **{c: _cell(extra.get(c)) for c in SPEND_COLUMNS}})


def html_sections(rows: Sequence[SpendRow], total: float, section: Mapping[str, Any]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in ("tier", "accounts", *SPEND_COLUMNS))
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(_cell(v))}</td>"
            for v in (r.tier, r.accounts, *(getattr(r, c) for c in SPEND_COLUMNS))
        )
        + "</tr>"
        for r in rows
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in section["notes"]) or (
        "<li>every tier within capacity; no pins past overrides.max_per_tier</li>"
    )
    pins = "".join(
        f"<li>{escape(p['account'])} {escape(p['name'])}</li>"
        for p in section["pins_over_limit_accounts"]
    )
    return (
        f"<h2>Spend</h2><p>Planned spend, all tiers: {total:,.0f}</p>"
        f"<table class='spend'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<h2>Capacity</h2><ul class='capacity'>{notes}</ul>"
        + (f"<h3>Pins past overrides.max_per_tier</h3><ul class='pins'>{pins}</ul>" if pins else "")
    )


def insert_html(page: str, sections: str) -> str:
    """The sections before ``</body>`` (or at the end of a page without one)."""
    at = page.rfind("</body>")
    return page + sections if at < 0 else page[:at] + sections + page[at:]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
