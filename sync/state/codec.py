"""JSON encoding of canonical field values and tierwise values for the state store.

JSON has no date or tuple, so dates travel as ``{"$date": "YYYY-MM-DD"}`` and lists
come back as tuples: a value read back equals the value stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from tierwise.connectors.base import CUSTOMER_FIELDS, TierwiseValues

# Defined in the tiering core, whose column reader reads their tuples directly;
# re-exported here, where the store builds them.
from tierwise.tiering.records import FieldLayout as FieldLayout
from tierwise.tiering.records import FieldRow as FieldRow
from tierwise.tiering.records import FieldValue

JsonValue = Any


def encode_value(value: FieldValue) -> JsonValue:
    if isinstance(value, datetime):
        return {"$date": value.date().isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return list(value)
    return value


def decode_value(raw: JsonValue) -> FieldValue:
    if isinstance(raw, dict) and "$date" in raw:
        return date.fromisoformat(str(raw["$date"]))
    if isinstance(raw, list):
        return tuple(str(item) for item in raw)
    if raw is None or isinstance(raw, bool | float | str):
        return raw
    if isinstance(raw, int):
        return float(raw)
    return str(raw)


def encode_fields(fields: Mapping[str, FieldValue]) -> dict[str, JsonValue]:
    return {name: encode_value(value) for name, value in fields.items()}


def decode_fields(raw: Mapping[str, JsonValue] | None) -> dict[str, FieldValue]:
    return {name: decode_value(value) for name, value in (raw or {}).items()}


# One empty mapping shared by every record without unparsable fields (most of them).
NO_INVALID: Mapping[str, str] = MappingProxyType({})
# What a record holds when tierwise never wrote to it: one shared (frozen) instance.
NO_VALUES = TierwiseValues()


class Interner:
    """One object per equal short string, float, date or tuple while a population is
    read: category values, owner ids, system names and the domain two CRMs share are
    stored once instead of once per record. Lives only as long as one read."""

    __slots__ = ("_dates", "_floats", "_layouts", "_stamps", "_strings", "_tuples")

    MAX_STRING = 64

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._floats: dict[float, float] = {}
        self._dates: dict[date, date] = {}
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._layouts: dict[tuple[str, ...], FieldLayout] = {}
        self._stamps: dict[datetime, datetime] = {}

    def text(self, value: Any) -> Any:
        if type(value) is not str or len(value) > self.MAX_STRING:
            return value
        return self._strings.setdefault(value, value)

    def value(self, value: FieldValue) -> FieldValue:
        # Exact types only: True == 1.0 and 0.0 == -0.0 must not become one another.
        kind = type(value)
        if isinstance(value, str) and kind is str:
            short = len(value) <= self.MAX_STRING
            return self._strings.setdefault(value, value) if short else value
        if isinstance(value, float) and kind is float and value != 0.0:
            return self._floats.setdefault(value, value)
        if isinstance(value, date) and kind is date:
            return self._dates.setdefault(value, value)
        if isinstance(value, tuple):
            items = tuple(self.text(v) for v in value)
            return self._tuples.setdefault(items, items)
        return value

    def stamp(self, value: datetime | None) -> datetime | None:
        """Timestamps (records pulled in one batch often share their modstamp)."""
        return None if value is None else self._stamps.setdefault(value, value)

    def layout(self, names: tuple[str, ...]) -> FieldLayout:
        found = self._layouts.get(names)
        if found is None:
            found = self._layouts[names] = FieldLayout(names)
        return found


def decode_row(raw: Mapping[str, JsonValue] | None, intern: Interner) -> FieldRow:
    """``decode_fields`` into the compact form, values interned (same values, same order)."""
    raw = raw or {}
    values = tuple(intern.value(decode_value(v)) for v in raw.values())
    return FieldRow(intern.layout(tuple(raw)), values)


def _json(value: object) -> JsonValue:
    return value.isoformat() if isinstance(value, date) else value


def encode_tierwise(values: TierwiseValues) -> dict[str, JsonValue]:
    return {
        "tier": values.tier,
        "score": values.score,
        "reason": values.reason,
        "play": values.play,
        "sla_due": values.sla_due.isoformat() if values.sla_due else None,
        "tier_changed": values.tier_changed.isoformat() if values.tier_changed else None,
        # Customer tier values only when held (customer tiers on): the stored record of
        # an installation without them stays as it was.
        **{
            name: _json(getattr(values, name))
            for name in CUSTOMER_FIELDS
            if getattr(values, name) is not None
        },
    }


def decode_tierwise(
    raw: Mapping[str, JsonValue] | None, intern: Interner | None = None
) -> TierwiseValues:
    """``intern``: tiers, plays and reasons shared between records, and one shared
    instance for a record tierwise never wrote to."""
    raw = raw or {}
    if intern is not None and not any(v is not None for v in raw.values()):
        return NO_VALUES
    text = intern.text if intern is not None else _same

    def _date(name: str) -> date | None:
        value = raw.get(name)
        return date.fromisoformat(value) if isinstance(value, str) and value else None

    def _str(name: str) -> str | None:
        value = raw.get(name)
        return text(value) if isinstance(value, str) else None

    score = raw.get("score")
    c_score = raw.get("customer_score")
    return TierwiseValues(
        tier=text(raw.get("tier")),
        score=float(score) if isinstance(score, int | float) else None,
        reason=text(raw.get("reason")),
        play=text(raw.get("play")),
        sla_due=_date("sla_due"),
        tier_changed=_date("tier_changed"),
        customer_tier=_str("customer_tier"),
        customer_score=float(c_score) if isinstance(c_score, int | float) else None,
        customer_reason=_str("customer_reason"),
        customer_play=_str("customer_play"),
        customer_tier_changed=_date("customer_tier_changed"),
    )


def _same(value: Any) -> Any:
    return value
