"""Writes: sObject Collections for every record write, Bulk API 2.0 for large updates.

Every Collections call (accounts, task upserts, task closes, field permissions) goes
through :func:`write_collection`: chunks of 200, each chunk ONE operation of the retry
engine, so a whole-call failure and per-record transient failures (a locked row) share
one attempt budget and a 200-record chunk costs at most ``max_attempts`` requests;
records are requeued in at most ``MAX_REQUEUE_ROUNDS`` rounds (as before the engine).
Permanent per-record failures are reported, never raised: the run goes on.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import structlog

from tierwise.connectors.base import AccountUpdate, RecordFailure, WriteOutcome
from tierwise.connectors.batching import Verdict, collection_verdicts, send_in_batches
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.salesforce import errors as sf_errors
from tierwise.connectors.salesforce.bulk_ingest import BulkIngest, write_files
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.fields import OrgFields
from tierwise.tiering.records import FieldValue

# Records per sObject Collections call (the API's maximum).
COLLECTION_MAX = 200
# Rounds in which records that failed transiently (a locked row) are sent again alone,
# within the chunk's attempt budget: a row locked for longer is reported, not chased.
MAX_REQUEUE_ROUNDS = 3
# Updates handed over per call between stop checks: 10 Collections calls.
WRITE_CHUNK = 2000
# Text lengths provision creates, used when describe has not been read in this process.
DEFAULT_TEXT_LENGTHS = {
    "Tierwise_Reason__c": 255,
    "Tierwise_Play__c": 80,
    "Tierwise_Customer_Reason__c": 255,
    "Tierwise_Customer_Play__c": 80,
}

# Collections bookkeeping a bulk CSV row does not carry.
SKIP = ("attributes", "id")

Record = tuple[str, dict[str, Any]]  # (id or task key, the record sent)

log = structlog.get_logger(__name__)


def soql_value(value: FieldValue) -> Any:
    """A tierwise value as the REST API takes it (dates ISO, multi-select joined by ';')."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(value)
    return value


def write_collection(
    client: SalesforceClient,
    records: Sequence[dict[str, Any]],
    ids: Sequence[str],
    *,
    label: str,
    path: str,
    object_name: str,
    operation: str,
    on_success: Callable[[str, dict[str, Any]], None],
) -> list[RecordFailure]:
    """PATCH ``records`` to a Collections ``path`` 200 at a time (``allOrNone: false``);
    transient per-record failures are sent again alone by the retry engine, the rest
    reported. ``on_success(id, result)`` is called for each record that went through."""
    attempt = 0

    def send(pending: list[Record]) -> list[Verdict]:
        nonlocal attempt
        attempt += 1
        client.check_quota()
        body = {"allOrNone": False, "records": [record for _, record in pending]}
        results = list(
            client.attempt(
                label,
                lambda sf: sf.restful(path, method="PATCH", json=body),
                operation=operation,
                object_name=object_name,
            )
            or []
        )
        verdicts = collection_verdicts(
            results, len(pending), transient_codes=sf_errors.TRANSIENT_RECORD_CODES
        )
        for (record_id, _), result, verdict in zip(pending, results, verdicts, strict=False):
            if verdict is None:
                on_success(record_id, result)
        log.debug(
            "salesforce_batch",
            operation=operation,
            records=len(pending),
            retrying=sum(1 for v in verdicts if v is not None and v.retry),
            attempt=attempt,
        )
        return verdicts

    result = send_in_batches(
        client.policy,
        list(zip(ids, records, strict=True)),
        COLLECTION_MAX,
        send,
        reauth=client.reauth,
        max_requeues=MAX_REQUEUE_ROUNDS,
    )
    failures = [
        RecordFailure(record_id, failure.reason, transient=failure.transient)
        for (record_id, _), failure in result.failed
    ]
    for failure in failures:
        log.warning(
            "salesforce_record_failed",
            operation=operation,
            record_id=failure.crm_id,
            reason=failure.reason,
        )
    return failures


class AccountWriter:
    """Writes tierwise's fields on accounts."""

    def __init__(self, client: SalesforceClient, fields: OrgFields) -> None:
        self.client = client
        self.fields = fields
        self._bulk = BulkIngest(client)

    def chunk_size(self, total: int) -> int:
        return total if total > self.client.settings.bulk_threshold else WRITE_CHUNK

    def record(self, update: AccountUpdate) -> dict[str, Any]:
        """The Collections record for one update (texts cut to the field's length)."""
        account_object = self.fields.account_object
        record: dict[str, Any] = {"attributes": {"type": account_object}, "id": update.crm_id}
        for logical, value in update.values.items():
            name = self.fields.written_field(logical)
            if name is None:
                raise ConfigurationError(
                    f"Salesforce: tierwise does not write a field called {logical!r}",
                    system=SYSTEM,
                    object_name=account_object,
                    record_id=update.crm_id,
                )
            converted = soql_value(value)
            if isinstance(converted, str):
                # A reason longer than the field would fail the record (STRING_TOO_LONG).
                length = self._field_length(name)
                if length and len(converted) > length:
                    converted = converted[: length - 1] + "…"
            record[name] = converted
        return record

    def _field_length(self, name: str) -> int | None:
        described = self.client.describes.get(self.fields.account_object, {}).get(name, {})
        length = described.get("length") or DEFAULT_TEXT_LENGTHS.get(name)
        return int(length) if length else None

    def write(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        changed = [u for u in updates if u.values]
        outcome = WriteOutcome()
        if not changed:
            return outcome
        if len(changed) > self.client.settings.bulk_threshold:
            return self._bulk_update(changed)
        outcome.failed = write_collection(
            self.client,
            [self.record(u) for u in changed],
            [u.crm_id for u in changed],
            label="composite/sobjects PATCH",
            path="composite/sobjects",
            object_name=self.fields.account_object,
            operation="update",
            on_success=lambda crm_id, _r: outcome.written.append(crm_id),
        )
        return outcome

    def _csv(self, updates: Sequence[AccountUpdate]) -> tuple[list[str], Iterator[dict[str, Any]]]:
        """The bulk CSV's header and its rows, made one at a time as they are read."""
        names = sorted({name for u in updates for name in self.record(u) if name not in SKIP})

        def rows() -> Iterator[dict[str, Any]]:
            for update in updates:
                record = self.record(update)
                record["Id"] = update.crm_id
                yield record

        return ["Id", *names], rows()

    def _bulk_update(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        """One Bulk API 2.0 update job per 100 MB of CSV (``bulk_ingest``): create, upload,
        close, status reads, and the failed results only when the job reports failures.
        The rows are streamed through temporary files, never held together."""
        # create, upload, close, one status read: the job's floor (more reads are counted
        # by the quota check of each read).
        self.client.check_quota(calls=4)
        header, rows = self._csv(updates)

        failed: dict[str, RecordFailure] = {}
        with tempfile.TemporaryDirectory(prefix="tierwise-bulk-") as folder:
            for path in write_files(rows, header, folder):
                self.client.usage.bulk_files += 1
                _info, failed_csv = self._bulk.update(self.fields.account_object, path)
                os.remove(path)
                for row in csv.DictReader(io.StringIO(failed_csv)):
                    crm_id = row.get("sf__Id") or row.get("Id") or ""
                    if crm_id:
                        failed[crm_id] = RecordFailure(crm_id, row.get("sf__Error") or "failed")
        outcome = WriteOutcome(
            written=[u.crm_id for u in updates if u.crm_id not in failed],
            failed=list(failed.values()),
        )
        log.debug("salesforce_bulk_update", records=len(updates), failed=len(failed))
        return outcome
