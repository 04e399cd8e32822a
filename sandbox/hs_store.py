"""The emulated HubSpot portal's data: objects, properties, groups, associations, lists.

``objects[type][id]`` is ``{"id", "properties": {name: str}, "createdAt", "updatedAt",
"archived"}`` exactly as the API returns it. Ids are numeric strings handed out in
increasing order, so ``after`` paging is a bisect over a sorted id list.

The portal is one class, ``HubSpotPortal``, composed of one mixin per concern, each in
its own module: ``hs_portal_objects.py`` (ids, validated writes, the sorted search
index, archive), ``hs_portal_associations.py`` (association links) and
``hs_portal_seed.py`` (seed loads and the value forms they write). This module builds
the portal (its stock properties, groups and owners) and holds its property additions
and lists.
"""

from __future__ import annotations

import array
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from tierwise.sandbox.clock import SandboxClock, hs_datetime, hs_from_ms
from tierwise.sandbox.hs_portal_associations import PortalAssociations
from tierwise.sandbox.hs_portal_objects import PortalObjects
from tierwise.sandbox.hs_portal_seed import PortalSeeding
from tierwise.sandbox.hs_records import HubSpotObject
from tierwise.sandbox.hs_schema import PropertyDef
from tierwise.sandbox.hs_stock_properties import (
    DEFAULT_GROUPS,
    company_enriched_properties,
    company_properties,
    contact_properties,
    deal_properties,
    task_properties,
)
from tierwise.sandbox.records import Layout
from tierwise.sandbox.seed import OWNERS

ID_BASE = {
    "companies": 18_000_000_000,
    "contacts": 28_000_000_000,
    "tasks": 38_000_000_000,
    "deals": 48_000_000_000,
}


@dataclass
class HubSpotList:
    list_id: str
    name: str
    object_type_id: str
    processing_type: str
    filter_branch: Any
    created_at: str
    updated_at: str
    version: int = 1
    members: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "listId": self.list_id,
            "listVersion": self.version,
            "name": self.name,
            "objectTypeId": self.object_type_id,
            "processingType": self.processing_type,
            "processingStatus": "COMPLETE",
            "filterBranch": self.filter_branch,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "size": 0,
        }


class HubSpotPortal(PortalSeeding, PortalObjects, PortalAssociations):
    """Thread-safe in-memory HubSpot account."""

    def __init__(self, clock: SandboxClock, *, profile: str = "stock") -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.profile = profile
        self.properties: dict[str, dict[str, PropertyDef]] = {
            "companies": {p.name: p for p in company_properties()},
            "contacts": {p.name: p for p in contact_properties()},
            "tasks": {p.name: p for p in task_properties()},
            "deals": {p.name: p for p in deal_properties()},
        }
        self.groups: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in self.properties}
        for object_type, groups in DEFAULT_GROUPS.items():
            for order, (name, label) in enumerate(groups):
                if label is not None:
                    self.groups[object_type][name] = {
                        "name": name,
                        "label": label,
                        "displayOrder": order,
                        "archived": False,
                    }
        if profile == "enriched":
            self.groups["companies"]["customer_data"] = {
                "name": "customer_data",
                "label": "Customer data",
                "displayOrder": 5,
                "archived": False,
            }
            for prop in company_enriched_properties():
                self.properties["companies"][prop.name] = prop
        owner_prop = self.properties
        for object_type in owner_prop:
            owner_prop[object_type]["hubspot_owner_id"].options = [
                {
                    "label": f"{o.first_name} {o.last_name}",
                    "value": o.hubspot_id,
                    "displayOrder": i,
                    "hidden": False,
                }
                for i, o in enumerate(OWNERS)
            ]
        self.objects: dict[str, dict[str, HubSpotObject]] = {t: {} for t in self.properties}
        # Property values per object type: one shared layout, a value list per object
        # (sandbox/records.py; issue 15, a million companies in a bounded budget).
        stamps = dict.fromkeys(
            ("createdate", "hs_lastmodifieddate", "lastmodifieddate"), hs_from_ms
        )
        self.layouts = {t: Layout(decode=stamps) for t in self.properties}
        # Ids as 8-byte machine integers, not one Python int object each.
        self._sorted_ids: dict[str, array.array[int]] = {
            t: array.array("q") for t in self.properties
        }
        self._counters = {t: itertools.count(ID_BASE[t] + 1) for t in self.properties}
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        # (from type, to type) -> from id -> (to id, type id, to id, type id, ...): one
        # small tuple per object instead of a dict and a set per link (see associate).
        self._links: dict[tuple[str, str], dict[str, tuple[str | int, ...]]] = {}
        self.lists: dict[str, HubSpotList] = {}
        self.version = 0  # bumped on every data change; keys the search result cache
        # (object type, property) -> (version, sorted keys, ids): see sorted_index.
        self._indexes: dict[tuple[str, str], tuple[int, list[Any], list[str]]] = {}
        self._list_ids = itertools.count(1)
        self.search_view: dict[str, dict[str, tuple[float, dict[str, Any] | None]]] = {
            t: {} for t in self.properties
        }
        for object_type, props in self.properties.items():
            for prop in props.values():
                if prop.unique:
                    self._unique[(object_type, prop.name)] = {}

    # ---- properties -------------------------------------------------------------------------

    def add_property(self, object_type: str, prop: PropertyDef) -> None:
        with self.lock:
            self.properties[object_type][prop.name] = prop
            if prop.unique:
                index = self._unique.setdefault((object_type, prop.name), {})
                for oid, obj in self.objects[object_type].items():
                    value = obj["properties"].get(prop.name)
                    if value:
                        index[value] = oid

    # ---- lists ----------------------------------------------------------------------------

    def new_list(
        self, name: str, object_type_id: str, processing_type: str, filter_branch: Any
    ) -> HubSpotList:
        stamp = hs_datetime(self.clock.tick())
        hs_list = HubSpotList(
            str(next(self._list_ids)),
            name,
            object_type_id,
            processing_type,
            filter_branch,
            stamp,
            stamp,
        )
        self.lists[hs_list.list_id] = hs_list
        return hs_list
