"""The parsed SOQL statement: the tree ``soql.parse`` builds and the evaluators read.

Apart so the parser (``soql.py``), the WHERE compiler (``soql_where.py``), the ordering
(``soql_order.py``) and the org's query execution (``sf_org_query.py``) share the node
types without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ---- AST ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any
    value_kind: str


@dataclass(frozen=True)
class InList:
    field: str
    values: tuple[Any, ...]
    kinds: tuple[str, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: str
    pattern: str


@dataclass(frozen=True)
class Includes:
    field: str
    values: tuple[str, ...]
    negated: bool


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    item: Any


@dataclass(frozen=True)
class OrderItem:
    field: str
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Aggregate:
    func: str  # count, sum, min, max, avg, count_distinct
    field: str | None
    alias: str


@dataclass(frozen=True)
class SubQuery:
    """A parent-to-child relationship query in the SELECT list:
    ``(SELECT Amount FROM Opportunities WHERE IsClosed = false)`` [soql-relationships]
    developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/
    sforce_api_calls_soql_relationships_query_using.htm"""

    relationship: str
    fields: tuple[str, ...]
    where: Any


@dataclass(frozen=True)
class Query:
    object_name: str
    fields: tuple[str, ...]
    count_only: bool
    where: Any
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int
    aggregates: tuple[Aggregate, ...] = ()
    group_by: tuple[str, ...] = ()
    subqueries: tuple[SubQuery, ...] = ()
