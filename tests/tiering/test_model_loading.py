# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The model file: the shipped default loads; every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.tiering import ModelError, load_model, parse_model
from tierwise.tiering.records import UNQUALIFIED

REPO = Path(__file__).resolve().parents[2]

VALID = """\
version: 1
fields:
  employees: number
  industry: string
  last_activity: date
groups:
  - id: fit
    weight: 100
    signals:
      - id: size
        field: employees
        kind: range
        weight: 1
        points: [[0, 0], [100, 1]]
        missing: 0
tiers:
  - id: tier_1
    label: Strategic
    min_score: 60
    capacity: 10
  - id: tier_2
    label: Core
    min_score: 30
triggers:
  - name: quiet
    when:
      - {field: last_activity, older_than_days: 180}
    then: {demote_to: tier_2}
plays:
  tier_1:
    name: 1:1 ABM
    motion: named
    sla_hours: 24
    tasks:
      - subject: Plan
        due_business_days: 2
        owner: account_owner
"""

EXTRA_TIERS = "".join(
    f"  - {{id: tier_{i}, label: T{i}, min_score: {30 - i}}}\n" for i in range(3, 7)
)

BAD_MODELS = [
    ("capacity: 10", "capacity: 0", "model.yaml:20: tiers[0].capacity: must be a positive integer"),
    (
        "capacity: 10",
        "capacity: ten",
        "model.yaml:20: tiers[0].capacity: must be a positive integer",
    ),
    (
        "    label: Core\n",
        "    label: [Core\n",
        "model.yaml:23: (yaml): invalid YAML: expected ',' or ']', but got ':'",
    ),
    (
        "    label: Core\n",
        "    lable: Core\n",
        "model.yaml:22: tiers[1].lable: unknown key "
        "(expected one of: id, label, min_score, top_percent, capacity, "
        "per_owner_capacity)",
    ),
    ("    label: Core\n", "", "model.yaml:21: tiers[1]: missing required key 'label'"),
    ("    weight: 100\n", "    weight: lots\n", "model.yaml:8: groups[0].weight: must be a number"),
    (
        "kind: range",
        "kind: ranged",
        "model.yaml:12: groups[0].signals[0].kind: unknown signal kind 'ranged' "
        "(expected one of: range, category, contains_any, bool, recency)",
    ),
    (
        "field: employees",
        "field: headcount",
        "model.yaml:11: groups[0].signals[0].field: 'headcount' is not declared under fields",
    ),
    (
        "field: employees",
        "field: industry",
        "model.yaml:11: groups[0].signals[0].field: a range signal needs a number field, "
        "but 'industry' is string",
    ),
    (
        "demote_to: tier_2",
        "demote_to: tier_9",
        "model.yaml:28: triggers[0].then.demote_to: unknown tier 'tier_9' (tiers: tier_1, tier_2)",
    ),
    (
        "  tier_1:\n    name",
        "  tier_7:\n    name",
        "model.yaml:30: plays.tier_7: unknown tier 'tier_7' (tiers: tier_1, tier_2)",
    ),
    (
        "triggers:\n",
        EXTRA_TIERS + "triggers:\n",
        "model.yaml:16: tiers: must list 2 to 5 tiers (found 6)",
    ),
    (
        "tiers:\n  - id: tier_1\n    label: Strategic\n    min_score: 60\n    capacity: 10\n"
        "  - id: tier_2\n    label: Core\n    min_score: 30\n",
        "tiers: []\n",
        "model.yaml:16: tiers: must list 2 to 5 tiers (found 0)",
    ),
    (
        "min_score: 30",
        "min_score: 60",
        "model.yaml:23: tiers[1].min_score: must be lower than the tier above (60 >= 60)",
    ),
    (
        "min_score: 60",
        "top_percent: 150",
        "model.yaml:19: tiers[0].top_percent: must be a percentage above 0 and at most 100",
    ),
    (
        "        weight: 1\n",
        "        weight: -1\n",
        "model.yaml:13: groups[0].signals[0].weight: must be a number >= 0",
    ),
    (
        "owner: account_owner",
        "owner: bob",
        "model.yaml:37: plays.tier_1.tasks[0].owner: 'bob' must be account_owner, "
        "user:<id> or queue:<name>",
    ),
    (
        "  - id: tier_2\n",
        "  - id: tier_1\n",
        "model.yaml:21: tiers[1].id: duplicate tier id 'tier_1'",
    ),
    (
        "    label: Core\n",
        "    label: Core\n    label: Again\n",
        'model.yaml:23: (yaml): invalid YAML: found duplicate key "label" with value "Again" '
        '(original value: "Core")',
    ),
    (
        "version: 1",
        "version: 2",
        "model.yaml:1: version: unsupported version 2 (this tierwise reads version 1)",
    ),
    (
        "    weight: 100\n",
        "    weight: 90\n",
        "model.yaml:6: groups: weights of the groups that add points must sum to 100 "
        "(they sum to 90)",
    ),
    (
        "missing: 0",
        "missing: 2",
        "model.yaml:15: groups[0].signals[0].missing: must be between 0 and 1",
    ),
    (
        "  - id: tier_2\n",
        "  - id: Tier-2\n",
        "model.yaml:21: tiers[1].id: 'Tier-2' must be lower_snake_case (a-z, 0-9, _)",
    ),
    (
        "  - id: tier_2\n",
        "  - id: unqualified\n",
        "model.yaml:21: tiers[1].id: 'unqualified' is reserved for accounts below every tier",
    ),
    (
        "    min_score: 60\n",
        "",
        "model.yaml:17: tiers[0]: needs exactly one entry rule: min_score or top_percent",
    ),
    (
        "older_than_days: 180",
        "at_least: 180",
        "model.yaml:27: triggers[0].when[0].at_least: cannot test a date field ('last_activity')",
    ),
    (
        "sla_hours: 24",
        "sla_hours: soon",
        "model.yaml:33: plays.tier_1.sla_hours: must be a positive integer",
    ),
    (
        "  employees: number",
        "  employees: numeric",
        "model.yaml:3: fields.employees: unknown type 'numeric' "
        "(expected one of: number, string, bool, date, list)",
    ),
    (
        "        missing: 0\n",
        "        missing: 0\n      - {id: size, field: employees, "
        "kind: range, weight: 1, points: [[0, 0], [1, 1]], missing: 0}\n",
        "model.yaml:16: groups[0].signals[1].id: duplicate signal id 'size'",
    ),
    (
        "    then: {demote_to: tier_2}\n",
        "    then: {demote_to: tier_2}\n  - name: quiet\n"
        "    when: [{field: last_activity, within_days: 5}]\n    then: {promote: 1}\n",
        "model.yaml:29: triggers[1].name: duplicate trigger name 'quiet'",
    ),
    (
        "plays:\n",
        "play:\n",
        "model.yaml:29: play: unknown key (expected one of: version, fields, groups, tiers, "
        "overrides, triggers, stability, plays, owner_groups, pipeline)",
    ),
    (
        "    then: {demote_to: tier_2}",
        "    then: {demote_to: tier_2, promote: 1}",
        "model.yaml:28: triggers[0].then: needs exactly one action: "
        "promote, demote, promote_to, demote_to",
    ),
    (
        "      - id: size\n",
        "      - {id: kind, field: industry, kind: category, weight: 1, "
        "missing: 0, table: {1: 0.5}}\n      - id: size\n",
        "model.yaml:10: groups[0].signals[0].table: values must be text; quote 1 as '1'",
    ),
    (
        "points: [[0, 0], [100, 1]]",
        "points: [[100, 0], [0, 1]]",
        "model.yaml:14: groups[0].signals[0].points: must be a list of at least two "
        "[value, score] pairs, values ascending, scores 0..1",
    ),
]


def test_the_shipped_default_model_loads_with_the_canonical_fields_and_four_tiers() -> None:
    model = load_model(REPO / "config" / "model.yaml")

    assert "1" == model.version
    assert {
        "industry": "string",
        "employees": "number",
        "annual_revenue": "number",
        "country": "string",
        "tech_stack": "list",
        "web_visits": "number",
        "intent_score": "number",
        "intent_surge": "bool",
        "last_activity": "date",
        "last_funding_amount": "number",
        "last_funding_date": "date",
        "open_pipeline": "number",
        "open_deals": "number",
        "competitor_customer": "bool",
        "payment_risk": "string",
    } == dict(model.fields)
    assert {
        "tier_1": "Strategic",
        "tier_2": "Core",
        "tier_3": "Programmatic",
        "tier_4": "Nurture",
        UNQUALIFIED: "Unqualified",
    } == model.tier_labels()
    assert 100 == model.tiers[0].capacity
    assert "1:1 ABM" == model.tiers[0].play.name  # type: ignore[union-attr]  # play is optional; this tier has one
    assert {"funding_50m", "intent_spike", "score_drop", "gone_quiet"} == {
        trigger.name for trigger in model.triggers
    }


def test_the_valid_base_of_the_error_table_loads() -> None:
    model = parse_model(VALID)

    assert ("tier_1", "tier_2") == model.tier_ids()
    assert 10 == model.tiers[0].capacity


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    BAD_MODELS,
    ids=[case[2].split(": ", 1)[1][:60] for case in BAD_MODELS],
)
def test_a_bad_model_names_file_line_key_and_problem(old: str, new: str, expected: str) -> None:
    assert old in VALID
    with pytest.raises(ModelError) as caught:
        parse_model(VALID.replace(old, new, 1))

    assert expected == str(caught.value)


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model("- just\n- a list\n")

    assert "model.yaml:1: (root): must be a mapping of sections (version, fields, ...)" == str(
        caught.value
    )


def test_an_empty_file_says_what_it_should_contain() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model("# only a comment\n")

    assert (
        "model.yaml:1: (root): the file is empty; expected the sections version, fields, "
        "groups and tiers"
    ) == str(caught.value)


def test_a_missing_file_is_a_model_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ModelError) as caught:
        load_model(path)

    assert f"{path}: (file): cannot be read: No such file or directory" == str(caught.value)


def test_load_model_labels_errors_with_the_path_it_was_given(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(VALID.replace("capacity: 10", "capacity: -3"), encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        load_model(path)

    assert (str(path), 20, "tiers[0].capacity") == (
        caught.value.file,
        caught.value.line,
        caught.value.key,
    )


JUNK = [
    "",
    "5",
    "-1",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "null",
    "true",
    "'x'",
    "1.5",
    "[[1, x]]",
    "tier_9",
    ":",
    "- 1",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    line=st.integers(0, VALID.count("\n") - 1),
    junk=st.sampled_from(JUNK),
    mode=st.sampled_from(["value", "drop", "indent"]),
)
def test_any_mangled_line_gives_a_model_error_never_a_traceback(
    line: int, junk: str, mode: str
) -> None:
    lines = VALID.splitlines()
    target = lines[line]
    if mode == "drop":
        del lines[line]
    elif mode == "indent":
        lines[line] = "  " + target
    elif ":" in target:
        lines[line] = target[: target.index(":") + 1] + " " + junk
    else:
        lines[line] = target + junk
    error: ModelError | None = None
    try:
        parse_model("\n".join(lines) + "\n")
    except ModelError as caught:  # some mangles are still valid models; those must load
        error = caught
    if error is not None:
        assert error.line is None or 1 <= error.line <= len(lines) + 1
        assert error.key
        assert error.problem
