"""The pure tiering core: a model file in, plain records in, decisions with reasons out.

Nothing here talks to a CRM, a database or the clock: ``sync`` passes ``now`` and
the records in, and writes what comes out. That keeps every tiering rule testable
with plain values and every run reproducible.
"""

from __future__ import annotations

from tierwise.tiering.assign import tier_accounts
from tierwise.tiering.decisions import DecisionTable
from tierwise.tiering.errors import ModelError, TierwiseError
from tierwise.tiering.loader import load_model, parse_model
from tierwise.tiering.model import (
    Condition,
    GroupSpec,
    Overrides,
    SignalSpec,
    Stability,
    TieringModel,
    TierSpec,
    TriggerSpec,
)

__all__ = [
    "Condition",
    "DecisionTable",
    "GroupSpec",
    "ModelError",
    "Overrides",
    "SignalSpec",
    "Stability",
    "TierSpec",
    "TieringModel",
    "TierwiseError",
    "TriggerSpec",
    "load_model",
    "parse_model",
    "tier_accounts",
]
