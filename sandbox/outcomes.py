"""Deterministic deal history with a known structure, for outcome analytics.

:func:`generate_deals` turns seed companies into opportunities (Salesforce) / deals
(HubSpot) going back about two years from ``today``. Whether a closed deal was won is
drawn from a fixed logistic rule, so tests can assert that a backtest finds it:

* Software and Financial Services win far more often than other industries;
* 200+ employees and an intent score of 40+ each raise the odds;
* small (< 50 employees) Retail and Education companies rarely win.

``win_probability`` is that rule, exported so tests can compute the expected ordering.
Each company's deals come from its own ``random.Random(f"{seed}:{key}")``, so a company
gets the same deals whatever other companies are loaded, and the same deals in both CRMs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

HISTORY_DAYS = 730
# Four of the stock open stages (sandbox/sf_schema.py STOCK_OPPORTUNITY_STAGES), and the
# HubSpot default-pipeline stage each becomes (sandbox/hs_pipelines.py).
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review")
HUBSPOT_STAGE = {
    "Prospecting": "appointmentscheduled",
    "Qualification": "qualifiedtobuy",
    "Proposal/Price Quote": "presentationscheduled",
    "Negotiation/Review": "contractsent",
    "Closed Won": "closedwon",
    "Closed Lost": "closedlost",
}
STRONG_INDUSTRIES = frozenset({"Software", "Financial Services"})
WEAK_INDUSTRIES = frozenset({"Retail", "Education"})


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def win_probability(company: Mapping[str, Any]) -> float:
    """The generator's rule: chance that a closed deal of this company was won."""
    employees = _number(company.get("employees")) or 0.0
    intent = _number(company.get("intent_score")) or 0.0
    industry = company.get("industry") or ""
    logit = -1.6
    if industry in STRONG_INDUSTRIES:
        logit += 1.6
    if employees >= 200:
        logit += 1.0
    if intent >= 40:
        logit += 1.2
    if industry in WEAK_INDUSTRIES and employees < 50:
        logit -= 1.5
    return 1.0 / (1.0 + math.exp(-logit))


def generate_deals(
    companies: Iterable[Mapping[str, Any]], seed: int, *, today: date
) -> Iterator[dict[str, Any]]:
    """Yield deal dicts: ``key``, ``company_key``, ``name``, ``amount``, ``stage``,
    ``is_closed``, ``is_won``, ``created`` (datetime), ``close_date`` (date; expected
    close for open deals) and ``modified`` (datetime), all before midnight UTC of ``today``."""
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    for company in companies:
        rng = random.Random(f"{seed}:{company['key']}")
        employees = max(1.0, _number(company.get("employees")) or 1.0)
        p_win = win_probability(company)
        # Bigger companies see more deals; on average about 0.7 per company.
        count = int(rng.expovariate(1.0 / (0.45 + min(0.8, math.log10(employees) / 5))))
        for n in range(min(count, 6)):
            created = midnight - timedelta(
                days=rng.randrange(1, HISTORY_DAYS), seconds=rng.randrange(1, 86_400)
            )
            cycle = timedelta(days=int(rng.uniform(14, 150)))
            amount = round(rng.lognormvariate(9.5, 0.8) * (1 + math.log10(employees)), -2)
            close_at = created + cycle
            closed = close_at < midnight - timedelta(days=1)
            won = closed and rng.random() < p_win
            if closed:
                stage = "Closed Won" if won else "Closed Lost"
                modified = close_at + timedelta(hours=rng.randrange(1, 20))
                modified = min(modified, midnight - timedelta(seconds=1))
            else:
                stage = OPEN_STAGES[rng.randrange(len(OPEN_STAGES))]
                modified = midnight - timedelta(seconds=rng.randrange(60, 86_400 * 20))
                modified = max(modified, created)
            yield {
                "key": f"{company['key']}-d{n}",
                "company_key": company["key"],
                "name": f"{company.get('name') or 'Deal'} #{n + 1}"[:120],
                "amount": amount,
                "stage": stage,
                "is_closed": closed,
                "is_won": won,
                "created": created,
                "close_date": close_at.date(),
                "modified": modified,
            }
