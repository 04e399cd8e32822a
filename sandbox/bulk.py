"""Bulk API 2.0 ingest jobs (insert, update, upsert, delete) against the org.

Jobs process when closed (``UploadComplete``), on a thread of their own: the close is
answered at once (Upload Complete "notifies Salesforce servers that the upload of job
data is complete and is ready for processing",
developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/close_job.htm;
processing a 1,000,000-row job inside the request outlasted the worker's 60 s read
timeout, and its retried close met 409 INVALIDJOBSTATE: bench/RESULTS.md). A job
reports ``InProgress`` while its rows are processed and for a configurable number of
polls after, then ``JobComplete``, so a client's polling loop runs. A status read waits
up to ``PROCESS_WAIT`` seconds for the processing, so a small job completes after its
polls whatever the thread's timing. Rows are written ``CHUNK_ROWS`` at a time under the
org lock, so other requests are not held for the whole job.
Per-row results follow the documented CSVs: ``sf__Id,sf__Created,...`` for successes,
``sf__Id,sf__Error,...`` for failures, the original columns for unprocessed rows.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tierwise.sandbox.clock import sf_datetime
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.sf_store import RecordError, RequestError, SalesforceOrg, id18

OPERATIONS = ("insert", "update", "upsert", "delete")
FINAL_STATES = ("JobComplete", "Failed", "Aborted")
PROCESS_WAIT = 10.0  # seconds a status read waits for a job's processing to finish
CHUNK_ROWS = 2_000  # rows written per hold of the org lock (a sandbox choice)


@dataclass
class IngestJob:
    id: str
    object: str
    operation: str
    external_id_field: str | None
    line_ending: str
    column_delimiter: str
    version: str
    created: str
    state: str = "Open"
    # The uploads' bytes until processing parses them; ``uploads`` counts them for good.
    data: list[bytes] = field(default_factory=list)
    uploads: int = 0
    polls_left: int = 0
    header: list[str] = field(default_factory=list)
    successes: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    failures: list[tuple[str, str, list[str]]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    error_message: str | None = None
    modstamp: str = ""
    worker: threading.Thread | None = None  # processing after the close, until it ends

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": OWNERS[0].salesforce_id,
            "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created,
            "state": self.state,
            "externalIdFieldName": self.external_id_field,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Ingest",
            "contentUrl": f"services/data/v{self.version}/jobs/ingest/{self.id}/batches",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.successes) + len(self.failures)
            if self.state == "JobComplete"
            else 0,
            "numberRecordsFailed": len(self.failures) if self.state == "JobComplete" else 0,
            "retries": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
            "errorMessage": self.error_message,
        }


_DELIMS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}

RowFault = Callable[[str], "RecordError | None"]


class BulkIngest:
    """Registry of ingest jobs for one org."""

    def __init__(self, org: SalesforceOrg, *, poll_steps: int = 1) -> None:
        self.org = org
        self.poll_steps = poll_steps
        self.jobs: dict[str, IngestJob] = {}
        self._ids = itertools.count(1)

    def create(self, body: Any, version: str) -> IngestJob:
        if not isinstance(body, dict):
            raise RequestError(400, "INVALIDJOB", "Invalid job request")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise RequestError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        object_name = self.org.object_name(str(body.get("object") or ""))
        ext = body.get("externalIdFieldName")
        if operation == "upsert":
            fdef = self.org.field(object_name, str(ext or ""))
            if fdef is None or not fdef.external_id:
                raise RequestError(
                    400,
                    "INVALIDJOB",
                    f"InvalidJob : Field name provided, {ext} is not an External ID or indexed "
                    f"field for {object_name}",
                )
            ext = fdef.name
        job_id = id18(f"750Hn0{next(self._ids):09d}")
        job = IngestJob(
            id=job_id,
            object=object_name,
            operation=operation,
            external_id_field=ext,
            line_ending=str(body.get("lineEnding") or "LF"),
            column_delimiter=str(body.get("columnDelimiter") or "COMMA"),
            version=version,
            created=sf_datetime(self.org.clock.peek()),
        )
        self.jobs[job_id] = job
        return job

    def get(self, job_id: str) -> IngestJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def upload(self, job_id: str, data: bytes) -> int:
        # A job past Open takes no more data ("Close or Abort a Job"); the 409
        # INVALIDJOBSTATE answer here and in ``set_state`` is a guess (sandbox/README.md).
        job = self.get(job_id)
        if job.state != "Open":
            raise RequestError(
                409, "INVALIDJOBSTATE", f"Job {job_id} is not in the Open state: {job.state}"
            )
        job.data.append(data)
        job.uploads += 1
        return max(0, data.count(b"\n") - 1)

    def set_state(self, job_id: str, state: str, row_fault: RowFault) -> IngestJob:
        job = self.get(job_id)
        if state == "Aborted":
            if job.state in FINAL_STATES:
                raise RequestError(409, "INVALIDJOBSTATE", f"Job is already {job.state}")
            job.state = "Aborted"
            if job.worker is not None:
                job.worker.join()  # it stops at its next chunk; the rest is unprocessed
            rows = _uploaded_rows(job)
            if rows and not job.header:
                job.header, job.unprocessed = rows[0], [r for r in rows[1:] if r]
        elif state == "UploadComplete":
            if job.state != "Open":
                raise RequestError(409, "INVALIDJOBSTATE", f"Job is not Open: {job.state}")
            job.state = "UploadComplete"
            job.polls_left = self.poll_steps
            job.worker = threading.Thread(
                target=self._process, args=(job, row_fault), name=f"ingest-{job.id}", daemon=True
            )
            job.worker.start()
        else:
            raise RequestError(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
        job.modstamp = sf_datetime(self.org.clock.peek())
        return job

    def poll(self, job_id: str) -> IngestJob:
        """One status read. Call it without the org lock held: the wait for the job's
        processing must let that processing take the lock."""
        job = self.get(job_id)
        if job.worker is not None:
            job.worker.join(PROCESS_WAIT)
        with self.org.lock:
            if job.worker is not None and job.worker.is_alive():
                if job.state == "UploadComplete":
                    job.state = "InProgress"
                return job
            advance(job)
        return job

    def _process(self, job: IngestJob, row_fault: RowFault) -> None:
        try:
            self._process_rows(job, row_fault)
        except Exception as exc:  # noqa: BLE001 - a sandbox fault must end the job, not hang it
            job.error_message = f"InternalServerError : {exc}"

    def _process_rows(self, job: IngestJob, row_fault: RowFault) -> None:
        rows = _uploaded_rows(job)
        if not rows:
            job.error_message = "InvalidBatch : Empty batch"
            return
        header = rows[0]
        job.header = header
        # Parsed, and with the header set an abort no longer reads the upload: let the raw
        # CSV go (up to 100 MB a job); the results come from the rows kept per outcome.
        job.data = []
        org = self.org
        for name in header:
            if name.lower() != "id" and org.field(job.object, name) is None:
                job.error_message = f"InvalidBatch : Field name not found : {name}"
                job.unprocessed = rows[1:]
                return
        body = rows[1:]
        for start in range(0, len(body), CHUNK_ROWS):
            if job.state == "Aborted":
                job.unprocessed = [r for r in body[start:] if r]
                return
            with org.lock:
                for row in body[start : start + CHUNK_ROWS]:
                    if row:
                        self._row(job, header, row, row_fault)

    def _row(self, job: IngestJob, header: list[str], row: list[str], row_fault: RowFault) -> None:
        org = self.org
        values = {name: ("" if i >= len(row) else row[i]) for i, name in enumerate(header)}
        record_id = next((v for k, v in values.items() if k.lower() == "id"), "") or None
        data: dict[str, Any] = {}
        # An empty cell leaves the field as it is and #N/A sets it to null ("Prepare CSV
        # Files", developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
        # datafiles_prepare_csv.htm).
        for name, value in values.items():
            if name.lower() == "id" or value == "":
                continue
            data[name] = None if value == "#N/A" else value
        try:
            key = record_id or (values.get(job.external_id_field or "", "") or "")
            injected = row_fault(key)
            if injected is not None:
                raise injected
            created = False
            if job.operation == "delete":
                if not record_id:
                    raise RecordError("MISSING_ARGUMENT", "Id not specified", ["Id"])
                org.delete(job.object, record_id)
                job.successes.append((org.norm_id(record_id), False, row))
                return
            if job.operation == "upsert":
                assert job.external_id_field is not None
                ext_value = values.get(job.external_id_field, "")
                matches = org.find_external(job.object, job.external_id_field, ext_value)
                if len(matches) > 1:
                    raise RecordError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{job.external_id_field}: more than one record found for external id "
                        f"field: {matches}",
                        [job.external_id_field],
                    )
                record_id = matches[0] if matches else None
            elif job.operation == "update" and not record_id:
                raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            plan = org.plan(job.object, None if job.operation == "insert" else record_id, data)
            created = plan.created
            new_id = org.commit(plan)
            job.successes.append((new_id, created, row))
        except RecordError as exc:
            detail = ",".join(exc.fields) if exc.fields else "--"
            job.failures.append((record_id or "", f"{exc.code}:{exc.message}:{detail}", row))
        except RequestError as exc:
            job.failures.append((record_id or "", f"{exc.code}:{exc.message}:--", row))

    def results(self, job_id: str, kind: str) -> tuple[str, int]:
        job = self.get(job_id)
        if kind.lower() != "unprocessedrecords" and job.state != "JobComplete":
            raise RequestError(400, "INVALIDJOBSTATE", f"Job {job_id} is not complete: {job.state}")
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if kind == "successfulResults":
            writer.writerow(["sf__Id", "sf__Created", *job.header])
            for record_id, created, row in job.successes:
                writer.writerow([record_id, "true" if created else "false", *row])
            count = len(job.successes)
        elif kind == "failedResults":
            writer.writerow(["sf__Id", "sf__Error", *job.header])
            for record_id, error, row in job.failures:
                writer.writerow([record_id, error, *row])
            count = len(job.failures)
        else:
            writer.writerow(job.header)
            for row in job.unprocessed:
                writer.writerow(row)
            count = len(job.unprocessed)
        return out.getvalue(), count


def _uploaded_rows(job: IngestJob) -> list[list[str]]:
    """The job's uploaded CSV as rows (the decoded text is let go on return)."""
    text = b"".join(job.data).decode("utf-8")
    if job.line_ending == "CRLF":
        text = text.replace("\r\n", "\n")
    return list(csv.reader(io.StringIO(text), delimiter=_DELIMS.get(job.column_delimiter, ",")))


class PolledJob(Protocol):
    """What a status read moves on: ingest (here) and query jobs (``sf_bulk_query``)."""

    state: str
    polls_left: int
    error_message: str | None


def advance(job: PolledJob) -> None:
    """One status read: an open job stays ``InProgress`` for its remaining polls, then
    completes (or fails with its message). The number of polls is a sandbox setting: the
    docs give no processing time (sandbox/README.md lists it as a guess)."""
    if job.state in ("UploadComplete", "InProgress"):
        if job.polls_left > 0:
            job.polls_left -= 1
            job.state = "InProgress"
        else:
            job.state = "Failed" if job.error_message else "JobComplete"
