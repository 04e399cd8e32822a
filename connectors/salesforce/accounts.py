"""Accounts: the incremental pull, its derived inputs, and parsing into ``CrmAccount``.

Incremental pulls: ``WHERE SystemModstamp >= since ORDER BY SystemModstamp, Id``. The
start is inclusive, so rows on the boundary come back again and the caller de-duplicates
by id. Open Opportunities come in the account query itself (a parent-to-child subquery
costs no extra call); the optional activity aggregate adds two grouped queries per 200
accounts.

Above ``salesforce.bulk_query_threshold`` accounts (the caller's ``expected``, or the
first REST page's ``totalSize`` when the estimate is not above it: the page states the
exact size) the pull runs as Bulk API 2.0 query jobs instead (``bulk_query``;
``bulk_pull`` holds that path).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog
from simple_salesforce.format import format_soql

from tierwise.connectors.base import CrmAccount, TierwiseValues
from tierwise.connectors.parsing import (
    RecordReader,
    UnparseableError,
    normalise_domain,
    parse_datetime,
)
from tierwise.connectors.salesforce.bulk_query import BulkQuery, typed
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.fields import ACTIVITY_FIELD, OrgFields
from tierwise.connectors.salesforce.paging import IN_CLAUSE_CHUNK, child_rows, first_page, query
from tierwise.tiering.model import STAGE_INPUT
from tierwise.tiering.records import FieldValue

# Open Opportunities per account in the account query itself: a parent-to-child
# relationship subquery costs no extra API call (SOQL guide "Using Relationship Queries").
OPEN_OPPORTUNITIES = "(SELECT Amount, StageName FROM Opportunities WHERE IsClosed = false)"

log = structlog.get_logger(__name__)


class Accounts:
    """Reads accounts from one org."""

    def __init__(self, client: SalesforceClient, fields: OrgFields) -> None:
        self.client = client
        self.fields = fields
        # Open stages at or past the pipeline's entry stage; the connector sets them
        # before each pull when the model names one (issue 16, STAGE_INPUT).
        self.stages: frozenset[str] = frozenset()

    def _select_fields(self) -> list[str]:
        names: list[str] = []
        for name in (
            *(self.fields.identity[k] for k in ("id", "name", "website", "owner", "modified")),
            *(self.fields.identity[k] for k in ("override_tier", "override_until")),
            *self.fields.tierwise_fields.values(),
            *self.fields.customer_fields.values(),
            *(name for name, _ in self.fields.model_fields.values()),
        ):
            if name not in names:
                names.append(name)
        return names

    def soql(self, since: datetime | None, *, bulk: bool = False) -> str:
        """The pull query: identifiers checked at start-up, the watermark via format_soql.
        Derived inputs add the open-Opportunity subquery (no extra call). ``bulk``: the
        Bulk API 2.0 form, with neither the subquery nor ORDER BY (both unsupported or
        discouraged there; see ``bulk_query``)."""
        select = ", ".join(self._select_fields())
        if self.fields.derived and not bulk:
            select += ", " + OPEN_OPPORTUNITIES
        modstamp = self.fields.identity["modified"]
        soql = f"SELECT {select} FROM {self.fields.account_object}"  # noqa: S608 - identifiers checked at start-up
        if since is not None:
            # format_soql reads a naive datetime as local time: watermarks are UTC.
            aware = since if since.tzinfo else since.replace(tzinfo=UTC)
            soql += format_soql(f" WHERE {modstamp} >= {{}}", aware)
        return soql if bulk else soql + f" ORDER BY {modstamp}, Id"

    def pull(self, since: datetime | None, *, expected: int | None = None) -> Iterator[CrmAccount]:
        """REST pages, or Bulk API 2.0 jobs above the threshold. Unless the estimate is
        already above it, the first REST page decides: its ``totalSize`` is the exact size
        of the pull, so an estimate that was low (no estimate; a data load or an
        enrichment tool touched every account since the last run) still goes bulk, for
        that one call more than the bulk path's minimum. At or below the threshold the
        page is read on, not asked again: the REST path costs nothing extra."""
        threshold = self.client.settings.bulk_query_threshold
        soql = self.soql(since)
        first = None
        if expected is None or expected <= threshold:
            first = first_page(self.client, soql, object_name=self.fields.account_object)
            expected = int(first.get("totalSize") or 0)
        if expected > threshold:
            log.info("salesforce_pull_path", path="bulk2 query", expected=expected)
            yield from self._pull_bulk(since)
        else:
            log.debug("salesforce_pull_path", path="query", expected=expected)
            yield from self._pull_rest(soql, since, first)

    def _pull_rest(
        self, soql: str, since: datetime | None, first: Mapping[str, Any] | None
    ) -> Iterator[CrmAccount]:
        count = 0
        pending: list[CrmAccount] = []
        aggregate = self.fields.activity_days(self.client.settings) is not None
        object_name = self.fields.account_object
        for record in query(self.client, soql, object_name=object_name, first=first):
            count += 1
            account = self.parse(record)
            if self.fields.derived:
                account = self._with_open_opportunities(account, record.get("Opportunities"))
            if not aggregate:
                yield account
                continue
            pending.append(account)
            if len(pending) >= IN_CLAUSE_CHUNK:
                yield from self._with_activity(pending)
                pending = []
        if pending:
            yield from self._with_activity(pending)
        log.debug("salesforce_pull_done", accounts=count, incremental=since is not None)

    def _with_open_opportunities(self, account: CrmAccount, child: Any) -> CrmAccount:
        """open_pipeline (sum of Amount), open_deals (count) and open_deals_at_stage (count
        of those at or past the pipeline's entry stage) from the subquery result,
        following the child result's own nextRecordsUrl when it pages (an account with very
        many open Opportunities; SOQL guide "Understanding Query Results")."""
        amounts: list[float] = []
        at_stage = 0
        for row in child_rows(self.client, child, object_name="Opportunity"):
            amount = row.get("Amount")
            amounts.append(float(amount) if isinstance(amount, int | float) else 0.0)
            at_stage += row.get("StageName") in self.stages
        values: dict[str, FieldValue] = {}
        if STAGE_INPUT in self.fields.derived:
            values[STAGE_INPUT] = float(at_stage)
        if "open_pipeline" in self.fields.derived:
            values["open_pipeline"] = float(sum(amounts))
        if "open_deals" in self.fields.derived:
            values["open_deals"] = float(len(amounts))
        return replace(account, fields={**account.fields, **values})

    def _with_activity(self, accounts: list[CrmAccount]) -> list[CrmAccount]:
        """Tasks + Events of the last N days per account: two aggregate queries per 200
        accounts (``COUNT(Id) ... GROUP BY AccountId``), filled into ``activity_count``.
        AccountId, not WhatId: it also covers activities logged on the account's contacts
        and opportunities (Task object reference, CRM-API-NOTES §1.12)."""
        days = self.fields.activity_days(self.client.settings)
        assert days is not None
        ids = [a.crm_id for a in accounts]
        counts = dict.fromkeys(ids, 0.0)
        for activity_object in ("Task", "Event"):
            soql = format_soql(
                f"SELECT AccountId, COUNT(Id) n FROM {activity_object} "  # noqa: S608 - constants
                "WHERE AccountId IN {} AND ActivityDate = LAST_N_DAYS:{:literal} "
                "GROUP BY AccountId",
                ids,
                str(days),
            )
            for row in query(self.client, soql, object_name=activity_object):
                account_id = str(row.get("AccountId"))
                if account_id in counts:
                    counts[account_id] += float(row.get("n") or row.get("expr0") or 0)
        return [replace(a, fields={**a.fields, ACTIVITY_FIELD: counts[a.crm_id]}) for a in accounts]

    # ------------------------------------------------------------------ Bulk API 2.0 path
    def _pull_bulk(self, since: datetime | None) -> Iterator[CrmAccount]:
        """The account job first; once it is complete, jobs for what the REST path gets
        from the subquery and the grouped queries (Bulk 2.0 allows neither): open
        Opportunities and, when configured, Tasks and Events of the window, all filtered
        by the parent's ``Account.SystemModstamp`` for an incremental pull (a
        child-to-parent filter, supported) so they cover the pulled accounts in one job
        each. Modstamps only grow, so every account in the finished account job still
        passes that filter when the later jobs run. Their rows fold into per-account
        totals (only accounts that have any), then the accounts stream page by page."""
        jobs = BulkQuery(self.client)
        account_object = self.fields.account_object
        account_job = jobs.submit(self.soql(since, bulk=True), object_name=account_object)
        jobs.wait(account_job, object_name=account_object)
        side = {name: jobs.submit(text, object_name=name) for name, text in self._side_soql(since)}
        for name, job_id in side.items():
            jobs.wait(job_id, object_name=name)
        # Per account with open Opportunities: (sum of Amount, count, count at stage).
        pipeline: dict[str, tuple[float, int, int]] = {}
        if "Opportunity" in side:
            for row in jobs.rows(side["Opportunity"], object_name="Opportunity"):
                key = str(row.get("AccountId"))
                total, n, at_stage = pipeline.get(key, (0.0, 0, 0))
                amount = float(row.get("Amount") or 0.0)
                staged = row.get("StageName") in self.stages
                pipeline[key] = (total + amount, n + 1, at_stage + staged)
        activity: Counter[str] | None = None
        if "Task" in side:
            activity = Counter()
            for name in ("Task", "Event"):
                activity.update(
                    str(r.get("AccountId")) for r in jobs.rows(side[name], object_name=name)
                )
        types = {
            name: str(f.get("type")) for name, f in self.client.describe(account_object).items()
        }
        count = 0
        for row in jobs.rows(account_job, object_name=account_object):
            count += 1
            account = self.parse(typed(row, types))
            values: dict[str, FieldValue] = {}
            total, n, at_stage = pipeline.get(account.crm_id, (0.0, 0, 0))
            if STAGE_INPUT in self.fields.derived:
                values[STAGE_INPUT] = float(at_stage)
            if "open_pipeline" in self.fields.derived:
                values["open_pipeline"] = float(total)
            if "open_deals" in self.fields.derived:
                values["open_deals"] = float(n)
            if activity is not None:
                values[ACTIVITY_FIELD] = float(activity.get(account.crm_id, 0))
            yield replace(account, fields={**account.fields, **values}) if values else account
        log.debug(
            "salesforce_pull_done",
            accounts=count,
            incremental=since is not None,
            path="bulk2 query",
        )

    def _side_soql(self, since: datetime | None) -> list[tuple[str, str]]:
        """(object, statement) of the jobs that replace the subquery and grouped queries."""
        parent = ""
        if since is not None:
            aware = since if since.tzinfo else since.replace(tzinfo=UTC)
            modstamp = self.fields.identity["modified"]
            parent = format_soql(f" AND Account.{modstamp} >= {{}}", aware)
        out: list[tuple[str, str]] = []
        if self.fields.derived:
            out.append(
                (
                    "Opportunity",
                    "SELECT AccountId, Amount, StageName FROM Opportunity WHERE IsClosed = false"  # noqa: S608 - constants
                    + parent,
                )
            )
        days = self.fields.activity_days(self.client.settings)
        if days is not None:
            for name in ("Task", "Event"):
                where = f"AccountId != null AND ActivityDate = LAST_N_DAYS:{int(days)}"
                out.append((name, f"SELECT AccountId FROM {name} WHERE {where}{parent}"))  # noqa: S608 - constants
        return out

    def parse(self, record: Mapping[str, Any]) -> CrmAccount:
        reader = RecordReader(record)
        fields = reader.canonical(self.fields.model_fields, self.fields.value_maps)
        invalid = reader.invalid
        opt_str, opt_float, opt_date = reader.text, reader.number, reader.day

        tw = self.fields.tierwise_fields
        written = TierwiseValues(
            tier=opt_str(tw["tier"]),
            score=opt_float(tw["score"], "tierwise.score"),
            reason=opt_str(tw["reason"]),
            play=opt_str(tw["play"]),
            sla_due=opt_date(tw["sla_due"], "tierwise.sla_due"),
            tier_changed=opt_date(tw["tier_changed"], "tierwise.tier_changed"),
        )
        cf = self.fields.customer_fields
        if cf:
            written = replace(
                written,
                customer_tier=opt_str(cf["customer_tier"]),
                customer_score=opt_float(cf["customer_score"], "tierwise.customer_score"),
                customer_reason=opt_str(cf["customer_reason"]),
                customer_play=opt_str(cf["customer_play"]),
                customer_tier_changed=opt_date(
                    cf["customer_tier_changed"], "tierwise.customer_tier_changed"
                ),
            )
        ident = self.fields.identity
        modified_raw = record.get(ident["modified"])
        try:
            modified = parse_datetime(modified_raw) if modified_raw else None
        except UnparseableError:
            modified = None
        return CrmAccount(
            system=SYSTEM,
            crm_id=str(record.get(ident["id"])),
            name=opt_str(ident["name"]),
            domain=normalise_domain(opt_str(ident["website"])),
            owner_id=opt_str(ident["owner"]),
            modified_at=modified,
            fields=fields,
            written=written,
            manual_tier=opt_str(ident["override_tier"]),
            manual_tier_until=opt_date(ident["override_until"], "override_until"),
            invalid=invalid,
        )
