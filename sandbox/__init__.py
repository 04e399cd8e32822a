"""A local Salesforce + HubSpot API emulator: seeded data, fault injection, call accounting.

``Sandbox`` starts both emulators on loopback; ``FaultRule`` describes an injected
fault; ``CallRecord`` is one accounted request. See DESIGN.md ("sandbox").

The sandbox is a model of the CRMs and knows nothing of tierwise: it imports no
``sync`` (a test in tests/sandbox checks it). Whatever tierwise does to it (provision
its fields, run) comes from outside, e.g. ``serve_forever(on_started=...)``.
"""

from __future__ import annotations

try:
    import trustme  # noqa: F401 - only to tell a missing extra from a broken install
except ModuleNotFoundError as missing:  # pragma: no cover - exercised by a runtime install
    # A runtime install (the Docker image, `pip install tierwise`) has no emulator
    # dependencies; the CLI turns this into its one configuration line.
    raise ModuleNotFoundError(
        "the sandbox is an optional extra: pip install 'tierwise[sandbox]'", name=__name__
    ) from missing

from tierwise.sandbox.core import Sandbox
from tierwise.sandbox.faults import FAULT_KINDS, FaultRule
from tierwise.sandbox.hubspot import HubSpotBehaviour
from tierwise.sandbox.ledger import CallRecord
from tierwise.sandbox.runner import serve_forever

__all__ = ["FAULT_KINDS", "CallRecord", "FaultRule", "HubSpotBehaviour", "Sandbox", "serve_forever"]
