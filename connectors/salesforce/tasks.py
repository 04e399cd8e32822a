"""Tasks: created exactly once by their tierwise key, found again, closed as superseded.

A task's key is an External ID (``Tierwise_Key__c``), so an upsert by it is idempotent:
a retry after a dropped answer updates instead of duplicating, and the request retry of
the engine is enough - no create-unless-done check is needed. Keys that may exist are
queried first so a rerun never resets a task a rep completed. Statuses are the org's own
(``TaskStatus``, CRM-API-NOTES §1.12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from simple_salesforce.format import format_soql

from tierwise.connectors.base import OpenTask, TaskOutcome, TaskRequest, WriteOutcome
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.parsing import UnparseableError, parse_date
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.fields import OrgFields
from tierwise.connectors.salesforce.paging import query, query_in_chunks
from tierwise.connectors.salesforce.writes import write_collection

TASK_PRIORITIES = {"high": "High", "normal": "Normal", "low": "Low"}
DESCRIPTION_MAX = 32000


class Tasks:
    """Task writes and reads for one org."""

    def __init__(self, client: SalesforceClient, fields: OrgFields, *, precheck: bool) -> None:
        self.client = client
        self.fields = fields
        # Query task keys before the upsert so a rerun never resets a task a rep completed;
        # costs one query per 200 keys. False: upsert only (the minimum calls).
        self.precheck = precheck
        self._task_status: tuple[str, str] | None = None

    def _existing_task_keys(self, keys: Sequence[str], *, open_only: bool) -> list[dict[str, Any]]:
        key = self.fields.task_key_field
        where = "IsClosed = false AND " if open_only else ""
        select = (
            f"SELECT Id, {key}, WhatId, ActivityDate FROM {self.fields.task_object} "  # noqa: S608 - identifiers checked
            f"WHERE {where}{key} IN {{}}"
        )
        return list(
            query_in_chunks(
                self.client,
                keys,
                lambda chunk: format_soql(select, chunk),
                object_name=self.fields.task_object,
            )
        )

    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        """Exactly once: tasks whose key already exists are left alone (a rep may have
        completed them); the rest are upserted by the external id, which is idempotent, so a
        retry after a dropped answer updates instead of duplicating."""
        outcome = TaskOutcome()
        if not tasks:
            return outcome
        unique: dict[str, TaskRequest] = {}
        for task in tasks:
            unique.setdefault(task.key, task)
        key = self.fields.task_key_field
        uncertain = [k for k, t in unique.items() if t.verify_existing]
        if self.precheck and uncertain:
            for row in self._existing_task_keys(uncertain, open_only=False):
                outcome.existing[str(row[key])] = str(row["Id"])
        missing = [t for k, t in unique.items() if k not in outcome.existing]
        records = [self._task_record(t) for t in missing]

        def on_success(task_key: str, result: dict[str, Any]) -> None:
            target = outcome.created if result.get("created", True) else outcome.existing
            target[task_key] = str(result.get("id"))

        failures = write_collection(
            self.client,
            records,
            [t.key for t in missing],
            label=f"composite/sobjects/{self.fields.task_object}/{key} PATCH",
            path=f"composite/sobjects/{self.fields.task_object}/{key}",
            object_name=self.fields.task_object,
            operation="task upsert",
            on_success=on_success,
        )
        # RecordFailure.crm_id carries the task key here: no CRM id exists yet.
        outcome.failed = [replace(f, reason=f"task {f.crm_id}: {f.reason}") for f in failures]
        return outcome

    def _open_status(self) -> str:
        """The org's default open status: the Status picklist default from the Task
        describe ``validate_schema`` already read (TaskStatus.IsDefault is "the default
        picklist value"), else from TaskStatus - no extra call on a normal run."""
        if self._task_status is None:
            status = self.client.describes.get(self.fields.task_object, {}).get("Status") or {}
            for value in status.get("picklistValues") or []:
                if value.get("defaultValue") and value.get("active", True):
                    return str(value["value"])
        return self._task_statuses()[0]

    def _task_statuses(self) -> tuple[str, str]:
        """(open status for creates, closed status for closes) as this org defines them:
        ``TaskStatus`` rows are org-specific (CRM-API-NOTES §1.12); one query per process."""
        if self._task_status is None:
            rows = list(
                query(
                    self.client,
                    "SELECT ApiName, IsClosed, IsDefault FROM TaskStatus ORDER BY SortOrder",
                    object_name="TaskStatus",
                )
            )
            open_rows = [r for r in rows if not r.get("IsClosed")]
            closed_rows = [r for r in rows if r.get("IsClosed")]
            if not open_rows or not closed_rows:
                raise ConfigurationError(
                    "Salesforce TaskStatus has no open or no closed status; tierwise needs one "
                    "of each to create and close tasks",
                    system=SYSTEM,
                    object_name="TaskStatus",
                )
            default = next((r for r in open_rows if r.get("IsDefault")), open_rows[0])
            self._task_status = (str(default["ApiName"]), str(closed_rows[0]["ApiName"]))
        return self._task_status

    def _task_record(self, task: TaskRequest) -> dict[str, Any]:
        record: dict[str, Any] = {
            "attributes": {"type": self.fields.task_object},
            self.fields.task_key_field: task.key,
            "Subject": task.subject[:255],
            "ActivityDate": task.due.isoformat(),
            "WhatId": task.crm_account_id,
            "Status": self._open_status(),
            "Priority": TASK_PRIORITIES.get(task.priority, "Normal"),
            "Description": task.body,
        }
        if task.owner_id:
            record["OwnerId"] = task.owner_id
        return record

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        rows = self._existing_task_keys(list(dict.fromkeys(keys)), open_only=True)
        result: list[OpenTask] = []
        for row in rows:
            due_raw = row.get("ActivityDate")
            try:
                due = parse_date(due_raw) if due_raw else None
            except UnparseableError:
                due = None
            result.append(
                OpenTask(
                    key=str(row[self.fields.task_key_field]),
                    task_id=str(row["Id"]),
                    crm_account_id=str(row.get("WhatId") or ""),
                    due=due,
                )
            )
        return result

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        """Close superseded tasks with the org's closed status. The note is APPENDED to the
        description, so what a rep wrote there stays (one read per 200 tasks)."""
        outcome = WriteOutcome()
        ids = list(dict.fromkeys(task_ids))
        if not ids:
            return outcome
        closed = self._task_statuses()[1]
        current: dict[str, str] = {}
        select = f"SELECT Id, Description FROM {self.fields.task_object} WHERE Id IN {{}}"  # noqa: S608 - identifier checked
        for row in query_in_chunks(
            self.client,
            ids,
            lambda chunk: format_soql(select, chunk),
            object_name=self.fields.task_object,
        ):
            current[str(row["Id"])] = str(row.get("Description") or "")
        line = f"Closed by tierwise: superseded ({reason})"
        records = []
        for task_id in ids:
            before = current.get(task_id, "")
            text = f"{before.rstrip()}\n\n{line}" if before.strip() else line
            records.append(
                {
                    "attributes": {"type": self.fields.task_object},
                    "id": task_id,
                    "Status": closed,
                    "Description": text[-DESCRIPTION_MAX:],
                }
            )
        outcome.failed = write_collection(
            self.client,
            records,
            ids,
            label="composite/sobjects PATCH",
            path="composite/sobjects",
            object_name=self.fields.task_object,
            operation="task close",
            on_success=lambda task_id, _r: outcome.written.append(task_id),
        )
        return outcome
