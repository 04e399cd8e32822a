"""Issue 16's model keys: ``overrides.max_per_tier``, ``owner_groups``, ``pipeline.stage``.

Split from ``tierwise.tiering.loader`` to keep that module readable; the checks use the same
``Node`` helpers, so every mistake still comes back as ``file:line: key: problem``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tierwise.tiering.model import STAGE_INPUT, OwnerGroup, PipelineStage, TierSpec
from tierwise.tiering.yaml_node import strings

if TYPE_CHECKING:
    from tierwise.tiering.yaml_node import Node


def pin_limit(node: Node) -> tuple[int | None, float | None]:
    """``max_per_tier``: a count of pins (``50``) or a share of capacity (``"25%"``)."""
    value = node.raw("max_per_tier")
    if value is None:
        return None, None
    if isinstance(value, int) and not isinstance(value, bool):
        return node.integer("max_per_tier", minimum=0), None
    text = str(value).strip()
    share = -1.0
    if isinstance(value, str) and text.endswith("%"):
        try:
            share = float(text[:-1]) / 100.0
        except ValueError:
            share = -1.0
    if not 0 <= share <= 1:
        node.fail(
            "max_per_tier",
            "must be a number of pins (e.g. 50) or a share of the tier's capacity (e.g. '25%')",
        )
    return None, share


def owner_groups(
    root: Node, tiers: tuple[TierSpec, ...], fields: Mapping[str, str]
) -> tuple[OwnerGroup, ...]:
    """Groups of owners with their own per-tier caps (``capacity: {tier_1: 15}``)."""
    ids = [tier.id for tier in tiers]
    groups: list[OwnerGroup] = []
    seen: dict[str, str] = {}
    for node in root.items("owner_groups", allow_empty=True):
        node.keys(("id", "capacity"), ("label", "owners", "field", "values"))
        group_id = node.ident("id")
        if any(group.id == group_id for group in groups):
            node.fail("id", f"duplicate owner group id '{group_id}'")
        if node.has("owners") == node.has("field"):
            node.fail(
                None,
                "needs either owners (CRM user or queue ids) or field + values "
                "(a mapped account field, e.g. segment)",
            )
        owners: tuple[str, ...] = ()
        field_name: str | None = None
        values: tuple[str, ...] = ()
        if node.has("owners"):
            owners = strings(node, "owners")
        else:
            field_name = node.string("field")
            if fields.get(field_name) != "string":
                node.fail("field", f"'{field_name}' must be a string field declared under fields")
            values = strings(node, "values")
        for owner in owners:
            if owner in seen:
                node.fail("owners", f"owner '{owner}' is already in group '{seen[owner]}'")
            seen[owner] = group_id
        caps = node.mapping("capacity")
        if not caps.data:
            caps.fail(None, "must give at least one tier's cap (e.g. tier_1: 15)")
        capacity: dict[str, int] = {}
        for tier_id in caps.data:
            if tier_id not in ids:
                caps.fail(str(tier_id), f"unknown tier '{tier_id}' (tiers: {', '.join(ids)})")
            capacity[str(tier_id)] = caps.integer(str(tier_id), minimum=1)
        label = node.string("label", group_id) if node.has("label") else group_id
        groups.append(
            OwnerGroup(group_id, label, frozenset(owners), capacity, field_name, frozenset(values))
        )
    return tuple(groups)


def pipeline_stage(node: Node, fields: dict[str, str]) -> PipelineStage | None:
    """``pipeline.stage``: the entry stage per CRM and/or a default-probability floor.

    Declaring it adds the derived input ``open_deals_at_stage`` (a number) to ``fields``
    when the model does not declare it, so connectors fill it; ``pipeline`` then needs
    no ``when``. Without ``stage`` a ``when`` list is required, as before.
    """
    if not node.has("stage"):
        if not node.has("when"):
            node.fail(None, "needs stage (where an open deal starts to count) or when (conditions)")
        return None
    stage = node.mapping("stage")
    stage.keys((), ("salesforce", "hubspot", "probability"))
    if not stage.data:
        stage.fail(
            None,
            "must name the entry stage per CRM (salesforce: Needs Analysis, hubspot: "
            "qualifiedtobuy) and/or a default probability floor (probability: 20)",
        )
    salesforce = stage.string("salesforce") if "salesforce" in stage.data else None
    hubspot = stage.string("hubspot") if "hubspot" in stage.data else None
    probability = (
        stage.number("probability", lo=0.0, hi=100.0) if "probability" in stage.data else None
    )
    kind = fields.get(STAGE_INPUT)
    if kind is None:
        fields[STAGE_INPUT] = "number"
    elif kind != "number":
        node.fail("stage", f"'{STAGE_INPUT}' is declared under fields as {kind}; must be number")
    return PipelineStage(salesforce, hubspot, probability)
