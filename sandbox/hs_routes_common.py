"""What every HubSpot route handler shares: the error body and the request helpers.

Kept apart from ``hubspot.py`` (the emulator, its auth, rate limits and route table) so
each concern's handlers can live in their own mixin module (``hs_routes_objects``,
``hs_routes_search``, ``hs_routes_properties``, ``hs_routes_associations``,
``hs_routes_lists``) and still reach the same request parsing, record shaping and batch
answers. ``HubSpotRouteBase`` is the base of those mixins; ``HubSpotEmulator`` sets the
attributes it declares. ``hs_error`` is the one HubSpot error body of the sandbox (the
exports and imports emulators answer with it too).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tierwise.sandbox.clock import SandboxClock, hs_datetime
from tierwise.sandbox.faults import FaultSet
from tierwise.sandbox.hs_schema import DEFAULT_READ, PropertyValueError
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.hubspot import HubSpotBehaviour

MAX_BATCH = 100


def hs_error(
    status: int,
    category: str,
    message: str,
    *,
    sub: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if sub:
        body["subCategory"] = sub
    if errors is not None:
        body["errors"] = errors
    if context is not None:
        body["context"] = context
    body.update(extra)
    return Response.json(status, body, headers=headers)


def hs_fail(status: int, category: str, message: str, **kw: Any) -> ApiError:
    return ApiError(hs_error(status, category, message, **kw))


class HubSpotRouteBase:
    """Helpers of every route mixin; needs ``portal``, ``behaviour``, ``clock``, ``faults``."""

    portal: HubSpotPortal
    behaviour: HubSpotBehaviour
    clock: SandboxClock
    faults: FaultSet

    # ---- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _now_text() -> str:
        from datetime import UTC, datetime

        return hs_datetime(datetime.now(UTC))

    def _requested(self, request: Request, key: str = "properties") -> list[str]:
        names: list[str] = []
        for raw in request.query.get(key, []):
            names.extend(part.strip() for part in raw.split(",") if part.strip())
        return names

    def _shape(
        self,
        object_type: str,
        obj: Mapping[str, Any],
        names: list[str] | None,
        props_override: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        props = props_override if props_override is not None else obj["properties"]
        known = self.portal.properties[object_type]
        wanted = list(names) if names else list(DEFAULT_READ[object_type])
        out_props: dict[str, Any] = {}
        for name in (*wanted, "hs_object_id", "createdate", "hs_lastmodifieddate"):
            if name in known and name not in out_props:
                out_props[name] = props.get(name)
        return {
            "id": obj["id"],
            "properties": out_props,
            "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"],
            "archived": False,
        }

    def _body(self, request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise hs_fail(400, "VALIDATION_ERROR", "Invalid input JSON: expected an object")
        return body

    def _inputs(self, request: Request) -> list[dict[str, Any]]:
        inputs = self._body(request).get("inputs")
        if not isinstance(inputs, list):
            raise hs_fail(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required")
        if len(inputs) > MAX_BATCH:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"Batch input limit is {MAX_BATCH}; got {len(inputs)} inputs",
                context={"inputs": [str(len(inputs))]},
            )
        return [i if isinstance(i, dict) else {} for i in inputs]

    def _invalid(self, exc: PropertyValueError) -> dict[str, Any]:
        return {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Property values were not valid: "
            + json.dumps(
                [
                    {
                        "isValid": False,
                        "message": exc.message,
                        "error": exc.code,
                        "name": exc.name,
                        "localizedErrorMessage": exc.message,
                    }
                ]
            ),
            "context": {"properties": [exc.name]},
            "errors": [
                {"message": exc.message, "code": exc.code, "context": {"propertyName": [exc.name]}}
            ],
        }

    def _lag(self) -> float:
        # On the sandbox clock, so a test moves past the lag with ``sb.clock.advance``
        # instead of sleeping; without an advance it still ends in real time.
        lag = self.behaviour.search_lag_seconds
        return self.clock.peek().timestamp() + lag if lag > 0 else 0.0

    def _injected(self, request: Request, key: str) -> dict[str, Any] | None:
        for rule in request.record_faults:
            if self.faults.record_fails(rule, key):
                code = rule.code or "VALIDATION_ERROR"
                return {
                    "status": "error",
                    "category": code,
                    "message": rule.message or f"{code}: injected failure for {key}",
                    "context": {"ids": [key]},
                }
        return None

    def _batch_response(
        self,
        status_ok: int,
        results: list[dict[str, Any]],
        errors: list[dict[str, Any]],
        started: str,
        records: int,
    ) -> Response:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": self._now_text(),
        }
        status = status_ok
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
            status = 207
        return Response.json(status, body, records=records)

    def _batch_each(
        self, inputs: list[dict[str, Any]], make: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> Response:
        """A batch create: each input made under the portal lock; one refused (``make``
        raises ``ApiError``) is reported among the errors while the rest are made, the
        207 answer (``_batch_response``)."""
        started = self._now_text()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                try:
                    results.append(make(item))
                except ApiError as exc:
                    errors.append(json.loads(exc.response.body))
        return self._batch_response(201, results, errors, started, len(inputs))

    @staticmethod
    def _objects_not_found(object_type: str, ids: list[str]) -> dict[str, Any]:
        """The batch error entry for ids that name no object (a batch read or update)."""
        return {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Could not get some {object_type[:-1].upper()} objects, they may be "
            "deleted or not exist. Check that ids are valid.",
            "context": {"ids": ids},
        }

    def _scope(self, scope: str) -> None:
        if scope in self.behaviour.missing_scopes:
            raise hs_fail(
                403,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call.",
                errors=[
                    {
                        "message": f"One or more of the following scopes are required: {scope}",
                        "context": {"requiredGranularScopes": [scope]},
                    }
                ],
            )
