"""``tierwise backtest``: how well each tier, as it stood at a past date, predicted wins.

Outcomes are the deals that closed after ``as_of`` (up to ``until``). An account's
label is *won* when at least one of them was won, *lost* when all of them were lost;
accounts without a closed deal in the window count for neither (they are listed).

Two sources of tiers and scores, shown side by side:

* ``recorded`` — what tierwise decided at ``as_of`` (the tier history);
* a model file — that model applied to the accounts' stored field values. The state
  store keeps only the latest pulled values, not values per date, so a model applied
  "as of" a past date sees today's field values with ``now`` = ``as_of`` (recency is
  measured from that date). Fields that move with the outcome (open pipeline, last
  activity) can leak; the recorded column has no such leak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from tierwise.sync.outcomes.data import UNTIERED, Deal
from tierwise.sync.outcomes.metrics import auc, lift, rate
from tierwise.tiering import TieringModel, tier_accounts
from tierwise.tiering.records import AccountInput


@dataclass(frozen=True, slots=True)
class Scored:
    tier: str
    score: float


@dataclass(frozen=True, slots=True)
class TierResult:
    tier: str
    accounts: int
    accounts_with_outcome: int
    deals_closed: int
    deals_won: int
    win_rate: float | None
    lift: float | None


@dataclass
class BacktestColumn:
    name: str
    tiers: list[TierResult]
    auc: float | None
    accounts_scored: int
    accounts_with_outcome: int
    overall_win_rate: float | None

    def tier(self, tier: str) -> TierResult:
        return next(t for t in self.tiers if t.tier == tier)


@dataclass
class Backtest:
    as_of: date
    until: date
    columns: list[BacktestColumn]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "until": self.until.isoformat(),
            "notes": self.notes,
            "columns": [asdict(c) for c in self.columns],
        }


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def outcomes_after(deals: Sequence[Deal], as_of: date, until: date) -> dict[str, tuple[int, int]]:
    """Account key -> (closed deals, won deals) closed in (as_of, until]."""
    out: dict[str, tuple[int, int]] = {}
    for d in deals:
        if d.is_closed and d.closed is not None and as_of < d.closed <= until:
            closed, won = out.get(d.account_key, (0, 0))
            out[d.account_key] = (closed + 1, won + int(d.is_won))
    return out


def score_with_model(
    model: TieringModel, inputs: Sequence[AccountInput], as_of: date
) -> dict[str, Scored]:
    result = tier_accounts(model, inputs, {}, end_of(as_of))
    return {d.key: Scored(d.tier, d.score) for d in result.decisions}


def evaluate(
    name: str,
    scored: Mapping[str, Scored],
    outcomes: Mapping[str, tuple[int, int]],
    tier_order: Sequence[str],
) -> BacktestColumn:
    all_closed = sum(c for k, (c, _) in outcomes.items() if k in scored)
    all_won = sum(w for k, (_, w) in outcomes.items() if k in scored)
    overall = rate(all_won, all_closed)
    tiers: list[TierResult] = []
    seen = {s.tier for s in scored.values()}
    order = [*tier_order, *sorted(seen - set(tier_order))]
    for tier in order:
        keys = [k for k, s in scored.items() if s.tier == tier]
        if not keys and tier == UNTIERED:
            continue
        closed = sum(outcomes.get(k, (0, 0))[0] for k in keys)
        won = sum(outcomes.get(k, (0, 0))[1] for k in keys)
        win_rate = rate(won, closed)
        tiers.append(
            TierResult(
                tier,
                len(keys),
                sum(1 for k in keys if k in outcomes),
                closed,
                won,
                win_rate,
                lift(win_rate, overall),
            )
        )
    labelled = [k for k in scored if k in outcomes]
    area = auc([scored[k].score for k in labelled], [outcomes[k][1] > 0 for k in labelled])
    return BacktestColumn(name, tiers, area, len(scored), len(labelled), overall)


def backtest_text(bt: Backtest) -> str:
    lines = [f"Backtest: tiers as of {bt.as_of}, deals closed {bt.as_of} .. {bt.until}"]
    for column in bt.columns:
        auc_text = "-" if column.auc is None else f"{column.auc:.3f}"
        overall = "-" if column.overall_win_rate is None else f"{column.overall_win_rate:.1%}"
        lines.append(
            f"\n[{column.name}] AUC {auc_text} over {column.accounts_with_outcome} accounts "
            f"with a closed deal; overall win rate {overall}"
        )
        lines.append(
            f"  {'tier':<14}{'accounts':>9}{'closed':>8}{'won':>6}{'win rate':>10}{'lift':>7}"
        )
        for t in column.tiers:
            wr = "-" if t.win_rate is None else f"{t.win_rate:.1%}"
            lf = "-" if t.lift is None else f"{t.lift:.2f}"
            lines.append(
                f"  {t.tier:<14}{t.accounts:>9}{t.deals_closed:>8}{t.deals_won:>6}{wr:>10}{lf:>7}"
            )
    if len(bt.columns) == 2:
        a, b = bt.columns
        if a.auc is not None and b.auc is not None:
            lines.append(
                f"\nAUC {a.name} {a.auc:.3f} vs {b.name} {b.auc:.3f} ({b.auc - a.auc:+.3f})"
            )
    lines += [f"note: {n}" for n in bt.notes]
    return "\n".join(lines)
