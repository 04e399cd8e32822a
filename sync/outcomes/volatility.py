"""Tier volatility from the tier history: moves per run and per quarter, and their rules.

A move is a history row whose tier differs from the account's previous row; an
account's first row (entering tierwise) is not a move. Per run, the share is moves /
accounts tiered before that run. Per quarter, it is the share of accounts tiered at the
quarter's start whose tier at its end (or now) differs — the figure to hold against the
~5% a quarter target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

TARGET_PER_QUARTER = 0.05


@dataclass(frozen=True, slots=True)
class RunMoves:
    run_id: str
    at: datetime
    tiered_before: int
    moves: int
    share: float | None


@dataclass(frozen=True, slots=True)
class QuarterMoves:
    quarter: str
    tiered_at_start: int
    changed: int
    share: float | None
    over_target: bool


@dataclass
class Volatility:
    runs: list[RunMoves]
    quarters: list[QuarterMoves]
    rules: dict[str, int] = field(default_factory=dict)
    target: float = TARGET_PER_QUARTER

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_per_quarter": self.target,
            "runs": [asdict(r) for r in self.runs],
            "quarters": [asdict(q) for q in self.quarters],
            "rules": self.rules,
        }


def _quarter(moment: datetime) -> tuple[int, int]:
    return moment.year, (moment.month - 1) // 3 + 1


def volatility(rows: Sequence[tuple[str, str, datetime, str, str]]) -> Volatility:
    """``rows``: (key, run_id, at, tier, rule), in time order."""
    current: dict[str, str] = {}
    per_run: dict[str, list[Any]] = {}
    rules: Counter[str] = Counter()
    quarter_start: dict[tuple[int, int], dict[str, str]] = {}
    order: list[tuple[int, int]] = []
    for key, run_id, at, tier, rule in rows:
        q = _quarter(at)
        if q not in quarter_start:
            quarter_start[q] = dict(current)
            order.append(q)
        entry = per_run.setdefault(run_id, [at, len(current), 0])
        previous = current.get(key)
        if previous is not None and previous != tier:
            entry[2] += 1
            rules[rule] += 1
        current[key] = tier
    runs = [
        RunMoves(run_id, at, before, moves, moves / before if before else None)
        for run_id, (at, before, moves) in per_run.items()
    ]
    quarters: list[QuarterMoves] = []
    for i, q in enumerate(order):
        start = quarter_start[q]
        end = quarter_start[order[i + 1]] if i + 1 < len(order) else current
        changed = sum(1 for key, tier in start.items() if end.get(key, tier) != tier)
        share = changed / len(start) if start else None
        quarters.append(
            QuarterMoves(
                f"{q[0]}-Q{q[1]}",
                len(start),
                changed,
                share,
                share is not None and share > TARGET_PER_QUARTER,
            )
        )
    return Volatility(runs, quarters, dict(rules.most_common()))


def volatility_text(v: Volatility) -> str:
    lines = [f"Tier changes per quarter (target about {v.target:.0%} of tiered accounts):"]
    for q in v.quarters:
        share = "-" if q.share is None else f"{q.share:.1%}"
        flag = "  OVER TARGET" if q.over_target else ""
        lines.append(f"  {q.quarter}  {q.changed:>6} of {q.tiered_at_start:>6}  {share:>6}{flag}")
    lines.append("Tier changes per run:")
    for r in v.runs[-12:]:
        share = "-" if r.share is None else f"{r.share:.1%}"
        lines.append(f"  {r.at:%Y-%m-%d %H:%M} {r.run_id[:8]}  {r.moves:>6} moves  {share:>6}")
    if v.rules:
        lines.append("Rules behind the moves: " + ", ".join(f"{k} {n}" for k, n in v.rules.items()))
    return "\n".join(lines)
