"""Wall time of a full sync against HubSpot's rate-limit bound, sandbox in its own process.

Run it from the repository root (not part of the test run):

    python bench/bench_wall.py                          # 10k and 100k accounts per CRM
    python bench/bench_wall.py --accounts 10000 --latency-ms 80 --rate-limit 100

For each size N it starts ``tierwise sandbox --accounts N --test-controls --latency-ms L
--hubspot-rate-limit R`` as its own process (every answer delayed by L ms; HubSpot
answers 429 past R requests per rolling 10 s), provisions, and runs one full sync in a
fresh worker process (``bench/scale_worker.py``) whose HubSpot client paces itself at R
per 10 s, as a deployment would. The sandbox and the worker each have their own
interpreter: the in-process variant (bench_api.py before 2026-12-01) measured the two
sharing one GIL, which the real CRMs never do.

The bound is what HubSpot's limit and the latency impose on the calls actually made:
call k (1-based) cannot leave before 10 s x floor((k - 1) / R), and a client that waits
for each answer also needs calls x L. The wall time is the engine's run (the report's
``seconds``: lock to report), not the worker's interpreter start.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import seconds_to_morning  # the bench folder is on the path
from processes import (
    Control,
    MemoryWatch,
    peak_rss_mb,
    run_child,
    wait_until_serving,
    worker_env,
)

ROOT = Path(__file__).resolve().parents[1]


def start_sandbox(
    n: int, latency_ms: float, rate_limit: int, watch: MemoryWatch
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [sys.executable, "-m", "tierwise.sync", "sandbox", "--accounts", str(n)]
    command += ["--seed", "11", "--salesforce-port", "0", "--hubspot-port", "0"]
    command += ["--test-controls", "--latency-ms", str(latency_ms)]
    command += ["--hubspot-rate-limit", str(rate_limit)]
    proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    watch.pids.add(proc.pid)
    try:
        env, _seeded = wait_until_serving(proc, n, 1800)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, env


def control_of(sb_env: dict[str, str]) -> Control:
    return Control(sb_env["TIERWISE_HUBSPOT__BASE_URL"], sb_env["TIERWISE_HUBSPOT__ACCESS_TOKEN"])


def measure(
    n: int,
    *,
    latency_ms: float,
    rate_limit: int,
    bulk_threshold: int | None,
    watch: MemoryWatch,
    split: bool = False,
) -> list[dict[str, Any]]:
    """One full sync at N; a row per CRM: calls, 429s, wall, bound, worker peak MB.

    ``split``: each CRM is served by a sandbox process of its own (same seed, so the
    same companies), as the real Salesforce and HubSpot are two servers: in one sandbox
    process, building a Bulk API result page of 50,000 rows holds that process's
    interpreter while HubSpot's answers wait behind it."""
    sandboxes = [start_sandbox(n, latency_ms, rate_limit, watch)]
    if split:
        sandboxes.append(start_sandbox(n, latency_ms, rate_limit, watch))
    sf_env, hs_env = sandboxes[0][1], sandboxes[-1][1]
    sb_env = {k: v for k, v in sf_env.items() if not k.startswith("TIERWISE_HUBSPOT__")}
    sb_env.update((k, v) for k, v in hs_env.items() if k.startswith("TIERWISE_HUBSPOT__"))
    controls = [control_of(env) for _proc, env in sandboxes]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-wall-") as tmp:
            env = worker_env(sb_env, Path(tmp), hubspot_per_10s=rate_limit)
            if bulk_threshold is not None:
                env["TIERWISE_SALESFORCE__BULK_THRESHOLD"] = str(bulk_threshold)
            code, _, _, note = run_child(["provision"], env, watch, 3600)
            if code:
                raise SystemExit(f"provision at N={n} failed ({code}) {note}")
            morning = seconds_to_morning(controls[-1].now())
            for control in controls:
                control.advance(morning)
            # A fresh 10-second window: provisioning's calls are not the sync's.
            time.sleep(10)
            for control in controls:
                control.reset()
            now = controls[-1].now()
            offset = (now - datetime.now(now.tzinfo)).total_seconds()
            result = Path(tmp) / "full.json"
            child = ["run", "--full", "--clock-offset", f"{offset:.3f}", "--result", str(result)]
            code, _seconds, worker_mb, note = run_child(child, env, watch, 7200)
            report: dict[str, Any] = (
                json.loads(result.read_text(encoding="utf-8")) if result.exists() else {}
            )
            if report.get("status") != "ok":
                raise SystemExit(f"full sync at N={n}: {report.get('status', code)} {note}")
            # Salesforce's calls from the first sandbox, HubSpot's from the last.
            calls = [c for c in controls[0].calls() if c[0] == "salesforce"]
            calls += [c for c in controls[-1].calls() if c[0] == "hubspot"]
    finally:
        sandbox_mb = 0.0
        for sandbox, _env in sandboxes:
            sandbox_mb += peak_rss_mb(sandbox.pid)
            sandbox.terminate()
            sandbox.wait(timeout=60)
            watch.pids.discard(sandbox.pid)
    wall = float(report["seconds"])
    hs_calls = sum(1 for c in calls if c[0] == "hubspot")
    rate_bound = 10.0 * ((hs_calls - 1) // rate_limit) if hs_calls else 0.0
    bound = max(rate_bound, hs_calls * latency_ms / 1000.0)
    rows = []
    for system in ("salesforce", "hubspot"):
        mine = [c for c in calls if c[0] == system]
        rows.append(
            {
                "n": n,
                "system": system,
                "calls": len(mine),
                "429s": sum(1 for c in mine if c[4] == 429),
                "wall": wall,
                "bound": bound,
                "worker_mb": worker_mb,
                "sandbox_mb": sandbox_mb,
                "steps": report.get("step_seconds", {}),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--rate-limit", type=int, default=100, help="HubSpot requests per 10 s")
    parser.add_argument("--bulk-threshold", type=int, default=None, help="Salesforce writes")
    parser.add_argument(
        "--split-sandbox",
        action="store_true",
        help="serve each CRM from a sandbox process of its own (two servers, as in production)",
    )
    args = parser.parse_args()
    watch = MemoryWatch(2.0)
    print(
        f"{'N':>7} {'system':<10} {'calls':>6} {'429s':>5} {'wall s':>8} {'bound s':>8} "
        f"{'ratio':>6} {'worker MB':>9}",
        flush=True,
    )
    try:
        for n in args.accounts:
            for r in measure(
                n,
                latency_ms=args.latency_ms,
                rate_limit=args.rate_limit,
                bulk_threshold=args.bulk_threshold,
                watch=watch,
                split=args.split_sandbox,
            ):
                ratio = r["wall"] / r["bound"] if r["bound"] else float("nan")
                print(
                    f"{r['n']:>7} {r['system']:<10} {r['calls']:>6} {r['429s']:>5} "
                    f"{r['wall']:>8.1f} {r['bound']:>8.1f} {ratio:>6.2f} {r['worker_mb']:>9.0f}",
                    flush=True,
                )
            steps = " ".join(f"{k} {v:.1f}" for k, v in r["steps"].items())
            print(f"{'':>7} steps (s): {steps}", flush=True)
    finally:
        watch.close()
    print(
        f"bound = max(10 s x floor((HubSpot calls - 1) / {args.rate_limit}), HubSpot calls x "
        f"{args.latency_ms:.0f} ms); wall = the full sync of both CRMs (engine run, worker "
        "process; the sandbox in its own process"
        + (", one per CRM)" if args.split_sandbox else ", both CRMs in one)")
    )


if __name__ == "__main__":
    main()
