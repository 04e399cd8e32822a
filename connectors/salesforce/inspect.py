"""Read-only inspection of a Salesforce org for ``tierwise connect``.

Uses the connector only through its public attributes (settings, object names,
tierwise field names) and its retrying call wrapper ``_call``, so the connector can
change underneath without this module following every edit. Every request is a read:
describe, SOQL ``SELECT ... LIMIT`` and a Tooling query. Permission probes that the org
refuses become ``missing`` checks naming the permission to grant, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from simple_salesforce.format import format_soql

from tierwise.connectors import mappings
from tierwise.connectors.errors import CrmError, FatalCrmError, SchemaError
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
    salesforce_kind,
)
from tierwise.connectors.parsing import value_map

# A SOQL select list is kept well under the 100,000-character statement limit.
SELECT_CHUNK = 150
# One query page holds up to 2,000 rows: the sample never needs a second page.
MAX_SAMPLE = 2000
# Inputs the Salesforce connector derives itself when they are not mapped to a field.
DERIVED: Mapping[str, str] = {
    "open_pipeline": "derived from open Opportunities (sum of Amount)",
    "open_deals": "derived from open Opportunities (count)",
    "open_deals_at_stage": "derived from open Opportunities at or past pipeline.stage",
    "activity_count": "derived from Tasks and Events per AccountId",
}


def effective_mapping(connector: Any) -> tuple[dict[str, str], frozenset[str]]:
    """Defaults merged with ``settings.fields`` (what the connector maps) and the keys
    the operator set himself."""
    configured = dict(getattr(connector.settings, "fields", {}) or {})
    return {**mappings.SALESFORCE_ACCOUNT_FIELDS, **configured}, frozenset(configured)


def effective_value_maps(connector: Any) -> dict[str, dict[str, str]]:
    """Per-input value maps: the defaults (if this version has them) under the settings."""
    defaults: Mapping[str, Mapping[str, str]] = getattr(mappings, "SALESFORCE_VALUE_MAPS", {})
    configured: Mapping[str, Mapping[str, str]] = (
        getattr(connector.settings, "value_maps", {}) or {}
    )
    return {
        name: value_map({**defaults.get(name, {}), **configured.get(name, {})})
        for name in {*defaults, *configured}
    }


def _describe(connector: Any, object_name: str) -> dict[str, Any]:
    result: dict[str, Any] = connector.client.call(
        f"sobjects/{object_name}/describe",
        lambda sf: getattr(sf, object_name).describe(),
        operation="describe",
        object_name=object_name,
        read=True,
    )
    return result


def _query(connector: Any, soql: str, object_name: str) -> list[dict[str, Any]]:
    page: dict[str, Any] = connector.client.call(
        "query",
        lambda sf: sf.query(soql),
        operation="query",
        object_name=object_name,
        read=True,
    )
    return list(page.get("records") or [])


def field_info(raw: Mapping[str, Any]) -> FieldInfo:
    crm_type = str(raw.get("type", ""))
    options = tuple(
        Option(str(p.get("value")), str(p.get("label") or p.get("value")))
        for p in raw.get("picklistValues") or []
        if p.get("active", True) and p.get("value") is not None
    )
    return FieldInfo(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        crm_type=crm_type,
        kind=salesforce_kind(crm_type),
        readable=True,
        writable=bool(raw.get("updateable", False)),
        options=options,
        custom=bool(raw.get("custom", False)),
    )


def _sample(
    connector: Any, object_name: str, fields: Mapping[str, FieldInfo], size: int
) -> tuple[int, dict[str, float]]:
    """(records sampled, fill rate per field): the most recently modified ``size``
    records, one query per chunk of fields."""
    names = [
        f.name
        for f in fields.values()
        if f.kind is not None and f.crm_type != "textarea" and f.name != "Id"
    ]
    order = "SystemModstamp" if "SystemModstamp" in fields else "Id"
    limit = max(1, min(size, MAX_SAMPLE))
    rates: dict[str, float] = {}
    sampled = 0
    for start in range(0, max(len(names), 1), SELECT_CHUNK):
        chunk = names[start : start + SELECT_CHUNK]
        select = ", ".join(["Id", *chunk])
        soql = (
            f"SELECT {select} FROM {object_name} "  # noqa: S608 - names come from describe
            f"ORDER BY {order} DESC LIMIT {limit}"
        )
        try:
            rows = _query(connector, soql, object_name)
        except SchemaError:
            # A field describe shows but SOQL refuses: these fill rates stay unknown
            # rather than the whole inspection failing.
            continue
        sampled = max(sampled, len(rows))
        rates.update(fill_rates(rows, chunk))
    return sampled, rates


def _probe(
    name: str,
    needed_by: tuple[str, ...],
    call: Callable[[], object],
    fix: str,
) -> PermissionCheck:
    """Run one read-only probe; a refusal names ``fix``, anything inconclusive is unknown."""
    try:
        call()
    except SchemaError:  # INVALID_TYPE: the object is not visible to this user
        return PermissionCheck(name, needed_by, MISSING, f"{fix} (object not visible)")
    except FatalCrmError as exc:
        if exc.status in (401, 403):
            return PermissionCheck(name, needed_by, MISSING, f"{fix} (HTTP {exc.status})")
        return PermissionCheck(name, needed_by, UNKNOWN, f"could not check: {exc}")
    return PermissionCheck(name, needed_by, OK)


def _custom_fields(connector: Any, names: list[str]) -> set[str]:
    """Which of ``names`` exist as custom fields, whether or not this user can see them
    (Tooling ``CustomField``; describe and SOQL hide a field without field-level
    security, so this is how "missing" and "not visible" are told apart)."""
    developer = sorted({n.removesuffix("__c") for n in names if n.endswith("__c")})
    soql = format_soql(
        "SELECT DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName IN {}",
        developer or ["Tierwise_Tier"],
    )
    result: dict[str, Any] = connector.client.call(
        "tooling/query",
        lambda sf: sf.toolingexecute("query/", params={"q": soql}),
        operation="tooling query",
        object_name="CustomField",
        read=True,
    )
    return {f"{r.get('DeveloperName')}__c" for r in result.get("records") or []}


def _own_fields(
    connector: Any, account: Mapping[str, Any], task: Mapping[str, Any]
) -> list[OwnField]:
    account_object = connector.account_object
    names: dict[str, str] = {
        **getattr(connector, "tierwise_fields", mappings.SALESFORCE_TIERWISE_FIELDS),
        **getattr(connector, "customer_fields", {}),
    }
    identity = getattr(connector, "identity", mappings.SALESFORCE_IDENTITY_FIELDS)
    for logical in ("override_tier", "override_until"):
        names[logical] = identity[logical]
    own = [
        OwnField(
            logical,
            account_object,
            name,
            field_info(account[name]) if name in account else None,
        )
        for logical, name in names.items()
    ]
    key = getattr(connector, "task_key_field", mappings.SALESFORCE_TASK_KEY_FIELD)
    info = None
    if key in task:
        raw = task[key]
        info = field_info(raw)
        # A task key is written when the task is created.
        writable = bool(raw.get("createable") or raw.get("updateable"))
        info = FieldInfo(
            info.name,
            info.label,
            info.crm_type,
            info.kind,
            True,
            writable,
            info.options,
            None,
            info.custom,
        )
    own.append(OwnField("task_key", connector.task_object, key, info))
    return own


def inspect_fields(connector: Any) -> CrmInventory:
    """Only what ``validate --online`` compares with the model: the Account describe (one
    call), the effective mapping and value maps; no sample, no permission probes."""
    account_object = connector.account_object
    raw = _describe(connector, account_object)
    mapping, explicit = effective_mapping(connector)
    return CrmInventory(
        system="salesforce",
        object_name=account_object,
        fields={str(f["name"]): field_info(f) for f in raw.get("fields", [])},
        sample_size=0,
        mapping=mapping,
        explicit=explicit,
        value_maps=effective_value_maps(connector),
        derived={k: v for k, v in DERIVED.items() if k not in mapping},
    )


def inspect_salesforce(connector: Any, sample: int = 200) -> CrmInventory:
    """Describe Account and Task, sample Account records, probe the permissions."""
    account_object = connector.account_object
    task_object = connector.task_object
    account_raw = _describe(connector, account_object)
    account = {str(f["name"]): f for f in account_raw.get("fields", [])}
    checks: list[PermissionCheck] = []
    try:
        task_raw = _describe(connector, task_object)
    except CrmError as exc:
        task_raw = {}
        checks.append(
            PermissionCheck(
                f"describe {task_object}",
                ("provision", "run"),
                MISSING,
                f"grant Read on {task_object} to the integration user ({exc})",
            )
        )
    task = {str(f["name"]): f for f in task_raw.get("fields", [])}
    fields = {name: field_info(raw) for name, raw in account.items()}
    sampled, rates = _sample(connector, account_object, fields, sample)
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
    readable = bool(account_raw.get("queryable", True))
    checks.append(
        PermissionCheck(
            f"read {account_object} (describe + query)",
            ("connect", "validate", "plan", "run"),
            OK if readable else MISSING,
            "" if readable else f"grant Read on {account_object} to the integration user",
        )
    )
    editable = bool(account_raw.get("updateable", False))
    checks.append(
        PermissionCheck(
            f"edit {account_object}",
            ("run",),
            OK if editable else MISSING,
            "" if editable else f"grant Edit on {account_object} to the integration user",
        )
    )
    if task_raw:
        creatable = bool(task_raw.get("createable", False))
        checks.append(
            PermissionCheck(
                f"create {task_object}",
                ("run",),
                OK if creatable else MISSING,
                "" if creatable else f"grant Create on {task_object} (play tasks)",
            )
        )
    own = _own_fields(connector, account, task)
    own_names = [o.name for o in own]
    existing: set[str] = set()
    checks += [
        _probe(
            "read Opportunity",
            ("run", "report", "backtest"),
            lambda: _query(connector, "SELECT Id FROM Opportunity LIMIT 1", "Opportunity"),
            "grant Read on Opportunity (open pipeline and outcomes)",
        ),
        _probe(
            "Tooling API CustomField (read)",
            ("provision",),
            lambda: existing.update(_custom_fields(connector, own_names)),
            "grant View Setup and Configuration; creating fields needs Customize Application",
        ),
        _probe(
            "read PermissionSet / FieldPermissions",
            ("provision",),
            lambda: (
                _query(connector, "SELECT Id FROM PermissionSet LIMIT 1", "PermissionSet"),
                _query(connector, "SELECT Id FROM FieldPermissions LIMIT 1", "FieldPermissions"),
            ),
            "grant Manage Profiles and Permission Sets (provision grants field access)",
        ),
        _probe(
            "read PermissionSetAssignment",
            ("provision",),
            lambda: _query(
                connector,
                "SELECT Id FROM PermissionSetAssignment LIMIT 1",
                "PermissionSetAssignment",
            ),
            "grant Assign Permission Sets (provision assigns its permission set)",
        ),
    ]
    mapping, explicit = effective_mapping(connector)
    return CrmInventory(
        system="salesforce",
        object_name=account_object,
        fields=fields,
        sample_size=sampled,
        mapping=mapping,
        explicit=explicit,
        value_maps=effective_value_maps(connector),
        own_fields=[replace(o, hidden=o.info is None and o.name in existing) for o in own],
        permissions=checks,
        derived={k: v for k, v in DERIVED.items() if k not in mapping},
    )
