"""A local Salesforce + HubSpot API emulator: seeded data, fault injection, call accounting.

``Sandbox`` starts both emulators on loopback; ``FaultRule`` describes an injected
fault; ``CallRecord`` is one accounted request. See DESIGN.md ("sandbox").
"""

from __future__ import annotations

from sandbox.core import Sandbox
from sandbox.faults import FAULT_KINDS, FaultRule
from sandbox.hubspot import HubSpotBehaviour
from sandbox.ledger import CallRecord
from sandbox.runner import serve_forever

__all__ = ["FAULT_KINDS", "CallRecord", "FaultRule", "HubSpotBehaviour", "Sandbox",
           "serve_forever"]
