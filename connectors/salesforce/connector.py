"""Salesforce connector over simple-salesforce (REST, sObject Collections, Bulk API 2.0).

Every call goes through ``SalesforceConnector._call``: it counts the call per endpoint
label, re-authenticates once and replays once on ``INVALID_SESSION_ID`` (only when it
holds credentials; with a bare access token that is an ``AuthenticationError``),
classifies client exceptions (``salesforce.errors``) and hands ``RetriableError`` to the
one retry layer (``connectors.retry``).

Incremental pulls: ``WHERE SystemModstamp >= since ORDER BY SystemModstamp, Id``. The
start is inclusive, so rows on the boundary come back again and the caller de-duplicates
by id. Pages are fetched one by one (``query`` then ``query_more`` with the same
``Sforce-Query-Options: batchSize=2000`` header, as ``query_all_iter`` does) so that a
transient failure retries that page only, never the stream from the start.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql
from simple_salesforce.login import SalesforceLogin

from config.settings import SalesforceSettings
from connectors import mappings
from connectors.base import (
    AccountUpdate,
    ApiUsage,
    CrmAccount,
    CrmOpportunity,
    OpenTask,
    ProvisionStep,
    RecordFailure,
    TaskOutcome,
    TaskRequest,
    TierwiseValues,
    WriteOutcome,
)
from connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    FatalCrmError,
    QuotaExhaustedError,
    SchemaError,
)
from connectors.identifiers import check_identifier, model_field_mapping, resolve_mapping
from connectors.parsing import (
    RecordReader,
    UnparseableError,
    normalise_domain,
    parse_date,
    parse_datetime,
    value_map,
)
from connectors.retry import RetryPolicy
from connectors.salesforce import errors as sf_errors
from connectors.salesforce.session import TimeoutSession
from tiering.records import FieldValue

T = TypeVar("T")
SYSTEM = "salesforce"
COLLECTION_MAX = 200
QUERY_BATCH_SIZE = 2000
IN_CLAUSE_CHUNK = 200
MAX_RECORD_RETRY_ROUNDS = 3
TASK_PRIORITIES = {"high": "High", "normal": "Normal", "low": "Low"}
# Task and Event custom fields are created on Activity (CRM-API-NOTES §1.15).
ACTIVITY_OBJECTS = ("Task", "Event")
DESCRIPTION_MAX = 32000
# Open Opportunities per account in the account query itself: a parent-to-child
# relationship subquery costs no extra API call (SOQL guide "Using Relationship Queries").
OPEN_OPPORTUNITIES = "(SELECT Amount FROM Opportunities WHERE IsClosed = false)"
# Text lengths provision creates, used when describe has not been read in this process.
DEFAULT_TEXT_LENGTHS = {
    "Tierwise_Reason__c": 255,
    "Tierwise_Play__c": 80,
    "Tierwise_Customer_Reason__c": 255,
    "Tierwise_Customer_Play__c": 80,
}
# Canonical field filled from the optional Tasks + Events aggregate (activity_aggregate_days).
ACTIVITY_FIELD = "activity_count"

OPPORTUNITY_FIELDS = (
    "Id", "AccountId", "Amount", "StageName", "IsClosed", "IsWon", "CreatedDate", "CloseDate",
    "SystemModstamp",
)

Login = Callable[[], tuple[str, str]]  # -> (session id, instance host[:port])

# Updates handed over per call between stop checks: 10 Collections or 20 HubSpot batches.
WRITE_CHUNK = 2000

log = structlog.get_logger(__name__)


# SOAP login() is not available at API 65.0+ (CRM-API-NOTES §1.14): the legacy password
# login pins this version for the login call only; REST keeps settings.api_version.
SOAP_LOGIN_VERSION = "64.0"


def login_domain(domain: str) -> str:
    """What simple-salesforce wants as ``domain`` (it appends ``.salesforce.com``):
    ``acme.my.salesforce.com`` / ``https://acme.my.salesforce.com/`` -> ``acme.my``."""
    host = domain.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    return host.removesuffix(".salesforce.com")


def make_login(settings: SalesforceSettings, session: TimeoutSession) -> Login | None:
    """A re-usable login for credential auth; None for a bare access token.

    Order: client credentials (consumer key + secret + My Domain), JWT bearer, then the
    legacy SOAP username/password login."""
    domain = login_domain(settings.domain)
    key, secret = settings.consumer_key, settings.consumer_secret
    if key is not None and secret is not None:
        if domain in ("login", "test"):
            raise ConfigurationError(
                "Salesforce client credentials need the org's My Domain host in "
                "TIERWISE_SALESFORCE__DOMAIN (e.g. acme.my.salesforce.com); "
                "login/test.salesforce.com do not support this flow",
                system=SYSTEM,
            )

        def client_credentials_login() -> tuple[str, str]:
            sid, instance = SalesforceLogin(
                session=session,
                consumer_key=key.get_secret_value(),
                consumer_secret=secret.get_secret_value(),
                domain=domain,
            )
            return str(sid), str(instance)

        return client_credentials_login
    if settings.username and key is not None and settings.private_key_file:
        key_file = settings.private_key_file

        def jwt_login() -> tuple[str, str]:
            sid, instance = SalesforceLogin(
                session=session,
                username=settings.username,
                consumer_key=key.get_secret_value(),
                privatekey_file=str(key_file),
                domain=domain,
            )
            return str(sid), str(instance)

        return jwt_login
    if settings.username and settings.password is not None:
        password = settings.password
        security_token = settings.security_token
        version = min(float(settings.api_version), float(SOAP_LOGIN_VERSION))
        log.warning(
            "salesforce_legacy_password_login",
            detail="SOAP login() is disabled in new orgs, unavailable from API 65.0 and "
            "retired in Summer '27; use client credentials (consumer key + secret + My "
            "Domain) or JWT bearer",
            login_api_version=f"{version:.1f}",
        )

        def password_login() -> tuple[str, str]:
            sid, instance = SalesforceLogin(
                session=session,
                username=settings.username,
                password=password.get_secret_value(),
                security_token=security_token.get_secret_value() if security_token else "",
                sf_version=f"{version:.1f}",
                domain=domain,
            )
            return str(sid), str(instance)

        return password_login
    return None


def _soql_value(value: FieldValue) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(value)
    return value


class SalesforceConnector:
    """The ``Connector`` for one Salesforce org."""

    system = SYSTEM

    def __init__(
        self,
        settings: SalesforceSettings,
        model_fields: Mapping[str, str],
        *,
        login: Login | None = None,
        retry_policy: RetryPolicy | None = None,
        bulk_wait: int = 5,
        precheck_tasks: bool = True,
        customer_tiers: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        # Customer tier id -> label when customer tiers are on: their fields are then
        # validated, pulled, written and provisioned too.
        self.customer_tier_values = dict(customer_tiers) if customer_tiers is not None else None
        self.customer_fields: dict[str, str] = (
            dict(mappings.SALESFORCE_CUSTOMER_FIELDS) if customer_tiers is not None else {}
        )
        self._policy = retry_policy or RetryPolicy()
        self._bulk_wait = bulk_wait
        # Query task keys before the upsert so a rerun never resets a task a rep completed;
        # costs one query per 200 keys. False: upsert only (the minimum calls).
        self._precheck_tasks = precheck_tasks
        self.account_object = check_identifier(
            settings.account_object, system=SYSTEM, setting="TIERWISE_SALESFORCE__ACCOUNT_OBJECT"
        )
        self.task_object = check_identifier(
            settings.task_object, system=SYSTEM, setting="TIERWISE_SALESFORCE__TASK_OBJECT"
        )
        field_map = resolve_mapping(
            mappings.SALESFORCE_ACCOUNT_FIELDS,
            settings.fields,
            system=SYSTEM,
            setting="TIERWISE_SALESFORCE__FIELDS",
        )
        # Mapped by the operator (settings / mapping file): a missing field is an error.
        self.explicit_fields = frozenset(settings.fields)
        self.model_fields = model_field_mapping(model_fields, field_map, system=SYSTEM)
        self.wanted_fields = dict(model_fields)
        # Inputs derived from open Opportunities unless mapped to an Account field.
        self.derived = tuple(
            name
            for name in mappings.SALESFORCE_DERIVED_INPUTS
            if name in model_fields and name not in field_map
        )
        self._unmapped: dict[str, str] = {
            name: "not mapped"
            for name in model_fields
            if name not in field_map
            and name not in self.derived
            and not (name == ACTIVITY_FIELD and settings.activity_aggregate_days)
        }
        merged_maps: dict[str, dict[str, str]] = {
            key: dict(table) for key, table in mappings.SALESFORCE_VALUE_MAPS.items()
        }
        for key, table in settings.value_maps.items():
            merged_maps[key] = {**merged_maps.get(key, {}), **table}
        self.value_maps = {key: value_map(table) for key, table in merged_maps.items()}
        self._task_status: tuple[str, str] | None = None
        self.tierwise_fields = resolve_mapping(
            mappings.SALESFORCE_TIERWISE_FIELDS,
            settings.tierwise_fields,
            system=SYSTEM,
            setting="TIERWISE_SALESFORCE__TIERWISE_FIELDS",
        )
        self.identity = dict(mappings.SALESFORCE_IDENTITY_FIELDS)
        self.task_key_field = mappings.SALESFORCE_TASK_KEY_FIELD
        self._session = TimeoutSession(
            (settings.connect_timeout, settings.read_timeout), settings.ca_bundle
        )
        self._login = login if login is not None else make_login(settings, self._session)
        self._usage = ApiUsage()
        self._sf: Salesforce | None = None
        self._describes: dict[str, dict[str, dict[str, Any]]] = {}

    def close(self) -> None:
        """Release pooled connections (not part of the Connector protocol)."""
        self._session.close()

    def __repr__(self) -> str:
        return f"SalesforceConnector(instance_url={self.settings.instance_url!r})"

    # ------------------------------------------------------------------ plumbing
    def _client(self) -> Salesforce:
        if self._sf is None:
            if self.settings.access_token is not None and self.settings.instance_url:
                self._sf = Salesforce(
                    instance_url=self.settings.instance_url,
                    session_id=self.settings.access_token.get_secret_value(),
                    session=self._session,
                    version=self.settings.api_version,
                )
            elif self._login is not None:
                self._authenticate()
            else:
                raise ConfigurationError(
                    "Salesforce credentials are incomplete: "
                    f"{sf_errors.AUTH_HINT}, or JWT (TIERWISE_SALESFORCE__USERNAME, "
                    "__CONSUMER_KEY, __PRIVATE_KEY_FILE)",
                    system=SYSTEM,
                )
        assert self._sf is not None
        return self._sf

    def _authenticate(self) -> None:
        assert self._login is not None
        self._count("login")
        try:
            session_id, instance = self._login()
        except Exception as exc:
            error = sf_errors.classify(exc, operation="login")
            if isinstance(error, AuthenticationError):
                raise error from None
            raise error from exc
        self._sf = Salesforce(
            instance=instance,
            session_id=session_id,
            session=self._session,
            version=self.settings.api_version,
        )
        log.debug("salesforce_authenticated", instance=instance)

    def _count(self, label: str, calls: int = 1) -> None:
        self._usage.calls[label] = self._usage.calls.get(label, 0) + calls

    def _note_usage(self, sf: Salesforce) -> None:
        usage = getattr(sf, "api_usage", None) or {}
        api = usage.get("api-usage")
        if api is not None:
            self._usage.daily_used = int(api.used)
            self._usage.daily_max = int(api.total)

    def _call(
        self,
        label: str,
        fn: Callable[[Salesforce], T],
        *,
        operation: str,
        object_name: str | None = None,
        read: bool = False,
        retry: bool = True,
    ) -> T:
        """One API call: counted, re-authenticated once on an expired session, classified,
        retried by the retry layer when transient."""
        reauthenticated = False

        def attempt() -> T:
            nonlocal reauthenticated
            sf = self._client()
            sent = self._session.sent
            try:
                result = fn(sf)
            except Exception as exc:
                self._count(label, max(1, self._session.sent - sent))
                if sf_errors.is_invalid_session(exc):
                    if self._login is None:
                        raise AuthenticationError(
                            "Salesforce rejected the access token (INVALID_SESSION_ID): "
                            f"{sf_errors.AUTH_HINT}",
                            system=SYSTEM,
                            object_name=object_name,
                            status=401,
                        ) from None
                    if not reauthenticated:
                        reauthenticated = True
                        log.warning("salesforce_session_expired", operation=operation)
                        self._authenticate()
                        return attempt()
                    raise AuthenticationError(
                        "Salesforce session expired again right after re-authentication: "
                        f"{sf_errors.AUTH_HINT}",
                        system=SYSTEM,
                        object_name=object_name,
                        status=401,
                    ) from None
                error = sf_errors.classify(
                    exc, operation=operation, object_name=object_name, read=read
                )
                if isinstance(error, AuthenticationError):
                    raise error from None
                raise error from exc
            # HTTP requests actually sent (a Bulk API job is several), at least one per attempt.
            self._count(label, max(1, self._session.sent - sent))
            self._note_usage(sf)
            return result

        return self._policy.call(attempt) if retry else attempt()

    def _check_quota(self, calls: int = 1) -> None:
        used, limit = self._usage.daily_used, self._usage.daily_max
        share = self.settings.max_daily_api_share
        if used is None or not limit:
            return
        if (used + calls) / limit > share:
            raise QuotaExhaustedError(
                f"Salesforce daily API usage is {used}/{limit}; {calls} more call(s) would pass "
                f"the configured share of {share:.0%} (TIERWISE_SALESFORCE__MAX_DAILY_API_SHARE). "
                "The run stops here as deferred.",
                system=SYSTEM,
            )

    def _query_pages(self, soql: str, *, label: str, object_name: str) -> Iterator[dict[str, Any]]:
        headers = {"Sforce-Query-Options": f"batchSize={QUERY_BATCH_SIZE}"}
        page: dict[str, Any] = self._call(
            label,
            lambda sf: sf.query(soql, headers=headers),
            operation="query",
            object_name=object_name,
            read=True,
        )
        pages = 1
        while True:
            records = page.get("records") or []
            log.debug("salesforce_query_page", object=object_name, page=pages, records=len(records))
            yield from records
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            next_url = str(page["nextRecordsUrl"])
            page = self._call(
                label,
                lambda sf, url=next_url: sf.query_more(  # type: ignore[misc]
                    url, identifier_is_url=True, headers=headers
                ),
                operation="query",
                object_name=object_name,
                read=True,
            )
            pages += 1

    def _describe(self, object_name: str, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
        if fresh or object_name not in self._describes:
            try:
                result: dict[str, Any] = self._call(
                    f"sobjects/{object_name}/describe",
                    lambda sf: getattr(sf, object_name).describe(),
                    operation="describe",
                    object_name=object_name,
                    read=True,
                )
            except FatalCrmError as exc:
                if exc.status != 404:
                    raise
                raise ConfigurationError(
                    f"Salesforce object {object_name} does not exist or is not visible to the "
                    "API user; check TIERWISE_SALESFORCE__ACCOUNT_OBJECT / __TASK_OBJECT",
                    system=SYSTEM,
                    object_name=object_name,
                    status=404,
                ) from exc
            self._describes[object_name] = {f["name"]: f for f in result.get("fields", [])}
        return self._describes[object_name]

    # ------------------------------------------------------------------ access & schema
    def check_access(self) -> None:
        """``GET /limits/``: proves the token and reads the daily API budget."""
        try:
            limits: dict[str, Any] = self._call(
                "limits", lambda sf: sf.limits(), operation="limits check"
            )
        except FatalCrmError as exc:
            if exc.status != 403:
                raise
            # /limits needs "View Setup and Configuration"; describe proves the token too.
            self._describe(self.account_object, fresh=True)
            return
        daily = limits.get("DailyApiRequests") or {}
        if "Max" in daily and "Remaining" in daily:
            self._usage.daily_max = int(daily["Max"])
            self._usage.daily_used = int(daily["Max"]) - int(daily["Remaining"])

    def validate_schema(self) -> None:
        """Check every field tierwise reads or writes, before any write.

        Model inputs mapped only by default to a field the org lacks are left out of the
        pull and listed by :meth:`unmapped_inputs`; an input mapped explicitly to a missing
        field is an error. tierwise's own fields are required: a field the org does not have
        (Tooling ``CustomField``) needs ``tierwise provision``; a field that exists but is
        hidden from, or read-only for, this user needs field-level security (the permission
        set assigned to the user) - describe cannot tell those apart, Tooling can.
        """
        account = self._describe(self.account_object, fresh=True)
        task = self._describe(self.task_object, fresh=True)
        problems: list[str] = []
        obj = self.account_object
        for canonical, (name, _kind) in list(self.model_fields.items()):
            if name in account:
                continue
            if canonical in self.explicit_fields:
                problems.append(
                    f"Salesforce {obj} field {name} (mapped to model input {canonical!r} in "
                    "TIERWISE_SALESFORCE__FIELDS / the mapping file) does not exist or is not "
                    "visible to the API user; fix the mapping or grant Read on the field"
                )
                continue
            del self.model_fields[canonical]
            self._unmapped[canonical] = f"no field {name}"
        own = [
            (obj, name)
            for name in (
                self.identity["override_tier"],
                self.identity["override_until"],
                *self.tierwise_fields.values(),
                *self.customer_fields.values(),
            )
        ]
        own.append((self.task_object, self.task_key_field))
        described = {obj: account, self.task_object: task}
        absent = [(o, n) for o, n in own if n not in described[o]]
        existing = self._existing_custom_fields([n for _, n in absent]) if absent else set()
        setting = self.settings.permission_set or "the integration permission set"
        for object_name, name in own:
            field = described[object_name].get(name)
            if field is None and existing is not None and name not in existing:
                problems.append(
                    f"Salesforce {object_name} field {name} does not exist; "
                    "run 'tierwise provision' to create it"
                )
            elif field is None:
                where = "exists but" if existing is not None else "does not exist or"
                problems.append(
                    f"Salesforce {object_name} field {name} {where} is not visible to the API "
                    f"user (field-level security); run 'tierwise provision' (grants Read/Edit "
                    f"in permission set {setting} and assigns it to this user) or assign that "
                    "permission set to the integration user"
                )
            elif not field.get("updateable", False):
                problems.append(
                    f"Salesforce {object_name} field {name} is visible but not editable by the "
                    f"API user; grant Edit on it in permission set {setting} (or run "
                    "'tierwise provision')"
                )
        key = task.get(self.task_key_field)
        if key is not None and not key.get("externalId", False):
            problems.append(
                f"Salesforce {self.task_object} field {self.task_key_field} is not an External "
                "ID; mark it External ID and Unique (or run 'tierwise provision' on a fresh org)"
            )
        if problems:
            raise SchemaError("; ".join(problems), system=SYSTEM, object_name=obj)
        if self._unmapped:
            log.info("salesforce_unmapped_inputs", inputs=dict(self._unmapped))

    def _existing_custom_fields(self, names: Sequence[str]) -> set[str] | None:
        """Custom field API names that exist in the org, whatever this user may see (Tooling
        ``CustomField``, CRM-API-NOTES §1.16); None when Tooling is not available to us."""
        developer = sorted({n.removesuffix("__c") for n in names if n.endswith("__c")})
        if not developer:
            return set()
        soql = format_soql(
            "SELECT DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName IN {}",
            developer,
        )
        try:
            result: dict[str, Any] = self._call(
                "tooling/query",
                lambda sf: sf.toolingexecute("query/", params={"q": soql}),
                operation="custom field lookup",
                object_name="CustomField",
                read=True,
            )
        except FatalCrmError:
            return None
        return {f"{r['DeveloperName']}__c" for r in result.get("records") or []}

    # ------------------------------------------------------------------ pull
    def _select_fields(self) -> list[str]:
        names: list[str] = []
        for name in (
            *(self.identity[k] for k in ("id", "name", "website", "owner", "modified")),
            *(self.identity[k] for k in ("override_tier", "override_until")),
            *self.tierwise_fields.values(),
            *self.customer_fields.values(),
            *(name for name, _ in self.model_fields.values()),
        ):
            if name not in names:
                names.append(name)
        return names

    def account_soql(self, since: datetime | None) -> str:
        """The pull query: identifiers checked at start-up, the watermark via format_soql.
        Derived inputs add the open-Opportunity subquery (no extra call)."""
        select = ", ".join(self._select_fields())
        if self.derived:
            select += ", " + OPEN_OPPORTUNITIES
        modstamp = self.identity["modified"]
        soql = f"SELECT {select} FROM {self.account_object}"  # noqa: S608 - identifiers checked at start-up
        if since is not None:
            # format_soql reads a naive datetime as local time: watermarks are UTC.
            aware = since if since.tzinfo else since.replace(tzinfo=UTC)
            soql += format_soql(f" WHERE {modstamp} >= {{}}", aware)
        return soql + f" ORDER BY {modstamp}, Id"

    def pull_accounts(self, since: datetime | None) -> Iterator[CrmAccount]:
        soql = self.account_soql(since)
        count = 0
        pending: list[CrmAccount] = []
        aggregate = self._activity_days() is not None
        for record in self._query_pages(soql, label="query", object_name=self.account_object):
            count += 1
            account = self._parse_account(record)
            if self.derived:
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

    def opportunity_soql(self, since: datetime | None) -> str:
        """Opportunities, on the same watermark rule as accounts (``SystemModstamp >=``)."""
        soql = f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity"  # noqa: S608 - constant field list
        if since is not None:
            aware = since if since.tzinfo else since.replace(tzinfo=UTC)
            soql += format_soql(" WHERE SystemModstamp >= {}", aware)
        return soql + " ORDER BY SystemModstamp, Id"

    def pull_opportunities(self, since: datetime | None) -> Iterator[CrmOpportunity]:
        count = 0
        soql = self.opportunity_soql(since)
        for record in self._query_pages(soql, label="query", object_name="Opportunity"):
            count += 1
            yield _parse_opportunity(record)
        log.debug("salesforce_opportunities_done", records=count, incremental=since is not None)

    def _with_open_opportunities(self, account: CrmAccount, child: Any) -> CrmAccount:
        """open_pipeline (sum of Amount) and open_deals (count) from the subquery result,
        following the child result's own nextRecordsUrl when it pages (an account with very
        many open Opportunities; SOQL guide "Understanding Query Results")."""
        amounts: list[float] = []
        while isinstance(child, dict):
            for row in child.get("records") or []:
                amount = row.get("Amount")
                amounts.append(float(amount) if isinstance(amount, int | float) else 0.0)
            if child.get("done", True) or not child.get("nextRecordsUrl"):
                break
            url = str(child["nextRecordsUrl"])
            child = self._call(
                "query",
                lambda sf, u=url: sf.query_more(u, identifier_is_url=True),  # type: ignore[misc]
                operation="query",
                object_name="Opportunity",
                read=True,
            )
        values: dict[str, FieldValue] = {}
        if "open_pipeline" in self.derived:
            values["open_pipeline"] = float(sum(amounts))
        if "open_deals" in self.derived:
            values["open_deals"] = float(len(amounts))
        return replace(account, fields={**account.fields, **values})

    def _activity_days(self) -> int | None:
        """Days of the activity aggregate, when configured and the model uses the field."""
        days = self.settings.activity_aggregate_days
        if days is None or days <= 0 or ACTIVITY_FIELD not in self.wanted_fields:
            return None
        return days

    def _with_activity(self, accounts: list[CrmAccount]) -> list[CrmAccount]:
        """Tasks + Events of the last N days per account: two aggregate queries per 200
        accounts (``COUNT(Id) ... GROUP BY AccountId``), filled into ``activity_count``.
        AccountId, not WhatId: it also covers activities logged on the account's contacts
        and opportunities (Task object reference, CRM-API-NOTES §1.12)."""
        days = self._activity_days()
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
            for row in self._query_pages(soql, label="query", object_name=activity_object):
                account_id = str(row.get("AccountId"))
                if account_id in counts:
                    counts[account_id] += float(row.get("n") or row.get("expr0") or 0)
        return [replace(a, fields={**a.fields, ACTIVITY_FIELD: counts[a.crm_id]}) for a in accounts]

    def _parse_account(self, record: Mapping[str, Any]) -> CrmAccount:
        reader = RecordReader(record)
        fields = reader.canonical(self.model_fields, self.value_maps)
        invalid = reader.invalid
        opt_str, opt_float, opt_date = reader.text, reader.number, reader.day

        tw = self.tierwise_fields
        written = TierwiseValues(
            tier=opt_str(tw["tier"]),
            score=opt_float(tw["score"], "tierwise.score"),
            reason=opt_str(tw["reason"]),
            play=opt_str(tw["play"]),
            sla_due=opt_date(tw["sla_due"], "tierwise.sla_due"),
            tier_changed=opt_date(tw["tier_changed"], "tierwise.tier_changed"),
        )
        cf = self.customer_fields
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
        ident = self.identity
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

    # ------------------------------------------------------------------ writes
    def _account_record(self, update: AccountUpdate) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": self.account_object}, "id": update.crm_id}
        for logical, value in update.values.items():
            name = self.tierwise_fields.get(logical) or self.customer_fields.get(logical)
            if name is None:
                raise ConfigurationError(
                    f"Salesforce: tierwise does not write a field called {logical!r}",
                    system=SYSTEM,
                    object_name=self.account_object,
                    record_id=update.crm_id,
                )
            converted = _soql_value(value)
            if isinstance(converted, str):
                # A reason longer than the field would fail the record (STRING_TOO_LONG).
                length = self._field_length(name)
                if length and len(converted) > length:
                    converted = converted[: length - 1] + "…"
            record[name] = converted
        return record

    def _field_length(self, name: str) -> int | None:
        described = self._describes.get(self.account_object, {}).get(name, {})
        length = described.get("length") or DEFAULT_TEXT_LENGTHS.get(name)
        return int(length) if length else None

    def _collection(
        self,
        records: list[dict[str, Any]],
        *,
        label: str,
        path: str,
        object_name: str,
        operation: str,
    ) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        result = self._call(
            label,
            lambda sf: sf.restful(path, method="PATCH", json=body),
            operation=operation,
            object_name=object_name,
        )
        return list(result or [])

    def _write_records(
        self,
        records: Sequence[dict[str, Any]],
        ids: Sequence[str],
        *,
        label: str,
        path: str,
        object_name: str,
        operation: str,
        on_success: Callable[[str, dict[str, Any]], None],
    ) -> list[RecordFailure]:
        """Collections calls of at most 200; transient per-record failures retried for just
        those records (bounded rounds, jittered waits); the rest reported."""
        failures: list[RecordFailure] = []
        for start in range(0, len(records), COLLECTION_MAX):
            pending = list(
                zip(
                    ids[start : start + COLLECTION_MAX],
                    records[start : start + COLLECTION_MAX],
                    strict=True,
                )
            )
            for round_no in range(1, MAX_RECORD_RETRY_ROUNDS + 2):
                self._check_quota()
                results = self._collection(
                    [rec for _, rec in pending],
                    label=label,
                    path=path,
                    object_name=object_name,
                    operation=operation,
                )
                retry_next: list[tuple[str, dict[str, Any]]] = []
                for (crm_id, rec), result in zip(pending, results, strict=False):
                    if result.get("success"):
                        on_success(crm_id, result)
                        continue
                    errs = result.get("errors") or [{}]
                    code = str(errs[0].get("statusCode") or errs[0].get("errorCode") or "ERROR")
                    reason = f"{code}: {errs[0].get('message', '')}".strip()
                    transient = code in sf_errors.TRANSIENT_RECORD_CODES
                    if transient and round_no <= MAX_RECORD_RETRY_ROUNDS:
                        retry_next.append((crm_id, rec))
                    else:
                        failures.append(RecordFailure(crm_id, reason, transient=transient))
                if len(results) < len(pending):
                    failures.extend(
                        RecordFailure(crm_id, "no result returned for this record", True)
                        for crm_id, _ in pending[len(results) :]
                    )
                log.debug(
                    "salesforce_batch",
                    operation=operation,
                    records=len(pending),
                    retrying=len(retry_next),
                    round=round_no,
                )
                if not retry_next:
                    break
                self._policy.sleep(self._policy.backoff(round_no))
                pending = retry_next
        for failure in failures:
            log.warning(
                "salesforce_record_failed",
                operation=operation,
                record_id=failure.crm_id,
                reason=failure.reason,
            )
        return failures

    def write_chunk_size(self, total: int) -> int:
        return total if total > self.settings.bulk_threshold else WRITE_CHUNK

    def write_accounts(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        changed = [u for u in updates if u.values]
        outcome = WriteOutcome()
        if not changed:
            return outcome
        if len(changed) > self.settings.bulk_threshold:
            return self._bulk_update(changed)
        records = [self._account_record(u) for u in changed]
        outcome.failed = self._write_records(
            records,
            [u.crm_id for u in changed],
            label="composite/sobjects PATCH",
            path="composite/sobjects",
            object_name=self.account_object,
            operation="update",
            on_success=lambda crm_id, _r: outcome.written.append(crm_id),
        )
        return outcome

    def _bulk_update(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        """Bulk API 2.0 update job (create, upload, close, poll, failed results)."""
        self._check_quota(calls=5)
        rows: list[dict[str, str]] = []
        for update in updates:
            record = self._account_record(update)
            row = {"Id": update.crm_id}
            for key, value in record.items():
                if key in ("attributes", "id"):
                    continue
                row[key] = "#N/A" if value is None else str(value)
            rows.append(row)
        obj = self.account_object

        def run(sf: Salesforce) -> tuple[list[dict[str, int]], str]:
            jobs = getattr(sf.bulk2, obj).update(records=rows, wait=self._bulk_wait)
            # Failed results are fetched only for jobs that report failures.
            failed_csv = "".join(
                getattr(sf.bulk2, obj).get_failed_records(job["job_id"])
                for job in jobs
                if int(job.get("numberRecordsFailed") or 0) > 0
            )
            return jobs, failed_csv

        _jobs, failed_csv = self._call(
            "bulk2 ingest", run, operation="bulk update", object_name=obj
        )
        failed: dict[str, RecordFailure] = {}
        for row in csv.DictReader(io.StringIO(failed_csv)):
            if row.get("sf__Id") == "sf__Id":
                continue
            crm_id = row.get("sf__Id") or row.get("Id") or ""
            if crm_id:
                failed[crm_id] = RecordFailure(crm_id, row.get("sf__Error") or "failed")
        outcome = WriteOutcome(
            written=[u.crm_id for u in updates if u.crm_id not in failed],
            failed=list(failed.values()),
        )
        log.debug("salesforce_bulk_update", records=len(updates), failed=len(failed))
        return outcome

    # ------------------------------------------------------------------ tasks
    def _existing_task_keys(self, keys: Sequence[str], *, open_only: bool) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        key = self.task_key_field
        for start in range(0, len(keys), IN_CLAUSE_CHUNK):
            chunk = list(keys[start : start + IN_CLAUSE_CHUNK])
            where = "IsClosed = false AND " if open_only else ""
            soql = format_soql(
                f"SELECT Id, {key}, WhatId, ActivityDate FROM {self.task_object} "  # noqa: S608 - identifiers checked
                f"WHERE {where}{key} IN {{}}",
                chunk,
            )
            found.extend(self._query_pages(soql, label="query", object_name=self.task_object))
        return found

    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        """Exactly once: tasks whose key already exists are left alone (a rep may have
        completed them); the rest are upserted by the external id, which is idempotent, so a
        retry after a dropped answer updates instead of duplicating."""
        outcome = TaskOutcome()
        if not tasks:
            return outcome
        unique: dict[str, TaskRequest] = {}
        for task in tasks:
            unique.setdefault(task.key, task)
        key = self.task_key_field
        uncertain = [k for k, t in unique.items() if t.verify_existing]
        if self._precheck_tasks and uncertain:
            for row in self._existing_task_keys(uncertain, open_only=False):
                outcome.existing[str(row[key])] = str(row["Id"])
        missing = [t for k, t in unique.items() if k not in outcome.existing]
        records = [self._task_record(t) for t in missing]

        def on_success(task_key: str, result: dict[str, Any]) -> None:
            target = outcome.created if result.get("created", True) else outcome.existing
            target[task_key] = str(result.get("id"))

        failures = self._write_records(
            records,
            [t.key for t in missing],
            label=f"composite/sobjects/{self.task_object}/{key} PATCH",
            path=f"composite/sobjects/{self.task_object}/{key}",
            object_name=self.task_object,
            operation="task upsert",
            on_success=on_success,
        )
        # RecordFailure.crm_id carries the task key here: no CRM id exists yet.
        outcome.failed = [replace(f, reason=f"task {f.crm_id}: {f.reason}") for f in failures]
        return outcome

    def _open_status(self) -> str:
        """The org's default open status: the Status picklist default from the Task
        describe ``validate_schema`` already read (TaskStatus.IsDefault is "the default
        picklist value"), else from TaskStatus - no extra call on a normal run."""
        if self._task_status is None:
            status = self._describes.get(self.task_object, {}).get("Status") or {}
            for value in status.get("picklistValues") or []:
                if value.get("defaultValue") and value.get("active", True):
                    return str(value["value"])
        return self._task_statuses()[0]

    def _task_statuses(self) -> tuple[str, str]:
        """(open status for creates, closed status for closes) as this org defines them:
        ``TaskStatus`` rows are org-specific (CRM-API-NOTES §1.12); one query per process."""
        if self._task_status is None:
            rows = list(
                self._query_pages(
                    "SELECT ApiName, IsClosed, IsDefault FROM TaskStatus ORDER BY SortOrder",
                    label="query",
                    object_name="TaskStatus",
                )
            )
            open_rows = [r for r in rows if not r.get("IsClosed")]
            closed_rows = [r for r in rows if r.get("IsClosed")]
            if not open_rows or not closed_rows:
                raise ConfigurationError(
                    "Salesforce TaskStatus has no open or no closed status; tierwise needs one "
                    "of each to create and close tasks",
                    system=SYSTEM,
                    object_name="TaskStatus",
                )
            default = next((r for r in open_rows if r.get("IsDefault")), open_rows[0])
            self._task_status = (str(default["ApiName"]), str(closed_rows[0]["ApiName"]))
        return self._task_status

    def _task_record(self, task: TaskRequest) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {"type": self.task_object},
            self.task_key_field: task.key,
            "Subject": task.subject[:255],
            "ActivityDate": task.due.isoformat(),
            "WhatId": task.crm_account_id,
            "Status": self._open_status(),
            "Priority": TASK_PRIORITIES.get(task.priority, "Normal"),
            "Description": task.body,
        }
        if task.owner_id:
            record["OwnerId"] = task.owner_id
        return record

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        rows = self._existing_task_keys(list(dict.fromkeys(keys)), open_only=True)
        result: list[OpenTask] = []
        for row in rows:
            due_raw = row.get("ActivityDate")
            try:
                due = parse_date(due_raw) if due_raw else None
            except UnparseableError:
                due = None
            result.append(
                OpenTask(
                    key=str(row[self.task_key_field]),
                    task_id=str(row["Id"]),
                    crm_account_id=str(row.get("WhatId") or ""),
                    due=due,
                )
            )
        return result

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        """Close superseded tasks with the org's closed status. The note is APPENDED to the
        description, so what a rep wrote there stays (one read per 200 tasks)."""
        outcome = WriteOutcome()
        ids = list(dict.fromkeys(task_ids))
        if not ids:
            return outcome
        closed = self._task_statuses()[1]
        current: dict[str, str] = {}
        for start in range(0, len(ids), IN_CLAUSE_CHUNK):
            soql = format_soql(
                f"SELECT Id, Description FROM {self.task_object} WHERE Id IN {{}}",  # noqa: S608 - identifier checked
                ids[start : start + IN_CLAUSE_CHUNK],
            )
            for row in self._query_pages(soql, label="query", object_name=self.task_object):
                current[str(row["Id"])] = str(row.get("Description") or "")
        line = f"Closed by tierwise: superseded ({reason})"
        records = []
        for task_id in ids:
            before = current.get(task_id, "")
            text = f"{before.rstrip()}\n\n{line}" if before.strip() else line
            records.append(
                {
                    "attributes": {"type": self.task_object},
                    "id": task_id,
                    "Status": closed,
                    "Description": text[-DESCRIPTION_MAX:],
                }
            )
        outcome.failed = self._write_records(
            records,
            ids,
            label="composite/sobjects PATCH",
            path="composite/sobjects",
            object_name=self.task_object,
            operation="task close",
            on_success=lambda task_id, _r: outcome.written.append(task_id),
        )
        return outcome

    # ------------------------------------------------------------------ provision
    def _custom_field_specs(
        self, tier_values: Mapping[str, str]
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(object, field, Metadata) for everything tierwise creates."""
        tier_picklist = {
            "restricted": True,
            "valueSetDefinition": {
                "sorted": False,
                "value": [
                    {"fullName": tier_id, "label": label, "default": False}
                    for tier_id, label in tier_values.items()
                ],
            },
        }
        tw = self.tierwise_fields
        acc = self.account_object
        specs: list[tuple[str, str, dict[str, Any]]] = [
            (
                acc,
                tw["tier"],
                {"label": "Tierwise Tier", "type": "Picklist", "valueSet": tier_picklist},
            ),
            (
                acc,
                tw["score"],
                {"label": "Tierwise Score", "type": "Number", "precision": 5, "scale": 1},
            ),
            (acc, tw["reason"], {"label": "Tierwise Reason", "type": "Text", "length": 255}),
            (acc, tw["play"], {"label": "Tierwise Play", "type": "Text", "length": 80}),
            (acc, tw["sla_due"], {"label": "Tierwise SLA Due", "type": "Date"}),
            (acc, tw["tier_changed"], {"label": "Tierwise Tier Changed", "type": "Date"}),
            (
                acc,
                self.identity["override_tier"],
                {"label": "Tierwise Tier Override", "type": "Picklist", "valueSet": tier_picklist},
            ),
            (
                acc,
                self.identity["override_until"],
                {"label": "Tierwise Override Until", "type": "Date"},
            ),
            (
                self.task_object,
                self.task_key_field,
                {
                    "label": "Tierwise Key",
                    "type": "Text",
                    "length": 80,
                    "externalId": True,
                    "unique": True,
                    "caseSensitive": True,
                },
            ),
        ]
        if self.customer_tier_values is not None:
            cf = self.customer_fields
            customer_picklist = {
                "restricted": True,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [
                        {"fullName": tier_id, "label": label, "default": False}
                        for tier_id, label in self.customer_tier_values.items()
                    ],
                },
            }
            specs += [
                (
                    acc,
                    cf["customer_tier"],
                    {
                        "label": "Tierwise Customer Tier",
                        "type": "Picklist",
                        "valueSet": customer_picklist,
                    },
                ),
                (
                    acc,
                    cf["customer_score"],
                    {
                        "label": "Tierwise Customer Score",
                        "type": "Number",
                        "precision": 5,
                        "scale": 1,
                    },
                ),
                (
                    acc,
                    cf["customer_reason"],
                    {"label": "Tierwise Customer Reason", "type": "Text", "length": 255},
                ),
                (
                    acc,
                    cf["customer_play"],
                    {"label": "Tierwise Customer Play", "type": "Text", "length": 80},
                ),
                (
                    acc,
                    cf["customer_tier_changed"],
                    {"label": "Tierwise Customer Tier Changed", "type": "Date"},
                ),
            ]
        return specs

    def _grant_targets(self, object_name: str, name: str) -> list[tuple[str, str]]:
        """(object, field) pairs FLS is granted on: an Activity field per object."""
        if object_name in ACTIVITY_OBJECTS:
            return [(o, name) for o in ACTIVITY_OBJECTS]
        return [(object_name, name)]

    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        """Create the missing custom fields (Tooling API; the task key on ``Activity``),
        then make them usable by this user: find or create the permission set, grant it
        Read+Edit on every field, ASSIGN it to the running user, and verify by describe.

        A new field is invisible to everyone until FLS is granted in a permission set that
        is assigned to the user (CRM-API-NOTES §1.16). Idempotent: every step queries first;
        a field that exists but is still hidden answers DUPLICATE_DEVELOPER_NAME and counts
        as existing.
        """
        steps: list[ProvisionStep] = []
        describes = {
            obj: self._describe(obj, fresh=True) for obj in (self.account_object, self.task_object)
        }
        specs = self._custom_field_specs(tier_values)
        for object_name, name, metadata in specs:
            kind = "task_field" if object_name == self.task_object else "field"
            exists = name in describes[object_name]
            if not exists and not dry_run:
                exists = not self._create_field(object_name, name, metadata)
            steps.append(ProvisionStep(kind, object_name, name, exists))
        grants = [t for o, n, _ in specs for t in self._grant_targets(o, n)]
        if self.settings.permission_set:
            steps += self._grant_field_permissions(self.settings.permission_set, grants, dry_run)
        self._describes.clear()
        if not dry_run and self.settings.permission_set:
            self._verify_visible([(o, n) for o, n, _ in specs])
        return steps

    def _verify_visible(self, fields: Sequence[tuple[str, str]]) -> None:
        hidden = []
        for object_name, name in fields:
            described = self._describe(object_name, fresh=True).get(name)
            if described is None or not described.get("updateable"):
                hidden.append(f"{object_name}.{name}")
        if hidden:
            raise SchemaError(
                "Salesforce: after provisioning these fields are still not visible or not "
                f"editable to the API user: {', '.join(hidden)}; check that permission set "
                f"{self.settings.permission_set} is assigned to this user and grants Read/Edit",
                system=SYSTEM,
                object_name=self.account_object,
            )

    def _create_field(self, object_name: str, name: str, metadata: dict[str, Any]) -> bool:
        """Create one field; False when it turned out to exist already."""
        # Task/Event custom fields can only be created on Activity (CRM-API-NOTES §1.15).
        table = "Activity" if object_name in ACTIVITY_OBJECTS else object_name
        payload = {"FullName": f"{table}.{name}", "Metadata": metadata}
        try:
            result = self._policy.call_unless_done(
                lambda: self._call(
                    "tooling/sobjects/CustomField POST",
                    lambda sf: sf.toolingexecute(
                        "sobjects/CustomField", method="POST", data=payload
                    ),
                    operation="create field",
                    object_name=object_name,
                    retry=False,
                ),
                # Tooling, not describe: a new field is hidden from describe until FLS.
                lambda: name in (self._existing_custom_fields([name]) or set()),
            )
        except FatalCrmError as exc:
            if "DUPLICATE_DEVELOPER_NAME" in str(exc):
                return False
            raise
        log.info(
            "salesforce_field_created", object=object_name, field=name, created=result is not None
        )
        return True

    def _grant_field_permissions(
        self, permission_set: str, fields: Sequence[tuple[str, str]], dry_run: bool
    ) -> list[ProvisionStep]:
        check_identifier(
            permission_set, system=SYSTEM, setting="TIERWISE_SALESFORCE__PERMISSION_SET"
        )
        rows = list(
            self._query_pages(
                format_soql("SELECT Id FROM PermissionSet WHERE Name = {}", permission_set),
                label="query",
                object_name="PermissionSet",
            )
        )
        steps: list[ProvisionStep] = [
            ProvisionStep("permission_set", "PermissionSet", permission_set, bool(rows))
        ]
        if not rows:
            if dry_run:
                return steps + [
                    ProvisionStep("field_permission", o, n, False) for o, n in fields
                ] + [ProvisionStep("permission_set_assignment", "User", permission_set, False)]
            rows = [{"Id": self._create_permission_set(permission_set)}]
        parent = str(rows[0]["Id"])
        names = [f"{obj}.{name}" for obj, name in fields]

        def granted() -> dict[str, dict[str, Any]]:
            soql = format_soql(
                "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
                "WHERE ParentId = {} AND Field IN {}",
                parent,
                names,
            )
            found = self._query_pages(soql, label="query", object_name="FieldPermissions")
            return {str(r["Field"]): r for r in found}

        current = granted()
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for (obj, name), full in zip(fields, names, strict=True):
            row = current.get(full)
            done = bool(row and row.get("PermissionsRead") and row.get("PermissionsEdit"))
            steps.append(ProvisionStep("field_permission", obj, name, done))
            if done or dry_run:
                continue
            grant = {"PermissionsRead": True, "PermissionsEdit": True}
            if row:
                updates.append(
                    {"attributes": {"type": "FieldPermissions"}, "id": row["Id"], **grant}
                )
            else:
                creates.append(
                    {
                        "attributes": {"type": "FieldPermissions"},
                        "ParentId": parent,
                        "SobjectType": obj,
                        "Field": full,
                        **grant,
                    }
                )
        if creates:
            body = {"allOrNone": False, "records": creates}
            results = self._policy.call_unless_done(
                lambda: self._call(
                    "composite/sobjects POST",
                    lambda sf: sf.restful("composite/sobjects", method="POST", json=body),
                    operation="grant field permissions",
                    object_name="FieldPermissions",
                    retry=False,
                ),
                lambda: all(r["Field"] in granted() for r in creates),
            )
            failed = [
                f"{rec['Field']}: {(res.get('errors') or [{}])[0].get('message', '')}"
                for rec, res in zip(creates, results or [], strict=False)
                if not res.get("success")
            ]
            if failed:
                raise FatalCrmError(
                    "Salesforce refused field permissions: " + "; ".join(failed),
                    system=SYSTEM,
                    object_name="FieldPermissions",
                )
        if updates:
            self._write_records(
                updates,
                [str(u["id"]) for u in updates],
                label="composite/sobjects PATCH",
                path="composite/sobjects",
                object_name="FieldPermissions",
                operation="grant field permissions",
                on_success=lambda _id, _r: None,
            )
        steps.append(self._assign_permission_set(parent, permission_set, dry_run))
        return steps

    def _create_permission_set(self, permission_set: str) -> str:
        body = {"Name": permission_set, "Label": permission_set.replace("_", " ")}
        result: Any = self._call(
            "sobjects/PermissionSet POST",
            lambda sf: sf.restful("sobjects/PermissionSet/", method="POST", json=body),
            operation="create permission set",
            object_name="PermissionSet",
            retry=False,
        )
        log.info("salesforce_permission_set_created", name=permission_set)
        return str(result["id"])

    def running_user_id(self) -> str:
        """The API user's id from ``/services/oauth2/userinfo`` (CRM-API-NOTES §1.16)."""

        def userinfo(sf: Salesforce) -> dict[str, Any]:
            response = sf.session.get(
                f"https://{sf.sf_instance}/services/oauth2/userinfo", headers=sf.headers
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        info = self._call("oauth2/userinfo", userinfo, operation="userinfo", read=True)
        return str(info["user_id"])

    def _assign_permission_set(
        self, parent: str, permission_set: str, dry_run: bool
    ) -> ProvisionStep:
        """FieldPermissions apply only to users the set is ASSIGNED to (§1.16)."""
        user_id = self.running_user_id()
        soql = format_soql(
            "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = {} AND PermissionSetId = {}",
            user_id,
            parent,
        )
        found = list(
            self._query_pages(soql, label="query", object_name="PermissionSetAssignment")
        )
        if not found and not dry_run:
            body = {"AssigneeId": user_id, "PermissionSetId": parent}
            self._call(
                "sobjects/PermissionSetAssignment POST",
                lambda sf: sf.restful(
                    "sobjects/PermissionSetAssignment/", method="POST", json=body
                ),
                operation="assign permission set",
                object_name="PermissionSetAssignment",
                retry=False,
            )
            log.info("salesforce_permission_set_assigned", name=permission_set, user=user_id)
        return ProvisionStep("permission_set_assignment", "User", permission_set, bool(found))

    def unmapped_inputs(self) -> dict[str, str]:
        """Model inputs this org cannot supply (complete after ``validate_schema``)."""
        return dict(self._unmapped)

    def usage(self) -> ApiUsage:
        return ApiUsage(
            calls=dict(self._usage.calls),
            daily_used=self._usage.daily_used,
            daily_max=self._usage.daily_max,
        )


def _parse_opportunity(record: Mapping[str, Any]) -> CrmOpportunity:
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
