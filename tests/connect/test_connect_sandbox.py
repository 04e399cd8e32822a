"""``tierwise connect`` against the sandbox, through the real clients.

The candidate tests hold for any org whose custom fields carry the customer's own
names (issue 12's enriched profile: ``Bombora_Composite_Score__c``, ``Technologies__c``,
...) as well as for tierwise's old default names: they check words and types, not one
exact name. Each input is mapped explicitly to a field that does not exist, so it is
unusable as configured and ``connect`` must propose its replacement.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.connectors import sandbox_support as support
from tests.provisioning import provisioned
from tierwise.connectors.inventory import inspect_crm
from tierwise.sandbox import Sandbox
from tierwise.sandbox.faults import FaultRule
from tierwise.sync.connect import assess

# input -> (kind, words one of which the proposed field's name or label must hold)
OPTIONAL_INPUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "intent_score": ("number", ("intent", "bombora")),
    "intent_surge": ("bool", ("surge",)),
    "tech_stack": ("list", ("tech",)),
    "last_funding_date": ("date", ("funding",)),
    "competitor_customer": ("bool", ("competitor",)),
    "payment_risk": ("string", ("risk",)),
}
SYSTEMS = ("salesforce", "hubspot")


def connector(sb: Sandbox, system: str, **kw: Any) -> Any:
    return support.salesforce(sb, **kw) if system == "salesforce" else support.hubspot(sb, **kw)


def broken_mapping(system: str) -> dict[str, str]:
    suffix = "__c" if system == "salesforce" else ""
    return {name: f"Not_There_{i}{suffix}" for i, name in enumerate(OPTIONAL_INPUTS)}


@pytest.mark.parametrize("system", SYSTEMS)
def test_inventory_reads_types_options_and_fill_rates(make_sandbox: Any, system: str) -> None:
    sb = make_sandbox(accounts=40)
    inv = inspect_crm(connector(sb, system), sample=200)
    assert inv.sample_size == 40
    industry = inv.fields["Industry" if system == "salesforce" else "industry"]
    assert industry.kind == "string"
    assert industry.fill_rate is not None
    assert 0.5 < industry.fill_rate <= 1.0
    employees = inv.fields["NumberOfEmployees" if system == "salesforce" else "numberofemployees"]
    assert employees.kind == "number"


@pytest.mark.parametrize("system", SYSTEMS)
def test_sample_size_caps_the_records_read(make_sandbox: Any, system: str) -> None:
    sb = make_sandbox(accounts=60)
    assert inspect_crm(connector(sb, system), sample=25).sample_size == 25


@pytest.mark.parametrize("system", SYSTEMS)
def test_an_unusable_input_gets_a_field_of_its_type_named_like_it(
    make_sandbox: Any, system: str
) -> None:
    sb = make_sandbox(accounts=60, profile="enriched")  # the customer's own field names
    inv = inspect_crm(connector(sb, system, fields=broken_mapping(system)), sample=200)
    model = {name: kind for name, (kind, _) in OPTIONAL_INPUTS.items()}
    report = {r.name: r for r in assess(model, inv).inputs}
    for name, (kind, words) in OPTIONAL_INPUTS.items():
        item = report[name]
        assert item.status == "error", name  # mapped explicitly to a field that is not there
        assert item.proposal is not None, (name, item.candidates)
        text = f"{item.proposal.name} {item.proposal.label}".lower()
        assert any(word in text for word in words), (name, item.proposal)
        assert kind == item.proposal.kind, name


@pytest.mark.parametrize("system", SYSTEMS)
def test_connect_never_writes_to_the_crm(make_sandbox: Any, system: str) -> None:
    sb = make_sandbox(accounts=30)
    inspect_crm(connector(sb, system), sample=200)
    mine = [c for c in sb.calls if c.system == system]
    assert mine
    writes = [
        (c.method, c.path)
        for c in mine
        if c.method != "GET" and not c.path.endswith("/get/access-token-info")
    ]
    assert writes == []


def test_salesforce_category_warning_and_the_value_map_that_clears_it(make_sandbox: Any) -> None:
    sb = make_sandbox(accounts=30)
    inv = inspect_crm(support.salesforce(sb), sample=50)
    table = {"Quantum Widgets": 1.0}  # a category no org stores
    (industry,) = assess({"industry": "string"}, inv, categories={"industry": table}).inputs
    assert any("shares no key" in w for w in industry.warnings)
    first = inv.fields["Industry"].options[0].value
    inv.value_maps = {"industry": {first.lower(): "Quantum Widgets"}}
    (industry,) = assess({"industry": "string"}, inv, categories={"industry": table}).inputs
    assert industry.warnings == []


@pytest.mark.parametrize("system", SYSTEMS)
def test_own_fields_missing_before_provision_and_writable_after(system: str) -> None:
    with Sandbox(accounts=20) as sb:
        own = assess({}, inspect_crm(connector(sb, system), sample=10)).own_fields
        assert all(not o.exists for o in own)
    with provisioned(Sandbox(accounts=20)) as sb:
        own = assess({}, inspect_crm(connector(sb, system), sample=10)).own_fields
        assert [(o.logical, o.problem) for o in own if not (o.exists and o.writable)] == []


def test_hubspot_403_on_a_probe_names_the_missing_scope(make_sandbox: Any) -> None:
    sb = make_sandbox(accounts=20)
    sb.faults.add(
        FaultRule(
            system="hubspot", kind="http_500", status=403, method="GET", path=r"/crm/v3/owners"
        )
    )
    inv = inspect_crm(support.hubspot(sb), sample=10)
    owners = next(p for p in inv.permissions if p.name == "crm.objects.owners.read")
    assert owners.status == "missing"
    assert "crm.objects.owners.read" in owners.detail


def test_salesforce_403_on_tooling_names_the_permission(make_sandbox: Any) -> None:
    sb = make_sandbox(accounts=20)
    sb.faults.add(
        FaultRule(system="salesforce", kind="http_500", status=403, method="GET", path=r"/tooling/")
    )
    inv = inspect_crm(support.salesforce(sb), sample=10)
    tooling = next(p for p in inv.permissions if p.name.startswith("Tooling API"))
    assert tooling.status == "missing"
    assert "Customize Application" in tooling.detail
