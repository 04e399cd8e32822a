"""Decisions built on demand from the run's compact arrays.

A ``Decision`` with its full breakdown is a couple of dozen small objects; a
million of them would take gigabytes and most would never be read (only changed
accounts are written back). ``DecisionTable`` therefore keeps the run as a few
numpy arrays and builds a ``Decision`` when one is indexed or iterated. Memory
stays bounded by the input records; equal inputs give equal decisions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple, overload

import numpy as np

from tierwise.tiering.inputs import column
from tierwise.tiering.model import TieringModel
from tierwise.tiering.reason_text import uncached
from tierwise.tiering.reasons import CACHE_PER_SIGNAL, ReasonWriter
from tierwise.tiering.records import (
    PIPELINE,
    UNQUALIFIED,
    AccountInput,
    Decision,
    Explained,
    FieldValue,
    GroupScore,
    Play,
    SignalScore,
)
from tierwise.tiering.rules import RULE_NAMES, RULE_TRIGGER, SCORED, Assignment
from tierwise.tiering.scoring import ScoreTable

_TIER_NUMBER = re.compile(r"^tier_(\d+)$")


class Brief(NamedTuple):
    """What planning reads of every decision: the tier, score and play, no reason.

    ``plan`` asks every account for this and builds the full ``Decision`` (breakdown,
    next-tier phrase, reason) only for a record it will write or an account whose
    tasks it plans, so an unchanged account costs a tuple, not a rendered explanation.
    """

    tier: str
    score: float
    play: Play | None
    previous_tier: str | None

    @property
    def changed(self) -> bool:
        return self.previous_tier != self.tier


class BriefColumns(NamedTuple):
    """Every account's ``Brief`` as columns in the order of the keys asked for (a tier
    of None: the table has no such account), so a planner makes no tuple per account."""

    tiers: list[str | None]
    scores: list[float | None]
    plays: list[Play | None]
    previous: list[str | None]


class DecisionTable(Sequence[Decision]):
    """The run's decisions in input order, built lazily (see the module docstring)."""

    def __init__(
        self,
        model: TieringModel,
        accounts: Sequence[AccountInput],
        table: ScoreTable,
        assignment: Assignment,
        now: datetime,
    ) -> None:
        self._model = model
        self._accounts = accounts
        # The columns a decision reads, so building one reads no whole account.
        self._keys: list[str] = column(accounts, "key")
        self._owners: list[str | None] = column(accounts, "owner")
        self._fields_of: list[Mapping[str, FieldValue]] = column(accounts, "fields")
        self._table = table
        self._a = assignment
        self._today = now.date()
        # issue 16: index len(tiers) + 1 is the pipeline state (when the model has one).
        self._ids = (*model.tier_ids(), UNQUALIFIED, PIPELINE)
        labels = {PIPELINE: "Active pipeline", **model.tier_labels()}
        self._labels = tuple(labels[tier_id] for tier_id in self._ids)
        self._titles = tuple(_title(tier_id, labels[tier_id]) for tier_id in self._ids)
        pipeline_play = model.pipeline.play if model.pipeline is not None else None
        self._plays: tuple[Play | None, ...] = (
            *(tier.play for tier in model.tiers),
            None,
            pipeline_play,
        )
        signals = table.signals
        self._max_points = tuple(round(signal.weight, 2) for signal in signals)
        self._cache: tuple[dict[tuple[type, FieldValue], SignalScore], ...] = tuple(
            {} for _ in signals
        )
        self._writer = ReasonWriter(
            model, accounts, self._fields_of, table, assignment, self._titles
        )
        self._columns: tuple[list[int], list[float], list[str | None]] | None = None
        # Read per decision built (a first run builds them all): Python lists, made once.
        self._rules: list[int] | None = None
        # Reasons worded so far, by position: a first run writes every account on every
        # CRM holding it and records it in the history, and each of those reads the
        # reason. The strings are the ones the plan's updates hold anyway; the list
        # costs a pointer per account, made on first use.
        self._reasons: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self._accounts)

    @overload
    def __getitem__(self, index: int) -> Decision: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Decision]: ...

    def __getitem__(self, index: int | slice) -> Decision | Sequence[Decision]:
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._build(index)

    def __iter__(self) -> Iterator[Decision]:
        for i in range(len(self)):
            yield self._build(i)

    def tier_ids(self) -> list[str]:
        """Every account's tier id, without building decisions (cheap for reports)."""
        ids = self._ids
        return [ids[t] for t in self._a.tiers.tolist()]

    def scores(self) -> list[float]:
        """Every account's score, without building decisions (for the history store)."""
        values: list[float] = self._table.scores.tolist()
        return values

    def changed_indices(self) -> list[int]:
        """Positions whose tier differs from the previous run: what ``sync`` must write."""
        a = self._a
        changed = np.flatnonzero(a.tiers != a.previous).tolist()
        return [int(i) for i in changed]

    def account_keys(self) -> list[str]:
        return list(self._keys)

    def by_key(self) -> DecisionMap:
        """The decisions as a mapping by account key, still built only when read."""
        return DecisionMap(self)

    def brief(self, i: int) -> Brief:
        """Tier, score, play and previous tier of position ``i`` (see ``Brief``)."""
        tiers, scores, previous = self.brief_columns()
        tier = tiers[i]
        return Brief(self._ids[tier], scores[i], self._plays[tier], previous[i])

    def brief_columns(self) -> tuple[list[int], list[float], list[str | None]]:
        """Tier indexes, scores and previous tier ids as lists (made once, then kept)."""
        if self._columns is None:
            self._columns = self._make_columns()
        return self._columns

    def _make_columns(self) -> tuple[list[int], list[float], list[str | None]]:
        a = self._a
        ids, unknown = self._ids, a.unknown_previous
        previous = [ids[p] if p >= 0 else None for p in a.previous.tolist()]
        for i, tier_id in unknown.items():
            previous[i] = tier_id
        return a.tiers.tolist(), self._table.scores.tolist(), previous

    def _build(self, i: int) -> Decision:
        """The decision at ``i``; its breakdown and reason render when first read."""
        tiers, scores, previous_tiers = self.brief_columns()
        tier, score, previous = tiers[i], scores[i], previous_tiers[i]
        if self._rules is None:
            self._rules = self._a.rules.tolist()
        code = self._rules[i]
        rule = RULE_NAMES[code]
        if code == RULE_TRIGGER:
            rule = f"trigger:{self._model.triggers[int(self._a.triggers[i])].name}"
        bars = self._writer.bars
        return Decision.deferred(
            lambda: self._explained(i, tier, score, code),
            lambda: self._reason(i, tier, score, code),
            key=self._keys[i],
            tier=self._ids[tier],
            tier_label=self._labels[tier],
            previous_tier=previous,
            score=score,
            rule=rule,
            play=self._plays[tier],
            owner=self._owners[i],
            points_to_next=self._gap(tier, score, code),
            margin=round(score - bars[tier], 2) if tier < len(bars) else None,
        )

    def _worded(self) -> list[str | None]:
        """The reasons worded so far this run, by position (made on first use)."""
        if self._reasons is None:
            self._reasons = [None] * len(self)
        return self._reasons

    def _reason(self, i: int, tier: int, score: float, code: int) -> str:
        """The reason alone (``ReasonWriter.reason``), kept for the run's later reads."""
        worded = self._worded()
        reason = worded[i]
        if reason is None:
            reason = worded[i] = self._writer.reason(i, tier, score, code)
        return reason

    def _explained(self, i: int, tier: int, score: float, code: int) -> Explained:
        writer = self._writer
        groups = self._groups(i)
        missing_row = self._table.missing[i]
        missing = tuple(signal.id for j, signal in enumerate(self._table.signals) if missing_row[j])
        # A trigger, pin or full book holds the account where it is: points would not
        # move it, so the distance is given only where the score decides.
        next_tier = writer.next_tier(i, tier, score) if code in SCORED else ""
        worded = self._worded()
        reason = worded[i]
        if reason is None:
            reason = worded[i] = writer.from_groups(i, tier, score, code, groups, next_tier)
        return Explained(reason, groups, missing, next_tier)

    def _gap(self, tier: int, score: float, code: int) -> float | None:
        bars = self._writer.bars
        if code not in SCORED or not 0 < tier <= len(bars):
            return None
        return round(bars[tier - 1] - score, 2)

    def _groups(self, i: int) -> tuple[GroupScore, ...]:
        row = np.round(self._table.points[i], 2).tolist()
        missing = self._table.missing[i].tolist()
        fields = self._fields_of[i]
        names, signal = self._writer.signal_fields, self._signal
        return tuple(
            [
                GroupScore(
                    group.id,
                    round(sum(row[indexes.start : indexes.stop]), 2),
                    group.weight,
                    group.subtracts,
                    tuple([signal(j, fields.get(names[j]), row[j], missing[j]) for j in indexes]),
                )
                for group, indexes in zip(self._model.groups, self._writer.ranges, strict=True)
            ]
        )

    def _signal(self, j: int, value: FieldValue, points: float, missing: bool) -> SignalScore:
        """The breakdown entry; shared between accounts with the same value.

        Points depend only on the signal and the value within one run, so equal
        values (industries, flags, round numbers) reuse one frozen object. The
        value's class is part of the key because ``True == 1.0`` in Python, and a
        float zero is not kept (``0.0 == -0.0`` but their details differ).
        """
        cache = self._cache[j]
        key: tuple[type, FieldValue] | None = None
        if not uncached(value):
            key = (value.__class__, value)
            try:
                hit = cache.get(key)
            except TypeError:  # an unhashable value (a list) is simply not cached
                key = None
            else:
                if hit is not None:
                    return hit
        signal = self._table.signals[j]
        made = SignalScore(
            signal.id, points, self._max_points[j], missing, self._writer.detail(j, value)
        )
        if key is not None and len(cache) < CACHE_PER_SIGNAL:
            cache[key] = made
        return made


class DecisionMap(Mapping[str, Decision]):
    """A run's decisions by account key, each built when it is read (``DecisionTable``).

    ``brief(key)`` answers what planning needs of every account without building the
    decision; keys are unique (``merge`` groups records by key).
    """

    def __init__(self, table: DecisionTable) -> None:
        self._table = table
        self._index = {key: i for i, key in enumerate(table.account_keys())}

    @property
    def table(self) -> DecisionTable:
        """The run's table the map reads (in input order)."""
        return self._table

    def __getitem__(self, key: str) -> Decision:
        return self._table[self._index[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def brief(self, key: str) -> Brief | None:
        i = self._index.get(key)
        return None if i is None else self._table.brief(i)

    def brief_of(self) -> Callable[[str], Brief | None]:
        """``brief`` as one closure over the columns: a planner asks it per account."""
        index, ids, plays = self._index, self._table._ids, self._table._plays
        tiers, scores, previous = self._table.brief_columns()
        make = tuple.__new__

        def brief(key: str) -> Brief | None:
            i = index.get(key)
            if i is None:
                return None
            tier = tiers[i]
            return make(Brief, (ids[tier], scores[i], plays[tier], previous[i]))

        return brief

    def columns(self, keys: Sequence[str]) -> BriefColumns:
        """``brief`` of every key as columns (see ``BriefColumns``), at C speed when the
        keys are the table's own, in its order (the population it tiered)."""
        table = self._table
        ids, plays = table._ids, table._plays
        tiers, scores, previous = table.brief_columns()
        if list(keys) == list(self._index):
            return BriefColumns(
                list(map(ids.__getitem__, tiers)),
                list(scores),
                list(map(plays.__getitem__, tiers)),
                list(previous),
            )
        at = list(map(self._index.get, keys))
        return BriefColumns(
            [None if i is None else ids[tiers[i]] for i in at],
            [None if i is None else scores[i] for i in at],
            [None if i is None else plays[tiers[i]] for i in at],
            [None if i is None else previous[i] for i in at],
        )


def _title(tier_id: str, label: str) -> str:
    match = _TIER_NUMBER.match(tier_id)
    return f"Tier {match.group(1)} {label}" if match else label
