"""A small, strict SOQL parser and evaluator for the statements tierwise sends.

Supported: ``SELECT f1, f2 | COUNT() FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC]
[NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]``; conditions with ``= != <> < <= > >=``,
``[NOT] IN (...)``, ``LIKE``, ``INCLUDES``/``EXCLUDES``, ``AND``/``OR``/``NOT`` and
parentheses. Like real SOQL, mixing ``AND`` and ``OR`` at one level without
parentheses is a syntax error, text comparisons ignore case, and a dateTime literal is
unquoted (``2024-01-02T03:04:05Z`` or ``+00:00``) and only filters dateTime fields.

Values in the store are in wire form (dates ``YYYY-MM-DD``, datetimes
``...T..:..:...000+0000``), which sort correctly as text.

The statement is parsed here; the rest sits in sibling modules: ``soql_tokens.py``
(``SoqlError``, the tokenizer), ``soql_ast.py`` (the tree), ``soql_where.py`` (the WHERE
compiler), ``soql_order.py`` (ORDER BY) and ``soql_values.py`` (how values compare).
``SoqlError``, ``OrderItem``, ``compile_where`` and ``sort_key`` stay importable from
here, where the bulk query jobs and the tests take them.
"""

from __future__ import annotations

from typing import Any

from tierwise.sandbox.soql_ast import (
    Aggregate,
    BoolOp,
    Compare,
    Includes,
    InList,
    Like,
    Not,
    Query,
    SubQuery,
)
from tierwise.sandbox.soql_ast import OrderItem as OrderItem
from tierwise.sandbox.soql_order import sort_key as sort_key
from tierwise.sandbox.soql_tokens import SoqlError as SoqlError
from tierwise.sandbox.soql_tokens import Token, tokenize
from tierwise.sandbox.soql_where import compile_where as compile_where

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
