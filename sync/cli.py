"""``tierwise``: the command line of the sync worker.

Exit codes: 0 ok, 1 unexpected error, 2 configuration or model error, 3
authentication error, 4 partial failure (some records failed, or stopped early),
5 run lock held by another run, 6 deferred (API quota).
"""

from __future__ import annotations

import csv
import json
import math
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from connectors.errors import AuthenticationError, ConfigurationError
from sync import bootstrap as boot
from sync.engine import Outcome
from sync.logging import redactor
from sync.merge import merge_accounts, normalise_domain, to_inputs
from sync.progress import NoProgress, Progress
from sync.records import Plan
from sync.report import BATCH_SIZE, PAGE_SIZE, RunReport, summary
from tiering.errors import ModelError, TierwiseError

EXIT_OK, EXIT_UNEXPECTED, EXIT_CONFIG, EXIT_AUTH, EXIT_PARTIAL, EXIT_LOCKED, EXIT_DEFERRED = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
)


class Context:
    def __init__(self, model: Path | None, as_json: bool, log_format: str | None) -> None:
        self.model = model
        self.as_json = as_json
        self.log_format = log_format
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None or overrides:
            try:
                self._settings = boot.load_settings(**overrides)
            except ValidationError as exc:
                # hide_input_in_errors: the message names the setting, never its value.
                fail(EXIT_CONFIG, f"invalid settings: {exc}")
            boot.setup_logging(self._settings, self.log_format)
        return self._settings


def fail(code: int, message: str) -> NoReturn:
    click.echo(f"tierwise: {redactor().scrub(message)}", err=True)
    sys.exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn tierwise's own errors into one line and the documented exit code."""
    try:
        yield
    except ModelError as exc:
        fail(EXIT_CONFIG, f"model error: {exc}")
    except AuthenticationError as exc:
        fail(EXIT_AUTH, f"authentication failed: {exc}")
    except ConfigurationError as exc:
        fail(EXIT_CONFIG, f"configuration error: {exc}")
    except TierwiseError as exc:
        fail(EXIT_UNEXPECTED, str(exc))
    except SQLAlchemyError as exc:
        fail(EXIT_CONFIG, f"state database (TIERWISE_DATABASE_URL): {type(exc).__name__}: {exc}")


class RichProgress:
    """rich progress bars, only when stderr is a terminal."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        )
        self._progress.start()
        self._task: Any = None

    def step(self, label: str, total: int | None = None) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(label, total=total)

    def advance(self, count: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)

    def close(self) -> None:
        self._progress.stop()


def make_progress() -> Progress:
    return RichProgress() if sys.stderr.isatty() else NoProgress()


def emit(ctx: Context, data: Any, text: str) -> None:
    """Print JSON or text on stdout, with any configured secret scrubbed."""
    if ctx.as_json:
        click.echo(redactor().scrub(json.dumps(data, indent=2, default=_json_default)))
    else:
        click.echo(redactor().scrub(text))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    "model",
    type=click.Path(path_type=Path),
    default=None,
    help="Tiering model file (default: TIERWISE_MODEL_PATH or the bundled config/model.yaml).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default=None,
    help="Logs on stderr: JSON lines, key=value, or auto (key=value on a terminal).",
)
@click.version_option(package_name="tierwise")
@click.pass_context
def main(ctx: click.Context, model: Path | None, as_json: bool, log_format: str | None) -> None:
    """tierwise: tier accounts in Salesforce and HubSpot; write back tiers, plays and tasks.

    Start with `tierwise demo` (no credentials needed). Settings come from TIERWISE_*
    environment variables (see the README); `tierwise validate` checks them.
    """
    ctx.obj = Context(model, as_json, log_format)


# -- runs ------------------------------------------------------------------------
def _execute(
    ctx: Context,
    *,
    full: bool,
    dry_run: bool,
    settings: Settings | None = None,
    connectors: Any = None,
) -> tuple[Outcome, Path | None]:
    settings = settings or ctx.settings()
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
        path = outcome.report.write(settings.report_dir)
    return outcome, path


@main.command()
@click.option("--dry-run", is_flag=True, help="Compute everything, write nothing to the CRMs.")
@click.option(
    "--full",
    is_flag=True,
    help="Pull every record instead of only those changed since the last run.",
)
@click.pass_obj
def run(ctx: Context, dry_run: bool, full: bool) -> None:
    """Run one sync cycle: pull -> score -> tier -> diff -> write -> tasks -> record."""
    outcome, path = _execute(ctx, full=full, dry_run=dry_run)
    report = outcome.report
    emit(ctx, report.to_dict(), summary(report, path))
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
@click.pass_obj
def plan(ctx: Context, plan_json: bool, csv_file: Path | None, full: bool) -> None:
    """Show what a run would change, per account and per field (old -> new). Writes nothing."""
    outcome, _ = _execute(ctx, full=full, dry_run=True)
    report = outcome.report
    if outcome.plan is None:
        click.echo(redactor().scrub(summary(report)), err=True)
        sys.exit(report.exit_code)
    rows = plan_rows(outcome.plan)
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
        click.echo(json.dumps(data, indent=2, default=_json_default))
    else:
        click.echo(format_plan(outcome.plan, report))
    sys.exit(report.exit_code)


@main.command()
@click.pass_obj
def schedule(ctx: Context) -> None:
    """Run as a worker: full and incremental syncs on the cron schedules from settings.

    Serves Prometheus metrics on TIERWISE_SCHEDULE__METRICS_PORT. SIGTERM finishes the
    batch in flight, saves progress and exits.
    """
    from sync.scheduler import build_scheduler, install_stop_handlers

    settings = ctx.settings()
    with handled():
        app = boot.bootstrap(settings, model_path=ctx.model)
    if settings.schedule.metrics_port:
        app.metrics.serve(settings.schedule.metrics_port)

    def job(full: bool) -> None:
        if app.stop.is_set():
            return
        outcome = app.engine.run(full=full)
        outcome.report.write(settings.report_dir)
        app.metrics.observe(outcome.report)

    scheduler = build_scheduler(settings.schedule, job, settings.timezone)
    install_stop_handlers(scheduler, app.stop, settings.schedule.shutdown_grace_seconds)
    click.echo(
        f"tierwise schedule: full '{settings.schedule.full_cron}', incremental "
        f"'{settings.schedule.incremental_cron}' ({settings.timezone})",
        err=True,
    )
    try:
        scheduler.start()
    finally:
        app.close()


# -- reading the state store -------------------------------------------------------
def _find_key(store: Any, account: str) -> str | None:
    snapshots = store.snapshots()
    keys = {s.key for s in snapshots}
    if account in keys:
        return account
    domain = normalise_domain(account)
    if domain and domain in keys:
        return domain
    for snap in snapshots:
        if account in (snap.crm_id, f"{snap.system}:{snap.crm_id}"):
            return str(snap.key)
    return None


@main.command()
@click.argument("account")
@click.pass_obj
def explain(ctx: Context, account: str) -> None:
    """Explain the tier of ACCOUNT (key, domain or CRM id) from the last pulled data."""
    from tiering import tier_accounts

    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        store = boot.build_store(settings)
    key = _find_key(store, account)
    if key is None:
        fail(
            EXIT_UNEXPECTED, f"no account {account!r} in the state store; run `tierwise run` first"
        )
    now = datetime.now(UTC)
    accounts = merge_accounts(store.snapshots(), settings.primary, now.date())
    result = tier_accounts(model, to_inputs(accounts), store.histories(now), now)
    decision = next(d for d in result.decisions if d.key == key)
    try:
        from tiering.explain import format_decision

        text = format_decision(decision)
    except ImportError:  # pragma: no cover - older tiering
        text = f"{decision.key}: {decision.tier_label} ({decision.score:.1f}) {decision.reason}"
    emit(ctx, asdict(decision), text)


@main.command()
@click.argument("account")
@click.pass_obj
def history(ctx: Context, account: str) -> None:
    """Show ACCOUNT's tier and score over time (key, domain or CRM id)."""
    settings = ctx.settings()
    with handled():
        store = boot.build_store(settings)
    key = _find_key(store, account) or account
    rows = store.history(key)
    if not rows:
        fail(EXIT_UNEXPECTED, f"no history for {account!r}")
    text = "\n".join(
        [f"{key}"]
        + [
            f"  {r.at:%Y-%m-%d %H:%M} {r.tier:<12} {r.score:6.1f}  {r.rule:<18} {r.reason}"
            for r in rows
        ]
    )
    emit(ctx, [asdict(r) for r in rows], text)


@main.command()
@click.option("--limit", default=20, show_default=True, help="How many runs to list, newest first.")
@click.pass_obj
def runs(ctx: Context, limit: int) -> None:
    """List recent runs from the run ledger."""
    with handled():
        store = boot.build_store(ctx.settings())
    records = store.list_runs(limit)
    lines = []
    for r in records:
        took = f"{(r.finished - r.started).total_seconds():.1f}s" if r.finished else "-"
        writes = (
            sum((r.counts.get("writes") or {}).values())
            if isinstance(r.counts.get("writes"), dict)
            else 0
        )
        dry = " dry-run" if r.dry_run else ""
        lines.append(
            f"{r.started:%Y-%m-%d %H:%M:%S} {r.id[:8]} {r.kind:<11} {r.status:<14} {took:>7} "
            f"writes={writes} errors={len(r.errors)}{dry}"
        )
    emit(ctx, [asdict(r) for r in records], "\n".join(lines) or "no runs yet")


@main.command()
@click.pass_obj
def validate(ctx: Context) -> None:
    """Check settings and the model file without contacting any CRM."""
    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
    systems = [name for name in ("salesforce", "hubspot") if getattr(settings, name) is not None]
    data = {
        "model": str(ctx.model or settings.model_path),
        "model_version": getattr(model, "version", None),
        "tiers": model.tier_labels(),
        "crms": systems,
        "database": _safe_url(settings.database_url),
    }
    text = (
        f"ok: model {data['model']} (version {data['model_version']}), tiers "
        f"{', '.join(data['tiers'])}; CRMs: {', '.join(systems) or 'none configured'}; "
        f"state: {data['database']}"
    )
    emit(ctx, data, text)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as its scheme only
        return url.split(":", 1)[0] + ":…"


@main.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be created.")
@click.pass_obj
def provision(ctx: Context, dry_run: bool) -> None:
    """Create tierwise's fields/properties in each configured CRM (idempotent)."""
    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        connectors = boot.build_crm_connectors(settings, model)
        steps = provision_all(connectors, model, dry_run)
    rows = [{"system": s, **asdict(step)} for s, step in steps]
    lines = [
        # A step a CRM refused (kind "..._failed", e.g. a HubSpot list) is reported, not fatal.
        f"{'NOT created ' if st.kind.endswith('_failed') else 'exists ' if st.exists else ('would create ' if dry_run else 'created ')}"  # noqa: E501
        f"{s} {st.kind} {st.object_name}.{st.name}"
        for s, st in steps
    ]
    emit(ctx, rows, "\n".join(lines) or "nothing to provision")


def provision_all(connectors: Any, model: Any, dry_run: bool) -> list[tuple[str, Any]]:
    steps = []
    for connector in connectors:
        connector.check_access()
        for step in connector.provision(model.tier_labels(), dry_run):
            steps.append((connector.system, step))
    return steps


# -- sandbox and demo ---------------------------------------------------------------
def settings_from_env(env: Mapping[str, str], **extra: Any) -> Settings:
    """Settings from a TIERWISE_* mapping (the sandbox's), without touching os.environ."""
    nested: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("TIERWISE_"):
            continue
        parts = name[len("TIERWISE_") :].lower().split("__")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    nested.update(extra)
    return Settings(_env_file=None, **nested)  # type: ignore[call-arg]


@main.command("sandbox")
@click.option("--accounts", default=500, show_default=True, help="Seeded accounts in each CRM.")
@click.option("--seed", default=7, show_default=True)
@click.option("--salesforce-port", default=8443, show_default=True)
@click.option("--hubspot-port", default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--provisioned", is_flag=True, help="Create tierwise's fields up front.")
def sandbox_cmd(
    accounts: int, seed: int, salesforce_port: int, hubspot_port: int, host: str, provisioned: bool
) -> None:
    """Run the local Salesforce + HubSpot emulator in the foreground (Ctrl-C stops it).

    Prints the TIERWISE_* variables that point tierwise at it.
    """
    from sandbox import serve_forever

    serve_forever(
        accounts,
        seed,
        salesforce_port=salesforce_port,
        hubspot_port=hubspot_port,
        host=host,
        provisioned=provisioned,
        echo=click.echo,
    )


@main.command()
@click.option("--accounts", default=500, show_default=True, help="Seeded accounts in each CRM.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated companies.")
@click.pass_obj
def demo(ctx: Context, accounts: int, seed: int) -> None:
    """See tierwise work end to end, with no credentials and no services.

    Starts the CRM sandbox in-process with ACCOUNTS companies in both Salesforce and
    HubSpot, provisions tierwise's fields (customer tier fields included: the demo turns
    customer tiers on), runs a full sync, then an incremental one
    that should write nothing, and prints what happened.
    """
    from sandbox import Sandbox

    with (
        tempfile.TemporaryDirectory(prefix="tierwise-demo-") as tmp,
        Sandbox(accounts=accounts, seed=seed) as sb,
    ):
        work = Path(tmp)
        settings = settings_from_env(
            sb.env(),
            database_url=f"sqlite:///{work / 'demo.db'}",
            report_dir=str(work / "reports"),
            log_level="WARNING",  # the demo's output is its summary; warnings still show
            customer_tiers=True,  # show customer tiers (grow/defend/monitor) written too
        )
        boot.setup_logging(settings, ctx.log_format)
        click.echo(
            f"Sandbox up: Salesforce {sb.salesforce_url}, HubSpot {sb.hubspot_url}; "
            f"{accounts} companies in each."
        )
        with handled():
            model = boot.build_model(settings, ctx.model)
            provisioned = provision_all(
                boot.build_crm_connectors(settings, model), model, dry_run=False
            )
        created = sum(1 for _, step in provisioned if not step.exists)
        click.echo(
            f"Provisioned: {created} fields/properties created, "
            f"{len(provisioned) - created} already there."
        )
        first, _ = _execute(ctx, full=True, dry_run=False, settings=settings)
        click.echo("\n== First run (full) ==")
        click.echo(redactor().scrub(summary(first.report)))
        second, _ = _execute(ctx, full=False, dry_run=False, settings=settings)
        click.echo("\n== Second run (incremental, nothing changed) ==")
        click.echo(redactor().scrub(summary(second.report)))
        click.echo("\n" + demo_minimum(first.report, accounts))
        click.echo(
            "\nWhere next:\n"
            "  tierwise validate            check your settings and model file\n"
            "  tierwise plan --csv plan.csv see what a run would change in your CRMs, per field\n"
            "  tierwise run --dry-run       a whole run that writes nothing\n"
            "  tierwise explain <domain>    why an account got its tier\n"
            "  config/model.yaml            the tiering model; README.md for settings and deploying"
        )
        worst = max(first.report.exit_code, second.report.exit_code)
        sys.exit(worst)


def demo_minimum(report: RunReport, accounts: int) -> str:
    lines = ["API calls of the first run vs the minimum the APIs allow:"]
    for system, usage in sorted(report.api_calls.items()):
        reads = math.ceil(report.pulled.get(system, accounts) / PAGE_SIZE[system])
        writes = math.ceil(report.writes.get(system, 0) / BATCH_SIZE[system])
        lines.append(
            f"  {system:<11} made {usage.get('total', 0):>4}; minimum: "
            f"reads ceil(N/{PAGE_SIZE[system]})={reads}, "
            f"writes ceil(K/{BATCH_SIZE[system]})={writes}"
        )
    return "\n".join(lines)


# Outcome analytics (report, backtest, calibrate) live in their own module.
from sync.outcomes_cli import register as _register_outcomes  # noqa: E402 - needs main

_register_outcomes(main)
