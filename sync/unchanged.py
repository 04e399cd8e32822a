"""Which records a plan can skip: those whose held values already say what tierwise
would write (pure; the planner's shortcut, ``tierwise.sync.plan``).

A run an hour after the last one writes to one record in a hundred. Building each
account's decision and reason to find that out would cost a minute at a million
accounts, so the planner asks this module first: from the decisions' columns (tier,
score, play; no decision built) and the values each record holds, it answers which
records need the full path (``target_values`` + ``diff_values``). The rules are theirs,
read off the columns:

- the tier and the play name equal, the score equal at one decimal;
- an entry date held (it is kept when the tier is), and a reason held (a change of
  the reason alone is not written);
- for a target with an SLA date, one held exactly when the play has one;
- a target that does not decide the account: every one of its fields empty.

``tests/sync/test_plan_unchanged.py`` checks the shortcut against the full path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.records import MergedAccount, Snapshot, WrittenFields
from tierwise.tiering.decisions import BriefColumns, DecisionMap
from tierwise.tiering.records import Decision


def brief_columns(decisions: Mapping[str, Decision], keys: Sequence[str]) -> BriefColumns:
    """Each account's tier, score, play and previous tier, in ``keys`` order; the engine's
    lazy map answers from its arrays without building a decision."""
    if isinstance(decisions, DecisionMap):
        return decisions.columns(keys)
    found = [decisions.get(key) for key in keys]
    return BriefColumns(
        [None if d is None else d.tier for d in found],
        [None if d is None else d.score for d in found],
        [None if d is None else d.play for d in found],
        [None if d is None else d.previous_tier for d in found],
    )


def records_to_plan(
    accounts: Sequence[MergedAccount],
    fields: Sequence[WrittenFields],
    columns: Sequence[BriefColumns],
    covering: Sequence[int],
) -> list[tuple[int, Snapshot]]:
    """(account position, record) of every record some target would write, in account
    and record order. Accounts a covering target left undecided are not planned."""
    skip = {i for c in covering for i, tier in enumerate(columns[c].tiers) if tier is None}
    rows = [
        (i, record)
        for i, account in enumerate(accounts)
        if not skip or i not in skip
        for record in account.records
    ]
    if not rows:
        return []
    held = [record.written for _, record in rows]
    at = [i for i, _ in rows]
    needed: set[int] = set()
    for names, c in zip(fields, columns, strict=True):
        needed |= _differing(names, c, held, at)
    return [row for n, row in enumerate(rows) if n in needed]


def _differing(
    names: WrittenFields, c: BriefColumns, held: list[TierwiseValues], at: list[int]
) -> set[int]:
    """Positions in ``held`` whose values differ from what the target would write."""
    read = attrgetter(names.tier, names.score, names.play, names.tier_changed, names.reason)
    read_all = attrgetter(*names.names())
    read_sla = attrgetter(names.sla_due) if names.sla_due is not None else None
    tiers, plays = c.tiers, c.plays
    rounded = [None if s is None else round(s, 1) for s in c.scores]
    play_names = [None if p is None else p.name for p in plays]
    differ: set[int] = set()
    for n, (i, values) in enumerate(zip(at, held, strict=True)):
        tier = tiers[i]
        if tier is None:
            if any(v is not None for v in read_all(values)):
                differ.add(n)
            continue
        held_tier, score, play_name, entered, reason = read(values)
        expected = rounded[i]
        if (
            held_tier != tier
            or score is None
            # Equal floats are equal at one decimal (rounding a rounded value keeps it).
            or (score != expected and round(float(score), 1) != expected)
            or play_name != play_names[i]
            or entered is None
            or not reason
        ) or (read_sla is not None and (read_sla(values) is None) != (plays[i] is None)):
            differ.add(n)
    return differ
