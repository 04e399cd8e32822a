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
    if gap <= 0:
        return ""
    need = round(gap + 0.005, 2)
    head = f"+{_pts(need)} pts to {target_title}"
    best: tuple[float, str] | None = None
    widest: tuple[float, str] | None = None
    for signal, have, value in zip(signals, points, values, strict=True):
        room = signal.weight - have
        if room <= 0:
            continue
        name = signal.label or signal.id
        if widest is None or room > widest[0]:
            widest = (room, name)
        if room + 1e-9 < need:
            continue
        lever = _lever(signal, have, need, value)
        if lever is not None and (best is None or lever[0] < best[0]):
            best = lever
    if best is not None:
        return f"{head}: {best[1]} is the cheapest lever"
    if widest is not None:
        return (
            f"{head}: no single signal closes the gap; most room in {widest[1]} "
            f"(+{_pts(widest[0])} max)"
        )
    return f"{head}: every signal is at its maximum"


def _lever(
    signal: SignalSpec, have: float, need: float, value: FieldValue
) -> tuple[float, str] | None:
    name = signal.label or signal.id
    if signal.kind == "range":
        goal = (have + need) / signal.weight if signal.weight else 2.0
        target = _invert(signal.points, min(goal, 1.0))
        if target is None:
            return None
        start = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else signal.points[0][0]
        )
        if target <= start:
            return None
        cost = (target - start) / max(abs(start), abs(target) * 0.01, 1.0)
        return cost, f"{name} {_value(start, signal.unit)}→{_value(target, signal.unit)}"
    if signal.kind == "recency":
        return _RECENCY_COST, f"{name} (a new activity)"
    return _FACT_COST, name


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
