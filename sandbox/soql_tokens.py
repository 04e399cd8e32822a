"""SOQL's error type and its tokenizer: statement text into typed tokens.

Apart from the parser (``soql.py``) so the parser, the WHERE compiler
(``soql_where.py``) and the org's query execution share ``SoqlError`` without importing
one another. The tokenizer turns string literals (with SOQL's escapes), numbers, unquoted
date and dateTime literals and keywords into :class:`Token` values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tierwise.sandbox.clock import parse_iso, sf_datetime


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
