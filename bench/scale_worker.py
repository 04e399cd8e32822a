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
    """What the minimum needs beyond the row counts, as the run report priced it
    (sync/ledger.py): the related objects each connector read with the accounts (one
    Bulk 2.0 query job each), the ingest files its writes filled (one job each) and the
    distinct property sets among the planned updates (one HubSpot import each)."""
    usage = {c.system: c.usage() for c in connectors}
    return {
        "related": {s: u.related_reads for s, u in usage.items() if u.related_reads},
        "property_sets": dict(outcome.report.property_sets),
        "upload_files": {s: u.bulk_files for s, u in usage.items() if u.bulk_files},
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
