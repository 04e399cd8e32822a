"""Read and validate ``model.yaml`` into a ``TieringModel``.

The model is edited by RevOps people, not programmers, so every mistake must come
back as one ``ModelError`` naming the file, the line and the key path
(``model.yaml:23: tiers[1].capacity: must be a positive integer``) -- never a
traceback and never a half-loaded model. ruamel's round-trip loader is used because
it remembers the line of every key, which plain ``yaml.safe_load`` forgets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tierwise.tiering.errors import ModelError
from tierwise.tiering.loader_coverage import owner_groups as _owner_groups
from tierwise.tiering.loader_coverage import pin_limit as _pin_limit
from tierwise.tiering.loader_coverage import pipeline_stage as _pipeline_stage
from tierwise.tiering.model import (
    FIELD_TYPES,
    KIND_FIELD_TYPES,
    SIGNAL_KINDS,
    STAGE_INPUT,
    Condition,
    GroupSpec,
    Overrides,
    PipelineSpec,
    SignalSpec,
    Stability,
    TieringModel,
    TierSpec,
    TriggerSpec,
)
from tierwise.tiering.records import UNQUALIFIED, Play, TaskTemplate

SUPPORTED_VERSIONS = ("1",)
MAX_TIERS = 5
MIN_TIERS = 2
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_OWNER = re.compile(r"^(account_owner|user:\S+|queue:\S+)$")
_PRIORITIES = ("low", "normal", "high")
# Which field types each trigger operator can test.
_CONDITION_OPS: Mapping[str, tuple[str, ...]] = {
    "is": ("bool", "string"),
    "at_least": ("number",),
    "at_most": ("number",),
    "within_days": ("date",),
    "older_than_days": ("date",),
    "contains_any": ("list",),
}
_ACTIONS = ("promote", "demote", "promote_to", "demote_to")


def load_model(path: Path | str) -> TieringModel:
    """Load the model at ``path``; the only file tiering ever reads."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ModelError(name, None, "(file)", f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ModelError(name, None, "(file)", "is not UTF-8 text") from None
    return parse_model(text, name)


def parse_model(text: str, file: str = "model.yaml") -> TieringModel:
    """Validate model text; ``file`` is only used to label errors."""
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "invalid YAML"
        raise ModelError(file, line, "(yaml)", f"invalid YAML: {problem}") from None
    except YAMLError as error:
        raise ModelError(file, None, "(yaml)", f"invalid YAML: {error}") from None
    if data is None:
        raise ModelError(
            file,
            1,
            "(root)",
            "the file is empty; expected the sections version, fields, groups and tiers",
        )
    if not isinstance(data, CommentedMap):
        raise ModelError(file, 1, "(root)", "must be a mapping of sections (version, fields, ...)")
    return _Loader(file).model(_Node(file, data, "", data.lc.line + 1))


class _Node:
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
        if not _ID.match(value):
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
            self.fail(key, f"must be between {_num(lo)} and {_num(hi)}")
        if lo is not None and result < lo:
            self.fail(key, f"must be a number >= {_num(lo)}")
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

    def mapping(self, key: str) -> _Node:
        value = self.data.get(key)
        if not isinstance(value, CommentedMap):
            self.fail(key, "must be a mapping (key: value lines)")
        return _Node(self.file, value, self.sub(key), self.line_of(key))

    def items(self, key: str, *, allow_empty: bool = False) -> list[_Node]:
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
            line = _item_line(value, index, self.line_of(key))
            if not isinstance(item, CommentedMap):
                raise ModelError(self.file, line, path, "must be a mapping (key: value lines)")
            nodes.append(_Node(self.file, item, path, line))
        return nodes


def _item_line(seq: CommentedSeq, index: int, fallback: int) -> int:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return fallback


def _num(value: float) -> str:
    return f"{value:g}"


def _unit_interval(node: _Node, key: str, default: float | None = None) -> float:
    return node.number(key, default, lo=0.0, hi=1.0)


class _Loader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.fields: dict[str, str] = {}

    def model(self, root: _Node) -> TieringModel:
        root.keys(
            ("version", "fields", "groups", "tiers"),
            ("overrides", "triggers", "stability", "plays", "owner_groups", "pipeline"),
        )
        version = root.raw("version")
        if isinstance(version, bool) or str(version) not in SUPPORTED_VERSIONS:
            root.fail(
                "version",
                f"unsupported version {version!r} "
                f"(this tierwise reads version {', '.join(SUPPORTED_VERSIONS)})",
            )
        self.fields = self._fields(root.mapping("fields"))
        groups = self._groups(root)
        tiers = self._tiers(root)
        tier_ids = tuple(tier.id for tier in tiers)
        if root.has("plays"):
            tiers = self._plays(root.mapping("plays"), tiers)
        triggers = self._triggers(root, tier_ids)
        stability = Stability()
        if root.has("stability"):
            node = root.mapping("stability")
            node.keys((), ("hysteresis_points", "min_dwell_days"))
            stability = Stability(
                node.number("hysteresis_points", 0.0, lo=0.0),
                node.number("min_dwell_days", 0.0, lo=0.0),
            )
        overrides = Overrides()
        if root.has("overrides"):
            node = root.mapping("overrides")
            node.keys((), ("enabled", "honour_expiry", "max_per_tier"))
            count, share = _pin_limit(node)
            overrides = Overrides(
                node.boolean("enabled", True), node.boolean("honour_expiry", True), count, share
            )
        owner_groups = _owner_groups(root, tiers, self.fields)
        pipeline = None
        if root.has("pipeline"):
            node = root.mapping("pipeline")
            node.keys((), ("label", "when", "stage", "play"))
            stage = _pipeline_stage(node, self.fields)
            conditions = (
                [self._condition(c) for c in node.items("when")] if node.has("when") else []
            )
            if stage is not None:
                conditions.append(Condition(STAGE_INPUT, "at_least", 1.0))
            pipeline = PipelineSpec(
                node.string("label", "Active pipeline") if node.has("label") else "Active pipeline",
                tuple(conditions),
                self._play(node.mapping("play")) if node.has("play") else None,
                stage,
            )
        return TieringModel(
            version=str(version),
            fields=dict(self.fields),
            groups=groups,
            tiers=tiers,
            triggers=triggers,
            stability=stability,
            overrides=overrides,
            source=self.file,
            owner_groups=owner_groups,
            pipeline=pipeline,
        )

    def _fields(self, node: _Node) -> dict[str, str]:
        if not node.data:
            node.fail(None, "must declare at least one field")
        fields: dict[str, str] = {}
        for name in node.data:
            if not isinstance(name, str) or not _ID.match(name):
                node.fail(str(name), "field names must be lower_snake_case")
            kind = node.data[name]
            if kind not in FIELD_TYPES:
                node.fail(
                    name, f"unknown type {kind!r} (expected one of: {', '.join(FIELD_TYPES)})"
                )
            fields[name] = str(kind)
        return fields

    def _groups(self, root: _Node) -> tuple[GroupSpec, ...]:
        groups: list[GroupSpec] = []
        seen_signals: dict[str, str] = {}
        seen_groups: set[str] = set()
        for node in root.items("groups"):
            node.keys(("id", "weight", "signals"), ("label", "subtracts"))
            group_id = node.ident("id")
            if group_id in seen_groups:
                node.fail("id", f"duplicate group id '{group_id}'")
            seen_groups.add(group_id)
            weight = node.number("weight", lo=0.0)
            raw_signals = [self._signal(item, seen_signals) for item in node.items("signals")]
            total = sum(weight for _, weight in raw_signals)
            if total <= 0:
                node.fail("signals", "signal weights must add up to more than 0")
            # Signal weights are shares of the group; points are what a reader sees.
            signals = tuple(
                _with_weight(spec, weight * share / total) for spec, share in raw_signals
            )
            groups.append(
                GroupSpec(
                    group_id,
                    node.string("label", group_id.replace("_", " ")),
                    weight,
                    node.boolean("subtracts", False),
                    signals,
                )
            )
        adding = sum(group.weight for group in groups if not group.subtracts)
        if abs(adding - 100.0) > 1e-9:
            root.fail(
                "groups",
                "weights of the groups that add points must sum to 100 "
                f"(they sum to {_num(adding)})",
            )
        return tuple(groups)

    def _signal(self, node: _Node, seen: dict[str, str]) -> tuple[SignalSpec, float]:
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
        field_type = self.fields.get(field_name)
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
            "missing": _unit_interval(node, "missing"),
            "label": node.string("label", "") if node.has("label") else "",
        }
        builders: dict[str, Callable[[_Node], dict[str, Any]]] = {
            "range": _range_parts,
            "category": _category_parts,
            "contains_any": _contains_parts,
            "bool": _bool_parts,
            "recency": _recency_parts,
        }
        base.update(builders[kind](node))
        return SignalSpec(**base), weight

    def _tiers(self, root: _Node) -> tuple[TierSpec, ...]:
        nodes = root.items("tiers", allow_empty=True)
        if not MIN_TIERS <= len(nodes) <= MAX_TIERS:
            root.fail("tiers", f"must list {MIN_TIERS} to {MAX_TIERS} tiers (found {len(nodes)})")
        tiers: list[TierSpec] = []
        last_score: float | None = None
        last_percent: float | None = None
        for node in nodes:
            node.keys(
                ("id", "label"), ("min_score", "top_percent", "capacity", "per_owner_capacity")
            )
            tier_id = node.ident("id")
            if tier_id == UNQUALIFIED:
                node.fail("id", f"'{UNQUALIFIED}' is reserved for accounts below every tier")
            if any(tier.id == tier_id for tier in tiers):
                node.fail("id", f"duplicate tier id '{tier_id}'")
            has_score, has_percent = node.has("min_score"), node.has("top_percent")
            if has_score == has_percent:
                node.fail(None, "needs exactly one entry rule: min_score or top_percent")
            min_score = top_percent = None
            if has_score:
                min_score = node.number("min_score", lo=0.0, hi=100.0)
                if last_score is not None and min_score >= last_score:
                    node.fail(
                        "min_score",
                        f"must be lower than the tier above "
                        f"({_num(min_score)} >= {_num(last_score)})",
                    )
                last_score = min_score
            else:
                top_percent = node.number("top_percent")
                if not 0 < top_percent <= 100:
                    node.fail("top_percent", "must be a percentage above 0 and at most 100")
                if last_percent is not None and top_percent <= last_percent:
                    node.fail(
                        "top_percent",
                        "must be larger than the tier above (percentages "
                        f"count from the top: {_num(top_percent)} <= "
                        f"{_num(last_percent)})",
                    )
                last_percent = top_percent
            capacity = node.integer("capacity", minimum=1) if node.has("capacity") else None
            if "capacity" in node.data and node.raw("capacity") is None:
                node.fail("capacity", "must be a positive integer")
            per_owner = (
                node.integer("per_owner_capacity", minimum=1)
                if "per_owner_capacity" in node.data
                else None
            )
            tiers.append(
                TierSpec(
                    tier_id,
                    node.string("label"),
                    min_score,
                    top_percent,
                    capacity,
                    per_owner_capacity=per_owner,
                )
            )
        return tuple(tiers)

    def _plays(self, node: _Node, tiers: tuple[TierSpec, ...]) -> tuple[TierSpec, ...]:
        ids = [tier.id for tier in tiers]
        plays: dict[str, Play] = {}
        for tier_id in node.data:
            if tier_id not in ids:
                node.fail(str(tier_id), f"unknown tier '{tier_id}' (tiers: {', '.join(ids)})")
            plays[tier_id] = self._play(node.mapping(tier_id))
        return tuple(
            TierSpec(
                tier.id,
                tier.label,
                tier.min_score,
                tier.top_percent,
                tier.capacity,
                plays.get(tier.id),
                tier.per_owner_capacity,
            )
            for tier in tiers
        )

    def _play(self, play: _Node) -> Play:
        play.keys(("name", "motion", "sla_hours"), ("tasks", "budget_per_account"))
        tasks = []
        for task in play.items("tasks", allow_empty=True):
            task.keys(("subject", "due_business_days"), ("owner", "priority", "body"))
            owner = task.string("owner", "account_owner")
            if not _OWNER.match(owner):
                task.fail("owner", f"'{owner}' must be account_owner, user:<id> or queue:<name>")
            priority = task.string("priority", "normal")
            if priority not in _PRIORITIES:
                task.fail("priority", f"must be one of: {', '.join(_PRIORITIES)}")
            tasks.append(
                TaskTemplate(
                    task.string("subject"),
                    task.integer("due_business_days", minimum=0),
                    owner,
                    priority,
                    task.string("body", "") if task.has("body") else "",
                )
            )
        budget = (
            play.number("budget_per_account", lo=0.0) if play.has("budget_per_account") else None
        )
        return Play(
            play.string("name"),
            play.string("motion"),
            play.integer("sla_hours", minimum=1),
            tuple(tasks),
            budget,
        )

    def _triggers(self, root: _Node, tier_ids: tuple[str, ...]) -> tuple[TriggerSpec, ...]:
        triggers: list[TriggerSpec] = []
        for node in root.items("triggers", allow_empty=True):
            node.keys(("name", "when", "then"), ("label",))
            name = node.ident("name")
            if any(trigger.name == name for trigger in triggers):
                node.fail("name", f"duplicate trigger name '{name}'")
            conditions = tuple(self._condition(item) for item in node.items("when"))
            then = node.mapping("then")
            then.keys((), (*_ACTIONS, "for_days"))
            actions = [key for key in then.data if key != "for_days"]
            if len(actions) != 1:
                then.fail(None, f"needs exactly one action: {', '.join(_ACTIONS)}")
            action = str(actions[0])
            for_days = None
            if "for_days" in then.data:
                if not action.startswith("promote"):
                    then.fail(
                        "for_days",
                        "an outreach window holds a promotion: use it with promote or promote_to",
                    )
                for_days = then.integer("for_days", minimum=1)
            steps, target = 1, None
            if action in ("promote", "demote"):
                steps = then.integer(action, minimum=1)
            else:
                target = then.string(action)
                if target not in tier_ids:
                    then.fail(action, f"unknown tier '{target}' (tiers: {', '.join(tier_ids)})")
            label = node.string("label", name) if node.has("label") else name
            triggers.append(TriggerSpec(name, label, conditions, action, steps, target, for_days))
        return tuple(triggers)

    def _condition(self, node: _Node) -> Condition:
        if "score_fell_by" in node.data:
            node.keys(("score_fell_by", "within_days"))
            return Condition(
                score_fell_by=node.number("score_fell_by", positive=True),
                within_days=node.number("within_days", positive=True),
            )
        ops = tuple(_CONDITION_OPS)
        node.keys(("field",), (*ops, "if_missing"))
        field_name = node.string("field")
        field_type = self.fields.get(field_name)
        if field_type is None:
            node.fail("field", f"'{field_name}' is not declared under fields")
        present = [op for op in ops if op in node.data]
        if len(present) != 1:
            node.fail(None, f"needs exactly one test: {', '.join(ops)}")
        op = present[0]
        if field_type not in _CONDITION_OPS[op]:
            node.fail(op, f"cannot test a {field_type} field ('{field_name}')")
        value: float | str | bool | tuple[str, ...]
        if op == "is":
            value = node.raw(op)
            if field_type == "bool" and not isinstance(value, bool):
                node.fail(op, "must be true or false")
            if field_type == "string" and not isinstance(value, str):
                node.fail(op, "must be text")
        elif op == "contains_any":
            value = _strings(node, op)
        elif op in ("within_days", "older_than_days"):
            value = node.number(op, positive=True)
        else:
            value = node.number(op)
        return Condition(
            field=field_name, op=op, value=value, if_missing=node.boolean("if_missing", False)
        )


def _with_weight(spec: SignalSpec, points: float) -> SignalSpec:
    values = {name: getattr(spec, name) for name in SignalSpec.__slots__}
    values["weight"] = points
    return SignalSpec(**values)


def _strings(node: _Node, key: str) -> tuple[str, ...]:
    value = node.raw(key)
    if (
        not isinstance(value, CommentedSeq)
        or not value
        or not all(isinstance(item, str) for item in value)
    ):
        node.fail(key, "must be a non-empty list of text values")
    return tuple(str(item) for item in value)


def _range_parts(node: _Node) -> dict[str, Any]:
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


def _category_parts(node: _Node) -> dict[str, Any]:
    table = node.mapping("table")
    if not table.data:
        table.fail(None, "must list at least one value")
    for key in table.data:
        if not isinstance(key, str):
            table.fail(None, f"values must be text; quote {key!r} as '{key}'")
    scores = {str(key): _unit_interval(table, str(key)) for key in table.data}
    return {"table": scores, "default": _unit_interval(node, "default", 0.0)}


def _contains_parts(node: _Node) -> dict[str, Any]:
    return {
        "any_of": frozenset(_strings(node, "any_of")),
        "match": _unit_interval(node, "match", 1.0),
        "no_match": _unit_interval(node, "no_match", 0.0),
    }


def _bool_parts(node: _Node) -> dict[str, Any]:
    return {
        "true_value": _unit_interval(node, "if_true", 1.0),
        "false_value": _unit_interval(node, "if_false", 0.0),
    }


def _recency_parts(node: _Node) -> dict[str, Any]:
    return {"half_life_days": node.number("half_life_days", positive=True)}
