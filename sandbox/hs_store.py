"""The emulated HubSpot portal's data: objects, properties, groups, associations, lists.

``objects[type][id]`` is ``{"id", "properties": {name: str}, "createdAt", "updatedAt",
"archived"}`` exactly as the API returns it. Ids are numeric strings handed out in
increasing order, so ``after`` paging is a bisect over a sorted id list.
"""

from __future__ import annotations

import array
import bisect
import itertools
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tierwise.sandbox.clock import SandboxClock, epoch_ms, hs_datetime, hs_from_ms
from tierwise.sandbox.hs_schema import (
    DEFAULT_GROUPS,
    READ_ONLY,
    WEB_TECHNOLOGY_OPTIONS,
    PropertyDef,
    PropertyValueError,
    company_enriched_properties,
    company_properties,
    contact_properties,
    deal_properties,
    normalise,
    task_properties,
)
from tierwise.sandbox.records import HubSpotObject, Layout
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


class HubSpotPortal:
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

    # ---- associations -----------------------------------------------------------------------

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: Iterable[int]
    ) -> None:
        """Link both ways; each direction keeps its (to id, type id) pairs in link order."""
        for type_id in type_ids:
            self._link(from_type, from_id, to_type, to_id, type_id)
            self._link(to_type, to_id, from_type, from_id, _inverse(type_id))

    def _link(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        links = self._links.setdefault((from_type, to_type), {})
        pairs = links.get(from_id, ())
        for at in range(0, len(pairs), 2):
            if pairs[at] == to_id and pairs[at + 1] == type_id:
                return
        links[from_id] = (*pairs, to_id, type_id)

    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        """to id -> association type ids (a fresh dict, in the order the links were made)."""
        pairs = self._links.get((from_type, to_type), {}).get(from_id, ())
        out: dict[str, set[int]] = {}
        for at in range(0, len(pairs), 2):
            out.setdefault(str(pairs[at]), set()).add(int(pairs[at + 1]))
        return out

    # ---- seed -------------------------------------------------------------------------------

    def load_companies(
        self, companies: Iterable[Mapping[str, Any]], *, contacts: bool = True
    ) -> dict[str, str]:
        """Insert seed companies (values stored as-is, malformed ones included).

        Seed rows keep the generator's ``modified`` stamp (see the Salesforce loader).
        """
        owners = {o.email: o.hubspot_id for o in OWNERS}
        self.version += 1
        has_override = "tierwise_tier_override" in self.properties["companies"]
        enriched = self.profile == "enriched"
        ids: dict[str, str] = {}
        layout = self.layouts["companies"]
        with self.lock:
            store = self.objects["companies"]
            for c in companies:
                object_id = self._new_id("companies")
                # Seeded stamps as epoch ms, printed when read (records.Layout).
                stamp, created = epoch_ms(c["modified"]), epoch_ms(c["created"])
                last = c["last_activity"]
                last_text = _shared(f"{last.isoformat()}T15:30:00.000Z" if last else None)
                # The seed's visits key (renamed to web_visits in the new model inputs).
                visits = c.get("web_visits", c.get("web_visits_30d"))
                props: dict[str, str | int | None] = {
                    "hs_object_id": object_id,
                    "createdate": created,
                    "hs_lastmodifieddate": stamp,
                    "name": c["name"],
                    "domain": c["domain"],
                    "industry": industry_code(c["key"], c["industry"]),
                    "numberofemployees": _shared(_s(c["employees"])),
                    "annualrevenue": _s(c["annual_revenue"]),
                    "country": c["country"],
                    "web_technologies": _shared(
                        ";".join(_TECH_VALUE[t] for t in c["tech_stack"]) or None
                    ),
                    "hs_analytics_num_visits": _shared(_s(visits)),
                    "notes_last_updated": last_text,
                    "hs_last_sales_activity_timestamp": last_text,
                    "total_money_raised": _shared(money_text(c["key"], c["last_funding_amount"])),
                    "hs_num_open_deals": "0",
                    "num_associated_deals": "0",
                    "hubspot_owner_id": owners[c["owner"]],
                }
                if enriched:
                    props.update(
                        {
                            "technologies_used": ";".join(c["tech_stack"]) or None,
                            "site_sessions_30d": _s(visits),
                            "bombora_composite_score": _s(c["intent_score"]),
                            "bombora_surge": "true" if c["intent_surge"] else "false",
                            "funding_total": _s(c["last_funding_amount"]),
                            "last_funding_round_date": _s(c["last_funding_date"]),
                            "competitor_install": "true" if c["competitor_customer"] else "false",
                            "credit_risk": c["payment_risk"],
                            "customer_health": _s(c.get("health_score")),
                            "adoption_pct": _s(c.get("product_adoption")),
                        }
                    )
                if has_override:
                    props["tierwise_tier_override"] = c["override_tier"]
                    props["tierwise_override_until"] = _s(c["override_until"])
                store[object_id] = HubSpotObject(
                    object_id, layout.pack(props), created, stamp, False
                )
                ids[c["key"]] = object_id
                for n, person in enumerate(c.get("contacts") or () if contacts else ()):
                    self._seed_contact(object_id, person, created, stamp, n == 0)
        return ids

    def _seed_contact(
        self, company_id: str, person: Mapping[str, str], created: int, stamp: int, primary: bool
    ) -> None:
        contact_id = self._new_id("contacts")
        props: dict[str, str | int | None] = {
            "hs_object_id": contact_id,
            "createdate": created,
            "hs_lastmodifieddate": stamp,
            "lastmodifieddate": stamp,
            "email": person["email"],
            "firstname": person["first_name"],
            "lastname": person["last_name"],
            "jobtitle": person["title"],
            "associatedcompanyid": company_id,
        }
        self.objects["contacts"][contact_id] = HubSpotObject(
            contact_id, self.layouts["contacts"].pack(props), created, stamp, False
        )
        self._unique[("contacts", "email")][person["email"]] = contact_id
        self.associate("contacts", contact_id, "companies", company_id, [1] if primary else [279])

    def load_deals(
        self,
        deals: Iterable[Mapping[str, Any]],
        company_ids: Mapping[str, str],
        owners: Mapping[str, str],
    ) -> dict[str, str]:
        """Seed deals (``tierwise.sandbox.outcomes``) associated with their company (type 5/6).

        ``owners`` maps company key -> owner email. Returns deal key -> deal id.
        """
        from tierwise.sandbox.outcomes import HUBSPOT_STAGE

        by_email = {o.email: o.hubspot_id for o in OWNERS}
        self.version += 1
        ids: dict[str, str] = {}
        with self.lock:
            store = self.objects["deals"]
            for deal in deals:
                object_id = self._new_id("deals")
                stamp, created = epoch_ms(deal["modified"]), epoch_ms(deal["created"])
                props: dict[str, str | int | None] = {
                    "hs_object_id": object_id,
                    "createdate": created,
                    "hs_lastmodifieddate": stamp,
                    "dealname": deal["name"],
                    "amount": _s(deal["amount"]),
                    "dealstage": HUBSPOT_STAGE[deal["stage"]],
                    "pipeline": "default",
                    "closedate": f"{deal['close_date'].isoformat()}T12:00:00.000Z",
                    "hs_is_closed": _s(deal["is_closed"]),
                    "hs_is_closed_won": _s(deal["is_won"]),
                    "hubspot_owner_id": by_email[owners[deal["company_key"]]],
                }
                store[object_id] = HubSpotObject(
                    object_id, self.layouts["deals"].pack(props), created, stamp, False
                )
                company_id = company_ids[deal["company_key"]]
                self.associate("deals", object_id, "companies", company_id, [5])
                self._roll_up(company_id, deal)
                ids[deal["key"]] = object_id
        return ids

    def _roll_up(self, company_id: str, deal: Mapping[str, Any]) -> None:
        """HubSpot's calculated deal rollups on the company (read-only to the API):
        open deal count and value, associated deals, closed-won revenue."""
        props = self.objects["companies"][company_id]["properties"]

        def add(name: str, amount: float) -> None:
            total = float(props.get(name) or 0) + amount
            props[name] = _shared(_s(total))

        add("num_associated_deals", 1)
        amount = float(deal["amount"] or 0)
        if not deal["is_closed"]:
            add("hs_num_open_deals", 1)
            add("hs_total_deal_value", amount)
        elif deal["is_won"]:
            add("total_revenue", amount)

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


# Seed category -> the stock industry codes a company of that category carries (spread
# deterministically over the key so several codes per category occur).
SEED_INDUSTRY_CODES: dict[str, tuple[str, ...]] = {
    "Software": ("COMPUTER_SOFTWARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "INTERNET"),
    "Financial Services": ("FINANCIAL_SERVICES", "BANKING", "INSURANCE"),
    "Healthcare": ("HOSPITAL_HEALTH_CARE", "MEDICAL_DEVICES", "PHARMACEUTICALS"),
    "Manufacturing": ("MACHINERY", "INDUSTRIAL_AUTOMATION", "ELECTRICAL_ELECTRONIC_MANUFACTURING"),
    "Retail": ("RETAIL", "CONSUMER_GOODS"),
    "Education": ("EDUCATION_MANAGEMENT", "HIGHER_EDUCATION", "E_LEARNING"),
    "Media": ("ONLINE_MEDIA", "BROADCAST_MEDIA", "PUBLISHING"),
    "Logistics": (
        "LOGISTICS_AND_SUPPLY_CHAIN",
        "TRANSPORTATION_TRUCKING_RAILROAD",
        "PACKAGE_FREIGHT_DELIVERY",
    ),
    "Energy": ("OIL_ENERGY", "RENEWABLES_ENVIRONMENT", "UTILITIES"),
    "Government": ("GOVERNMENT_ADMINISTRATION", "PUBLIC_POLICY"),
}
_TECH_VALUE = {label: value for value, label in WEB_TECHNOLOGY_OPTIONS}


def industry_code(key: str, category: str | None) -> str | None:
    """The stock ``industry`` value for a seed category (None when the seed has none)."""
    codes = SEED_INDUSTRY_CODES.get(category or "")
    if not codes:
        return None
    return codes[zlib.crc32(key.encode()) % len(codes)]


def money_text(key: str, amount: float | None) -> str | None:
    """``total_money_raised`` is a free-text string in a real portal: the seed amount in
    one of the forms enrichment and people write, with a small unreadable share."""
    if amount is None:
        return None
    h = zlib.crc32(f"money-{key}".encode())
    millions = amount / 1_000_000
    forms = (
        f"${millions:g}M",
        f"{int(amount):,}",
        str(int(amount)),
        f"{millions:g} million",
        f"${amount / 1e9:g}B" if amount >= 1e8 else f"${millions:g}m",
        f"USD {int(amount):,}",
    )
    if h % 25 == 0:
        return "undisclosed"
    return forms[(h >> 5) % len(forms)]


def _inverse(type_id: int) -> int:
    pairs = {
        192: 191,
        191: 192,
        204: 203,
        203: 204,
        279: 280,
        280: 279,
        1: 2,
        2: 1,
        341: 342,
        342: 341,
        5: 6,
        6: 5,
    }
    return pairs.get(type_id, type_id)


def _shared(text: str | None) -> str | None:
    """One string object for a value many seeded records repeat (counts, dates, sets)."""
    return None if text is None else sys.intern(text)


def _s(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
