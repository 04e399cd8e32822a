"""The benchmarks' child processes: a sandbox in its own process, a worker run, a memory
watch, and the sandbox's test-only controls over HTTP.

``bench_scale.py`` and ``bench_wall.py`` both measure the worker alone, so each starts the
sandbox as a process of its own (``tierwise sandbox --test-controls``) and each worker run
as another (``bench/scale_worker.py``), whose peak RSS is the kernel's figure for that
process. What they share is here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


class Control:
    """The sandbox's test-only controls (sandbox/control.py) over HTTP."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base.rstrip("/") + "/__sandbox/"
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback http to our own sandbox
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as answer:  # noqa: S310 - loopback
            return json.loads(answer.read())

    def now(self) -> datetime:
        return datetime.fromisoformat(self.call("GET", "clock")["now"])

    def advance(self, seconds: float) -> None:
        self.call("POST", "clock/advance", {"seconds": seconds})

    def reset(self) -> None:
        self.call("POST", "calls/reset", {})

    def calls(self) -> list[list[Any]]:
        return list(self.call("GET", "calls")["calls"])

    def ids(self, count: int) -> list[tuple[str, str]]:
        return [(a, b) for a, b in self.call("GET", f"companies?count={count}")["ids"]]


class MemoryWatch:
    """Stops the benchmark's children when available memory drops under a floor."""

    def __init__(self, floor_gb: float) -> None:
        self.floor = floor_gb * 1024 * MB
        self.pids: set[int] = set()
        self.tripped = ""
        self.lowest = float("inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @staticmethod
    def available() -> float:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
        return float("inf")

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            free = self.available()
            self.lowest = min(self.lowest, free)
            if free < self.floor and not self.tripped:
                self.tripped = f"available memory {free / MB / 1024:.1f} GB < floor"
                for pid in list(self.pids):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        self._stop.set()


def proc_mb(pid: int, key: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in MB (nan once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return float("nan")
    found = re.search(rf"{key}:\s+(\d+) kB", text)
    return int(found.group(1)) / 1024 if found else float("nan")


def peak_rss_mb(pid: int) -> float:
    return proc_mb(pid, "VmHWM")


def start_sandbox(
    n: int, seed: int, watch: MemoryWatch, timeout: float
) -> tuple[subprocess.Popen[str], dict[str, str], str]:
    """``tierwise sandbox`` in its own process; returns it, its TIERWISE_* env, and its
    "seeded" line, once it prints that it serves."""
    command = [sys.executable, "-m", "tierwise.sync", "sandbox", "--accounts", str(n)]
    command += ["--seed", str(seed), "--salesforce-port", "0", "--hubspot-port", "0"]
    command += ["--test-controls"]
    proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    watch.pids.add(proc.pid)
    try:
        return proc, *wait_until_serving(proc, n, timeout)
    except BaseException:
        proc.kill()  # interrupted or timed out while seeding: leave no sandbox behind
        proc.wait()
        watch.pids.discard(proc.pid)
        raise


def wait_until_serving(
    proc: subprocess.Popen[str], n: int, timeout: float
) -> tuple[dict[str, str], str]:
    env: dict[str, str] = {}
    seeded = ""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        if time.monotonic() > deadline:
            raise SystemExit(f"sandbox at N={n} did not start within {timeout:.0f} s")
        found = re.match(r"\s*export (TIERWISE_\w+)=(.*)$", line)
        if found:
            env[found.group(1)] = found.group(2).strip().strip("'")
        if "seeded and serving" in line:
            seeded = line.strip()
        if line.startswith("Ctrl-C"):
            return env, seeded
    raise SystemExit(f"sandbox at N={n} exited while starting (exit {proc.wait()})")


def run_child(
    args: list[str], env: dict[str, str], watch: MemoryWatch, timeout: float
) -> tuple[int, float, float, str]:
    """Run one worker process; (exit status, wall seconds, peak RSS MB, note)."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own bench script, fixed arguments
        [sys.executable, str(ROOT / "bench" / "scale_worker.py"), *args],
        env=env,
        cwd=ROOT,
    )
    watch.pids.add(proc.pid)
    note = ""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - started > timeout:
            proc.kill()
            note = f"stopped at the {timeout / 60:.0f}-minute timeout"
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it, not Popen
    watch.pids.discard(proc.pid)
    if watch.tripped:
        note = f"killed: {watch.tripped}"
    # Linux: ru_maxrss in KiB; the worker's own peak (the sandbox is another process).
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, note


def worker_env(sb_env: dict[str, str], tmp: Path, *, hubspot_per_10s: int) -> dict[str, str]:
    """A worker's environment: this machine's minus any TIERWISE_*, the sandbox's, a
    fresh SQLite store and report folder under ``tmp``, and the entry tasks created (as
    bench_api: the full sync creates the plays' entry tasks)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
    env.update(sb_env)
    env.update(
        {
            "TIERWISE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "TIERWISE_REPORT_DIR": str(tmp / "reports"),
            "TIERWISE_LOG_LEVEL": "ERROR",
            "TIERWISE_LOG_FORMAT": "json",
            "TIERWISE_BACKFILL_TASKS": "true",
            "TIERWISE_HUBSPOT__REQUESTS_PER_10S": str(hubspot_per_10s),
        }
    )
    return env
