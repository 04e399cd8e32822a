"""Planned spend per tier and what it bought, against the untiered baseline (issue 16).

Marketing spends per tier ("$50 per account in tier 1, $30 in tier 2") and then asks
for lift against accounts outside the tiers. Spend is planned, not measured: each
account in a tier costs its play's ``budget_per_account``. The returns are the
outcome report's per-account figures: *incremental* pipeline (or revenue) per account
over the baseline's, divided by the budget per account, is what one unit of spend
bought beyond what the untiered accounts produced without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TierOutcome:
    """The outcome report's figures for one tier (or the baseline) over a period."""

    accounts: int
    new_pipeline: float
    revenue: float


@dataclass(frozen=True, slots=True)
class SpendRow:
    tier: str
    accounts: int
    budget_per_account: float | None
    planned_spend: float | None
    pipeline_per_spend: float | None
    revenue_per_spend: float | None
    incremental_pipeline_per_spend: float | None
    incremental_revenue_per_spend: float | None


def spend_rows(
    budgets: Mapping[str, float | None],
    outcomes: Mapping[str, TierOutcome],
    baseline: TierOutcome | None,
) -> list[SpendRow]:
    """One row per tier in ``budgets`` order; ratios None where there is no spend."""
    base_pipeline = _per_account(baseline.new_pipeline, baseline.accounts) if baseline else None
    base_revenue = _per_account(baseline.revenue, baseline.accounts) if baseline else None
    rows = []
    for tier, budget in budgets.items():
        got = outcomes.get(tier, TierOutcome(0, 0.0, 0.0))
        spend = budget * got.accounts if budget is not None else None
        pipeline = _per_account(got.new_pipeline, got.accounts)
        revenue = _per_account(got.revenue, got.accounts)
        rows.append(
            SpendRow(
                tier,
                got.accounts,
                budget,
                spend,
                _ratio(got.new_pipeline, spend),
                _ratio(got.revenue, spend),
                _ratio(_minus(pipeline, base_pipeline), budget),
                _ratio(_minus(revenue, base_revenue), budget),
            )
        )
    return rows


def _per_account(total: float, accounts: int) -> float | None:
    return total / accounts if accounts else None


def _minus(value: float | None, base: float | None) -> float | None:
    return None if value is None or base is None else value - base


def _ratio(value: float | None, spend: float | None) -> float | None:
    if value is None or not spend:
        return None
    return round(value / spend, 2)
