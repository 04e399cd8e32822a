"""Seeding the portal: the generator's companies, their contacts and deals as objects.

A mixin of ``HubSpotPortal`` (``hs_store.py``), kept apart so the portal stays a
readable size. These loads pack objects (``records.Layout``) straight into the store,
not through ``validate``/``write``: values are stored as-is, malformed ones included,
and keep the seed's own stamps. With them are the value forms a real portal holds for
seeded values (stock industry codes, free-text funding amounts).
"""

from __future__ import annotations

import sys
import threading
import zlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from tierwise.sandbox.clock import epoch_ms
from tierwise.sandbox.hs_portal_associations import PortalAssociations
from tierwise.sandbox.hs_portal_objects import PortalObjects
from tierwise.sandbox.hs_records import HubSpotObject
from tierwise.sandbox.hs_stock_properties import WEB_TECHNOLOGY_OPTIONS
from tierwise.sandbox.seed import OWNERS


class PortalSeeding(PortalObjects, PortalAssociations):
    """Bulk seed loads; builds on ``PortalObjects`` (ids, stores) and ``PortalAssociations``
    (links), and reads ``lock`` and ``profile``."""

    lock: threading.RLock
    profile: str

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
