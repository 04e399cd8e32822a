"""A small, strict SOQL parser and evaluator for the statements tierwise sends.

Supported: ``SELECT f1, f2 | COUNT() FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC]
[NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]``; conditions with ``= != <> < <= > >=``,
``[NOT] IN (...)``, ``LIKE``, ``INCLUDES``/``EXCLUDES``, ``AND``/``OR``/``NOT`` and
parentheses. Like real SOQL, mixing ``AND`` and ``OR`` at one level without
parentheses is a syntax error, text comparisons ignore case, and a dateTime literal is
unquoted (``2024-01-02T03:04:05Z`` or ``+00:00``) and only filters dateTime fields.

Values in the store are in wire form (dates ``YYYY-MM-DD``, datetimes
``...T..:..:...000+0000``), which sort correctly as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tierwise.sandbox.clock import epoch_ms, parse_iso, sf_datetime
from tierwise.sandbox.records import stored


class SoqlError(Exception):
    """``code`` is the Salesforce errorCode (MALFORMED_QUERY, INVALID_FIELD, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),:])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    "'": "'",
    '"': '"',
    "\\": "\\",
    "_": "\\_",
    "%": "\\%",
}
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "order",
    "by",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "limit",
    "offset",
    "true",
    "false",
    "null",
    "includes",
    "excludes",
    "group",
}
_RELATIVE = {
    "today",
    "yesterday",
    "tomorrow",
    "last_n_days",
    "next_n_days",
    "last_90_days",
    "next_90_days",
}
_AGGREGATES = {"count", "sum", "min", "max", "avg", "count_distinct"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any = None


def _unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise SoqlError("MALFORMED_QUERY", f"Invalid string literal escape: \\{nxt}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {text[pos : pos + 20]!r}")
        pos = found.end()
        kind = found.lastgroup or ""
        raw = found.group()
        if kind == "ws":
            continue
        if kind == "string":
            tokens.append(Token("string", raw, _unescape(raw[1:-1])))
        elif kind == "number":
            tokens.append(Token("number", raw, float(raw) if "." in raw else int(raw)))
        elif kind == "datetime":
            tokens.append(Token("datetime", raw, sf_datetime(parse_iso(raw))))
        elif kind == "ident" and raw.lower() in _KEYWORDS:
            tokens.append(Token("kw", raw.lower()))
        else:
            tokens.append(Token(kind, raw))
    tokens.append(Token("end", "<EOF>"))
    return tokens


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


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_kw(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "kw" and token.text in words

    def expect_kw(self, word: str) -> None:
        token = self.take()
        if token.kind != "kw" or token.text != word:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text}")

    def expect_punct(self, ch: str) -> None:
        token = self.take()
        if token.kind != "punct" or token.text != ch:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text}")

    def ident(self) -> str:
        token = self.take()
        if token.kind != "ident":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text}")
        return token.text

    def parse(self) -> Query:
        self.expect_kw("select")
        fields: list[str] = []
        count_only = False
        if (
            self.peek().kind == "ident"
            and self.peek().text.lower() == "count"
            and (self.tokens[self.i + 1].text == "(")
        ):
            self.take()
            self.expect_punct("(")
            self.expect_punct(")")
            count_only = True
        aggregates: list[Aggregate] = []
        subqueries: list[SubQuery] = []
        if not count_only:
            self.select_item(fields, aggregates, subqueries)
            while self.peek().text == ",":
                self.take()
                self.select_item(fields, aggregates, subqueries)
        self.expect_kw("from")
        object_name = self.ident()
        where = None
        if self.is_kw("where"):
            self.take()
            where = self.condition()
        group_by: list[str] = []
        if self.is_kw("group"):
            self.take()
            self.expect_kw("by")
            group_by.append(self.ident())
            while self.peek().text == ",":
                self.take()
                group_by.append(self.ident())
        if aggregates or group_by:
            grouped = {g.lower() for g in group_by}
            loose = [f for f in fields if f.lower() not in grouped]
            if loose:
                raise SoqlError(
                    "MALFORMED_QUERY", f"Field must be grouped or aggregated: {loose[0]}"
                )
        order: list[OrderItem] = []
        if self.is_kw("order"):
            self.take()
            self.expect_kw("by")
            order.append(self.order_item())
            while self.peek().text == ",":
                self.take()
                order.append(self.order_item())
        limit = None
        offset = 0
        if self.is_kw("limit"):
            self.take()
            limit = self.integer()
        if self.is_kw("offset"):
            self.take()
            offset = self.integer()
        if self.peek().kind != "end":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {self.peek().text}")
        if subqueries and (aggregates or group_by):
            raise SoqlError("MALFORMED_QUERY", "a relationship subquery cannot be aggregated")
        return Query(
            object_name,
            tuple(fields),
            count_only,
            where,
            tuple(order),
            limit,
            offset,
            tuple(aggregates),
            tuple(group_by),
            tuple(subqueries),
        )

    def subquery(self) -> SubQuery:
        self.expect_punct("(")
        self.expect_kw("select")
        fields = [self.ident()]
        while self.peek().text == ",":
            self.take()
            fields.append(self.ident())
        self.expect_kw("from")
        relationship = self.ident()
        where = None
        if self.is_kw("where"):
            self.take()
            where = self.condition()
        self.expect_punct(")")
        return SubQuery(relationship, tuple(fields), where)

    def select_item(
        self,
        fields: list[str],
        aggregates: list[Aggregate],
        subqueries: list[SubQuery] | None = None,
    ) -> None:
        if self.peek().kind == "punct" and self.peek().text == "(" and subqueries is not None:
            subqueries.append(self.subquery())
            return
        name = self.ident()
        if self.peek().text != "(":
            fields.append(name)
            return
        func = name.lower()
        if func not in _AGGREGATES:
            raise SoqlError("MALFORMED_QUERY", f"Unknown function: {name}")
        self.take()
        arg = None if self.peek().text == ")" else self.ident()
        self.expect_punct(")")
        if arg is None and func != "count":
            raise SoqlError("MALFORMED_QUERY", f"{name}() needs a field")
        alias = f"expr{len(aggregates)}"
        if self.peek().kind == "ident":
            alias = self.take().text
        aggregates.append(Aggregate(func, arg, alias))

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text}")
        return int(token.value)

    def order_item(self) -> OrderItem:
        name = self.ident()
        descending = False
        if self.is_kw("asc", "desc"):
            descending = self.take().text == "desc"
        nulls_last = descending
        if self.is_kw("nulls"):
            self.take()
            word = self.take()
            if word.text not in ("first", "last"):
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: {word.text}")
            nulls_last = word.text == "last"
        return OrderItem(name, descending, nulls_last)

    def condition(self) -> Any:
        items = [self.unary()]
        joiner: str | None = None
        while self.is_kw("and", "or"):
            word = self.take().text
            if joiner is not None and word != joiner:
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: {word.upper()}")
            joiner = word
            items.append(self.unary())
        return items[0] if joiner is None else BoolOp(joiner, tuple(items))

    def unary(self) -> Any:
        if self.is_kw("not"):
            self.take()
            return Not(self.unary())
        if self.peek().text == "(":
            self.take()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.predicate()

    def value(self) -> tuple[Any, str]:
        token = self.take()
        if token.kind in ("string", "number", "datetime"):
            return token.value, token.kind
        if token.kind == "date":
            return token.text, "date"
        if token.kind == "kw" and token.text in ("true", "false"):
            return token.text == "true", "boolean"
        if token.kind == "kw" and token.text == "null":
            return None, "null"
        if token.kind == "ident" and token.text.lower() in _RELATIVE:
            name = token.text.lower()
            n = 0
            if name in ("last_n_days", "next_n_days"):
                self.expect_punct(":")
                n = self.integer()
            return (name, n), "daterange"
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text}")

    def value_list(self) -> tuple[tuple[Any, ...], tuple[str, ...]]:
        self.expect_punct("(")
        values: list[Any] = []
        kinds: list[str] = []
        while True:
            value, kind = self.value()
            values.append(value)
            kinds.append(kind)
            if self.peek().text == ",":
                self.take()
                continue
            self.expect_punct(")")
            return tuple(values), tuple(kinds)

    def predicate(self) -> Any:
        name = self.ident()
        token = self.peek()
        if token.kind == "op":
            self.take()
            op = "!=" if token.text == "<>" else token.text
            value, kind = self.value()
            return Compare(name, op, value, kind)
        negated = False
        if self.is_kw("not"):
            self.take()
            negated = True
            if not self.is_kw("in"):
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: {self.peek().text}")
        if self.is_kw("in"):
            self.take()
            values, kinds = self.value_list()
            return InList(name, values, kinds, negated)
        if self.is_kw("like"):
            self.take()
            value, kind = self.value()
            if kind != "string":
                raise SoqlError("MALFORMED_QUERY", "LIKE needs a string literal")
            return Like(name, value)
        if self.is_kw("includes", "excludes"):
            word = self.take().text
            values, kinds = self.value_list()
            return Includes(name, tuple(str(v) for v in values), word == "excludes")
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text}")


def parse(text: str) -> Query:
    """Parse a SOQL statement; raises :class:`SoqlError` (MALFORMED_QUERY)."""
    return _Parser(text).parse()


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


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _id_norm(value: Any) -> Any:
    """Ids compare case-sensitively on their 15-character form (18 adds a case checksum)."""
    return value[:15] if isinstance(value, str) and len(value) == 18 else value


def _get(record: Mapping[str, Any], name: str) -> Any:
    return record.get(name)


def _stamp_norm(value: Any) -> Any:
    """A dateTime as epoch milliseconds, whether stored as an int or in wire form."""
    return epoch_ms(parse_iso(value)) if isinstance(value, str) else value


def normaliser(ftype: str) -> Callable[[Any], Any]:
    return _id_norm if ftype in ("id", "reference") else _norm


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


def simple_order(
    columns: Sequence[Sequence[Any]], items: tuple[OrderItem, ...], types: Mapping[str, str]
) -> list[int] | None:
    """The positions of the rows in ORDER BY order, or None when :func:`sort_key` is needed.

    ``columns[i]`` holds every row's stored value of ``items[i]``'s field. When no value
    is null and each column holds one kind (numbers, dateTimes or text), ordering on the
    normalised values themselves is what :func:`sort_key` orders (its null ranks and type
    tags are then all equal), DESC on a number or dateTime being the negated value; the
    sort is stable either way. Why: one key tuple per row built in Python cost most of a
    1,000,000-row ``ORDER BY SystemModstamp, Id`` (issue 15).
    """
    keys: list[list[Any]] = []
    for item, column in zip(items, columns, strict=True):
        kind = types.get(item.field, "string")
        if kind == "datetime":
            values = [_stamp_norm(v) for v in column]
        elif kind in ("id", "reference"):
            values = [_id_norm(v) for v in column]
        else:
            values = [_norm(v) for v in column]
        classes = {v.__class__ for v in values}
        if classes <= {int, float}:
            keys.append([-v for v in values] if item.descending else values)
        elif classes == {str} and not item.descending:
            keys.append(values)
        else:
            return None  # nulls, booleans, mixed kinds or DESC text: the general key
    table = keys[0] if len(keys) == 1 else list(zip(*keys, strict=True))
    return sorted(range(len(table)), key=table.__getitem__)


def sort_key(
    items: tuple[OrderItem, ...], types: Mapping[str, str] | None = None
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A key for ``list.sort`` honouring ASC/DESC and NULLS FIRST/LAST per item."""
    kinds = [(types or {}).get(item.field, "string") for item in items]
    norms = [_stamp_norm if kind == "datetime" else normaliser(kind) for kind in kinds]
    # A dateTime sorts on its stored form made epoch milliseconds: a seeded stamp is
    # already an int (records.Layout), and printing a million of them to compare their
    # text cost most of a 1,000,000-row ORDER BY (issue 15).
    getters = [stored if kind == "datetime" else _get for kind in kinds]

    class _Rev:
        __slots__ = ("v",)

        def __init__(self, v: Any) -> None:
            self.v = v

        def __lt__(self, other: _Rev) -> bool:
            return bool(other.v < self.v)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, _Rev) and bool(self.v == other.v)

        __hash__ = None  # type: ignore[assignment]  # unhashable, as __eq__ implies; typeshed types __hash__ as a method

    def key(rec: Mapping[str, Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for item, norm, get in zip(items, norms, getters, strict=True):
            value = norm(get(rec, item.field))
            null_rank = (
                (1 if item.nulls_last else 0) if value is None else (0 if item.nulls_last else 1)
            )
            if isinstance(value, bool):
                value = int(value)
            cell: Any = value if value is not None else 0
            if isinstance(cell, str | int | float):
                cell = (0, cell) if isinstance(cell, int | float) else (1, cell)
            out.append((null_rank, _Rev(cell) if item.descending else cell))
        return tuple(out)

    return key
