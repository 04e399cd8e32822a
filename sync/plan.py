"""Plan the writes of a run: desired tierwise values diffed against what each CRM holds (pure).

Only fields whose value differs are written, so a rerun with nothing changed plans
no writes at all. Tasks are planned for accounts that entered a tier whose play has
tasks, keyed deterministically so a retried or repeated run never creates one twice;
open tasks of accounts that left their tier are closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import date, datetime

from connectors.base import (
    CUSTOMER_FIELDS,
    TIERWISE_FIELDS,
    AccountUpdate,
    TaskRequest,
    TierwiseValues,
)
from sync.pacing import Owner, cap_tasks, used_today
from sync.records import (
    FieldChange,
    MergedAccount,
    Plan,
    PlannedClose,
    PlannedTask,
    Snapshot,
    TaskRecord,
)
from tiering.calendar import add_business_days, add_business_hours
from tiering.records import UNQUALIFIED, Decision, FieldValue, Play, TaskTemplate

REASON_MAX = 255


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


def desired_values(decision: Decision, held: TierwiseValues, now: datetime) -> TierwiseValues:
    """What tierwise wants one record to hold, given what it holds now.

    The SLA clock and the tier-changed date restart only when the CRM's tier changes,
    so a rerun (or a rerun after a crash) computes the same values again.
    """
    play = decision.play
    entering = held.tier != decision.tier
    if entering:
        tier_changed: date | None = now.date()
        sla_due = add_business_hours(now, play.sla_hours).date() if play else None
    else:
        tier_changed = held.tier_changed or now.date()
        sla_due = (held.sla_due or add_business_hours(now, play.sla_hours).date()) if play else None
    return TierwiseValues(
        tier=decision.tier,
        score=round(decision.score, 1),
        reason=decision.reason[:REASON_MAX],
        play=play.name if play else None,
        sla_due=sla_due,
        tier_changed=tier_changed,
        # Customer tier fields are tierwise's too but decided separately: kept as held.
        customer_tier=held.customer_tier,
        customer_score=held.customer_score,
        customer_reason=held.customer_reason,
        customer_play=held.customer_play,
        customer_tier_changed=held.customer_tier_changed,
    )


def with_customer(
    want: TierwiseValues, decision: Decision | None, today: date
) -> TierwiseValues:
    """``want`` (carrying the held customer values) with the customer tier fields set from
    ``decision`` (None: not a customer, so the fields are to be empty). The tier-changed
    date restarts only when the customer tier held in the CRM changes."""
    if decision is None:
        return replace(
            want,
            customer_tier=None,
            customer_score=None,
            customer_reason=None,
            customer_play=None,
            customer_tier_changed=None,
        )
    entering = want.customer_tier != decision.tier
    return replace(
        want,
        customer_tier=decision.tier,
        customer_score=round(decision.score, 1),
        customer_reason=decision.reason[:REASON_MAX],
        customer_play=decision.play.name if decision.play else None,
        customer_tier_changed=today if entering else (want.customer_tier_changed or today),
    )


def diff_values(held: TierwiseValues, desired: TierwiseValues) -> dict[str, FieldValue]:
    """The logical fields whose value differs (scores compared at one decimal).

    A change of the reason text alone is not written: the reason explains a tier and
    score the CRM already holds (the engine may word the same decision differently
    from one run to the next, e.g. "promoted by trigger" then "held by dwell"), and a
    write per such rewording would cost API calls and bump every record's modstamp.
    It is refreshed with the next real change.
    """
    changed: dict[str, FieldValue] = {}
    for f in dataclass_fields(TierwiseValues):
        old, new = getattr(held, f.name), getattr(desired, f.name)
        if f.name in ("score", "customer_score") and old is not None and new is not None:
            if round(float(old), 1) == round(float(new), 1):
                continue
        elif old == new:
            continue
        changed[f.name] = new
    # The same rule for each set of fields (prospect, customer) on its own.
    for reason, group in (("reason", TIERWISE_FIELDS), ("customer_reason", CUSTOMER_FIELDS)):
        if getattr(held, reason) and {n for n in changed if n in group} == {reason}:
            del changed[reason]
    return changed


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
    """Turn decisions into change-only updates, tasks to ensure and tasks to close.

    Tasks go to the primary record of the company, or to every CRM's record when
    ``tasks_in`` is ``"all"``. ``customer_decisions`` (customer tiers on; by account
    key, customers only) adds the customer fields to the same one update per record,
    and the customer plays' tasks under the key ``customer:<account key>``.

    ``hold_tasks`` / ``hold_customer_tasks`` (go-live: the target's first run, no
    backfill) plan no entry tasks for that target, only count them in ``plan.held``.
    ``tasks_per_owner_per_day`` defers what exceeds an owner's daily budget (best tier
    in ``tier_rank``, 0 best, then highest score) to ``plan.deferred``; the ledger's
    deferred keys are planned again, same key, on a later run.
    """
    plan = Plan()
    today = now.date()
    ctx = _TaskContext(ledger, today, tasks_in, tier_rank or {})
    ctx.accounts = {a.key for a in accounts}

    for account in accounts:
        decision = decisions.get(account.key)
        if decision is None:
            continue
        for record in account.records:
            want = desired_values(decision, record.written, now)
            if customer_decisions is not None:
                want = with_customer(want, customer_decisions.get(account.key), today)
            ident = (record.system, record.crm_id)
            plan.desired[ident] = want
            delta = diff_values(record.written, want)
            if not delta:
                continue
            plan.updates.setdefault(record.system, []).append(AccountUpdate(record.crm_id, delta))
            plan.changes.extend(
                FieldChange(
                    account.key,
                    record.system,
                    record.crm_id,
                    account.name,
                    name,
                    getattr(record.written, name),
                    value,
                )
                for name, value in delta.items()
            )
        _plan_tasks(plan, ctx, account, account.key, decision, customer=False, hold=hold_tasks)
        if customer_decisions is not None and account.key in customer_decisions:
            _plan_tasks(
                plan, ctx, account, CUSTOMER_KEY + account.key, customer_decisions[account.key],
                customer=True, hold=hold_customer_tasks,
            )
    # Deferred tasks of an account no longer in the population (deleted, merged) or no
    # longer a customer: nothing will ever plan them again.
    for task in ledger:
        if task.status != "deferred":
            continue
        base = task.account_key.removeprefix(CUSTOMER_KEY)
        source = customer_decisions if task.account_key.startswith(CUSTOMER_KEY) else decisions
        if source is None or base not in source or base not in ctx.accounts:
            plan.dropped.append(task.key)
    if tasks_per_owner_per_day is not None and plan.tasks:
        by_key = {a.key: a for a in accounts}

        def owner_of(task: TaskRecord) -> Owner:
            customer = task.account_key.startswith(CUSTOMER_KEY)
            source = (customer_decisions or {}) if customer else decisions
            account = by_key.get(task.account_key.removeprefix(CUSTOMER_KEY))
            return _ledger_owner(task, account, source, today)

        used = used_today(ledger, today, owner_of)
        plan.tasks, plan.deferred = cap_tasks(
            plan.tasks, ctx.priority, used, tasks_per_owner_per_day, frozenset(ctx.pending)
        )
    return plan


CUSTOMER_KEY = "customer:"


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
    key: str,
    decision: Decision,
    *,
    customer: bool,
    hold: bool,
) -> None:
    """Close the open tasks of a tier left, and plan the tasks of a tier entered; ``key``
    is the account key (prospect plays) or ``customer:<account key>`` (customer plays).

    An account that stays in its tier only gets the tasks still waiting for it (deferred
    by the per-owner cap, or attempted with an unknown outcome), under the same keys.
    """
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
        _plan_play(plan, ctx, account, key, decision, play, derived, customer=customer, hold=hold)
    # Deferred under a key this run no longer derives (the play was edited, the tier left):
    # they would wait forever, so they leave the queue.
    plan.dropped.extend(
        t.key for t in waiting
        if t.status == "deferred" and t.key not in derived and t.key not in plan.dropped
    )


def _plan_play(
    plan: Plan,
    ctx: _TaskContext,
    account: MergedAccount,
    key: str,
    decision: Decision,
    play: Play,
    derived: set[str],
    *,
    customer: bool,
    hold: bool,
) -> None:
    today = ctx.today
    targets = account.records if ctx.tasks_in == "all" else account.records[:1]
    for position, target in enumerate(targets):
        entered = (
            _customer_entry_date(target, decision, today)
            if customer
            else _entry_date(target, decision, today)
        )
        for index, template in enumerate(play.tasks):
            task_id = task_key(
                key,
                play.name,
                entered,
                index,
                system=target.system if position else None,
            )
            derived.add(task_id)
            if task_id in ctx.known:
                continue
            if not decision.changed and task_id not in ctx.waiting_keys:
                continue
            if hold and task_id not in ctx.pending:
                plan.held += 1
                continue
            ctx.priority[task_id] = (ctx.rank.get(decision.tier, len(ctx.rank)), decision.score)
            plan.tasks.append(
                PlannedTask(
                    system=target.system,
                    account_key=key,
                    tier=decision.tier,
                    request=TaskRequest(
                        key=task_id,
                        crm_account_id=target.crm_id,
                        owner_id=resolve_owner(template, target),
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
    decisions: Mapping[str, Decision],
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
    decision = decisions.get(account.key)
    play = decision.play if decision is not None and decision.tier == task.tier else None
    if play is not None:
        held = record.written
        dates = {d for d in (today, held.tier_changed, held.customer_tier_changed) if d}
        for entered in dates:
            for index, template in enumerate(play.tasks):
                system = record.system if position else None
                if task_key(task.account_key, play.name, entered, index, system) == task.key:
                    return (task.system, resolve_owner(template, record))
    return (task.system, record.owner_id)


def _customer_entry_date(record: Snapshot, decision: Decision, today: date) -> date:
    # As for prospects: the CRM's customer tier-changed date, when it already holds the tier.
    held = record.written
    if held.customer_tier == decision.tier and held.customer_tier_changed is not None:
        return held.customer_tier_changed
    return today


def _entry_date(record: Snapshot, decision: Decision, today: date) -> date:
    # When the CRM already holds the new tier (a crash after the write, before the
    # history was recorded), the date it was written is the entry date: same task key.
    if record.written.tier == decision.tier and record.written.tier_changed is not None:
        return record.written.tier_changed
    return today
