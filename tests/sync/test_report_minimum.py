"""The minimum a run's calls are set against is the best path the API offers (issue 15)."""

from __future__ import annotations

import pytest

from tierwise.sync.minimum import (
    PathMinimum,
    minimum_calls,
    property_sets,
    read_minimum,
    task_minimum,
    write_minimum,
)
from tierwise.tiering.records import FieldLayout, FieldRow


@pytest.mark.parametrize(
    ("system", "rows", "full", "expected"),
    [
        # Salesforce: 2,000-row queryMore pages until a Bulk 2.0 job (create, >= 1 poll,
        # 50,000-row result pages) costs fewer calls.
        ("salesforce", 0, True, PathMinimum("rest query", 1)),
        ("salesforce", 4_000, True, PathMinimum("rest query", 2)),
        ("salesforce", 6_001, True, PathMinimum("bulk2 query", 3)),
        ("salesforce", 100_000, True, PathMinimum("bulk2 query", 4)),
        ("salesforce", 1_000_000, True, PathMinimum("bulk2 query", 22)),
        # HubSpot: list pages of 100 (full) or search pages of 200 (incremental) until one
        # export (start, >= 1 status, one download per 1,000,000-row file) is cheaper.
        ("hubspot", 150, True, PathMinimum("list", 2)),
        ("hubspot", 300, False, PathMinimum("search", 2)),
        ("hubspot", 601, False, PathMinimum("export", 3)),
        ("hubspot", 301, True, PathMinimum("export", 3)),
        ("hubspot", 1_000_000, True, PathMinimum("export", 3)),
        ("hubspot", 1_000_001, True, PathMinimum("export", 4)),
    ],
)
def test_reads_are_priced_on_the_cheaper_of_the_rest_and_bulk_paths(
    system: str, rows: int, full: bool, expected: PathMinimum
) -> None:
    assert read_minimum(system, rows, full=full) == expected


def test_without_bulk_paths_reads_and_writes_are_priced_on_pages_and_batches() -> None:
    assert read_minimum("salesforce", 100_000, bulk=False) == PathMinimum("rest query", 50)
    assert read_minimum("hubspot", 100_000, bulk=False) == PathMinimum("list", 1000)
    assert write_minimum("salesforce", 100_000, bulk=False) == PathMinimum("collections", 500)
    assert write_minimum("hubspot", 100_000, bulk=False) == PathMinimum("batch", 1000)


@pytest.mark.parametrize(
    ("system", "rows", "expected"),
    [
        ("salesforce", 0, PathMinimum("collections", 0)),
        ("salesforce", 600, PathMinimum("collections", 3)),
        ("salesforce", 800, PathMinimum("collections", 4)),  # a tie keeps the batches
        ("salesforce", 801, PathMinimum("bulk2 ingest", 4)),
        # An import: the create, >= 1 status read, the errors page that names failed rows.
        ("hubspot", 100, PathMinimum("batch", 1)),
        ("hubspot", 300, PathMinimum("batch", 3)),  # a tie keeps the batches
        ("hubspot", 301, PathMinimum("import", 3)),
    ],
)
def test_writes_are_priced_on_batches_or_one_bulk_job(
    system: str, rows: int, expected: PathMinimum
) -> None:
    assert write_minimum(system, rows) == expected


def test_the_run_minimum_sums_the_best_path_of_each_kind_of_work() -> None:
    assert task_minimum("salesforce", 401) == PathMinimum("tasks", 3)
    # 100k pulled (a Bulk 2.0 job: 4), 100k written (an ingest job: 4), 401 tasks (3).
    assert minimum_calls("salesforce", 100_000, 100_000, 401) == 11
    # An incremental HubSpot pull of 150 rows is one search page of 200.
    assert minimum_calls("hubspot", 150, 0, 0, full=False) == 1


def test_each_related_object_a_bulk_pull_reads_is_a_job_of_its_own() -> None:
    # 100k accounts (create, status, two 50k pages) and 30k open Opportunities (create,
    # status, one page): Bulk 2.0 has no subqueries; REST reads them in the subquery.
    assert PathMinimum("bulk2 query", 7) == read_minimum("salesforce", 100_000, related=[30_000])
    assert PathMinimum("rest query", 1) == read_minimum("salesforce", 1_500, related=[900])


def test_status_reads_are_the_servers_processing_time_priced_per_job() -> None:
    assert PathMinimum("bulk2 query", 9) == read_minimum(
        "salesforce", 100_000, related=[30_000], status_reads=2
    )
    assert PathMinimum("export", 4) == read_minimum("hubspot", 100_000, status_reads=2)
    assert PathMinimum("bulk2 ingest", 5) == write_minimum("salesforce", 100_000, status_reads=2)
    # 1,000 rows: five Collections calls tie with a job read twice: the batches stay.
    assert PathMinimum("collections", 5) == write_minimum("salesforce", 1_000, status_reads=2)
    assert PathMinimum("import", 4) == write_minimum("hubspot", 100_000, status_reads=2)


def test_one_ingest_job_per_100_mb_file_of_the_csv() -> None:
    # "Upload Job Data" caps a job's CSV at 100 MB: 1M rows of reasons fill three files.
    assert PathMinimum("bulk2 ingest", 15) == write_minimum(
        "salesforce", 1_000_000, upload_files=3, status_reads=2
    )
    assert PathMinimum("bulk2 ingest", 5) == write_minimum(
        "salesforce", 100_000, upload_files=0, status_reads=2
    )
    assert minimum_calls("salesforce", 1_000, 1_000_000, 0, upload_files=3) == 1 + 3 * 4


def test_one_import_per_distinct_property_set() -> None:
    assert PathMinimum("import", 6) == write_minimum("hubspot", 100_000, property_sets=2)
    assert PathMinimum("import", 8) == write_minimum(
        "hubspot", 100_000, property_sets=2, status_reads=2
    )
    changes = [{"tier": "a", "play": "p"}, {"play": "q", "tier": "b"}, {"tier": "c"}]
    assert property_sets([*changes, {"tier": "d", "play": None}, {}]) == 2
    # A plan's updates are FieldRows (sync/plan.py): the same sets, read per layout.
    rows = [FieldRow(FieldLayout(tuple(c)), tuple(c.values())) for c in changes]
    clears = FieldRow(FieldLayout(("tier", "play")), ("d", None))
    assert property_sets([*rows, clears, {"score": 1.0}]) == 3
    assert (
        minimum_calls("hubspot", 150, 100_000, 0, full=False, property_sets=1, status_reads=3)
        == 1 + 5
    )
