"""Triggers: the conditions that move an account at once, whatever its score says.

Step 3 of the assignment (``tierwise.tiering.assign``): each trigger's conditions are
evaluated on whole columns (a field test, or a fall of the score against the best one
recorded in a look-back window), and the first trigger in file order that fires moves the
account from the tier stability held it in. Apart from ``assign`` so that module reads as
the order of the steps; the pipeline state (issue 16) picks its accounts with the same
condition tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from tierwise.tiering.model import Condition, TieringModel, TriggerSpec
from tierwise.tiering.records import AccountHistory
from tierwise.tiering.rules import RULE_TRIGGER
from tierwise.tiering.scoring import BoolArray, Columns, FloatArray, IntArray


def aligned(moment: datetime, now: datetime) -> datetime:
    """``moment`` comparable with ``now``: a store may hand back naive UTC datetimes."""
    if (moment.tzinfo is None) == (now.tzinfo is None):
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=now.tzinfo)
    return moment.astimezone(UTC).replace(tzinfo=None)


def condition_mask(
    condition: Condition,
    columns: Columns,
    scores: FloatArray,
    keys: list[str],
    history: Mapping[str, AccountHistory],
    now: datetime,
) -> BoolArray:
    """The accounts one condition holds for (a field test, or a score drop in a window);
    a missing value counts as a hit only when the condition says ``if_missing``."""
    if condition.score_fell_by is not None:
        return _score_drop(condition, scores, keys, history, now)
    name, op, value = condition.field or "", condition.op, condition.value
    missing: BoolArray
    if op in ("at_least", "at_most"):
        numbers = columns.numbers(name)
        missing = np.isnan(numbers)
        limit = float(value)  # type: ignore[arg-type]  # the loader stores a number for at_least/at_most
        hit = numbers >= limit if op == "at_least" else numbers <= limit
    elif op in ("within_days", "older_than_days"):
        days = columns.days_since(name)
        missing = np.isnan(days)
        limit = float(value)  # type: ignore[arg-type]  # the loader stores a number for the day tests
        hit = days <= limit if op == "within_days" else days >= limit
    else:
        if op == "contains_any":
            wanted = frozenset(value)  # type: ignore[arg-type]  # the loader stores a tuple of str for contains_any

            def test(v: object) -> float:
                if v is None:
                    return math.nan
                if isinstance(v, tuple | list):
                    return 0.0 if wanted.isdisjoint(v) else 1.0
                return 1.0 if v in wanted else 0.0
        else:

            def test(v: object) -> float:
                return math.nan if v is None else float(v == value and type(v) is type(value))

        flags = columns.mapped(name, test)
        missing = np.isnan(flags)
        hit = flags == 1.0
    if condition.if_missing:
        return np.asarray(hit | missing, dtype=np.bool_)
    return np.asarray(hit & ~missing, dtype=np.bool_)


def _score_drop(
    condition: Condition,
    scores: FloatArray,
    keys: list[str],
    history: Mapping[str, AccountHistory],
    now: datetime,
) -> BoolArray:
    """Compare today's score with the best one recorded in the look-back window."""
    mask = np.zeros(len(keys), dtype=np.bool_)
    if not history:
        return mask
    since = now - timedelta(days=condition.within_days or 0.0)
    fell_by = condition.score_fell_by or 0.0
    today = scores.tolist()
    # Points share their times (one per earlier run): each time is placed once.
    inside: dict[datetime, bool] = {}
    hits: list[int] = []
    for i, key in enumerate(keys):
        past = history.get(key)
        if past is None or not past.points:
            continue
        best = None
        for point in past.points:
            at = point.at
            within = inside.get(at)
            if within is None:
                within = inside[at] = since <= aligned(at, now) <= now
            if within and (best is None or point.score > best):
                best = point.score
        if best is not None and best - today[i] > fell_by:
            hits.append(i)
    mask[hits] = True
    return mask


def apply_triggers(
    model: TieringModel,
    columns: Columns,
    scores: FloatArray,
    keys: list[str],
    history: Mapping[str, AccountHistory],
    now: datetime,
    raw: IntArray,
    final: IntArray,
    rule: npt.NDArray[np.int8],
    trigger_of: IntArray,
) -> None:
    """Step 3 of ``tier_accounts``: the first trigger in file order that fires moves the
    account from the tier stability gave it (``final``, changed in place, with ``rule`` and
    ``trigger_of``)."""
    count = len(model.tiers)
    index_of = {tier.id: i for i, tier in enumerate(model.tiers)}
    base = final.copy()
    open_ = np.ones(len(keys), dtype=np.bool_)
    for t, trigger in enumerate(model.triggers):
        fires = open_.copy()
        for condition in trigger.conditions:
            fires &= condition_mask(condition, columns, scores, keys, history, now)
        target = _target(trigger, base, raw, count, index_of)
        moves = fires & (target != base)
        # A trigger that holds an account where stability already kept it (funding keeps
        # a Strategic account Strategic while its score dipped) is still the reason it is
        # there: naming it keeps the reason identical from one run to the next.
        explains = fires & (target == base) & (base != raw)
        final[moves] = target[moves]
        rule[moves | explains] = RULE_TRIGGER
        trigger_of[moves | explains] = t
        # A trigger that fires but has nowhere to go (funding for a Strategic account)
        # still claims the account, or a later, weaker trigger would act instead.
        open_ &= ~fires


def _target(
    trigger: TriggerSpec, base: IntArray, raw: IntArray, count: int, index_of: Mapping[str, int]
) -> IntArray:
    """Where a trigger sends each account; ``base`` is the tier after stability.

    A promotion counts from the lower of the held and the score's tier: an account
    that dwell keeps in Core while its score says Programmatic is promoted to Core
    (no move), not leapt to Strategic. It never ends below the held tier.
    """
    if trigger.action == "promote":
        # From unqualified one step up is the last tier.
        start = np.maximum(base, raw)
        return np.asarray(np.minimum(base, np.maximum(start - trigger.steps, 0)), dtype=np.int16)
    if trigger.action == "demote":
        # A demotion never drops an account off the list; only its score does that.
        lowest = np.maximum(base, count - 1)
        return np.minimum(base + trigger.steps, lowest).astype(np.int16)
    goal = index_of[trigger.target or ""]
    if trigger.action == "promote_to":
        return np.minimum(base, goal).astype(np.int16)
    return np.maximum(base, goal).astype(np.int16)
