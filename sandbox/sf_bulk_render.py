"""Bulk API 2.0 query results as CSV text, value by value, and the fields a WHERE names.

Source: Bulk API 2.0 and Bulk API Developer Guide, "Valid Date Format in Records"
(developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/datafiles_date_format.htm):
dateTimes as ``yyyy-MM-ddTHH:mm:ss.SSSZ``; null as an empty field ("Get Results for a
Query Job", .../query_get_job_results.htm).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tierwise.sandbox.clock import sf_from_ms


def where_fields(node: Any) -> Iterator[str]:
    """Field names a WHERE tree mentions."""
    if node is None:
        return
    name = getattr(node, "field", None)
    if isinstance(name, str):
        yield name
    for child in (*getattr(node, "items", ()), getattr(node, "item", None)):
        if child is not None and child is not node:
            yield from where_fields(child)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _boolean(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _datetime(value: Any) -> str:
    if value is None:
        return ""
    text = sf_from_ms(value) if value.__class__ is int else str(value)  # records.stored
    return text[: -len("+0000")] + "Z" if text.endswith("+0000") else text


def renderer(ftype: str) -> Callable[[Any], str]:
    """How Bulk API 2.0 writes a stored (wire-form) value of this type in CSV: null as an
    empty field, booleans ``true``/``false``, dateTimes in UTC with ``Z`` (Bulk 2.0 "Valid
    Date Format in Records": ``yyyy-MM-ddTHH:mm:ss.SSSZ``), everything else as text."""
    return {"boolean": _boolean, "datetime": _datetime}.get(ftype, _text)
