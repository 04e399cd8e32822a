# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The SOQL engine answers the first page without projecting the rest (issue 15, 1M probe).

A query keeps, per matching row, a tuple of the selected fields' stored values (and the
same for its subquery's matching children); wire dicts and child locators are made only
for the page asked for. What the pages show is still what the query saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tierwise.sandbox import Sandbox, sf_org_query, soql, soql_order
from tierwise.sandbox.records import Layout, ProjectedRows, snapshot, stored

from .conftest import sf_client

SUBQUERY = (
    "SELECT Id, Name, (SELECT Id, Amount FROM Opportunities) FROM Account "
    "ORDER BY SystemModstamp, Id"
)


def _many_children(sb: Sandbox, count: int) -> tuple[str, str]:
    """The last account in SystemModstamp order, given ``count`` Opportunities."""
    sf = sf_client(sb)
    last = sf.query("SELECT Id FROM Account ORDER BY SystemModstamp DESC, Id DESC LIMIT 1")
    account_id = last["records"][0]["Id"]
    first_child = ""
    for n in range(count):
        made = sf.Opportunity.create(
            {
                "Name": f"Deal {n}",
                "AccountId": account_id,
                "StageName": "Prospecting",
                "CloseDate": "2030-01-01",
                "Amount": n,
            }
        )
        first_child = first_child or made["id"]
    return account_id, first_child


def test_a_subquery_locator_holds_value_tuples_and_opens_child_locators_only_on_their_page(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sf_org_query, "CHILD_BATCH", 2)
    sb = make_sandbox(accounts=450, opportunities=False)
    account_id, _ = _many_children(sb, 3)
    sf = sf_client(sb)
    org = sb.salesforce.org

    first = sf.query(SUBQUERY, headers={"Sforce-Query-Options": "batchSize=200"})
    held = org.cursors[first["nextRecordsUrl"].split("/")[-1].split("-")[0]].rows

    assert 450 == first["totalSize"]
    assert isinstance(held, ProjectedRows)
    assert all(isinstance(row, tuple) for row in held.rows)
    assert 1 == len(org.cursors)  # the parent locator only: no child page was made yet
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    rest = sf.query_more(rest["nextRecordsUrl"], identifier_is_url=True)
    row = next(r for r in rest["records"] if r["Id"] == account_id)
    assert 3 == row["Opportunities"]["totalSize"]
    assert 2 == len(row["Opportunities"]["records"])
    assert 2 == len(org.cursors)
    more = sf.query_more(row["Opportunities"]["nextRecordsUrl"], identifier_is_url=True)
    assert [2] == [r["Amount"] for r in more["records"]]


def test_subquery_children_on_a_later_page_are_those_the_query_saw(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    # A locator's results are kept with it ("Cursors and their related query results are
    # available for 2 days, including results in nested queries":
    # https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-apicursors.html).
    sb = make_sandbox(accounts=450, opportunities=False)
    account_id, child_id = _many_children(sb, 1)
    sf = sf_client(sb)
    first = sf.query(SUBQUERY, headers={"Sforce-Query-Options": "batchSize=200"})

    sf.Opportunity.update(child_id, {"Amount": 999})
    sf.Account.update(account_id, {"Name": "Renamed after the query"})
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    rest = sf.query_more(rest["nextRecordsUrl"], identifier_is_url=True)
    row = next(r for r in rest["records"] if r["Id"] == account_id)

    assert "Renamed after the query" != row["Name"]
    assert [0] == [r["Amount"] for r in row["Opportunities"]["records"]]


def test_order_by_a_datetime_mixes_seeded_stamps_and_written_ones_in_time_order(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(accounts=30, opportunities=False)
    sf = sf_client(sb)
    written = list(sb.salesforce.objects["Account"])[5]
    sf.Account.update(written, {"Name": "Written now"})

    asc = sf.query("SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp, Id")
    desc = sf.query("SELECT Id FROM Account ORDER BY SystemModstamp DESC, Id")
    stamps = [r["SystemModstamp"] for r in asc["records"]]

    assert written == asc["records"][-1]["Id"]
    assert written == desc["records"][0]["Id"]
    assert sorted(stamps) == stamps


def test_a_snapshot_takes_the_values_stored_reads_for_full_short_and_plain_records() -> None:
    layout = Layout(["Id", "Name", "Rating", "SystemModstamp"])
    full = layout.pack({"Id": "001A", "Name": "Acme", "Rating": None, "SystemModstamp": 5})
    absent = layout.pack({"Id": "001B", "SystemModstamp": 7})
    short = layout.record(["001C", "Short"])
    layout.set_fallback("Tierwise_Tier__c", "tier_3")  # a field added after the records
    fields = ["Name", "Rating", "SystemModstamp", "Tierwise_Tier__c"]
    plain: dict[str, Any] = {"Id": "001D", "Name": "Plain"}
    records = [full, absent, short, plain]

    expected = [(r["Id"], *[stored(r, n) for n in fields]) for r in records]

    assert ("001A", "Acme", None, 5, "tier_3") == expected[0]
    assert expected == snapshot(records, fields, layout)
    assert [("001A",), ("001B",)] == snapshot([full, absent], [], layout)
    assert [e[1:] for e in expected] == snapshot(records, fields, layout, with_id=False)


@pytest.mark.parametrize(
    ("items", "simple"),
    [
        (
            (soql.OrderItem("SystemModstamp", False, False), soql.OrderItem("Id", False, False)),
            True,
        ),
        ((soql.OrderItem("AnnualRevenue", True, False),), True),
        ((soql.OrderItem("Name", False, False),), True),
        ((soql.OrderItem("Name", True, False),), False),  # DESC text: the general key
        ((soql.OrderItem("Rating", False, True),), False),  # a null: the general key
    ],
)
def test_ordering_on_columns_agrees_with_the_general_sort_key(
    items: tuple[soql.OrderItem, ...], simple: bool
) -> None:
    layout = Layout(["Id", "Name", "AnnualRevenue", "Rating", "SystemModstamp"])
    rows = [
        {
            "Id": "001A00000000002AAA",
            "Name": "beta",
            "AnnualRevenue": 5,
            "Rating": "Hot",
            "SystemModstamp": "2024-01-02T00:00:00.000+0000",
        },
        layout.pack(
            {
                "Id": "001A00000000001",
                "Name": "Alpha",
                "AnnualRevenue": 5.5,
                "Rating": None,
                "SystemModstamp": 1_704_067_200_000,
            }
        ),
        layout.pack(
            {
                "Id": "001A00000000003",
                "Name": "alpha",
                "AnnualRevenue": 7,
                "Rating": "Cold",
                "SystemModstamp": 1_704_067_200_000,
            }
        ),
    ]
    types = {
        "Id": "id",
        "Name": "string",
        "AnnualRevenue": "currency",
        "Rating": "picklist",
        "SystemModstamp": "datetime",
    }
    names = [item.field for item in items]
    columns = list(zip(*snapshot(rows, names, layout, with_id=False), strict=True))

    positions = soql_order.simple_order(columns, items, types)

    assert simple == (positions is not None)
    if positions is not None:
        assert sorted(rows, key=soql_order.sort_key(items, types)) == [rows[n] for n in positions]


def test_a_locator_being_paged_outlives_locators_opened_after_it(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory guard drops the least recently used locator: a queryMore uses its
    locator, so locators opened while it is paged (its pages' child locators) do not
    evict it."""
    monkeypatch.setattr(sf_org_query, "CURSOR_ROWS", 750)  # the 650 paged + 100 more
    sandbox = make_sandbox(accounts=650, opportunities=False)
    org = sandbox.salesforce.org
    sf = sf_client(sandbox)
    first = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})
    older = org.open_cursor("Account", [{}] * 50, 200)
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    org.open_cursor("Account", [{}] * 100, 200)  # over the cap: one locator must go

    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)

    assert [200, 200] == [len(second["records"]), len(third["records"])]
    assert older not in org.cursors
