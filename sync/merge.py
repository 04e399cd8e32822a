"""Match the same company across CRMs and decide which tier pins apply (pure).

A company is recognised by its normalised website domain; records without a usable
domain stay on their own under ``system:crm_id``. The primary CRM's field values win
and the other CRMs only fill its gaps. A tier typed by hand into the CRM (different
from what tierwise last wrote there) is honoured as an override for a while.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter

from tierwise.connectors.base import TierwiseValues

# Re-exported (the CLI imports it from here); defined once, in connectors.parsing.
from tierwise.connectors.parsing import normalise_domain as normalise_domain
from tierwise.sync.records import MergedAccount, Snapshot
from tierwise.tiering.inputs import AccountColumns
from tierwise.tiering.records import FieldLayout, FieldRow, FieldValue


def account_key(system: str, crm_id: str, domain: str | None) -> str:
    return normalise_domain(domain) or f"{system}:{crm_id}"


def merge_accounts(snapshots: Iterable[Snapshot], primary: str, today: date) -> list[MergedAccount]:
    """Group records by key; the primary CRM's record first, then by system name.

    Companies come out in key order. Most are held by one CRM: those are found at C
    speed (one dict over all keys) and only the keys held twice are grouped record by
    record.
    """
    snaps = list(snapshots)
    keys = list(map(_key, snaps))
    single = dict(zip(keys, snaps, strict=True))
    groups: dict[str, list[Snapshot]] = {}
    if len(single) < len(snaps):
        shared = {key for key, count in Counter(keys).items() if count > 1}
        for snap in snaps:
            if snap.key in shared:
                groups.setdefault(snap.key, []).append(snap)
    merged = []
    layouts: dict[tuple[str, ...], FieldLayout] = {}
    for key in sorted(single):
        group = groups.get(key)
        if group is None:
            # One CRM holds the company (most do): its fields are the merged fields,
            # shared rather than copied (nothing downstream writes to them).
            snap = single[key]
            if snap.manual_tier or snap.override:
                manual_tier, until = _manual_tier((snap,), today)
            else:
                manual_tier, until = None, None
            merged.append(MergedAccount(key, (snap,), snap.fields, manual_tier, until))
            continue
        records = sorted(group, key=lambda s: (s.system != primary, s.system, s.crm_id))
        manual_tier, until = _manual_tier(records, today)
        merged.append(
            MergedAccount(
                key=key,
                records=tuple(records),
                fields=_first_values(records, layouts),
                manual_tier=manual_tier,
                manual_tier_until=until,
            )
        )
    return merged


_key = attrgetter("key")


def _first_values(
    records: Sequence[Snapshot], layouts: dict[tuple[str, ...], FieldLayout] | None = None
) -> Mapping[str, FieldValue]:
    """Each field's first non-None value, in record order (the primary CRM first).

    Kept as a ``FieldRow`` over a layout shared by every company merged from records
    with the same field names (``layouts``: one merge's, a handful per org; a dict each
    was a third of ``decide``'s memory when most companies are held by both CRMs)."""
    fields: dict[str, FieldValue] = {}
    for record in records:
        for name, value in record.fields.items():
            if fields.get(name) is None:
                fields[name] = value
    names = tuple(fields)
    layout = None if layouts is None else layouts.get(names)
    if layout is None:
        layout = FieldLayout(names)
        if layouts is not None:
            layouts[names] = layout
    return FieldRow(layout, tuple(fields.values()))


def _manual_tier(records: Sequence[Snapshot], today: date) -> tuple[str | None, date | None]:
    for record in records:
        if record.manual_tier and (
            record.manual_tier_until is None or record.manual_tier_until >= today
        ):
            return record.manual_tier, record.manual_tier_until
    for record in records:
        if honoured(record.override, today):
            assert record.override is not None
            return record.override["tier"], date.fromisoformat(record.override["until"])
    return None, None


def honoured(override: Mapping[str, str] | None, today: date) -> bool:
    return bool(override and date.fromisoformat(override["until"]) >= today)


def to_inputs(accounts: Sequence[MergedAccount]) -> AccountColumns:
    """The accounts as the tiering core reads them: as columns (``AccountColumns``)."""
    return AccountColumns(
        [a.key for a in accounts],
        [a.fields for a in accounts],
        [a.manual_tier for a in accounts],
        [a.manual_tier_until for a in accounts],
        [a.records[0].owner_id for a in accounts],  # issue 16: per-owner capacity
    )


@dataclass(frozen=True, slots=True)
class HandEdit:
    system: str
    crm_id: str
    key: str
    tier: str
    until: date
    new: bool


def detect_hand_edits(
    snapshots: Iterable[Snapshot],
    last_written: Mapping[tuple[str, str], TierwiseValues],
    tier_ids: Iterable[str],
    today: date,
    days: int,
    tier_field: str = "tier",
) -> tuple[dict[tuple[str, str], dict[str, str] | None], list[HandEdit]]:
    """Overrides to store (None clears one) and the honoured hand edits, for the report.

    A record is hand-edited when the CRM's tier differs from the tier tierwise last
    wrote there. The edit is honoured for ``days`` from when it was first seen; once
    that lapses tierwise writes its own tier again, which ends the edit. ``tier_field``
    is the target's tier field (``TierwiseValues`` attribute) the edit is read from.
    """
    valid = set(tier_ids)
    changes: dict[tuple[str, str], dict[str, str] | None] = {}
    edits: list[HandEdit] = []
    for snap in _maybe_edited(snapshots, last_written, tier_field, days):
        ident = (snap.system, snap.crm_id)
        mine = last_written.get(ident)
        crm_tier: str | None = getattr(snap.written, tier_field)
        mine_tier: str | None = getattr(mine, tier_field) if mine is not None else None
        edited = (
            days > 0
            and mine is not None
            and mine_tier is not None
            and crm_tier is not None
            and crm_tier != mine_tier
            and crm_tier in valid
        )
        if not edited:
            if snap.override is not None:
                changes[ident] = None
            continue
        assert crm_tier is not None
        current = snap.override
        if current is not None and current.get("tier") == crm_tier:
            if honoured(current, today):
                edits.append(
                    HandEdit(
                        snap.system,
                        snap.crm_id,
                        snap.key,
                        crm_tier,
                        date.fromisoformat(current["until"]),
                        new=False,
                    )
                )
            continue
        until = today + timedelta(days=days)
        changes[ident] = {
            "tier": crm_tier,
            "until": until.isoformat(),
            "detected": today.isoformat(),
        }
        edits.append(HandEdit(snap.system, snap.crm_id, snap.key, crm_tier, until, new=True))
    return changes, edits


def _maybe_edited(
    snapshots: Iterable[Snapshot],
    last_written: Mapping[tuple[str, str], TierwiseValues],
    tier_field: str,
    days: int,
) -> list[Snapshot]:
    """The records ``detect_hand_edits`` has anything to say about, in order: a stored
    override, or a CRM tier other than the one tierwise last wrote. The rest (nearly
    all of a million) are set aside with C-level passes over the columns."""
    snaps = list(snapshots)
    overridden = [s.override is not None for s in snaps]
    if days <= 0:
        return [s for s, held in zip(snaps, overridden, strict=True) if held]
    crm = map(attrgetter(f"written.{tier_field}"), snaps)
    mine = map(last_written.get, map(attrgetter("system", "crm_id"), snaps))
    mine_tier = (None if m is None else getattr(m, tier_field) for m in mine)
    return [
        s
        for s, held, theirs, ours in zip(snaps, overridden, crm, mine_tier, strict=True)
        if held or (theirs is not None and ours is not None and theirs != ours)
    ]


def apply_overrides(
    snapshots: Sequence[Snapshot], changes: Mapping[tuple[str, str], Mapping[str, str] | None]
) -> list[Snapshot]:
    """The snapshots as they would read after storing ``changes`` (pure)."""
    from dataclasses import replace

    if not changes:
        return list(snapshots)
    return [
        replace(s, override=changes[(s.system, s.crm_id)]) if (s.system, s.crm_id) in changes else s
        for s in snapshots
    ]
