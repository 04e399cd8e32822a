"""HubSpot connector over hubspot-api-client 12.0.0 (CRM v3, date-based associations, Lists v3).

The client is built once with urllib3 retries switched off (tenacity in
``connectors.retry`` is the only retry layer) and its API objects are cached: every
attribute access on the client builds a new ApiClient and connection pool. Each call
passes ``_request_timeout=(connect, read)``, waits for the client-side limiter
(``requests_per_10s`` per rolling 10 s, search at ``search_per_second``), is counted per
endpoint label and classified in ``hubspot.errors``.

Incremental pull rule (keyset on every page, ``_search_rows``): search
``hs_lastmodifieddate GTE last value seen`` sorted ascending, 200 a page, never an
``after`` offset (a row modified mid-pull would shift it and another row be skipped);
rows already yielded at the boundary are skipped by id; a page whose rows all share one
timestamp is drained by a second keyset on ``hs_object_id``.

Defaults read HubSpot's standard properties (``mappings.HUBSPOT_COMPANY_FIELDS``):
``industry`` codes and labels go through ``mappings.HUBSPOT_VALUE_MAPS``, checkbox
enumerations are read by label, ``total_money_raised`` (a string) is parsed leniently.
A default the portal lacks is left out and listed by ``unmapped_inputs``.

Tasks exactly once: the key lives in the task property ``tierwise_key``, unique where the
portal allows it (then read by ``idProperty``). HubSpot does not document unique task
properties, so where it is refused the lookup goes by ids this process created, then the
tasks associated with the task's company (immediate, unlike search), search last. After a
failed or unanswered create the keys are looked up again and only the missing created.

Native ICP (``write_native_icp``): ``hs_ideal_customer_profile`` / ``hs_is_target_account``
are written only while they still hold what tierwise last wrote (``tierwise_native_icp``).

Every path is listed in ``paths``; association reads use the date-based path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import structlog
import urllib3
from hubspot import HubSpot

from config.settings import HubSpotSettings
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
    ConfigurationError,
    CrmError,
    FatalCrmError,
    RetriableError,
    SchemaError,
)
from connectors.hubspot import errors as hs_errors
from connectors.hubspot import paths
from connectors.hubspot import specs as hs_specs
from connectors.hubspot.keyset import keyset_rows
from connectors.hubspot.native_icp import ICP_PROPERTY, TARGET_ACCOUNT_PROPERTY, NativeIcp
from connectors.hubspot.native_icp import MARKER_PROPERTY as NATIVE_MARKER_PROPERTY
from connectors.hubspot.native_icp import PROPERTIES as NATIVE_PROPERTIES
from connectors.hubspot.values import labelled, option_labels, parse_money
from connectors.identifiers import check_identifier, model_field_mapping, resolve_mapping
from connectors.parsing import (
    RecordReader,
    UnparseableError,
    normalise_domain,
    parse_date,
    parse_datetime,
    value_map,
)
from connectors.ratelimit import SlidingWindowLimiter
from connectors.retry import RetryPolicy
from tiering.records import FieldValue

T = TypeVar("T")
SYSTEM = "hubspot"
PAGE_LIMIT = 100
BATCH_MAX = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
MAX_RECORD_RETRY_ROUNDS = 3
# Keys per search on the task key (a search body stays under 3,000 characters).
TASK_SEARCH_KEYS = 50
TASK_TO_COMPANY = 192
COMPANY_OBJECT_TYPE_ID = "0-2"
TASK_PRIORITIES = {"high": "HIGH", "normal": "MEDIUM", "low": "LOW"}
TRANSIENT_CATEGORIES = frozenset(
    {"RATE_LIMITS", "UNABLE_TO_LOCK_ROW", "LOCKED", "TIMEOUT", "SERVICE_UNAVAILABLE"}
)
DEAL_PROPERTIES = (
    "amount", "dealstage", "closedate", "createdate", "hs_is_closed", "hs_is_closed_won",
    "hs_lastmodifieddate",
)
DEAL_CLOSED_STAGES = frozenset({"closedwon", "closedlost"})

# Updates handed over per call between stop checks: 10 Collections or 20 HubSpot batches.
WRITE_CHUNK = 2000

log = structlog.get_logger(__name__)


def _to_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, urllib3.BaseHTTPResponse):
        # A raw answer (``_preload_content=False``): plain JSON, no model objects.
        try:
            decoded = json.loads(obj.data or b"{}")
        finally:
            obj.release_conn()
        return decoded if isinstance(decoded, dict) else {}
    to_dict = getattr(obj, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else {}


def hubspot_value(value: FieldValue) -> str:
    """A canonical value as HubSpot wants it in a property write (always a string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)


class HubSpotConnector:
    """The ``Connector`` for one HubSpot portal (private-app token)."""

    system = SYSTEM

    def __init__(
        self,
        settings: HubSpotSettings,
        model_fields: Mapping[str, str],
        *,
        retry_policy: RetryPolicy | None = None,
        limiter: SlidingWindowLimiter | None = None,
        search_limiter: SlidingWindowLimiter | None = None,
        customer_tiers: Mapping[str, str] | None = None,
    ) -> None:
        # Customer tier id -> label when customer tiers are on: their properties are then
        # validated, pulled, written and provisioned too (never copied to contacts).
        self.customer_tier_values = dict(customer_tiers) if customer_tiers is not None else None
        self.customer_fields: dict[str, str] = (
            dict(mappings.HUBSPOT_CUSTOMER_FIELDS) if customer_tiers is not None else {}
        )
        if settings.access_token is None:
            raise ConfigurationError("HubSpot needs TIERWISE_HUBSPOT__ACCESS_TOKEN", system=SYSTEM)
        self.settings = settings
        self._policy = retry_policy or RetryPolicy()
        field_map = resolve_mapping(
            mappings.HUBSPOT_COMPANY_FIELDS,
            settings.fields,
            system=SYSTEM,
            setting="TIERWISE_HUBSPOT__FIELDS",
        )
        self.model_fields = model_field_mapping(model_fields, field_map, system=SYSTEM)
        # Inputs the operator mapped explicitly: a missing property is then an error;
        # defaults that the portal lacks degrade to "missing" (CONTRACT.md item 5).
        self._explicit = frozenset(settings.fields)
        self._unmapped: dict[str, str] = {
            name: "not mapped" for name in model_fields if name not in self.model_fields
        }
        self.value_maps: dict[str, dict[str, str]] = {
            name: value_map({**mappings.HUBSPOT_VALUE_MAPS.get(name, {}), **table})
            for name, table in {
                **{k: {} for k in mappings.HUBSPOT_VALUE_MAPS},
                **settings.value_maps,
            }.items()
        }
        # Per mapped property, read from its definition in validate_schema: enumeration
        # value -> label (list inputs are matched by label), and string properties read
        # as money (total_money_raised).
        self._labels: dict[str, dict[str, str]] = {}
        self._options: dict[str, dict[str, str]] = {}  # canonical -> {value: label}
        self._money: set[str] = set()
        # Native ICP values held per company, and who owns them (native_icp).
        self._native = NativeIcp()
        self._task_key_unique: bool | None = None  # known after validate_schema or a read
        self.tierwise_fields = resolve_mapping(
            mappings.HUBSPOT_TIERWISE_FIELDS,
            settings.tierwise_fields,
            system=SYSTEM,
            setting="TIERWISE_HUBSPOT__TIERWISE_FIELDS",
        )
        self.identity = dict(mappings.HUBSPOT_IDENTITY_FIELDS)
        self.task_key = check_identifier(
            mappings.HUBSPOT_TASK_KEY_PROPERTY, system=SYSTEM, setting="task key property"
        )
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        self._limiter = limiter or SlidingWindowLimiter(settings.requests_per_10s, 10.0)
        per_second = settings.search_per_second
        search_slots = max(1, round(per_second))
        self._search_limiter = search_limiter or SlidingWindowLimiter(
            search_slots, search_slots / per_second
        )
        # urllib3 retries off: one retry layer only (tenacity).
        self._client = HubSpot(
            access_token=settings.access_token.get_secret_value(),
            host=settings.base_url.rstrip("/"),
            retry=False,
        )
        self._apis: dict[str, Any] = {}
        self._apis_lock = threading.Lock()
        self._usage = ApiUsage()
        self._created_keys: dict[str, str] = {}
        self.icp_options: frozenset[str] = frozenset()
        self._icp_loaded = False
        self._checked_properties: dict[str, dict[str, Any]] | None = None
        self._paged_assoc: set[str] = set()

    def close(self) -> None:
        """Release pooled connections (not part of the Connector protocol)."""
        with self._apis_lock:
            for api in self._apis.values():
                client = getattr(api, "api_client", None)
                pool = getattr(getattr(client, "rest_client", None), "pool_manager", None)
                if pool is not None:
                    pool.clear()
                if client is not None:
                    client.close()
            self._apis.clear()

    def __repr__(self) -> str:
        return f"HubSpotConnector(base_url={self.settings.base_url!r})"

    # ------------------------------------------------------------------ plumbing
    def _api(self, name: str) -> Any:
        """Cached API objects: each client attribute access builds a new connection pool."""
        with self._apis_lock:
            if name not in self._apis:
                crm = self._client.crm
                factories: dict[str, Callable[[], Any]] = {
                    "companies.basic": lambda: crm.companies.basic_api,
                    "companies.batch": lambda: crm.companies.batch_api,
                    "companies.search": lambda: crm.companies.search_api,
                "tasks.search": lambda: crm.objects.tasks.search_api,
                    "deals.basic": lambda: crm.deals.basic_api,
                    "deals.search": lambda: crm.deals.search_api,
                    "contacts.batch": lambda: crm.contacts.batch_api,
                    "tasks.batch": lambda: crm.objects.tasks.batch_api,
                    "associations.batch": lambda: crm.associations.v4.batch_api,
                    "properties.core": lambda: crm.properties.core_api,
                    "properties.groups": lambda: crm.properties.groups_api,
                    "lists": lambda: crm.lists.lists_api,
                }
                self._apis[name] = factories[name]()
            return self._apis[name]

    def _count(self, label: str) -> None:
        self._usage.calls[label] = self._usage.calls.get(label, 0) + 1

    def _attempt(
        self,
        label: str,
        fn: Callable[[tuple[float, float]], T],
        *,
        operation: str,
        object_name: str | None,
        search: bool = False,
    ) -> T:
        self._limiter.acquire()
        if search:
            self._search_limiter.acquire()
        self._count(label)
        before = self._last_responses()
        try:
            result = fn(self._timeout)
        except Exception as exc:
            error = hs_errors.classify(exc, operation=operation, object_name=object_name)
            if error.status == 401:
                raise error from None
            raise error from exc
        finally:
            self._finished(search)
        self._note_daily(before)
        return result

    def _last_responses(self) -> dict[str, int]:
        with self._apis_lock:
            return {
                name: id(getattr(getattr(api, "api_client", None), "last_response", None))
                for name, api in self._apis.items()
            }

    def _note_daily(self, before: Mapping[str, int]) -> None:
        """Daily budget from ``X-HubSpot-RateLimit-Daily[-Remaining]`` of the answer just read
        (private-app calls carry them; search and OAuth calls do not)."""
        with self._apis_lock:
            apis = dict(self._apis)
        for name, api in apis.items():
            response = getattr(getattr(api, "api_client", None), "last_response", None)
            if response is None or before.get(name) == id(response):
                continue
            # A raw urllib3 answer has .headers; the client's RESTResponse only getheaders().
            headers = getattr(response, "headers", None) or response.getheaders()
            daily, remaining = (
                headers.get("X-HubSpot-RateLimit-Daily"),
                headers.get("X-HubSpot-RateLimit-Daily-Remaining"),
            )
            if daily and remaining and daily.isdigit() and remaining.isdigit():
                self._usage.daily_max = int(daily)
                self._usage.daily_used = int(daily) - int(remaining)
            return

    def _finished(self, search: bool) -> None:
        self._limiter.finished()
        if search:
            self._search_limiter.finished()

    def _call(
        self,
        label: str,
        fn: Callable[[tuple[float, float]], T],
        *,
        operation: str,
        object_name: str | None = None,
        search: bool = False,
    ) -> T:
        """One idempotent call: limited, counted, classified, retried when transient."""
        return self._policy.call(
            lambda: self._attempt(
                label, fn, operation=operation, object_name=object_name, search=search
            )
        )

    def _maybe(self, label: str, fn: Callable[[tuple[float, float]], T], **kw: Any) -> T | None:
        """A read where 404 means "not there" (provisioning)."""
        try:
            return self._call(label, fn, **kw)
        except FatalCrmError as exc:
            if exc.status == 404:
                return None
            raise

    # ------------------------------------------------------------------ access & schema
    def check_access(self) -> None:
        # The company properties double as the token probe: validate_schema needs them
        # next, so the run pays for one call instead of two.
        self._checked_properties = self._properties("companies")
        if self.settings.write_native_icp:
            self._load_icp_options()

    def _load_icp_options(self) -> frozenset[str]:
        """The native ICP tier's options (tier_1..tier_3 in portals seen so far), read once."""
        if self._icp_loaded:
            return self.icp_options
        core = self._api("properties.core")
        prop = self._maybe(
            paths.PROPERTY_GET,
            lambda t: core.get_by_name("companies", ICP_PROPERTY, _request_timeout=t),
            operation="read ICP property",
            object_name="companies",
        )
        options = _to_dict(prop).get("options") or []
        self.icp_options = frozenset(str(o.get("value")) for o in options if o.get("value"))
        self._icp_loaded = True
        return self.icp_options

    def _properties(self, object_type: str) -> dict[str, dict[str, Any]]:
        core = self._api("properties.core")
        result = self._call(
            paths.PROPERTIES_ALL,
            lambda t: core.get_all(object_type, _request_timeout=t),
            operation="read properties",
            object_name=object_type,
        )
        return {str(p["name"]): p for p in (_to_dict(r) for r in _to_dict(result)["results"])}

    @staticmethod
    def _read_only(prop: Mapping[str, Any]) -> bool:
        meta = prop.get("modification_metadata") or {}
        return bool(meta.get("read_only_value", False)) or bool(prop.get("calculated", False))

    def validate_schema(self) -> None:
        companies = self._checked_properties or self._properties("companies")
        self._checked_properties = None
        problems: list[str] = []
        for canonical, (name, kind) in list(self.model_fields.items()):
            prop = companies.get(name)
            if prop is None:
                if canonical in self._explicit:
                    problems.append(
                        f"HubSpot company property {name} (model field {canonical!r}, mapped "
                        f"in TIERWISE_HUBSPOT__FIELDS) does not exist; create it or map "
                        f"{canonical!r} to another property"
                    )
                else:
                    # A default the portal lacks: scored as missing, listed, not fatal.
                    del self.model_fields[canonical]
                    self._unmapped[canonical] = f"no property {name}"
                continue
            labels = option_labels(prop)
            if labels:
                self._options[canonical] = labels
            if kind == "list" and labels:
                self._labels[name] = labels
            if kind == "number" and prop.get("type") == "string":
                self._money.add(name)
        written = [*self.tierwise_fields.values(), *self.customer_fields.values()]
        for name in (*written, self.identity["override_tier"], self.identity["override_until"]):
            if name not in companies:
                problems.append(
                    f"HubSpot company property {name} does not exist; "
                    "run 'tierwise provision' to create it"
                )
            elif name in written and self._read_only(companies[name]):
                problems.append(f"HubSpot company property {name} is read-only")
        if self.settings.write_native_icp:
            if NATIVE_MARKER_PROPERTY not in companies:
                problems.append(
                    f"HubSpot company property {NATIVE_MARKER_PROPERTY} does not exist; "
                    "run 'tierwise provision' with TIERWISE_HUBSPOT__WRITE_NATIVE_ICP=true"
                )
            for name in (ICP_PROPERTY, TARGET_ACCOUNT_PROPERTY):
                if name not in companies:
                    problems.append(
                        f"HubSpot company property {name} does not exist in this portal; "
                        "set TIERWISE_HUBSPOT__WRITE_NATIVE_ICP=false"
                    )
        if self.settings.copy_to_contacts:
            contacts = self._properties("contacts")
            for name in written:
                if name not in contacts:
                    problems.append(
                        f"HubSpot contact property {name} does not exist; "
                        "run 'tierwise provision' to create it"
                    )
        tasks = self._properties("tasks")
        if self.task_key not in tasks:
            problems.append(
                f"HubSpot task property {self.task_key} does not exist; "
                "run 'tierwise provision' to create it"
            )
        else:
            # Unique when the portal allowed it (lookups by idProperty); otherwise the
            # lag-tolerant lookup in ensure_tasks/open_tasks (HubSpot does not document
            # unique task properties, CRM-API-NOTES §2.16).
            self._task_key_unique = bool(tasks[self.task_key].get("has_unique_value", False))
        if problems:
            raise SchemaError("; ".join(problems), system=SYSTEM, object_name="companies")

    # ------------------------------------------------------------------ pull
    def _pull_properties(self) -> list[str]:
        names: list[str] = []
        for name in (
            *self.identity.values(),
            *self.tierwise_fields.values(),
            *self.customer_fields.values(),
            *(name for name, _ in self.model_fields.values()),
            *self._native_properties(),
        ):
            if name not in names:
                names.append(name)
        return names

    def _native_properties(self) -> tuple[str, ...]:
        if not self.settings.write_native_icp:
            return ()
        return NATIVE_PROPERTIES

    def pull_accounts(self, since: datetime | None) -> Iterator[CrmAccount]:
        rows = self._full_rows() if since is None else self._search_rows(since)
        count = 0
        for row in rows:
            count += 1
            yield self._parse_company(row)
        log.debug("hubspot_pull_done", accounts=count, incremental=since is not None)

    def _full_rows(self) -> Iterator[dict[str, Any]]:
        api = self._api("companies.basic")
        props = self._pull_properties()
        after: str | None = None
        while True:
            page = _to_dict(
                self._call(
                    paths.COMPANIES_LIST,
                    lambda t, cursor=after: api.get_page(  # type: ignore[misc]
                        limit=PAGE_LIMIT,
                        after=cursor,
                        properties=props,
                        archived=False,
                        _request_timeout=t,
                        # Raw JSON: the client's model layer parses every timestamp with
                        # dateutil and cost more than the HTTP itself (profiled).
                        _preload_content=False,
                    ),
                    operation="list companies",
                    object_name="companies",
                )
            )
            results = page.get("results") or []
            log.debug("hubspot_page", object="companies", records=len(results))
            yield from results
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _search_rows(
        self,
        since: datetime,
        *,
        object_type: str = "companies",
        properties: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows modified at or after ``since``, keyset-paged on every page (``keyset``)."""
        props = list(properties) if properties is not None else self._pull_properties()
        modified = self.identity["modified"]
        if modified not in props:
            props.append(modified)
        yield from keyset_rows(
            lambda filters, sort: self._search_page(object_type, filters, sort, props),
            since,
            modified,
            SEARCH_LIMIT,
        )

    def _search_page(
        self,
        object_type: str,
        filters: list[dict[str, Any]],
        sort: str,
        props: list[str],
    ) -> list[dict[str, Any]]:
        api = self._api(f"{object_type}.search")
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": props,
            "limit": SEARCH_LIMIT,
        }
        page = _to_dict(
            self._call(
                paths.label(paths.OBJECTS_SEARCH, object=object_type),
                lambda t: api.do_search(
                    public_object_search_request=body,
                    _request_timeout=t,
                    _preload_content=False,
                ),
                operation=f"search {object_type}",
                object_name=object_type,
                search=True,
            )
        )
        results: list[dict[str, Any]] = page.get("results") or []
        log.debug("hubspot_search_page", object=object_type, records=len(results))
        return results

    # ------------------------------------------------------------------ outcomes
    def pull_opportunities(self, since: datetime | None) -> Iterator[CrmOpportunity]:
        """Deals with their company: a full pull lists deals 100 a page with
        ``associations=companies``; an incremental one searches ``hs_lastmodifieddate >=
        since`` (same window rule as companies) and reads the companies of each page of
        200 in two v4 batch reads (search results carry no associations)."""
        count = 0
        if since is None:
            for row in self._deal_pages():
                count += 1
                links = ((row.get("associations") or {}).get("companies") or {}).get("results")
                company = str(links[0].get("id")) if links else None
                yield _parse_deal(row, company)
        else:
            page: list[dict[str, Any]] = []
            rows = self._search_rows(since, object_type="deals", properties=DEAL_PROPERTIES)
            for row in rows:
                page.append(row)
                if len(page) >= SEARCH_LIMIT:
                    count += len(page)
                    yield from self._with_deal_companies(page)
                    page = []
            count += len(page)
            yield from self._with_deal_companies(page)
        log.debug("hubspot_deals_done", records=count, incremental=since is not None)

    def _deal_pages(self) -> Iterator[dict[str, Any]]:
        api = self._api("deals.basic")
        after: str | None = None
        while True:
            page = _to_dict(
                self._call(
                    paths.DEALS_LIST,
                    lambda t, cursor=after: api.get_page(  # type: ignore[misc]
                        limit=PAGE_LIMIT,
                        after=cursor,
                        properties=list(DEAL_PROPERTIES),
                        associations=["companies"],
                        archived=False,
                        _request_timeout=t,
                    ),
                    operation="list deals",
                    object_name="deals",
                )
            )
            yield from page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _with_deal_companies(self, rows: Sequence[dict[str, Any]]) -> list[CrmOpportunity]:
        if not rows:
            return []
        companies = self._companies_of("deals", [str(r.get("id")) for r in rows])
        return [_parse_deal(row, companies.get(str(row.get("id")))) for row in rows]

    def _parse_company(self, row: Mapping[str, Any]) -> CrmAccount:
        props: Mapping[str, Any] = row.get("properties") or {}
        if self._labels or self._money:
            adjusted = dict(props)
            for name, labels in self._labels.items():
                adjusted[name] = labelled(props.get(name), labels)
            for name in self._money:
                raw = props.get(name)
                amount = parse_money(raw)
                adjusted[name] = amount if amount is not None else raw
            props = adjusted
        if self.settings.write_native_icp:
            self._native.remember(str(row.get("id")), props)
        reader = RecordReader(props)
        fields = reader.canonical(self.model_fields, self.value_maps)
        invalid = reader.invalid
        opt_str, opt_float, opt_date = reader.text, reader.number, reader.day

        tw = self.tierwise_fields
        ident = self.identity
        modified_raw = (
            opt_str(ident["modified"]) or row.get("updatedAt") or row.get("updated_at")
        )
        try:
            modified = parse_datetime(modified_raw) if modified_raw else None
        except UnparseableError:
            modified = None
        return CrmAccount(
            system=SYSTEM,
            crm_id=str(row.get("id") or props.get(ident["id"])),
            name=opt_str(ident["name"]),
            domain=normalise_domain(opt_str(ident["website"])),
            owner_id=opt_str(ident["owner"]),
            modified_at=modified,
            fields=fields,
            written=TierwiseValues(
                tier=opt_str(tw["tier"]),
                score=opt_float(tw["score"], "tierwise.score"),
                reason=opt_str(tw["reason"]),
                play=opt_str(tw["play"]),
                sla_due=opt_date(tw["sla_due"], "tierwise.sla_due"),
                tier_changed=opt_date(tw["tier_changed"], "tierwise.tier_changed"),
                **self._customer_written(opt_str, opt_float, opt_date),
            ),
            manual_tier=opt_str(ident["override_tier"]),
            manual_tier_until=opt_date(ident["override_until"], "override_until"),
            invalid=invalid,
        )

    def _customer_written(
        self,
        opt_str: Callable[[str], str | None],
        opt_float: Callable[[str, str], float | None],
        opt_date: Callable[[str, str], date | None],
    ) -> dict[str, Any]:
        cf = self.customer_fields
        if not cf:
            return {}
        return {
            "customer_tier": opt_str(cf["customer_tier"]),
            "customer_score": opt_float(cf["customer_score"], "tierwise.customer_score"),
            "customer_reason": opt_str(cf["customer_reason"]),
            "customer_play": opt_str(cf["customer_play"]),
            "customer_tier_changed": opt_date(
                cf["customer_tier_changed"], "tierwise.customer_tier_changed"
            ),
        }

    # ------------------------------------------------------------------ writes
    def _company_properties(self, update: AccountUpdate) -> dict[str, str]:
        properties: dict[str, str] = {}
        for logical, value in update.values.items():
            name = self.tierwise_fields.get(logical) or self.customer_fields.get(logical)
            if name is None:
                raise ConfigurationError(
                    f"HubSpot: tierwise does not write a property called {logical!r}",
                    system=SYSTEM,
                    object_name="companies",
                    record_id=update.crm_id,
                )
            properties[name] = hubspot_value(value)
        if self.settings.write_native_icp and "tier" in update.values:
            self._native.options = self._load_icp_options()
            properties.update(self._native.writes(update.crm_id, update.values["tier"]))
        return properties

    def _load_native(self, ids: Sequence[str]) -> None:
        """Current native ICP values of companies not seen in this run's pull."""
        api = self._api("companies.batch")
        props = list(self._native_properties())
        for start in range(0, len(ids), BATCH_MAX):
            chunk = ids[start : start + BATCH_MAX]
            body = {"properties": props, "inputs": [{"id": i} for i in chunk]}
            result = _to_dict(
                self._call(
                    paths.COMPANIES_BATCH_READ,
                    lambda t, b=body: api.read(b, _request_timeout=t, _preload_content=False),  # type: ignore[misc]
                    operation="read native ICP values",
                    object_name="companies",
                )
            )
            for row in result.get("results") or []:
                self._native.remember(str(row.get("id")), row.get("properties") or {})

    def _batch_update(
        self,
        api_name: str,
        object_name: str,
        inputs: Sequence[dict[str, Any]],
        *,
        label: str,
        operation: str,
    ) -> WriteOutcome:
        """Batch update, 100 inputs a call; 207 errors read per input, transient ones retried
        for those inputs only (bounded, jittered), the rest reported."""
        api = self._api(api_name)
        outcome = WriteOutcome()
        for start in range(0, len(inputs), BATCH_MAX):
            pending = list(inputs[start : start + BATCH_MAX])
            for round_no in range(1, MAX_RECORD_RETRY_ROUNDS + 2):
                try:
                    result = _to_dict(
                        self._call(
                            label,
                            lambda t, body={"inputs": pending}: api.update(  # type: ignore[misc]
                                body, _request_timeout=t, _preload_content=False
                            ),
                            operation=operation,
                            object_name=object_name,
                        )
                    )
                except FatalCrmError as exc:
                    if exc.status != 400:
                        raise
                    # HubSpot rejected the whole batch (validation): report each input.
                    outcome.failed.extend(RecordFailure(str(i["id"]), str(exc)) for i in pending)
                    break
                done = {str(r.get("id")) for r in result.get("results") or []}
                errors = result.get("errors") or []
                retry_ids: set[str] = set()
                reasons: dict[str, tuple[str, bool]] = {}
                for error in errors:
                    category = str(error.get("category") or "ERROR")
                    transient = category in TRANSIENT_CATEGORIES
                    reason = f"{category}: {error.get('message') or ''}".strip()
                    for failed_id in (error.get("context") or {}).get("ids") or []:
                        reasons[str(failed_id)] = (reason, transient)
                retry_next: list[dict[str, Any]] = []
                for item in pending:
                    item_id = str(item["id"])
                    if item_id in done and item_id not in reasons:
                        outcome.written.append(item_id)
                        continue
                    reason, transient = reasons.get(item_id, ("no result returned", True))
                    if transient and round_no <= MAX_RECORD_RETRY_ROUNDS:
                        retry_next.append(item)
                        retry_ids.add(item_id)
                    else:
                        outcome.failed.append(RecordFailure(item_id, reason, transient))
                log.debug(
                    "hubspot_batch",
                    operation=operation,
                    records=len(pending),
                    errors=len(errors),
                    retrying=len(retry_ids),
                    round=round_no,
                )
                if not retry_next:
                    break
                self._policy.sleep(self._policy.backoff(round_no))
                pending = retry_next
        for failure in outcome.failed:
            log.warning(
                "hubspot_record_failed",
                operation=operation,
                record_id=failure.crm_id,
                reason=failure.reason,
            )
        return outcome

    def write_chunk_size(self, total: int) -> int:
        return min(total, WRITE_CHUNK) or WRITE_CHUNK

    def write_accounts(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        changed = [u for u in updates if u.values]
        if not changed:
            return WriteOutcome()
        if self.settings.write_native_icp:
            unseen = [u.crm_id for u in changed
                      if "tier" in u.values and u.crm_id not in self._native.held]
            if unseen:
                self._load_native(unseen)
        kept_before = len(self._native.kept)
        inputs = [{"id": u.crm_id, "properties": self._company_properties(u)} for u in changed]
        if len(self._native.kept) > kept_before:
            log.info("hubspot_native_icp_kept", companies=len(self._native.kept) - kept_before,
                     reason="set by someone other than tierwise")
        outcome = self._batch_update(
            "companies.batch",
            "companies",
            inputs,
            label=paths.COMPANIES_BATCH_UPDATE,
            operation="update companies",
        )
        if self.settings.copy_to_contacts:
            written = set(outcome.written)
            self._copy_to_contacts([i for i in inputs if i["id"] in written])
        return outcome

    def _copy_to_contacts(self, company_inputs: Sequence[dict[str, Any]]) -> None:
        """Copy the written tier properties onto each company's associated contacts."""
        copy_names = set(self.tierwise_fields.values())
        contact_inputs: list[dict[str, Any]] = []
        by_company = {str(i["id"]): i["properties"] for i in company_inputs}
        linked = self._associations("companies", "contacts", list(by_company))
        for company_id, contact_ids in linked.items():
            props = {k: v for k, v in by_company.get(company_id, {}).items() if k in copy_names}
            contact_inputs.extend({"id": cid, "properties": props} for cid in contact_ids)
        if contact_inputs:
            self._batch_update(
                "contacts.batch",
                "contacts",
                contact_inputs,
                label=paths.CONTACTS_BATCH_UPDATE,
                operation="copy tier to contacts",
            )

    # ------------------------------------------------------------------ tasks
    def _read_tasks_by_key(
        self,
        keys: Sequence[str],
        properties: Sequence[str],
        companies: Mapping[str, str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """key -> task row. By batch read on the unique ``tierwise_key`` when the portal
        let it be unique; otherwise by :meth:`_find_tasks`, which never relies on search
        for a task created moments ago. ``companies`` maps key -> company id, when known."""
        if not keys:
            return {}
        if not self._unique_task_key():
            return self._find_tasks(keys, properties, companies or {})
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), BATCH_MAX):
            chunk = list(keys[start : start + BATCH_MAX])
            body = {
                "idProperty": self.task_key,
                "inputs": [{"id": key} for key in chunk],
                "properties": [self.task_key, *properties],
            }
            # Keys that do not exist come back as OBJECT_NOT_FOUND errors: expected here.
            for row in self._read_tasks(body):
                key = (row.get("properties") or {}).get(self.task_key)
                if key:
                    found[str(key)] = row
        return found

    def _unique_task_key(self) -> bool:
        """Whether the task key property has unique values (read once if not known)."""
        if self._task_key_unique is None:
            core = self._api("properties.core")
            prop = self._maybe(
                paths.PROPERTY_GET,
                lambda t: core.get_by_name("tasks", self.task_key, _request_timeout=t),
                operation="read task key property",
                object_name="tasks",
            )
            self._task_key_unique = bool(_to_dict(prop).get("has_unique_value", False))
        return self._task_key_unique

    def _read_tasks(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        api = self._api("tasks.batch")
        result = _to_dict(
            self._call(
                paths.TASKS_BATCH_READ,
                lambda t: api.read(dict(body), _request_timeout=t),
                operation="read tasks",
                object_name="tasks",
            )
        )
        rows: list[dict[str, Any]] = result.get("results") or []
        return rows

    def _tasks_by_id(
        self, task_ids: Sequence[str], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Tasks by record id (batch read: immediate, unlike search)."""
        rows: list[dict[str, Any]] = []
        ids = list(dict.fromkeys(task_ids))
        for start in range(0, len(ids), BATCH_MAX):
            rows += self._read_tasks({
                "inputs": [{"id": i} for i in ids[start : start + BATCH_MAX]],
                "properties": [self.task_key, *properties],
            })
        return rows

    def _find_tasks(
        self, keys: Sequence[str], properties: Sequence[str], companies: Mapping[str, str]
    ) -> dict[str, dict[str, Any]]:
        """Tasks by key on a portal without a unique key property, tolerating search lag.

        1. ids this process created (remembered per key) - batch read by id;
        2. the tasks associated with each task's company (association reads and batch
           reads by id are immediate; tierwise creates its tasks with the association in
           the same call) - their keys compared;
        3. search on the key property, only for what 1-2 cannot settle (no company known,
           or a company with more than one page of associated tasks).
        """
        wanted = set(keys)
        found: dict[str, dict[str, Any]] = {}

        def take(rows: Sequence[dict[str, Any]]) -> None:
            for row in rows:
                key = str((row.get("properties") or {}).get(self.task_key) or "")
                if key in wanted and key not in found:
                    found[key] = row

        known = [self._created_keys[k] for k in keys if k in self._created_keys]
        take(self._tasks_by_id(known, properties))
        left = [k for k in keys if k not in found]
        by_company = {k: companies[k] for k in left if k in companies}
        if by_company:
            self._paged_assoc.clear()
            linked = self._associations("companies", "tasks",
                                        list(dict.fromkeys(by_company.values())))
            task_ids = [tid for cid in by_company.values() for tid in linked.get(cid, [])]
            take(self._tasks_by_id(task_ids, properties))
            settled = {k for k, cid in by_company.items() if cid not in self._paged_assoc}
            left = [k for k in left if k not in found and k not in settled]
        else:
            left = [k for k in left if k not in found]
        if left:
            take(self._search_tasks(left, properties))
        return found

    def _search_tasks(
        self, keys: Sequence[str], properties: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Last resort: search ``tierwise_key IN (...)`` (string IN wants lower case,
        CRM-API-NOTES §2.4). May miss a task created seconds ago (search lag)."""
        props = [self.task_key, *properties]
        rows: list[dict[str, Any]] = []
        for start in range(0, len(keys), TASK_SEARCH_KEYS):
            chunk = [k.lower() for k in keys[start : start + TASK_SEARCH_KEYS]]
            rows += self._search_page(
                "tasks",
                [{"propertyName": self.task_key, "operator": "IN", "values": chunk}],
                "hs_object_id",
                props,
            )
        return rows

    def _task_input(self, task: TaskRequest) -> dict[str, Any]:
        due = datetime.combine(task.due, time(12, 0), tzinfo=UTC)
        properties = {
            self.task_key: task.key,
            "hs_timestamp": due.isoformat().replace("+00:00", "Z"),
            "hs_task_subject": task.subject,
            "hs_task_body": task.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": TASK_PRIORITIES.get(task.priority, "MEDIUM"),
            "hs_task_type": "TODO",
        }
        if task.owner_id:
            properties["hubspot_owner_id"] = task.owner_id
        return {
            "objectWriteTraceId": task.key,
            "properties": properties,
            "associations": [
                {
                    "to": {"id": task.crm_account_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": TASK_TO_COMPANY,
                        }
                    ],
                }
            ],
        }

    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        outcome = TaskOutcome()
        unique: dict[str, TaskRequest] = {}
        for task in tasks:
            unique.setdefault(task.key, task)
        for key in list(unique):
            if key in self._created_keys:
                outcome.existing[key] = self._created_keys[key]
        unknown = [k for k in unique if k not in outcome.existing]
        uncertain = [k for k in unknown if unique[k].verify_existing]
        companies = {k: t.crm_account_id for k, t in unique.items()}
        for key, row in self._read_tasks_by_key(uncertain, (), companies).items():
            outcome.existing[key] = str(row.get("id"))
        missing = [unique[k] for k in unknown if k not in outcome.existing]
        for start in range(0, len(missing), BATCH_MAX):
            self._create_task_batch(missing[start : start + BATCH_MAX], outcome)
        return outcome

    def _create_task_batch(self, batch: Sequence[TaskRequest], outcome: TaskOutcome) -> None:
        """Create one batch; after any failure re-read the keys and create only the missing.

        Each input carries ``objectWriteTraceId`` = its key, so a 207's errors name the input;
        permanent per-input errors are reported, transient or unexplained ones retried."""
        api = self._api("tasks.batch")
        pending = list(batch)
        last_reason = "no result returned"
        for attempt in range(1, self._policy.max_attempts + 1):
            if attempt > 1:
                # The previous attempt may have committed without answering.
                existing = self._read_tasks_by_key(
                    [t.key for t in pending], (), {t.key: t.crm_account_id for t in pending}
                )
                for key, row in existing.items():
                    outcome.created[key] = self._created_keys[key] = str(row.get("id"))
                pending = [t for t in pending if t.key not in existing]
                if not pending:
                    return
            body = {"inputs": [self._task_input(t) for t in pending]}
            try:
                result = _to_dict(
                    self._attempt(
                        paths.TASKS_BATCH_CREATE,
                        lambda t, b=body: api.create(b, _request_timeout=t),  # type: ignore[misc]
                        operation="create tasks",
                        object_name="tasks",
                    )
                )
            except RetriableError as exc:
                last_reason = str(exc)
                if attempt < self._policy.max_attempts:
                    self._policy.sleep(self._policy.backoff(attempt, exc.retry_after))
                continue
            except FatalCrmError as exc:
                if exc.status != 400:
                    raise
                # The whole batch was rejected (validation): report it, keep the run going.
                last_reason = str(exc)
                break
            for row in result.get("results") or []:
                made = (row.get("properties") or {}).get(self.task_key)
                if made:
                    outcome.created[str(made)] = self._created_keys[str(made)] = str(row.get("id"))
            errors = result.get("errors") or []
            reasons: dict[str, tuple[str, bool]] = {}
            for error in errors:
                category = str(error.get("category") or "ERROR")
                reason = f"{category}: {error.get('message') or ''}".strip()
                context = error.get("context") or {}
                for ref in (
                    *(context.get("ids") or ()),
                    *(context.get("objectWriteTraceId") or ()),
                ):
                    reasons[str(ref)] = (reason, category in TRANSIENT_CATEGORIES)
            if errors:
                last_reason = "; ".join(sorted({r for r, _ in reasons.values()})) or str(
                    errors[0].get("message")
                )
            pending = [t for t in pending if t.key not in outcome.created]
            for task in [t for t in pending if t.key in reasons and not reasons[t.key][1]]:
                self._task_failed(outcome, task.key, reasons[task.key][0])
            pending = [t for t in pending if not (t.key in reasons and not reasons[t.key][1])]
            log.debug(
                "hubspot_task_batch", created=len(result.get("results") or []), errors=len(errors)
            )
            if not pending:
                return
            if attempt < self._policy.max_attempts:
                self._policy.sleep(self._policy.backoff(attempt))
        for task in pending:
            self._task_failed(outcome, task.key, last_reason)

    @staticmethod
    def _task_failed(outcome: TaskOutcome, key: str, reason: str) -> None:
        outcome.failed.append(RecordFailure(key, f"task {key}: {reason}"))
        log.warning("hubspot_task_failed", key=key, reason=reason)

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        rows = self._read_tasks_by_key(
            list(dict.fromkeys(keys)), ("hs_task_status", "hs_timestamp")
        )
        open_rows = {
            key: row
            for key, row in rows.items()
            if (row.get("properties") or {}).get("hs_task_status") != "COMPLETED"
        }
        companies = self._task_companies([str(r.get("id")) for r in open_rows.values()])
        result: list[OpenTask] = []
        for key, row in open_rows.items():
            raw_due = (row.get("properties") or {}).get("hs_timestamp")
            try:
                due = parse_date(raw_due) if raw_due else None
            except UnparseableError:
                due = None
            task_id = str(row.get("id"))
            result.append(OpenTask(key, task_id, companies.get(task_id, ""), due))
        return result

    def _task_companies(self, task_ids: Sequence[str]) -> dict[str, str]:
        return self._companies_of("tasks", task_ids)

    def _companies_of(self, object_type: str, ids: Sequence[str]) -> dict[str, str]:
        """object id -> its (first) associated company id."""
        linked = self._associations(object_type, "companies", ids)
        return {oid: targets[0] for oid, targets in linked.items() if targets}

    def _associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """from id -> associated ids, 100 ids a call, on the date-based associations path
        (``paths.ASSOCIATIONS_BATCH_READ``) through the client's own ApiClient: v4 ends
        on 2027-03-30 and the client has no date-based associations API yet."""
        client = self._api("associations.batch").api_client
        path = paths.associations_batch_read(from_type, to_type)
        label = paths.label(paths.ASSOCIATIONS_BATCH_READ, **{"from": from_type, "to": to_type})
        found: dict[str, list[str]] = {}
        for start in range(0, len(ids), BATCH_MAX):
            chunk = list(dict.fromkeys(ids[start : start + BATCH_MAX]))
            body = {"inputs": [{"id": i} for i in chunk]}
            result = _to_dict(
                self._call(
                    label,
                    lambda t, b=body: client.call_api(  # type: ignore[misc]
                        path,
                        "POST",
                        header_params={
                            "Content-Type": "application/json",
                            "Accept": "application/json",
                        },
                        body=b,
                        auth_settings=["oauth2"],
                        response_types_map={},
                        _return_http_data_only=True,
                        _preload_content=False,
                        _request_timeout=t,
                    ),
                    operation=f"read {from_type[:-1]} associations",
                    object_name=from_type,
                )
            )
            for row in result.get("results") or []:
                source = str((row.get("from") or {}).get("id"))
                found.setdefault(source, []).extend(
                    str(target.get("toObjectId")) for target in row.get("to") or []
                )
                if (row.get("paging") or {}).get("next"):
                    # More than one page of associations for this record: callers that
                    # need completeness (task lookup) treat it as "not sure".
                    self._paged_assoc.add(source)
        return found

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        inputs = [
            {"id": task_id, "properties": {"hs_task_status": "COMPLETED"}}
            for task_id in dict.fromkeys(task_ids)
        ]
        log.debug("hubspot_close_tasks", tasks=len(inputs), reason=reason)
        return self._batch_update(
            "tasks.batch",
            "tasks",
            inputs,
            label=paths.TASKS_BATCH_UPDATE,
            operation="close tasks",
        )

    # ------------------------------------------------------------------ provision
    def _property_specs(self, tier_values: Mapping[str, str]) -> list[dict[str, Any]]:
        return hs_specs.company_specs(
            tier_values,
            self.tierwise_fields,
            self.identity,
            self.customer_fields,
            self.customer_tier_values,
            self.settings.write_native_icp,
        )

    def _ensure_group(self, object_type: str, dry_run: bool) -> ProvisionStep:
        groups = self._api("properties.groups")
        name = mappings.HUBSPOT_PROPERTY_GROUP
        found = self._maybe(
            paths.GROUP_GET,
            lambda t: groups.get_by_name(object_type, name, _request_timeout=t),
            operation="read property group",
            object_name=object_type,
        )
        step = ProvisionStep("property_group", object_type, name, found is not None)
        if found is None and not dry_run:
            body = {"name": name, "label": "Tierwise", "displayOrder": -1}
            try:
                self._call(
                    paths.GROUP_CREATE,
                    lambda t: groups.create(object_type, body, _request_timeout=t),
                    operation="create property group",
                    object_name=object_type,
                )
            except FatalCrmError as exc:
                if exc.status != 409:  # 409: created meanwhile
                    raise
        return step

    def _ensure_properties(
        self, object_type: str, specs: Sequence[dict[str, Any]], dry_run: bool
    ) -> list[ProvisionStep]:
        core = self._api("properties.core")
        existing = self._properties(object_type)
        steps: list[ProvisionStep] = []
        for spec in specs:
            name = str(spec["name"])
            kind = "task_field" if object_type == "tasks" else "property"
            steps.append(ProvisionStep(kind, object_type, name, name in existing))
            if name in existing or dry_run:
                continue
            try:
                self._call(
                    paths.PROPERTY_CREATE,
                    lambda t, body=spec: core.create(object_type, body, _request_timeout=t),  # type: ignore[misc]
                    operation="create property",
                    object_name=object_type,
                )
            except FatalCrmError as exc:
                if exc.status != 409:
                    raise
        return steps

    def _ensure_lists(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        lists = self._api("lists")
        tier_property = self.tierwise_fields["tier"]
        steps: list[ProvisionStep] = []
        for tier_id, label in tier_values.items():
            name = f"tierwise: {label}"
            found = self._maybe(
                paths.LIST_BY_NAME,
                lambda t, n=name: lists.get_by_name(  # type: ignore[misc]
                    n, COMPANY_OBJECT_TYPE_ID, _request_timeout=t
                ),
                operation="read list",
                object_name="lists",
            )
            steps.append(ProvisionStep("list", "companies", name, found is not None))
            if found is not None or dry_run:
                continue
            body = hs_specs.tier_list(name, tier_property, tier_id)
            try:
                self._create_list(lists, name, body)
            except CrmError as exc:
                if exc.status not in (400, 403):
                    raise
                # A list limit or a token without crm.lists.write: the tier properties work
                # without lists; report it and go on.
                reason = "missing scope crm.lists.write" if exc.status == 403 else str(exc)
                log.warning("hubspot_list_not_created", list=name, reason=reason)
                steps[-1] = ProvisionStep("list_failed", "companies", f"{name} ({reason})",
                                          False)
        return steps

    def _create_list(self, lists: Any, name: str, body: Mapping[str, Any]) -> None:
        """A list create is not idempotent: before a retry, look the name up again."""
        self._policy.call_unless_done(
            lambda: self._attempt(
                paths.LIST_CREATE,
                lambda t: lists.create(dict(body), _request_timeout=t),
                operation="create list",
                object_name="lists",
            ),
            lambda: (
                self._maybe(
                    paths.LIST_BY_NAME,
                    lambda t: lists.get_by_name(name, COMPANY_OBJECT_TYPE_ID, _request_timeout=t),
                    operation="read list",
                    object_name="lists",
                )
                is not None
            ),
        )

    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        specs = self._property_specs(tier_values)
        steps = [self._ensure_group("companies", dry_run)]
        steps += self._ensure_properties("companies", specs, dry_run)
        if self.settings.copy_to_contacts:
            written = set(self.tierwise_fields.values())
            steps.append(self._ensure_group("contacts", dry_run))
            steps += self._ensure_properties(
                "contacts", [s for s in specs if s["name"] in written], dry_run
            )
        steps.append(self._ensure_group("tasks", dry_run))
        key_spec = hs_specs.task_key_spec(self.task_key, unique=True)
        try:
            steps += self._ensure_properties("tasks", [key_spec], dry_run)
        except CrmError as exc:
            if exc.status != 400:
                raise
            # HubSpot does not document unique task properties (CRM-API-NOTES §2.16); a
            # portal that refuses one gets a plain key property and tierwise's own
            # lag-tolerant lookup (ensure_tasks).
            log.warning("hubspot_unique_task_key_refused", property=self.task_key,
                        reason=str(exc))
            plain = hs_specs.task_key_spec(self.task_key, unique=False)
            steps += self._ensure_properties("tasks", [plain], dry_run)
        if self.settings.create_lists:
            steps += self._ensure_lists(tier_values, dry_run)
        return steps

    def input_values(self) -> dict[str, frozenset[str]]:
        """canonical input -> every value the model can receive from it, for inputs backed
        by an enumeration (known after ``validate_schema``): option values through the
        value maps (codes and labels -> categories), list inputs by label. Lets
        ``validate``/``connect`` warn when a model's category table shares no key with
        what the portal can hold (issue 12)."""
        out: dict[str, frozenset[str]] = {}
        for canonical, labels in self._options.items():
            kind = self.model_fields.get(canonical, ("", ""))[1]
            table = self.value_maps.get(canonical, {})
            if kind == "list":
                values = set(labels.values())
            else:
                values = {
                    table.get(value.lower()) or table.get(label.lower()) or value
                    for value, label in labels.items()
                }
            out[canonical] = frozenset(values)
        return out

    def unmapped_inputs(self) -> dict[str, str]:
        """Model inputs this portal cannot supply: not mapped, or mapped by default to a
        property the portal lacks (known after ``validate_schema``)."""
        return dict(self._unmapped)

    def usage(self) -> ApiUsage:
        return ApiUsage(
            calls=dict(self._usage.calls),
            daily_used=self._usage.daily_used,
            daily_max=self._usage.daily_max,
        )


def _parse_deal(row: Mapping[str, Any], company_id: str | None) -> CrmOpportunity:
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
