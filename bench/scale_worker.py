"""One tierwise run in its own process, for bench/bench_scale.py to measure alone.

It does what ``tierwise run [--full]`` does - settings from the TIERWISE_* environment,
the composition root, one engine run - with one difference: the engine's clock is the
sandbox's (``--clock-offset``, seconds the sandbox clock runs ahead of this machine's),
as bench_api.py does in-process with ``clock=sb.clock.peek``. The CLI deliberately has
no clock option; the benchmark moves time an hour between phases, so the worker's
watermarks must live on the clock that stamps the CRMs' records.

    python bench/scale_worker.py provision
    python bench/scale_worker.py run --full --clock-offset 3600 --result out.json

``run`` writes the run report (JSON) to ``--result``; the exit code is the run's. Beside
it, under ``work``, what the run had to do that its report does not say and the minimum of
the best path depends on (sync/minimum.py): per CRM the related objects a Salesforce bulk
pull reads with the accounts (one Bulk 2.0 query job each), the distinct property sets
of the write set (one HubSpot import each) and the 100 MB files the Salesforce write set's
CSV fills (one Bulk 2.0 ingest job each).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tierwise.config.settings import Settings
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import provision_all, settings_from_env
from tierwise.sync.engine import Outcome
from tierwise.sync.minimum import property_sets


def settings() -> Settings:
    return settings_from_env(os.environ)


def provision() -> int:
    config = settings()
    boot.setup_logging(config, config.log_format)
    model = boot.build_model(config)
    with boot.crm_connectors(config, model) as connectors:
        provision_all(connectors, model, dry_run=False)
    return 0


def run(full: bool, offset: float, result: Path) -> int:
    config = settings()
    boot.setup_logging(config, config.log_format)
    shift = timedelta(seconds=offset)
    app = boot.bootstrap(config, clock=lambda: datetime.now(UTC) + shift)
    started = time.perf_counter()
    try:
        outcome = app.engine.run(full=full)
    finally:
        app.close()
    data = outcome.report.to_dict()
    data["seconds"] = time.perf_counter() - started
    data["work"] = work(app.engine.connectors, outcome)
    result.write_text(json.dumps(data, default=str), encoding="utf-8")
    return outcome.report.exit_code


def work(connectors: list[Any], outcome: Outcome) -> dict[str, dict[str, int]]:
    """What the minimum needs beyond the report: related objects read with the accounts
    (Salesforce: open Opportunities when deal inputs are derived, Tasks and Events for the
    activity count; Bulk 2.0 refuses subqueries and aggregates, so one job each) and the
    distinct property sets among the planned updates; Salesforce: the 100 MB ingest files
    the planned updates' CSV fills (one Bulk 2.0 job each)."""
    related: dict[str, int] = {}
    for connector in connectors:
        fields = getattr(connector, "fields", None)
        if connector.system == "salesforce" and fields is not None:
            activity = fields.activity_days(connector.settings) is not None
            related["salesforce"] = int(bool(fields.derived)) + 2 * int(activity)
    updates = outcome.plan.updates if outcome.plan is not None else {}
    files = {
        c.system: c.ingest_files(updates.get(c.system, ()))
        for c in connectors
        if hasattr(c, "ingest_files")
    }
    return {
        "related": related,
        "property_sets": {s: property_sets(u.values for u in ups) for s, ups in updates.items()},
        "upload_files": files,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("provision")
    runner = sub.add_parser("run")
    runner.add_argument("--full", action="store_true")
    runner.add_argument("--clock-offset", type=float, default=0.0)
    runner.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "provision":
        raise SystemExit(provision())
    raise SystemExit(run(args.full, args.clock_offset, args.result))


if __name__ == "__main__":
    main()
