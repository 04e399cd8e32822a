"""HubSpot deals, for outcome analytics (``Connector.pull_opportunities``), and the open
deals at or past the model's pipeline entry stage (issue 16).

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
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict
from tierwise.connectors.hubspot.paging import SEARCH_LIMIT, associations, list_rows, search_rows
from tierwise.connectors.parsing import UnparseableError, parse_date, parse_datetime
from tierwise.tiering.model import PipelineStage

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


# ---- the pipeline entry stage (issue 16) ------------------------------------------------
# Deal stages live in pipelines: GET /crm/v3/pipelines/deals returns every deal pipeline
# with its stages (id, label, displayOrder, metadata.isClosed / metadata.probability as
# strings) (developers.hubspot.com/docs/api-reference/crm-pipelines-v3/guide). A deal's
# ``dealstage`` is a stage id; ids are unique across the portal's pipelines, so the stage
# alone says which pipeline's order applies.


def stages_at_or_past(client: HubSpotClient, rule: PipelineStage) -> frozenset[str]:
    """Stage ids of open stages at or past the entry stage (one pipelines call)."""
    api = client.api("pipelines")
    answer = to_dict(
        client.call(
            paths.PIPELINES_ALL,
            lambda t: api.get_all(object_type="deals", _request_timeout=t),
            operation="read deal pipelines",
            object_name="deals",
        )
    )
    stages = qualifying_stages(answer.get("results") or [], rule)
    log.debug("hubspot_pipeline_stages", stages=sorted(stages))
    return stages


def qualifying_stages(
    pipelines: Sequence[Mapping[str, Any]], rule: PipelineStage
) -> frozenset[str]:
    """With ``rule.hubspot``: the open stages of the entry stage's pipeline whose
    displayOrder is at least the entry's (the stage is found by id, else by label; a label
    shared by several pipelines sets the floor in each). Otherwise open stages of every
    pipeline whose ``metadata.probability`` (0-1) x 100 is at least ``rule.probability``."""

    def meta(stage: Mapping[str, Any], key: str) -> str:
        return str((stage.get("metadata") or {}).get(key) or "").strip().lower()

    def is_open(stage: Mapping[str, Any]) -> bool:
        return meta(stage, "isClosed") != "true"

    def order(stage: Mapping[str, Any]) -> int:
        return int(stage.get("displayOrder") or stage.get("display_order") or 0)

    chosen: set[str] = set()
    wanted = rule.hubspot
    if wanted is not None:
        folded = wanted.strip().casefold()
        found = False
        for by in ("id", "label"):
            for pipeline in pipelines:
                stages = list(pipeline.get("stages") or [])
                entry = next((s for s in stages if str(s.get(by)).casefold() == folded), None)
                if entry is None:
                    continue
                if not is_open(entry):
                    raise ConfigurationError(
                        f"pipeline.stage.hubspot: '{wanted}' is a closed stage; name an open one",
                        system=SYSTEM,
                    )
                found = True
                chosen |= {str(s["id"]) for s in stages if is_open(s) and order(s) >= order(entry)}
            if found:
                break
        if not found:
            known = ", ".join(str(s.get("id")) for p in pipelines for s in p.get("stages") or [])
            raise ConfigurationError(
                f"pipeline.stage.hubspot: no deal stage '{wanted}' in this portal's pipelines "
                f"(stage ids: {known})",
                system=SYSTEM,
            )
    elif rule.probability is not None:
        for pipeline in pipelines:
            for stage in pipeline.get("stages") or []:
                try:
                    chance = float(meta(stage, "probability") or 0) * 100
                except ValueError:
                    chance = 0.0
                if is_open(stage) and chance >= rule.probability - 1e-9:
                    chosen.add(str(stage["id"]))
    else:
        raise ConfigurationError(
            "pipeline.stage names no HubSpot stage and no probability: add stage.hubspot "
            "(a deal stage id or label) or stage.probability",
            system=SYSTEM,
        )
    return frozenset(chosen)


def open_deals_at_stage(client: HubSpotClient, stages: frozenset[str]) -> dict[str, int]:
    """company id -> open deals in one of ``stages``: every deal listed once (100 a page,
    with its companies), counted on its first associated company like the outcome pull."""
    counts: dict[str, int] = {}
    rows = list_rows(
        client,
        "deals.basic",
        paths.DEALS_LIST,
        "deals",
        properties=["dealstage", "hs_is_closed"],
        associations=["companies"],
    )
    for row in rows:
        props: Mapping[str, Any] = row.get("properties") or {}
        if str(props.get("hs_is_closed") or "").lower() == "true":
            continue
        if str(props.get("dealstage") or "") not in stages:
            continue
        links = ((row.get("associations") or {}).get("companies") or {}).get("results")
        if links:
            company = str(links[0].get("id"))
            counts[company] = counts.get(company, 0) + 1
    return counts
