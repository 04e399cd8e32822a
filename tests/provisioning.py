"""Provision a sandbox the way a user does: ``tierwise provision`` through the real
connectors and clients.

The sandbox holds what a stock org holds and has no idea of its own of what
"provisioned" means; tests that need tierwise's fields run tierwise's provisioning
against it first (issue 11: "the sandbox's idea of provisioned is produced by running
tierwise's own provision against it, not by a second hand-written schema").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tierwise.sandbox import Sandbox


def provision(sb: Sandbox, *, customer_tiers: bool = True, **settings: Any) -> None:
    """Run tierwise's own provisioning against a started sandbox, then forget its calls
    (so tests that count calls see only what they do themselves)."""
    from tierwise.sync import bootstrap as boot
    from tierwise.sync.cli import provision_all, settings_from_env

    # Provisioning is set-up, not what a test measures: lift the emulated budgets while
    # it runs and start the test with them untouched.
    limits = (sb.hubspot.requests_per_10s, sb.hubspot.daily_limit, sb.salesforce.daily_limit)
    sb.hubspot.requests_per_10s, sb.hubspot.daily_limit = None, None
    sb.salesforce.daily_limit = 10**9
    config = settings_from_env(sb.env(), customer_tiers=customer_tiers, **settings)
    model = boot.build_model(config)
    try:
        with boot.crm_connectors(config, model) as connectors:
            provision_all(connectors, model, dry_run=False)
    finally:
        sb.hubspot.requests_per_10s, sb.hubspot.daily_limit, sb.salesforce.daily_limit = limits
    sb.reset_calls()
    sb.salesforce.reset_api_usage()
    sb.hubspot.daily_used = 0
    sb.hubspot._window.clear()


@contextmanager
def provisioned(sb: Sandbox, *, customer_tiers: bool = True, **settings: Any) -> Iterator[Sandbox]:
    """``with provisioned(Sandbox(...)) as sb:`` - started, provisioned by tierwise, stopped."""
    with sb:
        provision(sb, customer_tiers=customer_tiers, **settings)
        yield sb
