"""HubSpot property values that need more than a type cast before the model sees them.

- ``total_money_raised`` is a free-text *string* property in every portal
  (CRM-API-NOTES §2.15): enrichment and people write "$12.5M", "12,500,000", "1.2B",
  "USD 3 million" or "n/a". :func:`parse_money` reads the common forms and gives up on
  the rest (the connector then reports the value as invalid, it never guesses).
- Every property is written as a string (:func:`hubspot_value`): dates as ISO days,
  multi-selects joined by ";", booleans as "true"/"false".
- Enumeration properties store internal values whose labels differ (``web_technologies``
  values are not its labels; §2.15 "don't assume value = label"). :func:`option_labels`
  reads a property definition's options once so stored values can be shown, and matched,
  by label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from tierwise.tiering.records import FieldValue

_SCALE = {
    "": 1.0,
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mio": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
_CURRENCY = re.compile(r"^(usd|us\$|eur|gbp|\$|€|£)\s*|\s*(usd|eur|gbp|dollars?)$")
_MONEY = re.compile(r"^(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<scale>[a-z]*)\.?$")


def parse_money(raw: Any) -> float | None:
    """An amount from a free-text money string, or None when it is not one.

    ``"$12.5M"`` -> 12.5e6, ``"12,500,000"`` -> 12.5e6, ``"1.2B"`` -> 1.2e9,
    ``"USD 3 million"`` -> 3e6, ``"~5m"`` -> 5e6; ``"n/a"``, ``"undisclosed"``, ranges
    and negative amounts -> None.
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw) if raw >= 0 else None
    text = str(raw).strip().lower().lstrip("~≈").strip()
    if not text:
        return None
    previous = None
    while previous != text:  # "$ 12.5m usd": strip currency marks on either side
        previous = text
        text = _CURRENCY.sub("", text).strip()
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators only
    match = _MONEY.fullmatch(re.sub(r"\s+", "", text))
    if match is None:
        return None
    scale = _SCALE.get(match.group("scale"))
    if scale is None:
        return None
    return float(match.group("number")) * scale


def option_labels(prop: Mapping[str, Any]) -> dict[str, str]:
    """value -> label for an enumeration property definition (empty for other types)."""
    out: dict[str, str] = {}
    for option in prop.get("options") or []:
        value, label = option.get("value"), option.get("label")
        if value not in (None, "") and label not in (None, ""):
            out[str(value)] = str(label)
    return out


def labelled(raw: Any, labels: Mapping[str, str]) -> Any:
    """A ``;``-separated enumeration value with each internal value replaced by its label
    (matched exactly, then values and labels case-insensitively, so ``SALESFORCE_CRM`` and
    ``salesforce`` both read as "Salesforce"; unknown values pass through)."""
    if raw in (None, "") or not labels:
        return raw
    folded = {label.lower(): label for label in labels.values()}
    folded.update({value.lower(): label for value, label in labels.items()})
    parts = [part.strip() for part in str(raw).split(";") if part.strip()]
    return ";".join(labels.get(p) or folded.get(p.lower()) or p for p in parts)


def hubspot_value(value: FieldValue) -> str:
    """A canonical value as HubSpot wants it in a property write (always a string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)
