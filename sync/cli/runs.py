"""``tierwise run`` and ``plan``: one sync cycle, or what it would change.

Both go through ``execute``: settings and output checks before any CRM is touched,
SIGTERM turned into the engine's stop flag, the run report written after the writes.
"""

from __future__ import annotations

import csv
import json
import signal
import sys
import threading
from dataclasses import asdict
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from tierwise.config.settings import Settings
from tierwise.sync import bootstrap as boot
from tierwise.sync import preflight
from tierwise.sync.cli.core import (
    PREFIXES,
    Context,
    emit,
    handled,
    json_default,
    json_option,
    main,
    unreachable_hint,
    warn_unknown_variables,
    write_report,
)
from tierwise.sync.engine import Outcome
from tierwise.sync.logging import redactor
from tierwise.sync.progress import make_progress
from tierwise.sync.records import Plan
from tierwise.sync.report import RunReport, summary


def execute(
    ctx: Context,
    *,
    full: bool,
    dry_run: bool,
    settings: Settings | None = None,
    connectors: Any = None,
    outputs: tuple[tuple[Path | None, str], ...] = (),
    approve: bool = False,
) -> tuple[Outcome, Path | None]:
    settings = settings or ctx.settings()
    # Refuse before any CRM is touched: the state database, the report folder, output files.
    preflight.refuse(preflight.run_problems(settings, report=not dry_run, outputs=outputs))
    warn_unknown_variables()
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, on_term)
    progress = make_progress()
    try:
        with handled():
            app = boot.bootstrap(
                settings, model_path=ctx.model, stop=stop, progress=progress, connectors=connectors
            )
        if approve:  # issue 17: `run --approve` lets the blast-radius breaker through
            from tierwise.sync.cli.change import approve as approve_engine

            approve_engine(app.engine)
        try:
            outcome = app.engine.run(full=full, dry_run=dry_run)
        finally:
            app.close()
    finally:
        progress.close()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    path = None
    if not dry_run and outcome.report.status != "locked":
        path = write_report(outcome.report, settings)
    return outcome, path


@main.command()
@click.option("--dry-run", is_flag=True, help="Compute everything, write nothing to the CRMs.")
@click.option(
    "--full",
    is_flag=True,
    help="Pull every record instead of only those changed since the last run.",
)
@click.option(
    "--backfill-tasks",
    is_flag=True,
    help="On the first run against an org, also create entry tasks for every account found "
    "in a tier (TIERWISE_BACKFILL_TASKS); by default the first run creates none.",
)
@click.option(
    "--approve",
    is_flag=True,
    help="The run's tier changes are intended: go ahead even over the blast-radius breaker.",
)
@json_option
@click.pass_obj
def run(ctx: Context, dry_run: bool, full: bool, backfill_tasks: bool, approve: bool) -> None:
    """Run one sync cycle: pull -> score -> tier -> diff -> write -> tasks -> record."""
    settings = ctx.settings()
    if backfill_tasks:
        settings = settings.model_copy(update={"backfill_tasks": True})
    outcome, path = execute(ctx, full=full, dry_run=dry_run, settings=settings, approve=approve)
    report = outcome.report
    emit(ctx, report.to_dict(), summary(report, path))
    exit_with(report, settings)


def exit_with(report: RunReport, settings: Settings) -> NoReturn:
    """End as the run ended: its exit code and, unless ok, its reason as one stderr line,
    the same line any other command prints for the same failure (``core.fail_on``)."""
    if report.exit_code != 0:
        prefix = PREFIXES.get(report.status, f"run {report.status}: ")
        reason = unreachable_hint(report.message, settings) or report.status
        line = reason if reason.startswith(prefix) else prefix + reason
        click.echo(f"tierwise: {redactor().scrub(line)}", err=True)
    sys.exit(report.exit_code)


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "account": c.key,
            "name": c.name,
            "system": c.system,
            "crm_id": c.crm_id,
            "field": c.field,
            "old": _plain(c.old),
            "new": _plain(c.new),
        }
        for c in plan.changes
    ]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def format_plan(plan: Plan, report: RunReport) -> str:
    lines: list[str] = []
    current: tuple[str, str] | None = None
    for change in plan.changes:
        if current != (change.system, change.crm_id):
            current = (change.system, change.crm_id)
            lines.append(
                f"~ {change.key} ({change.system} {change.crm_id}) {change.name or ''}".rstrip()
            )
        old = "(none)" if change.old is None else repr(_plain(change.old))
        lines.append(f"    {change.field}: {old} -> {_plain(change.new)!r}")
    for task in plan.tasks:
        r = task.request
        lines.append(
            f"+ task {r.key} on {task.system} {r.crm_account_id}: {r.subject!r} due {r.due}"
        )
    for close in plan.closes:
        lines.append(f"- close task {close.task_key} on {close.system}")
    records = sum(report.planned_writes.values())
    lines.append(
        f"Plan: {records} records to update ({len(plan.changes)} field changes), "
        f"{len(plan.tasks)} tasks to create, {len(plan.closes)} to close."
    )
    return "\n".join(lines)


@main.command()
@click.option("--json", "plan_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write one row per field change to this CSV file.",
)
@click.option("--full", is_flag=True, help="Plan against a full pull.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Save the complete plan to this file; `tierwise apply FILE` writes exactly it.",
)
@click.pass_obj
def plan(
    ctx: Context, plan_json: bool, csv_file: Path | None, full: bool, out_file: Path | None
) -> None:
    """Show what a run would change, per account and per field (old -> new). Writes nothing."""
    outcome, _ = execute(
        ctx, full=full, dry_run=True, outputs=((csv_file, "--csv"), (out_file, "--out"))
    )
    report = outcome.report
    if outcome.plan is None:
        click.echo(redactor().scrub(summary(report)), err=True)
        exit_with(report, ctx.settings())
    rows = plan_rows(outcome.plan)
    if out_file is not None:  # issue 17: a saved plan for `tierwise apply`
        from tierwise.sync.cli.change import save_plan

        digest = save_plan(ctx, outcome, out_file)
        click.echo(
            f"plan saved to {out_file} (sha256 {digest[:12]}): tierwise apply {out_file}",
            err=True,
        )
    if csv_file is not None:
        with csv_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=["account", "name", "system", "crm_id", "field", "old", "new"]
            )
            writer.writeheader()
            writer.writerows(rows)
    if plan_json or ctx.as_json:
        data = {
            "changes": rows,
            "tasks": [
                {"system": t.system, "account": t.account_key, **asdict(t.request)}
                for t in outcome.plan.tasks
            ],
            "closes": [asdict(c) for c in outcome.plan.closes],
            "summary": report.to_dict(),
        }
        click.echo(json.dumps(data, indent=2, default=json_default))
    else:
        click.echo(format_plan(outcome.plan, report))
    sys.exit(report.exit_code)
