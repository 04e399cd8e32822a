"""CRM values onto canonical types; bad values become None, never a crash."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tierwise.connectors.parsing import (
    UnparseableError,
    normalise_domain,
    parse_datetime,
    parse_value,
)


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("1200", "number", 1200.0),
        ("-5", "number", -5.0),
        ("1,250,000.50", "number", 1250000.5),
        (42, "number", 42.0),
        ("true", "bool", True),
        (False, "bool", False),
        ("2024-03-01", "date", date(2024, 3, 1)),
        ("2024-03-01T23:30:00.000+0000", "date", date(2024, 3, 1)),
        ("1709251200000", "date", date(2024, 3, 1)),
        ("AWS;Okta; Snowflake", "list", ("AWS", "Okta", "Snowflake")),
        ("Software", "string", "Software"),
        ("", "number", None),
        (None, "string", None),
    ],
)
def test_values_are_parsed_into_canonical_types(raw: object, kind: str, expected: object) -> None:
    assert expected == parse_value(raw, kind)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("n/a", "number"),
        ("1.2M", "number"),
        ("nan", "number"),
        ("maybe", "bool"),
        ("next week", "date"),
        (True, "number"),
    ],
)
def test_unparseable_values_raise_for_the_connector_to_report(raw: object, kind: str) -> None:
    with pytest.raises(UnparseableError):
        parse_value(raw, kind)


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("http://acme.co.uk", "acme.co.uk"),
        ("www.acme.io", "acme.io"),
        ("ACME.COM:8080/path", "acme.com"),
        ("", None),
        (None, None),
    ],
)
def test_domains_are_normalised_from_websites(website: str | None, domain: str | None) -> None:
    assert domain == normalise_domain(website)


def test_salesforce_and_hubspot_datetimes_parse_to_aware_utc() -> None:
    expected = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert expected == parse_datetime("2024-01-02T10:00:00.000+0000")
    assert expected == parse_datetime("2024-01-02T10:00:00.000Z")


def test_a_value_map_turns_the_crms_values_into_the_models_categories() -> None:
    from tierwise.connectors.parsing import RecordReader, value_map

    reader = RecordReader({"Industry": "Technology", "Tech": "salesforce;Snowflake;Other"})
    maps = {
        "industry": value_map({"Technology": "Software"}),
        "tech": value_map({"SALESFORCE": "Salesforce", "snowflake": "Snowflake"}),
    }
    fields = reader.canonical({"industry": ("Industry", "string"), "tech": ("Tech", "list")}, maps)
    assert fields == {"industry": "Software", "tech": ("Salesforce", "Snowflake", "Other")}
