"""What tierwise wants a record's fields to hold, and the change-only diff (pure).

Apart from the planner (``tierwise.sync.plan``), which decides *which* records and tasks a
run touches: these functions say *what* one record's tierwise fields should hold and which
of them differ from what it holds, the rules a rerun must agree with (the entry date and
the SLA clock restart only with a tier change; scores compare at one decimal; a reworded
reason alone is not written). ``tierwise.sync.unchanged`` reads the same rules off the
decision columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.records import (
    DECLARED_FIELDS,
    PROSPECT_FIELDS,
    VALUE_NAMES,
    WrittenFields,
    all_values,
    with_values,
)
from tierwise.tiering.calendar import add_business_hours
from tierwise.tiering.records import Decision, FieldValue

REASON_MAX = 255


def target_values(
    fields: WrittenFields, decision: Decision, held: TierwiseValues, now: datetime
) -> dict[str, FieldValue]:
    """What one target wants its fields on one record to hold, given what they hold now.

    The entry date (and the SLA clock, for a target with one) restarts only when the
    CRM's tier changes, so a rerun (or a rerun after a crash) computes the same values.
    """
    play = decision.play
    today = _day(now)
    entering = getattr(held, fields.tier) != decision.tier
    values: dict[str, FieldValue] = {
        fields.tier: decision.tier,
        fields.score: _one_decimal(decision.score),
        fields.reason: decision.reason[:REASON_MAX],
        fields.play: play.name if play else None,
        fields.tier_changed: today if entering else (getattr(held, fields.tier_changed) or today),
    }
    if fields.sla_due is not None:
        fresh = _sla_day(now, play.sla_hours) if play else None
        values[fields.sla_due] = (
            fresh if entering or play is None else (getattr(held, fields.sla_due) or fresh)
        )
    return values


# One object per distinct value, shared by every record a run plans (issue 15): a first
# run at a million accounts holds two million planned writes until they are sent, and a
# date or float of their own per record was 80 bytes of each.
@lru_cache(maxsize=8)
def _day(now: datetime) -> date:
    return now.date()


@lru_cache(maxsize=64)
def _sla_day(now: datetime, hours: int) -> date:
    return add_business_hours(now, hours).date()


_SCORES: dict[float, float] = {}


def _one_decimal(score: float) -> float:
    """``round(score, 1)``, the same float object for the same value (scores at one
    decimal take a few thousand values; the cache stops growing at 100,000)."""
    value = round(score, 1)
    shared = _SCORES.get(value)
    if shared is not None:
        return shared
    if len(_SCORES) < 100_000:
        _SCORES[value] = value
    return value


def emptied(fields: WrittenFields) -> dict[str, FieldValue]:
    """A target's fields on an account it no longer tiers (no longer a customer)."""
    return dict.fromkeys(fields.names())


def desired_values(decision: Decision, held: TierwiseValues, now: datetime) -> TierwiseValues:
    """The prospect fields tierwise wants on one record (other targets' fields as held)."""
    return with_values(held, target_values(PROSPECT_FIELDS, decision, held, now))


def _rules(
    groups: Sequence[WrittenFields],
) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
    """The score fields (compared at one decimal), and each group's reason field with all
    its names (the reason-only rule); the declared groups' are made once."""
    if groups is DECLARED_FIELDS:
        return _DECLARED_RULES
    scores = frozenset(g.score for g in groups)
    return scores, tuple((g.reason, frozenset(g.names())) for g in groups)


_DECLARED_RULES = (
    frozenset(g.score for g in DECLARED_FIELDS),
    tuple((g.reason, frozenset(g.names())) for g in DECLARED_FIELDS),
)


def diff_values(
    held: TierwiseValues,
    desired: TierwiseValues,
    groups: Sequence[WrittenFields] = DECLARED_FIELDS,
) -> dict[str, FieldValue]:
    """The logical fields whose value differs (scores compared at one decimal).

    A change of the reason text alone is not written: the reason explains a tier and
    score the CRM already holds (the engine may word the same decision differently
    from one run to the next, e.g. "promoted by trigger" then "held by dwell"), and a
    write per such rewording would cost API calls and bump every record's modstamp.
    It is refreshed with the next real change. The rule holds for each target's
    fields on their own.
    """
    scores, reasons = _rules(groups)
    changed: dict[str, FieldValue] = {}
    for name, old, new in zip(VALUE_NAMES, all_values(held), all_values(desired), strict=True):
        if old == new:
            continue
        at_one_decimal = name in scores and old is not None and new is not None
        if at_one_decimal and round(float(old), 1) == round(float(new), 1):
            continue
        changed[name] = new
    for reason, names in reasons:
        if reason in changed and getattr(held, reason) and names.intersection(changed) == {reason}:
            del changed[reason]
    return changed
