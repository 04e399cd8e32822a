# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Compact storage (sandbox/records.py) answers exactly as the wire-form dicts it replaced."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tierwise.sandbox import Sandbox
from tierwise.sandbox.clock import epoch_ms, hs_datetime, hs_from_ms, sf_datetime, sf_from_ms
from tierwise.sandbox.hs_exports import ExportBehaviour, _Packer
from tierwise.sandbox.hs_records import HubSpotObject
from tierwise.sandbox.records import Layout, SeedIds
from tierwise.sandbox.seed import generate_companies

from .conftest import sf_client


def test_a_record_reads_writes_and_iterates_like_the_dict_it_was_built_from() -> None:
    layout = Layout(["Id", "Name", "Rating"])
    plain = {"Id": "001", "Name": "Acme"}
    record = layout.pack(plain)

    assert plain == record
    assert ["Id", "Name"] == list(record)
    assert "Rating" not in record
    assert None is record.get("Rating")
    with pytest.raises(KeyError):
        record["Rating"]
    record.update({"Rating": None, "Extra__c": 3})
    assert {"Id": "001", "Name": "Acme", "Rating": None, "Extra__c": 3} == dict(record)
    del record["Name"]
    assert "Name" not in record
    assert 3 == len(record)


def test_a_layout_fallback_gives_existing_records_a_new_field_but_not_pinned_ones() -> None:
    layout = Layout(["Id"])
    live, gone = layout.pack({"Id": "a"}), layout.pack({"Id": "b"})
    gone.pin("Flag__c")

    layout.set_fallback("Flag__c", False)

    assert {"Id": "a", "Flag__c": False} == live
    assert {"Id": "b"} == gone
    assert {"Id": "c"} == layout.pack({"Id": "c"})


def test_a_new_salesforce_field_shows_on_every_account_at_its_default_but_not_on_deleted_ones(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from tierwise.sandbox.sf_schema_fields import FieldDef

    sb = make_sandbox(accounts=3)
    org = sb.salesforce.org
    gone = next(iter(org.objects["Account"]))
    org.delete("Account", gone)

    org.add_field("Account", FieldDef("Flag__c", "boolean", default=False))

    assert all(False is r["Flag__c"] for r in org.objects["Account"].values())
    assert "Flag__c" not in org.deleted["Account"][gone]


def test_a_hubspot_object_is_its_five_wire_keys() -> None:
    props = Layout().pack({"name": "Acme"})
    obj = HubSpotObject("1", props, "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z", False)
    obj["updatedAt"] = "2024-01-03T00:00:00.000Z"

    assert {
        "id": "1",
        "properties": {"name": "Acme"},
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-03T00:00:00.000Z",
        "archived": False,
    } == dict(obj)
    with pytest.raises(KeyError):
        obj["other"] = 1


def test_seed_ids_map_the_generators_keys_in_order() -> None:
    ids = SeedIds()
    ids.append("c0000000", "001A", "18000000001")
    ids.append("c0000001", "001B", "18000000002")

    assert {"c0000000": ("001A", "18000000001"), "c0000001": ("001B", "18000000002")} == dict(ids)
    assert "c1" not in ids
    with pytest.raises(ValueError, match="in order"):
        ids.append("c0000005", "001C", "18000000003")


def test_a_query_locator_pages_the_values_the_query_saw_not_later_writes(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(accounts=450)
    sf = sf_client(sb)
    first = sf.query(
        "SELECT Id, Name FROM Account", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    later = list(sb.salesforce.objects["Account"])[300]
    sf.Account.update(later, {"Name": "Renamed after the query"})

    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    rest_names = {r["Id"]: r["Name"] for r in rest["records"]}

    assert "Renamed after the query" != rest_names[later]
    assert f"/services/data/v59.0/sobjects/Account/{later}" == next(
        r["attributes"]["url"] for r in rest["records"] if r["Id"] == later
    )


def _unpack(name: str, data: bytes) -> list[list[str]]:
    if not name.endswith(".zip"):
        return list(csv.reader(io.StringIO(data.decode())))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            row
            for member in archive.namelist()
            for row in csv.reader(io.StringIO(archive.read(member).decode()))
        ]


@pytest.mark.parametrize(
    ("rows", "zip_over", "per_file", "name", "members"),
    [
        (10, 10_000, 100, "export-7-1.csv", 0),  # small: one plain CSV
        (100, 10_000, 100, "export-7-1.csv", 0),  # exactly one full file: still plain
        (500, 2_000, 1_000, "export-7.zip", 1),  # over the size: zipped
        (250, 10_000, 100, "export-7.zip", 3),  # over the rows per file: partitioned
    ],
)
def test_an_export_file_is_written_as_its_rows_arrive(
    rows: int, zip_over: int, per_file: int, name: str, members: int
) -> None:
    header = ["Record ID", "name"]
    packer = _Packer("7", header, ExportBehaviour(zip_over_bytes=zip_over, rows_per_file=per_file))
    data: list[list[Any]] = [[str(i), f"Company {i}, Inc."] for i in range(rows)]
    for row in data:
        packer.add(row)

    file_name, file = packer.finish()

    assert name == file_name
    parts = max(1, members)
    assert [header] * parts == [r for r in _unpack(file_name, file) if r == header]
    assert data == [r for r in _unpack(file_name, file) if r != header]
    if members:
        with zipfile.ZipFile(io.BytesIO(file)) as archive:
            assert [f"export-7-{n}.csv" for n in range(1, members + 1)] == archive.namelist()


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2024, 1, 2, 10, 0, 0, 123_999, tzinfo=UTC),
        datetime(2021, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC),
        datetime(2020, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_a_stamp_kept_as_epoch_milliseconds_prints_as_its_wire_form(stamp: datetime) -> None:
    ms = epoch_ms(stamp)

    assert sf_datetime(stamp) == sf_from_ms(ms)
    assert hs_datetime(stamp) == hs_from_ms(ms)


def test_seeded_stamps_read_in_wire_form_in_both_crms(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(accounts=5)
    company = next(generate_companies(5, sb.seed, today=sb.today))
    sf_id, hs_id = sb.company_ids[company["key"]]
    account = sb.salesforce.objects["Account"][sf_id]
    obj = sb.hubspot.objects["companies"][hs_id]

    assert sf_datetime(company["modified"]) == account["SystemModstamp"]
    assert sf_datetime(company["created"]) == account.get("CreatedDate")
    assert hs_datetime(company["modified"]) == obj["updatedAt"]
    assert hs_datetime(company["created"]) == obj["properties"]["createdate"]
    assert obj["updatedAt"] == dict(obj["properties"])["hs_lastmodifieddate"]


def test_a_query_and_a_bulk_query_print_seeded_stamps_in_their_wire_forms(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(accounts=3)
    company = next(generate_companies(3, sb.seed, today=sb.today))
    sf_id = sb.company_ids[company["key"]][0]
    org = sb.salesforce.org
    soql = f"SELECT Id, SystemModstamp FROM Account WHERE Id = '{sf_id}'"  # noqa: S608

    _, rows, _ = org.run_query(soql, include_deleted=False, version="59.0")
    job = sb.salesforce.bulk_query.create({"operation": "query", "query": soql}, "59.0")
    while job.state != "JobComplete":
        sb.salesforce.bulk_query.poll(job.id)
    text, _, _ = sb.salesforce.bulk_query.results(job.id, "59.0", None, None)

    assert sf_datetime(company["modified"]) == rows[0]["SystemModstamp"]
    wire = sf_datetime(company["modified"]).removesuffix("+0000") + "Z"
    assert [["Id", "SystemModstamp"], [sf_id, wire]] == list(csv.reader(io.StringIO(text)))
