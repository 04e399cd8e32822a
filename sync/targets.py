"""Tier targets as declarations, and the one pure ``decide`` every command calls.

A *target* is one set of tiers tierwise keeps on an account: the prospect tiers, and
(``TIERWISE_CUSTOMER_TIERS``) the customer tiers. Each is a declaration — its model,
the fields it writes, the prefix of its keys in the tier history and the task ledger,
the field holding its entry date, which accounts it tiers and from what inputs — and
the engine, the planner, ``plan``, ``explain``, ``customers`` and the outcome commands
iterate the declarations. Adding a third target is a third declaration.

``decide`` is pure: it receives what ``gather`` read (snapshots, deals, histories, what
tierwise last wrote) and returns every target's decisions; nothing here reads the
store, the CRMs, the clock or the environment. A preview that calls it cannot drift
from the run (issue 14: ``tierwise customers`` used to disagree with ``run``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tierwise.connectors.base import CrmOpportunity
from tierwise.sync.merge import (
    HandEdit,
    apply_overrides,
    detect_hand_edits,
    merge_accounts,
    to_inputs,
)
from tierwise.sync.outcomes.customers import customer_inputs
from tierwise.sync.outcomes.data import attribute_deals
from tierwise.sync.records import (
    CUSTOMER_FIELDS,
    CUSTOMER_KEY,
    PROSPECT_FIELDS,
    MergedAccount,
    Snapshot,
    TargetPlan,
    WrittenFields,
)
from tierwise.tiering import DecisionTable, tier_accounts
from tierwise.tiering.decisions import DecisionMap
from tierwise.tiering.heap import collection_paused
from tierwise.tiering.recorded import RecordedDecisions
from tierwise.tiering.records import (
    AccountHistory,
    AccountInput,
    Decision,
    Play,
    TieringResult,
    Window,
)

TierFunction = Callable[..., TieringResult]


@dataclass(frozen=True, slots=True)
class Population:
    """What the targets tier: the merged accounts and (customer tiers on) every deal."""

    accounts: Sequence[MergedAccount]
    opportunities: Sequence[CrmOpportunity] = ()
    primary: str = "salesforce"


InputsFunction = Callable[[Population, date], Sequence[AccountInput]]


def prospect_inputs(population: Population, _today: date) -> Sequence[AccountInput]:
    """Every account, with its merged CRM fields and any manual tier pin."""
    return to_inputs(population.accounts)


def customer_population(population: Population, today: date) -> list[AccountInput]:
    """The accounts with a won deal, from their deal history plus the customer-success
    fields their CRM records hold (health score, adoption)."""
    snapshots = [record for account in population.accounts for record in account.records]
    deals, _unmatched = attribute_deals(population.opportunities, snapshots, population.primary)
    fields = {account.key: account.fields for account in population.accounts}
    return customer_inputs(deals, today, fields)


@dataclass(frozen=True, slots=True)
class TierTarget:
    """One declared set of tiers (see the module docstring).

    ``history_key`` prefixes the target's keys in the tier history and the task ledger
    (empty for prospects), so each target's dwell, hysteresis and tasks are its own.
    ``covers_all``: the target tiers every account (an account it leaves undecided is
    not planned at all); otherwise an account it leaves out has its fields emptied.
    ``hand_edits``: a tier typed into the CRM over tierwise's is honoured for a while.
    ``needs_deals``: gather pulls every deal when this target is declared.
    """

    name: str
    model: Any
    fields: WrittenFields
    inputs: InputsFunction
    history_key: str = ""
    covers_all: bool = False
    hand_edits: bool = False
    needs_deals: bool = False

    def plays(self) -> dict[str, Play | None]:
        """The model's play per tier id (the target's tasks come from these)."""
        return {tier.id: tier.play for tier in getattr(self.model, "tiers", ())}

    def tier_labels(self) -> dict[str, str]:
        labels = getattr(self.model, "tier_labels", None)
        return dict(labels()) if callable(labels) else {}


def prospect_target(model: Any) -> TierTarget:
    return TierTarget(
        name="prospect",
        model=model,
        fields=PROSPECT_FIELDS,
        inputs=prospect_inputs,
        covers_all=True,
        hand_edits=True,
    )


def customer_target(model: Any) -> TierTarget:
    return TierTarget(
        name="customer",
        model=model,
        fields=CUSTOMER_FIELDS,
        inputs=customer_population,
        history_key=CUSTOMER_KEY,
        needs_deals=True,
    )


def declare_targets(model: Any, customer_model: Any | None = None) -> tuple[TierTarget, ...]:
    """The targets of a deployment: prospects always, customers when their model is set."""
    targets = [prospect_target(model)]
    if customer_model is not None:
        targets.append(customer_target(customer_model))
    return tuple(targets)


@dataclass(frozen=True, slots=True)
class TargetDecisions:
    """One target's decisions, by plain account key."""

    target: TierTarget
    result: TieringResult
    decisions: Mapping[str, Decision]
    # No tier history yet for this target: its go-live run (entry tasks held).
    first_run: bool
    # What the target tiered (its model's fields per account), e.g. a preview's columns.
    inputs: Sequence[AccountInput] = ()

    def for_history(self) -> RecordedDecisions:
        """The decisions under the keys the tier history stores them by, as the columns
        it compares (``RecordedDecisions``: a decision is built only for a row written)."""
        decisions = self.decisions
        source = decisions if isinstance(decisions, DecisionMap) else list(decisions.values())
        return RecordedDecisions.of(source, self.target.history_key)


@dataclass(frozen=True, slots=True)
class Decisions:
    """Everything ``decide`` returns: the population and each target's decisions."""

    accounts: Sequence[MergedAccount]
    targets: tuple[TargetDecisions, ...]
    # Hand edits to store (None clears one) and the honoured ones, for the report.
    overrides: Mapping[tuple[str, str], Mapping[str, str] | None] = field(default_factory=dict)
    hand_edits: Sequence[HandEdit] = ()
    snapshots: Sequence[Snapshot] = ()

    def of(self, name: str) -> TargetDecisions | None:
        return next((t for t in self.targets if t.target.name == name), None)

    def for_history(self) -> RecordedDecisions:
        return RecordedDecisions.joined([t.for_history() for t in self.targets])

    def target_plans(self, *, backfill: bool = False) -> list[TargetPlan]:
        """Every target's decisions as the planner takes them; a target's go-live run
        (first run) holds its entry tasks unless ``backfill``."""
        return [
            TargetPlan(
                fields=t.target.fields,
                decisions=t.decisions,
                history_key=t.target.history_key,
                covers_all=t.target.covers_all,
                hold=t.first_run and not backfill,
            )
            for t in self.targets
        ]


def split_histories(
    histories: Mapping[str, AccountHistory], targets: Sequence[TierTarget]
) -> dict[str, dict[str, AccountHistory]]:
    """Each target's histories by plain account key (the history table holds them all)."""
    prefixes = sorted({t.history_key for t in targets}, key=len, reverse=True)
    if prefixes == [""]:  # prospects only: every key is theirs as it stands
        every = dict(histories)
        return {t.name: every for t in targets}
    split: dict[str, dict[str, AccountHistory]] = {p: {} for p in prefixes}
    for key, history in histories.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                split[prefix][key[len(prefix) :]] = history
                break
    return {t.name: split[t.history_key] for t in targets}


@dataclass(frozen=True, slots=True)
class Populated:
    """The population as every target sees it, after hand edits became overrides."""

    population: Population
    overrides: Mapping[tuple[str, str], Mapping[str, str] | None]
    hand_edits: Sequence[HandEdit]
    snapshots: Sequence[Snapshot]


def populate(
    snapshots: Sequence[Snapshot],
    last_written: Mapping[tuple[str, str], Any],
    targets: Sequence[TierTarget],
    now: datetime,
    *,
    opportunities: Iterable[CrmOpportunity] = (),
    primary: str = "salesforce",
    hand_edit_days: int = 30,
) -> Populated:
    """Hand edits (a tier typed over tierwise's) become overrides, then the records are
    merged into companies (pure; the first half of ``decide``)."""
    today = now.date()
    overrides: dict[tuple[str, str], dict[str, str] | None] = {}
    edits: list[HandEdit] = []
    for target in targets:
        if target.hand_edits:
            overrides, edits = detect_hand_edits(
                snapshots,
                last_written,
                list(target.tier_labels()),
                today,
                hand_edit_days,
                target.fields.tier,
            )
            break
    snapshots = apply_overrides(snapshots, overrides)
    accounts = merge_accounts(snapshots, primary, today)
    return Populated(
        Population(accounts, list(opportunities), primary), overrides, edits, snapshots
    )


def _by_key(decisions: Sequence[Decision]) -> Mapping[str, Decision]:
    """Decisions by account key; the engine's table stays lazy (built when read)."""
    if isinstance(decisions, DecisionTable):
        return decisions.by_key()
    return {d.key: d for d in decisions}


@collection_paused()
def decide(
    snapshots: Sequence[Snapshot],
    histories: Mapping[str, AccountHistory],
    last_written: Mapping[tuple[str, str], Any],
    targets: Sequence[TierTarget],
    now: datetime,
    *,
    opportunities: Iterable[CrmOpportunity] = (),
    primary: str = "salesforce",
    hand_edit_days: int = 30,
    tier: TierFunction | None = None,
    windows: Mapping[str, Window] | None = None,
) -> Decisions:
    """Tier the population for every target (pure).

    Hand edits become overrides first, then the records are merged into companies
    (``populate``), then each target tiers its own inputs against its own history.
    ``tier`` defaults to ``tiering.tier_accounts`` (tests inject their own). Cyclic
    collection is paused meanwhile (``tierwise.tiering.heap``: the run allocates no cycles).
    """
    tier = tier or tier_accounts
    populated = populate(
        snapshots,
        last_written,
        targets,
        now,
        opportunities=opportunities,
        primary=primary,
        hand_edit_days=hand_edit_days,
    )
    by_target = split_histories(histories, targets)
    decided: list[TargetDecisions] = []
    for target in targets:
        own = by_target[target.name]
        inputs = target.inputs(populated.population, now.date())
        # issue 16: the outreach windows the last run kept (keys are per target).
        result = (
            tier(target.model, inputs, own, now, windows)
            if windows
            else tier(target.model, inputs, own, now)
        )
        decided.append(
            TargetDecisions(
                target=target,
                result=result,
                decisions=_by_key(result.decisions),
                first_run=not own,
                inputs=inputs,
            )
        )
    return Decisions(
        accounts=populated.population.accounts,
        targets=tuple(decided),
        overrides=populated.overrides,
        hand_edits=populated.hand_edits,
        snapshots=populated.snapshots,
    )
