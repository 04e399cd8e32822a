"""Opportunities (the deals outcome analytics and derived inputs read).

Pulled on the same watermark rule as accounts: ``SystemModstamp >= since`` (inclusive),
ordered by ``SystemModstamp, Id``, de-duplicated by id downstream. A value that does not
parse is read as missing rather than failing the pull.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from simple_salesforce.format import format_soql

from tierwise.connectors.base import CrmOpportunity
from tierwise.connectors.parsing import UnparseableError, parse_date, parse_datetime
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.paging import query

T = TypeVar("T")

OPPORTUNITY_FIELDS = (
    "Id",
    "AccountId",
    "Amount",
    "StageName",
    "IsClosed",
    "IsWon",
    "CreatedDate",
    "CloseDate",
    "SystemModstamp",
)

log = structlog.get_logger(__name__)


def opportunity_soql(since: datetime | None) -> str:
    """Opportunities, on the same watermark rule as accounts (``SystemModstamp >=``)."""
    soql = f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity"  # noqa: S608 - constant field list
    if since is not None:
        aware = since if since.tzinfo else since.replace(tzinfo=UTC)
        soql += format_soql(" WHERE SystemModstamp >= {}", aware)
    return soql + " ORDER BY SystemModstamp, Id"


def pull_opportunities(
    client: SalesforceClient, since: datetime | None
) -> Iterator[CrmOpportunity]:
    count = 0
    soql = opportunity_soql(since)
    for record in query(client, soql, object_name="Opportunity"):
        count += 1
        yield parse_opportunity(record)
    log.debug("salesforce_opportunities_done", records=count, incremental=since is not None)


def parse_opportunity(record: Mapping[str, Any]) -> CrmOpportunity:
    def opt(parse: Callable[[Any], T], raw: Any) -> T | None:
        if raw is None or raw == "":
            return None
        try:
            return parse(raw)
        except (UnparseableError, ValueError):
            return None

    is_closed = bool(record.get("IsClosed"))
    return CrmOpportunity(
        system=SYSTEM,
        crm_id=str(record["Id"]),
        crm_account_id=str(record["AccountId"]) if record.get("AccountId") else None,
        amount=opt(float, record.get("Amount")),
        stage=str(record["StageName"]) if record.get("StageName") is not None else None,
        is_closed=is_closed,
        is_won=bool(record.get("IsWon")),
        created=opt(parse_datetime, record.get("CreatedDate")),
        closed=opt(parse_date, record.get("CloseDate")) if is_closed else None,
        modified=opt(parse_datetime, record.get("SystemModstamp")),
    )
