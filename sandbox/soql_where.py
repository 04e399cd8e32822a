"""The SOQL WHERE compiler: a condition tree into a predicate over stored records.

Apart from the parser (``soql.py``) because it needs the fields' types (``resolve``)
and today's date, which only the query's executor knows (``sf_org_query.py``,
``sf_bulk_query.py``). It checks each literal against its field's type the way
Salesforce does (a quoted dateTime is MALFORMED_QUERY, a wrong operator
INVALID_QUERY_FILTER_OPERATOR). Values in the store are in wire form (dates
``YYYY-MM-DD``, datetimes ``...T..:..:...000+0000``), which compare correctly as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tierwise.sandbox.soql_ast import BoolOp, Compare, Includes, InList, Like, Not
from tierwise.sandbox.soql_tokens import SoqlError
from tierwise.sandbox.soql_values import normaliser

# ---- evaluation ----------------------------------------------------------------------------

_NUMERIC = {"double", "int", "currency", "percent"}
_TEXTUAL = {
    "string",
    "textarea",
    "url",
    "picklist",
    "id",
    "reference",
    "email",
    "phone",
    "multipicklist",
}


def _check_kind(object_name: str, field: str, ftype: str, kind: str) -> None:
    ok = (
        kind == "null"
        or (kind == "daterange" and ftype in ("date", "datetime"))
        or (kind == "string" and ftype in _TEXTUAL)
        or (kind == "number" and ftype in _NUMERIC)
        or (kind == "boolean" and ftype == "boolean")
        or (kind == "datetime" and ftype == "datetime")
        or (kind == "date" and ftype == "date")
    )
    if not ok:
        expected = {"datetime": "dateTime", "date": "date", "boolean": "boolean"}.get(ftype)
        if expected is not None:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"value of filter criterion for field '{field}' must be of type {expected} "
                "and should not be enclosed in quotes",
            )
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR",
            f"invalid operator or value type on field '{field}' of {object_name}",
        )


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


Predicate = Callable[[Mapping[str, Any]], bool]


def date_range(spec: tuple[str, int], today: date) -> tuple[date, date]:
    """The inclusive day range of a relative date literal (UTC days)."""
    name, n = spec
    one = timedelta(days=1)
    ranges = {
        "today": (today, today),
        "yesterday": (today - one, today - one),
        "tomorrow": (today + one, today + one),
        "last_n_days": (today - timedelta(days=n), today),
        "next_n_days": (today, today + timedelta(days=n)),
        "last_90_days": (today - timedelta(days=90), today),
        "next_90_days": (today, today + timedelta(days=90)),
    }
    return ranges[name]


def compile_where(
    node: Any,
    object_name: str,
    resolve: Callable[[str], tuple[str, str]],
    today: date | None = None,
) -> Predicate:
    """Turn a WHERE tree into a predicate; ``resolve`` maps a name to (field, type);
    ``today`` anchors relative date literals (TODAY, LAST_N_DAYS:n, ...)."""
    if isinstance(node, BoolOp):
        parts = [compile_where(item, object_name, resolve, today) for item in node.items]
        if node.op == "and":
            return lambda rec: all(p(rec) for p in parts)
        return lambda rec: any(p(rec) for p in parts)
    if isinstance(node, Not):
        inner = compile_where(node.item, object_name, resolve, today)
        return lambda rec: not inner(rec)
    if isinstance(node, Compare):
        field, ftype = resolve(node.field)
        _check_kind(object_name, field, ftype, node.value_kind)
        if node.value_kind == "daterange":
            return _compare_range(field, ftype, node.op, node.value, today)
        return _compare(field, node.op, node.value, normaliser(ftype))
    if isinstance(node, InList):
        field, ftype = resolve(node.field)
        for kind in node.kinds:
            _check_kind(object_name, field, ftype, kind)
            if kind == "daterange":
                raise SoqlError("MALFORMED_QUERY", "date literals are not supported inside IN")
        norm = normaliser(ftype)
        wanted = {norm(v) for v in node.values}
        if node.negated:
            return lambda rec: norm(rec.get(field)) not in wanted
        return lambda rec: norm(rec.get(field)) in wanted
    if isinstance(node, Like):
        field, ftype = resolve(node.field)
        if ftype not in _TEXTUAL:
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on field '{field}'")
        regex = _like_regex(node.pattern)
        return lambda rec: (
            isinstance(rec.get(field), str) and regex.fullmatch(rec[field]) is not None
        )
    if isinstance(node, Includes):
        field, ftype = resolve(node.field)
        if ftype != "multipicklist":
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                "includes or excludes operator only valid on multipicklist field",
            )
        groups = [{part.strip().lower() for part in v.split(";")} for v in node.values]

        def includes(rec: Mapping[str, Any]) -> bool:
            have = {p.strip().lower() for p in (rec.get(field) or "").split(";") if p.strip()}
            hit = any(group <= have for group in groups)
            return not hit if node.negated else hit

        return includes
    raise SoqlError("MALFORMED_QUERY", "unsupported condition")


def _compare_range(
    field: str, ftype: str, op: str, spec: tuple[str, int], today: date | None
) -> Predicate:
    start, end = date_range(spec, today or datetime.now(UTC).date())
    if ftype == "date":
        lo, hi = start.isoformat(), end.isoformat()
    else:
        lo, hi = f"{start.isoformat()}T00:00:00.000+0000", f"{end.isoformat()}T23:59:59.999+0000"

    def test(rec: Mapping[str, Any]) -> bool:
        value = rec.get(field)
        if value is None:
            return op == "!="
        inside = lo <= value <= hi
        return bool(
            {
                "=": inside,
                "!=": not inside,
                "<": value < lo,
                "<=": value <= hi,
                ">": value > hi,
                ">=": value >= lo,
            }[op]
        )

    return test


def _compare(field: str, op: str, value: Any, norm: Callable[[Any], Any]) -> Predicate:
    target = norm(value)
    if op == "=":
        return lambda rec: norm(rec.get(field)) == target
    if op == "!=":
        return lambda rec: norm(rec.get(field)) != target
    if value is None:
        raise SoqlError("MALFORMED_QUERY", f"invalid operator {op} with null")

    def ordered(rec: Mapping[str, Any]) -> bool:
        have = norm(rec.get(field))
        if have is None:
            return False
        try:
            if op == "<":
                return bool(have < target)
            if op == "<=":
                return bool(have <= target)
            if op == ">":
                return bool(have > target)
            return bool(have >= target)
        except TypeError:
            return False

    return ordered
