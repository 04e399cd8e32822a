"""The run report: one JSON file per run plus the human summary printed by the CLI.

The report says what a run did and why it stopped, with record ids for every error
and every invalid value, and API calls per system next to the minimum the APIs
allow, so an operator can act on it without reading logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.sync.logging import redactor

if TYPE_CHECKING:
    from tierwise.sync.apply import Applied
    from tierwise.sync.records import Plan
    from tierwise.sync.targets import Decisions

# Status -> exit code: one table for the engine, the report and every command.
from tierwise.sync.exits import EXIT_CODES

# The minimum a run's calls are set against lives in sync/minimum.py; the engine and the
# CLI read it from here, beside the report it fills.
from tierwise.sync.minimum import (
    PathMinimum as PathMinimum,
)
from tierwise.sync.minimum import (
    minimum_calls as minimum_calls,
)
from tierwise.sync.minimum import (
    property_sets as property_sets,
)
from tierwise.sync.minimum import (
    read_minimum as read_minimum,
)
from tierwise.sync.minimum import (
    task_minimum as task_minimum,
)
from tierwise.sync.minimum import (
    write_minimum as write_minimum,
)


@dataclass
class RunReport:
    run_id: str
    kind: str
    dry_run: bool
    started: datetime
    finished: datetime | None = None
    status: str = "running"
    message: str = ""
    pulled: dict[str, int] = field(default_factory=dict)
    full_reconcile: dict[str, str] = field(default_factory=dict)
    accounts: int = 0
    per_tier: dict[str, int] = field(default_factory=dict)
    # Customers per customer tier (customer tiers on; empty otherwise).
    customer_tiers: dict[str, int] = field(default_factory=dict)
    tier_labels: dict[str, str] = field(default_factory=dict)
    promotions: int = 0
    demotions: int = 0
    tier_changes: int = 0
    field_changes: int = 0
    writes: dict[str, int] = field(default_factory=dict)
    planned_writes: dict[str, int] = field(default_factory=dict)
    tasks_created: dict[str, int] = field(default_factory=dict)
    tasks_existing: dict[str, int] = field(default_factory=dict)
    tasks_planned: int = 0
    tasks_closed: int = 0
    tasks_overdue: list[str] = field(default_factory=list)
    tasks_escalated: int = 0
    # Go-live: the first run of the prospect target (no tier history yet); with backfill
    # it created entry tasks anyway, without it they were held (counted, not created).
    first_run: bool = False
    first_customer_run: bool = False
    backfill: bool = False
    newly_tiered: int = 0
    tasks_held: int = 0
    # Over TIERWISE_TASKS_PER_OWNER_PER_DAY: waiting for a later day (same key); dropped:
    # waited, but the account left the tier first.
    tasks_deferred: int = 0
    tasks_dropped: int = 0
    # Per CRM: model inputs it cannot supply (scored as missing), input -> why.
    unmapped_inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    hand_edits: list[dict[str, str]] = field(default_factory=list)
    invalid_values: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    api_calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    minimum_calls: dict[str, int] = field(default_factory=dict)
    # Distinct sets of fields among each CRM's planned updates that clear nothing: one
    # HubSpot import each, which the minimum prices (sync/minimum.py).
    property_sets: dict[str, int] = field(default_factory=dict)
    # issue 16: tiers over capacity / pins past overrides.max_per_tier (one line each),
    # accounts beyond each tier's capacity and pins that fell back, per tier.
    capacity_notes: list[str] = field(default_factory=list)
    over_capacity: dict[str, int] = field(default_factory=dict)
    pins_over_limit: dict[str, int] = field(default_factory=dict)
    # issue 16: outreach windows opened / ended this run (account key -> end day).
    windows_opened: dict[str, str] = field(default_factory=dict)
    windows_ended: dict[str, str] = field(default_factory=dict)
    # Seconds each step of the run took (gather, decide, plan, apply, record), in order:
    # where a slow run spent its time, without a profiler (issue 15).
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 1)

    def failures_by_system(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for error in self.errors:
            if error.get("crm_id"):
                counts[error.get("system", "?")] = counts.get(error.get("system", "?"), 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["finished"] = self.finished.isoformat() if self.finished else None
        data["exit_code"] = self.exit_code
        return data

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        path = directory / f"run-{stamp}-{self.run_id[:8]}.json"
        data = redactor().scrub_value(self.to_dict())
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        return path


def describe_decisions(report: RunReport, decided: Decisions, backfill: bool) -> None:
    """The report's tiering figures: the first target's (prospects) counts, customer
    tiers, go-live, honoured hand edits and invalid values."""
    prospects = decided.targets[0]
    stats = prospects.result.stats
    report.accounts = stats.accounts
    report.per_tier = {t.tier: t.accounts for t in stats.per_tier}
    report.tier_labels = {t.tier: t.label for t in stats.per_tier}
    report.promotions, report.demotions = stats.promotions, stats.demotions
    # issue 16: capacity honesty (tiers over capacity, pins past the limit) and windows.
    result = prospects.result
    report.capacity_notes = list(stats.capacity_notes)
    report.over_capacity = {
        t.tier: t.accounts - t.capacity
        for t in stats.per_tier
        if t.capacity is not None and t.accounts > t.capacity
    }
    report.pins_over_limit = dict(stats.pins_over_limit_per_tier)
    report.windows_opened = {k: w.until.isoformat() for k, w in result.windows_opened.items()}
    report.windows_ended = {k: w.until.isoformat() for k, w in result.windows_ended.items()}
    values = prospects.decisions.values()
    report.tier_changes = sum(1 for d in values if d.changed and d.previous_tier is not None)
    report.newly_tiered = sum(1 for d in values if d.previous_tier is None)
    report.first_run = prospects.first_run
    report.backfill = backfill and prospects.first_run
    customers = decided.of("customer")
    if customers is not None:
        report.first_customer_run = customers.first_run
        report.customer_tiers = {t.tier: t.accounts for t in customers.result.stats.per_tier}
    report.hand_edits = [
        {
            "system": e.system,
            "crm_id": e.crm_id,
            "key": e.key,
            "tier": e.tier,
            "until": e.until.isoformat(),
            "new": str(e.new).lower(),
        }
        for e in decided.hand_edits
    ]
    report.invalid_values = [
        {"system": s.system, "crm_id": s.crm_id, "field": name, "value": raw}
        for s in decided.snapshots
        for name, raw in sorted(s.invalid.items())
    ]


def describe_plan(report: RunReport, plan: Plan) -> None:
    """The report's planned changes and tasks."""
    report.field_changes = len(plan.changes)
    report.planned_writes = {s: len(u) for s, u in plan.updates.items()}
    report.property_sets = {
        s: property_sets(u.values for u in ups) for s, ups in plan.updates.items()
    }
    report.tasks_planned = len(plan.tasks)
    report.tasks_held = plan.held
    report.tasks_deferred = len(plan.deferred)


def describe_applied(report: RunReport, applied: Applied) -> None:
    """What the run did to the CRMs, and the records it could not write."""
    report.writes = dict(applied.writes)
    report.tasks_created = dict(applied.tasks_created)
    report.tasks_existing = dict(applied.tasks_existing)
    report.tasks_closed = applied.tasks_closed
    report.tasks_overdue = list(applied.tasks_overdue)
    report.tasks_escalated = applied.tasks_escalated
    report.tasks_dropped = applied.tasks_dropped
    report.errors.extend(applied.failures)


def summary(report: RunReport, report_path: Path | None = None) -> str:
    """The human summary of a run (what the CLI prints)."""
    mode = " (dry run: nothing written)" if report.dry_run else ""
    lines = [f"tierwise {report.kind} run {report.run_id[:8]}: {report.status}{mode}"]
    if report.message:
        lines.append(f"  {report.message}")
    if report.full_reconcile:
        for system, why in sorted(report.full_reconcile.items()):
            lines.append(f"  {system}: full reconcile ({why})")
    pulled = ", ".join(f"{s} {n}" for s, n in sorted(report.pulled.items())) or "none"
    lines.append(f"  pulled: {pulled}; accounts tiered: {report.accounts}")
    if report.per_tier:
        lines.append("  accounts per tier:")
        for tier, count in report.per_tier.items():
            label = report.tier_labels.get(tier, tier)
            lines.append(f"    {tier:<12} {label:<14} {count:>7}")
    if report.customer_tiers:
        lines.append(
            "  customers per customer tier: "
            + ", ".join(f"{tier} {n}" for tier, n in report.customer_tiers.items())
        )
    if report.first_run:
        lines.append(
            f"  first run: {report.newly_tiered} accounts tiered for the first time, "
            f"{report.field_changes} field changes"
        )
    else:
        newly = f", {report.newly_tiered} newly tiered" if report.newly_tiered else ""
        lines.append(
            f"  changes: {report.tier_changes} tier changes ({report.promotions} up, "
            f"{report.demotions} down){newly}, {report.field_changes} field changes"
        )
    verb = "would write" if report.dry_run else "writes"
    counts = report.planned_writes if report.dry_run else report.writes
    lines.append(f"  {verb}: " + (", ".join(f"{s} {n}" for s, n in sorted(counts.items())) or "0"))
    created = sum(report.tasks_created.values())
    existing = sum(report.tasks_existing.values())
    lines.append(
        f"  tasks: {report.tasks_planned} planned, {created} created, {existing} already there, "
        f"{report.tasks_closed} closed, {len(report.tasks_overdue)} overdue, "
        f"{report.tasks_escalated} escalated"
    )
    if report.first_run and report.backfill:
        lines.append("  go-live backfill: entry tasks created for every account found in a tier")
    elif report.tasks_held:
        lines.append(
            f"  go-live: {report.tasks_held} entry tasks not created for accounts merely found "
            "in a tier (run --backfill-tasks or TIERWISE_BACKFILL_TASKS=true to create them)"
        )
    if report.tasks_deferred or report.tasks_dropped:
        dropped = (
            f", {report.tasks_dropped} dropped (left the tier)" if report.tasks_dropped else ""
        )
        lines.append(
            f"  tasks deferred (over TIERWISE_TASKS_PER_OWNER_PER_DAY): "
            f"{report.tasks_deferred} wait for the next days{dropped}"
        )
    for system, inputs in sorted(report.unmapped_inputs.items()):
        names = ", ".join(
            name if why == "not mapped" else f"{name} ({why})" for name, why in inputs.items()
        )
        lines.append(f"  {system}: not mapped: {names} (scored as missing)")
    lines.extend(f"  capacity: {note}" for note in report.capacity_notes)  # issue 16
    if report.windows_opened or report.windows_ended:
        lines.append(
            f"  outreach windows: {len(report.windows_opened)} opened, "
            f"{len(report.windows_ended)} ended"
        )
    if report.hand_edits:
        lines.append(f"  hand edits honoured as overrides: {len(report.hand_edits)}")
    if report.invalid_values:
        sample = ", ".join(
            f"{v['system']}:{v['crm_id']}.{v['field']}" for v in report.invalid_values[:5]
        )
        lines.append(
            f"  invalid values (scored as missing): {len(report.invalid_values)} ({sample})"
        )
    if report.api_calls:
        lines.append("  API calls (made / minimum for reads+writes+tasks):")
        for system, usage in sorted(report.api_calls.items()):
            minimum = report.minimum_calls.get(system)
            lines.append(f"    {system:<11} {usage.get('total', 0):>5} / {minimum}")
            for endpoint, count in sorted(_calls(usage).items()):
                lines.append(f"      {endpoint:<40} {count:>5}")
    if report.errors:
        lines.append(f"  errors: {len(report.errors)}")
        for error in report.errors[:10]:
            where = f"{error.get('system', '')}:{error.get('crm_id', '')}".strip(":")
            lines.append(f"    {where} {error.get('reason', '')}".rstrip())
    if report_path is not None:
        lines.append(f"  report: {report_path}")
    return "\n".join(lines)


def _calls(usage: Mapping[str, Any]) -> dict[str, int]:
    calls = usage.get("calls", {})
    return {str(k): int(v) for k, v in calls.items()} if isinstance(calls, dict) else {}
