"""Salesforce discovery routes: API versions, resources, ``/limits`` and describe.

A mixin of ``SalesforceEmulator`` (``salesforce.py`` registers the routes), kept apart
so the emulator class holds only dispatch, accounting and the route table: what a
client reads before it reads records (the version list, the resource map, the limits
and the describe of every object).
"""

from __future__ import annotations

from typing import Any

from tierwise.sandbox.sf_bulk_query import BulkQueryJobs
from tierwise.sandbox.sf_store import TOOLING_ONLY, SalesforceOrg
from tierwise.sandbox.wire import Request, Response


class DiscoveryRoutes:
    """Versions, resources, limits and describe; needs ``self.org``, the API usage
    (``daily_limit``, ``api_used``) and ``self.bulk_query``."""

    org: SalesforceOrg
    daily_limit: int
    api_used: int
    bulk_query: BulkQueryJobs

    # ---- discovery, limits --------------------------------------------------------------------

    def _versions(self, request: Request) -> Response:
        return Response.json(
            200,
            [
                {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"},
                {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
            ],
        )

    def _resources(self, request: Request) -> Response:
        v = request.params["ver"]
        base = f"/services/data/v{v}"
        return Response.json(
            200,
            {
                "limits": f"{base}/limits",
                "query": f"{base}/query",
                "queryAll": f"{base}/queryAll",
                "sobjects": f"{base}/sobjects",
                "composite": f"{base}/composite",
                "tooling": f"{base}/tooling",
                "jobs": f"{base}/jobs",
            },
        )

    def _limits(self, request: Request) -> Response:
        remaining = max(0, self.daily_limit - self.api_used)
        return Response.json(
            200,
            {
                "DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": self.bulk_query.remaining()},
                "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
                "DataStorageMB": {"Max": 5120, "Remaining": 5000},
            },
        )

    # ---- describe -----------------------------------------------------------------------------

    def _object_summary(self, object_name: str, version: str) -> dict[str, Any]:
        from tierwise.sandbox.sf_schema import KEY_PREFIX, LABELS

        label, plural = LABELS.get(object_name, (object_name, object_name + "s"))
        base = f"/services/data/v{version}/sobjects/{object_name}"
        return {
            "name": object_name,
            "label": label,
            "labelPlural": plural,
            "keyPrefix": KEY_PREFIX.get(object_name),
            "custom": False,
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": True,
            "retrieveable": True,
            "searchable": True,
            "layoutable": True,
            "urls": {
                "sobject": base,
                "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}",
            },
        }

    def _describe_global(self, request: Request) -> Response:
        version = request.params["ver"]
        return Response.json(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [
                    self._object_summary(name, version)
                    for name in self.org.schemas
                    if name not in TOOLING_ONLY
                ],
            },
        )

    def _basic(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        return Response.json(
            200,
            {
                "objectDescribe": self._object_summary(name, request.params["ver"]),
                "recentItems": [],
            },
        )

    def _describe(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        with self.org.lock:
            body = self._object_summary(name, request.params["ver"])
            body["fields"] = []
            for fdef in self.org.visible_fields(name):
                described = fdef.describe()
                if not self.org.editable(name, fdef):
                    described["updateable"] = described["createable"] = False
                body["fields"].append(described)
        return Response.json(200, body)
