"""Outreach windows: a trigger's promotion held for a defined number of days (issue 16).

Playbooks lift an account on a trigger event "to a higher tier for a defined
outreach window". A trigger with ``for_days`` therefore opens a window when it
promotes an account; the rules, in the order ``tier_accounts`` applies them:

- an **open** window (the run's day is before ``until``) holds the promoted tier
  whatever hysteresis, dwell or the score say; a better tier earned by the score wins;
- on the first run from ``until`` on, the window has **ended**: the account returns to
  the tier its score earns (stability does not keep it in the promoted tier), other
  triggers and pins still act, and the reason says "window from <trigger> ended <day>";
- the same trigger opens a new window for that account only after it stopped
  holding once: while it keeps firing past the end the ended window is kept (and the
  promotion withheld), so a window cannot renew itself forever.

The windows are state: ``sync`` stores ``TieringResult.windows`` and passes them to the
next run. Everything here is pure and works on the run's arrays in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from tierwise.tiering.model import TieringModel
from tierwise.tiering.records import Window
from tierwise.tiering.scoring import IntArray

RuleArray = npt.NDArray[np.int8]


@dataclass
class WindowState:
    """What the windows did in one run; ``notes`` are appended to reasons by position."""

    kept: dict[str, Window] = field(default_factory=dict)
    opened: dict[str, Window] = field(default_factory=dict)
    ended: dict[str, Window] = field(default_factory=dict)
    held: dict[int, Window] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)


def split(
    windows: Mapping[str, Window], keys: Sequence[str], today: date
) -> tuple[dict[int, Window], dict[int, Window]]:
    """(open windows, ended windows) by account position."""
    opened: dict[int, Window] = {}
    ended: dict[int, Window] = {}
    if not windows:
        return opened, ended
    for i, key in enumerate(keys):
        window = windows.get(key)
        if window is not None:
            (opened if today < window.until else ended)[i] = window
    return opened, ended


def release_ended(
    ended: Mapping[int, Window],
    raw: IntArray,
    raw_rule: RuleArray,
    final: IntArray,
    rule: RuleArray,
) -> None:
    """An ended window's account goes back to its score's tier before triggers run."""
    for i in ended:
        final[i] = raw[i]
        rule[i] = raw_rule[i]


def apply_windows(
    model: TieringModel,
    keys: Sequence[str],
    today: date,
    open_: Mapping[int, Window],
    ended: Mapping[int, Window],
    before_triggers: IntArray,
    raw: IntArray,
    raw_rule: RuleArray,
    final: IntArray,
    rule: RuleArray,
    trigger_of: npt.NDArray[np.int16],
    *,
    rule_trigger: int,
    rule_window: int,
) -> WindowState:
    """Hold open windows, withhold renewals of ended ones, open new ones."""
    state = WindowState()
    index_of = {tier.id: i for i, tier in enumerate(model.tiers)}
    trigger_index = {trigger.name: t for t, trigger in enumerate(model.triggers)}
    for i, window in ended.items():
        t = trigger_index.get(window.trigger)
        label = model.triggers[t].label if t is not None else window.trigger
        state.ended[keys[i]] = window
        state.notes[i] = f"window from {label} ended {window.until.isoformat()}"
        if t is not None and int(trigger_of[i]) == t:
            final[i], rule[i], trigger_of[i] = raw[i], raw_rule[i], -1
            state.kept[keys[i]] = window  # still firing: no new window until it stops once
    for i, window in open_.items():
        tier = index_of.get(window.tier)
        if tier is None or window.trigger not in trigger_index:
            continue  # the tier or the trigger left the model: the window lapses
        state.kept[keys[i]] = window
        if final[i] >= tier:
            final[i] = tier
            rule[i] = rule_window
            state.held[i] = window
    for i in np.flatnonzero((rule == rule_trigger) & (trigger_of >= 0)).tolist():
        trigger = model.triggers[int(trigger_of[i])]
        if trigger.for_days is None or keys[i] in state.kept or final[i] >= before_triggers[i]:
            continue
        window = Window(
            trigger.name,
            model.tiers[int(final[i])].id,
            today,
            today + timedelta(days=trigger.for_days),
        )
        state.kept[keys[i]] = state.opened[keys[i]] = window
        state.notes[i] = f"window until {window.until.isoformat()}"
    return state
