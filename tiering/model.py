"""The validated tiering model: what a RevOps person wrote in ``model.yaml``, typed.

These dataclasses are frozen so one loaded model can be shared by every run and
thread without anyone mutating the rules under a running job. The loader in
``tierwise.tiering.loader`` is the only way to build one from a file; tests may build
them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field

from tierwise.tiering.records import PIPELINE, UNQUALIFIED, Play

FIELD_TYPES = ("number", "string", "bool", "date", "list")
SIGNAL_KINDS = ("range", "category", "contains_any", "bool", "recency")

# Which field type each signal kind can read; checked at load time so a typo in the
# model fails before a run instead of silently scoring everything as "missing".
KIND_FIELD_TYPES: Mapping[str, tuple[str, ...]] = {
    "range": ("number",),
    "category": ("string",),
    "contains_any": ("list",),
    "bool": ("bool",),
    "recency": ("date",),
}


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One scored signal. ``value`` functions map a field to 0..1; weight scales it.

    Only the attributes of the signal's ``kind`` are used; the others keep their
    defaults so one flat record serves every kind (simpler to precompile).
    """

    id: str
    field: str
    kind: str
    weight: float
    missing: float
    label: str = ""
    unit: str = ""
    points: tuple[tuple[float, float], ...] = ()
    table: Mapping[str, float] = dc_field(default_factory=dict)
    default: float = 0.0
    any_of: frozenset[str] = frozenset()
    match: float = 1.0
    no_match: float = 0.0
    true_value: float = 1.0
    false_value: float = 0.0
    half_life_days: float = 30.0


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A criteria group: ``weight`` is its maximum points; risk groups subtract."""

    id: str
    label: str
    weight: float
    subtracts: bool
    signals: tuple[SignalSpec, ...]


@dataclass(frozen=True, slots=True)
class TierSpec:
    """A tier, best first in ``TieringModel.tiers``.

    Exactly one of ``min_score`` / ``top_percent`` is set: an absolute bar, or a
    share of all scored accounts (cumulative from the top).
    """

    id: str
    label: str
    min_score: float | None = None
    top_percent: float | None = None
    capacity: int | None = None
    play: Play | None = None
    # issue 16: most accounts of this tier one owner may hold (None: no per-owner cap).
    per_owner_capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """One clause of a trigger; all clauses of a trigger must hold.

    Either a field test (``field`` with one operator) or a score-history test
    (``score_fell_by`` points within ``within_days``).
    """

    field: str | None = None
    op: str = ""
    value: float | str | bool | tuple[str, ...] | None = None
    if_missing: bool = False
    score_fell_by: float | None = None
    within_days: float | None = None


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """A named rule that moves an account at once, bypassing hysteresis and dwell.

    ``action`` is ``promote``/``demote`` (by ``steps`` tiers) or ``promote_to`` /
    ``demote_to`` (``target`` tier, only if that is a move in that direction).
    """

    name: str
    label: str
    conditions: tuple[Condition, ...]
    action: str
    steps: int = 1
    target: str | None = None
    # issue 16: a promotion held for this many days (an outreach window), then released.
    for_days: int | None = None


# The per-account input a connector derives when the pipeline names an entry stage: how
# many open deals the account has at or past that stage (issue 16).
STAGE_INPUT = "open_deals_at_stage"


@dataclass(frozen=True, slots=True)
class PipelineStage:
    """Where an open deal starts to count (``pipeline.stage``), per CRM.

    ``salesforce`` names an OpportunityStage (ApiName or MasterLabel) and ``hubspot`` a
    deal stage (internal id or label): a deal counts at that stage or any open stage
    after it in the stage order (SortOrder / the pipeline's displayOrder).
    ``probability`` (percent) is the CRM-agnostic alternative: a deal counts when its
    stage's default probability is at least this. A CRM's own name wins over it.
    """

    salesforce: str | None = None
    hubspot: str | None = None
    probability: float | None = None

    def for_system(self, system: str) -> str | None:
        """The stage this CRM's connector must find, or None (use ``probability``)."""
        return self.salesforce if system == "salesforce" else self.hubspot


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    """The ``pipeline`` state: entered while every condition holds (an open deal).

    Accounts in pipeline leave the tier ladder (no capacity seat, no prospecting
    tasks) and get ``play``; when the conditions stop holding they are tiered afresh.
    With ``stage`` the loader adds the condition ``open_deals_at_stage >= 1``, an
    input the connectors derive from open deals and the CRM's stage order.
    """

    label: str
    conditions: tuple[Condition, ...]
    play: Play | None = None
    stage: PipelineStage | None = None


@dataclass(frozen=True, slots=True)
class Stability:
    hysteresis_points: float = 0.0
    min_dwell_days: float = 0.0


@dataclass(frozen=True, slots=True)
class Overrides:
    """Manual pins. ``max_per_tier`` / ``max_share`` limit how many pins a tier honours.

    ``max_share`` is a share of the tier's ``capacity``; when both are set the smaller
    limit binds. Pins past the limit fall back to the model, lowest score first (ties
    on the account key), so the pins a leader cares most about are the ones kept.
    """

    enabled: bool = True
    honour_expiry: bool = True
    max_per_tier: int | None = None
    max_share: float | None = None

    def limit(self, capacity: int | None) -> int | None:
        """How many pins a tier with ``capacity`` honours; None for no limit."""
        limits = [] if self.max_per_tier is None else [self.max_per_tier]
        if self.max_share is not None and capacity is not None:
            limits.append(int(capacity * self.max_share))
        return min(limits) if limits else None


@dataclass(frozen=True, slots=True)
class OwnerGroup:
    """Owners who share per-tier caps, e.g. senior AEs, or mid-market books.

    Membership is by ``owners`` (CRM user or queue ids), or by a mapped account field
    (``field`` with one of ``values``, e.g. ``segment: mid_market``): then each owner's
    accounts of that segment form a book of their own. ``capacity`` maps a tier id to
    the most accounts of that tier each book may hold; a tier not listed falls back to
    the tier's ``per_owner_capacity``. The first group that matches wins (file order).
    """

    id: str
    label: str
    owners: frozenset[str]
    capacity: Mapping[str, int] = dc_field(default_factory=dict)
    field: str | None = None
    values: frozenset[str] = frozenset()

    def holds(self, owner: str, fields: Mapping[str, object] | None) -> bool:
        if self.field is None:
            return owner in self.owners
        return fields is not None and fields.get(self.field) in self.values


@dataclass(frozen=True, slots=True)
class TieringModel:
    """Everything a run needs to tier accounts; built by ``load_model``."""

    version: str
    fields: Mapping[str, str]
    groups: tuple[GroupSpec, ...]
    tiers: tuple[TierSpec, ...]
    triggers: tuple[TriggerSpec, ...] = ()
    stability: Stability = Stability()
    overrides: Overrides = Overrides()
    source: str = ""
    owner_groups: tuple[OwnerGroup, ...] = ()
    pipeline: PipelineSpec | None = None

    def tier_labels(self) -> dict[str, str]:
        labels = {tier.id: tier.label for tier in self.tiers}
        labels[UNQUALIFIED] = "Unqualified"
        if self.pipeline is not None:
            labels[PIPELINE] = self.pipeline.label
        return labels

    def tier_ids(self) -> tuple[str, ...]:
        return tuple(tier.id for tier in self.tiers)

    def owner_cap(
        self, owner: str | None, tier_index: int, fields: Mapping[str, object] | None = None
    ) -> tuple[int | None, str]:
        """The cap on the book of ``owner`` (for an account with ``fields``) in a tier,
        and the group it belongs to ("" for the tier's plain per-owner cap)."""
        tier = self.tiers[tier_index]
        if owner is None:
            return None, ""
        for group in self.owner_groups:
            if group.holds(owner, fields):
                if tier.id in group.capacity:
                    return group.capacity[tier.id], group.label
                break
        return tier.per_owner_capacity, ""

    def signals(self) -> tuple[SignalSpec, ...]:
        return tuple(signal for group in self.groups for signal in group.signals)
