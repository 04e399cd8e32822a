"""Per-tier company lists for ad platforms, and the spend the plays plan per tier.

LinkedIn Matched Audiences takes company lists as a CSV in the template Campaign
Manager offers; the headers must stay as they are or the upload fails. What is
confirmed, and where (checked 2026-12-01 with the docs and pages corpora):

- LinkedIn Help, "Requirements for contact targeting lists in Campaign Manager"
  (https://www.linkedin.com/help/lms/answer/a1489764), which also covers company
  lists ("When uploading your company lists, they need to adhere to LinkedIn's
  formatting guidelines ... download the CSV template provided in Campaign Manager"):
  do not change or remove the template's headers; an uploaded list needs at least
  300 rows; it must match at least 300 member accounts to serve; 20 MB / 300,000
  records at most. ``LINKEDIN_MINIMUM`` is that 300-row figure (CONFIRMED).
- LinkedIn Help, "Matched Audiences best practices"
  (https://www.linkedin.com/help/lms/answer/a424450): use LinkedIn's templates; for
  company lists give the company name and the Company Page URL
  (www.linkedin.com/company/NAME) to improve the match rate; 300 member accounts is
  the minimum campaign audience.
- LinkedIn Marketing API, "DMP Segment Companies"
  (https://learn.microsoft.com/en-us/linkedin/marketing/matched-audiences/
  create-and-manage-segment-companies): the company attributes LinkedIn matches on
  (companyName, companyWebsiteDomain, ... for the streaming API, not the CSV).

UNCONFIRMED: the exact header strings. No official page in reach spells out the
downloaded template's first row; ``LINKEDIN_HEADERS`` follows a third-party guide,
"LinkedIn Account List Targeting for ABM Campaigns", 42 Agency
(https://intel.42agency.com/linkedin-targeting/account-lists): companyname
(required), companywebsite, companypageurl, stocksymbol, industry, city, country.
Compare them with a template freshly downloaded from Campaign Manager before a
campaign (LinkedIn changes them without notice). Columns we hold no data for are
written empty (the template allows blank fields).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierwise.sync.coverage.population import Population
from tierwise.tiering.records import UNQUALIFIED, FieldValue

# The company-list template's headers: UNCONFIRMED against an official source (docstring).
LINKEDIN_HEADERS = (
    "companyname",
    "companywebsite",
    "companypageurl",
    "stocksymbol",
    "industry",
    "city",
    "country",
)
# Rows an uploaded list needs (LinkedIn Help a1489764, confirmed; see the docstring).
LINKEDIN_MINIMUM = 300
GENERIC_HEADERS = (
    "account",
    "name",
    "domain",
    "tier",
    "tier_label",
    "score",
    "owner",
    "country",
    "industry",
    "linkedin_page",
    "crm_ids",
)
# Model fields that may hold the LinkedIn company page (declare one and map it).
LINKEDIN_FIELDS = ("linkedin_company_page", "linkedin_url", "linkedin_page")


@dataclass(frozen=True, slots=True)
class TierList:
    tier: str
    label: str
    companies: int
    linkedin_file: str
    generic_file: str
    budget_per_account: float | None
    planned_spend: float | None
    warning: str = ""


def export_audiences(population: Population, out: Path) -> list[TierList]:
    """Write ``<tier>-linkedin.csv`` and ``<tier>.csv`` per tier into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    by_key = {a.key: a for a in population.accounts}
    members: dict[str, list[dict[str, str]]] = {t.id: [] for t in population.model.tiers}
    for decision in population.decisions:
        if decision.tier == UNQUALIFIED or decision.tier not in members:
            continue
        account = by_key[decision.key]
        fields = account.fields
        members[decision.tier].append(
            {
                "account": decision.key,
                "name": account.name or decision.key,
                "domain": account.primary.domain or "",
                "tier": decision.tier,
                "tier_label": decision.tier_label,
                "score": f"{decision.score:.2f}",
                "owner": account.primary.owner_id or "",
                "country": _text(fields, "country"),
                "industry": _text(fields, "industry"),
                "linkedin_page": _linkedin(fields),
                "crm_ids": " ".join(f"{r.system}:{r.crm_id}" for r in account.records),
            }
        )
    lists = []
    for tier in population.model.tiers:
        rows = sorted(members[tier.id], key=lambda r: (-float(r["score"]), r["account"]))
        linkedin = out / f"{tier.id}-linkedin.csv"
        generic = out / f"{tier.id}.csv"
        _write(linkedin, LINKEDIN_HEADERS, [_linkedin_row(r) for r in rows])
        _write(generic, GENERIC_HEADERS, rows)
        budget = tier.play.budget_per_account if tier.play else None
        warning = ""
        if len(rows) < LINKEDIN_MINIMUM:
            warning = (
                f"{tier.id} {tier.label}: {len(rows)} companies, below LinkedIn's minimum "
                f"of {LINKEDIN_MINIMUM} (the upload is refused or the audience will not "
                "serve; combine tiers or widen the list)"
            )
        lists.append(
            TierList(
                tier.id,
                tier.label,
                len(rows),
                linkedin.name,
                generic.name,
                budget,
                None if budget is None else budget * len(rows),
                warning,
            )
        )
    return lists


def summary_rows(lists: Sequence[TierList]) -> list[dict[str, Any]]:
    return [
        {
            "tier": t.tier,
            "label": t.label,
            "companies": t.companies,
            "linkedin_file": t.linkedin_file,
            "generic_file": t.generic_file,
            "budget_per_account": t.budget_per_account,
            "planned_spend": t.planned_spend,
            "warning": t.warning,
        }
        for t in lists
    ]


def to_text(lists: Sequence[TierList], out: Path) -> str:
    lines = [f"audiences written to {out}:"]
    for t in lists:
        spend = (
            ""
            if t.planned_spend is None
            else f", planned spend {t.planned_spend:,.0f} ({t.budget_per_account:g}/account)"
        )
        lines.append(
            f"  {t.tier:<8} {t.label:<14} {t.companies:>6} companies -> "
            f"{t.linkedin_file}, {t.generic_file}{spend}"
        )
    total = sum(t.planned_spend or 0.0 for t in lists)
    if any(t.planned_spend is not None for t in lists):
        lines.append(f"  planned spend, all tiers: {total:,.0f}")
    lines.extend(f"  warning: {t.warning}" for t in lists if t.warning)
    return "\n".join(lines)


def _linkedin_row(row: Mapping[str, str]) -> dict[str, str]:
    domain = row["domain"]
    return {
        "companyname": row["name"],
        "companywebsite": domain,
        "companypageurl": row["linkedin_page"],
        "stocksymbol": "",
        "industry": row["industry"],
        "city": "",
        "country": row["country"],
    }


def _write(path: Path, headers: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(headers), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _text(fields: Mapping[str, FieldValue], name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def _linkedin(fields: Mapping[str, FieldValue]) -> str:
    return next((v for n in LINKEDIN_FIELDS if isinstance(v := fields.get(n), str) and v), "")
