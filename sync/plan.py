"""Plan the writes of a run: desired tierwise values diffed against what each CRM holds (pure).

Only fields whose value differs are written, so a rerun with nothing changed plans
no writes at all. Tasks are planned for accounts that entered a tier whose play has
tasks, keyed deterministically so a retried or repeated run never creates one twice;
open tasks of accounts that left their tier are closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from tierwise.connectors.base import AccountUpdate, TaskRequest
from tierwise.sync.desired import diff_values, emptied, target_values
from tierwise.sync.pacing import Owner, cap_tasks, used_today
from tierwise.sync.records import (
    CUSTOMER_FIELDS,
    CUSTOMER_KEY,
    PROSPECT_FIELDS,
    FieldChanges,
    MergedAccount,
    Plan,
    PlannedClose,
    PlannedTask,
    Snapshot,
    TargetPlan,
    TaskRecord,
    WrittenFields,
    with_values,
)
from tierwise.sync.unchanged import brief_columns, records_to_plan
from tierwise.tiering.calendar import add_business_days
from tierwise.tiering.decisions import Brief
from tierwise.tiering.heap import collection_paused
from tierwise.tiering.records import (
    UNQUALIFIED,
    Decision,
    FieldLayout,
    FieldRow,
    FieldValue,
    Play,
    TaskTemplate,
)

# Task planning reads only tier, score, play and whether the tier changed.
Decided = Decision | Brief


def task_key(
    account_key: str, play: str, entered: date, index: int = 0, system: str | None = None
) -> str:
    """sha256(account key | play | tier-entry date)[:32].

    A play's later tasks add ``|index``; a task in a CRM other than the primary (when
    tasks go to every CRM) adds ``|system``, so each CRM's task has its own key.
    """
    material = f"{account_key}|{play}|{entered.isoformat()}"
    if index:
        material += f"|{index}"
    if system:
        material += f"|{system}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def resolve_owner(template: TaskTemplate, record: Snapshot) -> str | None:
    if template.owner == "account_owner":
        return record.owner_id
    if template.owner.startswith("user:"):
        return template.owner.split(":", 1)[1] or None
    return None  # queues: the connector assigns its default owner


def plan_run(
    accounts: Sequence[MergedAccount],
    decisions: Mapping[str, Decision],
    ledger: Sequence[TaskRecord],
    now: datetime,
    tasks_in: str = "primary",
    customer_decisions: Mapping[str, Decision] | None = None,
    *,
    hold_tasks: bool = False,
    hold_customer_tasks: bool = False,
    tasks_per_owner_per_day: int | None = None,
    tier_rank: Mapping[str, int] | None = None,
) -> Plan:
    """``plan_targets`` for the prospect target and (``customer_decisions`` not None) the
    customer target: the two declared today, by their decisions."""
    targets = [TargetPlan(PROSPECT_FIELDS, decisions, covers_all=True, hold=hold_tasks)]
    if customer_decisions is not None:
        targets.append(
            TargetPlan(CUSTOMER_FIELDS, customer_decisions, CUSTOMER_KEY, hold=hold_customer_tasks)
        )
    return plan_targets(
        accounts,
        targets,
        ledger,
        now,
        tasks_in,
        tasks_per_owner_per_day=tasks_per_owner_per_day,
        tier_rank=tier_rank,
    )


@collection_paused()
def plan_targets(
    accounts: Sequence[MergedAccount],
    targets: Sequence[TargetPlan],
    ledger: Sequence[TaskRecord],
    now: datetime,
    tasks_in: str = "primary",
    *,
    tasks_per_owner_per_day: int | None = None,
    tier_rank: Mapping[str, int] | None = None,
) -> Plan:
    """Turn every target's decisions into change-only updates, tasks to ensure and tasks
    to close.

    All targets' fields of one record go in one update. Tasks go to the primary record
    of the company, or to every CRM's record when ``tasks_in`` is ``"all"``; a target's
    tasks are keyed under ``history_key + account key``. A target with ``hold`` (its
    go-live run) plans no entry tasks, only counts them in ``plan.held``.
    ``tasks_per_owner_per_day`` defers what exceeds an owner's daily budget (best tier
    in ``tier_rank``, 0 best, then highest score) to ``plan.deferred``; the ledger's
    deferred keys are planned again, same key, on a later run. Cyclic collection is
    paused meanwhile (``tierwise.tiering.heap``).
    """
    changes = FieldChanges()
    plan = Plan(changes=changes)
    today = now.date()
    ctx = _TaskContext(ledger, today, tasks_in, tier_rank or {})
    ctx.accounts = {a.key for a in accounts}

    keys = [a.key for a in accounts]
    columns = [brief_columns(t.decisions, keys) for t in targets]
    covering = [i for i, t in enumerate(targets) if t.covers_all]
    fields = [t.fields for t in targets]
    # Only records with something to write get a decision (and its reason) built, once
    # per account however many CRMs hold it (its records come one after the other).
    last = -1
    decided: tuple[Decision | None, ...] = ()
    for i, record in records_to_plan(accounts, fields, columns, covering):
        if i != last:
            key = accounts[i].key
            last, decided = i, tuple(t.decisions.get(key) for t in targets)
        _plan_record(plan, changes, accounts[i], record, targets, decided, now)
    # Tasks follow a tier change, or wait for the account under the target's key.
    waiting = [
        {k[len(t.history_key) :] for k in ctx.waiting_by_account if k.startswith(t.history_key)}
        for t in targets
    ]
    skip = {i for c in covering for i, tier in enumerate(columns[c].tiers) if tier is None}
    due = sorted(
        {
            i
            for c, held in zip(columns, waiting, strict=True)
            for i, (tier, before) in enumerate(zip(c.tiers, c.previous, strict=True))
            if tier is not None and (tier != before or keys[i] in held)
        }
        - skip
    )
    for i in due:
        for target, c, held in zip(targets, columns, waiting, strict=True):
            tier = c.tiers[i]
            if tier is not None and (c.previous[i] != tier or keys[i] in held):
                score = c.scores[i]
                assert score is not None  # decided: a score with the tier
                brief = Brief(tier, score, c.plays[i], c.previous[i])
                _plan_tasks(plan, ctx, accounts[i], target, brief)
    # Deferred tasks of an account no longer in the population (deleted, merged) or no
    # longer in the target (no longer a customer): nothing will ever plan them again.
    for task in ledger:
        if task.status != "deferred":
            continue
        found = _target_of(task.account_key, targets)
        if found is None or found[1] not in found[0].decisions or found[1] not in ctx.accounts:
            plan.dropped.append(task.key)
    if tasks_per_owner_per_day is not None and plan.tasks:
        by_key = {a.key: a for a in accounts}

        def owner_of(task: TaskRecord) -> Owner:
            found = _target_of(task.account_key, targets)
            if found is None:
                return (task.system, None)
            target, base = found
            return _ledger_owner(task, by_key.get(base), target, targets, today)

        used = used_today(ledger, today, owner_of)
        plan.tasks, plan.deferred = cap_tasks(
            plan.tasks, ctx.priority, used, tasks_per_owner_per_day, frozenset(ctx.pending)
        )
    return plan


def _plan_record(
    plan: Plan,
    changes: FieldChanges,
    account: MergedAccount,
    record: Snapshot,
    targets: Sequence[TargetPlan],
    decided: Sequence[Decision | None],
    now: datetime,
) -> None:
    """The full path for one record: every target's values (``decided``: each target's
    decision of the account), then the change-only diff. Only a record with something to
    write gets an update and a desired entry."""
    want = record.written
    for target, decision in zip(targets, decided, strict=True):
        values = (
            emptied(target.fields)
            if decision is None
            else target_values(target.fields, decision, want, now)
        )
        want = with_values(want, values)
    delta = diff_values(record.written, want)
    if not delta:
        return
    update = AccountUpdate(record.crm_id, _compact(delta))
    plan.updates.setdefault(record.system, []).append(update)
    changes.add(record.system, update, account.key, account.name, record.written)


# Layouts of the update values, one per set of changed field names (a few per run).
_LAYOUTS: dict[tuple[str, ...], FieldLayout] = {}


def _compact(values: dict[str, FieldValue]) -> FieldRow:
    """An update's values as a ``FieldRow`` over a layout shared by every update that
    changes the same fields: half a dict's size, for each of the millions of records a
    first run at scale plans to write (issue 15). A read-only mapping, equal to the dict."""
    names = tuple(values)
    layout = _LAYOUTS.get(names)
    if layout is None:
        layout = _LAYOUTS.setdefault(names, FieldLayout(names))
    return FieldRow(layout, tuple(values.values()))


def _target_of(key: str, targets: Sequence[TargetPlan]) -> tuple[TargetPlan, str] | None:
    """The target a ledger key belongs to (longest matching prefix) and the account key."""
    for target in sorted(targets, key=lambda t: len(t.history_key), reverse=True):
        if key.startswith(target.history_key):
            return target, key[len(target.history_key) :]
    return None


class _TaskContext:
    """What task planning reads from the ledger, indexed once per run."""

    def __init__(
        self, ledger: Sequence[TaskRecord], today: date, tasks_in: str, rank: Mapping[str, int]
    ) -> None:
        self.today = today
        self.tasks_in = tasks_in
        self.rank = rank
        # Done with: created, or created and since closed. A "pending" key was attempted
        # but its outcome never recorded (crash, timeout): plan it again and have the
        # connector check the CRM before creating it. A "deferred" key waits for its turn
        # under the per-owner cap; "dropped" ones were deferred for a tier since left.
        self.known = {t.key for t in ledger if t.status in ("created", "closed")}
        self.pending = {t.key for t in ledger if t.status == "pending"}
        self.waiting_keys = {t.key for t in ledger if t.status in ("pending", "deferred")}
        self.open_by_account: dict[str, list[TaskRecord]] = {}
        self.waiting_by_account: dict[str, list[TaskRecord]] = {}
        for task in ledger:
            if task.status == "created":
                self.open_by_account.setdefault(task.account_key, []).append(task)
            elif task.status in ("pending", "deferred"):
                self.waiting_by_account.setdefault(task.account_key, []).append(task)
        self.priority: dict[str, tuple[int, float]] = {}
        self.accounts: set[str] = set()


def _plan_tasks(
    plan: Plan,
    ctx: _TaskContext,
    account: MergedAccount,
    target: TargetPlan,
    decision: Decided,
) -> None:
    """Close the open tasks of a tier left, and plan the tasks of a tier entered, under
    the key ``target.history_key + account key``.

    An account that stays in its tier only gets the tasks still waiting for it (deferred
    by the per-owner cap, or attempted with an unknown outcome), under the same keys.
    """
    key = target.history_key + account.key
    waiting = ctx.waiting_by_account.get(key, ())
    if decision.changed:
        for task in ctx.open_by_account.get(key, ()):
            if task.tier != decision.tier and task.crm_task_id:
                plan.closes.append(PlannedClose(task.system, task.key, task.crm_task_id))
    elif not waiting:
        return
    play = decision.play
    derived: set[str] = set()
    if play is not None and play.tasks and decision.tier != UNQUALIFIED:
        _plan_play(plan, ctx, account, key, target, decision, play, derived)
    # Deferred under a key this run no longer derives (the play was edited, the tier left):
    # they would wait forever, so they leave the queue.
    plan.dropped.extend(
        t.key
        for t in waiting
        if t.status == "deferred" and t.key not in derived and t.key not in plan.dropped
    )


def _plan_play(
    plan: Plan,
    ctx: _TaskContext,
    account: MergedAccount,
    key: str,
    target: TargetPlan,
    decision: Decided,
    play: Play,
    derived: set[str],
) -> None:
    today = ctx.today
    records = account.records if ctx.tasks_in == "all" else account.records[:1]
    for position, record in enumerate(records):
        entered = entry_date(record, target.fields, decision, today)
        for index, template in enumerate(play.tasks):
            task_id = task_key(
                key,
                play.name,
                entered,
                index,
                system=record.system if position else None,
            )
            derived.add(task_id)
            if task_id in ctx.known:
                continue
            if not decision.changed and task_id not in ctx.waiting_keys:
                continue
            if target.hold and task_id not in ctx.pending:
                plan.held += 1
                continue
            ctx.priority[task_id] = (ctx.rank.get(decision.tier, len(ctx.rank)), decision.score)
            plan.tasks.append(
                PlannedTask(
                    system=record.system,
                    account_key=key,
                    tier=decision.tier,
                    request=TaskRequest(
                        key=task_id,
                        crm_account_id=record.crm_id,
                        owner_id=resolve_owner(template, record),
                        subject=template.subject,
                        due=add_business_days(today, template.due_business_days),
                        priority=template.priority,
                        body=template.body,
                        verify_existing=task_id in ctx.pending,
                    ),
                )
            )


def _ledger_owner(
    task: TaskRecord,
    account: MergedAccount | None,
    target: TargetPlan,
    targets: Sequence[TargetPlan],
    today: date,
) -> Owner:
    """Who a task recorded earlier went to (the ledger keeps no owner): the owner of the
    play template whose key it is, else the account record's owner."""
    if account is None:
        return (task.system, None)
    found = [
        (i, r)
        for i, r in enumerate(account.records)
        if r.system == task.system and r.crm_id == task.crm_account_id
    ]
    if not found:
        return (task.system, None)
    position, record = found[0]
    decision = target.decisions.get(account.key)
    play = decision.play if decision is not None and decision.tier == task.tier else None
    if play is not None:
        held = record.written
        dates = {today} | {getattr(held, t.fields.tier_changed) for t in targets}
        for entered in {d for d in dates if d}:
            for index, template in enumerate(play.tasks):
                system = record.system if position else None
                if task_key(task.account_key, play.name, entered, index, system) == task.key:
                    return (task.system, resolve_owner(template, record))
    return (task.system, record.owner_id)


def entry_date(record: Snapshot, fields: WrittenFields, decision: Decided, today: date) -> date:
    """When the account entered the decided tier: the CRM's tier-changed date when the
    CRM already holds the tier (a crash after the write, before the history was
    recorded: the same task key), else today."""
    held = record.written
    changed: date | None = getattr(held, fields.tier_changed)
    if getattr(held, fields.tier) == decision.tier and changed is not None:
        return changed
    return today
