"""Foreground runner behind ``tierwise sandbox``: start, print how to connect, block."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable

from sandbox.core import Sandbox


def serve_forever(
    accounts: int = 200,
    seed: int = 7,
    *,
    salesforce_port: int = 0,
    hubspot_port: int = 0,
    host: str = "127.0.0.1",
    provisioned: bool = False,
    profile: str = "stock",
    hubspot_requests_per_10s: int | None = None,
    echo: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> None:
    """Run a sandbox until Ctrl-C (or until ``stop`` is set), printing URLs and env vars."""
    with Sandbox(
        accounts=accounts, seed=seed, host=host, salesforce_port=salesforce_port,
        hubspot_port=hubspot_port, hubspot_requests_per_10s=hubspot_requests_per_10s,
        profile=profile,
    ) as sb:
        if provisioned:
            # The sandbox has no idea of its own of "provisioned": tierwise's own provision
            # runs against it, through the real connectors (issue 11).
            _provision(sb)
        echo(f"tierwise sandbox: {accounts} companies (seed {seed}) in both CRMs")
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


def _provision(sb: Sandbox) -> None:
    from sync import bootstrap as boot
    from sync.cli import provision_all, settings_from_env

    config = settings_from_env(sb.env())
    model = boot.build_model(config)
    connectors = boot.build_crm_connectors(config, model)
    try:
        provision_all(connectors, model, dry_run=False)
    finally:
        for connector in connectors:
            close = getattr(connector, "close", None)
            if callable(close):
                close()
