"""HubSpot search: filter groups, one sort, paging to the 10,000-result cap.

A mixin of ``HubSpotEmulator``, kept apart so the emulator stays a readable size: the
search handler and its filter (also used by ``hs_exports``) and sort, plus the
module-level pieces they evaluate with (the keyset-paging index read ``_ranged``, value
ordering ``_sortable``). Needs ``portal``, ``clock`` and ``_search_cache``, plus the
shared helpers of ``HubSpotRouteBase``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.hs_routes_common import HubSpotRouteBase, hs_fail
from tierwise.sandbox.hs_schema import PropertyDef, to_epoch_ms
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.wire import Request, Response

MAX_SEARCH_PAGE = 200
SEARCH_CAP = 10_000
MAX_SEARCH_BODY = 3_000


class HubSpotSearchRoutes(HubSpotRouteBase):
    """``POST .../{type}/search`` and the filter and sort it applies."""

    portal: HubSpotPortal
    clock: SandboxClock
    _search_cache: dict[str, tuple[int, list[Any]]]

    # ---- search -----------------------------------------------------------------------------

    def _search(self, request: Request) -> Response:
        object_type = request.params["type"]
        if len(request.body) > MAX_SEARCH_BODY:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"Search request body is {len(request.body)} characters; the maximum is "
                f"{MAX_SEARCH_BODY}",
            )
        body = self._body(request)
        raw_limit = body.get("limit", 10)
        limit = int(raw_limit) if raw_limit is not None else 10
        if not 0 <= limit <= MAX_SEARCH_PAGE:
            raise hs_fail(400, "VALIDATION_ERROR", f"limit must be between 0 and {MAX_SEARCH_PAGE}")
        after = int(body.get("after") or 0)
        if after >= SEARCH_CAP:
            raise hs_fail(
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
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                "Too many filters: at most 5 filterGroups with 6 filters each and 18 "
                "filters in total",
            )
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise hs_fail(400, "VALIDATION_ERROR", "Only one sort is supported")
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
            if ranged is not None:  # one range on the sorted property: the portal's sorted_index
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
            raise hs_fail(
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
            raise hs_fail(400, "VALIDATION_ERROR", f"Unknown operator {op}")
        if op == "NEQ":
            return lambda v: get(v) != value
        return lambda v: (x := get(v)) is not None and fn(x, value)


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
