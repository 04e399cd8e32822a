"""Read and validate ``model.yaml`` into a ``TieringModel``.

The model is edited by RevOps people, not programmers, so every mistake must come
back as one ``ModelError`` naming the file, the line and the key path
(``model.yaml:23: tiers[1].capacity: must be a positive integer``) -- never a
traceback and never a half-loaded model. ruamel's round-trip loader is used because
it remembers the line of every key, which plain ``yaml.safe_load`` forgets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tierwise.tiering.errors import ModelError
from tierwise.tiering.loader_coverage import owner_groups as _owner_groups
from tierwise.tiering.loader_coverage import pin_limit as _pin_limit
from tierwise.tiering.loader_coverage import pipeline_stage as _pipeline_stage
from tierwise.tiering.loader_signals import signal_spec, with_weight
from tierwise.tiering.model import (
    FIELD_TYPES,
    STAGE_INPUT,
    Condition,
    GroupSpec,
    Overrides,
    PipelineSpec,
    Stability,
    TieringModel,
    TierSpec,
    TriggerSpec,
)
from tierwise.tiering.records import UNQUALIFIED, Play, TaskTemplate
from tierwise.tiering.yaml_node import ID, Node, num, strings

SUPPORTED_VERSIONS = ("1",)
MAX_TIERS = 5
MIN_TIERS = 2
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
    return _Loader(file).model(Node(file, data, "", data.lc.line + 1))


class _Loader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.fields: dict[str, str] = {}

    def model(self, root: Node) -> TieringModel:
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

    def _fields(self, node: Node) -> dict[str, str]:
        if not node.data:
            node.fail(None, "must declare at least one field")
        fields: dict[str, str] = {}
        for name in node.data:
            if not isinstance(name, str) or not ID.match(name):
                node.fail(str(name), "field names must be lower_snake_case")
            kind = node.data[name]
            if kind not in FIELD_TYPES:
                node.fail(
                    name, f"unknown type {kind!r} (expected one of: {', '.join(FIELD_TYPES)})"
                )
            fields[name] = str(kind)
        return fields

    def _groups(self, root: Node) -> tuple[GroupSpec, ...]:
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
            raw_signals = [
                signal_spec(item, seen_signals, self.fields) for item in node.items("signals")
            ]
            total = sum(weight for _, weight in raw_signals)
            if total <= 0:
                node.fail("signals", "signal weights must add up to more than 0")
            # Signal weights are shares of the group; points are what a reader sees.
            signals = tuple(
                with_weight(spec, weight * share / total) for spec, share in raw_signals
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
                f"(they sum to {num(adding)})",
            )
        return tuple(groups)

    def _tiers(self, root: Node) -> tuple[TierSpec, ...]:
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
                        f"({num(min_score)} >= {num(last_score)})",
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
                        f"count from the top: {num(top_percent)} <= "
                        f"{num(last_percent)})",
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

    def _plays(self, node: Node, tiers: tuple[TierSpec, ...]) -> tuple[TierSpec, ...]:
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

    def _play(self, play: Node) -> Play:
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

    def _triggers(self, root: Node, tier_ids: tuple[str, ...]) -> tuple[TriggerSpec, ...]:
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

    def _condition(self, node: Node) -> Condition:
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
            value = strings(node, op)
        elif op in ("within_days", "older_than_days"):
            value = node.number(op, positive=True)
        else:
            value = node.number(op)
        return Condition(
            field=field_name, op=op, value=value, if_missing=node.boolean("if_missing", False)
        )
