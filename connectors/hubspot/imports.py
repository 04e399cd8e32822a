"""HubSpot CRM imports: tier writes as one UPDATE-by-record-id import, for large write sets.

Used by ``Companies.write`` when a write set reaches ``hubspot.import_threshold`` (off by
default; sandbox/README.md "Bulk paths" has the figures). What it does, and why:

- **Only tierwise's own properties, one file per property set.** Updates are grouped by
  the set of properties they change; each group is one CSV whose columns are ``Record ID``
  plus exactly those properties, mapped with ``idColumnType: HUBSPOT_OBJECT_ID`` onto
  ``hs_object_id`` and ``importOperations {"0-2": "UPDATE"}``
  (developers.hubspot.com/docs/api/crm/imports). One file with the union of the columns
  would need an empty cell to leave a property as it is, and the imports guide and the
  knowledge base ("Set up your import files", "Import FAQ") say only that an import of
  existing records "will update matching properties"; nothing says what an empty cell
  does (a GUESS either way). Several files in one import are documented for different
  objects joined by a common column (``associationIdentifierColumn``), not for two files of
  the same object. So each property set costs its own import (sync/report.py prices it so).
- **Clears stay on the batch path.** For the same reason an update that clears a value
  (sent as ``""``) cannot be an import row: such updates are handed back to the caller.
- **Idempotent on retry.** The import is named after a hash of its file. A create whose
  answer was lost is retried only after the account's active imports
  (``GET /crm/v3/imports``) show no import of that name (create-unless-done of the retry
  engine); the list is not read before the first attempt. A re-run after a crash that
  sends the same file again only sets the same values again (an UPDATE import never
  creates a record): one more of the 500 imports a day, in exchange for one call less on
  every import.
- **Per-row failures.** When the import is DONE, ``GET /crm/v3/imports/{id}/errors`` names
  the failed rows (``sourceData.rowData``, first cell = the record id); each becomes a
  ``RecordFailure`` like a 207 item of the batch path; the other rows are written. A FAILED
  or CANCELED import reports every row as failed (transient), so the next run retries them.
  The errors page is read even for an import that may have none: the status' ``metadata.
  counters`` has no documented key for failed rows (the client types it ``dict[str, int]``).
- **Polling** every ``bulk_poll_seconds`` through ``tierwise.connectors.retry.sleep``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from tierwise.connectors.base import RecordFailure, WriteOutcome
from tierwise.connectors.errors import FatalCrmError, RetriableError
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict

# Usage labels: the bench's "calls against the best path" reads these.
IMPORT_CREATE = "POST /crm/v3/imports"
IMPORT_LIST = "GET /crm/v3/imports"
IMPORT_GET = "GET /crm/v3/imports/{importId}"
IMPORT_ERRORS = "GET /crm/v3/imports/{importId}/errors"
RECORD_ID = "Record ID"
COMPANY_TYPE_ID = "0-2"
ERRORS_PAGE = 100
# A file holds at most 1,048,576 rows (guide, "Limits"): one import per this many updates.
MAX_ROWS = 1_000_000

log = structlog.get_logger(__name__)


def split_clears(
    inputs: Sequence[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows an import can carry, rows that clear a value and must go by batch)."""
    importable: list[dict[str, Any]] = []
    clearing: list[dict[str, Any]] = []
    for item in inputs:
        props = item["properties"]
        (clearing if any(v == "" for v in props.values()) else importable).append(item)
    return importable, clearing


# The states an import ends in (GET /crm/v3/imports/{importId}: ``state``).
IMPORT_ENDED = ("DONE", "FAILED", "CANCELED", "REVERTED")


class Importer:
    """UPDATE imports of companies through the client's imports API."""

    def __init__(self, client: HubSpotClient, poll_seconds: float, max_wait_seconds: float) -> None:
        self._client = client
        self._poll = poll_seconds
        self._max_wait = max_wait_seconds
        self._core = client.api("imports.core")
        self._errors = client.api("imports.errors")

    def write(self, inputs: Sequence[dict[str, Any]]) -> WriteOutcome:
        """Import ``inputs`` (``{"id", "properties"}``, no clears); per-row outcomes."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in inputs:
            groups.setdefault(tuple(sorted(item["properties"])), []).append(item)
        outcome = WriteOutcome()
        for columns, items in groups.items():
            for start in range(0, len(items), MAX_ROWS):
                part = self._one(list(columns), items[start : start + MAX_ROWS])
                outcome.written.extend(part.written)
                outcome.failed.extend(part.failed)
        return outcome

    # ------------------------------------------------------------------ one import
    def _one(self, columns: list[str], items: list[dict[str, Any]]) -> WriteOutcome:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([RECORD_ID, *columns])
        for item in items:
            writer.writerow([item["id"], *(item["properties"][c] for c in columns)])
        data = text.getvalue().encode("utf-8")
        name = "tierwise-" + hashlib.sha256(data).hexdigest()[:20]
        request = {
            "name": name,
            "importOperations": {COMPANY_TYPE_ID: "UPDATE"},
            "files": [
                {
                    "fileName": f"{name}.csv",
                    "fileFormat": "CSV",
                    "fileImportPage": {
                        "hasHeader": True,
                        "columnMappings": [
                            {
                                "columnObjectTypeId": COMPANY_TYPE_ID,
                                "columnName": RECORD_ID,
                                "propertyName": "hs_object_id",
                                "idColumnType": "HUBSPOT_OBJECT_ID",
                            },
                            *(
                                {
                                    "columnObjectTypeId": COMPANY_TYPE_ID,
                                    "columnName": c,
                                    "propertyName": c,
                                }
                                for c in columns
                            ),
                        ],
                    },
                }
            ],
        }
        import_id = self._create(name, request, data)
        state = self._wait(import_id)
        ids = [str(item["id"]) for item in items]
        if state != "DONE":
            reason = f"import {import_id} ended {state}"
            return WriteOutcome(failed=[RecordFailure(i, reason, transient=True) for i in ids])
        failures = self._row_failures(import_id)
        failed = [RecordFailure(i, failures[i]) for i in ids if i in failures]
        outcome = WriteOutcome(written=[i for i in ids if i not in failures], failed=failed)
        for failure in failed:
            log.warning(
                "hubspot_record_failed",
                operation="import",
                record_id=failure.crm_id,
                reason=failure.reason,
            )
        log.info(
            "hubspot_import_done", id=import_id, rows=len(ids), failed=len(failed), columns=columns
        )
        return outcome

    def _existing(self, name: str) -> str | None:
        """The id of an active import with this name (its create answer was lost)."""
        page = to_dict(
            self._client.call(
                IMPORT_LIST,
                lambda t: self._core.get_page(_request_timeout=t, _preload_content=False),
                operation="list imports",
                object_name="companies",
            )
        )
        for found in page.get("results") or []:
            if found.get("importName") == name and found.get("state") not in (
                "FAILED",
                "CANCELED",
                "REVERTED",
            ):
                return str(found.get("id"))
        return None

    def _create(self, name: str, request: dict[str, Any], data: bytes) -> str:
        with tempfile.TemporaryDirectory(prefix="tierwise-import-") as folder:
            path = Path(folder) / f"{name}.csv"  # the client opens files by path
            path.write_bytes(data)
            created = self._client.policy.call_unless_done(
                lambda: self._client.attempt(
                    IMPORT_CREATE,
                    lambda t: self._core.create(
                        files=str(path),
                        import_request=json.dumps(request),
                        _request_timeout=t,
                        _preload_content=False,
                    ),
                    operation="start company import",
                    object_name="companies",
                ),
                done=lambda: self._existing(name) is not None,
            )
        if created is None:  # an earlier attempt went through after all
            found = self._existing(name)
            if found is None:
                raise FatalCrmError(f"import {name} vanished", system="hubspot")
            return found
        import_id = str(to_dict(created).get("id") or "")
        if not import_id:
            raise FatalCrmError("HubSpot started an import without an id", system="hubspot")
        return import_id

    def _wait(self, import_id: str) -> str:
        """Poll the import (the retry engine's ``poll``, every ``bulk_poll_seconds``)
        until it ends; still running after ``bulk_max_wait_seconds`` is retriable."""
        job = self._client.policy.poll(
            lambda: to_dict(
                self._client.call(
                    IMPORT_GET,
                    lambda t: self._core.get_by_id(
                        int(import_id), _request_timeout=t, _preload_content=False
                    ),
                    operation="read import",
                    object_name="companies",
                )
            ),
            lambda job: str(job.get("state") or "") in IMPORT_ENDED,
            first_wait=self._poll,
            max_wait=self._poll,
            budget=self._max_wait,
        )
        state = str(job.get("state") or "")
        if state not in IMPORT_ENDED:
            raise RetriableError(
                f"HubSpot import {import_id} was still {state} after {self._max_wait:.0f} s",
                system="hubspot",
                object_name="companies",
            )
        return state

    def _row_failures(self, import_id: str) -> dict[str, str]:
        """record id -> reason, from every page of the import's errors."""
        failures: dict[str, str] = {}
        after: str | None = None
        while True:
            page = to_dict(
                self._client.call(
                    IMPORT_ERRORS,
                    lambda t, a=after: self._errors.get_errors(  # type: ignore[misc]  # lambda default binds the cursor
                        int(import_id),
                        after=a,
                        limit=ERRORS_PAGE,
                        include_error_message=True,
                        include_row_data=True,
                        _request_timeout=t,
                        _preload_content=False,
                    ),
                    operation="read import errors",
                    object_name="companies",
                )
            )
            for error in page.get("results") or []:
                row = (error.get("sourceData") or {}).get("rowData") or []
                if row:
                    reason = (
                        f"{error.get('errorType') or 'ERROR'}: {error.get('errorMessage') or ''}"
                    )
                    failures[str(row[0]).strip()] = reason.strip()
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return failures
