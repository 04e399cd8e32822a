"""A YAML mapping that remembers where it came from: the model loader's checks.

``model.yaml`` and the mapping file are edited by RevOps people, so every check must
point at a file, a line and a key path (``model.yaml:23: tiers[1].capacity: must be a
positive integer``). ``Node`` wraps one ruamel round-trip mapping with that position and
the typed reads the loaders share (text, numbers, flags, lists, sub-mappings), each
raising one ``ModelError`` on a bad value. Apart from the loader so the mapping file
(``tierwise.config.mapping``) and the issue-16 keys (``loader_coverage``) use the same
checks without importing the whole model loader.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tierwise.tiering.errors import ModelError

# Ids of fields, groups, signals, tiers and triggers.
ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Node:
    """A YAML mapping plus where it came from, so every check can point at a line."""

    def __init__(self, file: str, data: CommentedMap, path: str, line: int) -> None:
        self.file = file
        self.data = data
        self.path = path
        self.line = line

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int:
        try:
            return int(self.data.lc.key(key)[0]) + 1
        except (KeyError, TypeError, AttributeError):
            return self.line

    def fail(self, key: str | None, problem: str) -> NoReturn:
        if key is None:
            raise ModelError(self.file, self.line, self.path or "(root)", problem)
        raise ModelError(self.file, self.line_of(key), self.sub(key), problem)

    def keys(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        allowed = required + optional
        for key in self.data:
            if not isinstance(key, str):
                raise ModelError(
                    self.file, self.line, self.path or "(root)", f"key {key!r} must be text"
                )
            if key not in allowed:
                self.fail(key, f"unknown key (expected one of: {', '.join(allowed)})")
        for key in required:
            if key not in self.data:
                self.fail(None, f"missing required key '{key}'")

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key)
        if value is None:
            if default is not None:
                return default
            self.fail(key, "must not be empty")
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be non-empty text")
        return str(value)

    def ident(self, key: str) -> str:
        value = self.string(key)
        if not ID.match(value):
            self.fail(key, f"'{value}' must be lower_snake_case (a-z, 0-9, _)")
        return value

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        lo: float | None = None,
        hi: float | None = None,
        positive: bool = False,
    ) -> float:
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, "must be a number")
        result = float(value)
        if positive and result <= 0:
            self.fail(key, "must be a number > 0")
        if lo is not None and hi is not None and not lo <= result <= hi:
            self.fail(key, f"must be between {num(lo)} and {num(hi)}")
        if lo is not None and result < lo:
            self.fail(key, f"must be a number >= {num(lo)}")
        return result

    def integer(self, key: str, *, minimum: int) -> int:
        value = self.data.get(key)
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(key, f"must be {what}")
        return int(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value

    def mapping(self, key: str) -> Node:
        value = self.data.get(key)
        if not isinstance(value, CommentedMap):
            self.fail(key, "must be a mapping (key: value lines)")
        return Node(self.file, value, self.sub(key), self.line_of(key))

    def items(self, key: str, *, allow_empty: bool = False) -> list[Node]:
        """The list under ``key``, each element checked to be a mapping."""
        value = self.data.get(key)
        if value is None and allow_empty:
            return []
        if not isinstance(value, CommentedSeq):
            self.fail(key, "must be a list (lines starting with '-')")
        if not value and not allow_empty:
            self.fail(key, "must not be empty")
        nodes = []
        for index, item in enumerate(value):
            path = f"{self.sub(key)}[{index}]"
            line = item_line(value, index, self.line_of(key))
            if not isinstance(item, CommentedMap):
                raise ModelError(self.file, line, path, "must be a mapping (key: value lines)")
            nodes.append(Node(self.file, item, path, line))
        return nodes


def item_line(seq: CommentedSeq, index: int, fallback: int) -> int:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return fallback


def num(value: float) -> str:
    return f"{value:g}"


def unit_interval(node: Node, key: str, default: float | None = None) -> float:
    return node.number(key, default, lo=0.0, hi=1.0)


def strings(node: Node, key: str) -> tuple[str, ...]:
    """A non-empty list of text values under ``key``."""
    value = node.raw(key)
    if (
        not isinstance(value, CommentedSeq)
        or not value
        or not all(isinstance(item, str) for item in value)
    ):
        node.fail(key, "must be a non-empty list of text values")
    return tuple(str(item) for item in value)
