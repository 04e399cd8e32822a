"""An in-memory CRM that honours the ``Connector`` contract, for engine tests.

Records keep a modification stamp from the test's clock, writes bump it (as a real
CRM's SystemModstamp does), tasks are keyed exactly-once, and faults can be armed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from tierwise.connectors.base import (
    AccountUpdate,
    ApiUsage,
    CrmAccount,
    CrmOpportunity,
    OpenTask,
    ProvisionStep,
    RecordFailure,
    TaskOutcome,
    TaskRequest,
    TierwiseValues,
    WriteOutcome,
)
from tierwise.connectors.errors import FatalCrmError
from tierwise.tiering.records import FieldValue


@dataclass
class FakeTask:
    request: TaskRequest
    task_id: str
    open: bool = True


@dataclass
class FakeCrm:
    system: str
    clock: Callable[[], datetime]
    accounts: dict[str, CrmAccount] = field(default_factory=dict)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    fail_pull_after: int | None = None
    fail_write_ids: set[str] = field(default_factory=set)
    raise_on: dict[str, Exception] = field(default_factory=dict)
    page: int = 100
    # What unmapped_inputs() reports (a stock org's optional inputs), input -> why.
    unmapped: dict[str, str] = field(default_factory=dict)
    # Opportunities / deals the outcome commands read (``pull_opportunities``).
    opportunities: list[CrmOpportunity] = field(default_factory=list)
    # The ``expected`` estimate of every pull_accounts call, in order (a real connector
    # uses it to pick a path; the double only records it for the engine's tests).
    expected_seen: list[int | None] = field(default_factory=list)

    def add(
        self, crm_id: str, domain: str | None, owner: str = "owner-1", **fields: FieldValue
    ) -> None:
        self.accounts[crm_id] = CrmAccount(
            system=self.system,
            crm_id=crm_id,
            name=f"Company {crm_id}",
            domain=domain,
            owner_id=owner,
            modified_at=self.clock(),
            fields=fields,
            written=TierwiseValues(),
        )

    def edit(self, crm_id: str, **changes: object) -> None:
        acc = self.accounts[crm_id]
        self.accounts[crm_id] = replace(acc, modified_at=self.clock(), **changes)  # type: ignore[arg-type]  # changes are typed object; callers pass CrmAccount fields

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.raise_on:
            raise self.raise_on[name]

    def check_access(self) -> None:
        self._count("auth")

    def validate_schema(self) -> None:
        self._count("schema")

    def pull_opportunities(self, since: datetime | None) -> Iterator[CrmOpportunity]:
        self._count("opportunities")
        yield from (o for o in self.opportunities if o.system == self.system)

    def pull_accounts(
        self, since: datetime | None, *, expected: int | None = None
    ) -> Iterator[CrmAccount]:
        self.expected_seen.append(expected)
        rows = sorted(self.accounts.values(), key=lambda a: a.crm_id)
        if since is not None:
            rows = [a for a in rows if a.modified_at is not None and a.modified_at >= since]
        for index, account in enumerate(rows):
            if index % self.page == 0:
                self._count("read")
            if self.fail_pull_after is not None and index >= self.fail_pull_after:
                raise FatalCrmError("QUERY_TIMEOUT while reading", system=self.system)
            yield account

    def write_chunk_size(self, total: int) -> int:
        return 2000

    def write_accounts(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        outcome = WriteOutcome()
        # As the real connectors: an update with no values is not sent.
        updates = [u for u in updates if u.values]
        for start in range(0, len(updates), self.page):
            self._count("write")
            for update in updates[start : start + self.page]:
                if update.crm_id in self.fail_write_ids:
                    outcome.failed.append(RecordFailure(update.crm_id, "UNABLE_TO_LOCK_ROW", True))
                    continue
                acc = self.accounts.get(update.crm_id)
                if acc is None:  # the CRM refuses that record alone (deleted or never there)
                    outcome.failed.append(RecordFailure(update.crm_id, "ENTITY_IS_DELETED"))
                    continue
                written = replace(acc.written, **dict(update.values))  # type: ignore[arg-type]  # values are typed FieldValue; keys name TierwiseValues fields
                self.accounts[update.crm_id] = replace(
                    acc, written=written, modified_at=self.clock()
                )
                outcome.written.append(update.crm_id)
        return outcome

    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        self._count("tasks")
        outcome = TaskOutcome()
        for request in tasks:
            if request.key in self.tasks:
                outcome.existing[request.key] = self.tasks[request.key].task_id
                continue
            if request.crm_account_id not in self.accounts:  # refused, that record alone
                outcome.failed.append(RecordFailure(request.key, "account not found"))
                continue
            task_id = f"T{len(self.tasks) + 1}"
            self.tasks[request.key] = FakeTask(request, task_id)
            outcome.created[request.key] = task_id
        return outcome

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        self._count("open_tasks")
        return [
            OpenTask(k, t.task_id, t.request.crm_account_id, t.request.due)
            for k, t in self.tasks.items()
            if k in set(keys) and t.open
        ]

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        self._count("close")
        outcome = WriteOutcome()
        for task in self.tasks.values():
            if task.task_id in task_ids:
                task.open = False
                outcome.written.append(task.task_id)
        return outcome

    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        return [ProvisionStep("field", "Account", "tier", exists=True)]

    def unmapped_inputs(self) -> dict[str, str]:
        """Model inputs this CRM cannot supply (configurable: ``unmapped``)."""
        return dict(self.unmapped)

    def usage(self) -> ApiUsage:
        return ApiUsage(calls=dict(self.calls))

    def written(self) -> dict[str, TierwiseValues]:
        return {i: a.written for i, a in self.accounts.items()}


def seed(crm: FakeCrm, count: int, *, domains: bool = True, start: int = 0) -> None:
    """Accounts spread from weak to strong so every tier gets some."""
    for n in range(start, start + count):
        strength = n / max(count - 1, 1)
        crm.add(
            f"{crm.system[:2]}{n:04d}",
            f"company{n}.example" if domains else None,
            industry="Software" if strength > 0.5 else "Retail",
            employees=float(50 + 5000 * strength),
            annual_revenue=float(1e6 + 5e8 * strength),
            country="United States",
            tech_stack=("Salesforce", "Snowflake") if strength > 0.3 else (),
            web_visits=float(int(200 * strength)),
            intent_score=float(int(100 * strength)),
            intent_surge=strength > 0.9,
            last_activity=date(2026, 11, 1),
            open_pipeline=float(int(500_000 * strength)),
            competitor_customer=False,
            payment_risk="low",
        )
