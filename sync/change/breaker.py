"""The blast-radius breaker (pure): would this plan re-tier too much of the book at once?

A threshold edit or a retrained model can silently move a quarter of the accounts on the
next batch. Before anything is written, the share of already-tiered accounts whose tier
the plan changes, and the number of tier fields it clears, are compared with limits
(``TIERWISE_MAX_TIER_CHANGE_SHARE``, ``TIERWISE_MAX_TIER_CLEARS``). An org's first
tiering (no account holds a tier yet) is not a change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tierwise.sync.records import MergedAccount, Plan
from tierwise.tiering.records import FieldValue

TIER_FIELDS = ("tier", "customer_tier")


@dataclass(frozen=True, slots=True)
class BlastRadius:
    tiered: int  # accounts holding a tier in some CRM before the run
    moved: int  # of those, accounts whose tier the plan changes
    cleared: int  # tier fields the plan empties

    @property
    def share(self) -> float:
        return self.moved / self.tiered if self.tiered else 0.0


def blast_radius(accounts: Sequence[MergedAccount], plan: Plan) -> BlastRadius:
    tiered = {a.key for a in accounts if any(r.written.tier for r in a.records)}
    moved: set[str] = set()
    cleared = 0
    for key, name, old, new in tier_changes(plan):
        if old is None:
            continue
        if name == "tier" and key in tiered:
            moved.add(key)
        if new is None:
            cleared += 1
    return BlastRadius(tiered=len(tiered), moved=len(moved), cleared=cleared)


def tier_changes(plan: Plan) -> Iterator[tuple[str, str, FieldValue, FieldValue]]:
    """(account key, field, old, new) of every tier field the plan writes.

    Read update by update (``FieldChanges.updates``): a first run changes five or six
    fields of every record, and reading ``plan.changes`` made an object per changed field
    (millions at scale) to look at the tier fields only."""
    for _system, update, key, held in plan.changes.updates():
        values = update.values
        for name in TIER_FIELDS:
            if name in values:
                yield key, name, getattr(held, name), values[name]


def trips(radius: BlastRadius, max_share: float, max_clears: int | None) -> str | None:
    """Why the breaker holds the run (one line), or None when it may go ahead."""
    reasons = []
    if radius.tiered and radius.share > max_share:
        reasons.append(
            f"the run would change the tier of {radius.moved} of {radius.tiered} tiered "
            f"accounts ({radius.share:.0%}, over TIERWISE_MAX_TIER_CHANGE_SHARE={max_share:g})"
        )
    if max_clears is not None and radius.cleared > max_clears:
        reasons.append(
            f"the run would clear {radius.cleared} tier fields "
            f"(over TIERWISE_MAX_TIER_CLEARS={max_clears})"
        )
    return "; ".join(reasons) or None
