"""The HubSpot CRM v3 emulator: routes, auth, rate limits and error bodies.

Speaks what hubspot-api-client 12 sends: object list/read/create/update/archive with
``after`` paging, batch read/create/update/upsert (100 inputs, 207 multi-status),
search (filter groups, one sort, 200 a page, 10,000-result cap, 5 requests/s),
properties and groups (409 on duplicates), v4 associations, lists v3 and owners.
Errors are ``{status, message, correlationId, category, ...}``.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload
from urllib.parse import unquote

from tierwise.sandbox.clock import SandboxClock, hs_datetime
from tierwise.sandbox.faults import FaultRule, FaultSet
from tierwise.sandbox.hs_exports import HubSpotExports
from tierwise.sandbox.hs_imports import HubSpotImports
from tierwise.sandbox.hs_schema import (
    DEFAULT_READ,
    OBJECT_ALIASES,
    OBJECT_TYPE_IDS,
    TYPE_FIELD,
    PropertyDef,
    PropertyValueError,
    to_epoch_ms,
)
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.records import HubSpotObject
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.wire import ApiError, Request, Response, Router

MAX_BATCH = 100
MAX_PAGE = 100
MAX_SEARCH_PAGE = 200
SEARCH_CAP = 10_000
MAX_SEARCH_BODY = 3_000
OBJ = r"(?P<type>companies|contacts|tasks|deals)"
# Date-based API versions served beside v3 (a new one each March and September).
DATE_VERSIONS = ("2026-03", "2026-09")
# Objects on which HubSpot documents hasUniqueValue [hs-chg-unique] (CRM-API-NOTES §2.16);
# tickets and custom objects are not emulated. Tasks: HubSpotBehaviour.unique_task_properties.
UNIQUE_OBJECTS = frozenset({"companies", "deals", "contacts"})
MAX_UNIQUE_PER_OBJECT = 10  # "at most 10 per object" [hs-chg-unique]


@dataclass
class HubSpotBehaviour:
    """Points the public sources leave open, made switchable (see CRM-API-NOTES)."""

    retry_after: str | None = "10"
    invalid_batch_status: int = 207
    property_conflict_category: str = "OBJECT_ALREADY_EXISTS"
    duplicate_list_status: int = 409
    search_per_second: int | None = 5
    search_lag_seconds: float = 0.0
    # hasUniqueValue on task properties: HubSpot documents unique properties for
    # companies, deals, contacts, tickets and custom objects only [hs-chg-unique]; tasks
    # are not listed either way. GUESS: refused by default (the case tierwise must survive).
    unique_task_properties: bool = False
    # Scopes the token lacks, e.g. {"crm.lists.write"}: the matching calls answer 403.
    missing_scopes: frozenset[str] = frozenset()
    # Lists the portal allows in total (the real limit depends on the subscription);
    # None = no limit. Over it, list creation answers 400.
    list_limit: int | None = None


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


def _fail(status: int, category: str, message: str, **kw: Any) -> ApiError:
    return ApiError(hs_error(status, category, message, **kw))


class HubSpotEmulator:
    """One portal behind one private-app token."""

    system = "hubspot"

    def __init__(
        self,
        clock: SandboxClock,
        faults: FaultSet,
        *,
        token: str,
        requests_per_10s: int | None,
        behaviour: HubSpotBehaviour | None = None,
        daily_limit: int | None = None,
        profile: str = "stock",
    ) -> None:
        self.portal = HubSpotPortal(clock, profile=profile)
        self.profile = profile
        self.clock = clock
        self.faults = faults
        self.token = token
        self.requests_per_10s = requests_per_10s
        self.daily_limit = daily_limit
        self.daily_used = 0
        self._usage_day = clock.peek().date()
        self.behaviour = behaviour or HubSpotBehaviour()
        self.base_url = ""
        self._search_cache: dict[str, tuple[int, list[Any]]] = {}
        self._window: deque[float] = deque()
        self._search_window: deque[float] = deque()
        self._rate_lock = threading.Lock()
        self.router = Router()
        self._routes()

    @property
    def objects(self) -> dict[str, dict[str, HubSpotObject]]:
        return self.portal.objects

    def edit(self, object_type: str, object_id: str, properties: dict[str, Any]) -> None:
        """Change a record as a person in HubSpot would (validated, stamped, not counted)."""
        with self.portal.lock:
            clean = self.portal.validate(object_type, properties, object_id)
            self.portal.write(object_type, object_id, clean, self._lag())

    # ---- emulator protocol ------------------------------------------------------------------

    def template(self, method: str, path: str) -> str:
        route, params, _ = self.router.match(method, path)
        if route is None:
            return re.sub(r"/\d+", "/{id}", path)
        object_type = params.get("type") or params.get("ptype") or "{type}"
        return route.template.replace("{type}", object_type)

    def _rate_headers(self, remaining: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.requests_per_10s or 190),
            "X-HubSpot-RateLimit-Remaining": str(max(0, remaining)),
        }

    def reset_daily_usage(self) -> None:
        with self._rate_lock:
            self.daily_used = 0

    def _admit(self, is_search: bool) -> tuple[Response | None, dict[str, str]]:
        now = time.monotonic()
        with self._rate_lock:
            today = self.clock.peek().date()
            if today != self._usage_day:
                self._usage_day, self.daily_used = today, 0
            if self.daily_limit is not None and self.daily_used >= self.daily_limit:
                return hs_error(
                    429,
                    "RATE_LIMITS",
                    "You have reached your daily limit.",
                    errorType="RATE_LIMIT",
                    policyName="DAILY",
                    groupName="publicapi:private-app",
                ), {}
            if is_search:
                window, span, cap = self._search_window, 1.0, self.behaviour.search_per_second
            else:
                window, span, cap = self._window, 10.0, self.requests_per_10s
            while window and window[0] <= now - span:
                window.popleft()
            if cap is not None and len(window) >= cap:
                if is_search:
                    return hs_error(
                        429,
                        "RATE_LIMITS",
                        "You have reached your secondly limit.",
                        errorType="RATE_LIMIT",
                        policyName="SECONDLY",
                    ), {}
                headers = self._rate_headers(0)
                if self.behaviour.retry_after is not None:
                    headers["Retry-After"] = self.behaviour.retry_after
                return hs_error(
                    429,
                    "RATE_LIMITS",
                    "You have reached your ten_secondly_rolling limit.",
                    errorType="RATE_LIMIT",
                    policyName="TEN_SECONDLY_ROLLING",
                    groupName="publicapi:private-app",
                    headers=headers,
                ), {}
            window.append(now)
            self.daily_used += 1
            remaining = (self.requests_per_10s or 190) - len(self._window)
            headers = {} if is_search else self._rate_headers(remaining)
            if self.daily_limit is not None and not is_search:
                headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_limit)
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                    max(0, self.daily_limit - self.daily_used)
                )
        return None, headers

    def dispatch(self, request: Request) -> Response:
        if self.exports.serves(request):  # export file URLs need no token (hs_exports)
            return self.exports.download(request)
        auth = request.header("Authorization") or ""
        if not (auth.startswith("Bearer ") and auth[7:].strip() == self.token):
            return hs_error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        is_search = request.method == "POST" and request.path.rstrip("/").endswith("/search")
        refused, headers = self._admit(is_search)
        if refused is not None:
            return refused
        route, params, path_matched = self.router.match(request.method, request.path)
        if route is None:
            response = (
                hs_error(405, "METHOD_NOT_ALLOWED", "Method not allowed")
                if path_matched
                else Response.text(404, "", "text/plain")
            )
        else:
            request.params = {k: unquote(v) for k, v in params.items()}
            try:
                response = route.handler(request)
            except ApiError as exc:
                response = exc.response
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError) as exc:
                response = hs_error(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}")
        response.headers.update(headers)
        return response

    def fault_response(self, rule: FaultRule, request: Request) -> Response:
        kind = rule.kind
        if kind in ("http_429", "daily_limit", "request_limit"):
            daily = kind != "http_429"
            headers: dict[str, str] = {}
            if rule.retry_after is not None:
                headers["Retry-After"] = rule.retry_after
            return hs_error(
                rule.status or 429,
                "RATE_LIMITS",
                rule.message
                or (
                    "You have reached your daily limit."
                    if daily
                    else "You have reached your ten_secondly_rolling limit."
                ),
                errorType="RATE_LIMIT",
                policyName="DAILY" if daily else "TEN_SECONDLY_ROLLING",
                groupName="publicapi:private-app",
                headers=headers,
            )
        if kind == "invalid_session":
            return hs_error(
                rule.status or 401,
                "INVALID_AUTHENTICATION",
                rule.message or "The OAuth token used to make this call expired.",
            )
        if kind == "query_timeout":
            return hs_error(rule.status or 504, "TIMEOUT", rule.message or "Request timed out")
        status = rule.status or int(kind.removeprefix("http_"))
        if status in (502, 503, 504):
            text = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
            return Response.text(
                status, f"<html><body><h1>{status} {text}</h1></body></html>", "text/html"
            )
        return hs_error(status, "INTERNAL_ERROR", rule.message or "internal error")

    # ---- routes -----------------------------------------------------------------------------

    def _routes(self) -> None:
        r = self.router.add
        # The v3 paths the client calls and the date-based paths that replace them
        # (/crm/objects/2026-03/..., CRM-API-NOTES §2.1 [hs-api-latest] [hs-versioning]),
        # served alike.
        for ver in ("v3", *DATE_VERSIONS):
            objects = "/crm/v3/objects" if ver == "v3" else f"/crm/objects/{ver}"
            properties = "/crm/v3/properties" if ver == "v3" else f"/crm/properties/{ver}"
            self._object_routes(objects, properties)
        a = r"/crm/v4/objects/(?P<ftype>[\w-]+)/(?P<fid>\d+)/associations"
        r(
            "PUT",
            a + r"/default/(?P<ttype>[\w-]+)/(?P<tid>\d+)/?",
            "/crm/v4/objects/{from}/{id}/associations/default/{to}/{id}",
            self._assoc_default,
        )
        r(
            "PUT",
            a + r"/(?P<ttype>[\w-]+)/(?P<tid>\d+)/?",
            "/crm/v4/objects/{from}/{id}/associations/{to}/{id}",
            self._assoc_put,
        )
        r(
            "GET",
            a + r"/(?P<ttype>[\w-]+)/?",
            "/crm/v4/objects/{from}/{id}/associations/{to}",
            self._assoc_get,
        )
        # v4 batch associations (end of support 2027-03-30) and their date-based successor
        # POST /crm/associations/2026-03/{from}/{to}/batch/read|create
        # (developers.hubspot.com/docs/api-reference/2026-03/crm/associations/
        # associate-records/batch/get-associations).
        for prefix in ("/crm/v4/associations", *(f"/crm/associations/{v}" for v in DATE_VERSIONS)):
            b = prefix + r"/(?P<ftype>[\w-]+)/(?P<ttype>[\w-]+)/batch"
            r(
                "POST",
                b + r"/create/?",
                prefix + "/{from}/{to}/batch/create",
                self._assoc_batch_create,
            )
            r("POST", b + r"/read/?", prefix + "/{from}/{to}/batch/read", self._assoc_batch_read)
        r("POST", r"/crm/v3/lists/?", "/crm/v3/lists", self._list_create)
        r(
            "GET",
            r"/crm/v3/lists/object-type-id/(?P<otype>[\w-]+)/name/(?P<name>[^/]+)/?",
            "/crm/v3/lists/object-type-id/{objectTypeId}/name/{name}",
            self._list_by_name,
        )
        r("GET", r"/crm/v3/lists/(?P<lid>\d+)/?", "/crm/v3/lists/{id}", self._list_get)
        r("DELETE", r"/crm/v3/lists/(?P<lid>\d+)/?", "/crm/v3/lists/{id}", self._list_delete)
        r(
            "PUT",
            r"/crm/v3/lists/(?P<lid>\d+)/update-list-filters/?",
            "/crm/v3/lists/{id}/update-list-filters",
            self._list_filters,
        )
        r(
            "PUT",
            r"/crm/v3/lists/(?P<lid>\d+)/memberships/add/?",
            "/crm/v3/lists/{id}/memberships/add",
            self._list_add,
        )
        r("GET", r"/crm/v3/owners/?", "/crm/v3/owners", self._owners)
        # Deal pipelines and their stages (issue 16; sandbox/hs_pipelines.py cites the docs).
        r("GET", r"/crm/v3/pipelines/deals/?", "/crm/v3/pipelines/deals", self._deal_pipelines)
        # Bulk paths (exports, imports by record id): their own modules.
        self.exports = HubSpotExports(self)
        self.exports.register()
        self.imports = HubSpotImports(self)
        self.imports.register()
        r("GET", r"/crm/v3/owners/(?P<oid>\d+)/?", "/crm/v3/owners/{id}", self._owner)

    def _object_routes(self, objects: str, properties: str) -> None:
        r = self.router.add
        o = objects + "/{type}"
        r("POST", rf"{objects}/{OBJ}/?", o, self._create)
        r("GET", rf"{objects}/{OBJ}/?", o, self._list)
        r("POST", rf"{objects}/{OBJ}/search/?", o + "/search", self._search)
        for op in ("read", "create", "update", "upsert", "archive"):
            r(
                "POST",
                rf"{objects}/{OBJ}/batch/{op}/?",
                f"{o}/batch/{op}",
                getattr(self, f"_batch_{op}"),
            )
        r("GET", rf"{objects}/{OBJ}/(?P<id>[^/]+)/?", o + "/{id}", self._get)
        r("PATCH", rf"{objects}/{OBJ}/(?P<id>[^/]+)/?", o + "/{id}", self._update)
        r("DELETE", rf"{objects}/{OBJ}/(?P<id>[^/]+)/?", o + "/{id}", self._archive)
        p = properties + "/{type}"
        pt = properties + r"/(?P<ptype>[\w-]+)"
        r("GET", pt + r"/groups/?", p + "/groups", self._groups)
        r("POST", pt + r"/groups/?", p + "/groups", self._group_create)
        r("GET", pt + r"/groups/(?P<name>\w+)/?", p + "/groups/{name}", self._group_get)
        r("POST", pt + r"/batch/create/?", p + "/batch/create", self._property_batch_create)
        r("POST", pt + r"/batch/read/?", p + "/batch/read", self._property_batch_read)
        r("GET", pt + r"/?", p, self._properties)
        r("POST", pt + r"/?", p, self._property_create)
        r("GET", pt + r"/(?P<name>\w+)/?", p + "/{name}", self._property_get)
        r("PATCH", pt + r"/(?P<name>\w+)/?", p + "/{name}", self._property_update)

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
            raise _fail(400, "VALIDATION_ERROR", "Invalid input JSON: expected an object")
        return body

    def _inputs(self, request: Request) -> list[dict[str, Any]]:
        inputs = self._body(request).get("inputs")
        if not isinstance(inputs, list):
            raise _fail(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required")
        if len(inputs) > MAX_BATCH:
            raise _fail(
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

    # ---- objects ----------------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        object_type = request.params["type"]
        limit = _int(request.arg("limit"), 10, "limit")
        if not 1 <= limit <= MAX_PAGE:
            raise _fail(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_PAGE}")
        after = _int(request.arg("after"), 0, "after")
        names = self._requested(request)
        assoc = [OBJECT_ALIASES.get(a) for a in self._requested(request, "associations")]
        with self.portal.lock:
            ids, more = self.portal.ids_after(object_type, after, limit)
            store = self.portal.objects[object_type]
            results = []
            for oid in ids:
                shaped = self._shape(object_type, store[oid], names)
                self._attach_assocs(object_type, oid, assoc, shaped)
                results.append(shaped)
        body: dict[str, Any] = {"results": results}
        if more and ids:
            body["paging"] = {
                "next": {
                    "after": ids[-1],
                    "link": f"{self.base_url}/crm/v3/objects/{object_type}?after={ids[-1]}",
                }
            }
        return Response.json(200, body, records=len(results))

    def _attach_assocs(
        self, object_type: str, oid: str, assoc: list[str | None], shaped: dict[str, Any]
    ) -> None:
        found: dict[str, Any] = {}
        for to_type in assoc:
            if to_type is None:
                continue
            links = self.portal.associated(object_type, oid, to_type)
            if links:
                found[to_type] = {
                    "results": [
                        {"id": tid, "type": f"{_SINGULAR[object_type]}_to_{_SINGULAR[to_type]}"}
                        for tid in links
                    ]
                }
        if found:
            shaped["associations"] = found

    def _get(self, request: Request) -> Response:
        object_type = request.params["type"]
        object_id = request.params["id"]
        id_property = request.arg("idProperty")
        with self.portal.lock:
            if id_property:
                self._check_id_property(object_type, id_property)
                found = self.portal.find_unique(object_type, id_property, object_id)
                object_id = found or ""
            obj = self.portal.objects[object_type].get(object_id)
            if obj is None:
                raise _fail(404, "OBJECT_NOT_FOUND", "resource not found")
            shaped = self._shape(object_type, obj, self._requested(request))
            assoc = [OBJECT_ALIASES.get(a) for a in self._requested(request, "associations")]
            self._attach_assocs(object_type, object_id, assoc, shaped)
        return Response.json(200, shaped, records=1)

    def _validate_associations(self, object_type: str, raw: Any) -> list[tuple[str, str, int]]:
        out: list[tuple[str, str, int]] = []
        for item in raw or []:
            to_id = str((item.get("to") or {}).get("id") or "")
            for spec in item.get("types") or []:
                type_id = int(spec.get("associationTypeId") or 0)
                to_type = _assoc_target(object_type, type_id)
                if to_type is None or to_id not in self.portal.objects[to_type]:
                    raise _fail(
                        400,
                        "VALIDATION_ERROR",
                        f"One or more associations are invalid: {to_id} "
                        f"(associationTypeId {type_id})",
                        sub="crm.associations.INVALID_OBJECT_IDS",
                    )
                out.append((to_type, to_id, type_id))
        return out

    def _create(self, request: Request) -> Response:
        object_type = request.params["type"]
        body = self._body(request)
        with self.portal.lock:
            links = self._validate_associations(object_type, body.get("associations"))
            try:
                clean = self.portal.validate(object_type, body.get("properties") or {}, None)
            except PropertyValueError as exc:
                raise ApiError(
                    Response.json(400, {**self._invalid(exc), "correlationId": str(uuid.uuid4())})
                ) from exc
            if (injected := self._injected(request, "")) is not None:
                raise ApiError(Response.json(400, {**injected, "correlationId": str(uuid.uuid4())}))
            obj = self.portal.write(object_type, None, clean, self._lag())
            for to_type, to_id, type_id in links:
                self.portal.associate(object_type, obj["id"], to_type, to_id, [type_id])
            shaped = self._shape(object_type, obj, list(clean))
        return Response.json(201, shaped, records=1)

    def _update(self, request: Request) -> Response:
        object_type = request.params["type"]
        object_id = request.params["id"]
        body = self._body(request)
        with self.portal.lock:
            if request.arg("idProperty"):
                object_id = (
                    self.portal.find_unique(object_type, request.arg("idProperty") or "", object_id)
                    or ""
                )
            if object_id not in self.portal.objects[object_type]:
                raise _fail(404, "OBJECT_NOT_FOUND", "resource not found")
            try:
                clean = self.portal.validate(object_type, body.get("properties") or {}, object_id)
            except PropertyValueError as exc:
                raise ApiError(
                    Response.json(400, {**self._invalid(exc), "correlationId": str(uuid.uuid4())})
                ) from exc
            if (injected := self._injected(request, object_id)) is not None:
                raise ApiError(Response.json(400, {**injected, "correlationId": str(uuid.uuid4())}))
            obj = self.portal.write(object_type, object_id, clean, self._lag())
            shaped = self._shape(object_type, obj, list(clean))
        return Response.json(200, shaped, records=1)

    def _archive(self, request: Request) -> Response:
        with self.portal.lock:
            self.portal.archive(request.params["type"], request.params["id"])
        return Response(204, records=1)

    def _batch_read(self, request: Request) -> Response:
        object_type = request.params["type"]
        body = self._body(request)
        inputs = self._inputs(request)
        started = self._now_text()
        names = [str(n) for n in body.get("properties") or []]
        id_property = body.get("idProperty")
        if id_property:
            self._check_id_property(object_type, str(id_property))
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.portal.lock:
            for item in inputs:
                key = str(item.get("id") or "")
                oid = self.portal.find_unique(object_type, id_property, key) if id_property else key
                obj = self.portal.objects[object_type].get(oid or "")
                if obj is None:
                    missing.append(key)
                else:
                    results.append(self._shape(object_type, obj, names))
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {object_type[:-1].upper()} "
                    "objects, they may be "
                    "deleted or not exist. Check that ids are valid.",
                    "context": {"ids": missing},
                }
            ]
            if missing
            else []
        )
        return self._batch_response(200, results, errors, started, len(inputs))

    def _check_id_property(self, object_type: str, id_property: str) -> None:
        """An idProperty must have unique values; otherwise 400 "Unable to perform
        update/upsert by non-unique ... property" (CRM-API-NOTES §2.16:
        hubspot-api-nodejs#548, segment-actions#3957)."""
        prop = self.portal.properties[object_type].get(id_property)
        if prop is None or not prop.unique:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"Unable to perform read/update/upsert by non-unique "
                f"{OBJECT_TYPE_IDS[object_type]} property {id_property} in portal "
                "ID 0",
                sub="crm.objects.INVALID_ID_PROPERTY",
            )

    def _batch_create(self, request: Request) -> Response:
        object_type = request.params["type"]
        inputs = self._inputs(request)
        started = self._now_text()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                try:
                    links = self._validate_associations(object_type, item.get("associations"))
                    clean = self.portal.validate(object_type, item.get("properties") or {}, None)
                except PropertyValueError as exc:
                    errors.append(self._invalid(exc))
                    continue
                except ApiError as exc:
                    errors.append(json.loads(exc.response.body))
                    continue
                key = str(item.get("objectWriteTraceId") or "")
                if (injected := self._injected(request, key)) is not None:
                    errors.append(injected)
                    continue
                obj = self.portal.write(object_type, None, clean, self._lag())
                for to_type, to_id, type_id in links:
                    self.portal.associate(object_type, obj["id"], to_type, to_id, [type_id])
                results.append(self._shape(object_type, obj, list(clean)))
        if errors and self.behaviour.invalid_batch_status != 207 and not results:
            return Response.json(
                self.behaviour.invalid_batch_status,
                {**errors[0], "correlationId": str(uuid.uuid4())},
            )
        return self._batch_response(201, results, errors, started, len(inputs))

    def _batch_update(self, request: Request) -> Response:
        object_type = request.params["type"]
        body = self._body(request)
        inputs = self._inputs(request)
        id_property = body.get("idProperty")
        if id_property:
            self._check_id_property(object_type, str(id_property))
        started = self._now_text()
        ids = [str(i.get("id") or "") for i in inputs]
        if len(set(ids)) != len(ids):
            raise _fail(
                400,
                "VALIDATION_ERROR",
                "Duplicate IDs found in batch input: "
                + str(sorted({i for i in ids if ids.count(i) > 1})),
            )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.portal.lock:
            for item, key in zip(inputs, ids, strict=True):
                oid = (
                    self.portal.find_unique(object_type, str(id_property), key)
                    if id_property
                    else key
                )
                if not oid or oid not in self.portal.objects[object_type]:
                    missing.append(key)
                    continue
                written = self._write_one(
                    request, object_type, oid, item.get("properties") or {}, key, oid, errors
                )
                if written is not None:
                    results.append(written)
        if missing:
            errors.insert(
                0,
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {object_type[:-1].upper()} "
                    "objects, they may be "
                    "deleted or not exist. Check that ids are valid.",
                    "context": {"ids": missing},
                },
            )
        if errors and self.behaviour.invalid_batch_status != 207:
            return Response.json(
                self.behaviour.invalid_batch_status,
                {**errors[0], "correlationId": str(uuid.uuid4())},
                records=len(inputs),
            )
        return self._batch_response(200, results, errors, started, len(inputs))

    def _write_one(
        self,
        request: Request,
        object_type: str,
        oid: str | None,
        values: dict[str, Any],
        key: str,
        fault_id: str,
        errors: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        """One batch input: validate, apply an injected per-record fault, write. A rejected
        input lands in ``errors`` (context ids = ``key``) and returns None."""
        try:
            clean = self.portal.validate(object_type, values, oid)
        except PropertyValueError as exc:
            error = self._invalid(exc)
            error["context"]["ids"] = [key]
            errors.append(error)
            return None
        if (injected := self._injected(request, fault_id)) is not None:
            errors.append(injected)
            return None
        obj = self.portal.write(object_type, oid, clean, self._lag())
        return self._shape(object_type, obj, list(clean))

    def _batch_upsert(self, request: Request) -> Response:
        object_type = request.params["type"]
        inputs = self._inputs(request)
        started = self._now_text()
        keys = [str(i.get("id") or "") for i in inputs]
        if len(set(keys)) != len(keys):
            raise _fail(
                400,
                "VALIDATION_ERROR",
                "Duplicate IDs found in batch input: "
                + str(sorted({k for k in keys if keys.count(k) > 1})),
            )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                id_property = str(item.get("idProperty") or "")
                prop = self.portal.properties[object_type].get(id_property)
                if prop is None or not prop.unique:
                    raise _fail(
                        400,
                        "VALIDATION_ERROR",
                        f"{id_property} is not a unique identifier property; "
                        "idProperty must be a property with unique values",
                        sub="crm.objects.INVALID_ID_PROPERTY",
                    )
                key = str(item.get("id") or "")
                oid = self.portal.find_unique(object_type, id_property, key)
                values = dict(item.get("properties") or {})
                values[id_property] = key
                shaped = self._write_one(request, object_type, oid, values, key, key, errors)
                if shaped is not None:
                    shaped["new"] = oid is None
                    results.append(shaped)
        return self._batch_response(200, results, errors, started, len(inputs))

    def _batch_archive(self, request: Request) -> Response:
        object_type = request.params["type"]
        inputs = self._inputs(request)
        with self.portal.lock:
            for item in inputs:
                self.portal.archive(object_type, str(item.get("id") or ""))
        return Response(204, records=len(inputs))

    # ---- search -----------------------------------------------------------------------------

    def _search(self, request: Request) -> Response:
        object_type = request.params["type"]
        if len(request.body) > MAX_SEARCH_BODY:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"Search request body is {len(request.body)} characters; the maximum is "
                f"{MAX_SEARCH_BODY}",
            )
        body = self._body(request)
        raw_limit = body.get("limit", 10)
        limit = int(raw_limit) if raw_limit is not None else 10
        if not 0 <= limit <= MAX_SEARCH_PAGE:
            raise _fail(400, "VALIDATION_ERROR", f"limit must be between 0 and {MAX_SEARCH_PAGE}")
        after = int(body.get("after") or 0)
        if after >= SEARCH_CAP:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"The maximum number of results is {SEARCH_CAP}; paging beyond it is not "
                "supported. Narrow the filters.",
            )
        groups = body.get("filterGroups") or []
        total_filters = sum(len(g.get("filters") or []) for g in groups)
        if (
            len(groups) > 5
            or any(len(g.get("filters") or []) > 6 for g in groups)
            or (total_filters > 18)
        ):
            raise _fail(
                400,
                "VALIDATION_ERROR",
                "Too many filters: at most 5 filterGroups with 6 filters each and 18 "
                "filters in total",
            )
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise _fail(400, "VALIDATION_ERROR", "Only one sort is supported")
        props = self.portal.properties[object_type]
        predicates = [[self._filter(props, f) for f in g.get("filters") or []] for g in groups]
        query = str(body.get("query") or "").strip().lower()
        names = [str(n) for n in body.get("properties") or []]
        now = self.clock.peek().timestamp()
        cache_key = json.dumps([object_type, groups, sorts, query], sort_keys=True, default=str)
        with self.portal.lock:
            lagging = self.portal.search_view[object_type]
            for oid in [k for k, (until, _) in lagging.items() if until <= now]:
                del lagging[oid]
            ranged = None if lagging or query else _ranged(self.portal, object_type, props, body)
            if ranged is not None:  # one range on the sorted property: an index (hs_store)
                return self._search_page(object_type, ranged, after, limit, names)
            cached = self._search_cache.get(cache_key)
            if cached is not None and cached[0] == self.portal.version and not lagging:
                return self._search_page(object_type, cached[1], after, limit, names)
            rows: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
            for oid, obj in self.portal.objects[object_type].items():
                view: Mapping[str, Any] | None = obj["properties"]
                if oid in lagging:
                    view = lagging[oid][1]
                if view is None:
                    continue
                if predicates and not any(all(p(view) for p in group) for group in predicates):
                    continue
                if query and not any(query in str(v).lower() for v in view.values() if v):
                    continue
                rows.append((obj, view))
            if sorts:
                rows = self._sort(props, rows, sorts[0])
            if not lagging:
                # Paging through one query re-reads the same rows: keep them until a write.
                if len(self._search_cache) > 16:
                    self._search_cache.clear()
                self._search_cache[cache_key] = (self.portal.version, rows)
            return self._search_page(object_type, rows, after, limit, names)

    def _search_page(
        self, object_type: str, rows: Sequence[Any], after: int, limit: int, names: list[str]
    ) -> Response:
        page = rows[after : min(after + limit, SEARCH_CAP)]
        results = [self._shape(object_type, obj, names, view) for obj, view in page]
        out: dict[str, Any] = {"total": len(rows), "results": results}
        # The next cursor is handed out even at the cap; using it is the 400 above.
        if after + limit < len(rows) and limit:
            out["paging"] = {"next": {"after": str(after + limit)}}
        return Response.json(200, out, records=len(results))

    def _sort(self, props: Mapping[str, PropertyDef], rows: list[Any], spec: Any) -> list[Any]:
        if isinstance(spec, str):
            name, descending = spec.lstrip("-"), spec.startswith("-")
        else:
            name = str(spec.get("propertyName"))
            descending = str(spec.get("direction", "ASCENDING")).upper() == "DESCENDING"
        prop = props.get(name)

        def key(row: Any) -> tuple[int, Any]:
            value = row[1].get(name)
            if value in (None, ""):
                return (1, 0)
            return (0, _sortable(prop, str(value)))

        present = [r for r in rows if key(r)[0] == 0]
        absent = [r for r in rows if key(r)[0] == 1]
        present.sort(key=key, reverse=descending)
        return present + absent

    def _filter(
        self, props: Mapping[str, PropertyDef], spec: Mapping[str, Any]
    ) -> Callable[[Mapping[str, Any]], bool]:
        name = str(spec.get("propertyName"))
        op = str(spec.get("operator") or "EQ")
        prop = props.get(name)
        if prop is None:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"There was a problem with the request. Property {name} does not exist",
            )

        def conv(raw: Any) -> Any:
            return _sortable(prop, str(raw).lower() if prop.type == "string" else str(raw))

        def get(view: Mapping[str, Any]) -> Any:
            value = view.get(name)
            return None if value in (None, "") else conv(value)

        if op == "HAS_PROPERTY":
            return lambda v: get(v) is not None
        if op == "NOT_HAS_PROPERTY":
            return lambda v: get(v) is None
        if op in ("IN", "NOT_IN"):
            # String IN/NOT_IN values must be sent lower-case: they are not folded for you.
            raw_values = [str(x) for x in spec.get("values") or []]
            wanted = {_sortable(prop, x) if prop.type != "string" else x for x in raw_values}
            if op == "IN":
                return lambda v: get(v) in wanted
            return lambda v: get(v) not in wanted
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(spec.get("value") or "").lower()
            pattern = re.compile("^" + re.escape(token).replace(r"\*", ".*") + "$")

            def contains(v: Mapping[str, Any]) -> bool:
                text = str(v.get(name) or "").lower()
                hit = any(pattern.match(t) for t in re.split(r"[\s;,.@/]+", text) if t) or (
                    "*" in token and pattern.match(text) is not None
                )
                return hit if op == "CONTAINS_TOKEN" else not hit

            return contains
        value = conv(spec.get("value"))
        if op == "BETWEEN":
            high = conv(spec.get("highValue"))
            return lambda v: (x := get(v)) is not None and _le(value, x) and _le(x, high)
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "EQ": lambda x, y: x == y,
            "NEQ": lambda x, y: x != y,
            "LT": lambda x, y: _lt(x, y),
            "LTE": lambda x, y: _le(x, y),
            "GT": lambda x, y: _lt(y, x),
            "GTE": lambda x, y: _le(y, x),
        }
        fn = compare.get(op)
        if fn is None:
            raise _fail(400, "VALIDATION_ERROR", f"Unknown operator {op}")
        if op == "NEQ":
            return lambda v: get(v) != value
        return lambda v: (x := get(v)) is not None and fn(x, value)

    # ---- properties and groups --------------------------------------------------------------

    def _ptype(self, request: Request) -> str:
        object_type = OBJECT_ALIASES.get(request.params["ptype"].lower())
        if object_type is None:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"Unable to infer object type from: {request.params['ptype']}",
            )
        return object_type

    def _properties(self, request: Request) -> Response:
        object_type = self._ptype(request)
        with self.portal.lock:
            results = [p.as_json() for p in self.portal.properties[object_type].values()]
        return Response.json(200, {"results": results}, records=len(results))

    def _property_get(self, request: Request) -> Response:
        object_type = self._ptype(request)
        prop = self.portal.properties[object_type].get(request.params["name"])
        if prop is None:
            raise _fail(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property with name {request.params['name']} for "
                f"objectType {OBJECT_TYPE_IDS[object_type]}",
            )
        return Response.json(200, prop.as_json(), records=1)

    def _new_property(self, object_type: str, body: Mapping[str, Any]) -> PropertyDef:
        for key in ("name", "label", "type", "fieldType", "groupName"):
            if not body.get(key):
                raise _fail(
                    400,
                    "VALIDATION_ERROR",
                    f"Invalid input JSON on line 1: missing required field {key!r}",
                )
        name = str(body["name"])
        ptype = str(body["type"])
        if ptype not in TYPE_FIELD:
            raise _fail(400, "VALIDATION_ERROR", f"Invalid property type: {ptype}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"Property name {name} is invalid: use lower-case letters, digits and _",
            )
        if body["groupName"] not in self.portal.groups[object_type]:
            raise _fail(
                400, "VALIDATION_ERROR", f"Property group {body['groupName']} does not exist"
            )
        if name in self.portal.properties[object_type]:
            raise _fail(
                409,
                self.behaviour.property_conflict_category,
                f"Property named '{name}' already exists.",
                context={"name": [name]},
            )
        options = [
            {
                "label": str(o.get("label")),
                "value": str(o.get("value")),
                "displayOrder": int(o.get("displayOrder", i)),
                "hidden": bool(o.get("hidden")),
            }
            for i, o in enumerate(body.get("options") or [])
        ]
        if ptype == "enumeration" and not options:
            raise _fail(400, "VALIDATION_ERROR", "Enumeration properties need options")
        unique = bool(body.get("hasUniqueValue"))
        if unique:
            self._check_unique_allowed(object_type)
        stamp = hs_datetime(self.clock.tick())
        prop = PropertyDef(
            name,
            ptype,
            str(body["label"]),
            str(body["fieldType"]),
            str(body["groupName"]),
            options,
            unique,
            hubspot_defined=False,
            description=str(body.get("description") or ""),
            display_order=int(body.get("displayOrder", -1)),
            created_at=stamp,
            updated_at=stamp,
        )
        self.portal.add_property(object_type, prop)
        return prop

    def _check_unique_allowed(self, object_type: str) -> None:
        """hasUniqueValue only where HubSpot documents it, at most 10 per object
        [hs-chg-unique]; the message wording is ours (the real one is unconfirmed)."""
        allowed = object_type in UNIQUE_OBJECTS or (
            object_type == "tasks" and self.behaviour.unique_task_properties
        )
        if not allowed:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"Unique value properties are not supported for {object_type}",
                sub="crm.properties.UNIQUE_VALUE_NOT_SUPPORTED",
                context={"hasUniqueValue": ["true"]},
            )
        count = sum(
            1
            for p in self.portal.properties[object_type].values()
            if p.unique and not p.hubspot_defined
        )
        if count >= MAX_UNIQUE_PER_OBJECT:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"At most {MAX_UNIQUE_PER_OBJECT} unique value properties per object",
                sub="crm.properties.TOO_MANY_UNIQUE_PROPERTIES",
            )

    def _scope(self, scope: str) -> None:
        if scope in self.behaviour.missing_scopes:
            raise _fail(
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

    def _property_create(self, request: Request) -> Response:
        object_type = self._ptype(request)
        with self.portal.lock:
            prop = self._new_property(object_type, self._body(request))
        return Response.json(201, prop.as_json(), records=1)

    def _property_batch_create(self, request: Request) -> Response:
        object_type = self._ptype(request)
        inputs = self._inputs(request)
        started = self._now_text()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                try:
                    results.append(self._new_property(object_type, item).as_json())
                except ApiError as exc:
                    errors.append(json.loads(exc.response.body))
        return self._batch_response(201, results, errors, started, len(inputs))

    def _property_batch_read(self, request: Request) -> Response:
        object_type = self._ptype(request)
        inputs = self._inputs(request)
        started = self._now_text()
        props = self.portal.properties[object_type]
        results = [
            props[str(i.get("name"))].as_json() for i in inputs if str(i.get("name")) in props
        ]
        missing = [str(i.get("name")) for i in inputs if str(i.get("name")) not in props]
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Some properties were not found",
                    "context": {"names": missing},
                }
            ]
            if missing
            else []
        )
        return self._batch_response(200, results, errors, started, len(inputs))

    def _property_update(self, request: Request) -> Response:
        object_type = self._ptype(request)
        body = self._body(request)
        with self.portal.lock:
            prop = self.portal.properties[object_type].get(request.params["name"])
            if prop is None:
                raise _fail(
                    404,
                    "OBJECT_NOT_FOUND",
                    f"Unable to find property with name {request.params['name']}",
                )
            if "label" in body:
                prop.label = str(body["label"])
            if "options" in body:
                prop.options = [
                    {
                        "label": str(o.get("label")),
                        "value": str(o.get("value")),
                        "displayOrder": int(o.get("displayOrder", i)),
                        "hidden": bool(o.get("hidden")),
                    }
                    for i, o in enumerate(body.get("options") or [])
                ]
            if "groupName" in body:
                prop.group = str(body["groupName"])
            prop.updated_at = hs_datetime(self.clock.tick())
        return Response.json(200, prop.as_json(), records=1)

    def _groups(self, request: Request) -> Response:
        object_type = self._ptype(request)
        results = list(self.portal.groups[object_type].values())
        return Response.json(200, {"results": results}, records=len(results))

    def _group_get(self, request: Request) -> Response:
        group = self.portal.groups[self._ptype(request)].get(request.params["name"])
        if group is None:
            raise _fail(
                404, "OBJECT_NOT_FOUND", f"Unable to find property group {request.params['name']}"
            )
        return Response.json(200, group, records=1)

    def _group_create(self, request: Request) -> Response:
        object_type = self._ptype(request)
        body = self._body(request)
        name = str(body.get("name") or "")
        if not name or not body.get("label"):
            raise _fail(400, "VALIDATION_ERROR", "name and label are required")
        with self.portal.lock:
            if name in self.portal.groups[object_type]:
                raise _fail(
                    409,
                    self.behaviour.property_conflict_category,
                    f"Property group named '{name}' already exists.",
                    context={"name": [name]},
                )
            group = {
                "name": name,
                "label": str(body["label"]),
                "displayOrder": int(body.get("displayOrder", -1)),
                "archived": False,
            }
            self.portal.groups[object_type][name] = group
        return Response.json(201, group, records=1)

    # ---- associations (v4) ------------------------------------------------------------------

    def _assoc_types(self, request: Request) -> tuple[str, str]:
        from_type = OBJECT_ALIASES.get(request.params["ftype"].lower())
        to_type = OBJECT_ALIASES.get(request.params["ttype"].lower())
        if from_type is None or to_type is None:
            raise _fail(400, "VALIDATION_ERROR", "Unknown object type")
        return from_type, to_type

    def _check_pair(self, from_type: str, fid: str, to_type: str, tid: str) -> None:
        if fid not in self.portal.objects[from_type] or tid not in self.portal.objects[to_type]:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"One or more objects do not exist: {from_type} {fid}, {to_type} {tid}",
                sub="crm.associations.INVALID_OBJECT_IDS",
            )

    def _assoc_put(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        fid, tid = request.params["fid"], request.params["tid"]
        specs = request.json()
        if not isinstance(specs, list) or not specs:
            raise _fail(400, "VALIDATION_ERROR", "A list of association specs is required")
        with self.portal.lock:
            self._check_pair(from_type, fid, to_type, tid)
            type_ids = [int(s.get("associationTypeId") or 0) for s in specs]
            self.portal.associate(from_type, fid, to_type, tid, type_ids)
        return Response.json(
            201,
            {
                "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                "fromObjectId": int(fid),
                "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                "toObjectId": int(tid),
                "labels": [],
            },
            records=1,
        )

    def _assoc_default(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        fid, tid = request.params["fid"], request.params["tid"]
        type_id = _default_type(from_type, to_type)
        started = self._now_text()
        with self.portal.lock:
            self._check_pair(from_type, fid, to_type, tid)
            self.portal.associate(from_type, fid, to_type, tid, [type_id])
        return Response.json(
            200,
            {
                "status": "COMPLETE",
                "startedAt": started,
                "completedAt": self._now_text(),
                "results": [
                    {
                        "from": {"id": fid},
                        "to": {"id": tid},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": type_id,
                        },
                    }
                ],
            },
            records=1,
        )

    def _assoc_get(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        with self.portal.lock:
            links = self.portal.associated(from_type, request.params["fid"], to_type)
            results = [
                {
                    "toObjectId": int(tid),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}
                        for t in sorted(ts)
                    ],
                }
                for tid, ts in links.items()
            ]
        return Response.json(200, {"results": results}, records=len(results))

    def _assoc_batch_create(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        inputs = self._inputs(request)
        started = self._now_text()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                fid = str((item.get("from") or {}).get("id") or "")
                tid = str((item.get("to") or {}).get("id") or "")
                try:
                    self._check_pair(from_type, fid, to_type, tid)
                except ApiError as exc:
                    errors.append(json.loads(exc.response.body))
                    continue
                type_ids = [int(s.get("associationTypeId") or 0) for s in item.get("types") or []]
                self.portal.associate(from_type, fid, to_type, tid, type_ids)
                results.append(
                    {
                        "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                        "fromObjectId": int(fid),
                        "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                        "toObjectId": int(tid),
                        "labels": [],
                    }
                )
        return self._batch_response(201, results, errors, started, len(inputs))

    def _assoc_batch_read(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        inputs = self._inputs(request)
        started = self._now_text()
        results: list[dict[str, Any]] = []
        # The date-based reference shows toObjectId as a string; v4 sends a number.
        dated = not request.path.startswith("/crm/v4/")

        def target(tid: str) -> Any:
            return tid if dated else int(tid)

        with self.portal.lock:
            for item in inputs:
                fid = str(item.get("id") or "")
                links = self.portal.associated(from_type, fid, to_type)
                results.append(
                    {
                        "from": {"id": fid},
                        "to": [
                            {
                                "toObjectId": target(tid),
                                "associationTypes": [
                                    {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}
                                    for t in sorted(ts)
                                ],
                            }
                            for tid, ts in links.items()
                        ],
                    }
                )
        return self._batch_response(200, results, [], started, len(inputs))

    # ---- lists ------------------------------------------------------------------------------

    def _list_create(self, request: Request) -> Response:
        self._scope("crm.lists.write")
        limit = self.behaviour.list_limit
        if limit is not None and len(self.portal.lists) >= limit:
            raise _fail(
                400,
                "VALIDATION_ERROR",
                f"You have reached the limit of {limit} lists for this account.",
                sub="ILS.LIST_LIMIT_REACHED",
            )
        body = self._body(request)
        name = str(body.get("name") or "")
        otype = str(body.get("objectTypeId") or "")
        ptype = str(body.get("processingType") or "")
        if (
            not name
            or otype not in OBJECT_TYPE_IDS.values()
            or ptype not in ("MANUAL", "DYNAMIC", "SNAPSHOT")
        ):
            raise _fail(
                400,
                "VALIDATION_ERROR",
                "name, objectTypeId and processingType (MANUAL, DYNAMIC, SNAPSHOT) are required",
            )
        branch = body.get("filterBranch")
        if ptype != "MANUAL" and (
            not isinstance(branch, dict) or branch.get("filterBranchType") != "OR"
        ):
            raise _fail(
                400, "VALIDATION_ERROR", "filterBranch must be a root OR branch for DYNAMIC lists"
            )
        with self.portal.lock:
            if any(lst.name.lower() == name.lower() for lst in self.portal.lists.values()):
                raise _fail(
                    self.behaviour.duplicate_list_status,
                    "VALIDATION_ERROR",
                    f"A list named '{name}' already exists.",
                    sub="ILS.DUPLICATE_LIST_NAMES",
                )
            hs_list = self.portal.new_list(name, otype, ptype, branch)
        return Response.json(200, {"list": hs_list.as_json()}, records=1)

    def _list_by_name(self, request: Request) -> Response:
        name = request.params["name"]
        otype = request.params["otype"]
        with self.portal.lock:
            for hs_list in self.portal.lists.values():
                if hs_list.name.lower() == name.lower() and hs_list.object_type_id == otype:
                    return Response.json(200, {"list": hs_list.as_json()}, records=1)
        raise _fail(404, "OBJECT_NOT_FOUND", f"List with name {name} does not exist")

    def _list_lookup(self, request: Request) -> Any:
        hs_list = self.portal.lists.get(request.params["lid"])
        if hs_list is None:
            raise _fail(404, "OBJECT_NOT_FOUND", f"List {request.params['lid']} does not exist")
        return hs_list

    def _list_get(self, request: Request) -> Response:
        return Response.json(200, {"list": self._list_lookup(request).as_json()}, records=1)

    def _list_delete(self, request: Request) -> Response:
        with self.portal.lock:
            hs_list = self._list_lookup(request)
            del self.portal.lists[hs_list.list_id]
        return Response(204, records=1)

    def _list_filters(self, request: Request) -> Response:
        body = self._body(request)
        with self.portal.lock:
            hs_list = self._list_lookup(request)
            hs_list.filter_branch = body.get("filterBranch")
            hs_list.version += 1
            hs_list.updated_at = hs_datetime(self.clock.tick())
        return Response.json(200, {"list": hs_list.as_json()}, records=1)

    def _list_add(self, request: Request) -> Response:
        with self.portal.lock:
            hs_list = self._list_lookup(request)
            if hs_list.processing_type != "MANUAL":
                raise _fail(
                    400,
                    "VALIDATION_ERROR",
                    "Memberships can only be changed for MANUAL lists",
                    sub="ILS.INVALID_LIST_PROCESSING_TYPE",
                )
            ids = [str(i) for i in request.json() or []]
            hs_list.members.extend(i for i in ids if i not in hs_list.members)
        return Response.json(200, {"recordIdsAdded": ids, "recordIdsMissing": []}, records=len(ids))

    # ---- owners -----------------------------------------------------------------------------

    @staticmethod
    def _owner_json(index: int) -> dict[str, Any]:
        o = OWNERS[index]
        return {
            "id": o.hubspot_id,
            "email": o.email,
            "type": "PERSON",
            "firstName": o.first_name,
            "lastName": o.last_name,
            "userId": 9000000 + index,
            "userIdIncludingInactive": 9000000 + index,
            "teams": [],
            "archived": False,
            "createdAt": "2020-01-01T00:00:00.000Z",
            "updatedAt": "2020-01-01T00:00:00.000Z",
        }

    def _owners(self, request: Request) -> Response:
        email = request.arg("email")
        results = [
            self._owner_json(i)
            for i, o in enumerate(OWNERS)
            if email is None or o.email.lower() == email.lower()
        ]
        return Response.json(200, {"results": results}, records=len(results))

    def _deal_pipelines(self, request: Request) -> Response:
        from tierwise.sandbox.hs_pipelines import deal_pipelines

        results = deal_pipelines()
        return Response.json(200, {"results": results}, records=len(results))

    def _owner(self, request: Request) -> Response:
        for i, o in enumerate(OWNERS):
            if o.hubspot_id == request.params["oid"]:
                return Response.json(200, self._owner_json(i), records=1)
        raise _fail(404, "OBJECT_NOT_FOUND", "Owner not found")


def _int(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _fail(400, "VALIDATION_ERROR", f"{name} must be an integer, got {raw!r}") from None


def _ranged(
    portal: HubSpotPortal, object_type: str, props: Mapping[str, PropertyDef], body: Any
) -> Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]] | None:
    """The rows of a search that is one GT/GTE filter on a number or date property sorted
    ascending by that property - keyset paging's query - read from the portal's sorted
    index (what the scan below would return, in the same order); None for any other search.
    """
    groups = body.get("filterGroups") or []
    sorts = body.get("sorts") or []
    if len(groups) != 1 or len(sorts) != 1 or len(groups[0].get("filters") or []) != 1:
        return None
    spec, sort = groups[0]["filters"][0], sorts[0]
    name = str(spec.get("propertyName"))
    op = str(spec.get("operator") or "EQ")
    ascending = isinstance(sort, dict) and (
        str(sort.get("propertyName")) == name
        and str(sort.get("direction", "ASCENDING")).upper() == "ASCENDING"
    )
    prop = props.get(name)
    if not ascending or op not in ("GT", "GTE") or prop is None:
        return None
    if prop.type not in ("number", "date", "datetime"):
        return None
    lower = _sortable(prop, str(spec.get("value")))
    index = portal.sorted_index(object_type, name, lambda text: _sortable(prop, text))
    if index is None or not isinstance(lower, int | float):
        return None
    keys, ids = index
    start = (bisect.bisect_left if op == "GTE" else bisect.bisect_right)(keys, lower)
    return _IndexRows(portal.objects[object_type], ids, start)


class _IndexRows(Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]):
    """``(object, properties)`` rows of ``ids[start:]``, built only for the page sliced."""

    def __init__(self, store: Mapping[str, Mapping[str, Any]], ids: list[str], start: int) -> None:
        self._store, self._ids, self._start = store, ids, start

    def __len__(self) -> int:
        return len(self._ids) - self._start

    @overload
    def __getitem__(self, at: int) -> tuple[Mapping[str, Any], Mapping[str, Any]]: ...

    @overload
    def __getitem__(self, at: slice) -> Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]: ...

    def __getitem__(self, at: int | slice) -> Any:
        if isinstance(at, int):
            obj = self._store[self._ids[self._start + at if at >= 0 else at]]
            return obj, obj["properties"]
        start, stop, step = at.indices(len(self))
        picked = self._ids[self._start + start : self._start + stop : step]
        return [(self._store[oid], self._store[oid]["properties"]) for oid in picked]


def _sortable(prop: PropertyDef | None, text: str) -> Any:
    if prop is None:
        return text
    if prop.type == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if prop.type in ("date", "datetime"):
        ms = to_epoch_ms(text)
        return ms if ms is not None else text
    if prop.type == "string":
        return text.lower()
    return text


def _lt(x: Any, y: Any) -> bool:
    try:
        return bool(x < y)
    except TypeError:
        return False


def _le(x: Any, y: Any) -> bool:
    try:
        return bool(x <= y)
    except TypeError:
        return False


_SINGULAR = {"companies": "company", "contacts": "contact", "tasks": "task", "deals": "deal"}
_ASSOC_TARGETS = {
    ("tasks", 192): "companies",
    ("tasks", 204): "contacts",
    ("companies", 191): "tasks",
    ("contacts", 203): "tasks",
    ("contacts", 279): "companies",
    ("contacts", 1): "companies",
    ("companies", 280): "contacts",
    ("companies", 2): "contacts",
    ("deals", 5): "companies",
    ("companies", 6): "deals",
}


def _assoc_target(object_type: str, type_id: int) -> str | None:
    return _ASSOC_TARGETS.get((object_type, type_id))


def _default_type(from_type: str, to_type: str) -> int:
    for (ftype, type_id), ttype in _ASSOC_TARGETS.items():
        if ftype == from_type and ttype == to_type:
            return type_id
    return 0
