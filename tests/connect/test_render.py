# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Text, JSON and the mapping.yaml proposal of ``tierwise connect`` (no CRM)."""

from __future__ import annotations

import io
import json

from ruamel.yaml import YAML

from tierwise.connectors.inventory import CrmInventory, FieldInfo, Option, PermissionCheck
from tierwise.sync.connect import SystemReport, assess
from tierwise.sync.connect_render import mapping_yaml, render_text, to_json

FIELDS = [
    FieldInfo(
        "Industry",
        "Industry",
        "picklist",
        "string",
        options=(Option("Technology", "Technology"), Option("Banking", "Banking")),
        fill_rate=0.9,
    ),
    FieldInfo(
        "Bombora_Composite_Score__c", "Bombora Composite Score", "double", "number", fill_rate=0.87
    ),
    FieldInfo("Risk_Notes__c", "Risk notes", "string", "string", fill_rate=0.1),
    FieldInfo("Health__c", "Health", "double", "number", fill_rate=0.5),
]
MODEL = {
    "industry": "string",
    "intent_score": "number",
    "payment_risk": "string",
    "health_score": "number",
    "open_pipeline": "number",
    "fax_count": "number",
}


def report(system: str = "salesforce") -> SystemReport:
    inv = CrmInventory(
        system=system,
        object_name="Account",
        fields={f.name: f for f in FIELDS},
        sample_size=200,
        mapping={"industry": "Industry", "health_score": "Health__c"},
        explicit=frozenset({"health_score"}),
        derived={"open_pipeline": "derived from open Opportunities (sum of Amount)"},
        permissions=[
            PermissionCheck("read Account", ("run",), "ok"),
            PermissionCheck(
                "read PermissionSetAssignment",
                ("provision",),
                "missing",
                "grant Assign Permission Sets",
            ),
        ],
    )
    return assess(MODEL, inv, categories={"industry": {"Software"}})


def test_text_names_the_proposal_with_type_and_fill_rate() -> None:
    text = render_text([report()])
    assert "intent_score" in text
    assert "-> Bombora_Composite_Score__c (number, 87% filled)" in text
    assert "derived from open Opportunities" in text
    assert "missing permissions: salesforce: read PermissionSetAssignment" in text
    assert "category table shares no key" in text


def test_json_is_plain_data_with_confidence_spelt_out() -> None:
    data = json.loads(json.dumps(to_json([report()])))
    inputs = {i["name"]: i for i in data[0]["inputs"]}
    assert inputs["intent_score"]["proposal"]["name"] == "Bombora_Composite_Score__c"
    assert inputs["intent_score"]["proposal"]["confident"] is True
    assert inputs["intent_score"]["status"] == "not mapped"
    assert data[0]["permissions"][1]["status"] == "missing"


def test_mapping_yaml_maps_only_confident_and_explicit_inputs() -> None:
    text = mapping_yaml([report(), report("hubspot")])
    loaded = YAML(typ="safe").load(io.StringIO(text))
    assert {"salesforce", "hubspot"} == set(loaded)
    assert loaded["salesforce"]["fields"] == {
        "intent_score": "Bombora_Composite_Score__c",
        "health_score": "Health__c",
    }
    assert loaded["salesforce"]["values"] == {}
    # The rest is there for a reviewer, commented out.
    assert "# payment_risk: Risk_Notes__c  # not confident" in text
    assert "# fax_count:" in text
    assert "#   Technology: <category>" in text


def test_mapping_yaml_with_nothing_confident_is_still_the_mapping_shape() -> None:
    inv = CrmInventory("hubspot", "companies", {}, 0, {}, frozenset())
    text = mapping_yaml([assess({"intent_score": "number"}, inv)])
    assert YAML(typ="safe").load(text) == {"hubspot": {"fields": {}, "values": {}}}


def test_a_field_whose_values_differ_from_the_categories_in_case_gets_a_live_value_map() -> None:
    risk = FieldInfo(
        "Credit_Risk__c",
        "Credit Risk",
        "picklist",
        "string",
        fill_rate=1.0,
        options=(
            Option("Low", "Low"),
            Option("Medium", "Medium"),
            Option("High", "High"),
            Option("Unknown", "Unknown"),
        ),
    )
    inv = CrmInventory("salesforce", "Account", {risk.name: risk}, 50, {}, frozenset())
    categories = {"payment_risk": {"low", "medium", "high"}}

    (item,) = assess({"payment_risk": "string"}, inv, categories=categories).inputs
    text = mapping_yaml([assess({"payment_risk": "string"}, inv, categories=categories)])

    assert item.proposal is not None
    assert "Credit_Risk__c" == item.proposal.name
    # "Unknown" matches no category in any case: it is left to the table's default.
    assert {"Low": "low", "Medium": "medium", "High": "high"} == item.value_map
    assert [] == item.warnings
    loaded = YAML(typ="safe").load(io.StringIO(text))
    assert {"payment_risk": {"Low": "low", "Medium": "medium", "High": "high"}} == (
        loaded["salesforce"]["values"]
    )


def test_a_proposed_field_none_of_whose_values_is_a_category_is_warned_about() -> None:
    risk = FieldInfo(
        "Risk__c",
        "Payment risk",
        "picklist",
        "string",
        fill_rate=1.0,
        options=(Option("A", "Green"), Option("B", "Red")),
    )
    inv = CrmInventory("salesforce", "Account", {risk.name: risk}, 50, {}, frozenset())

    (item,) = assess(
        {"payment_risk": "string"}, inv, categories={"payment_risk": {"low", "high"}}
    ).inputs

    assert item.proposal is not None
    assert {} == item.value_map
    assert 1 == len(item.warnings)
    assert item.warnings[0].startswith("payment_risk: the model's category table shares no key")


def test_list_values_differing_from_the_models_in_case_get_a_value_map_by_value_only() -> None:
    members = {"tech_stack": {"Snowflake", "Salesforce", "Segment"}}
    sf = FieldInfo(
        "Technologies__c",
        "Technologies",
        "multipicklist",
        "list",
        fill_rate=0.6,
        options=(
            Option("snowflake", "snowflake"),
            Option("Okta", "Okta"),
            Option("Segment", "Segment"),
        ),
    )
    hs = FieldInfo(
        "web_technologies",
        "Web Technologies",
        "enumeration/checkbox",
        "list",
        fill_rate=0.6,
        options=(Option("salesforce_crm", "Salesforce"),),
    )

    def value_map(info: FieldInfo, system: str) -> dict[str, str]:
        inv = CrmInventory(
            system, "Account", {info.name: info}, 50, {"tech_stack": info.name}, frozenset()
        )
        (item,) = assess({"tech_stack": "list"}, inv, members=members).inputs
        return item.value_map

    assert {"snowflake": "Snowflake"} == value_map(sf, "salesforce")
    # HubSpot lists are read as option labels already: nothing to map.
    assert {} == value_map(hs, "hubspot")
