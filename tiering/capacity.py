"""The capacity report's rebalance proposal: who has room for the accounts that overflowed.

Per-owner caps push an owner's lowest-scored accounts down a tier when the book is
full. Another owner may have room in that tier; this module lists those moves as a
*proposal* for a sales leader. tierwise never reassigns an owner itself: ownership
carries territory, compensation and relationships the model knows nothing about.

An account moves only to an owner under the same cap (the same owner group, or both
outside every group), the owner with the most room first (ties on the owner id), and
overflowed accounts are placed highest score first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tierwise.tiering.model import TieringModel
from tierwise.tiering.records import Decision, OwnerLoad

OWNER_OVERFLOW = "owner_capacity"


@dataclass(frozen=True, slots=True)
class Move:
    """One proposed owner change: ``account`` would keep ``tier`` with ``to_owner``."""

    account: str
    score: float
    from_owner: str
    to_owner: str
    tier: str


def propose_rebalance(
    model: TieringModel,
    decisions: Sequence[Decision],
    loads: Sequence[OwnerLoad],
    fields_of: Mapping[str, Mapping[str, object]] | None = None,
) -> list[Move]:
    """Moves that would seat overflowed accounts with owners who have room.

    ``fields_of`` (account key -> fields) places accounts in field-based owner groups.
    """
    fields_of = fields_of or {}
    index_of = {tier.id: i for i, tier in enumerate(model.tiers)}
    load_of = {(load.owner, load.group, load.tier): load.load for load in loads}
    owners = sorted(
        {load.owner for load in loads}
        | {owner for group in model.owner_groups for owner in group.owners}
    )
    taken: dict[tuple[str, str, str], int] = {}
    overflowed = sorted(
        (d for d in decisions if d.rule == OWNER_OVERFLOW and d.owner),
        key=lambda d: (-d.score, d.key),
    )
    moves: list[Move] = []
    for decision in overflowed:
        here = index_of.get(decision.tier, len(model.tiers))
        if here == 0:
            continue
        earned = model.tiers[here - 1].id
        owner = decision.owner or ""
        fields = fields_of.get(decision.key)
        group = model.owner_cap(owner, here - 1, fields)[1]
        candidates: list[tuple[int, str]] = []
        for other in owners:
            cap, other_group = model.owner_cap(other, here - 1, fields)
            if other == owner or cap is None or other_group != group:
                continue
            book = (other, group, earned)
            free = cap - load_of.get(book, 0) - taken.get(book, 0)
            if free > 0:
                candidates.append((free, other))
        if not candidates:
            continue
        _free, best = min(candidates, key=lambda c: (-c[0], c[1]))
        taken[(best, group, earned)] = taken.get((best, group, earned), 0) + 1
        moves.append(Move(decision.key, decision.score, owner, best, earned))
    return moves
