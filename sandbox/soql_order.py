"""SOQL ORDER BY: the sort key for ASC/DESC and NULLS FIRST/LAST, and its fast path.

Apart from the WHERE compiler (``soql_where.py``) as the other half of evaluation:
ordering reads stored values as they are kept (a seeded dateTime is epoch milliseconds,
``records.stored``) and orders whole columns when it can (issue 15).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tierwise.sandbox.clock import epoch_ms, parse_iso
from tierwise.sandbox.records import stored
from tierwise.sandbox.soql_ast import OrderItem
from tierwise.sandbox.soql_values import comparable, comparable_id, normaliser


def _get(record: Mapping[str, Any], name: str) -> Any:
    return record.get(name)


def _stamp_norm(value: Any) -> Any:
    """A dateTime as epoch milliseconds, whether stored as an int or in wire form."""
    return epoch_ms(parse_iso(value)) if isinstance(value, str) else value


def simple_order(
    columns: Sequence[Sequence[Any]], items: tuple[OrderItem, ...], types: Mapping[str, str]
) -> list[int] | None:
    """The positions of the rows in ORDER BY order, or None when :func:`sort_key` is needed.

    ``columns[i]`` holds every row's stored value of ``items[i]``'s field. When no value
    is null and each column holds one kind (numbers, dateTimes or text), ordering on the
    normalised values themselves is what :func:`sort_key` orders (its null ranks and type
    tags are then all equal), DESC on a number or dateTime being the negated value; the
    sort is stable either way. Why: one key tuple per row built in Python cost most of a
    1,000,000-row ``ORDER BY SystemModstamp, Id`` (issue 15).
    """
    keys: list[list[Any]] = []
    for item, column in zip(items, columns, strict=True):
        kind = types.get(item.field, "string")
        if kind == "datetime":
            values = [_stamp_norm(v) for v in column]
        elif kind in ("id", "reference"):
            values = [comparable_id(v) for v in column]
        else:
            values = [comparable(v) for v in column]
        classes = {v.__class__ for v in values}
        if classes <= {int, float}:
            keys.append([-v for v in values] if item.descending else values)
        elif classes == {str} and not item.descending:
            keys.append(values)
        else:
            return None  # nulls, booleans, mixed kinds or DESC text: the general key
    table = keys[0] if len(keys) == 1 else list(zip(*keys, strict=True))
    return sorted(range(len(table)), key=table.__getitem__)


def sort_key(
    items: tuple[OrderItem, ...], types: Mapping[str, str] | None = None
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A key for ``list.sort`` honouring ASC/DESC and NULLS FIRST/LAST per item."""
    kinds = [(types or {}).get(item.field, "string") for item in items]
    norms = [_stamp_norm if kind == "datetime" else normaliser(kind) for kind in kinds]
    # A dateTime sorts on its stored form made epoch milliseconds: a seeded stamp is
    # already an int (records.Layout), and printing a million of them to compare their
    # text cost most of a 1,000,000-row ORDER BY (issue 15).
    getters = [stored if kind == "datetime" else _get for kind in kinds]

    class _Rev:
        __slots__ = ("v",)

        def __init__(self, v: Any) -> None:
            self.v = v

        def __lt__(self, other: _Rev) -> bool:
            return bool(other.v < self.v)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, _Rev) and bool(self.v == other.v)

        __hash__ = None  # type: ignore[assignment]  # unhashable, as __eq__ implies; typeshed types __hash__ as a method

    def key(rec: Mapping[str, Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for item, norm, get in zip(items, norms, getters, strict=True):
            value = norm(get(rec, item.field))
            null_rank = (
                (1 if item.nulls_last else 0) if value is None else (0 if item.nulls_last else 1)
            )
            if isinstance(value, bool):
                value = int(value)
            cell: Any = value if value is not None else 0
            if isinstance(cell, str | int | float):
                cell = (0, cell) if isinstance(cell, int | float) else (1, cell)
            out.append((null_rank, _Rev(cell) if item.descending else cell))
        return tuple(out)

    return key
