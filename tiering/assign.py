"""From scores to tiers: thresholds, stability, triggers, overrides, capacity.

The order of the steps is the policy, so it is spelled out once here:

1. the score gives a *raw* tier (``min_score`` bars, or ``top_percent`` cut-offs
   turned into bars for this run);
2. stability may *hold* the previous tier: hysteresis (the score must pass a
   boundary by the margin) and dwell (no demotion before the minimum days);
3. triggers move the held tier at once (the first trigger in file order that fires);
4. a valid, unexpired manual pin replaces all of that;
   ``overrides.max_per_tier`` limits the pins one tier honours: past it the lowest
   scores fall back to what steps 1-3 gave them;
5. capacity, best tier first: the tier-wide capacity keeps the highest scores (ties
   on the account key), pinned accounts take seats first, the rest fall to the next
   tier; then each owner's book in the tier holds at most its per-owner cap (pins
   first, then the highest scores) and the overflow falls to the next tier.

Everything is done on whole columns so a million accounts take seconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from tierwise.tiering.decisions import DecisionTable
from tierwise.tiering.inputs import column
from tierwise.tiering.model import TieringModel
from tierwise.tiering.records import (
    PIPELINE,
    UNQUALIFIED,
    AccountHistory,
    AccountInput,
    RunStats,
    TieringResult,
    TierStats,
    Window,
)
from tierwise.tiering.rules import (
    RULE_DWELL,
    RULE_HYSTERESIS,
    RULE_NAMES,
    RULE_OVERRIDE,
    RULE_PERCENTILE,
    RULE_PIPELINE,
    RULE_THRESHOLD,
    RULE_TRIGGER,
    RULE_UNQUALIFIED,
    RULE_WINDOW,
    Assignment,
)
from tierwise.tiering.scoring import BoolArray, Columns, FloatArray, IntArray, score_accounts
from tierwise.tiering.seats import apply_capacity, capacity_notes, limit_pins, owner_load
from tierwise.tiering.triggers import aligned, apply_triggers, condition_mask
from tierwise.tiering.windows import apply_windows, release_ended, split

NO_TIER = -1


def tier_accounts(
    model: TieringModel,
    accounts: Sequence[AccountInput],
    history: Mapping[str, AccountHistory],
    now: datetime,
    windows: Mapping[str, Window] | None = None,
) -> TieringResult:
    """Tier every account; pure and deterministic for the same inputs and ``now``.

    ``windows`` are the outreach windows the previous run returned (``result.windows``).
    """
    n = len(accounts)
    count = len(model.tiers)
    columns = Columns(accounts, now.date())
    table = score_accounts(model, columns)
    scores = table.scores
    keys = column(accounts, "key")

    bars = _bars(model, scores)
    raw = _tier_of(bars, scores)
    rule = np.where(raw == count, RULE_UNQUALIFIED, RULE_THRESHOLD).astype(np.int8)
    for index, tier in enumerate(model.tiers):
        if tier.top_percent is not None:
            rule[raw == index] = RULE_PERCENTILE

    raw_rule = rule.copy()
    open_windows, ended_windows = split(windows or {}, keys, now.date())
    previous, unknown_previous, dwell_days = _previous(model, keys, history, now)
    final = raw.copy()
    known = previous != NO_TIER

    margin = model.stability.hysteresis_points
    if margin > 0:
        up = _tier_of(bars, scores - margin)
        down = _tier_of(bars, scores + margin)
        held = previous.copy()
        promote = known & (up < previous)
        demote = known & ~promote & (down > previous)
        held[promote] = up[promote]
        held[demote] = down[demote]
        final = np.where(known, held, raw).astype(np.int16)
        rule[known & (final != raw)] = RULE_HYSTERESIS

    min_dwell = model.stability.min_dwell_days
    if min_dwell > 0:
        early = known & (final > previous) & (dwell_days < min_dwell)
        final[early] = previous[early]
        rule[early] = RULE_DWELL

    release_ended(ended_windows, raw, raw_rule, final, rule)
    trigger_of = np.full(n, -1, dtype=np.int16)
    before_triggers = final.copy()
    if model.triggers:
        apply_triggers(model, columns, scores, keys, history, now, raw, final, rule, trigger_of)
    windowed = apply_windows(
        model,
        keys,
        now.date(),
        open_windows,
        ended_windows,
        before_triggers,
        raw,
        raw_rule,
        final,
        rule,
        trigger_of,
        rule_trigger=RULE_TRIGGER,
        rule_window=RULE_WINDOW,
    )

    pinned = np.zeros(n, dtype=np.bool_)
    over_limit: list[tuple[int, int]] = []
    over_keys: tuple[str, ...] = ()
    before_pins = (final.copy(), rule.copy())
    if model.overrides.enabled:
        _apply_overrides(model, accounts, now, final, rule, pinned)
        over_limit = limit_pins(model, scores, keys, final, rule, pinned, before_pins)
    over_keys = tuple(keys[i] for i, _tier in over_limit)

    if model.pipeline is not None:
        # issue 16: accounts in an active deal leave the ladder before capacity is counted.
        deal = np.ones(n, dtype=np.bool_)
        for condition in model.pipeline.conditions:
            deal &= condition_mask(condition, columns, scores, keys, history, now)
        final[deal] = count + 1
        rule[deal] = RULE_PIPELINE
        pinned[deal] = False
    owners = column(accounts, "owner")
    fields_of = column(accounts, "fields")
    owner_overflow = apply_capacity(model, scores, keys, owners, fields_of, final, rule, pinned)

    assignment = Assignment(
        tiers=final.astype(np.int8),
        previous=previous.astype(np.int8),
        rules=rule,
        triggers=trigger_of,
        bars=bars,
        dwell_days=dwell_days.astype(np.float32),
        unknown_previous=unknown_previous,
        over_limit=dict(over_limit),
        owners=owners,
        held=windowed.held,
        notes=windowed.notes,
    )
    decisions = DecisionTable(model, accounts, table, assignment, now)
    stats = _stats(model, final, previous, rule, trigger_of)
    stats = replace(
        stats,
        capacity_notes=capacity_notes(model, final, pinned, over_limit),
        pins_over_limit=over_keys,
        pins_over_limit_per_tier=dict(Counter(model.tiers[tier].id for _i, tier in over_limit)),
        owner_load=owner_load(model, owners, fields_of, final, owner_overflow),
    )
    return TieringResult(decisions, stats, windowed.kept, windowed.opened, windowed.ended)


def _bars(model: TieringModel, scores: FloatArray) -> FloatArray:
    """Each tier's minimum score for this run, never above the tier before it."""
    ordered = np.sort(scores)[::-1]
    bars = np.empty(len(model.tiers), dtype=np.float64)
    for index, tier in enumerate(model.tiers):
        if tier.min_score is not None:
            bars[index] = tier.min_score
        else:
            seats = math.ceil(len(scores) * (tier.top_percent or 0.0) / 100.0 - 1e-9)
            bars[index] = ordered[seats - 1] if 0 < seats <= len(ordered) else math.inf
    return np.minimum.accumulate(bars)


def _tier_of(bars: FloatArray, scores: FloatArray) -> IntArray:
    """Index of the first tier whose bar the score meets; ``len(bars)`` for none."""
    return np.searchsorted(-bars, -scores, side="left").astype(np.int16)


def _previous(
    model: TieringModel, keys: list[str], history: Mapping[str, AccountHistory], now: datetime
) -> tuple[IntArray, dict[int, str], FloatArray]:
    n = len(keys)
    previous = np.full(n, NO_TIER, dtype=np.int16)
    dwell = np.full(n, np.inf, dtype=np.float64)
    unknown: dict[int, str] = {}
    if not history:
        return previous, unknown, dwell
    index_of: dict[str | None, int] = {tier.id: i for i, tier in enumerate(model.tiers)}
    index_of[UNQUALIFIED] = len(model.tiers)
    # Column by column (a million histories): each account's tier, its index, and the
    # entry time of a known tier; entry times repeat (one per earlier run), so each is
    # converted once.
    pasts = list(map(history.get, keys))
    names = [None if past is None else past.tier for past in pasts]
    found = list(map(index_of.get, names))
    for i, (name, tier) in enumerate(zip(names, found, strict=True)):
        if tier is None and name is not None:
            unknown[i] = name  # a tier since removed from the model: tier afresh
    tiers = [NO_TIER if tier is None else tier for tier in found]
    entered = [
        None if tier is None else past.tier_since  # type: ignore[union-attr]  # a tier was found: a history
        for past, tier in zip(pasts, found, strict=True)
    ]
    days_since: dict[datetime | None, float] = {
        since: (now - aligned(since, now)).total_seconds() / 86400.0
        for since in set(entered)
        if since is not None
    }
    days_since[None] = math.inf
    days = list(map(days_since.__getitem__, entered))
    previous[:] = tiers
    dwell[:] = days
    return previous, unknown, dwell


def _apply_overrides(
    model: TieringModel,
    accounts: Sequence[AccountInput],
    now: datetime,
    final: IntArray,
    rule: npt.NDArray[np.int8],
    pinned: BoolArray,
) -> None:
    index_of = {tier.id: i for i, tier in enumerate(model.tiers)}
    index_of[UNQUALIFIED] = len(model.tiers)
    today = now.date()
    honour = model.overrides.honour_expiry
    pins = column(accounts, "manual_tier")
    untils = column(accounts, "manual_tier_until")
    for i in [i for i, pin in enumerate(pins) if pin is not None]:
        tier = index_of.get(pins[i])
        if tier is None:
            continue
        until = untils[i]
        if honour and until is not None and until < today:
            continue
        final[i] = tier
        rule[i] = RULE_OVERRIDE
        pinned[i] = True


def _stats(
    model: TieringModel,
    final: IntArray,
    previous: IntArray,
    rule: npt.NDArray[np.int8],
    trigger_of: IntArray,
) -> RunStats:
    count = len(model.tiers)
    per_tier_counts = np.bincount(final, minlength=count + 2)
    per_tier = tuple(
        TierStats(tier.id, tier.label, int(per_tier_counts[i]), tier.capacity)
        for i, tier in enumerate(model.tiers)
    )
    per_tier += (
        TierStats(UNQUALIFIED, model.tier_labels()[UNQUALIFIED], int(per_tier_counts[count]), None),
    )
    if model.pipeline is not None:
        per_tier += (
            TierStats(PIPELINE, model.pipeline.label, int(per_tier_counts[count + 1]), None),
        )
    known = previous != NO_TIER
    tiered_before = int(np.count_nonzero(known))
    changed = int(np.count_nonzero(known & (final != previous)))
    rules: dict[str, int] = {}
    for code, name in enumerate(RULE_NAMES):
        if code == RULE_TRIGGER:
            continue
        hits = int(np.count_nonzero(rule == code))
        if hits:
            rules[name] = hits
    for t, trigger in enumerate(model.triggers):
        hits = int(np.count_nonzero((rule == RULE_TRIGGER) & (trigger_of == t)))
        if hits:
            rules[f"trigger:{trigger.name}"] = hits
    return RunStats(
        accounts=len(final),
        per_tier=per_tier,
        promotions=int(np.count_nonzero(known & (final < previous))),
        demotions=int(np.count_nonzero(known & (final > previous) & (final <= count))),
        volatility=changed / tiered_before if tiered_before else 0.0,
        rules=rules,
    )
