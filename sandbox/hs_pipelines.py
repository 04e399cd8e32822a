"""Deal pipelines: ``GET /crm/v3/pipelines/deals`` with the default pipeline's stages.

Shape from the CRM Pipelines v3 reference (developers.hubspot.com/docs/api-reference/
crm-pipelines-v3/guide; the client's ``hubspot.crm.pipelines.models.PipelineStage``:
``metadata`` is a map of *strings*, e.g. ``{"isClosed": "false", "probability": "0.2"}``).
"Every account initially contains a default pipeline with the pipelineId 'default'"
(developers.hubspot.com/docs/methods/pipelines/pipelines_overview).

The default pipeline's stage ids and labels are those of a new portal; ids as HubSpot
stores them in ``dealstage`` (the sandbox's seeded deals use them too). The labels and
default probabilities come from a third-party listing of HubSpot's defaults
(skills.sh/pfoy/growth-skills/hubspot-deal-stages); treat the probabilities as a GUESS.
A second pipeline ("Renewals", numeric stage ids as portals give custom stages) shows
that stage order is per pipeline.
"""

from __future__ import annotations

from typing import Any

CREATED = "2020-01-01T00:00:00.000Z"

# (id, label, probability, isClosed), in displayOrder.
DEFAULT_STAGES: tuple[tuple[str, str, float, bool], ...] = (
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
)
RENEWAL_STAGES: tuple[tuple[str, str, float, bool], ...] = (
    ("1001", "Renewal due", 0.5, False),
    ("1002", "Renewal quoted", 0.8, False),
    ("1003", "Renewed", 1.0, True),
    ("1004", "Churned", 0.0, True),
)


def _stage(order: int, stage: tuple[str, str, float, bool]) -> dict[str, Any]:
    stage_id, label, probability, closed = stage
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": order,
        "metadata": {"isClosed": "true" if closed else "false", "probability": str(probability)},
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def _pipeline(pipeline_id: str, label: str, order: int, stages: Any) -> dict[str, Any]:
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": order,
        "stages": [_stage(i, s) for i, s in enumerate(stages)],
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "archived": False,
    }


def deal_pipelines() -> list[dict[str, Any]]:
    """The portal's deal pipelines as ``GET /crm/v3/pipelines/deals`` returns them."""
    return [
        _pipeline("default", "Sales Pipeline", 0, DEFAULT_STAGES),
        _pipeline("renewals", "Renewals", 1, RENEWAL_STAGES),
    ]


def closed_stage(stage_id: str | None) -> tuple[bool, bool] | None:
    """(isClosed, won) of a known stage id, None for an unknown one."""
    for stages in (DEFAULT_STAGES, RENEWAL_STAGES):
        for sid, _label, probability, closed in stages:
            if sid == stage_id:
                return closed, closed and probability >= 1.0
    return None
