"""HubSpot deals, for outcome analytics (``Connector.pull_opportunities``).

A full pull lists deals 100 a page with ``associations=companies``; an incremental one
searches ``hs_lastmodifieddate >= since`` (the same keyset rule as companies) and reads
the companies of each page of 200 in association batch reads (search results carry no
associations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog

from tierwise.connectors.base import CrmOpportunity
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot.client import HubSpotClient
from tierwise.connectors.hubspot.paging import SEARCH_LIMIT, associations, list_rows, search_rows
from tierwise.connectors.parsing import UnparseableError, parse_date, parse_datetime

T = TypeVar("T")
SYSTEM = "hubspot"
DEAL_PROPERTIES = (
    "amount",
    "dealstage",
    "closedate",
    "createdate",
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_lastmodifieddate",
)
DEAL_CLOSED_STAGES = frozenset({"closedwon", "closedlost"})

log = structlog.get_logger(__name__)


def pull_deals(
    client: HubSpotClient, since: datetime | None, modified: str
) -> Iterator[CrmOpportunity]:
    """Every deal (``since`` None) or those modified at or after ``since``."""
    count = 0
    if since is None:
        rows = list_rows(
            client,
            "deals.basic",
            paths.DEALS_LIST,
            "deals",
            properties=list(DEAL_PROPERTIES),
            associations=["companies"],
        )
        for row in rows:
            count += 1
            links = ((row.get("associations") or {}).get("companies") or {}).get("results")
            yield parse_deal(row, str(links[0].get("id")) if links else None)
    else:
        page: list[dict[str, Any]] = []
        for row in search_rows(client, "deals", since, DEAL_PROPERTIES, modified):
            page.append(row)
            if len(page) >= SEARCH_LIMIT:
                count += len(page)
                yield from _with_companies(client, page)
                page = []
        count += len(page)
        yield from _with_companies(client, page)
    log.debug("hubspot_deals_done", records=count, incremental=since is not None)


def _with_companies(client: HubSpotClient, rows: Sequence[dict[str, Any]]) -> list[CrmOpportunity]:
    if not rows:
        return []
    companies = associations(client, "deals", "companies", [str(r.get("id")) for r in rows])
    first = companies.first()
    return [parse_deal(row, first.get(str(row.get("id")))) for row in rows]


def parse_deal(row: Mapping[str, Any], company_id: str | None) -> CrmOpportunity:
    """A deal is closed when HubSpot says so (``hs_is_closed``) or its stage is one of the
    default pipeline's closed stages; won when ``hs_is_closed_won`` or stage ``closedwon``."""
    props: Mapping[str, Any] = row.get("properties") or {}

    def flag(name: str) -> bool:
        return str(props.get(name) or "").strip().lower() == "true"

    def opt(parse: Callable[[Any], T], raw: Any) -> T | None:
        if raw is None or raw == "":
            return None
        try:
            return parse(raw)
        except (UnparseableError, ValueError):
            return None

    stage = props.get("dealstage")
    won = flag("hs_is_closed_won") or stage == "closedwon"
    closed = won or flag("hs_is_closed") or stage in DEAL_CLOSED_STAGES
    return CrmOpportunity(
        system=SYSTEM,
        crm_id=str(row.get("id")),
        crm_account_id=company_id,
        amount=opt(float, props.get("amount")),
        stage=str(stage) if stage is not None else None,
        is_closed=closed,
        is_won=won,
        created=opt(parse_datetime, props.get("createdate")),
        closed=opt(parse_date, props.get("closedate")) if closed else None,
        modified=opt(parse_datetime, props.get("hs_lastmodifieddate")),
    )
