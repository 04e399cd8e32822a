"""JSON encoding of canonical field values and tierwise values for the state store.

JSON has no date or tuple, so dates travel as ``{"$date": "YYYY-MM-DD"}`` and lists
come back as tuples: a value read back equals the value stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from tierwise.connectors.base import CUSTOMER_FIELDS, TierwiseValues
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


def decode_tierwise(raw: Mapping[str, JsonValue] | None) -> TierwiseValues:
    raw = raw or {}

    def _date(name: str) -> date | None:
        value = raw.get(name)
        return date.fromisoformat(value) if isinstance(value, str) and value else None

    def _str(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) else None

    score = raw.get("score")
    c_score = raw.get("customer_score")
    return TierwiseValues(
        tier=raw.get("tier"),
        score=float(score) if isinstance(score, int | float) else None,
        reason=raw.get("reason"),
        play=raw.get("play"),
        sla_due=_date("sla_due"),
        tier_changed=_date("tier_changed"),
        customer_tier=_str("customer_tier"),
        customer_score=float(c_score) if isinstance(c_score, int | float) else None,
        customer_reason=_str("customer_reason"),
        customer_play=_str("customer_play"),
        customer_tier_changed=_date("customer_tier_changed"),
    )
