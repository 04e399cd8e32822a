"""A sha256 over everything ``decide`` + ``plan_targets`` produce, for a varied population.

Run: ``python bench/pipeline_digest.py [--accounts 20000] [--seed 3]``

A speed-up of the pipeline must not change a single output. This builds a population
that exercises the paths the fast ones skip (two CRMs holding one company, records
without a domain, pins, stored overrides, hand edits, fields in the store's compact
``FieldRow`` form over several layouts and as plain dicts, the customer target with
deals, a task ledger with created, pending and deferred tasks, a per-owner task cap),
runs a first run and a second run a week later with history, and prints one digest
per output: every decision (tier, score, rule, reason, breakdown), every planned
write, field change and desired value, every task, close and drop, the history
records and the stats. Equal digests before and after a change mean equal outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tiering import NOW, generate_accounts  # after the path setup

from tierwise.connectors.base import CrmOpportunity, TierwiseValues
from tierwise.sync.plan import plan_targets
from tierwise.sync.records import Plan, Snapshot, TaskRecord
from tierwise.sync.state.codec import FieldLayout, FieldRow
from tierwise.sync.targets import Decisions, decide, declare_targets
from tierwise.tiering import load_model
from tierwise.tiering.records import AccountHistory, ScorePoint

ROOT = Path(__file__).resolve().parent.parent


def population(n: int, seed: int) -> tuple[list[Snapshot], list[CrmOpportunity]]:
    """Salesforce records for every account, HubSpot for a fifth (same company)."""
    rng = np.random.default_rng(seed)
    accounts = generate_accounts(n, seed)
    names = tuple(accounts[0].fields)
    full = FieldLayout(names)
    short = FieldLayout(tuple(x for x in names if x not in ("web_visits", "intent_score")))
    form = rng.choice(3, n, p=(0.9, 0.06, 0.04)).tolist()
    in_hubspot = (rng.random(n) < 0.2).tolist()
    no_domain = (rng.random(n) < 0.02).tolist()
    pinned = (rng.random(n) < 0.01).tolist()
    overridden = (rng.random(n) < 0.01).tolist()
    tiers = ("tier_1", "tier_2", "tier_3", "unqualified", "nonsense")
    snapshots: list[Snapshot] = []
    opportunities: list[CrmOpportunity] = []
    for i, account in enumerate(accounts):
        crm_id = f"001{i:015d}"
        key = f"salesforce:{crm_id}" if no_domain[i] else account.key
        values = account.fields
        fields: object
        if form[i] == 0:
            fields = FieldRow(full, tuple(values[x] for x in names))
        elif form[i] == 1:
            fields = FieldRow(short, tuple(values[x] for x in short.names))
        else:
            fields = dict(values)
        until = NOW.date() + timedelta(days=int(rng.integers(-20, 40)))
        snapshots.append(
            Snapshot(
                system="salesforce",
                crm_id=crm_id,
                key=key,
                domain=None if no_domain[i] else key,
                name=f"Company {i}" if i % 7 else None,
                owner_id=f"005{i % 40:015d}" if i % 11 else None,
                modified_at=NOW,
                fields=fields,  # type: ignore[arg-type]  # a FieldRow or a dict: both Mappings
                written=TierwiseValues(),
                manual_tier=tiers[i % len(tiers)] if pinned[i] else None,
                manual_tier_until=until if pinned[i] and i % 3 else None,
                override=(
                    {"tier": tiers[i % 3], "until": until.isoformat(), "detected": "2026-11-01"}
                    if overridden[i]
                    else None
                ),
            )
        )
        if in_hubspot[i] and not no_domain[i]:
            gaps = {x: (None if j % 3 == 0 else v) for j, (x, v) in enumerate(values.items())}
            snapshots.append(
                Snapshot(
                    system="hubspot",
                    crm_id=f"h{i}",
                    key=key,
                    domain=key,
                    name=f"HS {i}",
                    owner_id=f"hs-owner-{i % 9}",
                    modified_at=NOW,
                    fields={**gaps, "health_score": float(i % 100)},
                    written=TierwiseValues(),
                )
            )
        if i % 9 == 0:
            for d in range(1 + i % 3):
                closed = NOW.date() - timedelta(days=int(rng.integers(1, 700)))
                opportunities.append(
                    CrmOpportunity(
                        system="salesforce",
                        crm_id=f"006{i:012d}{d}",
                        crm_account_id=crm_id,
                        amount=float(rng.integers(1, 200)) * 1000.0,
                        stage="Closed Won",
                        is_closed=d != 2,
                        is_won=d == 0 or i % 2 == 0,
                        created=NOW - timedelta(days=800),
                        closed=closed if d != 2 else None,
                        modified=NOW,
                    )
                )
    return snapshots, opportunities


def plan_of(
    decided: Decisions, ledger: list[TaskRecord], cap: int | None, now: datetime = NOW
) -> Plan:
    targets = decided.target_plans()
    rank = {tier: i for i, tier in enumerate(("tier_1", "tier_2", "tier_3"))}
    return plan_targets(
        decided.accounts,
        targets,
        ledger,
        now,
        "all",
        tasks_per_owner_per_day=cap,
        tier_rank=rank,
    )


class Digest:
    def __init__(self) -> None:
        self.parts: dict[str, hashlib._Hash] = {}
        self.counts: dict[str, int] = {}

    def add(self, part: str, *items: object) -> None:
        if part not in self.parts:
            self.parts[part] = hashlib.sha256()
            self.counts[part] = 0
        self.parts[part].update(repr(items).encode())
        self.counts[part] += 1

    def show(self, label: str) -> None:
        for part in sorted(self.parts):
            print(f"{label} {part:<12} {self.counts[part]:>8} {self.parts[part].hexdigest()[:24]}")


def digest_run(digest: Digest, label: str, decided: Decisions, plan: Plan) -> None:
    for t in decided.targets:
        d_part = f"{label}.dec.{t.target.name}"
        for key in t.decisions:
            d = t.decisions[key]
            digest.add(d_part, key, d.tier, d.score, d.rule, d.reason, d.previous_tier, d.play)
            digest.add(d_part + "+", d.groups, d.missing_signals, d.next_tier, d.owner)
            digest.add(d_part + "+", d.points_to_next, d.margin, d.tier_label)
        digest.add(f"{label}.stats", t.result.stats, t.result.windows, t.first_run)
        digest.add(f"{label}.inputs", [(a.key, dict(a.fields)) for a in t.inputs])
    for d in decided.for_history():
        digest.add(f"{label}.history", d.key, d.tier, d.score, d.rule, d.reason)
    for a in decided.accounts:
        digest.add(f"{label}.accounts", a.key, a.records, dict(a.fields), a.manual_tier)
        digest.add(f"{label}.accounts", a.manual_tier_until, a.name, a.primary.crm_id)
    digest.add(f"{label}.overrides", sorted(decided.overrides.items()), decided.hand_edits)
    for system in sorted(plan.updates):
        for u in plan.updates[system]:
            digest.add(f"{label}.writes", system, u.crm_id, sorted(u.values.items(), key=str))
            digest.add(f"{label}.desired", plan.desired[(system, u.crm_id)])
    for c in plan.changes:
        digest.add(f"{label}.changes", c)
    digest.add(f"{label}.tasks", plan.tasks, plan.closes, plan.held, plan.deferred, plan.dropped)


def ledger_of(plan: Plan) -> list[TaskRecord]:
    statuses = ("created", "created", "pending", "deferred")
    return [
        TaskRecord(
            key=p.request.key,
            system=p.system,
            crm_task_id=f"00T{i}" if i % 4 < 2 else None,
            account_key=p.account_key,
            crm_account_id=p.request.crm_account_id,
            tier=p.tier,
            status=statuses[i % 4],
            due=date(2026, 12, 1),
        )
        for i, p in enumerate(plan.tasks + plan.deferred)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    model = load_model(ROOT / "config" / "model.yaml")
    customer = load_model(ROOT / "config" / "customer_model.yaml")
    targets = declare_targets(model, customer)
    snapshots, deals = population(args.accounts, args.seed)
    digest = Digest()

    first = decide(snapshots, {}, {}, targets, NOW, opportunities=deals)
    plan = plan_of(first, [], None)
    digest_run(digest, "run1", first, plan)

    rng = np.random.default_rng(args.seed + 1)
    since = NOW - timedelta(days=120)
    history = {
        d.key: AccountHistory(d.tier, since, (ScorePoint(NOW, d.score, d.tier),))
        for d in first.for_history()
    }
    written = plan.desired
    last_written = dict(written)
    then = NOW + timedelta(days=7)
    second_snapshots = []
    for s in snapshots:
        held = written.get((s.system, s.crm_id), s.written)
        roll = rng.random()
        if roll < 0.01:
            held = replace(held, tier="tier_1" if held.tier != "tier_1" else "tier_3")
        elif roll < 0.015:
            held = TierwiseValues()
        elif roll < 0.02:
            held = replace(held, reason=None)
        fields = s.fields
        if rng.random() < 0.02:
            fields = {**fields, "web_visits": float(rng.integers(0, 900)), "intent_score": 90.0}
        second_snapshots.append(replace(s, written=held, fields=fields))
    second = decide(second_snapshots, history, last_written, targets, then, opportunities=deals)
    plan2 = plan_of(second, ledger_of(plan), 3, then)
    digest_run(digest, "run2", second, plan2)
    digest.show(f"n={args.accounts} seed={args.seed}")


if __name__ == "__main__":
    main()
