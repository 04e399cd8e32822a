"""The model's signals: one ``signals`` entry of a group read into a ``SignalSpec``.

Each signal kind (range, category, contains_any, bool, recency) has its own keys and
checks; they are the longest part of ``model.yaml``'s validation, kept apart from the
loader's sections (fields, groups, tiers, plays, triggers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ruamel.yaml.comments import CommentedSeq

from tierwise.tiering.model import KIND_FIELD_TYPES, SIGNAL_KINDS, SignalSpec
from tierwise.tiering.yaml_node import Node, strings, unit_interval


def signal_spec(
    node: Node, seen: dict[str, str], fields: Mapping[str, str]
) -> tuple[SignalSpec, float]:
    """One signal of a group and its weight (a share of the group's, scaled by the caller);
    ``seen``: the signal ids so far, by kind; ``fields``: the model's declared fields."""
    kind = node.string("kind") if "kind" in node.data else None
    specific: dict[str, tuple[str, ...]] = {
        "range": ("points",),
        "category": ("table",),
        "contains_any": ("any_of",),
        "bool": (),
        "recency": ("half_life_days",),
    }
    optional: dict[str, tuple[str, ...]] = {
        "range": ("unit",),
        "category": ("default",),
        "contains_any": ("match", "no_match"),
        "bool": ("if_true", "if_false"),
        "recency": (),
    }
    common = ("id", "field", "kind", "weight", "missing")
    if kind is not None and kind not in SIGNAL_KINDS:
        node.fail(
            "kind", f"unknown signal kind '{kind}' (expected one of: {', '.join(SIGNAL_KINDS)})"
        )
    if kind is None:
        node.fail(None, "missing required key 'kind'")
    node.keys(common + specific[kind], ("label",) + optional[kind])
    signal_id = node.ident("id")
    if signal_id in seen:
        node.fail("id", f"duplicate signal id '{signal_id}'")
    seen[signal_id] = kind
    field_name = node.string("field")
    field_type = fields.get(field_name)
    if field_type is None:
        node.fail("field", f"'{field_name}' is not declared under fields")
    if field_type not in KIND_FIELD_TYPES[kind]:
        node.fail(
            "field",
            f"a {kind} signal needs a {' or '.join(KIND_FIELD_TYPES[kind])} "
            f"field, but '{field_name}' is {field_type}",
        )
    weight = node.number("weight", lo=0.0)
    base: dict[str, Any] = {
        "id": signal_id,
        "field": field_name,
        "kind": kind,
        "weight": weight,
        "missing": unit_interval(node, "missing"),
        "label": node.string("label", "") if node.has("label") else "",
    }
    builders: dict[str, Callable[[Node], dict[str, Any]]] = {
        "range": _range_parts,
        "category": _category_parts,
        "contains_any": _contains_parts,
        "bool": _bool_parts,
        "recency": _recency_parts,
    }
    base.update(builders[kind](node))
    return SignalSpec(**base), weight


def with_weight(spec: SignalSpec, points: float) -> SignalSpec:
    """``spec`` with ``weight`` in points (the model states shares of the group)."""
    values = {name: getattr(spec, name) for name in SignalSpec.__slots__}
    values["weight"] = points
    return SignalSpec(**values)


def _range_parts(node: Node) -> dict[str, Any]:
    raw = node.raw("points")
    problem = "must be a list of at least two [value, score] pairs, values ascending, scores 0..1"
    if not isinstance(raw, CommentedSeq) or len(raw) < 2:
        node.fail("points", problem)
    points: list[tuple[float, float]] = []
    for pair in raw:
        if (
            not isinstance(pair, CommentedSeq)
            or len(pair) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in pair)
        ):
            node.fail("points", problem)
        x, y = float(pair[0]), float(pair[1])
        if not 0 <= y <= 1 or (points and x <= points[-1][0]):
            node.fail("points", problem)
        points.append((x, y))
    return {"points": tuple(points), "unit": node.string("unit", "") if node.has("unit") else ""}


def _category_parts(node: Node) -> dict[str, Any]:
    table = node.mapping("table")
    if not table.data:
        table.fail(None, "must list at least one value")
    for key in table.data:
        if not isinstance(key, str):
            table.fail(None, f"values must be text; quote {key!r} as '{key}'")
    scores = {str(key): unit_interval(table, str(key)) for key in table.data}
    return {"table": scores, "default": unit_interval(node, "default", 0.0)}


def _contains_parts(node: Node) -> dict[str, Any]:
    return {
        "any_of": frozenset(strings(node, "any_of")),
        "match": unit_interval(node, "match", 1.0),
        "no_match": unit_interval(node, "no_match", 0.0),
    }


def _bool_parts(node: Node) -> dict[str, Any]:
    return {
        "true_value": unit_interval(node, "if_true", 1.0),
        "false_value": unit_interval(node, "if_false", 0.0),
    }


def _recency_parts(node: Node) -> dict[str, Any]:
    return {"half_life_days": node.number("half_life_days", positive=True)}
