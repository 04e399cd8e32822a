"""Worker memory benchmark: peak RSS of ``tierwise run --full``, sandbox in another process.

Run it from the repository root (not part of the test run):

    python bench/bench_memory.py                        # 20k, 50k, 100k accounts per CRM
    python bench/bench_memory.py --accounts 20000 --trace 20

For each size N it starts ``tierwise sandbox --accounts N --provisioned`` as its own
process (so the emulator's memory is not the worker's), points a fresh SQLite state
store at it and runs ``tierwise run --full`` as a child process; the worker's peak RSS
is the kernel's ``ru_maxrss`` for that child (``os.wait4``), nothing estimated.
``--rerun`` adds a second full run on the same store (tier history present).

``--phases`` runs the worker once more and prints, after each step of the run (gather,
decide, plan, the change gate, apply, record), the process's current RSS and its peak so
far: which step sets the peak (RSS, not traced allocations; no tracing overhead).

``--trace K`` runs the worker under tracemalloc instead and prints, after gather and
after decide, the K biggest allocation sites: who holds the memory. tracemalloc slows
the run and adds its own overhead, so its figures are for finding holders, not RSS.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "tierwise.sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(accounts: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``tierwise sandbox`` in its own process; the env it prints once it serves."""
    proc = subprocess.Popen(  # noqa: S603  # our own CLI, argv fixed here
        [
            *CLI,
            "sandbox",
            "--accounts",
            str(accounts),
            "--provisioned",
            "--salesforce-port",
            str(free_port()),
            "--hubspot-port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
        if line.startswith("Ctrl-C to stop"):
            return proc, env
    raise SystemExit(f"sandbox exited before serving (code {proc.wait()})")


def worker_env(sandbox_env: dict[str, str], db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
    env.update(sandbox_env)
    env["TIERWISE_DATABASE_URL"] = f"sqlite:///{db}"
    env["TIERWISE_LOG_LEVEL"] = "warning"
    return env


def run_worker(env: dict[str, str], extra: list[str]) -> tuple[int, float, int]:
    """One ``tierwise run --full`` child: (exit code, wall seconds, peak RSS in bytes)."""
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603  # our own CLI, argv fixed here
        [*CLI, "run", "--full", *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1) and proc.stderr is not None:
        sys.stderr.write(proc.stderr.read().decode()[-2000:])
    return code, wall, usage.ru_maxrss * 1024  # Linux reports kilobytes


def baseline_rss() -> int:
    """The interpreter with tierwise's run imported and nothing pulled: the fixed part."""
    code = "import tierwise.sync.cli, tierwise.sync.engine"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)  # noqa: S603  # fixed argv
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss * 1024


TRACE = """
import sys, tracemalloc
tracemalloc.start(1)
from tierwise.sync import engine as E
top = int(sys.argv[1])

def show(label):
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    cur, peak = tracemalloc.get_traced_memory()
    print(f"--- {label}: traced {cur / 1e6:.1f} MB (peak {peak / 1e6:.1f} MB)", file=sys.stderr)
    for stat in snap.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        print(f"{stat.size / 1e6:9.1f} MB {stat.count:9d}  {frame.filename}:{frame.lineno}",
              file=sys.stderr)

decide, plan, record = E.SyncEngine.decide, E.SyncEngine.plan, E.SyncEngine.record
def traced_decide(self, gathered, now):
    show("after gather")
    return decide(self, gathered, now)
def traced_plan(self, gathered, decided, now):
    show("after decide")
    return plan(self, gathered, decided, now)
def traced_record(self, *a, **k):
    show("after apply (before record)")
    return record(self, *a, **k)
E.SyncEngine.decide, E.SyncEngine.plan, E.SyncEngine.record = (
    traced_decide, traced_plan, traced_record)
from tierwise.sync.cli import main
sys.argv = ["tierwise", "run", "--full"]
main()
"""


PHASES = """
import resource, sys, time
from tierwise.sync import engine as E
started = time.monotonic()

def show(label):
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * resource.getpagesize()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{label:>8}: {time.monotonic() - started:7.1f} s  RSS {rss / 2**20:7.0f} MiB"
          f"  peak so far {peak / 2**20:7.0f} MiB", file=sys.stderr, flush=True)

def wrap(owner, name, label):
    step = getattr(owner, name)
    def timed(*args, **kwargs):
        result = step(*args, **kwargs)
        show(label)
        return result
    setattr(owner, name, timed)

for name in ("gather", "decide", "plan", "apply", "record"):
    wrap(E.SyncEngine, name, name)
# The change gate (breaker, write journal) runs between plan and apply.
from tierwise.sync.change.gate import ChangeGate
wrap(ChangeGate, "__call__", "gate")
from tierwise.sync.cli import main
sys.argv = ["tierwise", "run", "--full"]
main()
"""


def phases_worker(env: dict[str, str]) -> None:
    argv = [sys.executable, "-c", PHASES]
    subprocess.run(argv, env=env, cwd=ROOT, check=False)  # noqa: S603  # fixed argv


def trace_worker(env: dict[str, str], top: int) -> None:
    argv = [sys.executable, "-c", TRACE, str(top)]
    subprocess.run(argv, env=env, cwd=ROOT, check=False)  # noqa: S603  # fixed argv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    parser.add_argument("--rerun", action="store_true", help="a second full run (history)")
    parser.add_argument("--trace", type=int, default=0, metavar="K")
    parser.add_argument("--phases", action="store_true", help="RSS after each run step")
    args = parser.parse_args()
    base = baseline_rss()
    print(f"baseline (interpreter + tierwise imported): {base / 2**20:.0f} MiB")
    print(
        f"{'accounts/CRM':>12} {'run':>6} {'exit':>4} {'wall s':>7} {'peak RSS MiB':>12} "
        f"{'B/account':>9}"
    )
    for n in args.accounts:
        sandbox, sandbox_env = start_sandbox(n)
        try:
            with tempfile.TemporaryDirectory(prefix="tw-mem-") as tmp:
                env = worker_env(sandbox_env, Path(tmp) / "state.db")
                if args.trace:
                    trace_worker(env, args.trace)
                    continue
                if args.phases:
                    phases_worker(env)
                    continue
                runs = ["first", "second"] if args.rerun else ["first"]
                for label in runs:
                    code, wall, rss = run_worker(env, [])
                    # Both CRMs hold N accounts: bytes over the 2N records the worker read.
                    per = (rss - base) / (2 * n)
                    print(
                        f"{n:>12} {label:>6} {code:>4} {wall:>7.1f} {rss / 2**20:>12.0f} "
                        f"{per:>9.0f}",
                        flush=True,
                    )
        finally:
            sandbox.send_signal(signal.SIGINT)
            try:
                sandbox.wait(timeout=30)
            except subprocess.TimeoutExpired:
                sandbox.kill()
                sandbox.wait()


if __name__ == "__main__":
    main()
