"""A HubSpot portal's objects: ids, validated writes, the sorted search index, archive.

``PortalObjects`` is the base mixin of ``HubSpotPortal`` (``hs_store.py``). Kept apart
so the portal stays a readable size; it is the base of the seed mixin because seed
loads take their ids from ``_new_id`` and fill the same stores it declares.
"""

from __future__ import annotations

import array
import bisect
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from tierwise.sandbox.clock import SandboxClock, hs_datetime
from tierwise.sandbox.hs_records import HubSpotObject
from tierwise.sandbox.hs_schema import READ_ONLY, PropertyDef, PropertyValueError, normalise
from tierwise.sandbox.records import Layout


class PortalObjects:
    """Object ids, writes, the sorted index and archive; ``HubSpotPortal.__init__`` sets
    the attributes declared here."""

    clock: SandboxClock
    properties: dict[str, dict[str, PropertyDef]]
    objects: dict[str, dict[str, HubSpotObject]]
    layouts: dict[str, Layout]
    _sorted_ids: dict[str, array.array[int]]
    _counters: dict[str, itertools.count[int]]
    _unique: dict[tuple[str, str], dict[str, str]]
    version: int
    _indexes: dict[tuple[str, str], tuple[int, list[Any], list[str]]]
    search_view: dict[str, dict[str, tuple[float, dict[str, Any] | None]]]

    # ---- objects ----------------------------------------------------------------------------

    def _new_id(self, object_type: str) -> str:
        n = next(self._counters[object_type])
        self._sorted_ids[object_type].append(n)
        return str(n)

    def ids_after(self, object_type: str, after: int, limit: int) -> tuple[list[str], bool]:
        ids = self._sorted_ids[object_type]
        start = bisect.bisect_right(ids, after)
        chunk = ids[start : start + limit + 1]
        return [str(i) for i in chunk[:limit]], len(chunk) > limit

    def validate(
        self, object_type: str, values: Mapping[str, Any], own_id: str | None
    ) -> dict[str, str]:
        """Normalised values, or PropertyValueError for the first invalid one."""
        props = self.properties[object_type]
        clean: dict[str, str] = {}
        for name, value in values.items():
            prop = props.get(name)
            if prop is None:
                raise PropertyValueError(
                    "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist', name
                )
            if name in READ_ONLY or prop.read_only:
                raise PropertyValueError(
                    "READ_ONLY_VALUE",
                    f'"{name}" is a read only property; its value cannot be set.',
                    name,
                )
            text = normalise(prop, value)
            if prop.unique and text:
                holder = self._unique[(object_type, name)].get(text)
                if holder is not None and holder != own_id:
                    raise PropertyValueError(
                        "DUPLICATE_VALUE", f"{holder} already has that value. {name}={text}", name
                    )
            clean[name] = text
        return clean

    def write(
        self,
        object_type: str,
        object_id: str | None,
        clean: Mapping[str, str],
        lag_until: float = 0.0,
    ) -> HubSpotObject:
        """Create (``object_id`` None) or update with validated values; returns the object.

        With ``lag_until`` (a sandbox-clock POSIX timestamp deadline) search keeps seeing the
        previous version (or nothing, for a create) until then.
        """
        if lag_until:
            view = self.search_view[object_type]
            if object_id is None or object_id not in view:
                before = (
                    None
                    if object_id is None
                    else dict(self.objects[object_type][object_id]["properties"])
                )
                pending = (lag_until, before)
            else:
                pending = (lag_until, view[object_id][1])
        obj = self._write(object_type, object_id, clean)
        if lag_until:
            self.search_view[object_type][obj["id"]] = pending
        return obj

    def _write(
        self, object_type: str, object_id: str | None, clean: Mapping[str, str]
    ) -> HubSpotObject:
        self.version += 1
        stamp = hs_datetime(self.clock.tick())
        store = self.objects[object_type]
        if object_id is None:
            object_id = self._new_id(object_type)
            props = self.layouts[object_type].record([])
            props["hs_object_id"], props["createdate"] = object_id, stamp
            store[object_id] = HubSpotObject(object_id, props, stamp, stamp, False)
        obj = store[object_id]
        props = obj["properties"]
        for name, value in clean.items():
            if (object_type, name) in self._unique:
                index = self._unique[(object_type, name)]
                old = props.get(name)
                if old and index.get(old) == object_id:
                    del index[old]
                if value:
                    index[value] = object_id
            props[name] = value if value != "" else None
        props["hs_lastmodifieddate"] = stamp
        if object_type == "contacts":
            props["lastmodifieddate"] = stamp
        obj["updatedAt"] = stamp
        return obj

    def sorted_index(
        self, object_type: str, name: str, key: Callable[[str], Any]
    ) -> tuple[list[Any], list[str]] | None:
        """Ids of the objects holding ``name``, ascending by ``key(value)`` (ties in the
        store's order, as a stable sort of a full scan gives), with their keys.

        Built once per data version: keyset paging sends a new range query per page
        (``hs_lastmodifieddate GTE <last stamp>``), and a scan plus sort of every object per
        page made 100,000 companies' 500 pages take minutes. None when a value's key is
        not a number (such a range is left to the scan). Call under ``lock``.
        """
        cached = self._indexes.get((object_type, name))
        if cached is not None and cached[0] == self.version:
            return cached[1], cached[2]
        pairs: list[tuple[Any, str]] = []
        for oid, obj in self.objects[object_type].items():
            value = obj["properties"].get(name)
            if value in (None, ""):
                continue
            sortable = key(str(value))
            if not isinstance(sortable, int | float):
                return None
            pairs.append((sortable, oid))
        pairs.sort(key=lambda pair: pair[0])
        keys, ids = [k for k, _ in pairs], [oid for _, oid in pairs]
        self._indexes[(object_type, name)] = (self.version, keys, ids)
        return keys, ids

    def find_unique(self, object_type: str, prop: str, value: str) -> str | None:
        return self._unique.get((object_type, prop), {}).get(value)

    def archive(self, object_type: str, object_id: str) -> bool:
        self.version += 1
        obj = self.objects[object_type].pop(object_id, None)
        if obj is None:
            return False
        ids = self._sorted_ids[object_type]
        pos = bisect.bisect_left(ids, int(object_id))
        if pos < len(ids) and ids[pos] == int(object_id):
            ids.pop(pos)
        for (otype, name), index in self._unique.items():
            value = obj["properties"].get(name)
            if otype == object_type and value and index.get(value) == object_id:
                del index[value]
        return True
