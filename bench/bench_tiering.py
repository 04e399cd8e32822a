"""Benchmark the tiering engine on synthetic accounts.

Run: ``python bench/bench_tiering.py [--accounts 100000 1000000] [--model config/model.yaml]``

The accounts are generated here (not by the sandbox) from a fixed seed with
distributions shaped like a B2B CRM: log-normal headcount, sparse funding and
pipeline, a minority with intent data. Each size is tiered twice: a first run with
no history, then a second run a week later that uses the first run as history (so
stability, triggers and volatility are exercised). Peak memory is the process's
maximum resident set (it only grows, so later sizes include earlier ones); "RSS with
records" is the process right after generating the accounts, before any tiering.
Run 2 also holds one ``AccountHistory`` with one ``ScorePoint`` per account.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tierwise.tiering import load_model, tier_accounts
from tierwise.tiering.records import AccountHistory, AccountInput, ScorePoint

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
INDUSTRY_SHARE = (0.2, 0.12, 0.12, 0.14, 0.1, 0.07, 0.07, 0.07, 0.05, 0.06)
COUNTRIES = ("United States", "Germany", "United Kingdom", "France", "Canada", "Japan")
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
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def generate_accounts(n: int, seed: int = 7) -> list[AccountInput]:
    """Deterministic accounts; columns drawn with numpy, then zipped into records."""
    rng = np.random.default_rng(seed)
    today = NOW.date().toordinal()
    employees = np.exp(rng.normal(5.3, 1.5, n)).astype(np.int64) + 1
    revenue = employees * rng.lognormal(np.log(180_000), 0.5, n)
    revenue_missing = rng.random(n) < 0.1
    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_SHARE)
    country = rng.integers(0, len(COUNTRIES), n)
    tech_bits = rng.random((n, len(TECH))) < 0.18
    visits = rng.lognormal(np.log(36), 1.3, n).astype(np.int64)
    has_intent = rng.random(n) < 0.7
    intent = np.clip(rng.normal(30, 18, n), 0, 100).round()
    surge = rng.random(n) < 0.06
    activity_days = rng.exponential(80, n).astype(np.int64)
    activity_missing = rng.random(n) < 0.12
    funded = rng.random(n) < 0.18
    funding = rng.lognormal(np.log(8_000_000), 1.3, n)
    funding_days = rng.integers(0, 1200, n)
    has_pipeline = rng.random(n) < 0.25
    pipeline = rng.lognormal(np.log(60_000), 1.2, n)
    competitor = rng.random(n) < 0.15
    risk = rng.choice(4, n, p=(0.7, 0.2, 0.05, 0.05))
    risks = ("low", "medium", "high", None)
    accounts = []
    for i in range(n):
        fields = {
            "industry": INDUSTRIES[industry[i]],
            "employees": float(employees[i]),
            "annual_revenue": None if revenue_missing[i] else float(revenue[i]),
            "country": COUNTRIES[country[i]],
            "tech_stack": tuple(TECH[j] for j in np.flatnonzero(tech_bits[i])),
            "web_visits": float(visits[i]),
            "intent_score": float(intent[i]) if has_intent[i] else None,
            "intent_surge": bool(surge[i]) if has_intent[i] else None,
            "last_activity": (
                None if activity_missing[i] else date.fromordinal(today - int(activity_days[i]))
            ),
            "last_funding_amount": float(funding[i]) if funded[i] else None,
            "last_funding_date": (
                date.fromordinal(today - int(funding_days[i])) if funded[i] else None
            ),
            "open_pipeline": float(pipeline[i]) if has_pipeline[i] else 0.0,
            "competitor_customer": bool(competitor[i]),
            "payment_risk": risks[risk[i]],
        }
        accounts.append(AccountInput(key=f"acct{i:07d}.example.com", fields=fields))
    return accounts


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def bench(n: int, model_path: str) -> dict[str, str]:
    gc.collect()
    accounts = generate_accounts(n)
    records_mb = current_rss_mb()

    started = time.perf_counter()
    model = load_model(model_path)
    loaded = time.perf_counter()
    first = tier_accounts(model, accounts, {}, NOW)
    first_s = time.perf_counter() - loaded
    peak_first = rss_mb()

    tiers = first.decisions.tier_ids()  # type: ignore[attr-defined]  # decisions is typed Sequence[Decision]; it is a DecisionTable
    since = NOW - timedelta(days=120)
    scores = first.decisions.scores()  # type: ignore[attr-defined]  # decisions is typed Sequence[Decision]; it is a DecisionTable
    history = {
        a.key: AccountHistory(t, since, (ScorePoint(NOW - timedelta(days=7), s, t),))
        for a, t, s in zip(accounts, tiers, scores, strict=True)
    }
    later = NOW + timedelta(days=7)
    t0 = time.perf_counter()
    second = tier_accounts(model, accounts, history, later)
    second_s = time.perf_counter() - t0

    sample = min(n, 100_000)
    t0 = time.perf_counter()
    reasons = [decision.reason for decision in second.decisions[:sample]]
    build_s = time.perf_counter() - t0
    assert all(0 < len(reason) <= 255 for reason in reasons)

    share = Counter(tiers)
    return {
        "accounts": f"{n:,}",
        "load model ms": f"{(loaded - started) * 1000:.1f}",
        "run 1 s": f"{first_s:.2f}",
        "acct/s": f"{n / first_s:,.0f}",
        "run 2 (history) s": f"{second_s:.2f}",
        "decisions built/s": f"{sample / build_s:,.0f}",
        "RSS with records MB": f"{records_mb:,.0f}",
        "peak RSS run 1 MB": f"{peak_first:,.0f}",
        "peak RSS run 2 MB": f"{rss_mb():,.0f}",
        "tiers run 1": " ".join(
            f"{t.removeprefix('tier_')}:{share[t] / n:.1%}" for t in sorted(share)
        ),
        "run 2 volatility": f"{second.stats.volatility:.1%}",
        "run 2 rules": ", ".join(f"{k}={v}" for k, v in sorted(second.stats.rules.items())),
    }


def print_table(rows: Sequence[dict[str, str]]) -> None:
    keys = list(rows[0])
    width = max(len(key) for key in keys)
    for key in keys:
        print(f"{key:<{width}}  " + "  ".join(f"{row[key]:>14}" for row in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--model", default=str(Path(__file__).resolve().parent.parent / "config" / "model.yaml")
    )
    args = parser.parse_args()
    rows = []
    for n in args.accounts:
        rows.append(bench(n, args.model))
        print(f"done {n:,}", file=sys.stderr)
    print_table(rows)


if __name__ == "__main__":
    main()
