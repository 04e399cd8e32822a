"""Inputs of the outcome reports: deals per account key, and tiers as they stood.

Opportunities are pulled live from the configured CRMs (a full pull each time; nothing
is stored). A company held by both CRMs has its deals counted once: from its record
in the primary CRM (``TIERWISE_PRIMARY``) when it has one there, else from the other,
so mirrored deals are never double counted. Deals of accounts tierwise has never
pulled are left out and counted as ``unmatched``.

Tiers and scores come from the state store's tier history (read through the store's
methods: this module runs no SQL and imports no database library): the last decision at or
before a moment. The store keeps only the latest pulled field values of an account
(no per-date snapshots), so "as of" applies to tiers and scores, not to field values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from tierwise.connectors.base import Connector, CrmOpportunity
from tierwise.sync.records import CUSTOMER_KEY, Snapshot

UNTIERED = "untiered"
# Tier history keys of customer tiers; not prospect accounts (kept for importers).
CUSTOMER_HISTORY_PREFIX = CUSTOMER_KEY


class _Row(Protocol):
    @property
    def run_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def score(self) -> float: ...
    @property
    def tier(self) -> str: ...
    @property
    def rule(self) -> str: ...


class HistoryReader(Protocol):
    """What the reports read from the state store (``StateStore.history_rows``)."""

    def history_rows(self, *, until: datetime | None = None) -> Sequence[tuple[str, _Row]]: ...


@dataclass(frozen=True, slots=True)
class Deal:
    """One opportunity attributed to an account key."""

    account_key: str
    system: str
    crm_id: str
    amount: float
    is_closed: bool
    is_won: bool
    created: date | None
    closed: date | None


@dataclass(frozen=True, slots=True)
class TierPoint:
    tier: str
    score: float
    at: datetime
    rule: str


def pull_opportunities(connectors: Sequence[Connector]) -> list[CrmOpportunity]:
    out: list[CrmOpportunity] = []
    for connector in connectors:
        out.extend(connector.pull_opportunities(None))
    return out


def attribute_deals(
    opportunities: Iterable[CrmOpportunity], snapshots: Sequence[Snapshot], primary: str
) -> tuple[list[Deal], int]:
    """Deals by account key (one CRM per account, see module doc) and the unmatched count."""
    key_of = {(s.system, s.crm_id): s.key for s in snapshots}
    systems: dict[str, set[str]] = {}
    for snap in snapshots:
        systems.setdefault(snap.key, set()).add(snap.system)
    source = {key: primary if primary in held else min(held) for key, held in systems.items()}
    deals: list[Deal] = []
    unmatched = 0
    for opp in opportunities:
        key = key_of.get((opp.system, opp.crm_account_id or ""))
        if key is None:
            unmatched += 1
            continue
        if source[key] != opp.system:
            continue
        deals.append(
            Deal(
                account_key=key,
                system=opp.system,
                crm_id=opp.crm_id,
                amount=opp.amount or 0.0,
                is_closed=opp.is_closed,
                is_won=opp.is_won,
                created=opp.created.date() if opp.created else None,
                closed=opp.closed,
            )
        )
    return deals, unmatched


def tiers_as_of(store: HistoryReader, moment: datetime) -> dict[str, TierPoint]:
    """Each account's last tier decision at or before ``moment``."""
    out: dict[str, TierPoint] = {}
    for key, row in store.history_rows(until=moment):
        out[key] = TierPoint(row.tier, row.score, row.at, row.rule)
    return out


def history_rows(store: HistoryReader) -> list[tuple[str, str, datetime, str, str]]:
    """Every prospect tier history row as (key, run_id, at, tier, rule), in time order.

    Customer tiers (keys ``customer:...``) move on their own and are left out.
    """
    return [
        (key, row.run_id, row.at, row.tier, row.rule)
        for key, row in store.history_rows()
        if not key.startswith(CUSTOMER_HISTORY_PREFIX)
    ]


def account_keys(snapshots: Sequence[Snapshot]) -> list[str]:
    return sorted({s.key for s in snapshots})


def tier_of(points: Mapping[str, TierPoint], key: str) -> str:
    point = points.get(key)
    return point.tier if point is not None else UNTIERED
