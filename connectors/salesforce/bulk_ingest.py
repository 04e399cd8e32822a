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

The rows never sit in memory together: they are written to a temporary CSV file as they
are made, cut into a new job's file at ``MAX_UPLOAD_BYTES``, and each file goes out as the
request body straight from disk (``requests`` streams a file object). simple-salesforce's
``update(records=...)`` held every row as a dict, then the joined CSV, then the CSV split
back into lists of cells: about 240 MB of transient memory at 50,000 accounts.

Usage labels: ``bulk2 ingest`` (job creates), ``bulk2 ingest upload``, ``bulk2 ingest
close``, ``bulk2 ingest status``, ``bulk2 ingest failed``, ``bulk2 ingest abort``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import structlog
from simple_salesforce.util import call_salesforce

from tierwise.connectors.errors import CrmError, FatalCrmError
from tierwise.connectors.salesforce.bulk_jobs import FIRST_WAIT, WAIT_BUDGET, wait_for_job
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient

CREATE = "bulk2 ingest"
UPLOAD = "bulk2 ingest upload"
CLOSE = "bulk2 ingest close"
# Job states past ``Open``: the close went through (Bulk API 2.0 Developer Guide, "Job
# states": Open -> UploadComplete -> InProgress -> JobComplete / Failed).
CLOSED_STATES = frozenset({"UploadComplete", "InProgress", "JobComplete", "Failed"})
STATUS = "bulk2 ingest status"
FAILED = "bulk2 ingest failed"
ABORT = "bulk2 ingest abort"
# Upload Job Data: at most 100 MB of CSV per job (150 MB once base64-encoded).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
NULL = "#N/A"
# Waits between status reads: ``bulk_jobs``; after its 30 min the job is aborted.

log = structlog.get_logger(__name__)


def write_files(
    rows: Iterable[Mapping[str, Any]],
    header: Sequence[str],
    folder: str,
    *,
    max_bytes: int | None = None,
) -> Iterator[str]:
    """Write ``rows`` as CSV files (header on each) of at most ``max_bytes``, yielding each
    file's path once it is complete: one job each. A cell missing from a row is left
    empty (Salesforce leaves that field as it is); None is the null marker ``#N/A``."""
    for index, lines in itertools.groupby(_cut(rows, header, max_bytes), key=itemgetter(0)):
        path = os.path.join(folder, f"job-{index}.csv")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(line for _index, line in lines)
        yield path


def _cut(
    rows: Iterable[Mapping[str, Any]], header: Sequence[str], max_bytes: int | None
) -> Iterator[tuple[int, str]]:
    """The CSV lines of ``rows``, each with the number of the file it goes in: a file
    starts with the header and holds at most ``max_bytes``."""
    limit = max_bytes or MAX_UPLOAD_BYTES  # read now: a test may lower the module's limit
    index, size = 0, 0
    head = _line(header)
    head_bytes = len(head.encode("utf-8"))
    for row in rows:
        line = _line([_cell(row[n]) if n in row else "" for n in header])
        length = len(line.encode("utf-8"))
        if not index or size + length > limit:
            index += 1
            size = head_bytes
            yield index, head
        yield index, line
        size += length


def _cell(value: Any) -> str:
    return NULL if value is None else str(value)


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

    def update(self, object_name: str, path: str) -> tuple[dict[str, Any], str]:
        """Run one update job over the CSV file at ``path`` (with an ``Id`` column): the
        final job info and the failed-record CSV ("" when the job reports no failures). A job that
        ends ``Failed``/``Aborted`` raises; any error after the create aborts the job, so
        none is left open."""
        job_id = self.client.policy.call(
            lambda: self._loaded_job(object_name, path), reauth=self.client.reauth
        )
        try:
            self._close(job_id, object_name)
            info = self._wait(job_id, object_name)
        except CrmError:
            self._abort(job_id, object_name)
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

    def _loaded_job(self, object_name: str, path: str) -> str:
        """Create a job and upload the file into it: one attempt of the retry engine.

        An upload is never sent twice into one job. Whether a second ``PUT .../batches``
        adds to the first or replaces it is not documented ("Upload Job Data" caps the
        data "in total", per job), and an upload whose answer was lost may have been
        taken whole: sent again it could load every row twice. So a failed upload aborts
        its job (nothing in it is processed: "Close or Abort a Job") and the retry starts
        from a new job."""
        job: dict[str, Any] = self.client.call(
            CREATE,
            lambda sf: self._api(sf, object_name).create_job("update"),
            operation="bulk update",
            object_name=object_name,
            retry=False,
        )
        job_id = str(job["id"])
        try:
            self.client.call(
                UPLOAD,
                lambda sf: self._upload(sf, object_name, job_id, path),
                operation="bulk update upload",
                object_name=object_name,
                retry=False,
            )
        except CrmError:
            self._abort(job_id, object_name)
            raise
        return job_id

    def _abort(self, job_id: str, object_name: str) -> None:
        """Abort the job, so none is left open (a failed abort changes nothing more)."""
        with contextlib.suppress(CrmError):
            self.client.call(
                ABORT,
                lambda sf: self._api(sf, object_name).abort_job(job_id, False),
                operation="bulk update abort",
                object_name=object_name,
                retry=False,
            )

    def _close(self, job_id: str, object_name: str) -> None:
        """Close the job (state ``UploadComplete``: Salesforce starts processing it).

        A close is not safe to send twice: when its answer is lost (a timeout, a dropped
        connection) after Salesforce took it, the retry finds the job no longer ``Open``
        and is refused (409 ``INVALIDJOBSTATE``). Before giving up, one status read
        tells which happened: a job already past ``Open`` was closed, and its rows are
        being processed, so the run waits for it instead of aborting it."""
        try:
            self.client.call(
                CLOSE,
                lambda sf: self._api(sf, object_name).close_job(job_id),
                operation="bulk update close",
                object_name=object_name,
            )
        except CrmError:
            job: dict[str, Any] = self.client.call(
                STATUS,
                lambda sf: self._api(sf, object_name).get_job(job_id, False),
                operation="bulk update",
                object_name=object_name,
                read=True,
            )
            if job.get("state") not in CLOSED_STATES:
                raise
            log.info("salesforce_bulk_close_answer_lost", job=job_id, state=job.get("state"))

    def _upload(self, sf: Any, object_name: str, job_id: str, path: str) -> None:
        """Upload Job Data from the file, streamed: the URL and headers are the ones the
        library's ``upload_job_data`` builds, but that method wants the whole CSV as one
        string (and encodes a second copy)."""
        api = self._api(sf, object_name)
        url = api._construct_request_url(job_id, False) + "/batches"
        headers = api._get_headers(api.CSV_CONTENT_TYPE, api.JSON_CONTENT_TYPE)
        with open(path, "rb") as body:  # read by requests in blocks, never whole
            call_salesforce(url=url, method="PUT", session=api.session, headers=headers, data=body)

    def _wait(self, job_id: str, object_name: str) -> dict[str, Any]:
        """Status reads until a final state; the last read's job info is the result (no
        read after ``JobComplete``)."""

        job = wait_for_job(
            self.client,
            lambda sf: self._api(sf, object_name).get_job(job_id, False),
            label=STATUS,
            operation="bulk update",
            object_name=object_name,
            first_wait=self.first_wait,
        )
        state = job.get("state")
        if state == "JobComplete":
            return job
        raise FatalCrmError(
            f"Salesforce bulk update job {job_id} on {object_name} was still {state} after "
            f"{WAIT_BUDGET:.0f} s of polling; it is aborted, its rows go by the next run",
            system=SYSTEM,
            object_name=object_name,
        )
