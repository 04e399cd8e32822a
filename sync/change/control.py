"""Apply a saved plan, or roll a run back: the two commands that write outside a run.

Both take the run lock, record themselves in the run ledger like a run, read each
planned record's current values from the CRM first (reads only), and then write
exactly what they decided, through the same engine apply step a run uses.

Both can be rerun after a crash: a record that already holds the plan's new values
(apply) or its previous values again (rollback) counts as done, not as changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import structlog

from tierwise.connectors.base import AccountUpdate, Connector, TierwiseValues
from tierwise.sync.apply import StopRequested, write_updates
from tierwise.sync.change import planfile
from tierwise.sync.change.gate import journal_entries
from tierwise.sync.change.journal import ChangeJournal, JournalEntry
from tierwise.sync.engine import SyncEngine
from tierwise.sync.exits import EXIT_STALE_PLAN, NotFoundError, classify
from tierwise.sync.report import RunReport, describe_applied
from tierwise.sync.state import LockHeldError
from tierwise.tiering.errors import TierwiseError

log = structlog.get_logger("tierwise.change")


class StalePlanError(TierwiseError):
    """The CRM or the model moved since the plan was made: applying it would overwrite
    someone else's change or write a decision the live model no longer makes."""

    run_status = "stale_plan"
    exit_code = EXIT_STALE_PLAN


def same(name: str, a: Any, b: Any) -> bool:
    """Equal as tierwise compares written values (scores at one decimal)."""
    if name in ("score", "customer_score") and a is not None and b is not None:
        return round(float(a), 1) == round(float(b), 1)
    return bool(a == b)


def _names() -> list[str]:
    return [f.name for f in fields(TierwiseValues)]


def current_values(
    connectors: Iterable[Connector], systems: Iterable[str]
) -> dict[tuple[str, str], TierwiseValues]:
    """What each CRM holds now in tierwise's fields (a full read; no write)."""
    wanted = set(systems)
    found: dict[tuple[str, str], TierwiseValues] = {}
    for connector in connectors:
        if connector.system in wanted:
            for account in connector.pull_accounts(None):
                found[(connector.system, account.crm_id)] = account.written
    return found


@dataclass
class Verdict:
    todo: list[planfile.RecordChange] = field(default_factory=list)
    done: list[planfile.RecordChange] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def check_records(
    records: Sequence[planfile.RecordChange], now: Mapping[tuple[str, str], TierwiseValues]
) -> Verdict:
    """Per planned record: still as planned (todo), already written (done), or changed."""
    verdict = Verdict()
    names = _names()
    for rec in records:
        cur = now.get((rec.system, rec.crm_id))
        where = f"{rec.system} {rec.crm_id} ({rec.account_key})"
        if cur is None:
            verdict.stale.append(f"{where} is gone from the CRM")
            continue
        if all(same(n, getattr(cur, n), getattr(rec.held, n)) for n in names):
            verdict.todo.append(rec)
            continue
        want = replace(rec.held, **{n: getattr(rec.desired, n) for n in rec.fields})
        if all(same(n, getattr(cur, n), getattr(want, n)) for n in names):
            verdict.done.append(rec)
            continue
        moved = next(n for n in names if not same(n, getattr(cur, n), getattr(rec.held, n)))
        verdict.stale.append(
            f"{where} {moved} is {getattr(cur, moved)!r}, planned from {getattr(rec.held, moved)!r}"
        )
    return verdict


def _ledger(engine: SyncEngine, kind: str, now: datetime) -> RunReport:
    return RunReport(run_id=uuid.uuid4().hex, kind=kind, dry_run=False, started=now)


def _locked(
    engine: SyncEngine, report: RunReport, work: Callable[[], None], counts: dict[str, Any]
) -> RunReport:
    """Run ``work`` under the run lock, recorded in the run ledger like a run."""
    store = engine.store
    lock = store.lock(owner=report.run_id)
    try:
        lock.acquire(report.started)
    except LockHeldError as exc:
        report.status, report.message = "locked", str(exc)
        report.finished = engine.clock()
        return report
    structlog.contextvars.bind_contextvars(run_id=report.run_id)
    try:
        store.start_run(report.run_id, report.kind, False, report.started)
        engine.runtime.heartbeat = lock.heartbeat
        work()
    except StopRequested:
        report.status = "stopped"
        report.message = "stopped on request; rerun the same command to finish"
    except Exception as exc:  # noqa: BLE001 - one mapping (sync/exits.py) for every command
        report.status, report.message = classify(exc)
        log.error(f"{report.kind}.error", status=report.status, error=report.message)
    finally:
        report.finished = engine.clock()
        for connector in engine.connectors:
            usage = connector.usage()
            report.api_calls[connector.system] = {"total": usage.total, "calls": dict(usage.calls)}
        try:
            store.finish_run(
                report.run_id,
                finished=report.finished,
                status=report.status,
                counts={
                    **counts,
                    "writes": report.writes,
                    "tasks_created": report.tasks_created,
                    "tasks_closed": report.tasks_closed,
                    "message": report.message,
                },
                api_calls=report.api_calls,
                errors=report.errors,
            )
        except Exception:
            log.exception(f"{report.kind}.ledger_failed")
        lock.release()
        log.info(
            f"{report.kind}.finish",
            status=report.status,
            writes=report.writes,
            message=report.message or None,
        )
        structlog.contextvars.unbind_contextvars("run_id")
    return report


def apply_plan(
    engine: SyncEngine, saved: planfile.SavedPlan, digest: str, live_model_hash: str
) -> RunReport:
    """Write exactly ``saved``'s diff, tasks and closes; refuse it if stale (nothing written)."""
    report = _ledger(engine, "apply", engine.clock())

    def work() -> None:
        if live_model_hash != saved.model_hash:
            raise StalePlanError(
                f"stale plan: the model file {saved.model_path} changed since the plan was "
                "made; nothing was written: re-plan with `tierwise plan --out`"
            )
        engine.validate()
        systems = {r.system for r in saved.records}
        verdict = check_records(saved.records, current_values(engine.connectors, systems))
        if verdict.stale:
            more = f" (and {len(verdict.stale) - 1} more)" if len(verdict.stale) > 1 else ""
            raise StalePlanError(
                f"stale plan: {len(verdict.stale)} planned record(s) changed in the CRM since "
                f"the plan was made: {verdict.stale[0]}{more}; nothing was written: re-plan "
                "with `tierwise plan --out`"
            )
        todo = planfile.SavedPlan(**{**saved.__dict__, "records": verdict.todo})
        plan = todo.to_plan()
        now = engine.clock()
        ChangeJournal(engine.store).record_run(
            report.run_id,
            journal_entries(plan),
            [t.request.key for t in plan.tasks],
            now,
            model_hash=saved.model_hash,
            plan_hash=digest,
            detail={"origin": saved.origin, "already_written": len(verdict.done)},
        )
        # Exactly the plan: no escalation tasks of overdue plays on the side.
        escalation, engine.escalation_owners = engine.escalation_owners, None
        try:
            applied = engine.apply(plan, now)
        finally:
            engine.escalation_owners = escalation
        describe_applied(report, applied)
        failures = applied.failures
        engine.store.record_decisions(report.run_id, now, saved.decision_objects())
        report.errors.extend(failures)
        report.status = "partial" if failures else "ok"
        report.message = (
            f"{len(failures)} record write(s) failed; rerun `tierwise apply` to finish"
            if failures
            else f"applied plan {digest[:12]}"
        )

    return _locked(engine, report, work, {"plan_sha256": digest, "model_sha256": saved.model_hash})


@dataclass
class RollbackResult:
    report: RunReport
    restored: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def rollback_run(engine: SyncEngine, run_id: str) -> RollbackResult:
    """Restore what ``run_id`` replaced, close its tasks still open; skip fields since changed."""
    journal = ChangeJournal(engine.store)
    entries = journal.entries(run_id)
    task_keys = set(journal.task_keys(run_id))
    if not entries and not task_keys:
        known = [r.id for r in engine.store.list_runs(10_000) if r.id.startswith(run_id)]
        if len(known) == 1 and known[0] != run_id:
            return rollback_run(engine, known[0])
        raise NotFoundError(
            f"no writes of run {run_id!r} in the change journal (`tierwise runs` lists run ids; "
            "runs from before change control, dry runs and held runs have none)"
        )
    result = RollbackResult(_ledger(engine, "rollback", engine.clock()))
    report = result.report

    def work() -> None:
        engine.validate()
        current = current_values(engine.connectors, {e.system for e in entries})
        updates, restored = plan_rollback(entries, current, result)
        by_system = {c.system: c for c in engine.connectors}
        for system, batch in sorted(updates.items()):

            def saved(ids: Sequence[str], system: str = system) -> None:
                engine.store.record_written(
                    {(system, i): restored[(system, i)] for i in ids}, engine.clock()
                )

            outcome = write_updates(by_system[system], batch, saved, engine.stop)
            report.writes[system] = len(outcome.written)
            report.errors.extend(
                {"system": system, "crm_id": f.crm_id, "reason": f.reason} for f in outcome.failed
            )
        close_tasks(engine, task_keys, report)
        report.status = "partial" if report.errors else "ok"
        report.message = (
            f"run {run_id[:8]} rolled back: {len(result.restored)} field(s) restored, "
            f"{report.tasks_closed} task(s) closed, {len(result.skipped)} field(s) skipped "
            "(changed after the run)"
        )

    _locked(engine, report, work, {"rollback_of": run_id})
    return result


def plan_rollback(
    entries: Sequence[JournalEntry],
    current: Mapping[tuple[str, str], TierwiseValues],
    result: RollbackResult,
) -> tuple[dict[str, list[AccountUpdate]], dict[tuple[str, str], TierwiseValues]]:
    """Per field the run wrote: still the run's value -> restore; already the previous
    value -> nothing to do (a rerun); anything else -> someone changed it: skip, report."""
    updates: dict[str, list[AccountUpdate]] = {}
    restored: dict[tuple[str, str], TierwiseValues] = {}
    for e in entries:
        cur = current.get((e.system, e.crm_id))
        back: dict[str, Any] = {}
        for name in e.fields:
            old, new = getattr(e.held, name), getattr(e.desired, name)
            now = getattr(cur, name) if cur is not None else None
            row = {
                "system": e.system,
                "crm_id": e.crm_id,
                "account": e.account_key,
                "field": name,
                "old": str(old),
                "run": str(new),
                "now": str(now),
            }
            if cur is None:
                result.skipped.append({**row, "why": "record gone from the CRM"})
            elif same(name, now, new) and not same(name, now, old):
                back[name] = old
                result.restored.append(row)
            elif not same(name, now, old):
                result.skipped.append({**row, "why": "changed after the run"})
        if back and cur is not None:
            updates.setdefault(e.system, []).append(AccountUpdate(e.crm_id, back))
            restored[(e.system, e.crm_id)] = replace(cur, **back)
    return updates, restored


def close_tasks(engine: SyncEngine, keys: set[str], report: RunReport) -> None:
    """Close the run's tasks that are still open in the CRM (exactly once: the ledger
    marks each closed, and a closed key is not asked about again)."""
    mine = [t for t in engine.store.tasks(status="created") if t.key in keys and t.crm_task_id]
    by_system = {c.system: c for c in engine.connectors}
    for system in sorted({t.system for t in mine}):
        records = {t.key: t for t in mine if t.system == system}
        still_open = by_system[system].open_tasks(list(records))
        ids = {o.task_id: o.key for o in still_open}
        if ids:
            closed = by_system[system].close_tasks(list(ids), reason="tierwise rollback")
            ok = [ids[i] for i in closed.written if i in ids]
            engine.store.close_tasks(ok, engine.clock())
            report.tasks_closed += len(ok)
            report.errors.extend(
                {"system": system, "crm_id": f.crm_id, "reason": f.reason} for f in closed.failed
            )
