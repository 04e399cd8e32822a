"""Match the same company across CRMs and decide which tier pins apply (pure).

A company is recognised by its normalised website domain; records without a usable
domain stay on their own under ``system:crm_id``. The primary CRM's field values win
and the other CRMs only fill its gaps. A tier typed by hand into the CRM (different
from what tierwise last wrote there) is honoured as an override for a while.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tierwise.connectors.base import TierwiseValues

# Re-exported (the CLI imports it from here); defined once, in connectors.parsing.
from tierwise.connectors.parsing import normalise_domain as normalise_domain
from tierwise.sync.records import MergedAccount, Snapshot
from tierwise.tiering.records import AccountInput, FieldValue


def account_key(system: str, crm_id: str, domain: str | None) -> str:
    return normalise_domain(domain) or f"{system}:{crm_id}"


def merge_accounts(snapshots: Iterable[Snapshot], primary: str, today: date) -> list[MergedAccount]:
    """Group records by key; the primary CRM's record first, then by system name."""
    groups: dict[str, list[Snapshot]] = {}
    for snap in snapshots:
        group = groups.get(snap.key)
        if group is None:
            groups[snap.key] = [snap]
        else:
            group.append(snap)
    merged = []
    for key in sorted(groups):
        group = groups[key]
        fields: Mapping[str, FieldValue]
        if len(group) == 1:
            # One CRM holds the company (most do): its fields are the merged fields,
            # shared rather than copied (nothing downstream writes to them).
            records: Sequence[Snapshot] = group
            fields = group[0].fields
        else:
            records = sorted(group, key=lambda s: (s.system != primary, s.system, s.crm_id))
            fields = _first_values(records)
        manual_tier, until = _manual_tier(records, today)
        merged.append(
            MergedAccount(
                key=key,
                records=tuple(records),
                fields=fields,
                manual_tier=manual_tier,
                manual_tier_until=until,
            )
        )
    return merged


def _first_values(records: Sequence[Snapshot]) -> dict[str, FieldValue]:
    """Each field's first non-None value, in record order (the primary CRM first)."""
    fields: dict[str, FieldValue] = {}
    for record in records:
        for name, value in record.fields.items():
            if fields.get(name) is None:
                fields[name] = value
    return fields


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


def to_inputs(accounts: Sequence[MergedAccount]) -> list[AccountInput]:
    return [
        AccountInput(
            key=a.key,
            fields=a.fields,
            manual_tier=a.manual_tier,
            manual_tier_until=a.manual_tier_until,
            owner=a.primary.owner_id,  # issue 16: per-owner capacity
        )
        for a in accounts
    ]


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
    for snap in snapshots:
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
