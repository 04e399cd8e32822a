"""The end of a run: the API calls each CRM counted, the run's ledger entry and log line.

Written once, whatever the run's status (the engine calls it from ``run``'s
``finally``); a failure to write the ledger is logged, never raised, so it cannot hide
the run's own outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import structlog

from tierwise.connectors.base import ApiUsage, Connector
from tierwise.sync.report import RunReport, minimum_calls
from tierwise.sync.state import StateStore

log = structlog.get_logger("tierwise.sync")


def finish_run(
    report: RunReport,
    finished: datetime,
    connectors: Sequence[Connector],
    store: StateStore,
    started: Mapping[str, ApiUsage] | None = None,
) -> None:
    """Fill the report's end, API calls and minima per CRM, then record the run's ledger
    entry. ``started``: each connector's usage when the run began (the run's calls are
    what was made since; a scheduled worker's connectors serve many runs)."""
    report.finished = finished
    for connector in connectors:
        usage = connector.usage()
        if started is not None and connector.system in started:
            usage = usage.since(started[connector.system])
        report.api_calls[connector.system] = {
            "total": usage.total,
            "calls": dict(usage.calls),
            "daily_used": usage.daily_used,
            "daily_max": usage.daily_max,
        }
        tasks = report.tasks_created.get(connector.system, 0) + report.tasks_existing.get(
            connector.system, 0
        )
        report.minimum_calls[connector.system] = minimum_calls(
            connector.system,
            report.pulled.get(connector.system, 0),
            report.writes.get(connector.system, 0),
            tasks,
            # HubSpot's incremental pulls page through search (200 a page), full ones
            # through the list endpoint (100): the minimum prices the path taken.
            full=report.kind == "full" or connector.system in report.full_reconcile,
            related=[0] * usage.related_reads,
            property_sets=report.property_sets.get(connector.system, 1) or 1,
            upload_files=max(1, usage.bulk_files),
        )
    try:
        store.finish_run(
            report.run_id,
            finished=finished,
            status=report.status,
            counts={
                "accounts": report.accounts,
                "per_tier": report.per_tier,
                "writes": report.writes,
                "planned_writes": report.planned_writes,
                "tasks_created": report.tasks_created,
                "tasks_closed": report.tasks_closed,
                "tasks_deferred": report.tasks_deferred,
                "tasks_held": report.tasks_held,
                "pulled": report.pulled,
                "message": report.message,
            },
            api_calls=report.api_calls,
            errors=report.errors,
        )
    except Exception:
        log.exception("run.ledger_failed")
    log.info(
        "run.finish",
        status=report.status,
        kind=report.kind,
        dry_run=report.dry_run,
        accounts=report.accounts,
        writes=report.writes,
        planned_writes=report.planned_writes,
        tasks_created=report.tasks_created,
        errors=len(report.errors),
        message=report.message or None,
        seconds=report.step_seconds,
    )
