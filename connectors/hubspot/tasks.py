"""HubSpot play tasks, created exactly once.

The key lives in the task property ``tierwise_key``, unique where the portal allows it
(then read by ``idProperty``). HubSpot does not document unique task properties
(CRM-API-NOTES §2.16), so where it is refused the lookup (:meth:`Tasks._find`) goes by
ids this process created, then the tasks associated with the task's company
(immediate, unlike search), search last.

A batch create is one logical operation of the retry engine (``call_batch``) with the
create-unless-done policy: before every retry the keys still pending are read back and
the ones that committed after all (answer lost) are recorded, not created again; each
input carries ``objectWriteTraceId`` = its key, so a 207's errors name the input,
permanent per-input errors are reported and transient or unexplained ones sent again -
all inside one attempt budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

import structlog

from tierwise.connectors.base import OpenTask, RecordFailure, TaskOutcome, TaskRequest, WriteOutcome
from tierwise.connectors.batching import ItemFailure, Verdict, chunked, multi_status_verdicts
from tierwise.connectors.errors import FatalCrmError
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot.batch import BATCH_MAX, TRANSIENT_CATEGORIES, batch_update
from tierwise.connectors.hubspot.client import HubSpotClient, ReadBackFailed, read_back, to_dict
from tierwise.connectors.hubspot.paging import associations, search_page
from tierwise.connectors.hubspot.schema import PortalFields
from tierwise.connectors.parsing import UnparseableError, parse_date

Row = dict[str, Any]
# Keys per search on the task key (a search body stays under 3,000 characters).
TASK_SEARCH_KEYS = 50
TASK_TO_COMPANY = 192
TASK_PRIORITIES = {"high": "HIGH", "normal": "MEDIUM", "low": "LOW"}

log = structlog.get_logger(__name__)


class Tasks:
    """Create, find and close tierwise's tasks in one portal."""

    def __init__(self, client: HubSpotClient, fields: PortalFields) -> None:
        self._client = client
        self._fields = fields
        self._key = fields.task_key
        self._created: dict[str, str] = {}  # key -> task id, created by this process

    # ------------------------------------------------------------------ create
    def ensure(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        outcome = TaskOutcome()
        unique: dict[str, TaskRequest] = {}
        for task in tasks:
            unique.setdefault(task.key, task)
        for key in list(unique):
            if key in self._created:
                outcome.existing[key] = self._created[key]
        unknown = [k for k in unique if k not in outcome.existing]
        uncertain = [k for k in unknown if unique[k].verify_existing]
        companies = {k: t.crm_account_id for k, t in unique.items()}
        for key, row in self.read_by_key(uncertain, (), companies).items():
            outcome.existing[key] = str(row.get("id"))
        missing = [unique[k] for k in unknown if k not in outcome.existing]
        for batch in chunked(missing, BATCH_MAX):
            self._create_batch(batch, outcome)
        return outcome

    def _create_batch(self, batch: list[TaskRequest], outcome: TaskOutcome) -> None:
        """One batch create under the engine's budget; after any failure the pending keys
        are read back and only the missing created."""
        api = self._client.api("tasks.batch")

        def reconcile(pending: list[TaskRequest]) -> list[TaskRequest]:
            existing = read_back(
                lambda: self.read_by_key(
                    [t.key for t in pending], (), {t.key: t.crm_account_id for t in pending}
                )
            )
            for key, row in existing.items():
                outcome.created[key] = self._created[key] = str(row.get("id"))
            return [t for t in pending if t.key not in existing]

        def send(pending: list[TaskRequest]) -> list[Verdict]:
            body = {"inputs": [self._task_input(t) for t in pending]}
            try:
                result = to_dict(
                    self._client.attempt(
                        paths.TASKS_BATCH_CREATE,
                        lambda t: api.create(body, _request_timeout=t),
                        operation="create tasks",
                        object_name="tasks",
                    )
                )
            except FatalCrmError as exc:
                if exc.status != 400:
                    raise
                # The whole batch was rejected (validation): report it, keep the run going.
                return [ItemFailure(str(exc)) for _ in pending]
            made: set[str] = set()
            for row in result.get("results") or []:
                key = (row.get("properties") or {}).get(self._key)
                if key:
                    made.add(str(key))
                    outcome.created[str(key)] = self._created[str(key)] = str(row.get("id"))
            verdicts = multi_status_verdicts(
                result,
                [t.key for t in pending],
                transient_categories=TRANSIENT_CATEGORIES,
                done_refs=made,
            )
            log.debug(
                "hubspot_task_batch", created=len(made), errors=len(result.get("errors") or [])
            )
            return [None if t.key in made else v for t, v in zip(pending, verdicts, strict=True)]

        try:
            result = self._client.policy.call_batch(
                batch, send, reconcile=reconcile, raise_when_spent=False
            )
        except ReadBackFailed as failed:
            raise failed.error from None
        for task, failure in result.failed:
            outcome.failed.append(RecordFailure(task.key, f"task {task.key}: {failure.reason}"))
            log.warning("hubspot_task_failed", key=task.key, reason=failure.reason)

    def _task_input(self, task: TaskRequest) -> dict[str, Any]:
        due = datetime.combine(task.due, time(12, 0), tzinfo=UTC)
        properties = {
            self._key: task.key,
            "hs_timestamp": due.isoformat().replace("+00:00", "Z"),
            "hs_task_subject": task.subject,
            "hs_task_body": task.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": TASK_PRIORITIES.get(task.priority, "MEDIUM"),
            "hs_task_type": "TODO",
        }
        if task.owner_id:
            properties["hubspot_owner_id"] = task.owner_id
        return {
            "objectWriteTraceId": task.key,
            "properties": properties,
            "associations": [
                {
                    "to": {"id": task.crm_account_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": TASK_TO_COMPANY,
                        }
                    ],
                }
            ],
        }

    # ------------------------------------------------------------------ open / close
    def open(self, keys: Sequence[str]) -> list[OpenTask]:
        rows = self.read_by_key(list(dict.fromkeys(keys)), ("hs_task_status", "hs_timestamp"))
        open_rows = {
            key: row
            for key, row in rows.items()
            if (row.get("properties") or {}).get("hs_task_status") != "COMPLETED"
        }
        ids = [str(r.get("id")) for r in open_rows.values()]
        companies = associations(self._client, "tasks", "companies", ids).first()
        result: list[OpenTask] = []
        for key, row in open_rows.items():
            raw_due = (row.get("properties") or {}).get("hs_timestamp")
            try:
                due = parse_date(raw_due) if raw_due else None
            except UnparseableError:
                due = None
            task_id = str(row.get("id"))
            result.append(OpenTask(key, task_id, companies.get(task_id, ""), due))
        return result

    def close(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        inputs = [
            {"id": task_id, "properties": {"hs_task_status": "COMPLETED"}}
            for task_id in dict.fromkeys(task_ids)
        ]
        log.debug("hubspot_close_tasks", tasks=len(inputs), reason=reason)
        return batch_update(
            self._client,
            "tasks.batch",
            "tasks",
            inputs,
            label=paths.TASKS_BATCH_UPDATE,
            operation="close tasks",
        )

    # ------------------------------------------------------------------ lookup
    def read_by_key(
        self,
        keys: Sequence[str],
        properties: Sequence[str],
        companies: Mapping[str, str] | None = None,
    ) -> dict[str, Row]:
        """key -> task row. By batch read on the unique key when the portal let it be
        unique; otherwise by :meth:`_find`, which never relies on search for a task
        created moments ago. ``companies`` maps key -> company id, when known."""
        if not keys:
            return {}
        if not self._unique_key():
            return self._find(keys, properties, companies or {})
        found: dict[str, Row] = {}
        for chunk in chunked(keys, BATCH_MAX):
            body = {
                "idProperty": self._key,
                "inputs": [{"id": key} for key in chunk],
                "properties": [self._key, *properties],
            }
            # Keys that do not exist come back as OBJECT_NOT_FOUND errors: expected here.
            for row in self._read(body):
                key = (row.get("properties") or {}).get(self._key)
                if key:
                    found[str(key)] = row
        return found

    def _unique_key(self) -> bool:
        """Whether the task key property has unique values (read once if not known)."""
        if self._fields.task_key_unique is None:
            core = self._client.api("properties.core")
            prop = self._client.maybe(
                paths.PROPERTY_GET,
                lambda t: core.get_by_name("tasks", self._key, _request_timeout=t),
                operation="read task key property",
                object_name="tasks",
            )
            self._fields.task_key_unique = bool(to_dict(prop).get("has_unique_value", False))
        return self._fields.task_key_unique

    def _read(self, body: Mapping[str, Any]) -> list[Row]:
        api = self._client.api("tasks.batch")
        result = to_dict(
            self._client.call(
                paths.TASKS_BATCH_READ,
                lambda t: api.read(dict(body), _request_timeout=t),
                operation="read tasks",
                object_name="tasks",
            )
        )
        rows: list[Row] = result.get("results") or []
        return rows

    def _by_id(self, task_ids: Sequence[str], properties: Sequence[str]) -> list[Row]:
        """Tasks by record id (batch read: immediate, unlike search)."""
        rows: list[Row] = []
        for chunk in chunked(list(dict.fromkeys(task_ids)), BATCH_MAX):
            rows += self._read(
                {
                    "inputs": [{"id": i} for i in chunk],
                    "properties": [self._key, *properties],
                }
            )
        return rows

    def _find(
        self, keys: Sequence[str], properties: Sequence[str], companies: Mapping[str, str]
    ) -> dict[str, Row]:
        """Tasks by key on a portal without a unique key property, tolerating search lag.

        1. ids this process created (remembered per key) - batch read by id;
        2. the tasks associated with each task's company (association reads and batch
           reads by id are immediate; tierwise creates its tasks with the association in
           the same call) - their keys compared;
        3. search on the key property, only for what 1-2 cannot settle (no company known,
           or a company with more than one page of associated tasks).
        """
        wanted = set(keys)
        found: dict[str, Row] = {}

        def take(rows: Sequence[Row]) -> None:
            for row in rows:
                key = str((row.get("properties") or {}).get(self._key) or "")
                if key in wanted and key not in found:
                    found[key] = row

        take(self._by_id([self._created[k] for k in keys if k in self._created], properties))
        left = [k for k in keys if k not in found]
        by_company = {k: companies[k] for k in left if k in companies}
        if by_company:
            linked = associations(
                self._client, "companies", "tasks", list(dict.fromkeys(by_company.values()))
            )
            task_ids = [tid for cid in by_company.values() for tid in linked.linked.get(cid, [])]
            take(self._by_id(task_ids, properties))
            settled = {k for k, cid in by_company.items() if cid not in linked.paged}
            left = [k for k in left if k not in found and k not in settled]
        else:
            left = [k for k in left if k not in found]
        if left:
            take(self._search(left, properties))
        return found

    def _search(self, keys: Sequence[str], properties: Sequence[str]) -> list[Row]:
        """Last resort: search ``tierwise_key IN (...)`` (string IN wants lower case,
        CRM-API-NOTES §2.4). May miss a task created seconds ago (search lag)."""
        props = [self._key, *properties]
        rows: list[Row] = []
        for start in range(0, len(keys), TASK_SEARCH_KEYS):
            chunk = [k.lower() for k in keys[start : start + TASK_SEARCH_KEYS]]
            rows += search_page(
                self._client,
                "tasks",
                [{"propertyName": self._key, "operator": "IN", "values": chunk}],
                "hs_object_id",
                props,
            )
        return rows
