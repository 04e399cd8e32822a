"""Seeding the org: the generator's companies, deals and past meetings as records.

A mixin of ``SalesforceOrg`` (``sf_store.py``), kept apart so the org stays a readable
size. These loads pack records (``records.Layout``: compact, for a million accounts,
issue 15) straight into the store, not through ``plan``/``commit``: they keep the seed's
own stamps instead of the write clock's (``load_accounts`` says why).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from tierwise.sandbox.clock import epoch_ms
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.sf_org_schema import OrgSchema

# Seed categories onto the stock Industry picklist (sf_schema.INDUSTRY_VALUES).
SEED_INDUSTRY = {
    "Software": "Technology",
    "Financial Services": "Finance",
    "Healthcare": "Healthcare",
    "Manufacturing": "Manufacturing",
    "Retail": "Retail",
    "Education": "Education",
    "Media": "Media",
    "Logistics": "Transportation",
    "Energy": "Energy",
    "Government": "Government",
}


class OrgSeeding(OrgSchema):
    """Bulk seed loads; reads ``OrgSchema``'s ``lock``, ``objects`` and ``layouts``."""

    profile: str

    # ---- loading ----------------------------------------------------------------------------

    def load_events(self, companies: Iterable[Mapping[str, Any]], ids: Mapping[str, str]) -> int:
        """Past meetings (seed ``activities``) as Events on each Account; returns the count."""
        owners = {o.email: o.salesforce_id for o in OWNERS}
        count = 0
        layout = self.layouts["Event"]
        with self.lock:
            store = self.objects["Event"]
            for company in companies:
                for day in company["activities"]:
                    event_id = self.new_id("Event")
                    stamp = f"{day.isoformat()}T15:00:00.000+0000"
                    store[event_id] = layout.pack(
                        {
                            "Id": event_id,
                            "IsDeleted": False,
                            "Subject": "Meeting",
                            "ActivityDate": day.isoformat(),
                            "ActivityDateTime": stamp,
                            "DurationInMinutes": 30,
                            "WhatId": ids[company["key"]],
                            "AccountId": ids[company["key"]],
                            "OwnerId": owners[company["owner"]],
                            "Description": None,
                            "CreatedDate": stamp,
                            "LastModifiedDate": stamp,
                            "SystemModstamp": stamp,
                        }
                    )
                    count += 1
        return count

    def load_opportunities(
        self,
        deals: Iterable[Mapping[str, Any]],
        account_ids: Mapping[str, str],
        owners: Mapping[str, str],
    ) -> dict[str, str]:
        """Seed deals (``tierwise.sandbox.outcomes``) as Opportunities; returns deal key -> Id.

        ``owners`` maps company key -> owner email (the account owner owns its deals).
        """
        by_email = {o.email: o.salesforce_id for o in OWNERS}
        ids: dict[str, str] = {}
        layout = self.layouts["Opportunity"]
        with self.lock:
            store = self.objects["Opportunity"]
            for deal in deals:
                record_id = self.new_id("Opportunity")
                stamp = epoch_ms(deal["modified"])
                store[record_id] = layout.pack(
                    {
                        "Id": record_id,
                        "IsDeleted": False,
                        "Name": deal["name"],
                        "AccountId": account_ids[deal["company_key"]],
                        "Amount": deal["amount"],
                        "StageName": deal["stage"],
                        "CloseDate": deal["close_date"].isoformat(),
                        "IsClosed": deal["is_closed"],
                        "IsWon": deal["is_won"],
                        "OwnerId": by_email[owners[deal["company_key"]]],
                        "CreatedDate": epoch_ms(deal["created"]),
                        "LastModifiedDate": stamp,
                        "SystemModstamp": stamp,
                    }
                )
                ids[deal["key"]] = record_id
        return ids

    def load_accounts(self, companies: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """Insert seed companies; returns company key -> Account Id.

        Seed rows keep the generator's ``modified`` stamp (in the past), not the write
        clock, so loading a million rows does not push the clock into the future.
        """
        owners = {o.email: o.salesforce_id for o in OWNERS}
        enriched = self.profile == "enriched"
        ids: dict[str, str] = {}
        layout = self.layouts["Account"]
        with self.lock:
            store = self.objects["Account"]
            for company in companies:
                record_id = self.new_id("Account")
                stamp = epoch_ms(company["modified"])
                revenue = company["annual_revenue"]
                industry = company["industry"] or None
                record: dict[str, Any] = {
                    "Id": record_id,
                    "IsDeleted": False,
                    "Name": company["name"][:255],
                    "Website": company["website"],
                    "Industry": SEED_INDUSTRY.get(industry, industry) if industry else None,
                    "Type": "Customer - Direct"
                    if company.get("health_score") is not None
                    else "Prospect",
                    "Rating": None,
                    "NumberOfEmployees": company["employees"],
                    "AnnualRevenue": revenue if isinstance(revenue, int | float) else None,
                    "BillingCountry": company["country"],
                    "OwnerId": owners[company["owner"]],
                    # Salesforce derives it from events and closed tasks [sf-account]; the
                    # seed's last_activity is the latest of the seeded meetings (load_events).
                    "LastActivityDate": _shared_date(company["last_activity"]),
                    "CreatedDate": epoch_ms(company["created"]),
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                }
                if enriched:
                    risk = company["payment_risk"]
                    record.update(
                        {
                            "Technologies__c": ";".join(company["tech_stack"]) or None,
                            "Website_Sessions_30d__c": company["web_visits_30d"],
                            "Bombora_Composite_Score__c": company["intent_score"],
                            "Bombora_Surge__c": bool(company["intent_surge"]),
                            "Funding_Total__c": company["last_funding_amount"],
                            "Last_Funding_Round_Date__c": _iso_date(company["last_funding_date"]),
                            "Competitor_Install__c": bool(company["competitor_customer"]),
                            "Credit_Risk__c": risk.capitalize() if risk else None,
                            "Customer_Health__c": company.get("health_score"),
                            "Adoption_Pct__c": company.get("product_adoption"),
                        }
                    )
                store[record_id] = layout.pack(record)
                ids[company["key"]] = record_id
        return ids


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _shared_date(value: date | None) -> str | None:
    """A date many seeded records repeat, as one shared string object."""
    return sys.intern(value.isoformat()) if value is not None else None
