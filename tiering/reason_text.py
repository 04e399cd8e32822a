"""The words of a reason, apart from the numbers behind them: one group's phrase, the
wording that fits the CRM's reason field (255 characters, Salesforce's Text(255)), and
the next-tier phrase when it still fits. ``ReasonWriter`` (``tierwise.tiering.reasons``)
reads the run's arrays and hands its parts to these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tierwise.tiering.records import FieldValue, GroupScore

REASON_LIMIT = 255


def uncached(value: FieldValue) -> bool:
    """A float zero is worded apart from its sign ("0", "-0") though ``0.0 == -0.0``:
    its words are never kept under a shared key."""
    return value.__class__ is float and value == 0.0


def fitted(head: str, variants: Iterable[Sequence[str]], tail: str) -> str:
    """The first wording (groups with their details, then without) that fits the reason
    field, else the last one cut to it (ending "…", which leaves no room to add to)."""
    for parts in variants:
        text = f"{head}: {'; '.join(parts)}; {tail}"
        if len(text) <= REASON_LIMIT:
            return text
    return text[: REASON_LIMIT - 1] + "…"


def with_next_tier(text: str, next_tier: str) -> str:
    """``text`` with the next-tier phrase when there is one and it still fits (a reason
    that was cut is full: nothing fits)."""
    if next_tier and len(text) + 2 + len(next_tier) <= REASON_LIMIT:
        return f"{text}; {next_tier}"
    return text


def group_phrase(label: str, group: GroupScore, with_details: bool) -> str:
    """One group in the reason: "fit 36/40 Software, 1,200 emp" or "risk -10"."""
    if group.subtracts:
        text = f"{label} -{group.points:.0f}"
    else:
        text = f"{label} {group.points:.0f}/{group.max_points:.0f}"
    if not with_details:
        return text
    best = sorted(
        (s for s in group.signals if s.points > 0 and not s.missing), key=lambda s: -s.points
    )[:2]
    details = [s.detail for s in best if s.detail]
    return f"{text} {', '.join(details)}" if details else text
