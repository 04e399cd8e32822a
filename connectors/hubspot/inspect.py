"""Read-only inspection of a HubSpot portal for ``tierwise connect``.

Uses the connector's public attributes (settings, tierwise property names), its
property reader ``_properties`` and its limited, counted, retrying ``_call``; the API
objects for probes are built from the connector's client and closed here. Every request
is a read (GET) except one POST that only reads: HubSpot's token-info endpoint, which
lists a private app's scopes so write scopes can be checked without writing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import urllib3

from tierwise.connectors import mappings
from tierwise.connectors.errors import AuthenticationError, CrmError, FatalCrmError
from tierwise.connectors.hubspot.schema import read_properties
from tierwise.connectors.inventory import (
    MISSING,
    OK,
    UNKNOWN,
    CrmInventory,
    FieldInfo,
    Option,
    OwnField,
    PermissionCheck,
    fill_rates,
    hubspot_kind,
)
from tierwise.connectors.parsing import value_map

PAGE = 100
# Repeated ``properties=`` parameters per request: keeps the URL a few KB long.
PROPERTY_CHUNK = 80
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"  # noqa: S105 - a path
LIST_PROBE_NAME = "tierwise connect probe"
COMPANY_OBJECT_TYPE_ID = "0-2"

# scope -> (tierwise commands that need it, what it is for)
WRITE_SCOPES: Mapping[str, tuple[tuple[str, ...], str]] = {
    "crm.objects.companies.write": (("run",), "write tiers to companies"),
    "crm.schemas.companies.write": (("provision",), "create tierwise's company properties"),
    "crm.objects.contacts.write": (("run", "provision"), "create play tasks (tasks guide)"),
    "crm.lists.write": (("provision",), "create tier lists"),
}


def effective_mapping(connector: Any) -> tuple[dict[str, str], frozenset[str]]:
    configured = dict(getattr(connector.settings, "fields", {}) or {})
    return {**mappings.HUBSPOT_COMPANY_FIELDS, **configured}, frozenset(configured)


def effective_value_maps(connector: Any) -> dict[str, dict[str, str]]:
    defaults: Mapping[str, Mapping[str, str]] = getattr(mappings, "HUBSPOT_VALUE_MAPS", {})
    configured: Mapping[str, Mapping[str, str]] = (
        getattr(connector.settings, "value_maps", {}) or {}
    )
    return {
        name: value_map({**defaults.get(name, {}), **configured.get(name, {})})
        for name in {*defaults, *configured}
    }


def _read_only(prop: Mapping[str, Any]) -> bool:
    meta = prop.get("modification_metadata") or {}
    return bool(meta.get("read_only_value", False)) or bool(prop.get("calculated", False))


def property_info(prop: Mapping[str, Any]) -> FieldInfo:
    crm_type = str(prop.get("type", ""))
    field_type = prop.get("field_type")
    options = tuple(
        Option(str(o.get("value")), str(o.get("label") or o.get("value")))
        for o in prop.get("options") or []
        if o.get("value") is not None and not o.get("hidden", False)
    )
    return FieldInfo(
        name=str(prop["name"]),
        label=str(prop.get("label") or prop["name"]),
        crm_type=f"{crm_type}/{field_type}" if field_type else crm_type,
        kind=hubspot_kind(crm_type, str(field_type) if field_type else None),
        readable=True,
        writable=not _read_only(prop),
        options=options,
        custom=not bool(prop.get("hubspot_defined", False)),
    )


def _to_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else {}


class _Apis:
    """API objects built from the connector's client for this inspection only (each
    attribute access on the client builds a connection pool: build once, close after)."""

    def __init__(self, connector: Any) -> None:
        self._crm = connector.client.sdk.crm
        self._built: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._built:
            factories: dict[str, Callable[[], Any]] = {
                "companies": lambda: self._crm.companies.basic_api,
                "tasks": lambda: self._crm.objects.tasks.basic_api,
                "deals": lambda: self._crm.deals.basic_api,
                "owners": lambda: self._crm.owners.owners_api,
                "lists": lambda: self._crm.lists.lists_api,
            }
            self._built[name] = factories[name]()
        return self._built[name]

    def close(self) -> None:
        for api in self._built.values():
            client = getattr(api, "api_client", None)
            if client is not None:
                client.close()
        self._built.clear()


def _sample_rows(
    connector: Any, apis: _Apis, names: list[str], size: int
) -> Iterator[dict[str, Any]]:
    api = apis.get("companies")
    after: str | None = None
    seen = 0
    while seen < size:
        limit = min(PAGE, size - seen)
        page = _to_dict(
            connector.client.call(
                "GET /crm/v3/objects/companies",
                lambda t, cursor=after, limit=limit: api.get_page(
                    limit=limit,
                    after=cursor,
                    properties=names,
                    archived=False,
                    _request_timeout=t,
                ),
                operation="sample companies",
                object_name="companies",
            )
        )
        results = [_to_dict(r) for r in page.get("results") or []]
        seen += len(results)
        for row in results:
            yield {"id": row.get("id"), **(row.get("properties") or {})}
        after = (((page.get("paging") or {}).get("next")) or {}).get("after")
        if not after or not results:
            return


def _sample(
    connector: Any, apis: _Apis, fields: Mapping[str, FieldInfo], size: int
) -> tuple[int, dict[str, float]]:
    names = [f.name for f in fields.values() if f.kind is not None]
    rates: dict[str, float] = {}
    sampled = 0
    for start in range(0, len(names), PROPERTY_CHUNK):
        chunk = names[start : start + PROPERTY_CHUNK]
        rows = list(_sample_rows(connector, apis, chunk, max(1, size)))
        sampled = max(sampled, len(rows))
        rates.update(fill_rates(rows, chunk))
    return sampled, rates


def _probe(
    name: str, needed_by: tuple[str, ...], call: Callable[[], object], fix: str
) -> PermissionCheck:
    """One read-only probe: 403 is a missing scope, 404 means reachable (nothing there)."""
    try:
        call()
    except AuthenticationError as exc:
        if exc.status == 403:
            return PermissionCheck(name, needed_by, MISSING, f"missing scope {fix}")
        raise
    except FatalCrmError as exc:
        if exc.status == 404:
            return PermissionCheck(name, needed_by, OK)
        return PermissionCheck(name, needed_by, UNKNOWN, f"could not check: {exc}")
    return PermissionCheck(name, needed_by, OK)


def _token_scopes(connector: Any) -> frozenset[str] | None:
    """The private app's scopes from HubSpot's token-info endpoint; None when the
    endpoint does not answer (a service key, an OAuth token, an emulator without it)."""
    token = connector.settings.access_token
    if token is None:
        return None
    url = connector.settings.base_url.rstrip("/") + TOKEN_INFO_PATH
    connect, read = connector.settings.connect_timeout, connector.settings.read_timeout

    def post(_timeout: tuple[float, float]) -> urllib3.BaseHTTPResponse:
        return urllib3.request(
            "POST",
            url,
            json={"tokenKey": token.get_secret_value()},
            timeout=urllib3.Timeout(connect=connect, read=read),
            retries=False,
        )

    try:
        response = connector.client.call(
            f"POST {TOKEN_INFO_PATH}", post, operation="read token scopes"
        )
    except CrmError:
        return None
    if response.status != 200:
        return None
    try:
        scopes = response.json().get("scopes")
    except ValueError:
        return None
    return frozenset(str(s) for s in scopes) if isinstance(scopes, list) else None


def _own_fields(
    connector: Any, companies: Mapping[str, Any], tasks: Mapping[str, Any]
) -> list[OwnField]:
    names: dict[str, str] = {
        **getattr(connector, "tierwise_fields", mappings.HUBSPOT_TIERWISE_FIELDS),
        **getattr(connector, "customer_fields", {}),
    }
    identity = getattr(connector, "identity", mappings.HUBSPOT_IDENTITY_FIELDS)
    for logical in ("override_tier", "override_until"):
        names[logical] = identity[logical]
    own = [
        OwnField(
            logical,
            "companies",
            name,
            property_info(companies[name]) if name in companies else None,
        )
        for logical, name in names.items()
    ]
    key = getattr(connector, "task_key", mappings.HUBSPOT_TASK_KEY_PROPERTY)
    own.append(
        OwnField("task_key", "tasks", key, property_info(tasks[key]) if key in tasks else None)
    )
    return own


def inspect_fields(connector: Any) -> CrmInventory:
    """Only what ``validate --online`` compares with the model: the company properties
    (one call), the effective mapping and value maps; no sample, no scope probes."""
    mapping, explicit = effective_mapping(connector)
    return CrmInventory(
        system="hubspot",
        object_name="companies",
        fields={
            name: property_info(prop)
            for name, prop in read_properties(connector.client, "companies").items()
        },
        sample_size=0,
        mapping=mapping,
        explicit=explicit,
        value_maps=effective_value_maps(connector),
    )


def inspect_hubspot(connector: Any, sample: int = 200) -> CrmInventory:
    """Read company (and task) properties, sample companies, probe the scopes."""
    companies = read_properties(connector.client, "companies")
    checks: list[PermissionCheck] = [
        PermissionCheck(
            "crm.schemas.companies.read (company properties)",
            ("connect", "validate", "run"),
            OK,
        )
    ]
    try:
        tasks = read_properties(connector.client, "tasks")
    except AuthenticationError as exc:
        if exc.status != 403:
            raise
        tasks = {}
        checks.append(
            PermissionCheck(
                "task properties",
                ("provision", "validate", "run"),
                MISSING,
                "missing scope crm.objects.contacts.read (tasks)",
            )
        )
    fields = {name: property_info(prop) for name, prop in companies.items()}
    apis = _Apis(connector)
    try:
        sampled, rates = _sample(connector, apis, fields, sample)
        checks.append(PermissionCheck("crm.objects.companies.read", ("connect", "plan", "run"), OK))
        fields = {
            name: FieldInfo(
                f.name,
                f.label,
                f.crm_type,
                f.kind,
                f.readable,
                f.writable,
                f.options,
                rates.get(name),
                f.custom,
            )
            for name, f in fields.items()
        }
        checks += _probes(connector, apis)
    finally:
        apis.close()
    mapping, explicit = effective_mapping(connector)
    return CrmInventory(
        system="hubspot",
        object_name="companies",
        fields=fields,
        sample_size=sampled,
        mapping=mapping,
        explicit=explicit,
        value_maps=effective_value_maps(connector),
        own_fields=_own_fields(connector, companies, tasks),
        permissions=checks,
    )


def _probes(connector: Any, apis: _Apis) -> list[PermissionCheck]:
    def get(name: str, label: str, **kw: Any) -> Callable[[], object]:
        return lambda: connector.client.call(
            label,
            lambda t: apis.get(name).get_page(limit=1, _request_timeout=t, **kw),
            operation=f"probe {name}",
            object_name=name,
        )

    checks = [
        _probe(
            "crm.objects.contacts.read (tasks)",
            ("run",),
            get("tasks", "GET /crm/v3/objects/tasks"),
            "crm.objects.contacts.read (HubSpot's tasks guide lists the contacts scopes)",
        ),
        _probe(
            "crm.objects.deals.read",
            ("run", "report", "backtest"),
            get("deals", "GET /crm/v3/objects/deals"),
            "crm.objects.deals.read",
        ),
        _probe(
            "crm.objects.owners.read",
            ("run",),
            get("owners", "GET /crm/v3/owners/"),
            "crm.objects.owners.read",
        ),
        _probe(
            "crm.lists.read",
            ("provision",),
            lambda: connector.client.call(
                "GET /crm/v3/lists/object-type-id/{type}/name/{name}",
                lambda t: apis.get("lists").get_by_name(
                    LIST_PROBE_NAME, COMPANY_OBJECT_TYPE_ID, _request_timeout=t
                ),
                operation="probe lists",
                object_name="lists",
            ),
            "crm.lists.read",
        ),
    ]
    scopes = _token_scopes(connector)
    for scope, (needed_by, purpose) in WRITE_SCOPES.items():
        if scopes is None:
            checks.append(
                PermissionCheck(
                    scope,
                    needed_by,
                    UNKNOWN,
                    f"not verifiable without a write ({purpose}); make sure the app has it",
                )
            )
        elif scope in scopes:
            checks.append(PermissionCheck(scope, needed_by, OK))
        else:
            checks.append(
                PermissionCheck(scope, needed_by, MISSING, f"missing scope {scope} ({purpose})")
            )
    return checks
