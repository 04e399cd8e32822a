"""The sandbox's own memory budget at scale (issue 15): seed, then serve full pulls.

    python bench/bench_sandbox.py --accounts 100000 1000000

For each size N it starts ``tierwise sandbox --accounts N --provisioned --test-controls``
as a child process and records its seeding time and resident memory, then drives the
reads a worker's full sync makes of everything, over plain HTTP (no tierwise connector,
so this process stays small and the sandbox is the only large one):

- a Salesforce Bulk API 2.0 query job over every Account field, all result sets read;
- a Salesforce REST ``query`` + every ``queryMore`` page (2,000 rows) of the same;
- a HubSpot CRM export of every company property (the clock moved through the
  test-only controls so the export completes), the file downloaded;
- optionally (``--hubspot-list``) the companies list endpoint, 100 per page.

After each step it prints the sandbox's current RSS (``VmRSS``) and its peak so far
(``VmHWM``), both from ``/proc``. It kills the sandbox if its RSS passes ``--max-gb``.
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from processes import proc_mb  # the bench folder is on the path (a script's own folder)

ROOT = Path(__file__).resolve().parents[1]
VERSION = "59.0"


class Guard:
    """Kills the sandbox when its RSS passes a ceiling (a shared machine)."""

    def __init__(self, pid: int, ceiling_gb: float) -> None:
        self.pid, self.ceiling = pid, ceiling_gb * 1024
        self.tripped = False
        self._stop = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            if proc_mb(self.pid, "VmRSS") > self.ceiling:
                self.tripped = True
                subprocess.run(["kill", "-9", str(self.pid)], check=False)  # noqa: S603, S607
                return

    def close(self) -> None:
        self._stop.set()


class Http:
    """Just enough of both APIs over urllib (Salesforce over the sandbox's TLS CA)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.sf = env["TIERWISE_SALESFORCE__INSTANCE_URL"].rstrip("/")
        self.sf_token = env["TIERWISE_SALESFORCE__ACCESS_TOKEN"]
        self.hs = env["TIERWISE_HUBSPOT__BASE_URL"].rstrip("/")
        self.hs_token = env["TIERWISE_HUBSPOT__ACCESS_TOKEN"]
        self.tls = ssl.create_default_context(cafile=env["TIERWISE_SALESFORCE__CA_BUNDLE"])

    def call(
        self, method: str, url: str, body: Any = None, *, token: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        context = self.tls if url.startswith("https") else None
        with urllib.request.urlopen(request, timeout=900, context=context) as answer:  # noqa: S310
            return answer.read(), dict(answer.headers)

    def sf_json(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.sf}/services/data/v{VERSION}/{path.lstrip('/')}"
        return json.loads(self.call(method, url, body, token=self.sf_token)[0] or b"null")

    def hs_json(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self.call(method, self.hs + path, body, token=self.hs_token)[0])


def account_fields(http: Http) -> list[str]:
    described = http.sf_json("GET", "sobjects/Account/describe")
    return [f["name"] for f in described["fields"]]


def all_accounts(http: Http) -> str:
    """SOQL for every Account field the API user sees (names from describe, not input)."""
    return f"SELECT {', '.join(account_fields(http))} FROM Account"  # noqa: S608


def sf_bulk_query(http: Http, n: int) -> int:
    soql = all_accounts(http)
    job = http.sf_json("POST", "jobs/query", {"operation": "query", "query": soql})
    while job["state"] != "JobComplete":
        job = http.sf_json("GET", f"jobs/query/{job['id']}")
    rows, locator = 0, ""
    while locator != "null":
        suffix = f"?locator={locator}" if locator else ""
        url = f"{http.sf}/services/data/v{VERSION}/jobs/query/{job['id']}/results{suffix}"
        _, headers = http.call("GET", url, token=http.sf_token)
        rows += int(headers["Sforce-NumberOfRecords"])
        locator = headers["Sforce-Locator"]
    return rows


def sf_rest_query(http: Http, n: int) -> int:
    soql = all_accounts(http)
    page = http.sf_json("GET", "query/?q=" + urllib.request.quote(soql))
    rows = len(page["records"])
    while not page["done"]:
        url = http.sf + page["nextRecordsUrl"]
        page = json.loads(http.call("GET", url, token=http.sf_token)[0])
        rows += len(page["records"])
    return rows


def hs_export(http: Http, n: int) -> int:
    names = [p["name"] for p in http.hs_json("GET", "/crm/v3/properties/companies")["results"]]
    body = {
        "exportType": "VIEW",
        "format": "CSV",
        "exportName": "bench",
        "objectType": "COMPANY",
        "objectProperties": names,
        "language": "EN",
        "exportInternalValuesOptions": ["NAMES", "VALUES"],
    }
    task = http.hs_json("POST", "/crm/v3/exports/export/async", body)
    status: dict[str, Any] = {}
    while status.get("status") != "COMPLETE":
        http.hs_json("POST", "/__sandbox/clock/advance", {"seconds": 60})
        status = http.hs_json("GET", f"/crm/v3/exports/export/async/tasks/{task['id']}/status")
    data, _ = http.call("GET", status["result"])
    return len(data)


def hs_list(http: Http, n: int) -> int:
    rows, after = 0, ""
    while True:
        page = http.hs_json("GET", f"/crm/v3/objects/companies?limit=100{after}")
        rows += len(page["results"])
        following = page.get("paging", {}).get("next", {}).get("after")
        if not following:
            return rows
        after = f"&after={following}"


STEPS: dict[str, Callable[[Http, int], int]] = {
    "salesforce bulk 2.0 query, all Account fields": sf_bulk_query,
    "salesforce REST query + queryMore, all fields": sf_rest_query,
    "hubspot export, all company properties (bytes)": hs_export,
    "hubspot list pages of 100": hs_list,
}


def run_size(n: int, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "tierwise.sync", "sandbox", "--accounts", str(n)]
    command += ["--provisioned", "--test-controls", "--salesforce-port", "0", "--hubspot-port", "0"]
    out = [f"N={n}: {' '.join(command[1:])}"]
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    guard = Guard(proc.pid, args.max_gb)
    env: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        said: list[str] = []
        for line in proc.stdout:
            said = [*said[-19:], line.rstrip()]
            found = re.match(r"\s*export (TIERWISE_\w+)=(.*)$", line)
            if found:
                env[found.group(1)] = found.group(2).strip().strip("'")
            if "seeded and serving" in line:
                out.append(f"N={n}: {line.strip()}")
            if line.startswith("Ctrl-C"):
                break
        else:
            print("\n".join(said), file=sys.stderr)
            raise SystemExit(f"sandbox exited while starting (exit {proc.wait()})")
        ready = time.perf_counter() - started
        out.append(
            f"N={n}: ready (seeded + provisioned) in {ready:.1f} s; "
            f"RSS {proc_mb(proc.pid, 'VmRSS'):.0f} MB, peak {proc_mb(proc.pid, 'VmHWM'):.0f} MB"
        )
        print("\n".join(out), flush=True)
        http = Http(env)
        for name, step in STEPS.items():
            if step is hs_list and not args.hubspot_list:
                continue
            began = time.perf_counter()
            rows = step(http, n)
            line = (
                f"N={n}: {name}: {rows} in {time.perf_counter() - began:.1f} s; sandbox RSS "
                f"{proc_mb(proc.pid, 'VmRSS'):.0f} MB, peak {proc_mb(proc.pid, 'VmHWM'):.0f} MB"
            )
            out.append(line)
            print(line, flush=True)
    finally:
        guard.close()
        peak = proc_mb(proc.pid, "VmHWM")
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if guard.tripped:
            out.append(f"N={n}: stopped: sandbox RSS passed {args.max_gb} GB")
        out.append(f"N={n}: sandbox process peak RSS {peak:.0f} MB")
        print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--max-gb", type=float, default=8.0, help="kill the sandbox above this")
    parser.add_argument("--hubspot-list", action="store_true", help="also page the list API")
    args = parser.parse_args()
    lines: list[str] = []
    for n in args.accounts:
        lines += run_size(n, args)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
