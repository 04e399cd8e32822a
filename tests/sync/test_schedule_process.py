# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""``tierwise schedule`` as a process: metrics served, SIGTERM ends it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_schedule_serves_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with provisioned(Sandbox(accounts=10, seed=5)) as sb:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
        env.update(sb.env())
        env.update(
            {
                "TIERWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
                "TIERWISE_REPORT_DIR": str(tmp_path / "reports"),
                "TIERWISE_SCHEDULE__METRICS_PORT": str(port),
                "TIERWISE_SCHEDULE__FULL_CRON": "0 3 1 1 *",
                "TIERWISE_SCHEDULE__INCREMENTAL_CRON": "0 3 1 1 *",
            }
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tierwise.sync.cli import main; main()", "schedule"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            body = ""
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "tierwise_runs" not in body:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                        body = r.read().decode()
                except OSError:
                    time.sleep(0.2)
            assert "tierwise_runs" in body
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert 0 == proc.returncode, err
    assert "schedule.stopping" in err
