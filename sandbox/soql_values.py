"""How SOQL compares stored values: text ignoring case, ids on their 15-character form.

Shared by the WHERE compiler (``soql_where.py``) and the ordering (``soql_order.py``),
so a filter and an ORDER BY treat the same values alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def comparable(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def comparable_id(value: Any) -> Any:
    """Ids compare case-sensitively on their 15-character form (18 adds a case checksum)."""
    return value[:15] if isinstance(value, str) and len(value) == 18 else value


def normaliser(ftype: str) -> Callable[[Any], Any]:
    return comparable_id if ftype in ("id", "reference") else comparable
