# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The one pure decide over declared tier targets, with plain records (no CRM, no store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.sync.test_plan import NOW, snap
from tierwise.connectors.base import CrmOpportunity
from tierwise.sync.targets import (
    TierTarget,
    customer_population,
    customer_target,
    decide,
    declare_targets,
    prospect_target,
)
from tierwise.tiering import load_model, tier_accounts
from tierwise.tiering.records import AccountHistory, TieringResult

CONFIG = Path(__file__).resolve().parents[2] / "config"
MODEL = load_model(CONFIG / "model.yaml")
CUSTOMER_MODEL = load_model(CONFIG / "customer_model.yaml")


def won(crm_account_id: str, amount: float, closed: date) -> CrmOpportunity:
    return CrmOpportunity(
        system="salesforce",
        crm_id=f"o-{crm_account_id}-{amount}",
        crm_account_id=crm_account_id,
        amount=amount,
        stage="Closed Won",
        is_closed=True,
        is_won=True,
        created=None,
        closed=closed,
        modified=None,
    )


SNAPSHOTS = [snap("salesforce", str(i), f"c{i}.com", employees=50.0 * i) for i in range(1, 7)]
DEALS = [won("1", 90000.0, NOW.date() - timedelta(days=30)), won("2", 5000.0, NOW.date())]


class Recording:
    """``tier_accounts`` that remembers which histories each model was given."""

    def __init__(self) -> None:
        self.histories: dict[int, dict[str, AccountHistory]] = {}

    def __call__(self, model: Any, inputs: Any, histories: Any, now: Any) -> TieringResult:
        self.histories[id(model)] = dict(histories)
        return tier_accounts(model, inputs, histories, now)


def test_prospects_cover_everyone_and_customers_are_the_accounts_with_a_won_deal() -> None:
    decided = decide(
        SNAPSHOTS, {}, {}, declare_targets(MODEL, CUSTOMER_MODEL), NOW, opportunities=DEALS
    )
    prospects, customers = decided.targets
    assert {f"c{i}.com" for i in range(1, 7)} == set(prospects.decisions)
    assert {"c1.com", "c2.com"} == set(customers.decisions)
    assert (True, True) == (prospects.first_run, customers.first_run)
    assert {"customer:c1.com", "customer:c2.com"} <= {d.key for d in decided.for_history()}


def test_each_target_sees_only_its_own_history() -> None:
    history = AccountHistory(tier="tier_3", tier_since=NOW - timedelta(days=9), points=())
    stored = {"c1.com": history, "customer:c1.com": replace(history, tier="grow")}
    recording = Recording()
    decided = decide(
        SNAPSHOTS,
        stored,
        {},
        declare_targets(MODEL, CUSTOMER_MODEL),
        NOW,
        opportunities=DEALS,
        tier=recording,
    )
    assert {"c1.com": history} == recording.histories[id(MODEL)]
    assert {"c1.com": replace(history, tier="grow")} == recording.histories[id(CUSTOMER_MODEL)]
    assert (False, False) == tuple(t.first_run for t in decided.targets)


def test_a_third_target_is_one_declaration() -> None:
    partner_model = load_model(CONFIG / "customer_model.yaml")
    partners = TierTarget(
        name="partner",
        model=partner_model,
        fields=customer_target(partner_model).fields,
        inputs=customer_population,
        history_key="partner:",
        needs_deals=True,
    )
    stored = {"partner:c2.com": AccountHistory("monitor", NOW - timedelta(days=1), ())}
    recording = Recording()
    decided = decide(
        SNAPSHOTS,
        stored,
        {},
        (prospect_target(MODEL), partners),
        NOW,
        opportunities=DEALS,
        tier=recording,
    )
    assert ["prospect", "partner"] == [t.target.name for t in decided.targets]
    assert {"c1.com", "c2.com"} == set(decided.targets[1].decisions)
    assert {"c2.com"} == set(recording.histories[id(partner_model)])
    assert {} == recording.histories[id(MODEL)]
