"""Bulk API 2.0 ingest jobs: create, upload, close, status reads, failed results if any.

Large account updates go through one ingest job instead of 200-record Collections calls
(``AccountWriter`` decides by ``salesforce.bulk_threshold``). The requests follow the Bulk
API 2.0 and Bulk API Developer Guide (developer.salesforce.com/docs/atlas.en-us.
api_asynch.meta/api_asynch/): "Create a Job" (``POST jobs/ingest``), "Upload Job Data"
(one ``PUT .../batches`` of up to 100 MB of CSV; 150 MB base64), "Close or Abort a Job"
(``PATCH`` state ``UploadComplete``), "Get Job Info" (``GET jobs/ingest/{id}``: ``state``
and ``numberRecordsFailed``) and "Get Job Failed Record Results". An empty CSV field leaves
a value unchanged on update and ``#N/A`` sets null ("Prepare CSV Files"), so one file
carries any mix of changed fields.

Why not simple-salesforce's ``sf.bulk2.<Object>.update``: it sleeps for real between
polls (``wait`` seconds and more), reads the job once more after the poll that already said
``JobComplete`` (one request per job for nothing), and as one wrapped call hides each
request from the retry engine. Here every request is one attempt of
``SalesforceClient.call`` on the library's own request builder (``SFBulk2Type._client``),
counted under its label; the waits are the retry engine's ``poll`` (tests replace its
sleep). The failed-record results are read only when the job reports failures.

Usage labels: ``bulk2 ingest`` (job creates), ``bulk2 ingest upload``, ``bulk2 ingest
close``, ``bulk2 ingest status``, ``bulk2 ingest failed``, ``bulk2 ingest abort``.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import structlog

from tierwise.connectors.errors import CrmError, FatalCrmError
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.errors import job_failed

CREATE = "bulk2 ingest"
UPLOAD = "bulk2 ingest upload"
CLOSE = "bulk2 ingest close"
STATUS = "bulk2 ingest status"
FAILED = "bulk2 ingest failed"
ABORT = "bulk2 ingest abort"
# Upload Job Data: at most 100 MB of CSV per job (150 MB once base64-encoded).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# Poll waits grow from 1 s by half up to 15 s; after 30 min the job is aborted.
FIRST_WAIT, MAX_WAIT, WAIT_BUDGET = 1.0, 15.0, 1800.0
FINAL = ("JobComplete", "Failed", "Aborted")

log = structlog.get_logger(__name__)


def csv_files(
    rows: Sequence[Mapping[str, str]], *, max_bytes: int = MAX_UPLOAD_BYTES
) -> Iterator[str]:
    """The rows as CSV texts (header on each) of at most ``max_bytes``: one job each."""
    if not rows:
        return
    header: list[str] = []
    for row in rows:
        header.extend(name for name in row if name not in header)
    head = _line(header)
    parts: list[str] = [head]
    size = len(head.encode("utf-8"))
    for row in rows:
        line = _line([row.get(name, "") for name in header])
        length = len(line.encode("utf-8"))
        if len(parts) > 1 and size + length > max_bytes:
            yield "".join(parts)
            parts, size = [head], len(head.encode("utf-8"))
        parts.append(line)
        size += length
    yield "".join(parts)


def _line(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


class BulkIngest:
    """Ingest jobs of one org, each request counted under a ``bulk2 ingest`` label."""

    def __init__(self, client: SalesforceClient, *, first_wait: float = FIRST_WAIT) -> None:
        self.client = client
        self.first_wait = first_wait

    def _api(self, sf: Any, object_name: str) -> Any:
        # The library's per-request builder; its public ``update`` would sleep for real.
        return getattr(sf.bulk2, object_name)._client

    def update(self, object_name: str, data: str) -> tuple[dict[str, Any], str]:
        """Run one update job over ``data`` (CSV with an ``Id`` column): the final job
        info and the failed-record CSV ("" when the job reports no failures). A job that
        ends ``Failed``/``Aborted`` raises; any error after the create aborts the job, so
        none is left open."""
        job: dict[str, Any] = self.client.call(
            CREATE,
            lambda sf: self._api(sf, object_name).create_job("update"),
            operation="bulk update",
            object_name=object_name,
        )
        job_id = str(job["id"])
        try:
            self.client.call(
                UPLOAD,
                lambda sf: self._api(sf, object_name).upload_job_data(job_id, data),
                operation="bulk update upload",
                object_name=object_name,
            )
            self.client.call(
                CLOSE,
                lambda sf: self._api(sf, object_name).close_job(job_id),
                operation="bulk update close",
                object_name=object_name,
            )
            info = self._wait(job_id, object_name)
        except CrmError:
            with contextlib.suppress(CrmError):
                self.client.call(
                    ABORT,
                    lambda sf: self._api(sf, object_name).abort_job(job_id, False),
                    operation="bulk update abort",
                    object_name=object_name,
                    retry=False,
                )
            raise
        failed = ""
        if int(info.get("numberRecordsFailed") or 0) > 0:
            failed = self.client.call(
                FAILED,
                lambda sf: self._api(sf, object_name).get_ingest_results(job_id, "failedResults"),
                operation="bulk update failed results",
                object_name=object_name,
                read=True,
            )
        log.debug(
            "salesforce_bulk_ingest_done",
            job=job_id,
            processed=info.get("numberRecordsProcessed"),
            failed=info.get("numberRecordsFailed"),
        )
        return info, str(failed)

    def _wait(self, job_id: str, object_name: str) -> dict[str, Any]:
        """Status reads until a final state; the last read's job info is the result (no
        read after ``JobComplete``)."""

        def status() -> dict[str, Any]:
            job: dict[str, Any] = self.client.call(
                STATUS,
                lambda sf: self._api(sf, object_name).get_job(job_id, False),
                operation="bulk update status",
                object_name=object_name,
                read=True,
            )
            return job

        job = self.client.policy.poll(
            status,
            lambda job: job.get("state") in FINAL,
            first_wait=self.first_wait,
            max_wait=MAX_WAIT,
            budget=WAIT_BUDGET,
        )
        state = job.get("state")
        if state == "JobComplete":
            return job
        if state in FINAL:
            raise job_failed(job, object_name=object_name, operation="bulk update")
        raise FatalCrmError(
            f"Salesforce bulk update job {job_id} on {object_name} was still {state} after "
            f"{WAIT_BUDGET:.0f} s of polling; it is aborted, its rows go by the next run",
            system=SYSTEM,
            object_name=object_name,
        )
