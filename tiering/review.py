"""The quarterly review pack, computed from plain records (issue 16).

Tiers get a formal quarterly review and a monthly check of Tier 1. This module
turns what a run knows into the sections a RevOps lead walks through: tier moves
since the last review and why, accounts near a boundary, pins near or past expiry,
capacity use, outreach windows that opened or ended, and Tier 1 accounts with no
activity in 30 days. ``sync`` reads the records; everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from tierwise.tiering.records import Decision, FieldValue, RunStats

NEAR_POINTS = 3.0
EXPIRY_DAYS = 14
QUIET_DAYS = 30
SECTIONS = ("moves", "near_boundary", "overrides", "capacity", "windows", "tier1_quiet")


@dataclass(frozen=True, slots=True)
class Point:
    """One tier-history row: the account's tier, rule and reason at ``at``."""

    at: datetime
    tier: str
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class Pin:
    """A pin (CRM override) or an honoured hand edit, with its expiry day."""

    key: str
    tier: str
    until: date | None
    source: str  # "pin" or "hand edit"


@dataclass
class ReviewPack:
    since: date
    today: date
    rows: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {section: [] for section in SECTIONS}
    )


def review_pack(
    *,
    since: datetime,
    now: datetime,
    decisions: Sequence[Decision],
    names: Mapping[str, str],
    histories: Mapping[str, Sequence[Point]],
    pins: Sequence[Pin],
    stats: RunStats,
    top_tier: str,
    last_activity: Mapping[str, FieldValue],
) -> ReviewPack:
    """Every section's rows as plain text columns (ready for a table, CSV or HTML)."""
    pack = ReviewPack(since.date(), now.date())
    rows = pack.rows
    for key, points in sorted(histories.items()):
        before: str | None = None
        for point in points:
            if point.at >= since and point.tier != before:
                rows["moves"].append(
                    {
                        "account": key,
                        "name": names.get(key, ""),
                        "at": point.at.date().isoformat(),
                        "from": before or "(new)",
                        "to": point.tier,
                        "rule": point.rule,
                        "why": point.reason,
                    }
                )
            if point.at >= since and (
                "window until" in point.reason or "window from" in point.reason
            ):
                what = "ended" if "ended" in point.reason else "opened"
                rows["windows"].append(
                    {
                        "account": key,
                        "name": names.get(key, ""),
                        "at": point.at.date().isoformat(),
                        "window": what,
                        "why": point.reason,
                    }
                )
            before = point.tier
    for d in decisions:
        up = d.points_to_next is not None and d.points_to_next <= NEAR_POINTS
        down = d.margin is not None and 0 <= d.margin <= NEAR_POINTS
        if up or down:
            rows["near_boundary"].append(
                {
                    "account": d.key,
                    "name": names.get(d.key, ""),
                    "tier": d.tier,
                    "score": f"{d.score:.1f}",
                    "side": "below the next tier" if up else "just above its bar",
                    "points": f"{d.points_to_next if up else d.margin:.1f}",
                    "lever": d.next_tier,
                }
            )
    for pin in sorted(pins, key=lambda p: (p.until or date.max, p.key)):
        if pin.until is None:
            state = "no expiry"
        elif pin.until < pack.today:
            state = "expired"
        elif (pin.until - pack.today).days <= EXPIRY_DAYS:
            state = f"expires in {(pin.until - pack.today).days} days"
        else:
            continue
        rows["overrides"].append(
            {
                "account": pin.key,
                "name": names.get(pin.key, ""),
                "tier": pin.tier,
                "source": pin.source,
                "until": pin.until.isoformat() if pin.until else "",
                "state": state,
            }
        )
    for tier in stats.per_tier:
        cap = "" if tier.capacity is None else str(tier.capacity)
        use = "" if not tier.capacity else f"{tier.accounts / tier.capacity:.0%}"
        rows["capacity"].append(
            {
                "owner": "(all)",
                "tier": tier.tier,
                "accounts": str(tier.accounts),
                "cap": cap,
                "use": use,
            }
        )
    for load in stats.owner_load:
        cap = "" if load.cap is None else str(load.cap)
        use = "" if not load.cap else f"{load.load / load.cap:.0%}"
        rows["capacity"].append(
            {
                "owner": load.owner,
                "tier": load.tier,
                "accounts": str(load.load),
                "cap": cap,
                "use": use,
            }
        )
    for d in decisions:
        if d.tier != top_tier:
            continue
        last = last_activity.get(d.key)
        if isinstance(last, date):
            day = last.date() if isinstance(last, datetime) else last
            quiet = (pack.today - day).days
            if quiet < QUIET_DAYS:
                continue
            when = f"{quiet} days ago ({day.isoformat()})"
        else:
            when = "never recorded"
        rows["tier1_quiet"].append(
            {
                "account": d.key,
                "name": names.get(d.key, ""),
                "owner": d.owner or "",
                "last_activity": when,
            }
        )
    return pack
