"""A run's decisions as the tier history reads them: key, tier and score as columns.

Recording a run compares every account's tier and score with the stored ones and
writes a row (with the rule and reason) only where one moved: an hour after the last
run, a hundredth of the accounts. Building a ``Decision`` for each of a million
accounts only to read three attributes cost seconds and a few hundred megabytes, so
``RecordedDecisions`` holds the three columns and builds a decision (its reason
rendered on read, as ever) only for an index asked for. It is a ``Sequence[Decision]``:
code that iterates it sees the same decisions as before, in the same order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import overload

from tierwise.tiering.decisions import DecisionMap
from tierwise.tiering.records import Decision


class RecordedDecisions(Sequence[Decision]):
    """``keys``, ``tiers`` and ``scores`` per decision; ``build(i)`` makes decision i."""

    __slots__ = ("_build", "keys", "scores", "tiers")

    def __init__(
        self,
        keys: list[str],
        tiers: list[str],
        scores: list[float],
        build: Callable[[int], Decision],
    ) -> None:
        self.keys = keys
        self.tiers = tiers
        self.scores = scores
        self._build = build

    @classmethod
    def of(cls, decisions: Sequence[Decision] | DecisionMap, prefix: str = "") -> RecordedDecisions:
        """Decisions (the engine's lazy map: read off its arrays) under ``prefix + key``."""
        if isinstance(decisions, DecisionMap):
            table = decisions.table
            keys, tiers, scores = table.account_keys(), table.tier_ids(), table.scores()
            get: Callable[[int], Decision] = table.__getitem__
        else:
            listed = list(decisions)
            keys = [d.key for d in listed]
            tiers = [d.tier for d in listed]
            scores = [d.score for d in listed]
            get = listed.__getitem__
        if not prefix:
            return cls(keys, tiers, scores, get)

        def prefixed(i: int) -> Decision:
            decision = get(i)
            return replace(decision, key=prefix + decision.key)

        return cls([prefix + key for key in keys], tiers, scores, prefixed)

    @classmethod
    def joined(cls, parts: Sequence[RecordedDecisions]) -> RecordedDecisions:
        """The parts one after the other."""
        if len(parts) == 1:
            return parts[0]
        starts = []
        keys: list[str] = []
        tiers: list[str] = []
        scores: list[float] = []
        for part in parts:
            starts.append(len(keys))
            keys.extend(part.keys)
            tiers.extend(part.tiers)
            scores.extend(part.scores)

        def build(i: int) -> Decision:
            p = bisect_right(starts, i) - 1
            return parts[p][i - starts[p]]

        return cls(keys, tiers, scores, build)

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Decision: ...

    @overload
    def __getitem__(self, index: slice) -> RecordedDecisions: ...

    def __getitem__(self, index: int | slice) -> Decision | RecordedDecisions:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                raise ValueError("RecordedDecisions: slices take every item")
            build = self._build
            return RecordedDecisions(
                self.keys[start:stop],
                self.tiers[start:stop],
                self.scores[start:stop],
                lambda i: build(start + i),
            )
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._build(index)

    def __iter__(self) -> Iterator[Decision]:
        return map(self._build, range(len(self)))
