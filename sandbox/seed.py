"""Deterministic B2B seed data: the same companies for both CRMs.

:func:`generate_companies` streams plain dicts keyed by the tiering model's canonical
field names plus identity fields (``key``, ``name``, ``domain``, ``website``,
``owner``, ``override_tier``, ``override_until``, ``created``, ``modified``; both
timestamps lie before midnight UTC of ``today``), ``contacts`` (0-3 people, loaded into
HubSpot as contacts associated with the company) and ``activities`` (dates of past
meetings, the latest being ``last_activity``; loaded as Salesforce Events on request).

The loaders in the emulators map them onto Salesforce fields and HubSpot properties,
so a company shares its domain across both (Salesforce ``Website`` is written in
assorted URL forms that a sync must normalise). A small, fixed share of values is
missing or malformed on purpose: empty industry, negative headcount, revenue such as
``"n/a"`` or ``"1.2M"`` (a string only HubSpot can hold), very long unicode names,
names with quotes, backslashes and newlines.
"""

from __future__ import annotations

import functools
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

SEED_TODAY = date(2026, 11, 1)

INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Logistics",
    "Energy",
    "Government",
)
COUNTRIES = (
    ("United States", 40),
    ("United Kingdom", 10),
    ("Germany", 10),
    ("France", 7),
    ("Canada", 6),
    ("Netherlands", 5),
    ("Australia", 5),
    ("Japan", 4),
    ("Brazil", 4),
    ("India", 4),
    ("Sweden", 3),
    ("Spain", 2),
)
TECH = (
    "Salesforce",
    "Snowflake",
    "AWS",
    "HubSpot",
    "Marketo",
    "Segment",
    "Azure",
    "GCP",
    "Okta",
    "Workday",
)
PAYMENT_RISK = (("low", 80), ("medium", 15), ("high", 5))
TIERS = ("tier_1", "tier_2", "tier_3", "tier_4", "unqualified")

_PREFIX = (
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Blue Harbor",
    "Red Rock",
    "Silver Lake",
    "Granite",
    "Copperfield",
    "Evergreen",
    "Summit",
    "Pioneer",
    "Atlas",
    "Nimbus",
    "Quantum",
    "Vertex",
    "Helix",
    "Orbit",
    "Lumen",
    "Cobalt",
    "Meridian",
    "Zenith",
    "Polaris",
    "Sterling",
    "Beacon",
    "Harbor",
    "Keystone",
    "Oakridge",
    "Crescent",
    "Müller",
    "Øresund",
    "Société",
    "Český",
    "Nordstjärna",
    "Ñandú",
    "Ōkami",
)
_MIDDLE = (
    "Analytics",
    "Systems",
    "Logistics",
    "Health",
    "Energy",
    "Media",
    "Retail",
    "Capital",
    "Robotics",
    "Foods",
    "Labs",
    "Networks",
    "Software",
    "Bio",
    "Mobility",
    "Learning",
    "Security",
    "Cloud",
    "Data",
    "Materials",
)
_SUFFIX = ("Inc.", "LLC", "GmbH", "Ltd", "SA", "BV", "AB", "Corp.", "Group", "Holdings", "")
_TLDS = ("com", "com", "com", "io", "co", "net", "de", "co.uk", "fr", "ai")
_ODD_NAMES = (
    "O'Brien & Sons",
    'The "Best" Widgets',
    "Back\\slash Partners",
    "Line\nBreak Industries",
    "Tab\tSeparated Ltd",
    "100% Organic_Foods",
    "株式会社サンプル",
    "Ελληνική Εταιρεία",
)
_LONG_UNIT = "Internationale Überseehandelsgesellschaft für Ökologische Lösungen "


@dataclass(frozen=True)
class Owner:
    """A sales rep present in both CRMs."""

    email: str
    first_name: str
    last_name: str
    salesforce_id: str
    hubspot_id: str


OWNERS: tuple[Owner, ...] = (
    Owner("ava.patel@example.com", "Ava", "Patel", "005000000000001AAA", "64492917"),
    Owner("ben.okafor@example.com", "Ben", "Okafor", "005000000000002AAA", "64492918"),
    Owner("chloe.martin@example.com", "Chloé", "Martin", "005000000000003AAA", "64492919"),
    Owner("diego.ramos@example.com", "Diego", "Ramos", "005000000000004AAA", "64492920"),
    Owner("emma.schulz@example.com", "Emma", "Schulz", "005000000000005AAA", "64492921"),
    Owner("farid.haddad@example.com", "Farid", "Haddad", "005000000000006AAA", "64492922"),
)


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    return tuple(value for value, weight in pairs for _ in range(weight))


_COUNTRY_POOL = _weighted(COUNTRIES)
_RISK_POOL = _weighted(PAYMENT_RISK)


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rem = divmod(value, 36)
        out = digits[rem] + out
        if value == 0:
            return out


@functools.lru_cache(maxsize=8192)
def _slug(text: str) -> str:
    kept = [ch.lower() if ch.isascii() and ch.isalnum() else "-" for ch in text]
    slug = "-".join(part for part in "".join(kept).split("-") if part)
    return slug or "company"


def _website(domain: str, rng: random.Random) -> str:
    form = rng.randrange(6)
    return (
        f"https://www.{domain}/",
        f"http://{domain}",
        f"www.{domain}",
        domain,
        f"https://{domain}/about",
        f"HTTPS://WWW.{domain.upper()}",
    )[form]


def generate_companies(n: int, seed: int, *, today: date = SEED_TODAY) -> Iterator[dict[str, Any]]:
    """Yield ``n`` deterministic companies; the same (n, seed, today) gives the same data.

    Streaming: memory stays flat however large ``n`` is.
    """
    rng = random.Random(seed)
    created_base = datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC)
    for i in range(n):
        yield _company(i, rng, today, created_base)


def _customer_health(i: int) -> dict[str, float | None]:
    """Customer-success fields: health score (0-100) and product adoption (% of seats
    active). Drawn from a hash of the index, not from the shared generator, so adding
    them left every other seeded value as it was."""
    h = zlib.crc32(f"health-{i}".encode())
    return {
        "health_score": None if h % 23 == 0 else float(h % 101),
        "product_adoption": None if (h >> 8) % 19 == 0 else float((h >> 12) % 101),
    }


def _company(i: int, rng: random.Random, today: date, created_base: datetime) -> dict[str, Any]:
    r = rng.random
    base = f"{rng.choice(_PREFIX)} {rng.choice(_MIDDLE)}"
    suffix = rng.choice(_SUFFIX)
    name = f"{base} {suffix}".strip()
    odd = r()
    if odd < 0.01:
        name = f"{rng.choice(_ODD_NAMES)} {_base36(i)}"
    elif odd < 0.015:
        name = (_LONG_UNIT * 5)[: rng.randrange(200, 301)]
    domain = f"{_slug(base)}-{_base36(i)}.{rng.choice(_TLDS)}"

    size = rng.lognormvariate(5.0, 1.8)
    employees: int | None = max(1, int(size))
    revenue: float | str | None = round(float(employees or 1) * rng.uniform(60_000, 400_000), -3)
    quality = r()
    industry: str | None = rng.choice(INDUSTRIES)
    if quality < 0.02:
        industry = ""
    elif quality < 0.03:
        industry = None
    if r() < 0.01:
        employees = -int(size) - 1
    elif r() < 0.02:
        employees = None
    rev_q = r()
    if rev_q < 0.01:
        revenue = rng.choice(("n/a", "1.2M", "unknown", "~5m", "$3,000,000"))
    elif rev_q < 0.03:
        revenue = None

    stack_size = min(len(TECH), int(rng.expovariate(0.5)))
    tech_stack = sorted(rng.sample(TECH, stack_size))
    engaged = r()
    web_visits = int(rng.expovariate(1 / (400 if engaged > 0.8 else 40)))
    intent_score: int | None = min(100, int(rng.betavariate(2, 5) * 100))
    if r() < 0.05:
        intent_score = None
    intent_surge = intent_score is not None and intent_score > 60 and r() < 0.6

    last_activity: date | None = today - timedelta(days=int(rng.expovariate(1 / 45)))
    if r() < 0.1:
        last_activity = None
    activities: list[date] = []
    if last_activity is not None:
        activities.append(last_activity)
        for _ in range(min(8, int(rng.expovariate(0.4)))):
            activities.append(last_activity - timedelta(days=rng.randrange(1, 120)))
    funding_amount: float | None = None
    funding_date: date | None = None
    if r() < 0.25:
        funding_amount = float(rng.choice((1, 2, 5, 10, 15, 25, 40, 60, 100, 250)) * 1_000_000)
        funding_date = today - timedelta(days=rng.randrange(5, 1500))
    open_pipeline = 0.0 if r() < 0.6 else round(rng.lognormvariate(11, 1.2), -2)

    override_tier: str | None = None
    override_until: date | None = None
    if r() < 0.02:
        override_tier = rng.choice(TIERS[:4])
        override_until = today + timedelta(days=rng.randrange(-30, 180))

    contacts = [_person(rng, domain) for _ in range((0, 1, 1, 2, 3)[rng.randrange(5)])]
    created = created_base - timedelta(days=rng.randrange(30, 2000), seconds=rng.randrange(86400))
    midnight = created_base.replace(hour=0)
    span_ms = int((midnight - created).total_seconds() * 1000)
    modified = created + timedelta(milliseconds=int(span_ms * rng.random() ** 0.3))
    return {
        "key": f"c{i:07d}",
        "name": name,
        "domain": domain,
        "website": _website(domain, rng),
        "owner": OWNERS[i % len(OWNERS)].email,
        "industry": industry,
        "employees": employees,
        "annual_revenue": revenue,
        "country": rng.choice(_COUNTRY_POOL),
        "tech_stack": tech_stack,
        "web_visits_30d": web_visits,
        "intent_score": intent_score,
        "intent_surge": intent_surge,
        "last_activity": last_activity,
        "last_funding_amount": funding_amount,
        "last_funding_date": funding_date,
        "open_pipeline": open_pipeline,
        "competitor_customer": r() < 0.08,
        "payment_risk": rng.choice(_RISK_POOL),
        **_customer_health(i),
        "override_tier": override_tier,
        "override_until": override_until,
        "created": created,
        "modified": modified,
        "contacts": contacts,
        "activities": activities,
    }


_FIRST = (
    "Alex",
    "Sam",
    "Jordan",
    "Maria",
    "Yuki",
    "Lars",
    "Amélie",
    "Chen",
    "Priya",
    "Omar",
    "Zoë",
    "Mateo",
    "Ingrid",
    "Kwame",
    "Sofia",
    "Noah",
)
_LAST = (
    "Smith",
    "García",
    "Müller",
    "Kim",
    "Nakamura",
    "Okafor",
    "Rossi",
    "Dubois",
    "Singh",
    "Novák",
    "Andersson",
    "O'Connor",
    "Silva",
    "Cohen",
    "Ivanova",
    "Park",
)
_TITLES = (
    "VP Sales",
    "Head of Marketing",
    "CTO",
    "Procurement Manager",
    "CFO",
    "Director of Operations",
    "RevOps Lead",
    "Data Engineer",
)


def _person(rng: random.Random, domain: str) -> dict[str, str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = f"{_slug(first)}.{_slug(last)}{rng.randrange(100)}"
    return {
        "first_name": first,
        "last_name": last,
        "title": rng.choice(_TITLES),
        "email": f"{local}@{domain}",
    }
