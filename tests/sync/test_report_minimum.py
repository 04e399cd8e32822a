"""The minimum a run's calls are set against is the best path the API offers (issue 15)."""

from __future__ import annotations

import pytest

from tierwise.sync.report import (
    PathMinimum,
    minimum_calls,
    read_minimum,
    task_minimum,
    write_minimum,
)


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
        ("hubspot", 100, PathMinimum("batch", 1)),
        ("hubspot", 200, PathMinimum("batch", 2)),
        ("hubspot", 201, PathMinimum("import", 2)),
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
