"""Read-only answers through the run's own ``decide``: explain, the customers preview,
and the population the outcome commands re-tier.

Each reads the state store (what the last run pulled, the tier histories, what
tierwise last wrote) and calls the same pure ``tierwise.sync.targets.decide`` as ``run``, so a
preview shows what a run decides on the same data, account by account. Nothing here
writes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from tierwise.connectors.base import CrmOpportunity
from tierwise.sync.coverage.windows import load_windows
from tierwise.sync.outcomes.customers import CustomerRow, customer_rows
from tierwise.sync.state import StateStore
from tierwise.sync.targets import (
    Decisions,
    TierFunction,
    TierTarget,
    customer_target,
    decide,
    populate,
    prospect_target,
)
from tierwise.tiering.records import AccountInput, Decision


def decide_stored(
    store: StateStore,
    targets: Sequence[TierTarget],
    now: datetime,
    *,
    opportunities: Sequence[CrmOpportunity] = (),
    primary: str = "salesforce",
    hand_edit_days: int = 30,
    tier: TierFunction | None = None,
) -> Decisions:
    """The run's ``decide`` on what the store holds (no CRM is read)."""
    return decide(
        store.snapshots(),
        store.histories(now),
        store.last_written(),
        targets,
        now,
        opportunities=opportunities,
        primary=primary,
        hand_edit_days=hand_edit_days,
        tier=tier,
        windows=load_windows(store.engine),  # issue 16: explain shows outreach windows
    )


def explain_decision(
    store: StateStore,
    model: Any,
    key: str,
    now: datetime,
    *,
    primary: str = "salesforce",
    hand_edit_days: int = 30,
) -> Decision | None:
    """The prospect decision a run would make for account ``key`` now (None: unknown)."""
    decided = decide_stored(
        store, (prospect_target(model),), now, primary=primary, hand_edit_days=hand_edit_days
    )
    return decided.targets[0].decisions.get(key)


def preview_customers(
    store: StateStore,
    model: Any,
    opportunities: Sequence[CrmOpportunity],
    now: datetime,
    *,
    primary: str = "salesforce",
) -> list[CustomerRow]:
    """``tierwise customers``: the customer target decided exactly as ``run`` decides it
    (same inputs incl. the CRM's health fields, same customer history, same model)."""
    decided = decide_stored(
        store, (customer_target(model),), now, opportunities=opportunities, primary=primary
    )
    return customer_rows(decided.targets[0])


def stored_inputs(
    store: StateStore,
    model: Any,
    today: date,
    *,
    primary: str = "salesforce",
    hand_edit_days: int = 30,
) -> list[AccountInput]:
    """The prospect inputs a run would tier on ``today`` (hand edits honoured as in
    ``decide``), for the outcome commands that re-tier them with another model or date."""
    target = prospect_target(model)
    populated = populate(
        store.snapshots(),
        store.last_written(),
        (target,),
        datetime.combine(today, time.min, UTC),
        primary=primary,
        hand_edit_days=hand_edit_days,
    )
    return list(target.inputs(populated.population, today))
