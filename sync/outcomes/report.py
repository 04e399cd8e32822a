"""``tierwise report``: the funnel of each tier against the baseline, over a period.

Pure: accounts, their tier (as of the period's end) and attributed deals in, rows out.
Definitions, for a period ``since..until`` (dates, inclusive):

* accounts — accounts in the tier at ``until`` (baseline: unqualified + never tiered);
* open pipeline — amount of deals open at ``until`` (created by then, not closed by then);
* win rate — won / closed, deals closed in the period;
* average deal size — mean amount of deals won in the period;
* days to close — mean days from creation to close of deals won in the period;
* pipeline per account — amount of deals created in the period / accounts;
* share of revenue — the tier's won amount / all won amount in the period;
* win rate vs baseline — the tier's win rate / the baseline's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from tierwise.sync.outcomes.data import UNTIERED, Deal
from tierwise.sync.outcomes.metrics import lift, rate
from tierwise.tiering.records import UNQUALIFIED

BASELINE = "baseline"
ALL = "all"


@dataclass(frozen=True, slots=True)
class TierRow:
    tier: str
    label: str
    accounts: int
    accounts_with_new_deals: int
    accounts_won: int
    open_pipeline: float
    new_pipeline: float
    deals_closed: int
    deals_won: int
    win_rate: float | None
    avg_deal_size: float | None
    days_to_close: float | None
    pipeline_per_account: float | None
    revenue: float
    revenue_share: float | None
    win_rate_vs_baseline: float | None = None


@dataclass
class OutcomeReport:
    since: date
    until: date
    rows: list[TierRow]
    unmatched_deals: int = 0
    scores: list[tuple[str, float]] = field(default_factory=list)  # (tier, score) at until
    boundaries: list[tuple[str, float]] = field(default_factory=list)  # (tier, lowest score)
    volatility: Any = None

    def row(self, tier: str) -> TierRow:
        return next(r for r in self.rows if r.tier == tier)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "unmatched_deals": self.unmatched_deals,
            "tiers": [asdict(r) for r in self.rows],
            "boundaries": dict(self.boundaries),
        }
        if self.volatility is not None:
            data["volatility"] = self.volatility.to_dict()
        return data


def _group_of(tier: str, tier_ids: Sequence[str]) -> str:
    return tier if tier in tier_ids else BASELINE


def build_report(
    *,
    tiers: Mapping[str, str],
    scores: Mapping[str, float],
    deals: Sequence[Deal],
    labels: Mapping[str, str],
    tier_ids: Sequence[str],
    min_scores: Mapping[str, float | None],
    since: date,
    until: date,
) -> OutcomeReport:
    """``tiers``: account key -> tier at ``until`` (``untiered`` when never tiered);
    ``tier_ids``: the model's tiers best first, without ``unqualified``."""
    groups = [*tier_ids, BASELINE, ALL]
    members: dict[str, set[str]] = {g: set() for g in groups}
    for key, tier in tiers.items():
        members[_group_of(tier, tier_ids)].add(key)
        members[ALL].add(key)
    by_key: dict[str, list[Deal]] = {}
    for deal in deals:
        if deal.account_key in tiers:
            by_key.setdefault(deal.account_key, []).append(deal)

    def in_period(day: date | None) -> bool:
        return day is not None and since <= day <= until

    raw: dict[str, dict[str, Any]] = {}
    for group in groups:
        keys = members[group]
        group_deals = [d for k in keys for d in by_key.get(k, ())]
        closed = [d for d in group_deals if d.is_closed and in_period(d.closed)]
        won = [d for d in closed if d.is_won]
        new = [d for d in group_deals if in_period(d.created)]
        open_at_end = [
            d
            for d in group_deals
            if d.created is not None
            and d.created <= until
            and (not d.is_closed or (d.closed is not None and d.closed > until))
        ]
        cycle = [(d.closed - d.created).days for d in won if d.closed is not None and d.created]
        raw[group] = {
            "accounts": len(keys),
            "accounts_with_new_deals": len({d.account_key for d in new}),
            "accounts_won": len({d.account_key for d in won}),
            "open_pipeline": sum(d.amount for d in open_at_end),
            "new_pipeline": sum(d.amount for d in new),
            "deals_closed": len(closed),
            "deals_won": len(won),
            "win_rate": rate(len(won), len(closed)),
            "avg_deal_size": rate(sum(d.amount for d in won), len(won)),
            "days_to_close": rate(sum(cycle), len(cycle)),
            "pipeline_per_account": rate(sum(d.amount for d in new), len(keys)),
            "revenue": sum(d.amount for d in won),
        }
    total_revenue = raw[ALL]["revenue"]
    baseline_rate = raw[BASELINE]["win_rate"]
    label_of = {**labels, BASELINE: "Baseline (unqualified + untiered)", ALL: "All accounts"}
    rows = [
        TierRow(
            tier=g,
            label=label_of.get(g, g),
            revenue_share=rate(raw[g]["revenue"], total_revenue),
            win_rate_vs_baseline=lift(raw[g]["win_rate"], baseline_rate),
            **raw[g],
        )
        for g in groups
    ]
    score_list = [(tiers[k], s) for k, s in scores.items() if k in tiers]
    boundaries: list[tuple[str, float]] = []
    for tier in tier_ids:
        bar = min_scores.get(tier)
        if bar is None:
            observed = [s for t, s in score_list if t == tier]
            bar = min(observed) if observed else None
        if bar is not None:
            boundaries.append((tier, float(bar)))
    return OutcomeReport(since, until, rows, scores=score_list, boundaries=boundaries)


def baseline_tiers() -> tuple[str, str]:
    return (UNQUALIFIED, UNTIERED)
