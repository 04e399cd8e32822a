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

``--pipeline`` times what a run does between pull and apply instead (issue 15: decide
+ plan for a million accounts with history in 15 s): CRM snapshots are built from
the same accounts, a first ``decide`` + ``plan_targets`` writes its values back into
the snapshots (as the CRM would then hold them) and records history, and the second
run a week later is timed end to end with a per-stage breakdown (merge, inputs,
score, assign, decisions, plan) and the peak resident set of that run alone (the
kernel's high-water mark is reset before it, see ``bench_pipeline``).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tierwise.connectors.base import TierwiseValues
from tierwise.sync.records import Plan, Snapshot, TaskRecord
from tierwise.sync.state.codec import FieldRow, Interner
from tierwise.sync.targets import Decisions, decide, declare_targets
from tierwise.tiering import load_model, tier_accounts
from tierwise.tiering.records import (
    AccountHistory,
    AccountInput,
    Decision,
    FieldValue,
    ScorePoint,
)

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


def peak_reset() -> bool:
    """Reset the kernel's RSS high-water mark (``VmHWM``) so a peak is one phase's own."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return rss_mb()


class Stages:
    """Wall time per stage, by wrapping the functions ``decide`` and ``plan`` call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module: object, name: str, stage: str) -> None:
        inner = getattr(module, name)

        def timed(*args: object, **kwargs: object) -> object:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0

        setattr(module, name, timed)


def snapshots_of(accounts: Sequence[AccountInput]) -> list[Snapshot]:
    """The records as ``gather`` hands them over: read back from the state store, so
    their fields are ``FieldRow``s over one shared layout, values interned."""
    owners = [f"005{j:015d}" for j in range(50)]
    modified = NOW - timedelta(days=1)
    intern = STORE_READ
    return [
        Snapshot(
            system="salesforce",
            crm_id=f"001{i:015d}",
            key=a.key,
            domain=a.key,
            name=f"Company {i}",
            owner_id=owners[i % len(owners)],
            modified_at=modified,
            fields=stored_row(a.fields, intern),
            written=TierwiseValues(),
        )
        for i, a in enumerate(accounts)
    ]


# One read of the store interns every record's values and layout (``iter_snapshots``).
STORE_READ = Interner()


def stored_row(fields: Mapping[str, FieldValue], intern: Interner) -> FieldRow:
    """``fields`` as the store's ``decode_row`` returns them (same names, same order)."""
    values = tuple(intern.value(v) for v in fields.values())
    return FieldRow(intern.layout(tuple(fields)), values)


def edit(snapshots: list[Snapshot], share: float, seed: int = 11) -> list[Snapshot]:
    """``share`` of the records edited outside tierwise (visits and intent moved)."""
    rng = np.random.default_rng(seed)
    picked = np.flatnonzero(rng.random(len(snapshots)) < share).tolist()
    visits = rng.lognormal(np.log(36), 1.3, len(picked)).tolist()
    intent = rng.uniform(0, 100, len(picked)).round().tolist()
    out = list(snapshots)
    intern = STORE_READ
    for i, v, score in zip(picked, visits, intent, strict=True):
        fields = {**out[i].fields, "web_visits": float(int(v)), "intent_score": score}
        out[i] = replace(out[i], fields=stored_row(fields, intern))
    return out


def bench_pipeline(
    n: int, model_path: str, later: timedelta = timedelta(hours=1), edited: float = 0.01
) -> dict[str, str]:
    """decide + plan on a second run with history (see the module docstring)."""
    from tierwise.sync import plan as plan_module
    from tierwise.sync import targets as targets_module
    from tierwise.tiering import assign as assign_module

    gc.collect()
    model = load_model(model_path)
    targets = declare_targets(model)
    snapshots = snapshots_of(generate_accounts(n))
    t0 = time.perf_counter()
    first = decide(snapshots, {}, {}, targets, NOW)
    plan = plan_run_of(first, [], NOW)
    first_s = time.perf_counter() - t0
    # The CRM now holds what run 1 wrote; the store holds run 1's tiers as history.
    written = plan.desired
    snapshots = [
        replace(s, written=written.get((s.system, s.crm_id), s.written)) for s in snapshots
    ]
    since = NOW - timedelta(days=120)
    history = {
        d.key: AccountHistory(d.tier, since, (ScorePoint(NOW, d.score, d.tier),))
        for d in first.for_history()
    }
    last_written = dict(written)
    del first, plan, written
    snapshots = edit(snapshots, edited)
    gc.collect()

    stages = Stages()
    stages.wrap(targets_module, "populate", "merge")
    stages.wrap(assign_module, "Columns", "score")
    stages.wrap(assign_module, "score_accounts", "score")
    stages.wrap(targets_module, "tier_accounts", "tier (score+assign+table)")
    stages.wrap(plan_module, "plan_targets", "plan")
    built = count_builds()
    then = NOW + later
    before_mb = current_rss_mb()
    reset = peak_reset()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    second = targets_module.decide(snapshots, history, last_written, targets, then)
    decided_s = time.perf_counter() - t0
    plan = plan_run_of(second, [], then)
    total_s = time.perf_counter() - t0
    cpu_s = time.process_time() - cpu0
    peak = peak_mb() if reset else rss_mb()
    seconds = stages.seconds
    tier_s = seconds.get("tier (score+assign+table)", 0.0)
    score_s = seconds.get("score", 0.0)
    merge_s = seconds.get("merge", 0.0)
    return {
        "accounts": f"{n:,}",
        "run 2 after": f"{later}, {edited:.0%} ed.",
        "run 1 decide+plan s": f"{first_s:.2f}",
        "run 2 decide+plan s": f"{total_s:.2f}",
        "run 2 CPU s": f"{cpu_s:.2f}",
        "  merge (populate) s": f"{merge_s:.2f}",
        "  score s": f"{score_s:.2f}",
        "  assign s": f"{tier_s - score_s:.2f}",
        "  inputs+decisions s": f"{decided_s - tier_s - merge_s:.2f}",
        "  plan s": f"{seconds.get('plan', 0.0):.2f}",
        "writes planned": f"{plan.write_count:,}",
        "decisions built": f"{built[0]:,}",
        "tasks planned": f"{len(plan.tasks):,}",
        "RSS before run 2 MB": f"{before_mb:,.0f}",
        "peak RSS run 2 MB": f"{peak:,.0f}" + ("" if reset else " (process)"),
    }


def count_builds() -> list[int]:
    """Count the ``Decision`` objects the run materialises (the rest stay arrays)."""
    from tierwise.tiering.decisions import DecisionTable

    built = [0]
    inner = DecisionTable._build

    def counted(self: DecisionTable, i: int) -> Decision:
        built[0] += 1
        return inner(self, i)

    DecisionTable._build = counted  # type: ignore[method-assign]  # a benchmark's counter
    return built


def plan_run_of(decided: Decisions, ledger: list[TaskRecord], now: datetime) -> Plan:
    """The engine's ``plan`` step without an engine (same ``TargetPlan`` per target)."""
    from tierwise.sync import plan as plan_module

    targets = decided.target_plans()
    return plan_module.plan_targets(decided.accounts, targets, ledger, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--model", default=str(Path(__file__).resolve().parent.parent / "config" / "model.yaml")
    )
    parser.add_argument(
        "--pipeline", action="store_true", help="time decide + plan (run 2, with history)"
    )
    parser.add_argument(
        "--later-hours", type=float, default=1.0, help="--pipeline: run 2 this long after run 1"
    )
    parser.add_argument(
        "--edited", type=float, default=0.01, help="--pipeline: share of records edited"
    )
    args = parser.parse_args()
    rows = []
    later = timedelta(hours=args.later_hours)
    for n in args.accounts:
        rows.append(
            bench_pipeline(n, args.model, later, args.edited)
            if args.pipeline
            else bench(n, args.model)
        )
        print(f"done {n:,}", file=sys.stderr)
    print_table(rows)


if __name__ == "__main__":
    main()
