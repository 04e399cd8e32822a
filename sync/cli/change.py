"""``tierwise apply``, ``tierwise rollback`` and the ``plan --out`` / ``run --approve`` parts
of change control (issue 17), registered on ``tierwise.sync.cli.main``.

The logic lives in ``tierwise.sync.change``; this module only parses options, wires the app and
prints one line per outcome with the exit code of the status (sync/exits.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tierwise.sync import bootstrap as boot
from tierwise.sync.change import planfile
from tierwise.sync.change.control import apply_plan, rollback_run
from tierwise.sync.change.gate import ChangeGate, model_paths, save_outcome
from tierwise.sync.cli.core import Context, emit, handled, json_option, main
from tierwise.sync.engine import Outcome, SyncEngine
from tierwise.sync.exits import SettingError
from tierwise.sync.logging import redactor
from tierwise.sync.report import RunReport

PREFIXES = {"stale_plan": "", "locked": "run lock held: ", "held": ""}


def approve(engine: SyncEngine) -> None:
    """``tierwise run --approve``: this run's change is intended; the breaker lets it through."""
    if isinstance(engine.before_apply, ChangeGate):
        engine.before_apply.approve = True


def save_plan(ctx: Context, outcome: Outcome, path: Path) -> str:
    """``tierwise plan --out FILE``: the dry run's plan as a file ``tierwise apply`` takes."""
    settings = ctx.settings()
    paths = model_paths(settings, ctx.model)
    with handled():
        store = boot.build_store(settings)
    try:
        systems = [s for s in ("salesforce", "hubspot") if getattr(settings, s) is not None]
        return save_outcome(
            outcome,
            store,
            systems,
            path,
            now=outcome.report.started,
            model_hash=planfile.model_hash(*paths),
            model_path=str(paths[0]),
        )
    finally:
        store.dispose()


def _finish(ctx: Context, report: RunReport, data: dict[str, Any], text: str) -> None:
    from tierwise.sync.cli.core import write_report

    if report.status != "locked":
        write_report(report, ctx.settings())
    emit(ctx, {**report.to_dict(), **data}, text)
    if report.exit_code != 0:
        prefix = PREFIXES.get(report.status, f"{report.kind} {report.status}: ")
        click.echo(f"tierwise: {redactor().scrub(prefix + report.message)}", err=True)
    sys.exit(report.exit_code)


@main.command("apply")
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@json_option
@click.pass_obj
def apply_cmd(ctx: Context, plan_file: Path) -> None:
    """Apply exactly the saved PLAN_FILE (`tierwise plan --out`, or a run the breaker held).

    Refuses a stale plan (the model file changed, or a planned record changed in the CRM
    since) with exit code 9 and writes nothing: re-plan.
    """
    settings = ctx.settings()
    with handled():
        saved, digest = planfile.read(plan_file)
        app = boot.bootstrap(settings, model_path=ctx.model)
    try:
        live = planfile.model_hash(*model_paths(settings, ctx.model))
        report = apply_plan(app.engine, saved, digest, live)
    finally:
        app.close()
    fields_ = sum(len(r.fields) for r in saved.records)
    text = (
        f"apply {report.status}: plan {digest[:12]} ({len(saved.records)} records, {fields_} "
        f"field changes, {len(saved.tasks)} tasks, {len(saved.closes)} closes); "
        f"writes {report.writes or 0}; {report.message}"
    )
    _finish(ctx, report, {"plan_sha256": digest}, text)


@main.command("rollback")
@click.argument("run_id")
@json_option
@click.pass_obj
def rollback_cmd(ctx: Context, run_id: str) -> None:
    """Restore what run RUN_ID wrote to the values the CRM held before it, and close the
    tasks it created that are still open. Fields changed after the run are skipped and
    listed. Recorded in the run ledger as a run of kind "rollback"."""
    settings = ctx.settings()
    with handled():
        app = boot.bootstrap(settings, model_path=ctx.model)
        try:
            result = rollback_run(app.engine, run_id)
        finally:
            app.close()
    report = result.report
    lines = [f"rollback {report.status}: {report.message}"]
    lines += [
        f"  skipped {s['system']} {s['crm_id']} {s['field']}: {s['why']} (now {s['now']!r}, "
        f"the run wrote {s['run']!r})"
        for s in result.skipped
    ]
    _finish(ctx, report, {"restored": result.restored, "skipped": result.skipped}, "\n".join(lines))


@main.group("model")
def model_group() -> None:
    """Model change control: `tierwise model promote FILE`."""


@model_group.command("promote")
@click.argument("candidate", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Promote even when the gate refuses (recorded).")
@json_option
@click.pass_obj
def promote_cmd(ctx: Context, candidate: Path, force: bool) -> None:
    """Backtest CANDIDATE against the live model on held-out, out-of-time closed deals
    (AUC, tier-1 lift, Brier score by tier); refuse it (exit 11) when it is worse beyond
    the tolerances, else copy it over the live model and record its hash and figures."""
    import shutil
    from datetime import UTC, datetime

    from tierwise.sync.change.journal import ChangeJournal
    from tierwise.sync.change.promote import ModelRefusedError, evaluate, verdict_text
    from tierwise.sync.cli.outcomes import _load
    from tierwise.tiering import load_model

    settings = ctx.settings()
    live_path = Path(ctx.model or settings.model_path)
    if candidate.resolve() == live_path.resolve():
        raise SettingError(f"{candidate} is the live model already (TIERWISE_MODEL_PATH)")
    now = datetime.now(UTC)
    with handled():
        new = load_model(candidate)
    # The live model, its population (the run's own populate step) and the closed deals,
    # as the outcome commands load them.
    loaded = _load(ctx, now.date())
    live, store, inputs, deals = loaded.model, loaded.store, loaded.inputs, loaded.deals
    try:
        verdict = evaluate(live, new, inputs, deals, now.date())
        text = verdict_text(verdict, {"live": live_path.name, "candidate": candidate.name})
        data = verdict.to_dict()
        if not verdict.accepted and not force:
            emit(ctx, data, text)
            with handled():
                raise ModelRefusedError(
                    "model refused: "
                    + "; ".join(verdict.refusals)
                    + f"; {live_path} is unchanged (--force promotes it anyway)"
                )
        digest = planfile.model_hash(candidate)
        tmp = live_path.with_name(live_path.name + ".promote.tmp")
        shutil.copyfile(candidate, tmp)
        tmp.replace(live_path)
        ChangeJournal(store).record_model(
            digest, str(live_path), data, force and not verdict.accepted, now
        )
    finally:
        store.dispose()
    forced = " (forced over: " + "; ".join(verdict.refusals) + ")" if verdict.refusals else ""
    emit(
        ctx,
        {**data, "sha256": digest, "promoted": True},
        f"{text}\npromoted {candidate} -> {live_path} (sha256 {digest[:12]}){forced}",
    )
