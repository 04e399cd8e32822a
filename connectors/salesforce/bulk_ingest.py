"""Bulk API 2.0 update jobs, streamed from a temporary CSV file: memory holds one row.

simple-salesforce's ``sf.bulk2.<Object>.update(records=...)`` wants every row as a dict,
joins them into one CSV string, then splits that string back into lists of cells to cut
it at 100 MB (``bulk2._split_csv``): at 50,000 accounts that is about 240 MB of
transient memory in the worker, and several GB at a million. Here the rows are written
to a temporary file as they are made, cut into a new job's file at ``MAX_JOB_BYTES``,
and each file is sent as the request body straight from disk (``requests`` streams a file
object), so the worker's memory does not grow with the number of records.

Every request is one attempt of ``SalesforceClient.call`` on the library's own request
builder (``SFBulk2Type._client``: ``create_job``, ``close_job``, ``get_job``,
``get_ingest_results``; the upload is the library's ``call_salesforce`` on its session,
with the URL and headers its ``upload_job_data`` builds), so each is counted, classified
by ``salesforce.errors`` and retried alone, and the waits between status reads belong to
the retry engine (``RetryPolicy.poll``, whose sleep tests replace), not real sleeps.

Sources (Bulk API 2.0 and Bulk API Developer Guide, developer.salesforce.com/docs/
atlas.en-us.api_asynch.meta/api_asynch/):
- one data upload per job, then ``state: UploadComplete``; the job's data may be up to
  150 MB after base64 encoding, and the guide advises 100 MB of raw CSV to stay under it
  ("Bulk API 2.0 Limits", bulk_common_limits.htm; simple-salesforce's
  ``MAX_INGEST_JOB_FILE_SIZE`` is the same 100 MB);
- an empty cell leaves a field unchanged and ``#N/A`` sets it to null ("Prepare CSV
  Files", datafiles_prepare_csv.htm), so one header can carry the union of the fields;
- failed rows come from ``GET .../jobs/ingest/{id}/failedResults/`` with ``sf__Id`` and
  ``sf__Error`` columns ("Get Job Failed Record Results", get_job_failed_results.htm).

Usage labels (what a benchmark reads): ``bulk2 ingest`` (create, upload, close),
``bulk2 ingest status`` (polls), ``bulk2 ingest results`` (failed rows).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

import structlog

from tierwise.connectors.base import RecordFailure
from tierwise.connectors.errors import FatalCrmError
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.errors import job_failed

JOB = "bulk2 ingest"
STATUS = "bulk2 ingest status"
RESULTS = "bulk2 ingest results"
# Raw CSV bytes per job: the guide's advice (see the module docstring), less a margin
# for the header line and the last row that crosses the line.
MAX_JOB_BYTES = 100 * 1024 * 1024 - 1024 * 1024
# Waits between status reads grow from 1 s by half each time up to 15 s; a job still
# open after 30 min of waiting is left to Salesforce (its rows may still land) and
# reported, since aborting it could leave some rows written and others not.
FIRST_WAIT, MAX_WAIT, WAIT_BUDGET = 1.0, 15.0, 1800.0
FINAL = ("JobComplete", "Failed", "Aborted")
NULL = "#N/A"

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What the jobs did: rows sent and the rows Salesforce refused, by record id."""

    sent: int
    failed: Mapping[str, RecordFailure]


def csv_cell(value: Any) -> str:
    return NULL if value is None else str(value)


def write_files(
    rows: Iterable[Mapping[str, Any]], header: list[str], folder: str, max_bytes: int
) -> Iterator[str]:
    """Write ``rows`` (``Id`` plus fields) as CSV files of at most ``max_bytes`` each and
    yield each file's path once it is complete. A cell missing from a row is left empty
    (Salesforce leaves that field as it is)."""
    index = 0
    handle: IO[str] | None = None
    writer: Any = None
    size = 0
    path = ""
    for row in rows:
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(
            [csv_cell(row[name]) if name in row else "" for name in header]
        )
        text = line.getvalue()
        encoded = len(text.encode())
        if handle is None or size + encoded > max_bytes:
            if handle is not None:
                handle.close()
                yield path
            index += 1
            path = os.path.join(folder, f"job-{index}.csv")
            handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115  # closed above or below
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            size = len(",".join(header)) + 1
        handle.write(text)
        size += encoded
    if handle is not None:
        handle.close()
        yield path


class BulkIngest:
    """Update jobs of one org, each request counted under a ``bulk2 ingest`` label."""

    def __init__(self, client: SalesforceClient, *, max_job_bytes: int = MAX_JOB_BYTES) -> None:
        self.client = client
        self.max_job_bytes = max_job_bytes

    def _api(self, sf: Any, object_name: str) -> Any:
        # The library's per-request builder; its public ``update`` holds every row.
        return getattr(sf.bulk2, object_name)._client

    def update(
        self,
        object_name: str,
        header: list[str],
        rows: Callable[[], Iterable[Mapping[str, Any]]],
    ) -> IngestOutcome:
        """Send ``rows()`` as update jobs (one per ``max_job_bytes`` of CSV) and collect
        the refused rows. ``header`` starts with ``Id``."""
        sent = 0
        failed: dict[str, RecordFailure] = {}
        with ExitStack() as stack:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="tierwise-bulk-"))
            for path in write_files(rows(), header, folder, self.max_job_bytes):
                sent += self._job(object_name, path, failed)
                os.remove(path)
        return IngestOutcome(sent, failed)

    def _job(self, object_name: str, path: str, failed: dict[str, RecordFailure]) -> int:
        job: dict[str, Any] = self.client.call(
            JOB,
            lambda sf: self._api(sf, object_name).create_job("update"),
            operation="bulk update",
            object_name=object_name,
        )
        job_id = str(job["id"])

        def upload(sf: Any) -> None:
            from simple_salesforce.util import call_salesforce

            api = self._api(sf, object_name)
            url = api._construct_request_url(job_id, False) + "/batches"
            headers = api._get_headers(api.CSV_CONTENT_TYPE, api.JSON_CONTENT_TYPE)
            with open(path, "rb") as body:  # streamed by requests, never read whole
                call_salesforce(
                    url=url, method="PUT", session=api.session, headers=headers, data=body
                )

        self.client.call(JOB, upload, operation="bulk upload", object_name=object_name)
        self.client.call(
            JOB,
            lambda sf: self._api(sf, object_name).close_job(job_id),
            operation="bulk close",
            object_name=object_name,
        )
        done = self._wait(job_id, object_name)
        processed = int(done.get("numberRecordsProcessed") or 0)
        if int(done.get("numberRecordsFailed") or 0) > 0:
            text: str = self.client.call(
                RESULTS,
                lambda sf: self._api(sf, object_name).get_ingest_results(job_id, "failedResults/"),
                operation="bulk failed results",
                object_name=object_name,
                read=True,
            )
            for row in csv.DictReader(io.StringIO(text)):
                crm_id = row.get("sf__Id") or row.get("Id") or ""
                if crm_id and crm_id != "sf__Id":
                    failed[crm_id] = RecordFailure(crm_id, row.get("sf__Error") or "failed")
        log.debug("salesforce_bulk_job", job=job_id, processed=processed, object=object_name)
        return processed

    def _wait(self, job_id: str, object_name: str) -> dict[str, Any]:
        def status() -> dict[str, Any]:
            job: dict[str, Any] = self.client.call(
                STATUS,
                lambda sf: self._api(sf, object_name).get_job(job_id, False),
                operation="bulk status",
                object_name=object_name,
                read=True,
            )
            return job

        job = self.client.policy.poll(
            status,
            lambda job: job.get("state") in FINAL,
            first_wait=FIRST_WAIT,
            max_wait=MAX_WAIT,
            budget=WAIT_BUDGET,
        )
        state = job.get("state")
        if state == "JobComplete":
            return job
        if state in FINAL:
            raise job_failed(job, object_name=object_name)
        raise FatalCrmError(
            f"Salesforce bulk update job {job_id} on {object_name} was still {state} after "
            f"{WAIT_BUDGET:.0f} s of waiting; it was left to finish on Salesforce's side "
            "and the next run rereads what it wrote",
            system=SYSTEM,
            object_name=object_name,
        )
