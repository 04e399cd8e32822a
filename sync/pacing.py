"""How many entry tasks a rep gets in one day (``TIERWISE_TASKS_PER_OWNER_PER_DAY``); pure.

A model change or a big import can move thousands of accounts at once; no sales team
works 300 new tasks handed to one rep on one morning. Over the cap, the lowest-priority
tasks (worst tier first, then lowest score) wait: the engine records them as
``deferred`` in the task ledger under their final key, and a later run plans them again
with the same key (derived from the tier-entry date the CRM holds), so each is still
created exactly once, in priority order, as the owner's daily budget frees up.

The budget counts every entry task recorded for that owner today (earlier runs of the
day included), read from the ledger's ``created`` time. The ledger does not store the
owner, so it is derived again from the play template that made the key (or the account
owner when the template can no longer be told).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from tierwise.sync.records import PlannedTask, TaskRecord

# Escalation tasks (key + this suffix) are not entry tasks: they never count.
ESCALATION_SUFFIX = "-esc"
Owner = tuple[str, str | None]  # (system, owner id; None: the connector's default/queue)


def cap_tasks(
    planned: Sequence[PlannedTask],
    priority: Mapping[str, tuple[int, float]],
    used: Mapping[Owner, int],
    per_day: int,
    admitted: frozenset[str] = frozenset(),
) -> tuple[list[PlannedTask], list[PlannedTask]]:
    """Split ``planned`` into (create now, defer) so no owner gets more than ``per_day``
    today, counting ``used`` (already recorded today). Keys in ``admitted`` (an attempt
    already made: a pending intent) are never held back: they were counted when tried.
    ``priority`` is (tier rank, score) per task key: best rank first, then highest score.
    """
    now: list[PlannedTask] = []
    later: list[PlannedTask] = []
    budget = dict(used)
    ordered = sorted(
        planned,
        key=lambda t: (*_order(priority.get(t.request.key)), t.request.key),
    )
    for task in ordered:
        owner: Owner = (task.system, task.request.owner_id)
        if task.request.key in admitted:
            now.append(task)
            continue
        if budget.get(owner, 0) < per_day:
            budget[owner] = budget.get(owner, 0) + 1
            now.append(task)
        else:
            later.append(task)
    # Keep the planner's order for what is created (stable output, smaller diffs).
    keep = {t.request.key for t in now}
    return [t for t in planned if t.request.key in keep], later


def _order(value: tuple[int, float] | None) -> tuple[int, float]:
    if value is None:
        return (1 << 30, 0.0)
    rank, score = value
    return rank, -score


def used_today(
    ledger: Sequence[TaskRecord], today: date, owner_of: Callable[[TaskRecord], Owner]
) -> dict[Owner, int]:
    """Entry tasks recorded today (pending, created or since closed), per owner."""
    used: dict[Owner, int] = {}
    for task in ledger:
        if task.status not in ("pending", "created", "closed") or task.created is None:
            continue
        if task.created.date() != today or task.key.endswith(ESCALATION_SUFFIX):
            continue
        owner = owner_of(task)
        used[owner] = used.get(owner, 0) + 1
    return used
