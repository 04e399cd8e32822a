"""API-efficiency benchmark: tierwise against the sandbox, counted server-side.

Run it from the repository root (not part of the test run):

    python bench/bench_api.py                       # 1k and 10k accounts, efficiency table
    python bench/bench_api.py --accounts 1000 10000 100000

(The wall-time table against HubSpot's rate limit is ``bench/bench_wall.py``: it runs the
sandbox in its own process, as the real CRMs are.)

For each size N it seeds N companies into both emulated CRMs, provisions, and runs:

1. a full sync (every account is new to tierwise, so K = N writes),
2. a rerun with nothing changed (must make zero write calls),
3. an incremental run after an outside user edited K accounts (1 %) through the API.

Calls are counted by the sandbox's ledger (what the server received), grouped into
reads, writes, task calls and fixed per-run metadata calls, and set next to the minimum
each API allows for the data that moved: reads ceil(N / largest page), writes
ceil(K / largest batch) (or a Bulk 2.0 job's fixed calls), tasks ceil(T / largest batch).
The "naive" column is what a one-update-per-record RevOps script would spend on writes.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tierwise.sandbox import Sandbox
from tierwise.sandbox.ledger import CallRecord
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import provision_all, settings_from_env

SF_PAGE, SF_BATCH = 2000, 200
HS_PAGE, HS_SEARCH_PAGE, HS_BATCH = 100, 200, 100

# What each ledger path is, by regular expression over "METHOD path".
KINDS: tuple[tuple[str, str], ...] = (
    (r"^GET .*/query", "read"),
    (r"^(PATCH|POST) .*/composite/sobjects/Task", "task"),
    (r"^(PATCH|POST) .*/composite/sobjects$", "write"),
    (r"^(POST|PUT|PATCH|GET) .*/jobs/ingest", "bulk"),
    (r"^GET /crm/v3/objects/companies$", "read"),
    (r"^POST /crm/v3/objects/companies/search", "read"),
    (r"^POST /crm/v3/objects/companies/batch/update", "write"),
    (r"^POST /crm/v3/objects/contacts/batch/update", "write"),
    (r"^POST /crm/v3/objects/tasks/batch/(create|read)", "task"),
    (r"^POST /crm/v3/objects/tasks/search", "task"),
    (r"^PATCH /crm/v3/objects/tasks", "task"),
    (r"^POST /crm/v3/objects/tasks/batch/update", "task"),
)


def kind_of(call: CallRecord) -> str:
    text = f"{call.method} {call.path}"
    for pattern, kind in KINDS:
        if re.search(pattern, text):
            return kind
    return "meta"


@dataclass
class Phase:
    name: str
    system: str
    calls: Counter[str]
    records: Counter[str]
    minimum: dict[str, int]
    naive_writes: int
    pulled: int
    seconds: float
    status_429: int

    @property
    def data_calls(self) -> int:
        return sum(v for k, v in self.calls.items() if k != "meta")

    @property
    def min_total(self) -> int:
        return sum(self.minimum.values())


def tally(calls: Iterable[CallRecord], system: str) -> tuple[Counter[str], Counter[str], int]:
    kinds: Counter[str] = Counter()
    records: Counter[str] = Counter()
    too_many = 0
    for call in calls:
        if call.system != system:
            continue
        kind = kind_of(call)
        kinds[kind] += 1
        records[kind] += call.records
        too_many += call.status == 429
    return kinds, records, too_many


def minimum(
    system: str, *, pulled: int, full: bool, writes: int, tasks: int, bulk: bool, closed: int = 0
) -> dict[str, int]:
    if system == "salesforce":
        read = math.ceil(pulled / SF_PAGE) if pulled else 1
        # A Bulk 2.0 job: create, upload, UploadComplete, one status poll. Closing
        # superseded tasks is a Collections update on the same path as account writes.
        write = 4 if bulk and writes else math.ceil(writes / SF_BATCH)
        write += math.ceil(closed / SF_BATCH)
        return {"read": read, "write": write, "task": math.ceil(tasks / SF_BATCH)}
    page = HS_PAGE if full else HS_SEARCH_PAGE
    read = math.ceil(pulled / page) if pulled else 1
    return {
        "read": read,
        "write": math.ceil(writes / HS_BATCH),
        "task": math.ceil(tasks / HS_BATCH),
    }


def seconds_to_morning(now: datetime) -> float:
    """Seconds from ``now`` to the next 09:00 UTC."""
    morning = now.replace(hour=9, minute=0, second=0, microsecond=0)
    if morning <= now:
        morning += timedelta(days=1)
    return (morning - now).total_seconds()


def edit_accounts(sb: Sandbox, count: int) -> None:
    """An outside user edits the headcount of ``count`` accounts in both CRMs, via the APIs."""
    keys = list(sb.company_ids)[:count]
    edit_by_ids(
        [sb.company_ids[k] for k in keys],
        salesforce_url=sb.salesforce_url,
        salesforce_token=sb.salesforce_token,
        ca_file=str(sb.ca_file),
        hubspot_url=sb.hubspot_url,
        hubspot_token=sb.hubspot_token,
    )


def edit_by_ids(
    pairs: list[tuple[str, str]],
    *,
    salesforce_url: str,
    salesforce_token: str,
    ca_file: str,
    hubspot_url: str,
    hubspot_token: str,
) -> None:
    """Edit the headcount of each (Salesforce id, HubSpot id) pair through the real APIs
    (Collections update, HubSpot batch update) - a sandbox in any process will do."""
    import requests
    from hubspot import HubSpot
    from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput
    from simple_salesforce import Salesforce

    session = requests.Session()
    session.verify = ca_file
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
    sf = Salesforce(instance_url=salesforce_url, session_id=salesforce_token, session=session)
    for start in range(0, len(pairs), SF_BATCH):
        chunk = pairs[start : start + SF_BATCH]
        sf.restful(
            "composite/sobjects",
            method="PATCH",
            json={
                "allOrNone": False,
                "records": [
                    # A standard field: a stock org has no intent field.
                    {"attributes": {"type": "Account"}, "id": sf_id, "NumberOfEmployees": 5000}
                    for sf_id, _ in chunk
                ],
            },
        )
    hs = HubSpot(access_token=hubspot_token, host=hubspot_url)
    for start in range(0, len(pairs), HS_BATCH):
        chunk = pairs[start : start + HS_BATCH]
        hs.crm.companies.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    # A standard property: a stock portal has no intent property.
                    {"id": hs_id, "properties": {"numberofemployees": "5000"}}
                    for _, hs_id in chunk
                ]
            )
        )


def run_size(
    n: int, *, latency_ms: float, rate_limit: int | None, wall_only: bool, bulk_threshold: int
) -> list[Phase]:
    phases: list[Phase] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(
            accounts=n,
            seed=11,
            latency_ms=latency_ms,
            hubspot_requests_per_10s=rate_limit,
        ) as sb,
    ):
        settings = settings_from_env(
            sb.env(),
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            report_dir=str(Path(tmp) / "reports"),
            log_level="ERROR",
            log_format="json",
            # The full sync creates every play's entry tasks (the go-live default holds
            # them), so the task path is measured as before.
            backfill_tasks=True,
        )
        # The phases are an hour apart: start mid-morning on the sandbox clock so no phase
        # crosses midnight (day-granular recency signals move at day boundaries, which
        # would turn "no change" into a daily rescoring).
        sb.clock.advance(seconds_to_morning(sb.clock.peek()))
        settings.salesforce.bulk_threshold = bulk_threshold  # type: ignore[union-attr]  # sb.env() configures Salesforce, so it is set
        # Counting calls needs no pacing: lift the client-side limiter unless the wall-time
        # mode is measuring against the rate limit.
        settings.hubspot.requests_per_10s = rate_limit or 1_000_000  # type: ignore[union-attr]  # sb.env() configures HubSpot, so it is set
        boot.setup_logging(settings, "json")
        # tierwise and the CRMs share the sandbox's clock, so "an hour later" can be
        # simulated: scheduled runs are an hour apart, not seconds (the incremental
        # cursor re-reads a 5-minute lag window by design).
        app = boot.bootstrap(settings, clock=sb.clock.peek)
        try:
            provision_all(app.connectors, app.model, dry_run=False)
            steps = [("full sync", True, 0), ("1h later, no change", False, 0)]
            if not wall_only:
                steps.append(("1h later, 1% edited", False, max(1, n // 100)))
            else:
                steps = steps[:1]
            for position, (name, full, edits) in enumerate(steps):
                if position:
                    sb.clock.advance(3600)
                if edits:
                    edit_accounts(sb, edits)
                sb.reset_calls()
                started = time.perf_counter()
                outcome = app.engine.run(full=full)
                elapsed = time.perf_counter() - started
                report = outcome.report
                if report.status != "ok":
                    raise SystemExit(f"{name} at N={n}: run {report.status}: {report.message}")
                calls = sb.calls
                for system in ("salesforce", "hubspot"):
                    kinds, records, too_many = tally(calls, system)
                    writes = report.writes.get(system, 0)
                    tasks = report.tasks_created.get(system, 0)
                    phases.append(
                        Phase(
                            name=name,
                            system=system,
                            calls=kinds,
                            records=records,
                            minimum=minimum(
                                system,
                                pulled=report.pulled.get(system, 0),
                                full=full,
                                writes=writes,
                                tasks=tasks,
                                bulk=writes > bulk_threshold,
                                # Play tasks live in the primary CRM.
                                closed=report.tasks_closed if system == settings.primary else 0,
                            ),
                            naive_writes=writes,
                            pulled=report.pulled.get(system, 0),
                            seconds=elapsed,
                            status_429=too_many,
                        )
                    )
        finally:
            app.close()
    return phases


def efficiency_table(rows: list[tuple[int, Phase]]) -> str:
    head = (
        f"{'N':>7} {'phase':<24} {'system':<10} {'pulled':>7} {'reads':>9} {'writes':>9} "
        f"{'tasks':>9} "
        f"{'data':>6} {'min':>6} {'ratio':>6} {'meta':>5} {'naive':>7} {'429s':>5}"
    )
    lines = [head, "-" * len(head)]
    for n, p in rows:
        ratio = p.data_calls / p.min_total if p.min_total else float("nan")

        def cell(kind: str, p: Phase = p) -> str:
            made = p.calls.get(kind, 0) + (p.calls.get("bulk", 0) if kind == "write" else 0)
            return f"{made}/{p.minimum[kind]}"

        naive = p.minimum["read"] + p.naive_writes
        lines.append(
            f"{n:>7} {p.name:<24} {p.system:<10} {p.pulled:>7} {cell('read'):>9} "
            f"{cell('write'):>9} "
            f"{cell('task'):>9} {p.data_calls:>6} {p.min_total:>6} {ratio:>6.2f} "
            f"{p.calls.get('meta', 0):>5} {naive:>7} {p.status_429:>5}"
        )
    lines.append(
        "cells are made/minimum; data = reads+writes+tasks; meta = fixed per-run "
        "describe/properties/limits calls; naive = reads + one update call per record"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--wall", action="store_true", help="moved to bench/bench_wall.py")
    parser.add_argument("--bulk-threshold", type=int, default=10_000)
    args = parser.parse_args()
    if args.wall:
        raise SystemExit(
            "the wall-time table moved to bench/bench_wall.py, which runs the sandbox in its "
            "own process: python bench/bench_wall.py --accounts 10000 100000"
        )
    rows: list[tuple[int, Phase]] = []
    for n in args.accounts:
        started = time.perf_counter()
        phases = run_size(
            n,
            latency_ms=0,
            rate_limit=None,
            wall_only=False,
            bulk_threshold=args.bulk_threshold,
        )
        rows.extend((n, p) for p in phases)
        print(f"N={n}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(efficiency_table(rows))


if __name__ == "__main__":
    main()
