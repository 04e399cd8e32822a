"""The plain records that go into and come out of the tiering engine.

These types are the contract between ``tiering`` (pure) and ``sync`` (I/O). They
carry no CRM names: connectors translate CRM fields into canonical field names
declared by the model, and ``sync`` turns decisions into CRM writes and tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any, NamedTuple

# A canonical field value after parsing: number, string, bool, date, list of strings,
# or None when the CRM had no value or a value that could not be parsed.
FieldValue = float | str | bool | date | tuple[str, ...] | None

UNQUALIFIED = "unqualified"
# issue 16: the state outside the tier ladder for accounts in an active deal.
PIPELINE = "pipeline"


class FieldLayout:
    """The field names of many records, in their stored order, and where each one is."""

    __slots__ = ("index", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}


class FieldRow(Mapping[str, FieldValue]):
    """A record's canonical field values as a tuple over a layout shared by every record
    with the same names: a read-only mapping at a third of a dict's size, so a million
    stored snapshots fit in a worker's memory. Iterates in the stored order, like the
    dict it replaces, and compares equal to it."""

    __slots__ = ("_layout", "_values")

    def __init__(self, layout: FieldLayout, values: tuple[FieldValue, ...]) -> None:
        self._layout = layout
        self._values = values

    def __getitem__(self, name: str) -> FieldValue:
        return self._values[self._layout.index[name]]

    def get(self, name: str, default: Any = None) -> Any:
        i = self._layout.index.get(name)
        return default if i is None else self._values[i]

    def __contains__(self, name: object) -> bool:
        return name in self._layout.index

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout.names)

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Any:
        return zip(self._layout.names, self._values, strict=True)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


# A row's layout and its values tuple, for readers of whole columns (one C call each,
# where ``row.get(name)`` per row is a Python call): ``tiering.scoring.Columns``.
row_layout: Callable[[FieldRow], FieldLayout] = attrgetter("_layout")
row_values: Callable[[FieldRow], tuple[FieldValue, ...]] = attrgetter("_values")


@dataclass(frozen=True, slots=True)
class AccountInput:
    """One account as the model sees it.

    ``key`` is stable across runs and CRMs (normalised domain, or ``system:id``).
    ``manual_tier`` is a pin read from the CRM's override field (or a hand edit that
    ``sync`` decided to honour); it wins until ``manual_tier_until`` when that is set.
    """

    key: str
    fields: Mapping[str, FieldValue]
    manual_tier: str | None = None
    manual_tier_until: date | None = None
    # issue 16: the CRM user or queue id owning the account (per-owner capacity).
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class ScorePoint:
    at: datetime
    score: float
    tier: str


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """What the state store remembers of an account from earlier runs.

    ``tier`` is the tier it holds now (None for an account never tiered),
    ``tier_since`` when it entered that tier (dwell time), ``points`` the earlier
    scores, oldest first (score-drop triggers look back through them).
    """

    tier: str | None = None
    tier_since: datetime | None = None
    points: Sequence[ScorePoint] = ()


@dataclass(frozen=True, slots=True)
class Window:
    """An outreach window: ``trigger`` promoted the account to ``tier`` on ``opened``.

    The account holds ``tier`` while the run's day is before ``until``; from ``until``
    on it returns to what its score earns. ``sync`` stores the windows a run returns
    and hands them to the next run (issue 16).
    """

    trigger: str
    tier: str
    opened: date
    until: date


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A task a play creates when an account enters its tier.

    ``owner`` is ``"account_owner"`` or ``"user:<id>"`` / ``"queue:<name>"``; ``sync``
    resolves it per CRM.
    """

    subject: str
    due_business_days: int
    owner: str = "account_owner"
    priority: str = "normal"
    body: str = ""


@dataclass(frozen=True, slots=True)
class Play:
    name: str
    motion: str
    sla_hours: int
    tasks: tuple[TaskTemplate, ...] = ()
    # issue 16: planned advertising spend per account in the tier (currency of the org).
    budget_per_account: float | None = None


@dataclass(frozen=True, slots=True)
class SignalScore:
    name: str
    points: float
    max_points: float
    missing: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class GroupScore:
    name: str
    points: float
    max_points: float
    subtracts: bool
    signals: tuple[SignalScore, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The tier of one account and everything needed to explain it.

    ``rule`` names what decided: ``threshold``, ``percentile``, ``capacity_overflow``,
    ``override``, ``trigger:<name>``, ``hysteresis``, ``dwell`` or ``unqualified``.
    ``reason`` fits a 255-character CRM text field.

    The engine's decisions (``Decision.deferred``) render ``reason``, ``groups``,
    ``missing_signals`` and ``next_tier`` on first read: most of a million accounts
    are never written nor explained, and those four are most of a decision's cost.
    ``reason`` alone may have a cheaper renderer of its own: every written record
    reads it, few readers want the breakdown. Equality, ``repr`` and
    ``dataclasses.replace`` read them, so they behave as values.
    """

    key: str
    tier: str
    tier_label: str
    previous_tier: str | None
    score: float
    rule: str
    reason: str
    play: Play | None
    groups: tuple[GroupScore, ...] = ()
    missing_signals: tuple[str, ...] = ()
    # issue 16: what would move the account up a tier ("" in the top tier).
    next_tier: str = ""
    owner: str | None = None
    # Points the score needs to reach the next tier's bar, and points it sits above its
    # own tier's bar (None where they do not apply): "near a boundary" in the review pack.
    points_to_next: float | None = None
    margin: float | None = None

    @property
    def changed(self) -> bool:
        return self.previous_tier != self.tier

    @classmethod
    def deferred(
        cls,
        render: Callable[[], Explained],
        render_reason: Callable[[], str] | None = None,
        **cheap: object,
    ) -> Decision:
        """A decision whose ``Explained`` fields come from ``render`` when first read.

        ``render_reason``, when given, answers a read of ``reason`` before the rest is
        rendered; it must return the reason ``render`` would. ``cheap`` holds every
        other field by name (checked here, so a missing or misspelt field fails at once
        rather than on a later read).
        """
        missing = _CHEAP_FIELDS.symmetric_difference(cheap)
        if missing:
            raise TypeError(f"Decision.deferred: fields {sorted(missing)}")
        decision = cls.__new__(cls)
        state = decision.__dict__
        state.update(cheap)
        state[_RENDER] = render
        if render_reason is not None:
            state[_RENDER_REASON] = render_reason
        return decision

    def __getstate__(self) -> dict[str, object]:
        """Pickled (copied) rendered: the renderer is a closure over the whole run."""
        _render(self)
        return dict(self.__dict__)


class Explained(NamedTuple):
    """The fields a deferred ``Decision`` renders on first read."""

    reason: str
    groups: tuple[GroupScore, ...]
    missing_signals: tuple[str, ...]
    next_tier: str


_RENDER = "_render"
_RENDER_REASON = "_render_reason"
_CHEAP_FIELDS = frozenset(
    f.name for f in dataclass_fields(Decision) if f.name not in Explained._fields
)


def _render(decision: Decision) -> None:
    state = decision.__dict__
    state.pop(_RENDER_REASON, None)
    render = state.pop(_RENDER, None)
    if render is not None:
        state.update(render()._asdict())


class _Rendered:
    """Class attribute behind an ``Explained`` field: consulted only while the instance
    has no value of its own (a deferred decision not yet rendered)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, decision: Decision | None, owner: type) -> object:
        if decision is None:
            return self
        _render(decision)
        try:
            return decision.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None


class _RenderedReason(_Rendered):
    """``reason`` alone: worded by its own quick renderer when the decision has one, so
    reading it does not render the whole breakdown."""

    def __get__(self, decision: Decision | None, owner: type) -> object:
        if decision is not None:
            quick = decision.__dict__.pop(_RENDER_REASON, None)
            if quick is not None:
                reason: str = quick()
                decision.__dict__["reason"] = reason
                return reason
        return super().__get__(decision, owner)


for _name in Explained._fields:
    setattr(Decision, _name, (_RenderedReason if _name == "reason" else _Rendered)(_name))


@dataclass(frozen=True, slots=True)
class TierStats:
    tier: str
    label: str
    accounts: int
    capacity: int | None


@dataclass(frozen=True, slots=True)
class OwnerLoad:
    """One owner's book in one tier: what the capacity report shows.

    ``overflow`` counts the owner's accounts that earned this tier but fell to the
    next because the book was full; ``cap`` is None when the tier has no per-owner cap.
    """

    owner: str
    group: str
    tier: str
    load: int
    cap: int | None
    overflow: int


@dataclass(frozen=True, slots=True)
class RunStats:
    accounts: int
    per_tier: tuple[TierStats, ...]
    promotions: int
    demotions: int
    volatility: float  # share of previously tiered accounts whose tier changed
    rules: Mapping[str, int] = field(default_factory=dict)
    # issue 16: one line per tier over capacity or with pins past overrides' limit,
    # the keys of pins that fell back, and every owner's load per tier.
    capacity_notes: tuple[str, ...] = ()
    pins_over_limit: tuple[str, ...] = ()
    pins_over_limit_per_tier: Mapping[str, int] = field(default_factory=dict)
    owner_load: tuple[OwnerLoad, ...] = ()


@dataclass(frozen=True, slots=True)
class TieringResult:
    decisions: Sequence[Decision]
    stats: RunStats
    # issue 16: the outreach windows to keep for the next run, by account key, and
    # the windows that opened / ended in this run (for the report and the review pack).
    windows: Mapping[str, Window] = field(default_factory=dict)
    windows_opened: Mapping[str, Window] = field(default_factory=dict)
    windows_ended: Mapping[str, Window] = field(default_factory=dict)
