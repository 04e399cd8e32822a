"""CRM values (strings, numbers, booleans from JSON) onto the model's canonical types.

Parsing never raises: a value that cannot be read becomes None and a short
description of the raw value, which the connector reports in ``CrmAccount.invalid``.
Range checks (a negative headcount) are the model's business, not ours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from tierwise.tiering.records import FieldValue

_TRUE = frozenset({"true", "yes", "1", "y", "t", "on"})
_FALSE = frozenset({"false", "no", "0", "n", "f", "off"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class UnparseableError(ValueError):
    """The raw value could not be read as the wanted type."""


def describe_raw(raw: Any) -> str:
    """A short, safe description of a raw value for the report."""
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise UnparseableError(raw)
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip().replace(",", "")
        if _NUMBER.fullmatch(text) is None:
            raise UnparseableError(raw)
        value = float(text)
    if not math.isfinite(value):
        raise UnparseableError(raw)
    return value


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UnparseableError(raw)


def parse_date(raw: Any) -> date:
    """``YYYY-MM-DD``, an ISO datetime (date part in UTC) or epoch milliseconds."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC).date() if raw.tzinfo else raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if text.isdigit() and len(text) > 8:
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC).date()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return parse_datetime(text).astimezone(UTC).date()
    except ValueError as exc:
        raise UnparseableError(raw) from exc


def parse_datetime(raw: Any) -> datetime:
    """Salesforce ``2024-01-02T10:00:00.000+0000``, HubSpot ``…Z`` or epoch ms; aware UTC."""
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    text = str(raw).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UnparseableError(raw) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _list(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, list | tuple):
        return tuple(str(item).strip() for item in raw if str(item).strip())
    return tuple(part.strip() for part in str(raw).split(";") if part.strip())


def _string(raw: Any) -> str:
    if isinstance(raw, dict | list):
        raise UnparseableError(raw)
    return str(raw)


_PARSERS: dict[str, Callable[[Any], FieldValue]] = {
    "number": _number,
    "bool": _bool,
    "date": parse_date,
    "list": _list,
    "string": _string,
}


def parse_value(raw: Any, kind: str) -> FieldValue:
    """Parse one raw CRM value; None/empty stays None. Raises ``UnparseableError``."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    parsed: FieldValue = _PARSERS[kind](raw)
    return parsed


def value_map(table: Mapping[str, str]) -> dict[str, str]:
    """A value map with case-insensitive keys (CRM value or label -> model category)."""
    return {str(key).strip().lower(): str(value) for key, value in table.items()}


def normalise_domain(website: str | None) -> str | None:
    """``https://WWW.Acme.com:443/about`` -> ``acme.com``; None when nothing domain-like
    remains (no dot, or characters no host name has).

    The one definition: connectors set ``CrmAccount.domain`` with it and the engine
    matches companies across CRMs with it, so both always agree on a company's key.
    """
    if not website:
        return None
    text = website.strip().lower()
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    if text.startswith("www."):
        text = text[4:]
    if "." not in text or not _HOST.fullmatch(text):
        return None
    return text


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST = re.compile(r"[a-z0-9][a-z0-9.-]*")


class RecordReader:
    """Reads one CRM record's values into canonical types, collecting what it could not
    parse in ``invalid`` (label -> description) instead of raising: a malformed value
    becomes "missing" for its signal and is reported with the record, never a crash.

    Both connectors parse through it; only where the values sit differs (a Salesforce
    record is flat, a HubSpot object keeps them under ``properties``).
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.invalid: dict[str, str] = {}

    def canonical(
        self,
        mapped: Mapping[str, tuple[str, str]],
        value_maps: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[str, FieldValue]:
        """canonical name -> parsed value for ``{canonical: (CRM name, kind)}``.

        ``value_maps`` turns what the org stores into the model's categories per canonical
        name (``{"industry": {"technology": "Software"}}``, keys lower-cased by
        :func:`value_map`): a Salesforce picklist value or a HubSpot enumeration code or
        label becomes the category the model's table names. Values it does not list pass
        through unchanged, so a model keyed on the CRM's own values still works.
        """
        fields: dict[str, FieldValue] = {}
        maps = value_maps or {}
        for canonical, (name, kind) in mapped.items():
            raw = self.values.get(name)
            try:
                value = parse_value(raw, kind)
            except UnparseableError:
                fields[canonical] = None
                self.invalid[canonical] = f"{name}={describe_raw(raw)} is not a {kind}"
                continue
            table = maps.get(canonical)
            if table and isinstance(value, str):
                value = table.get(value.strip().lower(), value)
            elif table and isinstance(value, tuple):
                value = tuple(table.get(item.lower(), item) for item in value)
            fields[canonical] = value
        return fields

    def text(self, name: str) -> str | None:
        raw = self.values.get(name)
        return None if raw in (None, "") else str(raw)

    def day(self, name: str, label: str) -> date | None:
        raw = self.values.get(name)
        if raw in (None, ""):
            return None
        try:
            return parse_date(raw)
        except UnparseableError:
            self.invalid[label] = f"{name}={describe_raw(raw)} is not a date"
            return None

    def number(self, name: str, label: str) -> float | None:
        raw = self.values.get(name)
        try:
            value = parse_value(raw, "number")
        except UnparseableError:
            self.invalid[label] = f"{name}={describe_raw(raw)} is not a number"
            return None
        return value if isinstance(value, float) else None
