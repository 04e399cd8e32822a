"""Opportunities (the deals outcome analytics and derived inputs read) and the org's
stage order (the pipeline entry stage, issue 16).

Pulled on the same watermark rule as accounts: ``SystemModstamp >= since`` (inclusive),
ordered by ``SystemModstamp, Id``, de-duplicated by id downstream. A value that does not
parse is read as missing rather than failing the pull.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from simple_salesforce.format import format_soql

from tierwise.connectors.base import CrmOpportunity
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.parsing import UnparseableError, parse_date, parse_datetime
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.paging import query
from tierwise.tiering.model import PipelineStage

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


# The org's stage order, read once per pull when the model names a pipeline entry stage
# (issue 16). OpportunityStage supports query() (Object Reference, "OpportunityStage":
# developer.salesforce.com/docs/platform/object-reference/references/standard-objects/
# object-opportunitystage.html): SortOrder orders the stages, IsClosed marks Closed
# Won/Lost, DefaultProbability is the stage's percent, ApiName (API 36.0+) and
# MasterLabel name it. Opportunity.StageName holds one of these names.
STAGE_SOQL = (
    "SELECT ApiName, MasterLabel, SortOrder, IsActive, IsClosed, IsWon, DefaultProbability "
    "FROM OpportunityStage ORDER BY SortOrder"
)


def stages_at_or_past(client: SalesforceClient, rule: PipelineStage) -> frozenset[str]:
    """The open stage names (ApiName and MasterLabel) at or past the pipeline's entry
    stage: one query per pull."""
    rows = list(query(client, STAGE_SOQL, object_name="OpportunityStage"))
    stages = qualifying_stages(rows, rule)
    log.debug("salesforce_pipeline_stages", stages=sorted(stages))
    return stages


def qualifying_stages(rows: Sequence[Mapping[str, Any]], rule: PipelineStage) -> frozenset[str]:
    """Open stages with SortOrder >= the entry stage's, or (no Salesforce stage named)
    with DefaultProbability >= ``rule.probability``. Inactive stages count too: an
    Opportunity keeps a stage that was deactivated after it was set."""

    def names(row: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(row[k]) for k in ("ApiName", "MasterLabel") if row.get(k))

    open_rows = [row for row in rows if not row.get("IsClosed")]
    wanted = rule.salesforce
    if wanted is not None:
        folded = wanted.strip().casefold()
        entry = next((r for r in rows if folded in (n.casefold() for n in names(r))), None)
        if entry is None:
            known = ", ".join(n for r in rows for n in names(r)[:1])
            raise ConfigurationError(
                f"pipeline.stage.salesforce: no Opportunity stage '{wanted}' in this org "
                f"(stages: {known})",
                system=SYSTEM,
            )
        if entry.get("IsClosed"):
            raise ConfigurationError(
                f"pipeline.stage.salesforce: '{wanted}' is a closed stage; name an open one",
                system=SYSTEM,
            )
        floor = int(entry.get("SortOrder") or 0)
        chosen = [r for r in open_rows if int(r.get("SortOrder") or 0) >= floor]
    elif rule.probability is not None:
        least = rule.probability
        chosen = [r for r in open_rows if float(r.get("DefaultProbability") or 0) >= least]
    else:
        raise ConfigurationError(
            "pipeline.stage names no Salesforce stage and no probability: add "
            "stage.salesforce (an Opportunity stage) or stage.probability",
            system=SYSTEM,
        )
    return frozenset(name for row in chosen for name in names(row))
