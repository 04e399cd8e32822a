"""Foreground runner behind ``tierwise sandbox``: start, print how to connect, block."""

from __future__ import annotations

import resource
import shlex
import threading
import time
from collections.abc import Callable

from tierwise.sandbox.core import Sandbox

OnStarted = Callable[[Sandbox], None]


def serve_forever(
    accounts: int = 200,
    seed: int = 7,
    *,
    salesforce_port: int = 0,
    hubspot_port: int = 0,
    host: str = "127.0.0.1",
    on_started: OnStarted | None = None,
    provisioned: bool = False,
    profile: str = "stock",
    hubspot_requests_per_10s: int | None = None,
    latency_ms: float = 0,
    echo: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    test_controls: bool = False,
    hubspot_contacts: bool = True,
    opportunities: bool = True,
) -> None:
    """Run a sandbox until Ctrl-C (or until ``stop`` is set), printing URLs and env vars.

    ``on_started(sb)`` runs once the emulators answer and before anything is printed:
    ``tierwise sandbox --provisioned`` passes tierwise's own provisioning there, so the
    sandbox never imports tierwise (its idea of "provisioned" is whatever tierwise's
    provision produced, issue 11). ``provisioned=True`` without ``on_started`` is refused
    rather than silently serving an unprovisioned sandbox.
    """
    if provisioned and on_started is None:
        raise TypeError(
            "serve_forever(provisioned=True) needs on_started=<a provisioning callback>: "
            "the sandbox does not import tierwise (see sync's sandbox command)"
        )
    started = time.perf_counter()
    with Sandbox(
        accounts=accounts,
        seed=seed,
        host=host,
        salesforce_port=salesforce_port,
        hubspot_port=hubspot_port,
        hubspot_requests_per_10s=hubspot_requests_per_10s,
        latency_ms=latency_ms,
        profile=profile,
        test_controls=test_controls,
        hubspot_contacts=hubspot_contacts,
        opportunities=opportunities,
    ) as sb:
        seeded = time.perf_counter() - started
        if on_started is not None:
            on_started(sb)
        echo(f"tierwise sandbox: {accounts} companies (seed {seed}) in both CRMs")
        # Linux reports ru_maxrss in KiB: the peak so far, i.e. seeding's.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        echo(f"  seeded and serving in {seeded:.1f} s; sandbox peak RSS {peak_mb:.0f} MB")
        if test_controls:
            echo("  test-only controls on: /__sandbox/ on the HubSpot port (sandbox/control.py)")
        echo(f"  Salesforce  {sb.salesforce_url}  (TLS; CA file {sb.ca_file})")
        echo(f"              session id / access token: {sb.salesforce_token}")
        echo(f"  HubSpot     {sb.hubspot_url}")
        echo(f"              private app token: {sb.hubspot_token}")
        echo("Export these to point tierwise at it:")
        for key, value in sb.env().items():
            echo(f"  export {key}={shlex.quote(value)}")
        echo("Ctrl-C to stop.")
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            echo("\nstopping sandbox")
        echo(sb.calls_table())
