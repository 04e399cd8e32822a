"""Apply a plan: the only step that writes to the CRMs.

Writes go out in chunks with the stop flag checked between them, and each chunk's
successes are handed to ``on_written`` at once, so a stopped or crashed run keeps
what it did and the next run only does the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import structlog

from tierwise.connectors.base import (
    AccountUpdate,
    Connector,
    RecordFailure,
    TaskOutcome,
    TaskRequest,
    WriteOutcome,
)
from tierwise.sync.pacing import ESCALATION_SUFFIX as ESC
from tierwise.sync.progress import NoProgress, Progress
from tierwise.sync.records import Plan, PlannedTask, TaskRecord
from tierwise.tiering.errors import (
    StopRequested as StopRequested,  # re-exported: a run signal of the tree
)

if TYPE_CHECKING:
    from tierwise.sync.runtime import Runtime

log = structlog.get_logger("tierwise.sync")

T = TypeVar("T")

# Big enough that connectors fill their largest batches; small enough to stop promptly.
CHUNK = 2000


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise StopRequested


def write_updates(
    connector: Connector,
    updates: Sequence[AccountUpdate],
    on_written: Callable[[Sequence[str]], None],
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    chunk: int | None = None,
    before: Callable[[Sequence[AccountUpdate]], None] | None = None,
) -> WriteOutcome:
    """Send ``updates`` in the connector's chunks; ``before`` sees each chunk first (the
    write-ahead journal), ``on_written`` the ids each chunk wrote."""
    total = WriteOutcome()
    progress = progress or NoProgress()
    size = chunk or max(1, connector.write_chunk_size(len(updates)))
    for part in chunks(updates, size):
        check_stop(stop)
        if before is not None:
            before(part)
        outcome = connector.write_accounts(part)
        on_written(outcome.written)
        total.written.extend(outcome.written)
        total.failed.extend(outcome.failed)
        progress.advance(len(part))
    return total


def ensure_tasks(
    connector: Connector,
    requests: Sequence[TaskRequest],
    on_done: Callable[[TaskOutcome], None],
    stop: threading.Event | None = None,
    chunk: int = CHUNK,
) -> TaskOutcome:
    total = TaskOutcome()
    for part in chunks(requests, chunk):
        check_stop(stop)
        outcome = connector.ensure_tasks(part)
        on_done(outcome)
        total.created.update(outcome.created)
        total.existing.update(outcome.existing)
        total.failed.extend(outcome.failed)
    return total


@dataclass
class Applied:
    """What ``apply`` did to the CRMs, per system, and the records it could not write."""

    writes: dict[str, int] = field(default_factory=dict)
    tasks_created: dict[str, int] = field(default_factory=dict)
    tasks_existing: dict[str, int] = field(default_factory=dict)
    tasks_closed: int = 0
    tasks_overdue: list[str] = field(default_factory=list)
    tasks_escalated: int = 0
    tasks_dropped: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)


def apply_plan(
    rt: Runtime,
    plan: Plan,
    now: datetime,
    escalation_owners: Mapping[str, str | None] | None = None,
    done: Applied | None = None,
    journal: Callable[[str, Sequence[AccountUpdate]], None] | None = None,
) -> Applied:
    """Write changed fields, ensure tasks, close superseded ones, escalate overdue ones.

    Every write is recorded as it lands (what the CRM now holds; task intents before
    the create), so a crash or a stop keeps what was done and the next run does the rest.
    ``done`` (filled as the work lands) lets a stopped run still report what it did.
    ``journal`` (the change gate's write-ahead journal) sees each chunk of a CRM's
    updates before it is sent, a transaction per ``CHUNK`` records under the store lock
    (the other CRM's thread records its writes meanwhile).
    """
    done = done if done is not None else Applied()
    store = rt.store
    done.tasks_dropped = _record_waiting(rt, plan)
    tasks_by_system: dict[str, list[TaskRecord]] = {}
    for planned in plan.tasks:
        tasks_by_system.setdefault(planned.system, []).append(ledger_record(planned, "created"))
    requests = {p.request.key: p.request for p in plan.tasks}

    def apply_one(connector: Connector) -> None:
        system = connector.system
        mine: list[dict[str, str]] = []
        updates = plan.updates.get(system, [])
        if updates:
            desired = plan.desired  # what each record holds once written, derived on read

            def saved(ids: Sequence[str]) -> None:
                with rt.store_lock:
                    rt.heartbeat()
                    store.record_written(
                        {(system, i): desired[(system, i)] for i in ids}, rt.clock()
                    )

            def journaled(part: Sequence[AccountUpdate]) -> None:
                assert journal is not None
                for piece in chunks(part, CHUNK):
                    with rt.store_lock:
                        journal(system, piece)

            rt.progress.step(f"write {system}", len(updates))
            outcome = write_updates(
                connector,
                updates,
                saved,
                rt.stop,
                rt.progress,
                before=journaled if journal is not None else None,
            )
            with rt.store_lock:
                done.writes[system] = len(outcome.written)
            mine.extend(failure(system, f) for f in outcome.failed)
            log.info(
                "write.done",
                system=system,
                written=len(outcome.written),
                failed=len(outcome.failed),
            )
        records = tasks_by_system.get(system, [])
        if records:
            meta = {r.key: r for r in records}
            # Write-ahead intent: a crash between the create and its record leaves the
            # key "pending", and the next run checks the CRM for it instead of trusting
            # memory.
            with rt.store_lock:
                store.record_tasks([replace(r, status="pending") for r in records], rt.clock())

            def recorded(result: TaskOutcome) -> None:
                ids = {**result.existing, **result.created}
                with rt.store_lock:
                    rt.heartbeat()
                    store.record_tasks(
                        [replace(meta[k], crm_task_id=v) for k, v in ids.items() if k in meta],
                        rt.clock(),
                    )

            task_outcome = ensure_tasks(
                connector, [requests[r.key] for r in records], recorded, rt.stop
            )
            with rt.store_lock:
                done.tasks_created[system] = len(task_outcome.created)
                done.tasks_existing[system] = len(task_outcome.existing)
            mine.extend(failure(system, f) for f in task_outcome.failed)
        with rt.store_lock:
            done.failures.extend(mine)

    rt.each_crm(apply_one)
    by_system = rt.by_system
    closes_by_system: dict[str, list[tuple[str, str]]] = {}
    for close in plan.closes:
        closes_by_system.setdefault(close.system, []).append((close.task_key, close.crm_task_id))
    for system, pairs in closes_by_system.items():
        check_stop(rt.stop)
        closed = by_system[system].close_tasks(
            [t for _, t in pairs], reason="account left the tier"
        )
        ok = set(closed.written)
        store.close_tasks([k for k, t in pairs if t in ok], rt.clock())
        done.tasks_closed += len(ok)
        done.failures.extend(failure(system, f) for f in closed.failed)
    overdue = _overdue(rt, now)
    done.tasks_overdue = [t.key for t in overdue]
    if escalation_owners is not None and overdue:
        _escalate(rt, overdue, now, escalation_owners, done)
    return done


def ledger_record(planned: PlannedTask, status: str) -> TaskRecord:
    """The task ledger's row for a planned task, before the CRM has given it an id."""
    return TaskRecord(
        key=planned.request.key,
        system=planned.system,
        crm_task_id=None,
        account_key=planned.account_key,
        crm_account_id=planned.request.crm_account_id,
        tier=planned.tier,
        status=status,
        due=planned.request.due,
    )


def _record_waiting(rt: Runtime, plan: Plan) -> int:
    """Deferred tasks (over the per-owner cap) go into the ledger under their final key,
    so a later run creates them exactly once; dropped ones leave the queue. Returns how
    many were dropped."""
    waiting = [ledger_record(p, "deferred") for p in plan.deferred]
    if plan.dropped:
        known = {t.key: t for t in rt.store.tasks(status="deferred")}
        waiting.extend(replace(known[k], status="dropped") for k in plan.dropped if k in known)
    with rt.store_lock:
        rt.store.record_tasks(waiting, rt.clock())
    return len(plan.dropped)


def _overdue(rt: Runtime, now: datetime) -> list[TaskRecord]:
    """Play tasks past their due date that are still open in the CRM."""
    by_system = rt.by_system
    late: dict[str, dict[str, TaskRecord]] = {}
    for task in rt.store.tasks(status="created"):
        if task.due is not None and task.due < now.date() and not task.key.endswith(ESC):
            late.setdefault(task.system, {})[task.key] = task
    overdue: list[TaskRecord] = []
    for system, records in late.items():
        if system in by_system:
            still_open = by_system[system].open_tasks(list(records))
            overdue.extend(records[t.key] for t in still_open)
    return sorted(overdue, key=lambda t: t.key)


def _escalate(
    rt: Runtime,
    overdue: Sequence[TaskRecord],
    now: datetime,
    owners: Mapping[str, str | None],
    done: Applied,
) -> None:
    """One escalation task per overdue play task, to the configured manager or queue,
    created exactly once (its key is the play task's key plus a suffix)."""
    by_system = rt.by_system
    known = {t.key for t in rt.store.tasks() if t.status != "pending"}
    for system in sorted({t.system for t in overdue}):
        owner = owners.get(system)
        todo = [t for t in overdue if t.system == system and t.key + ESC not in known]
        if not todo:
            continue
        requests = [
            TaskRequest(
                key=t.key + ESC,
                crm_account_id=t.crm_account_id,
                owner_id=owner,
                subject="Escalation: a tierwise play task is past its SLA",
                due=now.date(),
                priority="high",
                body=f"Play task {t.crm_task_id or t.key} was due {t.due}; tier {t.tier}.",
            )
            for t in todo
        ]
        records = {
            t.key + ESC: replace(t, key=t.key + ESC, crm_task_id=None, due=now.date()) for t in todo
        }
        outcome = by_system[system].ensure_tasks(requests)
        ids = {**outcome.existing, **outcome.created}
        with rt.store_lock:
            rt.store.record_tasks(
                [replace(records[k], crm_task_id=v) for k, v in ids.items() if k in records],
                rt.clock(),
            )
        done.tasks_escalated += len(outcome.created)
        done.failures.extend(failure(system, f) for f in outcome.failed)


def failure(system: str, failed: RecordFailure) -> dict[str, str]:
    """One record failure as the report lists it."""
    return {
        "system": system,
        "crm_id": failed.crm_id,
        "reason": failed.reason,
        "transient": str(failed.transient).lower(),
    }
