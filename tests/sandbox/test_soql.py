# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The SOQL parser and evaluator on plain records."""

from __future__ import annotations

from typing import Any

import pytest

from tierwise.sandbox import soql

TYPES = {
    "Id": "id",
    "Name": "string",
    "NumberOfEmployees": "int",
    "SystemModstamp": "datetime",
    "LastActivityDate": "date",
    "Intent_Surge__c": "boolean",
    "Tech_Stack__c": "multipicklist",
}
ROWS: list[dict[str, Any]] = [
    {
        "Id": "a",
        "Name": "Acme",
        "NumberOfEmployees": 10,
        "SystemModstamp": "2024-01-02T10:00:00.000+0000",
        "LastActivityDate": "2024-01-01",
        "Intent_Surge__c": True,
        "Tech_Stack__c": "AWS;Okta",
    },
    {
        "Id": "b",
        "Name": "O'Neil \\ Co",
        "NumberOfEmployees": None,
        "SystemModstamp": "2024-01-02T10:00:00.500+0000",
        "LastActivityDate": None,
        "Intent_Surge__c": False,
        "Tech_Stack__c": None,
    },
    {
        "Id": "c",
        "Name": "100% Foods",
        "NumberOfEmployees": 500,
        "SystemModstamp": "2024-03-01T00:00:00.000+0000",
        "LastActivityDate": "2024-02-01",
        "Intent_Surge__c": False,
        "Tech_Stack__c": "Okta",
    },
]


def resolve(name: str) -> tuple[str, str]:
    for field, ftype in TYPES.items():
        if field.lower() == name.lower():
            return field, ftype
    raise AssertionError(name)


def select(where: str, order: str = "") -> list[str]:
    query = soql.parse(f"SELECT Id FROM Account WHERE {where} {order}")  # noqa: S608 - SOQL under test
    predicate = soql.compile_where(query.where, "Account", resolve)
    rows = [r for r in ROWS if predicate(r)]
    if query.order:
        rows.sort(key=soql.sort_key(query.order))
    return [r["Id"] for r in rows]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'acme'", ["a"]),
        ("Name = 'O\\'Neil \\\\ Co'", ["b"]),
        ("Name LIKE '100\\% %'", ["c"]),
        ("Name LIKE 'A_me'", ["a"]),
        ("NumberOfEmployees = null", ["b"]),
        ("NumberOfEmployees != null AND NumberOfEmployees < 100", ["a"]),
        ("NumberOfEmployees >= 10", ["a", "c"]),
        ("SystemModstamp > 2024-01-02T10:00:00Z", ["b", "c"]),
        ("SystemModstamp >= 2024-01-02T11:00:00+01:00", ["a", "b", "c"]),
        ("SystemModstamp < 2024-01-02T10:00:00.500Z", ["a"]),
        ("LastActivityDate <= 2024-01-15", ["a"]),
        ("Intent_Surge__c = true", ["a"]),
        ("Id IN ('a', 'c')", ["a", "c"]),
        ("Id NOT IN ('a')", ["b", "c"]),
        ("NOT (Id = 'a' OR Id = 'b')", ["c"]),
        ("(Id = 'a' OR Id = 'b') AND Intent_Surge__c = false", ["b"]),
        ("Tech_Stack__c INCLUDES ('Okta')", ["a", "c"]),
        ("Tech_Stack__c INCLUDES ('AWS;Okta')", ["a"]),
        ("Tech_Stack__c EXCLUDES ('AWS')", ["b", "c"]),
    ],
)
def test_where_conditions_select_the_matching_rows(where: str, expected: list[str]) -> None:
    assert expected == select(where)


def test_order_by_desc_puts_nulls_last_and_asc_puts_them_first() -> None:
    assert ["c", "a", "b"] == select("Id != null", "ORDER BY NumberOfEmployees DESC")
    assert ["b", "a", "c"] == select("Id != null", "ORDER BY NumberOfEmployees")
    assert ["a", "c", "b"] == select("Id != null", "ORDER BY NumberOfEmployees NULLS LAST")


def test_order_by_several_fields() -> None:
    assert ["a", "b", "c"] == select("Id != null", "ORDER BY Intent_Surge__c DESC, Name DESC")
    assert ["a", "c", "b"] == select("Id != null", "ORDER BY Intent_Surge__c DESC, Name ASC")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Account",
        "SELECT Id FROM Account WHERE Name = 'unterminated",
        "SELECT Id FROM Account WHERE Id = 'a' AND Id = 'b' OR Id = 'c'",
        "SELECT Id FROM Account LIMIT -1",
        "SELECT Id FROM Account WHERE Name = 'bad \\q escape'",
        "SELECT Id FROM Account ORDER Id",
    ],
)
def test_malformed_statements_raise_malformed_query(text: str) -> None:
    with pytest.raises(soql.SoqlError) as raised:
        soql.parse(text)

    assert "MALFORMED_QUERY" == raised.value.code


def test_a_quoted_datetime_on_a_datetime_field_is_rejected() -> None:
    query = soql.parse("SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01T00:00:00Z'")

    with pytest.raises(soql.SoqlError, match="must be of type dateTime"):
        soql.compile_where(query.where, "Account", resolve)


def test_a_date_literal_on_a_datetime_field_is_rejected() -> None:
    query = soql.parse("SELECT Id FROM Account WHERE SystemModstamp > 2024-01-01")

    with pytest.raises(soql.SoqlError):
        soql.compile_where(query.where, "Account", resolve)


def test_count_limit_and_offset_parse() -> None:
    query = soql.parse("select count() from Task where Id != null limit 5 offset 2")

    assert (True, 5, 2, "Task") == (query.count_only, query.limit, query.offset, query.object_name)
