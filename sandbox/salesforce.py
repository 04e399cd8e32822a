"""The Salesforce REST emulator: dispatch, auth, API-usage accounting, error bodies, routes.

Speaks what simple-salesforce 1.12 sends: SOQL ``query``/``queryAll`` with
``nextRecordsUrl`` paging, describe, single-record CRUD and external-ID upsert, sObject
Collections (create/update/upsert/retrieve/delete, at most 200 records), Tooling
``CustomField`` creation, Bulk API 2.0 ingest and ``/limits``. Errors are JSON arrays
of ``{message, errorCode[, fields]}``; every response carries ``Sforce-Limit-Info``.

``SalesforceEmulator`` is composed of one mixin per group of routes, each in its own
module: ``sf_rest_discovery`` (versions, resources, limits, describe), ``sf_rest_query``,
``sf_rest_records``, ``sf_rest_collections``, ``sf_rest_tooling`` and ``sf_rest_bulk``
(shared helpers in ``sf_rest_common``). The route table stays here, in one place.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import MutableMapping
from datetime import date
from typing import Any
from urllib.parse import unquote

from tierwise.sandbox.bulk import BulkIngest
from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.faults import FaultRule, FaultSet
from tierwise.sandbox.sf_auth import OAuthEndpoints
from tierwise.sandbox.sf_bulk_query import BulkQueryJobs
from tierwise.sandbox.sf_rest_bulk import BulkRoutes
from tierwise.sandbox.sf_rest_collections import CollectionRoutes
from tierwise.sandbox.sf_rest_discovery import DiscoveryRoutes
from tierwise.sandbox.sf_rest_query import QueryRoutes
from tierwise.sandbox.sf_rest_records import RecordRoutes
from tierwise.sandbox.sf_rest_tooling import ToolingRoutes
from tierwise.sandbox.sf_store import (
    RecordError,
    RequestError,
    SalesforceOrg,
)
from tierwise.sandbox.wire import Request, Response, Router

V = r"/services/data/v(?P<ver>\d+\.\d+)"
MAX_URI = 16_384  # a GET longer than this is refused with 414 (move the SOQL to Bulk/POST)


def sf_error(
    status: int,
    code: str,
    message: str,
    fields: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return Response.json(status, [item], headers=headers)


class SalesforceEmulator(
    DiscoveryRoutes, QueryRoutes, RecordRoutes, CollectionRoutes, ToolingRoutes, BulkRoutes
):
    """One org behind one token. ``objects[name][id]`` is the live record store."""

    system = "salesforce"

    def __init__(
        self,
        clock: SandboxClock,
        faults: FaultSet,
        *,
        token: str,
        daily_limit: int,
        profile: str = "stock",
        bulk_poll_steps: int = 1,
        require_field_permissions: bool = True,
        usual_task_statuses: bool = False,
        soap_login_enabled: bool = False,
    ) -> None:
        self.org = SalesforceOrg(
            clock,
            profile=profile,
            require_field_permissions=require_field_permissions,
            usual_task_statuses=usual_task_statuses,
        )
        self.profile = profile
        self.require_field_permissions = require_field_permissions
        self.base_url = ""  # set by Sandbox.start: the instance URL the token endpoint returns
        self.auth = OAuthEndpoints(self, soap_login_enabled=soap_login_enabled)
        self.clock = clock
        self.faults = faults
        self.token = token
        self.daily_limit = daily_limit
        self.api_used = 0
        self._usage_day: date = clock.peek().date()
        self._usage_lock = threading.Lock()
        self.bulk = BulkIngest(self.org, poll_steps=bulk_poll_steps)
        self.bulk_query = BulkQueryJobs(self.org, poll_steps=bulk_poll_steps)
        self.router = Router()
        self._routes()

    # ---- public state -----------------------------------------------------------------------

    @property
    def objects(self) -> dict[str, dict[str, MutableMapping[str, Any]]]:
        return self.org.objects

    def edit(
        self, object_name: str, record_id: str, values: dict[str, Any], *, by_user: bool = True
    ) -> None:
        """Change a record as a person in the Salesforce UI would (validated, stamped,
        not counted). ``by_user=False`` is an automated process: only SystemModstamp moves."""
        with self.org.lock:
            plan = self.org.plan(object_name, record_id, values)
            before = self.org.objects[object_name][plan.record_id].get("LastModifiedDate")
            self.org.commit(plan)
            if not by_user:
                self.org.objects[object_name][plan.record_id]["LastModifiedDate"] = before

    def reset_api_usage(self) -> None:
        with self._usage_lock:
            self.api_used = 0

    # ---- emulator protocol ------------------------------------------------------------------

    def template(self, method: str, path: str) -> str:
        route, params, _ = self.router.match(method, path)
        if route is None:
            return re.sub(r"/v\d+\.\d+", "/vXX.X", path)
        template = route.template.replace("{object}", params.get("object", "{object}"))
        return template.replace("{field}", params.get("field", "{field}"))

    def _limit_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.daily_limit}"}

    def _authorized(self, request: Request) -> bool:
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        return scheme.lower() in ("bearer", "oauth") and (
            token.strip() == self.token or token.strip() in self.auth.issued
        )

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(("/services/oauth2/", "/services/Soap/")):
            return self.auth.dispatch(request)
        if not self._authorized(request):
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self._usage_lock:
            today = self.clock.peek().date()
            if today != self._usage_day:
                self._usage_day = today
                self.api_used = 0
            if self.api_used >= self.daily_limit:
                return sf_error(
                    403,
                    "REQUEST_LIMIT_EXCEEDED",
                    "TotalRequests Limit exceeded.",
                    headers=self._limit_header(),
                )
            self.api_used += 1
        route, params, path_matched = self.router.match(request.method, request.path)
        if request.method == "GET" and request.target_length > MAX_URI:
            response = sf_error(
                414, "URI_TOO_LONG", f"The request URI is longer than {MAX_URI} characters"
            )
        elif route is None:
            if path_matched:
                response = sf_error(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{request.method}' not allowed. Allowed are GET,HEAD,PATCH,POST",
                )
            else:
                response = sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        else:
            request.params = {k: unquote(v) for k, v in params.items()}
            try:
                response = route.handler(request)
            except RequestError as exc:
                response = sf_error(exc.status, exc.code, exc.message)
            except RecordError as exc:
                response = sf_error(400, exc.code, exc.message, exc.fields)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                response = sf_error(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}")
        response.headers.update(self._limit_header())
        return response

    def fault_response(self, rule: FaultRule, request: Request) -> Response:
        kind = rule.kind
        headers = self._limit_header()
        if kind in ("invalid_session",):
            return sf_error(rule.status or 401, "INVALID_SESSION_ID", "Session expired or invalid")
        if kind in ("request_limit", "daily_limit"):
            return sf_error(
                rule.status or 403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                headers=headers,
            )
        if kind == "query_timeout":
            return sf_error(
                rule.status or 400,
                "QUERY_TIMEOUT",
                "Your query request was running for too long.",
                headers=headers,
            )
        if kind == "http_429":
            response = sf_error(
                rule.status or 429,
                "REQUEST_LIMIT_EXCEEDED",
                rule.message or "Too many requests",
                headers=headers,
            )
            if rule.retry_after is not None:
                response.headers["Retry-After"] = rule.retry_after
            return response
        status = rule.status or int(kind.removeprefix("http_"))
        if status == 503:
            return sf_error(
                503,
                "SERVER_UNAVAILABLE",
                rule.message or "Server temporarily unavailable",
                headers=headers,
            )
        if status in (502, 504):
            text = "Bad Gateway" if status == 502 else "Gateway Timeout"
            return Response.text(
                status, f"<html><body><h1>{status} {text}</h1></body></html>", "text/html"
            )
        return sf_error(
            status,
            "UNKNOWN_EXCEPTION",
            rule.message
            or "An unexpected error occurred. Please include this ErrorId if you "
            "contact support: 1234567890-12345 (-1234567890)",
            headers=headers,
        )

    # ---- routes -----------------------------------------------------------------------------

    def _routes(self) -> None:
        r = self.router.add
        t = "/services/data/vXX.X"
        r("GET", r"/services/data/?", "/services/data", self._versions)
        r("GET", V + r"/?", t, self._resources)
        r("GET", V + r"/limits/?", t + "/limits", self._limits)
        r("GET", V + r"/(?P<kind>query|queryAll)/?", t + "/query", self._query)
        r("GET", V + r"/tooling/(?P<kind>query)/?", t + "/tooling/query", self._tooling_query)
        r(
            "GET",
            V + r"/(?P<kind>query|queryAll)/(?P<cursor>[A-Za-z0-9]+)-(?P<offset>\d+)",
            t + "/query/{cursor}",
            self._query_more,
        )
        r("GET", V + r"/sobjects/?", t + "/sobjects", self._describe_global)
        r("GET", V + r"/sobjects/(?P<object>\w+)/?", t + "/sobjects/{object}", self._basic)
        r(
            "GET",
            V + r"/sobjects/(?P<object>\w+)/describe/?",
            t + "/sobjects/{object}/describe",
            self._describe,
        )
        r("POST", V + r"/sobjects/(?P<object>\w+)/?", t + "/sobjects/{object}", self._create)
        rid = r"(?P<id>[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?)"
        r(
            "GET",
            V + rf"/sobjects/(?P<object>\w+)/{rid}/?",
            t + "/sobjects/{object}/{id}",
            self._get,
        )
        r(
            "PATCH",
            V + rf"/sobjects/(?P<object>\w+)/{rid}/?",
            t + "/sobjects/{object}/{id}",
            self._update,
        )
        r(
            "DELETE",
            V + rf"/sobjects/(?P<object>\w+)/{rid}/?",
            t + "/sobjects/{object}/{id}",
            self._delete,
        )
        ext = r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)/?"
        r("GET", V + ext, t + "/sobjects/{object}/{field}/{value}", self._get_external)
        r("PATCH", V + ext, t + "/sobjects/{object}/{field}/{value}", self._upsert)
        coll = t + "/composite/sobjects"
        r("POST", V + r"/composite/sobjects/?", coll, self._collection_create)
        r("PATCH", V + r"/composite/sobjects/?", coll, self._collection_update)
        r("DELETE", V + r"/composite/sobjects/?", coll, self._collection_delete)
        r(
            "GET",
            V + r"/composite/sobjects/(?P<object>\w+)/?",
            coll + "/{object}",
            self._collection_retrieve,
        )
        r(
            "POST",
            V + r"/composite/sobjects/(?P<object>\w+)/?",
            coll + "/{object}",
            self._collection_retrieve,
        )
        r(
            "PATCH",
            V + r"/composite/sobjects/(?P<object>\w+)/(?P<field>\w+)/?",
            coll + "/{object}/{field}",
            self._collection_upsert,
        )
        tool = t + "/tooling/sobjects/CustomField"
        r("POST", V + r"/tooling/sobjects/CustomField/?", tool, self._tooling_create_field)
        r(
            "GET",
            V + r"/tooling/sobjects/CustomField/(?P<id>\w+)/?",
            tool + "/{id}",
            self._tooling_get_field,
        )
        jobs = t + "/jobs/ingest"
        r("POST", V + r"/jobs/ingest/?", jobs, self._bulk_create)
        r("GET", V + r"/jobs/ingest/?", jobs, self._bulk_list)
        r("GET", V + r"/jobs/ingest/(?P<job>\w+)/?", jobs + "/{id}", self._bulk_get)
        r("PATCH", V + r"/jobs/ingest/(?P<job>\w+)/?", jobs + "/{id}", self._bulk_state)
        r("DELETE", V + r"/jobs/ingest/(?P<job>\w+)/?", jobs + "/{id}", self._bulk_delete)
        r(
            "PUT",
            V + r"/jobs/ingest/(?P<job>\w+)/batches/?",
            jobs + "/{id}/batches",
            self._bulk_upload,
        )
        r(
            "GET",
            V + r"/jobs/ingest/(?P<job>\w+)/(?P<kind>successfulResults|failedResults|"
            r"unprocessedrecords|unprocessedRecords)/?",
            jobs + "/{id}/results",
            self._bulk_results,
        )
        self.bulk_query.add_routes(r, V, t)  # Bulk API 2.0 query jobs: sandbox/sf_bulk_query.py
