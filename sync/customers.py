"""Customer tiers inside the sync job: the customers among the tiered accounts, tiered by
the customer model on their deal history (pure; the engine pulls the deals).

A customer is an account with a won deal (``sync.outcomes.customers``, the same rule and
inputs as the ``tierwise customers`` preview). Their history lives in the same tier
history as the prospect tiers, under the key ``customer:<account key>``, so prospect
dwell/hysteresis and volatility never see customer moves and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from connectors.base import CrmOpportunity
from sync.outcomes.customers import customer_inputs
from sync.outcomes.data import attribute_deals
from sync.plan import CUSTOMER_KEY
from sync.records import MergedAccount
from tiering.records import AccountHistory, Decision, TieringResult


def split_histories(
    histories: Mapping[str, AccountHistory],
) -> tuple[dict[str, AccountHistory], dict[str, AccountHistory]]:
    """(prospect histories, customer histories by plain account key)."""
    prospects: dict[str, AccountHistory] = {}
    customers: dict[str, AccountHistory] = {}
    for key, history in histories.items():
        if key.startswith(CUSTOMER_KEY):
            customers[key[len(CUSTOMER_KEY):]] = history
        else:
            prospects[key] = history
    return prospects, customers


def decide_customers(
    model: object,
    tier_accounts: Callable[..., TieringResult],
    opportunities: Iterable[CrmOpportunity],
    accounts: Sequence[MergedAccount],
    primary: str,
    histories: Mapping[str, AccountHistory],
    now: datetime,
) -> TieringResult:
    """Tier the customers among ``accounts``; decisions keyed by plain account key."""
    snapshots = [record for account in accounts for record in account.records]
    deals, _unmatched = attribute_deals(opportunities, snapshots, primary)
    inputs = customer_inputs(
        deals, now.date(), {account.key: account.fields for account in accounts}
    )
    return tier_accounts(model, inputs, histories, now)


def history_decisions(decisions: Iterable[Decision]) -> list[Decision]:
    """Customer decisions as the tier history stores them (key ``customer:<key>``)."""
    return [replace(d, key=CUSTOMER_KEY + d.key) for d in decisions]
