"""The one-line reason of a decision, worded straight from the run's arrays.

A first run writes every account's reason (the CRM's reason field, the tier history),
so its cost is paid a million times. Worded from the breakdown (a ``GroupScore`` and
its ``SignalScore``s per group, built per account) a reason cost about 200 µs. The
reason needs less than the breakdown: each group's points, the details of its two
best signals and the rule's words. ``ReasonWriter.reason`` reads those off the score
table's row, keeps the words that repeat (a signal's detail per field value, a
rule's phrase per tier) and builds no breakdown.

``ReasonWriter.from_groups`` words the same reason from a breakdown; ``explain``
renders through it, and the two agree byte for byte (``tests/tiering/test_reasons.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter

import numpy as np

from tierwise.tiering.distance import Levers
from tierwise.tiering.group_tops import EXACT, GroupTops, group_tops
from tierwise.tiering.model import TieringModel
from tierwise.tiering.reason_text import (
    REASON_LIMIT,
    fitted,
    group_phrase,
    uncached,
    with_next_tier,
)
from tierwise.tiering.records import (
    AccountInput,
    FieldLayout,
    FieldRow,
    FieldValue,
    GroupScore,
    row_layout,
    row_values,
)
from tierwise.tiering.rules import (
    RULE_CAPACITY,
    RULE_DWELL,
    RULE_HYSTERESIS,
    RULE_OVERRIDE,
    RULE_OWNER_CAPACITY,
    RULE_PERCENTILE,
    RULE_PIN_LIMIT,
    RULE_PIPELINE,
    RULE_THRESHOLD,
    RULE_TRIGGER,
    RULE_UNQUALIFIED,
    RULE_WINDOW,
    SCORED,
    Assignment,
)
from tierwise.tiering.scoring import FloatArray, ScoreTable, signal_detail

CACHE_PER_SIGNAL = 4096
# After this many reasons (a sixteenth of the run, at least BULK_LEAST) the run is
# writing most of its accounts (a first run): ``group_tops`` then works out every
# account's group points and best signals at once. A later run, writing a few
# changed accounts, words them one by one and keeps no arrays.
BULK_SHARE = 16
BULK_LEAST = 2048
_CHUNK = 65_536  # rows per ``Levers.run``: bounds its temporaries
# Rules whose words depend only on the tier, the rule and the trigger (kept per run).
_SHARED_WORDS = frozenset(
    {
        RULE_THRESHOLD,
        RULE_PERCENTILE,
        RULE_UNQUALIFIED,
        RULE_HYSTERESIS,
        RULE_PIPELINE,
        RULE_TRIGGER,
        RULE_CAPACITY,
    }
)
# The shortest a next-tier phrase can be besides the tier's title ("; +1 pts to "):
# a reason with less room left does not work the phrase out.
_NEXT_TIER_LEAST = len("; +1 pts to ")


class ReasonWriter:
    """Words the reasons of one run (``DecisionTable`` asks it per account)."""

    def __init__(
        self,
        model: TieringModel,
        accounts: Sequence[AccountInput],
        fields_of: Sequence[Mapping[str, FieldValue]],
        table: ScoreTable,
        assignment: Assignment,
        titles: Sequence[str],
    ) -> None:
        self._model = model
        self._accounts = accounts
        self._fields_of = fields_of
        self._table = table
        self._a = assignment
        self._titles = titles
        # The run's per-tier bars, each signal's field and each group's signal positions:
        # ``DecisionTable`` reads these too (one copy per run).
        self.bars: list[float] = assignment.bars.tolist()
        signals = table.signals
        self.signal_fields = tuple(signal.field for signal in signals)
        self.ranges: list[range] = []
        self._group_labels = {group.id: group.label for group in model.groups}
        # Per group: its signals' positions and the words around its points.
        self._group_words: list[tuple[int, int, str, str]] = []
        start = 0
        for group in model.groups:
            stop = start + len(group.signals)
            self.ranges.append(range(start, stop))
            if group.subtracts:
                words = (start, stop, f"{group.label} -", "")
            else:
                words = (start, stop, f"{group.label} ", f"/{group.weight:.0f}")
            self._group_words.append(words)
            start = stop
        adding = [j for j, subtracts in enumerate(table.subtracts) if not subtracts]
        self._levers = Levers([signals[j] for j in adding], adding)
        self._details: tuple[dict[tuple[type, FieldValue], str], ...] = tuple({} for _ in signals)
        self._pickers: dict[FieldLayout, Callable[[tuple[FieldValue, ...]], Sequence[FieldValue]]]
        self._pickers = {}
        self._words: dict[tuple[int, int, int], str] = {}
        self._tops: GroupTops | None = None
        self._asked = 0
        self._distances: FloatArray | None = None
        self._bulk_after = max(len(table.scores) // BULK_SHARE, BULK_LEAST)

    def reason(self, i: int, tier: int, score: float, code: int) -> str:
        """The reason of account ``i``: ``from_groups`` of its breakdown, without one."""
        tops = self._tops
        if tops is None:
            self._asked += 1
            if self._asked > self._bulk_after:
                tops = self._tops = group_tops(self._table.points, self._table.missing, self.ranges)
                self._distances = self._all_distances()
        values = self._values(i)
        full, short = self._groups(i, values) if tops is None else self._tops_of(i, tops, values)
        head = f"{self._titles[tier]} (score {score:.0f})"
        text = fitted(head, (full, short), self.rule_phrase(i, tier, code))
        if (
            code in SCORED
            and tier > 0
            and len(text) + _NEXT_TIER_LEAST + len(self._titles[tier - 1]) <= REASON_LIMIT
        ):
            text = with_next_tier(text, self._next_tier(i, tier, score, values))
        return text

    def _groups(self, i: int, values: Sequence[FieldValue]) -> tuple[list[str], list[str]]:
        """Each group's words with and without details, worked out from row ``i``."""
        table = self._table
        rounded: list[float] = table.points[i].round(2).tolist()  # as the breakdown rounds
        missing: list[bool] = table.missing[i].tolist()
        full: list[str] = []
        short: list[str] = []
        for start, stop, prefix, suffix in self._group_words:
            text = f"{prefix}{round(sum(rounded[start:stop]), 2):.0f}{suffix}"
            short.append(text)
            # The two signals with the most points (the first on a tie), as a stable sort.
            first = second = -1
            best = runner = 0.0
            for j in range(start, stop):
                points = rounded[j]
                if points > 0 and not missing[j]:
                    if first < 0 or points > best:
                        second, runner, first, best = first, best, j, points
                    elif second < 0 or points > runner:
                        second, runner = j, points
            full.append(self._with_details(text, first, second, values))
        return full, short

    def _tops_of(
        self, i: int, tops: GroupTops, values: Sequence[FieldValue]
    ) -> tuple[list[str], list[str]]:
        """``_groups`` read off the run's ``GroupTops`` (a first run: every account)."""
        printed: list[int] = tops.points[i].tolist()
        best: list[int] = tops.best[i].tolist()
        details = self._details
        full: list[str] = []
        short: list[str] = []
        rounded: list[float] | None = None
        for g, (start, stop, prefix, suffix) in enumerate(self._group_words):
            if printed[g] == EXACT:
                if rounded is None:
                    rounded = self._table.points[i].round(2).tolist()
                text = f"{prefix}{round(sum(rounded[start:stop]), 2):.0f}{suffix}"
            else:
                text = f"{prefix}{printed[g]}{suffix}"
            short.append(text)
            first, second = best[2 * g], best[2 * g + 1]
            if first < 0:
                full.append(text)
                continue
            # ``_with_details`` with the kept details looked up here (a miss, an
            # unhashable value or a float zero asks ``detail``).
            value = values[first]
            try:
                one = details[first].get((value.__class__, value)) or self.detail(first, value)
                if second < 0:
                    full.append(f"{text} {one}" if one else text)
                    continue
                value = values[second]
                two = details[second].get((value.__class__, value)) or self.detail(second, value)
            except TypeError:
                full.append(self._with_details(text, first, second, values))
                continue
            if one and two:
                full.append(f"{text} {one}, {two}")
            elif one or two:
                full.append(f"{text} {one or two}")
            else:
                full.append(text)
        return full, short

    def _with_details(
        self, text: str, first: int, second: int, values: Sequence[FieldValue]
    ) -> str:
        detail = self.detail
        one = detail(first, values[first]) if first >= 0 else ""
        two = detail(second, values[second]) if second >= 0 else ""
        if one and two:
            return f"{text} {one}, {two}"
        if one or two:
            return f"{text} {one or two}"
        return text

    def from_groups(
        self,
        i: int,
        tier: int,
        score: float,
        code: int,
        groups: Sequence[GroupScore],
        next_tier: str = "",
    ) -> str:
        """The reason worded from the breakdown (what ``reason`` must equal)."""
        head = f"{self._titles[tier]} (score {score:.0f})"
        labels = self._group_labels
        variants = (
            [group_phrase(labels[g.name], g, with_details) for g in groups]
            for with_details in (True, False)
        )
        # issue 16: the distance to the next tier when it still fits the field.
        return with_next_tier(fitted(head, variants, self.rule_phrase(i, tier, code)), next_tier)

    def next_tier(self, i: int, tier: int, score: float) -> str:
        """What would lift the account one tier (see ``tierwise.tiering.distance``)."""
        if tier == 0:
            return ""
        return self._next_tier(i, tier, score, self._values(i))

    def _next_tier(self, i: int, tier: int, score: float, values: Sequence[FieldValue]) -> str:
        gap = self.bars[tier - 1] - score
        title = self._titles[tier - 1]
        distances = self._distances
        if distances is not None and gap > 0:
            return self._levers.worded(title, distances[i].tolist())
        return self._levers.phrase(gap, title, self._table.points[i].tolist(), values)

    def _all_distances(self) -> FloatArray:
        """``Levers.run`` for every account the phrase may be asked of (a score rule,
        below the top tier, under the next bar), a chunk of rows at a time."""
        a, points = self._a, self._table.points
        tiers = a.tiers.astype(np.intp)
        asked = np.isin(a.rules, list(SCORED)) & (tiers > 0)
        gaps = np.asarray(self.bars)[np.where(asked, tiers - 1, 0)] - self._table.scores
        need = np.full(len(tiers), math.inf)
        wanted = np.flatnonzero(asked & (gaps > 0))
        need[wanted] = [round(gap + 0.005, 2) for gap in gaps[wanted].tolist()]
        distances = np.empty((len(tiers), 6))
        for low in range(0, len(tiers), _CHUNK):
            rows = slice(low, min(low + _CHUNK, len(tiers)))
            values = [self._values(i) for i in range(rows.start, rows.stop)]
            distances[rows] = self._levers.run(need[rows], points[rows], values)
        return distances

    def _values(self, i: int) -> Sequence[FieldValue]:
        """The field value of every signal for account ``i``, in the signals' order."""
        fields = self._fields_of[i]
        if type(fields) is FieldRow:
            layout = row_layout(fields)
            pick = self._pickers.get(layout)
            if pick is None:
                pick = self._pickers[layout] = _picker(layout, self.signal_fields)
            return pick(row_values(fields))
        return list(map(fields.get, self.signal_fields))

    def detail(self, j: int, value: FieldValue) -> str:
        """``signal_detail`` of signal ``j``, kept per value (values repeat: industries,
        flags, round numbers). The class is part of the key: ``True == 1.0``. The run's
        one cache of details: a decision's breakdown reads it too."""
        cache = self._details[j]
        if uncached(value):
            return signal_detail(self._table.signals[j], value)
        key = (value.__class__, value)
        try:
            hit = cache.get(key)
        except TypeError:  # an unhashable value (a list inside a tuple) is not kept
            return signal_detail(self._table.signals[j], value)
        if hit is None:
            hit = signal_detail(self._table.signals[j], value)
            if len(cache) < CACHE_PER_SIGNAL:
                cache[key] = hit
        return hit

    def rule_phrase(self, i: int, tier: int, code: int) -> str:
        """What decided, in words, with the account's note (issue 16) when it has one."""
        if code in _SHARED_WORDS:
            key = (tier, code, int(self._a.triggers[i]))
            phrase = self._words.get(key)
            if phrase is None:
                phrase = self._words[key] = self._rule_words(i, tier, code)
        else:
            phrase = self._rule_words(i, tier, code)
        note = self._a.notes.get(i)
        return f"{phrase} ({note})" if note else phrase

    def _rule_words(self, i: int, tier: int, code: int) -> str:
        a, model = self._a, self._model
        if code == RULE_PIPELINE:
            return "open deal: prospecting plays paused until it closes"
        if code == RULE_WINDOW:
            window = a.held[i]
            label = next(
                (t.label for t in model.triggers if t.name == window.trigger), window.trigger
            )
            return f"held by outreach window from {label} until {window.until.isoformat()}"
        if code == RULE_THRESHOLD:
            return f"score >= {a.bars[tier]:g}"
        if code == RULE_PERCENTILE:
            return f"top {model.tiers[tier].top_percent:g}% (bar {a.bars[tier]:g})"
        if code == RULE_UNQUALIFIED:
            return f"below every tier (lowest bar {a.bars[-1]:g})"
        if code == RULE_OVERRIDE:
            until = self._accounts[i].manual_tier_until
            return "manual override" + (f" until {until.isoformat()}" if until else "")
        if code == RULE_HYSTERESIS:
            return f"held by hysteresis (needs {model.stability.hysteresis_points:g} pts past bar)"
        if code == RULE_DWELL:
            return (
                f"held by dwell ({float(a.dwell_days[i]):.0f} of "
                f"{model.stability.min_dwell_days:g} days in tier)"
            )
        if code == RULE_TRIGGER:
            trigger = model.triggers[int(a.triggers[i])]
            verb = "promoted" if trigger.action.startswith("promote") else "demoted"
            return f"{verb} by {trigger.label}"
        if code == RULE_PIN_LIMIT:
            pinned = a.over_limit.get(i, tier)
            limit = model.overrides.limit(model.tiers[pinned].capacity)
            return (
                f"pin to {self._titles[pinned]} past overrides.max_per_tier ({limit}; "
                "lowest scores fall back)"
            )
        above = tier - 1
        if code == RULE_OWNER_CAPACITY and 0 <= above < len(model.tiers):
            owner = a.owners[i] if i < len(a.owners) else None
            cap, group = model.owner_cap(owner, above, self._fields_of[i])
            return f"{group or 'owner'} book full ({cap}/{cap} in {self._titles[above]})"
        capacity = model.tiers[above].capacity if 0 <= above < len(model.tiers) else None
        phrase = f"{self._titles[above]} full ({capacity})" if above >= 0 else "capacity"
        if int(a.triggers[i]) >= 0:
            phrase += f" after {model.triggers[int(a.triggers[i])].label}"
        return phrase


def _picker(
    layout: FieldLayout, names: Sequence[str]
) -> Callable[[tuple[FieldValue, ...]], Sequence[FieldValue]]:
    """Reads the signals' fields out of a ``FieldRow``'s values in one C call (a name
    the layout lacks reads None, as ``FieldRow.get`` does: a None put after the values)."""
    at = [layout.index.get(name, len(layout.names)) for name in names]
    if len(at) < 2:
        return lambda values: [(*values, None)[k] for k in at]
    pick = itemgetter(*at)
    if max(at) < len(layout.names):
        return pick
    return lambda values: pick((*values, None))
