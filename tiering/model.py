"""The validated tiering model: what a RevOps person wrote in ``model.yaml``, typed.

These dataclasses are frozen so one loaded model can be shared by every run and
thread without anyone mutating the rules under a running job. The loader in
``tiering.loader`` is the only way to build one from a file; tests may build
them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field

from tiering.records import UNQUALIFIED, Play

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


@dataclass(frozen=True, slots=True)
class Stability:
    hysteresis_points: float = 0.0
    min_dwell_days: float = 0.0


@dataclass(frozen=True, slots=True)
class Overrides:
    enabled: bool = True
    honour_expiry: bool = True


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

    def tier_labels(self) -> dict[str, str]:
        labels = {tier.id: tier.label for tier in self.tiers}
        labels[UNQUALIFIED] = "Unqualified"
        return labels

    def tier_ids(self) -> tuple[str, ...]:
        return tuple(tier.id for tier in self.tiers)

    def signals(self) -> tuple[SignalSpec, ...]:
        return tuple(signal for group in self.groups for signal in group.signals)
