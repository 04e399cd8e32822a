"""The one interface the sync engine uses for any CRM.

The engine never asks which CRM it talks to: it pulls ``CrmAccount`` records, asks for
``AccountUpdate`` writes and ``TaskRequest`` tasks, and reads back outcomes. ``system``
is only a label for reports, logs and state keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from tierwise.tiering.records import FieldValue

# The fields tierwise writes, by logical name. Connectors map them to CRM field names.
TIERWISE_FIELDS: tuple[str, ...] = (
    "tier",
    "score",
    "reason",
    "play",
    "sla_due",
    "tier_changed",
)

# The customer-tier fields tierwise writes when customer tiers are on (their own fields,
# beside the prospect ones above).
CUSTOMER_FIELDS: tuple[str, ...] = (
    "customer_tier",
    "customer_score",
    "customer_reason",
    "customer_play",
    "customer_tier_changed",
)


@dataclass(frozen=True, slots=True)
class TierwiseValues:
    """Values of tierwise's own fields, as the CRM holds them or as tierwise wants them."""

    tier: str | None = None
    score: float | None = None
    reason: str | None = None
    play: str | None = None
    sla_due: date | None = None
    tier_changed: date | None = None
    # Customer tiers (only read and written when customer tiers are on).
    customer_tier: str | None = None
    customer_score: float | None = None
    customer_reason: str | None = None
    customer_play: str | None = None
    # When the customer tier last changed: the entry date in customer task keys, so a
    # rerun after a crash (even days later) derives the same keys.
    customer_tier_changed: date | None = None


@dataclass(frozen=True, slots=True)
class CrmAccount:
    """One account/company as pulled, already mapped onto canonical field names.

    ``invalid`` lists canonical fields whose CRM value could not be parsed (the value
    is then None in ``fields``), with a short description of the raw value for the
    report. ``manual_tier``/``manual_tier_until`` come from the override fields.
    """

    system: str
    crm_id: str
    name: str | None
    domain: str | None
    owner_id: str | None
    modified_at: datetime | None
    fields: Mapping[str, FieldValue]
    written: TierwiseValues
    manual_tier: str | None = None
    manual_tier_until: date | None = None
    invalid: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CrmOpportunity:
    """One opportunity (Salesforce) / deal (HubSpot), for outcome analytics.

    ``crm_account_id`` is the account/company it belongs to in the same CRM (None when
    the deal has no company). ``stage`` is the CRM's own stage value; ``is_closed`` /
    ``is_won`` are the CRM's verdict. ``closed`` is the close date of a closed deal
    (None while open); ``amount`` is None when the CRM holds no amount.
    """

    system: str
    crm_id: str
    crm_account_id: str | None
    amount: float | None
    stage: str | None
    is_closed: bool
    is_won: bool
    created: datetime | None
    closed: date | None
    modified: datetime | None


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """Change-only write for one record: only the logical fields in ``values`` are sent."""

    crm_id: str
    values: Mapping[str, FieldValue]


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A play task to exist exactly once, identified by ``key`` (stored on the task)."""

    key: str
    crm_account_id: str
    owner_id: str | None
    subject: str
    due: date
    priority: str = "normal"  # "high" | "normal" | "low"
    body: str = ""
    # False when tierwise has never attempted this key (its state store writes an intent
    # before every create): the connector may skip the existence read. True after an
    # attempt whose outcome is unknown (crash, timeout), so the key is checked first.
    verify_existing: bool = True


@dataclass(frozen=True, slots=True)
class RecordFailure:
    crm_id: str
    reason: str
    transient: bool = False


@dataclass
class WriteOutcome:
    written: list[str] = field(default_factory=list)
    failed: list[RecordFailure] = field(default_factory=list)


@dataclass
class TaskOutcome:
    created: dict[str, str] = field(default_factory=dict)  # key -> CRM task id
    existing: dict[str, str] = field(default_factory=dict)  # key -> CRM task id (already there)
    failed: list[RecordFailure] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OpenTask:
    key: str
    task_id: str
    crm_account_id: str
    due: date | None


@dataclass(frozen=True, slots=True)
class ProvisionStep:
    """One thing provisioning would create (or found already there)."""

    # "field", "property", "property_group", "list", "task_field", "field_permission",
    # "permission_set", "permission_set_assignment"
    kind: str
    object_name: str
    name: str
    exists: bool


@dataclass
class ApiUsage:
    """API calls made by this connector in this process, by endpoint label."""

    calls: dict[str, int] = field(default_factory=dict)
    daily_used: int | None = None
    daily_max: int | None = None
    # What the run's minimum (sync/minimum.py) needs beyond row counts. Related objects
    # read with the accounts: a bulk query job each (Salesforce: open Opportunities for
    # deal inputs, Tasks and Events for the activity count; Bulk 2.0 refuses subqueries).
    related_reads: int = 0
    # Bulk ingest files the writes filled, one job each (Salesforce: 100 MB of CSV); 0
    # when no bulk write ran (then the write set fits one).
    bulk_files: int = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def since(self, start: ApiUsage) -> ApiUsage:
        """What was made after ``start`` was read: a connector counts from its creation,
        and ``tierwise schedule`` keeps its connectors for every run, while each run's
        report (and the metrics it feeds) counts that run's calls alone. The daily figures
        are the CRM's own, as of now."""
        calls = {k: n - start.calls.get(k, 0) for k, n in self.calls.items()}
        return ApiUsage(
            calls={k: n for k, n in calls.items() if n},
            daily_used=self.daily_used,
            daily_max=self.daily_max,
            related_reads=self.related_reads,
            bulk_files=self.bulk_files - start.bulk_files,
        )


class Connector(Protocol):
    system: str

    def check_access(self) -> None:
        """Authenticate (or probe the token); raise AuthenticationError with the setting to fix."""

    def validate_schema(self) -> None:
        """Check every mapped field exists and every written field is writable.

        Raises SchemaError naming field, object and the fix, before any write.
        """

    def pull_accounts(
        self, since: datetime | None, *, expected: int | None = None
    ) -> Iterator[CrmAccount]:
        """Stream accounts; ``since`` None means a full pull. Records on the watermark
        boundary are included (inclusive start) and callers de-duplicate by id.

        ``expected`` is the caller's estimate of how many records this pull returns
        (full: the stored snapshot count; incremental: what tierwise itself wrote since
        ``since`` plus the outside edits of recent runs). It only chooses a path (page
        by page, or a bulk job above a threshold), never which records come back: an
        estimate that is off costs calls, not data. None means unknown."""

    def pull_opportunities(self, since: datetime | None) -> Iterator[CrmOpportunity]:
        """Stream opportunities/deals with the same paging, retry and incremental rules as
        ``pull_accounts`` (inclusive watermark; callers de-duplicate by id)."""

    def write_accounts(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        """Write change-only updates in batches at the API maximum."""

    def write_chunk_size(self, total: int) -> int:
        """How many of ``total`` updates to hand over per ``write_accounts`` call.

        The engine checks its stop flag between chunks; a connector whose bulk path only
        pays off for the whole set (Salesforce Bulk API 2.0) asks for all of it at once.
        """

    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        """Create each task exactly once, keyed by ``TaskRequest.key``."""

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        """The still-open tierwise tasks among ``keys``."""

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        """Close superseded tasks (account left the tier)."""

    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        """Create tierwise's fields/properties/lists; idempotent. ``tier_values`` is id -> label."""

    def usage(self) -> ApiUsage:
        """Calls made so far and, where the CRM reports it, the daily budget."""

    def unmapped_inputs(self) -> Mapping[str, str]:
        """Model inputs this CRM cannot supply, known after ``validate_schema``:
        canonical name -> why (``"not mapped"``, ``"no field Web_Visits__c"``, ...).

        An input mapped only by default whose field the org lacks is scored as missing
        for every account and listed here; the run goes on. An input the operator mapped
        explicitly to a field that does not exist is a ``SchemaError`` instead.
        """
