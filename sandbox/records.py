"""Compact record storage: one shared field layout per object type, a value list per record.

Why: a million companies per CRM held as plain dicts cost ~7 KB per company (issue 15:
"the sandbox at that scale"); a dict spends most of that on its own hash table, repeated
for every record. A :class:`Record` is a mapping over a list of values whose positions a
:class:`Layout` shared by the object type names, so the per-record cost is one small
object plus one pointer per field. It behaves as the wire-form dict it replaces (``get``,
``[]``, assignment, ``update``, ``in``, iteration, ``==`` against a dict), so callers and
the wire output are unchanged; nothing outside the stores needs to know.

A layout can give a slot a *fallback*: the value a record shorter than that slot holds
there. :meth:`SalesforceOrg.add_field` uses it to give every existing record the new
field's default in O(1) instead of growing a million lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final, overload


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = _Absent()


class Layout:
    """Field name -> slot, shared by every record of one object type (slots only grow)."""

    __slots__ = ("_decode", "decoders", "fallback", "has_fallback", "names", "slots")

    def __init__(
        self,
        names: tuple[str, ...] | list[str] = (),
        decode: Mapping[str, Callable[[int], str]] | None = None,
    ) -> None:
        # Field name -> how an int stored there prints: seeded datetimes are kept as epoch
        # milliseconds and printed in their wire form when read (issue 15: a 77-byte
        # string per stamp was ~10 % of a seeded company). A value written later is a
        # string and reads as itself.
        self._decode = dict(decode or {})
        self.slots: dict[str, int] = {}
        self.names: list[str] = []
        self.fallback: list[Any] = []
        self.decoders: list[Callable[[int], str] | None] = []
        self.has_fallback = False  # set_fallback was called: short records are not "absent"
        for name in names:
            self.slot(name)

    def slot(self, name: str) -> int:
        found = self.slots.get(name)
        if found is None:
            found = self.slots[name] = len(self.names)
            self.names.append(name)
            self.fallback.append(ABSENT)
            self.decoders.append(self._decode.get(name))
        return found

    def set_fallback(self, name: str, value: Any) -> None:
        """What every record shorter than ``name``'s slot holds there."""
        self.fallback[self.slot(name)] = value
        self.has_fallback = True

    def record(self, values: list[Any]) -> Record:
        """A record whose first ``len(values)`` slots hold ``values`` (in ``names`` order)."""
        return Record(self, values)

    def pack(self, data: Mapping[str, Any]) -> Record:
        """A new record holding exactly ``data`` (every other known field absent)."""
        names, count = self.names, len(data)
        if count == len(names) and list(data) == names:
            return Record(self, list(data.values()))  # the loaders' case: the layout's order
        if not self.has_fallback and list(data) == names[:count]:
            return Record(self, list(data.values()))  # a prefix; the rest absent
        values: list[Any] = [ABSENT] * len(self.names)
        for name, value in data.items():
            index = self.slots.get(name)
            if index is None:
                index = self.slot(name)
                values.append(ABSENT)
            values[index] = value
        return Record(self, values)


class Record(MutableMapping[str, Any]):
    """A wire-form record (a mapping of field name to value) stored as a list of values."""

    __slots__ = ("_layout", "_values")

    def __init__(self, layout: Layout, values: list[Any]) -> None:
        self._layout = layout
        self._values = values

    def _at(self, index: int) -> Any:
        values = self._values
        value = values[index] if index < len(values) else self._layout.fallback[index]
        if value.__class__ is int:
            decode = self._layout.decoders[index]
            if decode is not None:
                return decode(value)
        return value

    def __getitem__(self, name: str) -> Any:
        index = self._layout.slots.get(name)
        if index is not None:
            value = self._at(index)
            if value is not ABSENT:
                return value
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        index = self._layout.slots.get(name)
        if index is None:
            return default
        value = self._at(index)
        return default if value is ABSENT else value

    def raw(self, name: str) -> Any:
        """The stored value (a seeded stamp as its int; None when absent): for snapshots,
        which print it later through :func:`stored`'s decoder."""
        index = self._layout.slots.get(name)
        if index is None:
            return None
        values = self._values
        value = values[index] if index < len(values) else self._layout.fallback[index]
        return None if value is ABSENT else value

    def __contains__(self, name: object) -> bool:
        index = self._layout.slots.get(name) if isinstance(name, str) else None
        return index is not None and self._at(index) is not ABSENT

    def __setitem__(self, name: str, value: Any) -> None:
        index = self._layout.slot(name)
        values = self._values
        if index >= len(values):
            values.extend(self._layout.fallback[len(values) : index + 1])
        values[index] = value

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self[name] = ABSENT

    def __iter__(self) -> Iterator[str]:
        for index, name in enumerate(self._layout.names):
            if self._at(index) is not ABSENT:
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))

    def copy(self) -> dict[str, Any]:
        return dict(self)

    def pin(self, name: str) -> None:
        """Hold this record's own value of ``name`` (its current one), whatever the
        layout's fallback for that slot becomes later."""
        index = self._layout.slot(name)
        values = self._values
        if index >= len(values):
            values.extend(self._layout.fallback[len(values) : index + 1])


def stored(record: Mapping[str, Any], name: str) -> Any:
    """``record.get(name)`` as stored: a compact record's seeded stamp stays an int (8 bytes
    in a snapshot tuple instead of a 77-byte string); :func:`wire_value` prints it."""
    return record.raw(name) if isinstance(record, Record) else record.get(name)


def wire_value(value: Any, decode: Callable[[int], str] | None) -> Any:
    """A value taken by :func:`stored` in its wire form (``decode`` = the field's decoder)."""
    return decode(value) if decode is not None and value.__class__ is int else value


@dataclass
class ChildRows:
    """One parent-to-child subquery of a query, as the query saw it.

    ``by_parent`` maps a parent Id to its matching children's snapshots (Id, *stored
    values in ``fields`` order); ``locate`` opens a locator over a child list longer than
    the inline batch and returns its ``nextRecordsUrl``.
    """

    relationship: str  # the wire key on the parent row ("Opportunities")
    object_name: str
    fields: list[str]
    decoders: list[Callable[[int], str] | None]
    by_parent: dict[str, list[tuple[Any, ...]]]
    batch: int
    locate: Callable[[str, str, list[dict[str, Any]]], str]


class ProjectedRows(Sequence[dict[str, Any]]):
    """A query's rows as value snapshots, made wire dicts one page at a time.

    Why: a ``queryMore`` cursor outlives its request, and holding every remaining row as
    its wire dict cost ~1.5 KB a row (one 1,000,000-account pull: over 1 GB in a single
    cursor; issue 15), and projecting every row (and its subquery) before the first page
    took longer than a client's read timeout at that size. The values are taken when the
    query runs (a tuple of the selected fields' stored values per row, and the same for
    each subquery's matching children), so a page read later shows what the query saw;
    the wire dicts, children included, are made only for the page asked for.
    """

    def __init__(
        self,
        object_name: str,
        fields: list[str],
        version: str,
        rows: list[tuple[Any, ...]],
        layout: Layout,
        children: Sequence[ChildRows] = (),
    ) -> None:
        self.object_name, self.fields, self.version = object_name, fields, version
        self.rows = rows  # (Id, *stored values in ``fields`` order: records.stored)
        self.decoders = [layout.decoders[layout.slot(name)] for name in fields]
        self.children = list(children)

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._wire(row) for row in self.rows[index]]
        return self._wire(self.rows[index])

    def _wire(self, row: tuple[Any, ...]) -> dict[str, Any]:
        out = wire_row(self.object_name, self.version, self.fields, self.decoders, row)
        for child in self.children:
            kids = child.by_parent.get(row[0])
            if not kids:
                out[child.relationship] = None
                continue
            wired = [
                wire_row(child.object_name, self.version, child.fields, child.decoders, kid)
                for kid in kids
            ]
            result: dict[str, Any] = {
                "totalSize": len(wired),
                "done": True,
                "records": wired[: child.batch],
            }
            if len(wired) > child.batch:
                result["done"] = False
                result["nextRecordsUrl"] = child.locate(child.object_name, self.version, wired)
            out[child.relationship] = result
        return out


def wire_row(
    object_name: str,
    version: str,
    fields: list[str],
    decoders: list[Callable[[int], str] | None],
    row: tuple[Any, ...],
) -> dict[str, Any]:
    """A snapshot row (Id, *stored values) as the REST API's record dict."""
    out: dict[str, Any] = {
        "attributes": {
            "type": object_name,
            "url": f"/services/data/v{version}/sobjects/{object_name}/{row[0]}",
        }
    }
    for name, value, decode in zip(fields, row[1:], decoders, strict=True):
        out[name] = wire_value(value, decode)
    return out


def snapshot(
    records: Iterable[Mapping[str, Any]], fields: list[str], layout: Layout, *, with_id: bool = True
) -> list[tuple[Any, ...]]:
    """(Id, *stored values of ``fields``) per record, as :class:`ProjectedRows` holds them
    (without the leading Id when ``with_id`` is false: a Bulk 2.0 job's rows).

    A compact record's values are taken by slot in one C call (``itemgetter``); this is
    most of a 1,000,000-row query's cost, so the per-field :func:`stored` walk is kept for
    plain dicts. A record shorter than the slots asked for (it predates a field added
    later, :meth:`Layout.set_fallback`) reads the layout's fallback there, as
    :meth:`Record._at` does: every seeded account once tierwise's fields are provisioned.
    """
    lead = ["Id"] if with_id else []
    slots = [layout.slot(name) for name in (*lead, *fields)]
    if not slots:
        return [() for _ in records]
    width = max(slots) + 1
    take = itemgetter(*slots)
    many = len(slots) > 1
    out: list[tuple[Any, ...]] = []
    append = out.append
    fallback = layout.fallback
    for rec in records:
        if rec.__class__ is Record and rec._layout is layout:  # records.py owns Record
            values = rec._values
            if len(values) < width:
                values = values + fallback[len(values) : width]
            taken = take(values)
            row = taken if many else (taken,)
            append(row if ABSENT not in row else tuple(present(v) for v in row))
            continue
        append((*[rec["Id"] for _ in lead], *[stored(rec, name) for name in fields]))
    return out


def present(value: Any) -> Any:
    return None if value is ABSENT else value


class SeedIds(Mapping[str, tuple[str, str]]):
    """Seed company key ``c0000000``, ``c0000001``, ... -> (Salesforce Id, HubSpot id).

    The keys are the generator's index (``tierwise.sandbox.seed``), so two lists of the stores' own
    id strings stand in for a dict of a million keys and tuples (issue 15).
    """

    def __init__(self) -> None:
        self.salesforce: list[str] = []
        self.hubspot: list[str] = []

    def append(self, key: str, salesforce_id: str, hubspot_id: str) -> None:
        if key != _seed_key(len(self.salesforce)):
            raise ValueError(
                f"seed keys arrive in order: expected {_seed_key(len(self))}, not {key}"
            )
        self.salesforce.append(salesforce_id)
        self.hubspot.append(hubspot_id)

    def _index(self, key: object) -> int | None:
        if not isinstance(key, str) or not key.startswith("c") or not key[1:].isdigit():
            return None
        index = int(key[1:])
        return index if index < len(self.salesforce) and _seed_key(index) == key else None

    def __getitem__(self, key: str) -> tuple[str, str]:
        index = self._index(key)
        if index is None:
            raise KeyError(key)
        return self.salesforce[index], self.hubspot[index]

    def __contains__(self, key: object) -> bool:
        return self._index(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (_seed_key(i) for i in range(len(self.salesforce)))

    def __len__(self) -> int:
        return len(self.salesforce)


def _seed_key(index: int) -> str:
    return f"c{index:07d}"
