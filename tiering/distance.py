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

from collections.abc import Sequence
from itertools import pairwise

from tierwise.tiering.model import SignalSpec
from tierwise.tiering.records import FieldValue

_RECENCY_COST = 0.5
_FACT_COST = 1.0
_RANGE, _RECENCY, _FACT = 0, 1, 2


def next_tier_phrase(
    gap: float,
    target_title: str,
    signals: Sequence[SignalSpec],
    points: Sequence[float],
    values: Sequence[FieldValue],
) -> str:
    """``"+6 pts to Tier 1: intent 40→55 is the cheapest lever"``; "" when ``gap`` <= 0.

    ``signals``/``points``/``values`` are the adding signals of the model with this
    account's points and field values, in the same order.
    """
    return Levers(signals, range(len(signals))).phrase(gap, target_title, points, values)


class Levers:
    """The adding signals of a model, read once, so a run words many accounts' phrases
    without reading the signals again (``phrase`` is ``next_tier_phrase``)."""

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
