"""Test-only controls for a sandbox running in another process (``--test-controls``).

An in-process test or benchmark holds the :class:`~tierwise.sandbox.core.Sandbox` and
calls ``clock.advance`` / ``reset_calls`` / ``calls`` directly. A benchmark that runs
the sandbox in its own process (so the worker's memory is measured alone, issue 15)
needs the same handles over the wire. Neither CRM has such endpoints: they are a
sandbox-only surface under ``/__sandbox/`` on the HubSpot port, off unless
``tierwise sandbox --test-controls`` asks for them, answered with the HubSpot token only,
and never counted in the call ledger (they are not CRM calls).

    GET  /__sandbox/clock                 {"now": ISO}
    POST /__sandbox/clock/advance         {"seconds": S} -> {"now": ISO}
    GET  /__sandbox/calls                 {"calls": [[system, method, path, records, status], ...]}
    POST /__sandbox/calls/reset           {}
    GET  /__sandbox/companies?count=K     {"ids": [[salesforce id, hubspot id], ...]} (seed order)
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from tierwise.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.core import Sandbox

PREFIX = "/__sandbox/"


def handle(sb: Sandbox, request: Request) -> Response:
    """Answer one control request (the caller checked the path starts with PREFIX)."""
    supplied = request.header("Authorization") or ""
    if not hmac.compare_digest(supplied.encode(), f"Bearer {sb.hubspot_token}".encode()):
        return Response.json(401, {"message": "test controls need the sandbox's HubSpot token"})
    route = (request.method, request.path[len(PREFIX) :].rstrip("/"))
    if route == ("GET", "clock"):
        return _json({"now": sb.clock.peek().isoformat()})
    if route == ("POST", "clock/advance"):
        body: Any = request.json() or {}
        sb.clock.advance(float(body.get("seconds", 0)))
        return _json({"now": sb.clock.peek().isoformat()})
    if route == ("GET", "calls"):
        calls = [[c.system, c.method, c.path, c.records, c.status] for c in sb.calls]
        return _json({"calls": calls})
    if route == ("POST", "calls/reset"):
        sb.reset_calls()
        return _json({})
    if route == ("GET", "companies"):
        count = int(request.arg("count") or "0")
        ids = [list(pair) for pair in sb.company_ids_head(count)]
        return _json({"ids": ids})
    return Response.json(404, {"message": f"no test control {request.method} {request.path}"})


def _json(payload: Any) -> Response:
    return Response(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})
