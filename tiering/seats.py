"""Seats in a tier: pin limits, tier-wide capacity and per-owner books (step 5 of assign).

Kept apart from ``tierwise.tiering.assign`` so the policy order stays readable there; every
function works on the run's arrays in place and is pure. The order within a tier is
the policy: pins past ``overrides.max_per_tier`` fall back first, then the tier-wide
capacity keeps the best scores, then each owner's book keeps its best scores; what
falls out of a tier is handled when the next tier's turn comes (overflow cascades).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from tierwise.tiering.model import TieringModel
from tierwise.tiering.records import OwnerLoad
from tierwise.tiering.rules import RULE_CAPACITY, RULE_OWNER_CAPACITY, RULE_PIN_LIMIT
from tierwise.tiering.scoring import BoolArray, FloatArray, IntArray


def limit_pins(
    model: TieringModel,
    scores: FloatArray,
    keys: list[str],
    final: IntArray,
    rule: npt.NDArray[np.int8],
    pinned: BoolArray,
    before: tuple[IntArray, npt.NDArray[np.int8]],
) -> list[tuple[int, int]]:
    """Unpin the lowest-scored pins past ``overrides`` limit.

    Returns (position, tier pinned to) of each pin that fell back.
    """
    dropped: list[tuple[int, int]] = []
    for index, tier in enumerate(model.tiers):
        limit = model.overrides.limit(tier.capacity)
        if limit is None:
            continue
        pins = np.flatnonzero(pinned & (final == index)).tolist()
        if len(pins) <= limit:
            continue
        ranked = sorted(pins, key=lambda i: (-scores[i], keys[i]))
        for i in ranked[limit:]:
            final[i] = before[0][i]
            rule[i] = RULE_PIN_LIMIT
            pinned[i] = False
            dropped.append((int(i), index))
    return sorted(dropped)


def apply_capacity(
    model: TieringModel,
    scores: FloatArray,
    keys: list[str],
    owners: Sequence[str | None],
    fields_of: Sequence[Mapping[str, object]],
    final: IntArray,
    rule: npt.NDArray[np.int8],
    pinned: BoolArray,
) -> Counter[tuple[str, str, int]]:
    """Tier-wide capacity, then per-owner books, best tier first (overflow cascades).

    The tier's seats go to its best accounts first; a full book then hands its owner's
    lowest scores down, so the tier never holds more than either limit allows.

    Returns how many accounts overflowed out of each (owner, group, tier) book.
    """
    overflowed: Counter[tuple[str, str, int]] = Counter()
    capped = any(tier.per_owner_capacity for tier in model.tiers) or bool(model.owner_groups)
    for index, tier in enumerate(model.tiers):
        if tier.capacity is not None:
            _tier_capacity(index, tier.capacity, scores, keys, final, rule, pinned)
        if capped:
            _owner_books(
                model, index, scores, keys, owners, fields_of, final, rule, pinned, overflowed
            )
    return overflowed


def _tier_capacity(
    index: int,
    capacity: int,
    scores: FloatArray,
    keys: list[str],
    final: IntArray,
    rule: npt.NDArray[np.int8],
    pinned: BoolArray,
) -> None:
    members = final == index
    seated = int(np.count_nonzero(members & pinned))
    contenders = np.flatnonzero(members & ~pinned)
    free = max(capacity - seated, 0)
    if len(contenders) <= free:
        return
    ranked = sorted(contenders.tolist(), key=lambda i: (-scores[i], keys[i]))
    overflow = np.array(ranked[free:], dtype=np.int64)
    final[overflow] = index + 1
    rule[overflow] = RULE_CAPACITY


def _owner_books(
    model: TieringModel,
    index: int,
    scores: FloatArray,
    keys: list[str],
    owners: Sequence[str | None],
    fields_of: Sequence[Mapping[str, object]],
    final: IntArray,
    rule: npt.NDArray[np.int8],
    pinned: BoolArray,
    overflowed: Counter[tuple[str, str, int]],
) -> None:
    books: dict[tuple[str, str], tuple[int | None, list[int]]] = {}
    members = np.flatnonzero(final == index).tolist()
    if _by_owner(model):
        # A book is an owner's: only the owners holding more than a cap are walked.
        of = list(map(owners.__getitem__, members))
        full = set()
        for owner, count in Counter(of).items():
            if owner is not None:
                cap = model.owner_cap(owner, index)[0]
                if cap is not None and count > cap:
                    full.add(owner)
        members = [i for i, owner in zip(members, of, strict=True) if owner in full]
    for i in members:
        owner = owners[i]
        if owner is None:
            continue
        cap, group = model.owner_cap(owner, index, fields_of[i])
        books.setdefault((owner, group), (cap, []))[1].append(int(i))
    for (owner, group), (cap, members) in books.items():
        if cap is None or len(members) <= cap:
            continue
        seated = sum(1 for i in members if pinned[i])
        free = max(cap - seated, 0)
        ranked = sorted((i for i in members if not pinned[i]), key=lambda i: (-scores[i], keys[i]))
        for i in ranked[free:]:
            final[i] = index + 1
            rule[i] = RULE_OWNER_CAPACITY
            overflowed[(owner, group, index)] += 1


def capacity_notes(
    model: TieringModel, final: IntArray, pinned: BoolArray, over_limit: list[tuple[int, int]]
) -> tuple[str, ...]:
    """One line per tier over its capacity (for any reason) or with pins past the limit."""
    notes: list[str] = []
    dropped = Counter(tier for _i, tier in over_limit)
    for index, tier in enumerate(model.tiers):
        members = final == index
        count = int(np.count_nonzero(members))
        pins = int(np.count_nonzero(members & pinned))
        if tier.capacity is not None and count > tier.capacity:
            notes.append(
                f"{tier.id} {tier.label}: {count} accounts, capacity {tier.capacity} "
                f"({count / tier.capacity:.1f}x over; {pins} pinned)"
            )
    for index, tier in enumerate(model.tiers):
        limit = model.overrides.limit(tier.capacity)
        lost = dropped.get(index, 0)
        if lost:
            notes.append(
                f"{tier.id} {tier.label}: {lost} pin(s) past overrides.max_per_tier "
                f"({limit}) fell back to the model, lowest scores first"
            )
    return tuple(notes)


def owner_load(
    model: TieringModel,
    owners: Sequence[str | None],
    fields_of: Sequence[Mapping[str, object]],
    final: IntArray,
    overflowed: Counter[tuple[str, str, int]],
) -> tuple[OwnerLoad, ...]:
    """Every owner's book per tier (owners without accounts in a tier are left out)."""
    loads: Counter[tuple[str, str, int]] = Counter()
    caps: dict[tuple[str, str, int], int | None] = {}
    if _by_owner(model):
        # Every account of one owner in one tier is in the same book: count the pairs.
        for (owner, tier), count in Counter(zip(owners, final.tolist(), strict=True)).items():
            if owner is not None and tier < len(model.tiers):
                cap, group = model.owner_cap(owner, int(tier))
                loads[(owner, group, int(tier))] += count
                caps[(owner, group, int(tier))] = cap
    else:
        for i, (owner, tier) in enumerate(zip(owners, final.tolist(), strict=True)):
            if owner is not None and tier < len(model.tiers):
                cap, group = model.owner_cap(owner, int(tier), fields_of[i])
                loads[(owner, group, int(tier))] += 1
                caps[(owner, group, int(tier))] = cap
    rows = []
    for owner, group, tier in sorted(
        set(loads) | set(overflowed), key=lambda k: (k[2], k[0], k[1])
    ):
        cap = caps.get((owner, group, tier))
        if (owner, group, tier) not in caps:
            cap = (
                model.owner_cap(owner, tier)[0]
                if not group
                else next(
                    g.capacity.get(model.tiers[tier].id)
                    for g in model.owner_groups
                    if g.label == group
                )
            )
        rows.append(
            OwnerLoad(
                owner,
                group,
                model.tiers[tier].id,
                loads[(owner, group, tier)],
                cap,
                overflowed[(owner, group, tier)],
            )
        )
    return tuple(rows)


def _by_owner(model: TieringModel) -> bool:
    """Whether an account's book depends on its owner alone (no group reads a field)."""
    return all(group.field is None for group in model.owner_groups)
