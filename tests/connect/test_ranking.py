"""Candidate ranking and per-input verdicts, on hand-built inventories (no CRM)."""

from __future__ import annotations

import pytest

from tierwise.connectors.inventory import (
    CrmInventory,
    FieldInfo,
    Option,
    OwnField,
    hubspot_kind,
    salesforce_kind,
)
from tierwise.sync.connect import assess
from tierwise.sync.connect_match import rank, similarity, tokens, type_fit
from tierwise.sync.connect_values import category_warning, list_warning

# A customer's own names, as issue 12's enriched org holds them, beside stock fields.
SF_FIELDS = [
    FieldInfo(
        "Industry",
        "Industry",
        "picklist",
        "string",
        options=(Option("Technology", "Technology"), Option("Banking", "Banking")),
        fill_rate=0.9,
    ),
    FieldInfo("NumberOfEmployees", "Employees", "int", "number", fill_rate=0.95),
    FieldInfo("AnnualRevenue", "Annual Revenue", "currency", "number", fill_rate=0.8),
    FieldInfo(
        "Bombora_Composite_Score__c",
        "Bombora Composite Score",
        "double",
        "number",
        fill_rate=0.87,
        custom=True,
    ),
    FieldInfo("Bombora_Surge__c", "Bombora Surge", "boolean", "bool", fill_rate=1.0),
    FieldInfo("Technologies__c", "Technologies", "multipicklist", "list", fill_rate=0.6),
    FieldInfo(
        "Website_Sessions_30d__c", "Website Sessions (30d)", "double", "number", fill_rate=0.7
    ),
    FieldInfo("Funding_Total__c", "Funding Total", "currency", "number", fill_rate=0.3),
    FieldInfo(
        "Last_Funding_Round_Date__c", "Last Funding Round Date", "date", "date", fill_rate=0.3
    ),
    FieldInfo("Competitor_Install__c", "Competitor Install", "boolean", "bool", fill_rate=1.0),
    FieldInfo(
        "Credit_Risk__c",
        "Credit Risk",
        "picklist",
        "string",
        options=(Option("Low", "Low"), Option("High", "High")),
        fill_rate=0.5,
    ),
    FieldInfo("Customer_Health__c", "Customer Health", "double", "number", fill_rate=0.4),
    FieldInfo("Adoption_Pct__c", "Adoption (%)", "percent", "number", fill_rate=0.4),
    FieldInfo("Description", "Description", "textarea", "string", fill_rate=0.2),
    FieldInfo("Id", "Account ID", "id", None, fill_rate=1.0),
]

EXPECTED = {
    "intent_score": "Bombora_Composite_Score__c",
    "intent_surge": "Bombora_Surge__c",
    "tech_stack": "Technologies__c",
    "web_visits": "Website_Sessions_30d__c",
    "last_funding_amount": "Funding_Total__c",
    "last_funding_date": "Last_Funding_Round_Date__c",
    "competitor_customer": "Competitor_Install__c",
    "payment_risk": "Credit_Risk__c",
    "health_score": "Customer_Health__c",
    "product_adoption": "Adoption_Pct__c",
}
KINDS = {
    "intent_score": "number",
    "intent_surge": "bool",
    "tech_stack": "list",
    "web_visits": "number",
    "last_funding_amount": "number",
    "last_funding_date": "date",
    "competitor_customer": "bool",
    "payment_risk": "string",
    "health_score": "number",
    "product_adoption": "number",
}


def inventory(fields: list[FieldInfo] = SF_FIELDS, **kw: object) -> CrmInventory:
    defaults: dict[str, object] = {
        "system": "salesforce",
        "object_name": "Account",
        "fields": {f.name: f for f in fields},
        "sample_size": 200,
        "mapping": {"industry": "Industry", "employees": "NumberOfEmployees"},
        "explicit": frozenset(),
    }
    defaults.update(kw)
    return CrmInventory(**defaults)  # type: ignore[arg-type]  # defaults is dict[str, object]; each value fits its field


def test_tokens_split_api_names_labels_and_drop_the_custom_suffix() -> None:
    assert tokens("Bombora_Composite_Score__c") == ["bombora", "composite", "score"]
    assert tokens("NumberOfEmployees") == ["employee"]
    assert tokens("Website Sessions (30d)") == ["website", "session", "30d"]
    assert tokens("hs_analytics_num_visits") == ["analytic", "visit"]


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_the_customers_own_field_ranks_first_for_each_optional_input(
    name: str, expected: str
) -> None:
    found = rank(name, KINDS[name], SF_FIELDS)
    assert expected == found[0].name
    assert found[0].confident


def test_a_field_of_an_incompatible_type_is_never_a_candidate() -> None:
    found = rank("intent_surge", "bool", SF_FIELDS)
    assert "Bombora_Composite_Score__c" not in [c.name for c in found]
    assert all(c.kind == "bool" for c in found)


def test_identity_and_excluded_fields_are_never_candidates() -> None:
    found = rank("intent_score", "number", SF_FIELDS, exclude={"Bombora_Composite_Score__c"})
    assert "Bombora_Composite_Score__c" not in [c.name for c in found]
    assert "Id" not in [c.name for c in rank("id", "string", SF_FIELDS)]


def test_fill_rate_breaks_a_tie_between_equally_named_fields() -> None:
    full = FieldInfo("Intent_Score__c", "Intent Score", "double", "number", fill_rate=0.9)
    empty = FieldInfo("Intent_Score2__c", "Intent Score", "double", "number", fill_rate=0.0)
    found = rank("intent_score", "number", [empty, full])
    assert [c.name for c in found] == ["Intent_Score__c", "Intent_Score2__c"]
    assert not found[1].confident  # an empty field is never a confident proposal


def test_type_fit_accepts_text_for_amounts_but_prefers_the_same_kind() -> None:
    assert type_fit("number", "number") == 1.0
    assert 0.0 < type_fit("number", "string") < 1.0
    assert type_fit("number", "bool") == 0.0
    assert type_fit("number", None) == 0.0


def test_hubspot_string_property_holding_amounts_is_a_candidate_but_not_confident() -> None:
    raised = FieldInfo(
        "total_money_raised", "Total Money Raised", "string/text", "string", fill_rate=0.4
    )
    found = rank("last_funding_amount", "number", [raised])
    assert [c.name for c in found] == ["total_money_raised"]
    assert not found[0].confident


def test_unrelated_names_score_zero() -> None:
    assert similarity("intent_score", FieldInfo("Fax", "Fax", "phone", "string")) == 0.0


def test_crm_types_map_to_model_kinds() -> None:
    assert salesforce_kind("currency") == "number"
    assert salesforce_kind("multipicklist") == "list"
    assert salesforce_kind("reference") is None
    assert hubspot_kind("enumeration", "checkbox") == "list"
    assert hubspot_kind("enumeration", "booleancheckbox") == "bool"
    assert hubspot_kind("enumeration", "select") == "string"
    assert hubspot_kind("datetime", "date") == "date"


def test_assess_tells_ok_not_mapped_missing_error_and_derived_apart() -> None:
    inv = inventory(
        mapping={
            "industry": "Industry",
            "web_visits": "Web_Visits__c",  # a default the org lacks
            "health_score": "Health__c",  # the operator's typo
        },
        explicit=frozenset({"health_score"}),
        derived={"open_pipeline": "derived from open Opportunities"},
    )
    report = assess(
        {
            "industry": "string",
            "web_visits": "number",
            "health_score": "number",
            "intent_score": "number",
            "open_pipeline": "number",
        },
        inv,
    )
    by_name = {r.name: r for r in report.inputs}
    assert by_name["industry"].status == "ok"
    assert by_name["web_visits"].status == "missing"
    assert by_name["health_score"].status == "error"
    assert by_name["intent_score"].status == "not mapped"
    assert by_name["open_pipeline"].status == "derived"
    assert by_name["industry"].proposal is None
    assert by_name["web_visits"].proposal.name == "Website_Sessions_30d__c"  # type: ignore[union-attr]  # proposal is optional; these inputs have one
    assert by_name["health_score"].proposal.name == "Customer_Health__c"  # type: ignore[union-attr]  # proposal is optional; these inputs have one
    assert by_name["intent_score"].proposal.name == "Bombora_Composite_Score__c"  # type: ignore[union-attr]  # proposal is optional; these inputs have one


def test_a_field_already_feeding_another_input_is_not_proposed_again() -> None:
    inv = inventory(mapping={"intent_score": "Bombora_Composite_Score__c"})
    report = assess({"intent_score": "number", "third_party_score": "number"}, inv)
    other = report.inputs[1]
    assert "Bombora_Composite_Score__c" not in [c.name for c in other.candidates]


def test_two_inputs_never_share_one_proposed_field() -> None:
    inv = inventory(mapping={})
    report = assess({"intent_score": "number", "intent_strength": "number"}, inv)
    proposals = [r.proposal.name for r in report.inputs if r.proposal is not None]
    assert len(proposals) == len(set(proposals))


def test_wrong_type_is_reported_with_candidates() -> None:
    inv = inventory(mapping={"intent_score": "Bombora_Surge__c"})
    (item,) = assess({"intent_score": "number"}, inv).inputs
    assert item.status == "wrong type"
    assert item.proposal.name == "Bombora_Composite_Score__c"  # type: ignore[union-attr]  # proposal is optional; these inputs have one


def test_category_warning_when_no_option_lands_on_a_table_key() -> None:
    industry = SF_FIELDS[0]
    table = {"Software", "Financial Services"}
    warning = category_warning("industry", industry, table, {})
    assert warning is not None
    assert "Industry" in warning
    assert "value map" in warning
    mapped = {"technology": "Software"}
    assert category_warning("industry", industry, table, mapped) is None


def test_category_warning_names_a_case_only_difference() -> None:
    industry = FieldInfo(
        "industry",
        "Industry",
        "enumeration/select",
        "string",
        options=(Option("COMPUTER_SOFTWARE", "Computer Software"),),
    )
    warning = category_warning("industry", industry, {"computer_software"}, {})
    assert warning is not None
    assert "only in case" in warning


def test_category_value_map_by_label_counts() -> None:
    industry = FieldInfo(
        "industry",
        "Industry",
        "enumeration/select",
        "string",
        options=(Option("COMPUTER_SOFTWARE", "Computer Software"),),
    )
    table = {"Software"}
    assert category_warning("industry", industry, table, {"computer software": "Software"}) is None


def test_list_warning_when_no_model_value_is_an_option() -> None:
    tech = FieldInfo(
        "web_technologies",
        "Web Technologies",
        "enumeration/checkbox",
        "list",
        options=(Option("salesforce_crm", "Salesforce"),),
    )
    assert list_warning("tech_stack", tech, {"Salesforce"}) is None
    assert list_warning("tech_stack", tech, {"Snowflake"}) is not None


def test_assess_attaches_the_category_warning_to_the_mapped_input() -> None:
    report = assess({"industry": "string"}, inventory(), categories={"industry": {"Software"}})
    assert report.inputs[0].warnings
    mapped = inventory(value_maps={"industry": {"technology": "Software"}})
    assert (
        not assess({"industry": "string"}, mapped, categories={"industry": {"Software"}})
        .inputs[0]
        .warnings
    )


def test_own_fields_report_missing_and_read_only() -> None:
    writable = FieldInfo("Tierwise_Tier__c", "Tierwise Tier", "picklist", "string", writable=True)
    read_only = FieldInfo("Tierwise_Score__c", "Tierwise Score", "double", "number", writable=False)
    inv = inventory(
        own_fields=[
            OwnField("tier", "Account", "Tierwise_Tier__c", writable),
            OwnField("score", "Account", "Tierwise_Score__c", read_only),
            OwnField("task_key", "Task", "Tierwise_Key__c", None),
        ]
    )
    own = {o.logical: o for o in assess({}, inv).own_fields}
    assert own["tier"].exists
    assert own["tier"].writable
    assert not own["tier"].problem
    assert own["score"].exists
    assert not own["score"].writable
    assert "edit" in own["score"].problem
    assert not own["task_key"].exists
    assert "tierwise provision" in own["task_key"].problem


def test_tierwise_own_fields_are_never_candidates() -> None:
    own = FieldInfo("Tierwise_Score__c", "Tierwise Score", "double", "number", fill_rate=1.0)
    inv = inventory(
        [*SF_FIELDS, own], mapping={}, own_fields=[OwnField("score", "Account", own.name, own)]
    )
    (item,) = assess({"health_score": "number"}, inv).inputs
    assert own.name not in [c.name for c in item.candidates]


def test_own_field_that_exists_but_is_hidden_names_the_permission_set_fix() -> None:
    inv = inventory(own_fields=[OwnField("tier", "Account", "Tierwise_Tier__c", None, hidden=True)])
    (own,) = assess({}, inv).own_fields
    assert own.exists
    assert not own.writable
    assert "permission set" in own.problem


def _hs(name: str, label: str, crm_type: str, kind: str, fill: float) -> FieldInfo:
    return FieldInfo(name, label, crm_type, kind, fill_rate=fill)


# A HubSpot portal's stock company properties (distractors) plus the enriched profile's
# customer-named ones (CONTRACT.md item 1).
HS_FIELDS = [
    _hs("industry", "Industry", "enumeration/select", "string", 0.9),
    _hs("numberofemployees", "Number of Employees", "number/number", "number", 0.9),
    _hs("annualrevenue", "Annual Revenue", "number/number", "number", 0.8),
    _hs("web_technologies", "Web Technologies", "enumeration/checkbox", "list", 0.5),
    _hs("total_money_raised", "Total Money Raised", "string/text", "string", 0.3),
    _hs("hs_analytics_num_visits", "Number of Sessions", "number/number", "number", 0.9),
    _hs("hs_analytics_num_page_views", "Number of Pageviews", "number/number", "number", 0.9),
    _hs("hs_num_open_deals", "Number of open deals", "number/number", "number", 0.9),
    _hs("hs_total_deal_value", "Total open deal value", "number/number", "number", 0.9),
    _hs("notes_last_updated", "Last Activity Date", "datetime/date", "date", 0.9),
    _hs("recent_deal_close_date", "Recent Deal Close Date", "datetime/date", "date", 0.4),
    _hs("hs_csm_sentiment", "CSM sentiment", "enumeration/select", "string", 0.2),
    _hs("is_public", "Is Public", "bool/booleancheckbox", "bool", 0.9),
    _hs("hs_is_target_account", "Target Account", "bool/booleancheckbox", "bool", 0.9),
    _hs("technologies_used", "Technologies used", "enumeration/checkbox", "list", 0.6),
    _hs("site_sessions_30d", "Site sessions (30d)", "number/number", "number", 0.7),
    _hs("bombora_composite_score", "Bombora composite score", "number/number", "number", 0.8),
    _hs("bombora_surge", "Bombora surge", "enumeration/booleancheckbox", "bool", 1.0),
    _hs("funding_total", "Funding total", "number/number", "number", 0.3),
    _hs("last_funding_round_date", "Last funding round date", "date/date", "date", 0.3),
    _hs("competitor_install", "Competitor install", "bool/booleancheckbox", "bool", 1.0),
    _hs("credit_risk", "Credit risk", "enumeration/select", "string", 0.5),
    _hs("customer_health", "Customer health", "number/number", "number", 0.4),
    _hs("adoption_pct", "Adoption %", "number/number", "number", 0.4),
]

HS_EXPECTED = {
    "intent_score": "bombora_composite_score",
    "intent_surge": "bombora_surge",
    "last_funding_date": "last_funding_round_date",
    "competitor_customer": "competitor_install",
    "payment_risk": "credit_risk",
    "health_score": "customer_health",
    "product_adoption": "adoption_pct",
}


def test_hubspot_enriched_optional_inputs_get_the_customers_property() -> None:
    inv = inventory(
        HS_FIELDS,
        system="hubspot",
        object_name="companies",
        mapping={
            "industry": "industry",
            "employees": "numberofemployees",
            "web_visits": "hs_analytics_num_visits",
            "tech_stack": "web_technologies",
        },
    )
    model = {name: KINDS[name] for name in HS_EXPECTED}
    model.update(
        {"industry": "string", "employees": "number", "web_visits": "number", "tech_stack": "list"}
    )
    report = {r.name: r for r in assess(model, inv).inputs}
    proposals = {
        name: report[name].proposal.name if report[name].proposal else None for name in HS_EXPECTED
    }
    assert proposals == HS_EXPECTED
    assert all(report[n].status == "ok" for n in ("web_visits", "tech_stack"))


STOCK_HS = {
    "industry",
    "numberofemployees",
    "annualrevenue",
    "web_technologies",
    "total_money_raised",
    "hs_analytics_num_visits",
    "hs_analytics_num_page_views",
    "hs_num_open_deals",
    "hs_total_deal_value",
    "notes_last_updated",
    "recent_deal_close_date",
    "hs_csm_sentiment",
    "is_public",
    "hs_is_target_account",
}


def test_a_stock_portal_gets_no_confident_guess_for_custom_only_inputs() -> None:
    inv = inventory([f for f in HS_FIELDS if f.name in STOCK_HS], system="hubspot", mapping={})
    report = {r.name: r for r in assess({n: KINDS[n] for n in HS_EXPECTED}, inv).inputs}
    assert {n: r.proposal for n, r in report.items() if r.proposal is not None} == {}


def test_a_field_lost_to_a_better_input_falls_back_to_the_next_confident_one() -> None:
    inv = inventory([f for f in HS_FIELDS if f.name in STOCK_HS], system="hubspot", mapping={})
    report = {
        r.name: r for r in assess({"open_pipeline": "number", "open_deals": "number"}, inv).inputs
    }
    assert report["open_deals"].proposal is not None
    assert report["open_deals"].proposal.name == "hs_num_open_deals"
    assert report["open_pipeline"].proposal is not None
    assert report["open_pipeline"].proposal.name == "hs_total_deal_value"
