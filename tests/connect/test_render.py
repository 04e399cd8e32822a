"""Text, JSON and the mapping.yaml proposal of ``tierwise connect`` (no CRM)."""

from __future__ import annotations

import io
import json

from ruamel.yaml import YAML

from connectors.inventory import CrmInventory, FieldInfo, Option, PermissionCheck
from sync.connect import assess
from sync.connect_render import mapping_yaml, render_text, to_json

FIELDS = [
    FieldInfo("Industry", "Industry", "picklist", "string",
              options=(Option("Technology", "Technology"), Option("Banking", "Banking")),
              fill_rate=0.9),
    FieldInfo("Bombora_Composite_Score__c", "Bombora Composite Score", "double", "number",
              fill_rate=0.87),
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


def report(system: str = "salesforce") -> object:
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
            PermissionCheck("read PermissionSetAssignment", ("provision",), "missing",
                            "grant Assign Permission Sets"),
        ],
    )
    return assess(MODEL, inv, categories={"industry": {"Software"}})


def test_text_names_the_proposal_with_type_and_fill_rate() -> None:
    text = render_text([report()])  # type: ignore[list-item]
    assert "intent_score" in text
    assert "-> Bombora_Composite_Score__c (number, 87% filled)" in text
    assert "derived from open Opportunities" in text
    assert "missing permissions: salesforce: read PermissionSetAssignment" in text
    assert "category table shares no key" in text


def test_json_is_plain_data_with_confidence_spelt_out() -> None:
    data = json.loads(json.dumps(to_json([report()])))  # type: ignore[list-item]
    inputs = {i["name"]: i for i in data[0]["inputs"]}
    assert inputs["intent_score"]["proposal"]["name"] == "Bombora_Composite_Score__c"
    assert inputs["intent_score"]["proposal"]["confident"] is True
    assert inputs["intent_score"]["status"] == "not mapped"
    assert data[0]["permissions"][1]["status"] == "missing"


def test_mapping_yaml_maps_only_confident_and_explicit_inputs() -> None:
    text = mapping_yaml([report(), report("hubspot")])  # type: ignore[list-item]
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
