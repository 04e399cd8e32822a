"""The org's reads: SOQL execution, subquery children, and the query locators that page them.

A mixin of ``SalesforceOrg`` (``sf_store.py``), kept apart so the org stays a readable
size. The SOQL text is parsed and compiled by ``soql.py`` and its siblings; this module
applies it to the stored records: field resolution as the API user sees them, matching,
ordering, aggregates, and the value snapshots a locator holds (``records.ProjectedRows``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierwise.sandbox import soql
from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.records import ChildRows, ProjectedRows, snapshot
from tierwise.sandbox.sf_errors import RequestError
from tierwise.sandbox.sf_org_schema import OrgSchema
from tierwise.sandbox.soql_ast import Aggregate, OrderItem, SubQuery
from tierwise.sandbox.soql_order import simple_order, sort_key
from tierwise.sandbox.soql_tokens import SoqlError
from tierwise.sandbox.soql_where import Predicate, compile_where

# Objects only the Tooling API answers for.
TOOLING_ONLY = frozenset({"CustomField"})
# (parent, relationship name) -> (child object, foreign key): standard child relationships
# are the child's plural name [soql-relationships]; Tasks/Events hang off AccountId.
CHILD_RELATIONSHIPS = {
    ("Account", "opportunities"): ("Opportunity", "AccountId"),
    ("Account", "tasks"): ("Task", "AccountId"),
    ("Account", "events"): ("Event", "AccountId"),
}
# Children returned inline per parent before the child result pages with its own
# nextRecordsUrl. The docs say only that subquery results may need queryMore "if there
# are many children" [soql-relationship-results]; 200 is a GUESS (public reports: 200-2000).
CHILD_BATCH = 200
# Rows all open query locators may hold together: a sandbox memory guard, not a Salesforce
# rule (two full pulls of a 1,000,000-account org fit). A locator holds, per matching row,
# one tuple of the selected fields' stored values (records.ProjectedRows; ~100-300 bytes,
# the values themselves shared with the store), plus its subqueries' matching children as
# tuples too; wire dicts exist only for the page being answered. A child locator (a
# parent's children past CHILD_BATCH) holds that parent's child wire dicts and counts here.
CURSOR_ROWS = 2_500_000


@dataclass
class Cursor:
    object_name: str
    rows: Sequence[dict[str, Any]]
    batch: int


class OrgQueries(OrgSchema):
    """SOQL execution and locators; reads ``OrgSchema``'s ``lock``, ``objects``,
    ``deleted``, ``schemas`` and ``layouts``."""

    clock: SandboxClock
    cursors: dict[str, Cursor]
    _cursor_ids: itertools.count[int]

    # ---- reads ------------------------------------------------------------------------------

    def project(
        self, object_name: str, record: Mapping[str, Any], fields: Iterable[str], version: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {
                "type": object_name,
                "url": f"/services/data/v{version}/sobjects/{object_name}/{record['Id']}",
            }
        }
        for name in fields:
            out[name] = record.get(name)
        return out

    def run_query(
        self, text: str, *, include_deleted: bool, version: str, tooling: bool = False
    ) -> tuple[str, Sequence[dict[str, Any]], int]:
        """Execute SOQL; returns (object, rows, total size). ``tooling``: the Tooling API's
        query, the only one that reaches Tooling objects (CustomField).

        The rows are a :class:`ProjectedRows`: the matching rows' values (and each
        subquery's matching children) are taken now, as tuples, and made wire dicts only
        for the slice a page reads. Why: a first page, and its ``totalSize``, must come
        back at once whatever the size (a worker asks one page to choose REST or Bulk 2.0;
        projecting 1,000,000 rows with their subquery first outlasted its 60 s read
        timeout; issue 15). The values stay those the query saw: Salesforce keeps "cursors
        and their related query results ..., including results in nested queries" with
        the locator (apicursors, cited at :meth:`open_cursor`)."""
        try:
            query = soql.parse(text)
        except SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc
        try:
            object_name = self.object_name(query.object_name)
            if object_name in TOOLING_ONLY and not tooling:
                raise RequestError(404, "NOT_FOUND", object_name)
        except RequestError as exc:
            raise RequestError(
                400,
                "INVALID_TYPE",
                f"\n{text}\n^\nERROR at Row:1:Column:1\nsObject type '{query.object_name}' is not "
                "supported. If you are attempting to use a custom object, be sure to append the "
                "'__c' after the entity name. Please reference your WSDL or the describe call for "
                "the appropriate names.",
            ) from exc

        def resolve(name: str) -> tuple[str, str]:
            fdef = self.field(object_name, name)
            if fdef is None:
                raise RequestError(
                    400,
                    "INVALID_FIELD",
                    f"\n{text[:200]}\n^\nERROR at Row:1:Column:1\nNo such column '{name}' on "
                    f"entity '{object_name}'. If you are attempting to use a custom field, be sure "
                    "to append the '__c' after the custom field name. Please reference your WSDL "
                    "or the describe call for the appropriate names.",
                )
            return fdef.name, fdef.type

        fields = [resolve(name)[0] for name in query.fields]
        group_by = [resolve(name)[0] for name in query.group_by]
        aggregates = [
            Aggregate(a.func, resolve(a.field)[0] if a.field else None, a.alias)
            for a in query.aggregates
        ]
        predicate = self._predicate(query.where, object_name, resolve)
        order = tuple(
            OrderItem(resolve(item.field)[0], item.descending, item.nulls_last)
            for item in query.order
        )
        with self.lock:
            pools = [self.objects[object_name].values()]
            if include_deleted:
                pools.append(self.deleted[object_name].values())
            matched = [rec for pool in pools for rec in pool if predicate is None or predicate(rec)]
            if aggregates or group_by:
                rows = _aggregate(matched, fields, group_by, aggregates)
                if order:
                    rows.sort(key=sort_key(order))
                rows = rows[query.offset :]
                if query.limit is not None:
                    rows = rows[: query.limit]
                return object_name, rows, len(rows)
            layout = self.layouts[object_name]
            if order and not query.count_only:
                matched = self._ordered(object_name, matched, order)
            matched = matched[query.offset :]
            if query.limit is not None:
                matched = matched[: query.limit]
            if query.count_only:
                return object_name, [], len(matched)
            values = snapshot(matched, fields, layout)
            ids = {row[0] for row in values} if query.subqueries else set()
            subs = [self._child_rows(object_name, sub, ids) for sub in query.subqueries]
            projected = ProjectedRows(object_name, fields, version, values, layout, subs)
        return object_name, projected, len(projected)

    def _ordered(
        self,
        object_name: str,
        matched: list[MutableMapping[str, Any]],
        order: tuple[OrderItem, ...],
    ) -> list[MutableMapping[str, Any]]:
        """``matched`` in ORDER BY order: on the stored values' columns when they are
        simple (soql_order.simple_order), else one key per row (soql_order.sort_key)."""
        types = {f: self.schemas[object_name][f].type for f in (i.field for i in order)}
        names = [item.field for item in order]
        rows = snapshot(matched, names, self.layouts[object_name], with_id=False)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        positions = simple_order(columns, order, types)
        if positions is None:
            return sorted(matched, key=sort_key(order, types))
        return [matched[n] for n in positions]

    def _predicate(
        self, where: Any, object_name: str, resolve: Callable[[str], tuple[str, str]]
    ) -> Predicate | None:
        """The WHERE clause as a predicate (None: no clause); a SOQL error answers 400."""
        if where is None:
            return None
        try:
            return compile_where(where, object_name, resolve, self.clock.peek().date())
        except SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc

    def _child_rows(self, parent: str, sub: SubQuery, wanted: set[str]) -> ChildRows:
        """A subquery's matching children per parent, as the query sees them: value
        snapshots; the page that shows a parent makes its ``{totalSize, done, records}``
        (null when it has no child) and a child locator when they page."""
        found = CHILD_RELATIONSHIPS.get((parent, sub.relationship.lower()))
        if found is None:
            raise RequestError(
                400,
                "INVALID_TYPE",
                f"Didn't understand relationship '{sub.relationship}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name.",
            )
        child, key = found

        def resolve(name: str) -> tuple[str, str]:
            fdef = self.field(child, name)
            if fdef is None:
                raise RequestError(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{child}'."
                )
            return fdef.name, fdef.type

        names = [resolve(n)[0] for n in sub.fields]
        predicate = self._predicate(sub.where, child, resolve)
        layout = self.layouts[child]
        kept: dict[str, list[MutableMapping[str, Any]]] = {}
        for rec in self.objects[child].values():
            parent_id = str(rec.get(key) or "")
            if parent_id in wanted and (predicate is None or predicate(rec)):
                kept.setdefault(parent_id, []).append(rec)
        by_parent = {pid: snapshot(recs, names, layout) for pid, recs in kept.items()}
        relationship = {"opportunities": "Opportunities", "tasks": "Tasks", "events": "Events"}[
            sub.relationship.lower()
        ]
        decoders = [layout.decoders[layout.slot(name)] for name in names]

        def locate(object_name: str, version: str, wired: list[dict[str, Any]]) -> str:
            cursor = self.open_cursor(object_name, wired, CHILD_BATCH)
            return f"/services/data/v{version}/query/{cursor}-{CHILD_BATCH}"

        return ChildRows(relationship, child, names, decoders, by_parent, CHILD_BATCH, locate)

    def open_cursor(self, object_name: str, rows: Sequence[dict[str, Any]], batch: int) -> str:
        with self.lock:
            cursor_id = f"01gHn{next(self._cursor_ids):010d}"
            self.cursors[cursor_id] = Cursor(object_name, rows, batch)
            # Salesforce keeps a locator and its results two days and no longer caps open
            # cursors (API v56.0+:
            # https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-apicursors.html).
            # A memory guard only (issue 15): no more than CURSOR_ROWS rows held across
            # the locators (value tuples, not wire dicts: see CURSOR_ROWS), the least
            # recently used dropped first (a queryMore uses its locator); the newest is
            # always kept. An evicted locator answers INVALID_QUERY_LOCATOR, as an
            # expired one does.
            held = sum(len(c.rows) for c in self.cursors.values())
            while len(self.cursors) > 1 and held > CURSOR_ROWS:
                held -= len(self.cursors.pop(next(iter(self.cursors))).rows)
            return cursor_id


def _aggregate(
    records: list[MutableMapping[str, Any]],
    fields: list[str],
    group_by: list[str],
    aggregates: list[Aggregate],
) -> list[dict[str, Any]]:
    """AggregateResult rows: one per group (one overall without GROUP BY)."""
    groups: dict[tuple[Any, ...], list[MutableMapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(tuple(record.get(g) for g in group_by), []).append(record)
    if not group_by and not groups:
        groups[()] = []
    rows: list[dict[str, Any]] = []
    for key, members in groups.items():
        row: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        row.update(zip(group_by, key, strict=True))
        for name in fields:
            row.setdefault(name, members[0].get(name) if members else None)
        for agg in aggregates:
            values = [m.get(agg.field) for m in members] if agg.field else [1] * len(members)
            present = [v for v in values if v is not None]
            if agg.func == "count":
                row[agg.alias] = len(present)
            elif agg.func == "count_distinct":
                row[agg.alias] = len(set(present))
            elif not present:
                row[agg.alias] = None
            elif agg.func == "sum":
                row[agg.alias] = sum(present)
            elif agg.func == "avg":
                row[agg.alias] = sum(present) / len(present)
            else:
                row[agg.alias] = min(present) if agg.func == "min" else max(present)
        rows.append(row)
    return rows
