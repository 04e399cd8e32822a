"""``tierwise``: the command line of the sync worker.

Exit codes (one table, sync/exits.py; README "Exit codes"): 0 ok, 1 unexpected error
(a bug), 2 configuration or model error, 3 authentication error, 4 partial failure (some
records failed, or stopped early), 5 run lock held by another run, 6 deferred (API
quota), 7 a CRM unreachable or unavailable, 8 not found, 64 usage error. Every failure
ends in one line on stderr; a traceback only with ``--debug`` or TIERWISE_LOG_LEVEL=debug.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
from pydantic import ValidationError
from pydantic_settings.exceptions import SettingsError
from sqlalchemy.exc import SQLAlchemyError

from config.mapping import apply_mapping
from config.settings import Settings
from sync import bootstrap as boot
from sync import preflight
from sync.engine import Outcome
from sync.exits import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_DEFERRED,
    EXIT_LOCKED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_UNAVAILABLE,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    NotFoundError,
    SettingError,
    classify,
    exit_code,
    settings_error,
)
from sync.logging import redactor
from sync.merge import merge_accounts, normalise_domain, to_inputs
from sync.progress import make_progress
from sync.records import Plan
from sync.report import BATCH_SIZE, PAGE_SIZE, RunReport, summary
from tiering.errors import ModelError, TierwiseError

# The exit codes stay importable from here (commands added beside these use them).
__all__ = [
    "EXIT_AUTH",
    "EXIT_CONFIG",
    "EXIT_DEFERRED",
    "EXIT_LOCKED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_UNAVAILABLE",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "Context",
    "fail",
    "handled",
    "main",
    "provision_all",
    "settings_from_env",
]


class Context:
    def __init__(
        self, model: Path | None, as_json: bool, log_format: str | None, debug: bool = False
    ) -> None:
        self.model = model
        self.as_json = as_json
        self.log_format = log_format
        self.debug = debug
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None or overrides:
            try:
                self._settings = boot.load_settings(**overrides)
            except (ValidationError, SettingsError) as exc:
                # hide_input_in_errors: the message names the setting, never its value.
                raise settings_error(exc, dict(os.environ)) from None
            boot.setup_logging(self._settings, self.log_format, "DEBUG" if self.debug else None)
        return self._settings


def fail(code: int, message: str) -> NoReturn:
    click.echo(f"tierwise: {redactor().scrub(message)}", err=True)
    sys.exit(code)


PREFIXES = {
    "configuration": "configuration error: ",
    "authentication": "authentication failed: ",
    "deferred": "deferred: ",
    "unavailable": "CRM unavailable: ",
    "not_found": "not found: ",
}


def fail_on(exc: BaseException, *, debug: bool = False) -> NoReturn:
    """One line on stderr and the exit code of ``exc``'s class (sync/exits.py)."""
    status, message = classify(exc)
    if status == "unavailable":
        # The hint is a courtesy; the line stands without it.
        with contextlib.suppress(Exception):
            message = unreachable_hint(message, boot.load_settings())
    if debug or status == "failed":
        # A real bug: say so; the traceback only when asked for (it can be long).
        if debug:
            click.echo(redactor().scrub(traceback.format_exc()), err=True)
        elif status == "failed":
            message += " (unexpected: rerun with --debug for the traceback, and report it)"
    prefix = "model error: " if isinstance(exc, ModelError) else PREFIXES.get(status, "")
    fail(exit_code(status), prefix + message)


@contextmanager
def handled() -> Iterator[None]:
    """Turn tierwise's own errors into one line and the documented exit code."""
    try:
        yield
    except (TierwiseError, SQLAlchemyError) as exc:
        fail_on(exc, debug=_debug_requested())


def _debug_requested(args: list[str] | None = None) -> bool:
    argv = args if args is not None else sys.argv[1:]
    return "--debug" in argv or os.environ.get("TIERWISE_LOG_LEVEL", "").lower() == "debug"


class TierwiseGroup(click.Group):
    """The command group whose ``main`` is the one place every failure is turned into a
    line and an exit code: usage errors exit 64, tierwise's errors their class's code,
    anything else 1 ("a bug") with the traceback only under ``--debug``."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        argv = list(kwargs.get("args") or (args[0] if args else None) or sys.argv[1:])
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.NoArgsIsHelpError as exc:
            # `tierwise` alone: the help, as click prints it, and the usage code.
            click.echo(exc.format_message(), err=True)
            sys.exit(EXIT_USAGE)
        except click.UsageError as exc:
            see = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"tierwise: usage error: {exc.format_message()}{see}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("tierwise: aborted", err=True)
            sys.exit(130)
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into a line
            fail_on(exc, debug=_debug_requested(argv))
        sys.exit(result if isinstance(result, int) else 0)


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


@click.group(cls=TierwiseGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--debug", is_flag=True, help="Show the traceback of a failure (also TIERWISE_LOG_LEVEL=debug)."
)
@click.version_option(package_name="tierwise")
@click.pass_context
def main(
    ctx: click.Context, model: Path | None, as_json: bool, log_format: str | None, debug: bool
) -> None:
    """tierwise: tier accounts in Salesforce and HubSpot; write back tiers, plays and tasks.

    Start with `tierwise demo` (no credentials needed). Settings come from TIERWISE_*
    environment variables (see the README); `tierwise validate` checks them.
    """
    ctx.obj = Context(model, as_json, log_format, debug)


# -- runs ------------------------------------------------------------------------
def _execute(
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
            from sync.cli_change import approve as approve_engine

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


def warn_unknown_variables() -> None:
    """A misspelt TIERWISE_* name is otherwise ignored without a word: log it once."""
    import structlog

    for problem in preflight.unknown_variables(dict(os.environ)):
        structlog.get_logger("tierwise.settings").warning(
            "settings.unknown_variable", problem=problem.message
        )


def write_report(report: RunReport, settings: Settings) -> Path | None:
    """Write the run report; after the CRM writes, a failure here is a warning, not a crash."""
    try:
        return report.write(settings.report_dir)
    except OSError as exc:
        click.echo(
            f"tierwise: warning: could not write the run report to {settings.report_dir} "
            f"(TIERWISE_REPORT_DIR): {exc.strerror or exc}",
            err=True,
        )
        return None


def json_option(fn: Any) -> Any:
    """``--json`` after the command too (``tierwise run --json``), same as before it."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value and isinstance(ctx.obj, Context):
            ctx.obj.as_json = True

    return click.option(
        "--json",
        "as_json_flag",
        is_flag=True,
        expose_value=False,
        callback=set_json,
        help="Machine-readable JSON on stdout.",
    )(fn)


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
    outcome, path = _execute(ctx, full=full, dry_run=dry_run, settings=settings, approve=approve)
    report = outcome.report
    emit(ctx, report.to_dict(), summary(report, path))
    if report.exit_code != 0:
        # The reason as one line on stderr too, as every other command reports failures.
        prefix = PREFIXES.get(report.status, f"run {report.status}: ")
        reason = unreachable_hint(report.message, ctx.settings()) or report.status
        line = reason if reason.startswith(prefix) else prefix + reason
        click.echo(f"tierwise: {redactor().scrub(line)}", err=True)
    sys.exit(report.exit_code)


def unreachable_hint(message: str, settings: Settings) -> str:
    """Name the URL and the setting when a CRM could not be reached at all."""
    if "connection or timeout" not in message and "TLS" not in message:
        return message
    hints = []
    if settings.salesforce is not None and "Salesforce" in message:
        hints.append(f"TIERWISE_SALESFORCE__INSTANCE_URL={settings.salesforce.instance_url}")
    if settings.hubspot is not None and "HubSpot" in message:
        hints.append(f"TIERWISE_HUBSPOT__BASE_URL={settings.hubspot.base_url}")
    if not hints:
        return message
    return f"{message}; cannot reach {', '.join(hints)}: check the host, port and scheme"


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
    outcome, _ = _execute(
        ctx, full=full, dry_run=True, outputs=((csv_file, "--csv"), (out_file, "--out"))
    )
    report = outcome.report
    if outcome.plan is None:
        click.echo(redactor().scrub(summary(report)), err=True)
        sys.exit(report.exit_code)
    rows = plan_rows(outcome.plan)
    if out_file is not None:  # issue 17: a saved plan for `tierwise apply`
        from sync.cli_change import save_plan

        digest = save_plan(ctx, outcome, out_file)
        click.echo(f"plan saved to {out_file} (sha256 {digest[:12]}): tierwise apply {out_file}",
                   err=True)
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
    from sync.scheduler import build_scheduler, install_stop_handlers, scheduled_job

    settings = ctx.settings()
    port = settings.schedule.metrics_port
    preflight.refuse(
        [
            *preflight.run_problems(settings),
            *preflight.cron_problems(settings),
            *(
                [p]
                if port and (p := preflight.port_problem(port, "TIERWISE_SCHEDULE__METRICS_PORT"))
                else []
            ),
        ]
    )
    warn_unknown_variables()
    with handled():
        app = boot.bootstrap(settings, model_path=ctx.model)
    if port:
        app.metrics.serve(port)
    job = scheduled_job(app, settings, write_report)

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


@main.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for an answer.")
def health(timeout: float) -> None:
    """Exit 0 if the local `tierwise schedule` worker answers healthy (the image's check).

    Reads /healthz on TIERWISE_SCHEDULE__METRICS_PORT: unhealthy after
    TIERWISE_SCHEDULE__UNHEALTHY_AFTER_FAILURES failed runs in a row, or no answer.
    """
    import urllib.error
    import urllib.request

    port = boot.load_settings().schedule.metrics_port
    if not port:
        raise SettingError("TIERWISE_SCHEDULE__METRICS_PORT is off: nothing to check")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            click.echo(f"healthy: {url}")
            sys.exit(0 if response.status == 200 else EXIT_UNEXPECTED)
    except urllib.error.HTTPError as exc:
        exc.close()
        fail(EXIT_UNEXPECTED, f"unhealthy: {url} answered {exc.code} (consecutive failed runs)")
    except OSError as exc:
        fail(EXIT_UNEXPECTED, f"unhealthy: no answer from {url} ({exc})")


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


def _not_found(store: Any, account: str) -> NoReturn:
    """Exit 8 with the closest keys, domains or names the state store does hold."""
    import difflib

    snapshots = store.snapshots()
    if not snapshots:
        raise NotFoundError(f"no account {account!r}: the state store is empty; run `tierwise run`")
    names: dict[str, str] = {}
    for snap in snapshots:
        names[str(snap.key)] = str(snap.key)
        name = getattr(snap, "name", None)
        if name:
            names[str(name).lower()] = str(snap.key)
    close = difflib.get_close_matches(account.lower(), list(names), n=3, cutoff=0.6)
    hint = "; did you mean " + ", ".join(sorted({names[c] for c in close})) + "?" if close else ""
    raise NotFoundError(f"no account {account!r} in the state store{hint}")


@main.command()
@click.argument("account")
@json_option
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
        _not_found(store, account)
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
@json_option
@click.pass_obj
def history(ctx: Context, account: str) -> None:
    """Show ACCOUNT's tier and score over time (key, domain or CRM id)."""
    settings = ctx.settings()
    with handled():
        store = boot.build_store(settings)
    key = _find_key(store, account) or account
    rows = store.history(key)
    if not rows:
        _not_found(store, account)
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
@json_option
@click.pass_obj
def runs(ctx: Context, limit: int) -> None:
    """List recent runs from the run ledger."""
    with handled():
        store = boot.build_store(ctx.settings())
    records = store.list_runs(limit)
    from sync.change.journal import ChangeJournal  # issue 17: the model behind each run

    models = ChangeJournal(store).runs([r.id for r in records])
    lines = []
    for r in records:
        took = f"{(r.finished - r.started).total_seconds():.1f}s" if r.finished else "-"
        writes = (
            sum((r.counts.get("writes") or {}).values())
            if isinstance(r.counts.get("writes"), dict)
            else 0
        )
        dry = " dry-run" if r.dry_run else ""
        model, applied = models.get(r.id, (None, None))
        lines.append(
            f"{r.started:%Y-%m-%d %H:%M:%S} {r.id[:8]} {r.kind:<11} {r.status:<14} {took:>7} "
            f"writes={writes} errors={len(r.errors)}{dry}"
            + (f" model={model[:12]}" if model else "")
            + (f" plan={applied[:12]}" if applied else "")
        )
    emit(
        ctx,
        [
            {
                **asdict(r),
                "model_sha256": models.get(r.id, (None, None))[0],
                "plan_sha256": models.get(r.id, (None, None))[1],
            }
            for r in records
        ],
        "\n".join(lines) or "no runs yet",
    )


@main.command()
@click.option(
    "--online", is_flag=True, help="Also check each CRM: authentication, fields, permissions."
)
@json_option
@click.pass_obj
def validate(ctx: Context, online: bool) -> None:
    """Check everything run and schedule would refuse, without contacting any CRM.

    Settings, cron strings, model files, state database URL, report folder, CRM
    credentials, unknown TIERWISE_* variables. --online adds the CRM checks.
    """
    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        apply_mapping(settings, model.fields)  # the mapping file, and unknown mapping keys
    problems = preflight.all_problems(settings, ctx.model, dict(os.environ))
    inputs = set(model.fields)
    if settings.customer_tiers and Path(settings.customer_model_path).is_file():
        with handled():
            inputs |= set(boot.build_customer_model(settings).fields)
    problems += preflight.mapping_problems(settings, inputs)
    for problem in problems:
        if problem.severity == "warning":
            click.echo(f"tierwise: warning: {problem.message}", err=True)
    errors = [p.message for p in problems if p.severity == "error"]
    if errors:
        for message in errors[1:]:
            click.echo(f"tierwise: configuration error: {message}", err=True)
        more = f" (and {len(errors) - 1} more above)" if errors[1:] else ""
        raise SettingError(errors[0] + more)
    if online:
        with handled():
            for connector in boot.build_crm_connectors(settings, model):
                try:
                    connector.check_access()
                    connector.validate_schema()
                finally:
                    close = getattr(connector, "close", None)
                    if callable(close):
                        close()
    systems = [name for name in ("salesforce", "hubspot") if getattr(settings, name) is not None]
    data = {
        "model": str(ctx.model or settings.model_path),
        "model_version": getattr(model, "version", None),
        "tiers": model.tier_labels(),
        "crms": systems,
        "database": _safe_url(settings.database_url),
        "online": online,
        "warnings": [p.message for p in problems if p.severity == "warning"],
    }
    text = (
        f"ok: model {data['model']} (version {data['model_version']}), tiers "
        f"{', '.join(data['tiers'])}; CRMs: {', '.join(systems) or 'none configured'}"
        f"{' (access, fields and permissions checked online)' if online else ''}; "
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
@json_option
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
@click.option("--profile", type=click.Choice(["stock", "enriched"]), default="stock",
              show_default=True, help="stock: a new org/portal; enriched: plus custom data.")
def sandbox_cmd(
    accounts: int, seed: int, salesforce_port: int, hubspot_port: int, host: str,
    provisioned: bool, profile: str,
) -> None:
    """Run the local Salesforce + HubSpot emulator in the foreground (Ctrl-C stops it).

    Prints the TIERWISE_* variables that point tierwise at it.
    """
    from sandbox import serve_forever

    preflight.refuse(
        p
        for p in (
            preflight.port_problem(salesforce_port, "--salesforce-port", host),
            preflight.port_problem(hubspot_port, "--hubspot-port", host),
        )
        if p
    )
    serve_forever(
        accounts,
        seed,
        salesforce_port=salesforce_port,
        hubspot_port=hubspot_port,
        host=host,
        provisioned=provisioned,
        profile=profile,
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
            backfill_tasks=True,  # a newcomer sees the plays' tasks on the first run
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
            "\nWhere next (the demo's sandbox and state are gone when it exits):\n"
            "  tierwise sandbox             start the sandbox again (leave it running), then\n"
            "                               in another shell export the TIERWISE_* lines it\n"
            "                               prints, e.g. export TIERWISE_HUBSPOT__ACCESS_TOKEN=…\n"
            "  tierwise provision           create tierwise's fields in the sandbox\n"
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


# -- connect: what the org holds vs what the model needs (read-only) ----------------
@main.command()
@click.option("--sample", default=200, show_default=True, help="Records sampled per CRM.")
@click.option(
    "--write",
    "write_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the proposed mapping (mapping.yaml shape) to this file for review.",
)
@click.option("--force", is_flag=True, help="Overwrite the --write file if it exists.")
@click.option("--json", "connect_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.pass_obj
def connect(
    ctx: Context, sample: int, write_path: Path | None, force: bool, connect_json: bool
) -> None:
    """Inspect each CRM: per model input its field, access, fill rate and best candidates;
    tierwise's own fields; the permissions later commands need. Never writes to a CRM
    or to the live mapping."""
    from sync.connect import assess_all
    from sync.connect_render import mapping_yaml, render_text, to_json

    settings = ctx.settings()
    if write_path is not None:
        live = getattr(settings, "mapping_path", None)
        if live is not None and Path(live).resolve() == write_path.resolve():
            fail(EXIT_CONFIG, f"--write {write_path} is the live mapping "
                 "(TIERWISE_MAPPING_PATH); write the proposal elsewhere and review it")
        if write_path.exists() and not force:
            fail(EXIT_CONFIG, f"--write {write_path} exists; pass --force to overwrite it")
        if not write_path.parent.is_dir():
            fail(EXIT_CONFIG, f"--write {write_path}: folder {write_path.parent} does not exist")
    with handled():
        model = boot.build_model(settings, ctx.model)
        customer_model = boot.build_customer_model(settings)
        connectors = boot.build_crm_connectors(settings, model, customer_model)
        models = [m for m in (model, customer_model) if m is not None]
        fields = {k: v for m in reversed(models) for k, v in m.fields.items()}
        try:
            reports = assess_all(connectors, fields, models, max(1, sample))
        finally:
            for connector in connectors:
                close = getattr(connector, "close", None)
                if callable(close):
                    close()
    text = render_text(reports)
    if write_path is not None:
        write_path.write_text(mapping_yaml(reports), encoding="utf-8")
        text += f"\nproposal written to {write_path}: review it; the live mapping is unchanged"
    ctx.as_json = ctx.as_json or connect_json
    emit(ctx, to_json(reports), text)


# Outcome analytics (report, backtest, calibrate) live in their own module.
from sync.outcomes_cli import register as _register_outcomes  # noqa: E402 - needs main

_register_outcomes(main)

import sync.cli_change  # noqa: E402,F401 - issue 17: registers apply and rollback on main

