"""A saved plan: everything one run would do, as a JSON file a person can read and sign off.

The file holds, per record, the values tierwise expects the CRM to hold ("old", read at
planning time) and the values it will write ("new"); the tasks to create and close; the
decisions to record; the model's hash and the watermarks of the inputs. Its own hash
(sha256 of the canonical JSON without the hash) names it in the run ledger, so an
applied plan can be traced to the file that was approved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from tierwise.connectors.base import AccountUpdate, TaskRequest, TierwiseValues
from tierwise.sync.exits import SettingError
from tierwise.sync.records import Plan, PlannedClose, PlannedTask, with_values
from tierwise.sync.state.codec import decode_tierwise, decode_value, encode_tierwise, encode_value
from tierwise.tiering.records import Decision

FORMAT = "tierwise-plan/1"


class PlanFileError(SettingError):
    """The file is not a tierwise plan (or is damaged): nothing can be applied from it."""


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One CRM record the plan writes: what it held at planning time and what it gets."""

    system: str
    crm_id: str
    account_key: str
    held: TierwiseValues
    desired: TierwiseValues
    fields: Mapping[str, Any]  # logical field -> new value (the diff written)


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """What the tier history records of a decision (key, tier, score, rule, reason)."""

    key: str
    tier: str
    score: float
    rule: str
    reason: str


@dataclass
class SavedPlan:
    created: datetime
    model_hash: str
    model_path: str
    records: list[RecordChange] = field(default_factory=list)
    tasks: list[PlannedTask] = field(default_factory=list)
    closes: list[PlannedClose] = field(default_factory=list)
    deferred: list[PlannedTask] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    watermarks: dict[str, str | None] = field(default_factory=dict)
    # Why it was saved: "plan" (tierwise plan --out) or "held" (the breaker).
    origin: str = "plan"
    note: str = ""

    def to_plan(self) -> Plan:
        """The engine's ``Plan`` of exactly these writes (for ``SyncEngine.apply``)."""
        plan = Plan()
        for rec in self.records:
            update = AccountUpdate(rec.crm_id, dict(rec.fields))
            plan.updates.setdefault(rec.system, []).append(update)
            plan.changes.add(rec.system, update, rec.account_key, None, rec.held)
        plan.tasks = list(self.tasks)
        plan.closes = list(self.closes)
        plan.deferred = list(self.deferred)
        plan.dropped = list(self.dropped)
        return plan

    def decision_objects(self) -> list[Decision]:
        return [
            Decision(
                key=d.key,
                tier=d.tier,
                tier_label=d.tier,
                previous_tier=None,
                score=d.score,
                rule=d.rule,
                reason=d.reason,
                play=None,
            )
            for d in self.decisions
        ]


def model_hash(*paths: Path | None) -> str:
    """sha256 over the model files' bytes (the customer model too when on)."""
    digest = hashlib.sha256()
    for path in paths:
        if path is not None:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def from_outcome(
    plan: Plan,
    decisions: Sequence[Decision],
    *,
    created: datetime,
    model_hash: str,
    model_path: str,
    watermarks: Mapping[str, str | None],
    origin: str = "plan",
    note: str = "",
) -> SavedPlan:
    """A ``SavedPlan`` of a computed plan (what each record held is in ``plan.changes``)."""
    records = [
        RecordChange(
            system=system,
            crm_id=u.crm_id,
            account_key=key,
            held=held,
            desired=with_values(held, u.values),
            fields=dict(u.values),
        )
        for system, u, key, held in sorted(plan.changes.updates(), key=itemgetter(0))
    ]
    return SavedPlan(
        created=created,
        model_hash=model_hash,
        model_path=model_path,
        records=records,
        tasks=list(plan.tasks),
        closes=list(plan.closes),
        deferred=list(plan.deferred),
        dropped=list(plan.dropped),
        decisions=[DecisionRow(d.key, d.tier, d.score, d.rule, d.reason) for d in decisions],
        watermarks=dict(watermarks),
        origin=origin,
        note=note,
    )


# -- JSON ---------------------------------------------------------------------------
def _task(t: PlannedTask) -> dict[str, Any]:
    r = t.request
    return {
        "system": t.system,
        "account_key": t.account_key,
        "tier": t.tier,
        "key": r.key,
        "crm_account_id": r.crm_account_id,
        "owner_id": r.owner_id,
        "subject": r.subject,
        "due": r.due.isoformat(),
        "priority": r.priority,
        "body": r.body,
        "verify_existing": r.verify_existing,
    }


def _untask(raw: Mapping[str, Any]) -> PlannedTask:
    return PlannedTask(
        system=raw["system"],
        account_key=raw["account_key"],
        tier=raw["tier"],
        request=TaskRequest(
            key=raw["key"],
            crm_account_id=raw["crm_account_id"],
            owner_id=raw["owner_id"],
            subject=raw["subject"],
            due=date.fromisoformat(raw["due"]),
            priority=raw["priority"],
            body=raw["body"],
            # A task planned earlier may have been attempted since: always check first.
            verify_existing=True,
        ),
    )


def _body(saved: SavedPlan) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "origin": saved.origin,
        "note": saved.note,
        "created": saved.created.isoformat(),
        "model": {"path": saved.model_path, "sha256": saved.model_hash},
        "watermarks": saved.watermarks,
        "records": [
            {
                "system": r.system,
                "crm_id": r.crm_id,
                "account": r.account_key,
                "changes": {
                    name: {"old": encode_value(getattr(r.held, name)), "new": encode_value(value)}
                    for name, value in sorted(r.fields.items())
                },
                "held": encode_tierwise(r.held),
                "desired": encode_tierwise(r.desired),
            }
            for r in saved.records
        ],
        # HubSpot's tier lists ("tierwise: <label>") are active lists on the tier property:
        # a tier change moves the company from one to the other; listed for the reviewer.
        "list_effects": [
            {"system": r.system, "crm_id": r.crm_id, "leaves": r.held.tier, "joins": r.desired.tier}
            for r in saved.records
            if r.system == "hubspot" and "tier" in r.fields
        ],
        "tasks": [_task(t) for t in saved.tasks],
        "closes": [
            {"system": c.system, "task_key": c.task_key, "crm_task_id": c.crm_task_id}
            for c in saved.closes
        ],
        "deferred": [_task(t) for t in saved.deferred],
        "dropped": list(saved.dropped),
        "decisions": [
            {"key": d.key, "tier": d.tier, "score": d.score, "rule": d.rule, "reason": d.reason}
            for d in saved.decisions
        ],
    }


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def dumps(saved: SavedPlan) -> tuple[str, str]:
    """``(json text, plan hash)``."""
    body = _body(saved)
    digest = _digest(body)
    return json.dumps({**body, "sha256": digest}, indent=2, default=str) + "\n", digest


def write(saved: SavedPlan, path: Path) -> str:
    """Write the plan atomically (a half-written plan must never be applied); its hash."""
    text, digest = dumps(saved)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return digest


def read(path: Path) -> tuple[SavedPlan, str]:
    """The plan in ``path`` and its hash; ``PlanFileError`` when damaged or edited by hand."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanFileError(f"{path}: not a readable plan file ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise PlanFileError(f"{path}: not a tierwise plan (format {FORMAT!r} expected)")
    digest = raw.pop("sha256", None)
    if digest != _digest(raw):
        raise PlanFileError(f"{path}: the plan's hash does not match its content (edited?)")
    try:
        saved = SavedPlan(
            created=datetime.fromisoformat(raw["created"]),
            model_hash=raw["model"]["sha256"],
            model_path=raw["model"]["path"],
            records=[
                RecordChange(
                    system=r["system"],
                    crm_id=r["crm_id"],
                    account_key=r["account"],
                    held=decode_tierwise(r["held"]),
                    desired=decode_tierwise(r["desired"]),
                    fields={k: decode_value(v["new"]) for k, v in r["changes"].items()},
                )
                for r in raw["records"]
            ],
            tasks=[_untask(t) for t in raw["tasks"]],
            closes=[
                PlannedClose(c["system"], c["task_key"], c["crm_task_id"]) for c in raw["closes"]
            ],
            deferred=[_untask(t) for t in raw["deferred"]],
            dropped=list(raw["dropped"]),
            decisions=[
                DecisionRow(d["key"], d["tier"], float(d["score"]), d["rule"], d["reason"])
                for d in raw["decisions"]
            ],
            watermarks=dict(raw["watermarks"]),
            origin=raw.get("origin", "plan"),
            note=raw.get("note", ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{path}: damaged plan file ({type(exc).__name__}: {exc})") from None
    return saved, str(digest)
