# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Bulk API 2.0 update jobs streamed from a file (connectors/salesforce/bulk_ingest.py),
through simple-salesforce against the sandbox: splitting, empty cells, failed rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.conftest import SleepRecorder
from tests.connectors.sandbox_support import salesforce
from tests.provisioning import provisioned
from tierwise.connectors.base import AccountUpdate
from tierwise.connectors.errors import CrmError
from tierwise.connectors.salesforce.bulk_ingest import write_files
from tierwise.sandbox import FaultRule, Sandbox


@pytest.fixture
def sb() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=120, seed=5)) as box:
        yield box


def ingest_calls(sb: Any) -> list[Any]:
    return [c for c in sb.calls if c.system == "salesforce" and "/jobs/ingest" in c.path]


def test_rows_are_cut_into_jobs_no_bigger_than_the_limit(tmp_path: Path) -> None:
    rows = [{"Id": f"001{i:015d}", "Tierwise_Reason__c": "x" * 50} for i in range(100)]
    paths = list(
        write_files(iter(rows), ["Id", "Tierwise_Reason__c"], str(tmp_path), max_bytes=1000)
    )
    sizes = [Path(p).stat().st_size for p in paths]
    assert len(paths) > 5
    assert max(sizes) <= 1000
    lines = [line for p in paths for line in Path(p).read_text().splitlines()[1:]]
    assert [r["Id"] for r in rows] == [line.split(",")[0] for line in lines]
    assert all(Path(p).read_text().startswith("Id,Tierwise_Reason__c\n") for p in paths)


def test_a_missing_cell_is_left_empty_and_none_is_the_null_marker(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"Id": "a", "B": None}, {"Id": "b", "C": "3"}]
    [path] = write_files(iter(rows), ["Id", "B", "C"], str(tmp_path), max_bytes=10_000)
    assert Path(path).read_text() == "Id,B,C\na,#N/A,\nb,,3\n"


def test_a_large_write_is_split_into_several_jobs_and_every_row_lands(
    sb: Any, sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = salesforce(sb, bulk_threshold=10)
    ids = [a.crm_id for a in sf.pull_accounts(None)]
    monkeypatch.setattr("tierwise.connectors.salesforce.bulk_ingest.MAX_UPLOAD_BYTES", 2000)
    sb.reset_calls()
    outcome = sf.write_accounts(
        [AccountUpdate(i, {"tier": "tier_3", "tier_changed": date(2026, 11, 2)}) for i in ids]
    )
    assert sorted(ids) == sorted(outcome.written)
    assert outcome.failed == []
    stored = sb.salesforce.objects["Account"]
    assert {"tier_3"} == {stored[i]["Tierwise_Tier__c"] for i in ids}
    creates = [c for c in ingest_calls(sb) if c.method == "POST"]
    uploads = [c for c in ingest_calls(sb) if c.method == "PUT"]
    assert len(creates) == len(uploads) > 2
    # The run report prices one ingest job per file the writes filled (sync/ledger.py).
    assert len(uploads) == sf.usage().bulk_files
    # The waits between status reads went through the retry engine's sleep.
    assert sleeps.delays


def test_empty_cells_leave_other_fields_as_they_are(sb: Any) -> None:
    sf = salesforce(sb, bulk_threshold=10)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:30]
    sf.write_accounts([AccountUpdate(i, {"play": "Nurture"}) for i in ids])
    # Half the rows set only the tier: their play cell is empty and must stay "Nurture".
    updates = [
        AccountUpdate(i, {"tier": "tier_2"} if n % 2 else {"tier": "tier_2", "play": None})
        for n, i in enumerate(ids)
    ]
    outcome = sf.write_accounts(updates)
    assert sorted(ids) == sorted(outcome.written)
    stored = sb.salesforce.objects["Account"]
    for n, i in enumerate(ids):
        assert stored[i]["Tierwise_Tier__c"] == "tier_2"
        assert (stored[i]["Tierwise_Play__c"] or None) == ("Nurture" if n % 2 else None)


def test_rows_salesforce_refuses_are_reported_by_id(sb: Any) -> None:
    sf = salesforce(sb, bulk_threshold=10)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:20]
    bad = "001" + "9" * 15  # well-formed, no such record
    outcome = sf.write_accounts([AccountUpdate(i, {"score": 10.0}) for i in [*ids, bad]])
    assert sorted(ids) == sorted(outcome.written)
    assert [bad] == [f.crm_id for f in outcome.failed]
    # The ledger names the failed-results read ".../jobs/ingest/{id}/results".
    assert ingest_calls(sb)[-1].path.endswith("/{id}/results")


def tier_40_with_a_lost_answer(sb: Any, method: str, path: str) -> tuple[list[str], Any]:
    """Tier 40 accounts through one bulk job whose first ``method`` on ``path`` is taken
    by Salesforce but its answer lost (``commit_then_drop``): (the ids, the outcome)."""
    sf = salesforce(sb, bulk_threshold=10)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:40]
    sb.faults.add(
        FaultRule(system="salesforce", method=method, path=path, kind="commit_then_drop", times=1)
    )
    sb.reset_calls()
    return ids, sf.write_accounts([AccountUpdate(i, {"tier": "tier_2"}) for i in ids])


def test_a_close_taken_but_unanswered_is_waited_for_not_aborted(sb: Any) -> None:
    """The close's answer is lost after Salesforce took it (dropped connection): the retry
    is refused (409, the job is no longer Open), one status read shows the job closed,
    and the run waits for it: every row lands, nothing is aborted."""
    ids, outcome = tier_40_with_a_lost_answer(sb, "PATCH", r"/jobs/ingest/\w+")

    assert sorted(ids) == sorted(outcome.written)
    assert outcome.failed == []
    assert {"tier_2"} == {sb.salesforce.objects["Account"][i]["Tierwise_Tier__c"] for i in ids}
    closes = [c for c in ingest_calls(sb) if c.method == "PATCH"]
    assert [closes[0].fault, closes[1].status] == ["commit_then_drop", 409]
    assert not [c for c in ingest_calls(sb) if c.method == "DELETE"]  # no abort


def test_a_close_that_did_not_go_through_still_aborts_the_job(sb: Any) -> None:
    """A close refused while the job is still Open (a real failure) aborts the job."""
    sf = salesforce(sb, bulk_threshold=10, attempts=2)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:40]
    sb.faults.add(
        FaultRule(system="salesforce", method="PATCH", path=r"/jobs/ingest/\w+", kind="http_500")
    )
    sb.reset_calls()

    with pytest.raises(CrmError):
        sf.write_accounts([AccountUpdate(i, {"tier": "tier_2"}) for i in ids])

    assert {None} == {sb.salesforce.objects["Account"][i].get("Tierwise_Tier__c") for i in ids}
    states = [c for c in ingest_calls(sb) if c.method == "PATCH"]
    assert len(states) >= 3  # two closes, then the abort


def test_an_upload_whose_answer_was_lost_is_retried_in_a_new_job_not_sent_twice(
    sb: Any,
) -> None:
    """The upload reached Salesforce but its answer was lost: sent again into the same job,
    its rows could be loaded twice. The job is aborted (nothing in it is processed) and
    the retry creates a new job: every row lands once, from the second job."""
    ids, outcome = tier_40_with_a_lost_answer(sb, "PUT", r"/jobs/ingest/\w+/batches")

    assert sorted(ids) == sorted(outcome.written)
    assert {"tier_2"} == {sb.salesforce.objects["Account"][i]["Tierwise_Tier__c"] for i in ids}
    jobs = list(sb.salesforce.bulk.jobs.values())
    assert ["Aborted", "JobComplete"] == [j.state for j in jobs]
    assert [1, 1] == [j.uploads for j in jobs]  # one upload into each job, never two
    assert 40 == jobs[1].info()["numberRecordsProcessed"]
