"""The tiered population as the last run left it: snapshots in, decisions out (no CRM calls)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tierwise.sync.preview import decide_stored
from tierwise.sync.records import MergedAccount
from tierwise.sync.state import StateStore
from tierwise.sync.targets import prospect_target
from tierwise.tiering.model import TieringModel
from tierwise.tiering.records import Decision, TieringResult

TierFunction = Callable[..., TieringResult]


@dataclass(frozen=True, slots=True)
class Population:
    """Merged accounts and their decisions, in the same order."""

    model: TieringModel
    accounts: Sequence[MergedAccount]
    result: TieringResult

    @property
    def decisions(self) -> Sequence[Decision]:
        return self.result.decisions


def tiered(
    store: StateStore,
    model: TieringModel,
    primary: str,
    now: datetime,
    tier: TierFunction,
    hand_edit_days: int = 30,
) -> Population:
    """Tier the stored population at ``now`` with the run's own ``decide`` (tierwise.sync.preview:
    hand edits, history and outreach windows as a run sees them)."""
    decided = decide_stored(
        store,
        (prospect_target(model),),
        now,
        primary=primary,
        hand_edit_days=hand_edit_days,
        tier=tier,
    )
    return Population(model, decided.accounts, decided.targets[0].result)
