"""What decided each account, as the assignment's arrays hold it: a rule code per account.

``assign`` writes the codes, ``seats`` the capacity ones, ``decisions`` names them and
``reasons`` words them; a code is an ``int8`` so a million outcomes are a few arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tierwise.tiering.records import Window
from tierwise.tiering.scoring import FloatArray

RULE_THRESHOLD, RULE_PERCENTILE, RULE_CAPACITY, RULE_OVERRIDE = 0, 1, 2, 3
RULE_TRIGGER, RULE_HYSTERESIS, RULE_DWELL, RULE_UNQUALIFIED = 4, 5, 6, 7
RULE_OWNER_CAPACITY, RULE_PIN_LIMIT, RULE_WINDOW, RULE_PIPELINE = 8, 9, 10, 11
RULE_NAMES = (
    "threshold",
    "percentile",
    "capacity_overflow",
    "override",
    "trigger",
    "hysteresis",
    "dwell",
    "unqualified",
    "owner_capacity",
    "override_limit",
    "window",
    "pipeline",
)
# Where the score decided: the distance to the next tier is given only for these (a
# trigger, pin or full book holds the account where it is; points would not move it).
SCORED = frozenset({RULE_THRESHOLD, RULE_PERCENTILE, RULE_UNQUALIFIED, RULE_HYSTERESIS})


@dataclass(frozen=True, slots=True)
class Assignment:
    """Per-account outcome of a run as arrays (tier indexes; ``len(tiers)`` = unqualified)."""

    tiers: npt.NDArray[np.int8]
    previous: npt.NDArray[np.int8]  # -1: never tiered (or tier no longer in the model)
    rules: npt.NDArray[np.int8]
    triggers: npt.NDArray[np.int16]
    bars: FloatArray
    dwell_days: npt.NDArray[np.float32]
    unknown_previous: dict[int, str]
    # issue 16: pins past overrides' limit (position -> tier pinned to) and owners.
    over_limit: Mapping[int, int] = field(default_factory=dict)
    owners: Sequence[str | None] = ()
    # issue 16: outreach windows holding an account (by position) and reason notes.
    held: Mapping[int, Window] = field(default_factory=dict)
    notes: Mapping[int, str] = field(default_factory=dict)
