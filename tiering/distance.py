"""Distance to the next tier: what would move an account up, from the model's own curves.

A rep who sees "Tier 2" wants to know what it takes to reach Tier 1. The answer is
computed from the signals the model already scores with: the gap in points to the
next tier's bar this run, and the *cheapest lever* - the one signal that alone can
close the gap with the smallest change. Cost, cheapest first:

- a ``range`` signal: the relative rise of its field along the curve (40 -> 55 is
  0.375); a missing value counts as starting at the curve's first point;
- a ``recency`` signal: 0.5 (one logged activity refreshes it);
- ``bool``, ``category`` and ``contains_any``: 1.0 (a fact about the company has to
  change, which sales rarely controls).

Risk groups are not levers (taking risk away is not a sales action). When no single
signal closes the gap the phrase says so and names the signal with the most room.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise, repeat
from operator import is_not

import numpy as np

from tierwise.tiering.model import SignalSpec
from tierwise.tiering.records import FieldValue
from tierwise.tiering.scoring import BoolArray, FloatArray

_RECENCY_COST = 0.5
_FACT_COST = 1.0
_RANGE, _RECENCY, _FACT = 0, 1, 2
_PLAIN: frozenset[type] = frozenset({float, int, type(None)})


class Levers:
    """The adding signals of a model, read once, so a run words many accounts' phrases
    without reading the signals again (``phrase``: one account's next-tier phrase,
    ``"+6 pts to Tier 1: intent 40→55 is the cheapest lever"``)."""

    def __init__(self, signals: Sequence[SignalSpec], at: Sequence[int]) -> None:
        """``at[k]``: where signal ``k``'s points and value sit in a row ``phrase`` reads."""
        kinds = {"range": _RANGE, "recency": _RECENCY}
        self._signals = list(signals)
        self._rows = [
            (k, j, s.weight, kinds.get(s.kind, _FACT), s.points)
            for k, (j, s) in enumerate(zip(at, signals, strict=True))
        ]

    def phrase(
        self,
        gap: float,
        target_title: str,
        points: Sequence[float],
        values: Sequence[FieldValue],
    ) -> str:
        """The phrase for one account: its points and field values by ``at`` position."""
        if gap <= 0:
            return ""
        need = round(gap + 0.005, 2)
        head = f"+{_pts(need)} pts to {target_title}"
        # Levers are compared by cost; only the cheapest one is worded. Ties keep the
        # first signal, and a cost that compares false (NaN) wins only when first.
        best = -1
        best_cost = start = target = 0.0
        widest = -1
        widest_room = 0.0
        for k, j, weight, kind, curve in self._rows:
            have = points[j]
            room = weight - have
            if room <= 0:
                continue
            if widest < 0 or room > widest_room:
                widest, widest_room = k, room
            if room + 1e-9 < need:
                continue
            if kind == _RANGE:
                goal = (have + need) / weight if weight else 2.0
                to = _invert(curve, min(goal, 1.0))
                if to is None:
                    continue
                value = values[j]
                if value.__class__ is float:
                    since = value
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    since = float(value)
                else:
                    since = curve[0][0]
                if to <= since:
                    continue
                cost = (to - since) / max(abs(since), abs(to) * 0.01, 1.0)
            else:
                cost = _RECENCY_COST if kind == _RECENCY else _FACT_COST
                since = to = 0.0
            if best < 0 or cost < best_cost:
                best, best_cost, start, target = k, cost, since, to
        return self._words(head, best, start, target, widest, widest_room)

    def run(
        self, need: FloatArray, points: FloatArray, values: Sequence[Sequence[FieldValue]]
    ) -> FloatArray:
        """``phrase``'s search for many accounts at once (a first run words them all).

        ``need`` is each account's ``round(gap + 0.005, 2)`` (inf: no phrase wanted),
        ``points`` and ``values`` its rows. Row r of the answer is what ``worded``
        reads: need, best lever, its from and to, the signal with most room, its room.
        The arithmetic is ``phrase``'s, element by element, in the same order.
        """
        count = len(need)
        best = np.full(count, -1.0)
        best_cost, start, target = np.zeros(count), np.zeros(count), np.zeros(count)
        widest, widest_room = np.full(count, -1.0), np.zeros(count)
        with np.errstate(invalid="ignore", divide="ignore"):
            for k, j, weight, kind, curve in self._rows:
                have = points[:, j]
                room = weight - have
                fits = room > 0
                wider = fits & ((widest < 0) | (room > widest_room))
                widest[wider], widest_room[wider] = k, room[wider]
                closes = fits & ~(room + 1e-9 < need)
                if kind == _RANGE:
                    goal = (have + need) / weight if weight else np.full(count, 2.0)
                    to, found = _invert_all(curve, np.where(goal > 1.0, 1.0, goal))
                    number, value = _numbers([row[j] for row in values])
                    since = np.where(number, value, curve[0][0])
                    closes &= found & ~(to <= since)
                    cost = (to - since) / np.maximum(np.maximum(abs(since), abs(to) * 0.01), 1.0)
                else:
                    cost = np.full(count, _RECENCY_COST if kind == _RECENCY else _FACT_COST)
                    since = to = np.zeros(count)
                better = closes & ((best < 0) | (cost < best_cost))
                best[better], best_cost[better] = k, cost[better]
                start[better], target[better] = since[better], to[better]
        return np.stack([need, best, start, target, widest, widest_room], axis=1)

    def worded(self, target_title: str, row: Sequence[float]) -> str:
        """The phrase from one row of ``run`` (``phrase``'s words)."""
        need, best, start, target, widest, widest_room = row
        head = f"+{_pts(need)} pts to {target_title}"
        return self._words(head, int(best), start, target, int(widest), widest_room)

    def _words(
        self, head: str, best: int, start: float, target: float, widest: int, widest_room: float
    ) -> str:
        if best >= 0:
            return (
                f"{head}: {_lever_words(self._signals[best], start, target)} is the cheapest lever"
            )
        if widest >= 0:
            signal = self._signals[widest]
            name = signal.label or signal.id
            return (
                f"{head}: no single signal closes the gap; most room in {name} "
                f"(+{_pts(widest_room)} max)"
            )
        return f"{head}: every signal is at its maximum"


def _numbers(raw: list[FieldValue]) -> tuple[BoolArray, FloatArray]:
    """Which values count as numbers for a lever (ints and floats, not bools) and
    their float values (``phrase``'s test, value by value where the column is mixed)."""
    kinds = set(map(type, raw))
    if kinds <= _PLAIN:
        number = np.fromiter(map(is_not, raw, repeat(None)), dtype=np.bool_, count=len(raw))
        return number, np.array(raw, dtype=np.float64)
    number = np.fromiter(
        (isinstance(v, int | float) and not isinstance(v, bool) for v in raw),
        dtype=np.bool_,
        count=len(raw),
    )
    value = np.fromiter(
        (float(v) if ok else math.nan for v, ok in zip(raw, number.tolist(), strict=True)),  # type: ignore[arg-type]  # ok: v is a number
        dtype=np.float64,
        count=len(raw),
    )
    return number, value


def _invert_all(
    points: Sequence[tuple[float, float]], goal: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """``_invert`` of every goal, and where it found a value."""
    found = np.zeros(len(goal), dtype=np.bool_)
    value = np.full(len(goal), math.nan)
    for (x0, y0), (x1, y1) in pairwise(points):
        if not y1 > y0:
            continue
        hit = ~found & (y1 >= goal - 1e-12)
        here = np.where(y0 >= goal, x0, x0 + (x1 - x0) * (goal - y0) / (y1 - y0))
        value[hit] = here[hit]
        found |= hit
    if points:
        hit = ~found & (points[0][1] >= goal)
        value[hit] = points[0][0]
        found |= hit
    return value, found


def _lever_words(signal: SignalSpec, start: float, target: float) -> str:
    name = signal.label or signal.id
    if signal.kind == "range":
        return f"{name} {_value(start, signal.unit)}→{_value(target, signal.unit)}"
    if signal.kind == "recency":
        return f"{name} (a new activity)"
    return name


def _invert(points: Sequence[tuple[float, float]], goal: float) -> float | None:
    """The smallest field value whose curve value reaches ``goal`` (None if never)."""
    for (x0, y0), (x1, y1) in pairwise(points):
        if y1 >= goal - 1e-12 and y1 > y0:
            if y0 >= goal:
                return x0
            return x0 + (x1 - x0) * (goal - y0) / (y1 - y0)
    if points and points[0][1] >= goal:
        return points[0][0]
    return None


def _pts(value: float) -> str:
    return f"{value:.0f}" if value >= 1 else f"{value:.1f}"


def _value(amount: float, unit: str) -> str:
    if unit == "USD":
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(amount) >= size:
                return f"${amount / size:.3g}{suffix}"
        return f"${amount:.0f}"
    return f"{amount:,.0f}"
