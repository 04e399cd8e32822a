"""Plain records passed between the steps of a sync cycle: the planner's types.

Nothing here does I/O or imports a module that does (no store, no client library),
so the pure steps (merge, decide, plan, pacing) and their tests need no database.
The store persists ``Snapshot`` and ``TaskRecord``; it imports them from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from operator import attrgetter
from typing import NamedTuple, overload

from tierwise.connectors.base import AccountUpdate, TaskRequest, TierwiseValues
from tierwise.tiering.records import Decision, FieldValue


@dataclass(frozen=True, slots=True)
class WrittenFields:
    """The ``TierwiseValues`` attributes one tier target writes (logical names; each
    connector maps them to its CRM's fields). ``tier_changed`` is the entry date: it
    restarts only when the CRM's tier changes and is part of the target's task keys."""

    tier: str
    score: str
    reason: str
    play: str
    tier_changed: str
    sla_due: str | None = None

    def names(self) -> tuple[str, ...]:
        named = (self.tier, self.score, self.reason, self.play, self.sla_due, self.tier_changed)
        return tuple(n for n in named if n is not None)


PROSPECT_FIELDS = WrittenFields("tier", "score", "reason", "play", "tier_changed", "sla_due")
CUSTOMER_FIELDS = WrittenFields(
    "customer_tier",
    "customer_score",
    "customer_reason",
    "customer_play",
    "customer_tier_changed",
)
# Every target's fields: a diff compares each group on its own (see sync.desired.diff_values).
DECLARED_FIELDS: tuple[WrittenFields, ...] = (PROSPECT_FIELDS, CUSTOMER_FIELDS)


# The customer target's prefix in the tier history and the task ledger: its keys are
# "customer:<account key>", so prospect and customer dwell, hysteresis and tasks never mix.
CUSTOMER_KEY = "customer:"


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """One tier target's decisions as the planner needs them (by plain account key).

    ``history_key`` prefixes the target's task-ledger keys; ``covers_all``: the target
    decides every account (one it leaves out is not planned at all), else an account it
    leaves out has the target's fields emptied; ``hold``: its go-live run (first run, no
    backfill) creates no entry tasks, it only counts them.
    """

    fields: WrittenFields
    decisions: Mapping[str, Decision]
    history_key: str = ""
    covers_all: bool = False
    hold: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One CRM record as last pulled, plus what tierwise knows about it.

    ``override`` is a hand edit of the tier tierwise decided to honour:
    ``{"tier": ..., "until": "YYYY-MM-DD", "detected": "YYYY-MM-DD"}``.
    """

    system: str
    crm_id: str
    key: str
    domain: str | None
    name: str | None
    owner_id: str | None
    modified_at: datetime | None
    fields: Mapping[str, FieldValue]
    written: TierwiseValues
    manual_tier: str | None = None
    manual_tier_until: date | None = None
    invalid: Mapping[str, str] = field(default_factory=dict)
    override: Mapping[str, str] | None = None


class MergedAccount(NamedTuple):
    """One company, possibly held by several CRMs; ``records[0]`` is the primary.

    A named tuple, not a frozen dataclass: ``merge`` makes one per company, a million
    per run at scale, and a frozen dataclass's ``__init__`` (a guarded ``setattr`` per
    field) costs ten times a tuple's: two seconds of a million-account run.
    """

    key: str
    records: tuple[Snapshot, ...]
    fields: Mapping[str, FieldValue]
    manual_tier: str | None
    manual_tier_until: date | None

    @property
    def primary(self) -> Snapshot:
        return self.records[0]

    @property
    def name(self) -> str | None:
        return next((r.name for r in self.records if r.name), None)


@dataclass(frozen=True, slots=True)
class FieldChange:
    key: str
    system: str
    crm_id: str
    name: str | None
    field: str
    old: FieldValue
    new: FieldValue


# Every ``TierwiseValues`` field in declaration (constructor) order, read in one C call:
# ``with_values`` (and ``sync.desired.diff_values``) run once per record written, a million
# times on a first run at scale, where ``dataclasses.fields``/``replace`` per call cost seconds.
VALUE_NAMES: tuple[str, ...] = tuple(f.name for f in dataclass_fields(TierwiseValues))
all_values = attrgetter(*VALUE_NAMES)


def with_values(held: TierwiseValues, values: Mapping[str, FieldValue]) -> TierwiseValues:
    """``held`` with ``values`` laid over it (``dataclasses.replace``, without its checks:
    the names are ``TierwiseValues`` fields by construction)."""
    get = values.get
    return TierwiseValues(
        *[get(name, old) for name, old in zip(VALUE_NAMES, all_values(held), strict=True)]
    )


_Source = tuple[str, AccountUpdate, str, str | None, TierwiseValues]


class FieldChanges(Sequence[FieldChange]):
    """A plan's field changes, derived when read from its updates and what each record
    held: one entry per updated record instead of one object per changed field (a full
    run at a million records changes millions of fields, and holding them all was a
    tenth of the plan's memory). Reads in planning order, compares equal to a list of
    the same changes."""

    __slots__ = ("_count", "_index", "_sources")

    def __init__(self) -> None:
        self._sources: list[_Source] = []
        self._count = 0
        # By system, crm_id -> its source: built when a record is first looked up.
        self._index: dict[str, dict[str, _Source]] = {}

    def add(
        self,
        system: str,
        update: AccountUpdate,
        key: str,
        name: str | None,
        held: TierwiseValues,
    ) -> None:
        """The changes of one update: its values over ``held`` (what the record held)."""
        self._sources.append((system, update, key, name, held))
        self._count += len(update.values)
        self._index.clear()

    def updates(self) -> Iterator[tuple[str, AccountUpdate, str, TierwiseValues]]:
        """Each update with its system, account key and what the record held, in
        planning order (the write journal reads these; no index of every record)."""
        for system, update, key, _name, held in self._sources:
            yield system, update, key, held

    def records(self) -> int:
        """How many records the changes update."""
        return len(self._sources)

    def source(self, system: str, crm_id: str) -> tuple[AccountUpdate, TierwiseValues]:
        """One record's update and what it held (KeyError: the plan does not update it)."""
        index = self._index.get(system)
        if index is None:
            index = self._index[system] = {s[1].crm_id: s for s in self._sources if s[0] == system}
        found = index[crm_id]
        return found[1], found[4]

    def __iter__(self) -> Iterator[FieldChange]:
        for system, update, key, name, held in self._sources:
            for field_name, value in update.values.items():
                yield FieldChange(
                    key, system, update.crm_id, name, field_name, getattr(held, field_name), value
                )

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> FieldChange: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[FieldChange]: ...

    def __getitem__(self, index: int | slice) -> FieldChange | Sequence[FieldChange]:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FieldChanges | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the list it replaces

    def __repr__(self) -> str:
        return f"FieldChanges({list(self)!r})"


class DesiredValues(Mapping[tuple[str, str], TierwiseValues]):
    """What each record a plan updates holds once the update lands, by (system, crm_id):
    what it held with the update's values laid over it, derived when read (issue 15: a
    stored copy per written record was a quarter of a first run's plan at a million)."""

    __slots__ = ("_changes",)

    def __init__(self, changes: FieldChanges) -> None:
        self._changes = changes

    def __getitem__(self, ident: tuple[str, str]) -> TierwiseValues:
        update, held = self._changes.source(*ident)
        return with_values(held, update.values)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((system, update.crm_id) for system, update, _key, _held in self._changes.updates())

    def __len__(self) -> int:
        return self._changes.records()

    def __repr__(self) -> str:
        return f"DesiredValues({dict(self.items())!r})"


@dataclass(frozen=True, slots=True)
class PlannedTask:
    system: str
    account_key: str
    tier: str
    request: TaskRequest


@dataclass(frozen=True, slots=True)
class PlannedClose:
    system: str
    task_key: str
    crm_task_id: str


@dataclass
class Plan:
    """Everything a run would do to the CRMs, computed without touching them."""

    updates: dict[str, list[AccountUpdate]] = field(default_factory=dict)
    # One per changed field, derived from ``updates`` when read (see ``FieldChanges``);
    # every plan has them, one rebuilt from a saved file too (``SavedPlan.to_plan``), so
    # the breaker and the write journal read any plan the same way.
    changes: FieldChanges = field(default_factory=FieldChanges)
    tasks: list[PlannedTask] = field(default_factory=list)
    closes: list[PlannedClose] = field(default_factory=list)
    # Go-live (first run of a target, no backfill): entry tasks not created.
    held: int = 0
    # Over the per-owner daily cap: recorded as deferred, created by a later run.
    deferred: list[PlannedTask] = field(default_factory=list)
    # Keys of deferred tasks whose account left the tier before their turn.
    dropped: list[str] = field(default_factory=list)

    @property
    def desired(self) -> DesiredValues:
        """What each updated record holds once written (derived from ``changes``)."""
        return DesiredValues(self.changes)

    @property
    def write_count(self) -> int:
        return sum(len(u) for u in self.updates.values())


@dataclass(frozen=True, slots=True)
class TaskRecord:
    key: str
    system: str
    crm_task_id: str | None
    account_key: str
    crm_account_id: str
    tier: str
    # "pending" (create attempted, outcome unknown), "created", "closed"; "deferred" (over
    # the per-owner daily cap: created by a later run, same key), "dropped" (deferred, then
    # the account left the tier before its turn).
    status: str
    due: date | None
    # When this row was last recorded (the create, for a created task); read-only.
    # Not part of equality: the same task recorded at another time is the same task.
    created: datetime | None = field(default=None, compare=False)
