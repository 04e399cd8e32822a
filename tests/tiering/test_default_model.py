"""The shipped model on what a new org holds: standard inputs only (issue 12).

The sandbox's seeded companies are tiered three times: with only the inputs a stock
Salesforce org maps by default, with a stock HubSpot portal's, and with every input.
Each time every tier is used, Tier 1 stays within its capacity and the reasons of the
best accounts cite standard data, never an optional input the org does not have.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tierwise.sandbox.seed import SEED_TODAY, generate_companies
from tierwise.tiering import load_model, tier_accounts
from tierwise.tiering.records import AccountInput, FieldValue

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(SEED_TODAY.year, SEED_TODAY.month, SEED_TODAY.day, 12, tzinfo=UTC)

# What CONTRACT item 4 maps by default on each CRM.
SALESFORCE_STANDARD = (
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "last_activity",
    "open_pipeline",
    "open_deals",
)
HUBSPOT_STANDARD = (*SALESFORCE_STANDARD, "web_visits", "tech_stack", "last_funding_amount")
OPTIONAL = (
    "intent_score",
    "intent_surge",
    "last_funding_date",
    "competitor_customer",
    "payment_risk",
)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _inputs(company: dict[str, Any]) -> dict[str, FieldValue]:
    """The seeded canonical values as a connector would hand them over (malformed -> None)."""
    return {
        "industry": company["industry"] or None,
        "employees": _number(company["employees"]),
        "annual_revenue": _number(company["annual_revenue"]),
        "country": company["country"],
        "last_activity": company["last_activity"],
        "open_pipeline": company["open_pipeline"],
        "open_deals": 1.0 if company["open_pipeline"] else 0.0,
        "web_visits": float(company["web_visits_30d"]),
        "tech_stack": tuple(company["tech_stack"]),
        "last_funding_amount": company["last_funding_amount"],
        "intent_score": company["intent_score"],
        "intent_surge": company["intent_surge"],
        "last_funding_date": company["last_funding_date"],
        "competitor_customer": company["competitor_customer"],
        "payment_risk": company["payment_risk"],
    }


@pytest.mark.parametrize("size", [466, 3000])
@pytest.mark.parametrize(
    "present",
    [SALESFORCE_STANDARD, HUBSPOT_STANDARD, None],
    ids=["salesforce-stock", "hubspot-stock", "everything-mapped"],
)
def test_the_default_model_uses_every_tier_on_standard_data(
    size: int, present: tuple[str, ...] | None
) -> None:
    model = load_model(REPO / "config" / "model.yaml")
    assert set(SALESFORCE_STANDARD) | set(HUBSPOT_STANDARD) | set(OPTIONAL) == set(model.fields)
    accounts = []
    for company in generate_companies(size, 42):
        fields = _inputs(company)
        if present is not None:
            fields = {k: (v if k in present else None) for k, v in fields.items()}
        accounts.append(AccountInput(key=company["key"], fields=fields))

    result = tier_accounts(model, accounts, {}, NOW)

    counts = Counter(d.tier for d in result.decisions)
    for tier in model.tier_ids():
        assert counts[tier] > 0, (tier, counts)
    assert counts["tier_1"] <= (model.tiers[0].capacity or size)
    # Tier 1 is a real top slice, not half the population.
    assert counts["tier_1"] < counts["tier_2"] < size / 2
    if present is not None:
        best = [d for d in result.decisions if d.tier == "tier_1"]
        for decision in best:
            # The intent_score signal words itself "intent 55" (the group "intent 8/30").
            assert not re.search(r"intent \d+(\.\d+)?(?!\d*/)", decision.reason), decision.reason
            for optional in ("surge", "competitor", "payment risk"):
                assert optional not in decision.reason, decision.reason
        assert any("pipeline" in d.reason or "emp" in d.reason for d in best)
