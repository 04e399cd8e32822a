"""Scale benchmark: the worker alone against a sandbox in its own process (issue 15).

    python bench/bench_scale.py --accounts 100000 1000000

For each size N it starts ``tierwise sandbox --accounts N --test-controls`` as a child
process (its memory is not the worker's), provisions, then runs the worker once per
phase, each in a fresh process (bench/scale_worker.py: ``tierwise run`` on the
sandbox's clock): a full sync; an hour later, nothing changed; an hour later, after an
outside user edited 1 % of the companies through the APIs. The phases reuse
bench_api.py's (morning start on the sandbox clock, entry tasks backfilled, the same
edit); the sandbox clock moves through its test-only controls (sandbox/control.py).

Per phase and CRM it prints: wall time, the worker's peak RSS (``os.wait4`` rusage of
the child), calls per path as the sandbox received them next to the minimum of the best
path the API offers for that volume (sync/minimum.py ``read_minimum`` /
``write_minimum`` / ``task_minimum``), and 429s. A phase is stopped at ``--timeout``
minutes, and everything stops if the machine's available memory falls under
``--min-free-gb``; both are reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import edit_by_ids, seconds_to_morning  # noqa: E402 - after the path setup
from processes import (  # noqa: E402 - after the path setup
    MB,
    Control,
    MemoryWatch,
    peak_rss_mb,
    run_child,
    start_sandbox,
    worker_env,
)

from tierwise.sync.minimum import (  # noqa: E402 - after the path setup
    read_minimum,
    task_minimum,
    write_minimum,
)

# Ledger "METHOD path" -> (kind, path label). First match wins.
PATHS: tuple[tuple[str, str, str], ...] = (
    (r"^GET .*/jobs/query", "read", "bulk2 query"),
    (r"^(POST|PATCH|DELETE) .*/jobs/query", "read", "bulk2 query"),
    (r"^GET .*/query", "read", "rest query"),
    (r"^(PATCH|POST) .*/composite/sobjects/Task", "task", "tasks"),
    (r"^(PATCH|POST) .*/composite/sobjects$", "write", "collections"),
    (r"^(POST|PUT|PATCH|GET|DELETE) .*/jobs/ingest", "write", "bulk2 ingest"),
    (r"^GET /crm/v3/objects/companies$", "read", "list"),
    (r"^POST /crm/v3/objects/companies/search", "read", "search"),
    (r"^(POST|GET) /crm/v3/exports", "read", "export"),
    (r"^GET /sandbox-files/exports", "read", "export"),
    (r"^POST /crm/v3/objects/(companies|contacts)/batch/update", "write", "batch"),
    (r"^(POST|GET) /crm/v3/imports", "write", "import"),
    (r"^POST /crm/v3/objects/tasks/batch/(create|read|update)", "task", "tasks"),
    (r"^POST /crm/v3/objects/tasks/search", "task", "tasks"),
    (r"^PATCH /crm/v3/objects/tasks", "task", "tasks"),
)
KINDS = ("read", "write", "task")
# Async job requests told apart (bench notes): which of a job's calls went over its minimum.
JOB_STEPS: tuple[tuple[str, str], ...] = (
    (r"^GET .*/jobs/(ingest|query)/[^/]+/(results|successfulResults|failedResults)", "results"),
    (r"^GET .*/jobs/(ingest|query)/[^/]+$", "status"),
    (r"^PUT .*/jobs/ingest/[^/]+/batches", "upload"),
    (r"^PATCH .*/jobs/(ingest|query)/[^/]+$", "close"),
    (r"^POST .*/jobs/(ingest|query)$", "create"),
    (r"^GET /crm/v3/imports/[^/]+/errors", "errors"),
    (r"^GET /crm/v3/(imports|exports)/[^/]+", "status"),
    (r"^POST /crm/v3/(imports|exports)", "create"),
    (r"^GET /sandbox-files/exports", "download"),
)
# Status reads of every async job before it reports done, as the sandbox this benchmark
# starts answers them: its default bulk_poll_steps / export_poll_steps / import_poll_steps
# of 1 answer the first read InProgress/PROCESSING (the server's processing time, a guess
# listed in sandbox/README.md), so no client sees a job done in fewer than two reads.
SANDBOX_STATUS_READS = 2
# Salesforce Task closes read the org's closed TaskStatus (once per worker process:
# TaskStatus rows are org-specific) and the tasks' Descriptions (one query per 200: the
# close note is appended, and the API has no append), both as REST queries.
TASK_STATUS_READS = 1


def path_of(method: str, path: str) -> tuple[str, str]:
    text = f"{method} {path}"
    for pattern, kind, label in PATHS:
        if re.search(pattern, text):
            return kind, label
    return "meta", "meta"


def job_step(method: str, path: str) -> str | None:
    text = f"{method} {path}"
    return next((step for pattern, step in JOB_STEPS if re.search(pattern, text)), None)


@dataclass
class Row:
    n: int
    phase: str
    system: str
    status: str
    seconds: float
    worker_mb: float
    pulled: int = 0
    made: dict[str, Counter[str]] = field(default_factory=dict)
    best: dict[str, Counter[str]] = field(default_factory=dict)
    rest_minimum: int = 0
    meta: int = 0
    too_many: int = 0
    # Async jobs' calls by step ("bulk2 ingest status" ...), for the notes.
    steps: Counter[str] = field(default_factory=Counter)

    def cell(self, kind: str) -> str:
        def text(paths: Counter[str]) -> str:
            return " ".join(f"{label} {n}" for label, n in sorted(paths.items()) if n) or "0"

        return f"{text(self.made.get(kind, Counter()))} / {text(self.best[kind])}"

    @property
    def ratio(self) -> float:
        made = sum(sum(c.values()) for c in self.made.values())
        minimum = sum(sum(c.values()) for c in self.best.values())
        return made / minimum if minimum else float("nan")

    @property
    def rest_ratio(self) -> float:
        made = sum(sum(c.values()) for c in self.made.values())
        return made / self.rest_minimum if self.rest_minimum else float("nan")


def run_size(n: int, args: argparse.Namespace, watch: MemoryWatch) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    started = time.perf_counter()
    sandbox, sb_env, seeded = start_sandbox(n, args.seed, watch, args.timeout * 60)
    notes.append(f"N={n}: sandbox ({seeded}), ready {time.perf_counter() - started:.1f} s")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            # Counting calls needs no pacing: lift the client-side limiter.
            env = worker_env(sb_env, Path(tmp), hubspot_per_10s=1_000_000)
            env.update(item.split("=", 1) for item in args.set)
            control = Control(
                sb_env["TIERWISE_HUBSPOT__BASE_URL"], sb_env["TIERWISE_HUBSPOT__ACCESS_TOKEN"]
            )
            code, _, _, note = run_child(["provision"], env, watch, args.timeout * 60)
            if code:
                raise SystemExit(f"provision at N={n} failed ({code}) {note}")
            control.advance(seconds_to_morning(control.now()))
            steps = [("full sync", True, 0), ("1h later, no change", False, 0)]
            steps.append(("1h later, 1% edited", False, max(1, n // 100)))
            steps = steps[: args.phases]
            for position, (name, full, edits) in enumerate(steps):
                if position:
                    control.advance(3600)
                if edits:
                    edit_by_ids(
                        control.ids(edits),
                        salesforce_url=sb_env["TIERWISE_SALESFORCE__INSTANCE_URL"],
                        salesforce_token=sb_env["TIERWISE_SALESFORCE__ACCESS_TOKEN"],
                        ca_file=sb_env["TIERWISE_SALESFORCE__CA_BUNDLE"],
                        hubspot_url=sb_env["TIERWISE_HUBSPOT__BASE_URL"],
                        hubspot_token=sb_env["TIERWISE_HUBSPOT__ACCESS_TOKEN"],
                    )
                control.reset()
                offset = (control.now() - datetime.now(control.now().tzinfo)).total_seconds()
                result = Path(tmp) / f"phase{position}.json"
                child = ["run", "--clock-offset", f"{offset:.3f}", "--result", str(result)]
                code, seconds, worker_mb, note = run_child(
                    [*child, "--full"] if full else child, env, watch, args.timeout * 60
                )
                report: dict[str, Any] = (
                    json.loads(result.read_text(encoding="utf-8")) if result.exists() else {}
                )
                status = report.get("status", f"exit {code}")
                if note:
                    notes.append(f"N={n} {name}: {note}")
                calls = control.calls()
                for system in ("salesforce", "hubspot"):
                    rows.append(
                        tally(n, name, system, status, seconds, worker_mb, full, report, calls)
                    )
                for row in rows[-2:]:
                    if row.steps:
                        made = ", ".join(f"{k} {v}" for k, v in sorted(row.steps.items()))
                        notes.append(f"N={n} {name} {row.system} async job calls: {made}")
                # A failed record's error is in the report, which goes with the temporary
                # folder: quoted here, so a partial run says which records and why.
                for error in report.get("errors", [])[:10]:
                    notes.append(f"N={n} {name}: error {json.dumps(error, default=str)[:300]}")
                if note or status != "ok":
                    notes.append(f"N={n} {name}: run {status} {report.get('message', '')}".strip())
                    if status != "partial":
                        break
    finally:
        sandbox_mb = peak_rss_mb(sandbox.pid)
        sandbox.terminate()
        try:
            sandbox.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()
        watch.pids.discard(sandbox.pid)
        notes.append(f"N={n}: sandbox process peak RSS {sandbox_mb:.0f} MB")
    return rows, notes


def tally(
    n: int,
    name: str,
    system: str,
    status: str,
    seconds: float,
    worker_mb: float,
    full: bool,
    report: dict[str, Any],
    calls: list[list[Any]],
) -> Row:
    row = Row(n, name, system, status, seconds, worker_mb)
    row.made = {kind: Counter() for kind in KINDS}
    for call_system, method, path, _records, code in calls:
        if call_system != system:
            continue
        kind, label = path_of(method, path)
        row.too_many += code == 429
        if kind == "meta":
            row.meta += 1
        else:
            row.made[kind][label] += 1
            step = job_step(method, path)
            if step is not None:
                row.steps[f"{label} {step}"] += 1
    pulled = int(report.get("pulled", {}).get(system, 0))
    writes = int(report.get("writes", {}).get(system, 0))
    tasks = int(report.get("tasks_created", {}).get(system, 0))
    closed = int(report.get("tasks_closed", 0)) if system == "salesforce" else 0
    work = report.get("work", {})
    row.pulled = pulled
    # Rows the related jobs returned (results pages beyond the accounts'), all priced as
    # one object's: the fewest pages those rows can take. Without a bulk read: unknown, so
    # one page per related job (the floor).
    bulk_rows = sum(
        r
        for s_, m, p, r, _c in calls
        if s_ == system and m == "GET" and re.search(r"/jobs/query/[^/]+/results", p)
    )
    related = [0] * int(work.get("related", {}).get(system, 0))
    if related and bulk_rows > pulled:
        related[0] = bulk_rows - pulled
    sets = int(work.get("property_sets", {}).get(system, 1) or 1)
    files = int(work.get("upload_files", {}).get(system, 1) or 1)
    reads = SANDBOX_STATUS_READS
    read = read_minimum(system, pulled, full=full, related=related, status_reads=reads)
    write = write_minimum(
        system, writes, property_sets=sets, upload_files=files, status_reads=reads
    )
    # Closing superseded tasks: a Collections update per 200 (as bench_api counts it), and
    # on Salesforce the TaskStatus and Description reads before it.
    close = write_minimum(system, closed, bulk=False)
    task = task_minimum(system, tasks)
    row.best = {kind: Counter() for kind in KINDS}
    row.best["read"][read.path] += read.calls
    row.best["write"][write.path] += write.calls
    row.best["write"][close.path] += close.calls
    if closed:
        row.best["read"]["rest query"] += TASK_STATUS_READS + close.calls
    row.best["task"][task.path] += task.calls
    row.rest_minimum = (
        read_minimum(system, pulled, full=full, bulk=False).calls
        + write_minimum(system, writes, bulk=False).calls
        + close.calls
        + task.calls
        + ((TASK_STATUS_READS + close.calls) if closed else 0)
    )
    return row


def table(rows: list[Row]) -> str:
    head = (
        f"{'N':>8} {'phase':<20} {'system':<10} {'status':<7} {'wall s':>7} {'worker MB':>9} "
        f"{'pulled':>8}  {'reads made / best-path min':<34} {'writes made / min':<30} "
        f"{'tasks made / min':<20} {'ratio':>6} {'rest r':>6} {'meta':>4} {'429s':>4}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        # A stopped run has no report: its call counts stand, its minimum does not.
        ok = r.status == "ok"
        ratios = f"{r.ratio:>6.2f} {r.rest_ratio:>6.2f}" if ok else f"{'-':>6} {'-':>6}"
        lines.append(
            f"{r.n:>8} {r.phase:<20} {r.system:<10} {r.status:<7} {r.seconds:>7.1f} "
            f"{r.worker_mb:>9.0f} {r.pulled:>8}  {r.cell('read'):<34} {r.cell('write'):<30} "
            f"{r.cell('task'):<20} {ratios} {r.meta:>4} {r.too_many:>4}"
        )
    lines.append(
        "wall s and worker MB: the whole run of both CRMs (one worker process per phase; "
        "peak RSS from its rusage). Cells: calls per path the sandbox received / the best "
        "path the API offers for that volume and its minimum (sync/report.py; async jobs "
        f"priced at the sandbox's {SANDBOX_STATUS_READS} status reads). ratio = all "
        "data calls / the sum of minima; rest r = the same against the paged REST/batch paths "
        "alone (bench_api.py's minimum); meta = describe/properties/limits calls."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=20.0, help="minutes per phase")
    parser.add_argument("--min-free-gb", type=float, default=4.0)
    parser.add_argument(
        "--phases", type=int, choices=(1, 2, 3), default=3, help="run the first 1, 2 or 3 phases"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="TIERWISE_NAME=VALUE",
        help="a setting for the worker, e.g. TIERWISE_HUBSPOT__EXPORT_THRESHOLD=50000",
    )
    args = parser.parse_args()
    # A shared machine: the benchmark and every process it starts run at nice 10.
    os.nice(10)
    watch = MemoryWatch(args.min_free_gb)
    rows: list[Row] = []
    notes: list[str] = []
    try:
        for n in args.accounts:
            if watch.tripped:
                break
            try:
                size_rows, size_notes = run_size(n, args, watch)
            except (SystemExit, OSError, ValueError, KeyError) as exc:
                notes.append(f"N={n}: stopped: {exc}")
                continue
            rows.extend(size_rows)
            notes.extend(size_notes)
            print(table(size_rows), file=sys.stderr, flush=True)
    finally:
        watch.close()
    print(table(rows))
    for note in notes:
        print(note)
    print(f"lowest available memory seen: {watch.lowest / MB / 1024:.1f} GB")


if __name__ == "__main__":
    main()
