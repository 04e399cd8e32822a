"""The mapping file (``TIERWISE_MAPPING_PATH``): errors name file, line and key; a key
that names no model input stops the run before anything runs, from the file or from an
environment variable; environment variables win over the file key by key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from tierwise.config.mapping import (
    MappingError,
    apply_mapping,
    load_mapping,
    model_categories,
    parse_mapping,
)
from tierwise.config.settings import HubSpotSettings, SalesforceSettings, Settings
from tierwise.sync import bootstrap as boot
from tierwise.tiering import load_model

REPO = Path(__file__).resolve().parents[2]
MODEL = load_model(REPO / "config" / "model.yaml")
INPUTS = tuple(MODEL.fields)

VALID = """\
# a comment
salesforce:
  fields:
    intent_score: Bombora_Composite_Score__c
    web_visits: Website_Sessions_30d__c
  values:
    industry: {Technology: Software, Banking: Financial Services}
hubspot:
  fields:
    intent_score: bombora_composite_score
"""

BAD = [
    (
        "    intent_score: Bombora_Composite_Score__c\n",
        "    intnt_score: Bombora_Composite_Score__c\n",
        "mapping.yaml:4: salesforce.fields.intnt_score: names no model input "
        "(did you mean intent_score?)",
    ),
    ("hubspot:\n", "hubspto:\n", "mapping.yaml:8: hubspto: unknown CRM (did you mean hubspot?)"),
    (
        "  values:\n",
        "  value:\n",
        "mapping.yaml:6: salesforce.value: unknown key (did you mean values?)",
    ),
    (
        "    web_visits: Website_Sessions_30d__c\n",
        "    web_visits: [a, b]\n",
        "mapping.yaml:5: salesforce.fields.web_visits: must be a CRM field name "
        "(e.g. Bombora_Composite_Score__c)",
    ),
    (
        "    industry: {Technology: Software, Banking: Financial Services}\n",
        "    industry: Software\n",
        "mapping.yaml:7: salesforce.values.industry: must map each value the org stores to "
        "a model category, e.g. {Technology: Software}",
    ),
    (
        "    industry: {Technology: Software, Banking: Financial Services}\n",
        "    industry: {Technology: Software, Banking: }\n",
        "mapping.yaml:7: salesforce.values.industry.Banking: must be a model category (text)",
    ),
    (
        "    industry: {Technology: Software, Banking: Financial Services}\n",
        "    industri: {Technology: Software}\n",
        "mapping.yaml:7: salesforce.values.industri: names no model input (did you mean industry?)",
    ),
    (
        "    web_visits: Website_Sessions_30d__c\n",
        "    web_visits: Website_Sessions_30d__c\n    web_visits: Other__c\n",
        'mapping.yaml:6: (yaml): invalid YAML: found duplicate key "web_visits" with value '
        '"Other__c" (original value: "Website_Sessions_30d__c")',
    ),
]


def _settings(tmp_path: Path, text: str | None = VALID, **crm: object) -> Settings:
    path = None
    if text is not None:
        path = tmp_path / "mapping.yaml"
        path.write_text(text, encoding="utf-8")
    return Settings(
        mapping_path=path,
        salesforce=SalesforceSettings(
            instance_url="https://sf.invalid",
            access_token=SecretStr("t"),
            **crm.get("salesforce", {}),  # type: ignore[arg-type]  # test-only kwargs
        ),
        hubspot=HubSpotSettings(
            access_token=SecretStr("t"),
            **crm.get("hubspot", {}),  # type: ignore[arg-type]  # test-only kwargs
        ),
    )


def test_the_file_fills_each_crms_fields_and_value_maps(tmp_path: Path) -> None:
    settings = apply_mapping(_settings(tmp_path), INPUTS)

    assert settings.salesforce is not None
    assert settings.hubspot is not None
    assert settings.salesforce.fields == {
        "intent_score": "Bombora_Composite_Score__c",
        "web_visits": "Website_Sessions_30d__c",
    }
    assert settings.salesforce.value_maps == {
        "industry": {"Technology": "Software", "Banking": "Financial Services"}
    }
    assert settings.hubspot.fields == {"intent_score": "bombora_composite_score"}


@pytest.mark.parametrize(("old", "new", "expected"), BAD, ids=[b[2][:60] for b in BAD])
def test_a_bad_mapping_names_file_line_key_and_problem(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in VALID
    path = tmp_path / "mapping.yaml"
    path.write_text(VALID.replace(old, new, 1), encoding="utf-8")
    settings = Settings(mapping_path=path)

    with pytest.raises(MappingError) as caught:
        apply_mapping(settings, INPUTS)

    assert str(caught.value) == str(expected).replace("mapping.yaml", str(path), 1)


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(
        MappingError,
        match=r"nope\.yaml: \(file\): cannot be read: .*"
        r"TIERWISE_MAPPING_PATH",
    ):
        load_mapping(tmp_path / "nope.yaml")


def test_an_empty_file_maps_nothing() -> None:
    assert parse_mapping("# nothing yet\n").fields == {}


def test_environment_variables_win_over_the_file_key_by_key(tmp_path: Path) -> None:
    settings = apply_mapping(
        _settings(
            tmp_path,
            salesforce={
                "fields": {"intent_score": "Env_Intent__c"},
                "value_maps": {"industry": {"Banking": "Software"}},
            },
        ),
        INPUTS,
    )

    assert settings.salesforce is not None
    assert settings.salesforce.fields == {
        "intent_score": "Env_Intent__c",
        "web_visits": "Website_Sessions_30d__c",
    }
    assert settings.salesforce.value_maps["industry"] == {
        "Technology": "Software",
        "Banking": "Software",
    }


def test_an_unknown_key_in_an_environment_variable_names_the_variable(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None, hubspot={"fields": {"intnt_score": "x"}})

    with pytest.raises(MappingError) as caught:
        apply_mapping(settings, INPUTS)

    assert str(caught.value) == (
        "TIERWISE_HUBSPOT__FIELDS: intnt_score: names no model input (did you mean intent_score?)"
    )


def test_the_env_var_reaches_the_settings_and_the_connectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(VALID, encoding="utf-8")
    monkeypatch.setenv("TIERWISE_MAPPING_PATH", str(path))
    monkeypatch.setenv("TIERWISE_HUBSPOT__ACCESS_TOKEN", "t")
    monkeypatch.setenv("TIERWISE_HUBSPOT__FIELDS", '{"web_visits": "visits_env"}')

    settings = Settings()
    [hubspot] = boot.build_crm_connectors(settings, MODEL)

    assert path == settings.mapping_path
    mapped = hubspot.model_fields  # type: ignore[attr-defined]  # the HubSpot connector's
    assert mapped["intent_score"] == ("bombora_composite_score", "number")
    assert mapped["web_visits"] == ("visits_env", "number")


def test_a_misspelt_key_stops_before_any_connector_is_built(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(VALID.replace("intent_score: bombora", "intnt_score: bombora"), "utf-8")
    settings = _settings(tmp_path, None).model_copy(update={"mapping_path": path})

    with pytest.raises(MappingError, match=r"mapping\.yaml:10: hubspot\.fields\.intnt_score"):
        boot.build_crm_connectors(settings, MODEL)


def test_the_example_file_maps_only_model_inputs() -> None:
    """Every key of config/mapping.example.yaml is an input of the default model or of the
    customer model (mappable while customer tiers are off)."""
    settings = Settings(mapping_path=REPO / "config" / "mapping.example.yaml")
    example = load_mapping(REPO / "config" / "mapping.example.yaml")

    apply_mapping(settings, INPUTS)

    assert example.fields["salesforce"]["intent_score"] == "Bombora_Composite_Score__c"
    assert example.fields["hubspot"]["intent_score"] == "bombora_composite_score"
    with pytest.raises(MappingError, match="health_score: names no model input"):
        apply_mapping(settings, INPUTS, tolerated=())


CATEGORIES = model_categories(MODEL)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            "    industry: {Technology: Software, Banking: Finance}\n",
            "mapping.yaml:7: salesforce.values.industry.Banking: 'Finance' is not a model "
            "category for industry (expected one of: Education, Energy, Financial Services, "
            "Government, Healthcare, Logistics, Manufacturing, Media, Retail, Software)",
        ),
        (
            "    industry:\n      Technology: Software\n      Banking: financial services\n",
            "mapping.yaml:9: salesforce.values.industry.Banking: 'financial services' is not a "
            "model category for industry (did you mean Financial Services? categories match "
            "exactly)",
        ),
        (
            "    payment_risk: {Low: low, High: hihg}\n",
            "mapping.yaml:7: salesforce.values.payment_risk.High: 'hihg' is not a model "
            "category for payment_risk (did you mean high?)",
        ),
        (
            "    employees: {Large: '5000'}\n",
            "mapping.yaml:7: salesforce.values.employees.Large: maps onto '5000', but the model "
            "has no categories for employees (value maps only feed category tables and lists)",
        ),
    ],
    ids=["unknown category", "wrong case", "misspelt", "not a category input"],
)
def test_a_value_map_onto_no_model_category_names_file_line_and_key(
    tmp_path: Path, values: str, expected: str
) -> None:
    old = "    industry: {Technology: Software, Banking: Financial Services}\n"
    path = tmp_path / "mapping.yaml"
    path.write_text(VALID.replace(old, values, 1), encoding="utf-8")

    with pytest.raises(MappingError) as caught:
        apply_mapping(Settings(mapping_path=path), INPUTS, categories=CATEGORIES)

    assert str(caught.value) == expected.replace("mapping.yaml", str(path), 1)


def test_a_value_map_may_target_the_values_a_list_input_is_tested_for(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "hubspot:\n  values:\n    tech_stack: {snowflake_inc: Snowflake, sfdc: Salesforce}\n",
        encoding="utf-8",
    )
    settings = apply_mapping(
        Settings(mapping_path=path, hubspot=HubSpotSettings(access_token=SecretStr("t"))),
        INPUTS,
        categories=CATEGORIES,
    )

    assert settings.hubspot is not None
    maps = settings.hubspot.value_maps
    assert maps["tech_stack"] == {"snowflake_inc": "Snowflake", "sfdc": "Salesforce"}
    assert {"Snowflake", "Salesforce", "Segment"} <= CATEGORIES["tech_stack"]


def test_a_value_map_in_an_environment_variable_onto_no_category_names_the_variable(
    tmp_path: Path,
) -> None:
    settings = _settings(
        tmp_path, None, hubspot={"value_maps": {"industry": {"COMPUTER_SOFTWARE": "Softwear"}}}
    )

    with pytest.raises(MappingError) as caught:
        apply_mapping(settings, INPUTS, categories=CATEGORIES)

    assert str(caught.value) == (
        "TIERWISE_HUBSPOT__VALUE_MAPS: industry.COMPUTER_SOFTWARE: 'Softwear' is not a model "
        "category for industry (did you mean Software?)"
    )


def test_the_example_files_value_maps_land_on_model_categories() -> None:
    settings = Settings(mapping_path=REPO / "config" / "mapping.example.yaml")

    apply_mapping(settings, INPUTS, categories=CATEGORIES)


def test_a_value_map_onto_no_category_stops_before_any_connector_is_built(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(VALID.replace("Banking: Financial Services", "Banking: Banks"), "utf-8")
    settings = _settings(tmp_path, None).model_copy(update={"mapping_path": path})

    with pytest.raises(
        MappingError,
        match=r"mapping\.yaml:7: salesforce\.values\.industry\."
        r"Banking: 'Banks' is not a model category",
    ):
        boot.build_crm_connectors(settings, MODEL)
