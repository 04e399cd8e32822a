# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""bench/bench_scale.py sets the sandbox's ledger against the minimum of the work the run
had to do: related Bulk query jobs, property sets, task closes (issue 15)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
JOBS = "/services/data/vXX.X/jobs/query"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "bench_scale.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


def sf(method: str, path: str, records: int = 0) -> list[Any]:
    return ["salesforce", method, path, records, 200]


def report(**kw: Any) -> dict[str, Any]:
    return {"status": "ok", "pulled": {"salesforce": 100_000}, **kw}


def test_accounts_and_their_open_opportunities_are_two_bulk_jobs(bench: ModuleType) -> None:
    calls = [sf("POST", JOBS), sf("GET", JOBS + "/{id}"), sf("GET", JOBS + "/{id}")] * 2
    calls += [sf("GET", JOBS + "/{id}/results", n) for n in (30_000, 50_000, 50_000)]
    row = bench.tally(
        100_000, "full", "salesforce", "ok", 1.0, 1.0, True,
        report(work={"related": {"salesforce": 1}}), calls,
    )  # fmt: skip
    # Each job: a create, the sandbox's two status reads, its result pages (2 + 1).
    assert Counter({"bulk2 query": 9}) == row.best["read"]
    assert Counter({"bulk2 query": 9}) == row.made["read"]
    assert 1.0 == row.ratio


def test_without_related_objects_one_job_is_the_minimum(bench: ModuleType) -> None:
    calls = [sf("POST", JOBS), sf("GET", JOBS + "/{id}"), sf("GET", JOBS + "/{id}")]
    calls += [sf("GET", JOBS + "/{id}/results", 50_000)] * 2
    row = bench.tally(100_000, "full", "salesforce", "ok", 1.0, 1.0, True, report(), calls)
    assert Counter({"bulk2 query": 5}) == row.best["read"]


def test_task_closes_are_priced_with_their_status_and_description_reads(
    bench: ModuleType,
) -> None:
    rest = "/services/data/vXX.X/query"
    calls = [sf("GET", rest, 1_500), sf("GET", rest, 6), sf("GET", rest, 8)]
    calls.append(sf("PATCH", "/services/data/vXX.X/composite/sobjects", 8))
    data = report(pulled={"salesforce": 1_500}, tasks_closed=8)
    row = bench.tally(100_000, "1%", "salesforce", "ok", 1.0, 1.0, False, data, calls)
    assert Counter({"rest query": 3}) == row.best["read"]
    assert Counter({"collections": 1}) == row.best["write"]
    assert 1.0 == row.ratio


def test_hubspot_imports_are_priced_per_property_set(bench: ModuleType) -> None:
    data = {
        "status": "ok",
        "pulled": {"hubspot": 100_000},
        "writes": {"hubspot": 100_000},
        "work": {"property_sets": {"hubspot": 2}},
    }
    row = bench.tally(100_000, "full", "hubspot", "ok", 1.0, 1.0, True, data, [])
    # Per import: the create, two status reads, the errors page.
    assert Counter({"import": 8}) == row.best["write"]
    assert Counter({"export": 4}) == row.best["read"]


def test_salesforce_ingest_is_priced_per_file_the_updates_fill(bench: ModuleType) -> None:
    data = report(writes={"salesforce": 1_000_000}, work={"upload_files": {"salesforce": 3}})
    row = bench.tally(1_000_000, "full", "salesforce", "ok", 1.0, 1.0, True, data, [])
    # Per job: the create, the upload, the close and the sandbox's two status reads.
    assert Counter({"bulk2 ingest": 15}) == row.best["write"]
