"""The tiered population as the last run left it: snapshots in, decisions out (no CRM calls)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sync.coverage.windows import load_windows
from sync.customers import split_histories
from sync.merge import merge_accounts, to_inputs
from sync.records import MergedAccount
from sync.state import StateStore
from tiering.model import TieringModel
from tiering.records import Decision, TieringResult

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


def tiered(store: StateStore, model: TieringModel, primary: str, now: datetime,
           tier: TierFunction) -> Population:
    """Tier the stored population with ``tier`` (``tiering.tier_accounts``) at ``now``."""
    accounts = merge_accounts(store.snapshots(), primary, now.date())
    prospects, _customers = split_histories(store.histories(now))
    windows = load_windows(store.engine)
    return Population(model, accounts, tier(model, to_inputs(accounts), prospects, now, windows))
