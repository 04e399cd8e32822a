"""The HubSpot CRM v3 emulator: routes, auth, rate limits and error bodies.

Speaks what hubspot-api-client 12 sends: object list/read/create/update/archive with
``after`` paging, batch read/create/update/upsert (100 inputs, 207 multi-status),
search (filter groups, one sort, 200 a page, 10,000-result cap, 5 requests/s),
properties and groups (409 on duplicates), v4 associations, lists v3 and owners.
Errors are ``{status, message, correlationId, category, ...}``.

This module holds ``HubSpotEmulator`` itself: its state, auth, rate limits, fault answers
and the one route table. The handlers are mixins, one module per concern:
``hs_routes_objects`` (records, batches), ``hs_routes_search``, ``hs_routes_properties``
(properties and groups), ``hs_routes_associations``, ``hs_routes_lists`` (lists, owners,
deal pipelines), on the shared helpers of ``hs_routes_common`` (``hs_error`` among them).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.faults import FaultRule, FaultSet
from tierwise.sandbox.hs_exports import HubSpotExports
from tierwise.sandbox.hs_imports import HubSpotImports
from tierwise.sandbox.hs_records import HubSpotObject
from tierwise.sandbox.hs_routes_associations import HubSpotAssociationRoutes
from tierwise.sandbox.hs_routes_common import hs_error
from tierwise.sandbox.hs_routes_lists import HubSpotListOwnerRoutes
from tierwise.sandbox.hs_routes_objects import HubSpotObjectRoutes
from tierwise.sandbox.hs_routes_properties import HubSpotPropertyRoutes
from tierwise.sandbox.hs_routes_search import HubSpotSearchRoutes
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.wire import ApiError, Request, Response, Router

OBJ = r"(?P<type>companies|contacts|tasks|deals)"
# Date-based API versions served beside v3 (a new one each March and September).
DATE_VERSIONS = ("2026-03", "2026-09")


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


class HubSpotEmulator(
    HubSpotObjectRoutes,
    HubSpotSearchRoutes,
    HubSpotPropertyRoutes,
    HubSpotAssociationRoutes,
    HubSpotListOwnerRoutes,
):
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
