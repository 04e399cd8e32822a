"""Customer tiers (preview): existing customers tiered by a second model profile.

A customer is an account with at least one won deal. Its fields are derived from the
deal history (``config/customer_model.yaml`` declares them): ARR proxy (won in the last
365 days), wins, expansion (that year over the year before), last win, open pipeline,
lost deals. The tiering core is the same as for prospects; only the model differs.

``tierwise customers`` is the read-only preview; with ``TIERWISE_CUSTOMER_TIERS`` on the
sync job tiers and writes them. Both go through the customer target of ``tierwise.sync.targets``
(``tierwise.sync.preview.preview_customers`` for the preview), so they agree account by account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from tierwise.sync.outcomes.data import Deal
from tierwise.tiering import TieringModel, tier_accounts
from tierwise.tiering.records import AccountInput, Decision, FieldValue

CUSTOMER_MODEL = Path(__file__).resolve().parents[2] / "config" / "customer_model.yaml"


# Customer-model fields read from the CRM record (not derived from deals).
CRM_FIELDS: tuple[str, ...] = ("health_score", "product_adoption")


def customer_inputs(
    deals: Sequence[Deal],
    today: date,
    account_fields: Mapping[str, Mapping[str, FieldValue]] | None = None,
) -> list[AccountInput]:
    """One input per account with a won deal: deal-derived measures, plus the
    customer-success fields the CRM holds for it (``account_fields`` by account key)."""
    year, two_years = today - timedelta(days=365), today - timedelta(days=730)
    by_key: dict[str, list[Deal]] = {}
    for d in deals:
        by_key.setdefault(d.account_key, []).append(d)
    inputs: list[AccountInput] = []
    for key in sorted(by_key):
        own = by_key[key]
        won = [d for d in own if d.is_won and d.closed is not None and d.closed <= today]
        if not won:
            continue
        recent = sum(d.amount for d in won if d.closed and d.closed > year)
        before = sum(d.amount for d in won if d.closed and two_years < d.closed <= year)
        fields: dict[str, FieldValue] = {
            "arr": recent,
            "wins_12m": float(sum(1 for d in won if d.closed and d.closed > year)),
            "expansion": recent / before if before else None,
            "last_win": max(d.closed for d in won if d.closed),
            "open_pipeline": sum(d.amount for d in own if not d.is_closed),
            "lost_12m": float(
                sum(
                    1
                    for d in own
                    if d.is_closed and not d.is_won and d.closed and year < d.closed <= today
                )
            ),
        }
        held = (account_fields or {}).get(key, {})
        fields.update({name: held.get(name) for name in CRM_FIELDS})
        inputs.append(AccountInput(key=key, fields=fields))
    return inputs


def _number(value: FieldValue) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


@dataclass(frozen=True, slots=True)
class CustomerRow:
    key: str
    tier: str
    score: float
    arr: float
    reason: str


class _Decided(Protocol):
    """``tierwise.sync.targets.TargetDecisions``: a target's decisions and the inputs it tiered."""

    @property
    def decisions(self) -> Mapping[str, Decision]: ...
    @property
    def inputs(self) -> Sequence[AccountInput]: ...


def customer_rows(decided: _Decided) -> list[CustomerRow]:
    """The preview's rows from the customer target's decisions (``tierwise.sync.preview``): best
    score first."""
    arr = {i.key: _number(i.fields.get("arr")) for i in decided.inputs}
    return sorted(
        (
            CustomerRow(d.key, d.tier, d.score, arr.get(d.key, 0.0), d.reason)
            for d in decided.decisions.values()
        ),
        key=lambda r: (-r.score, r.key),
    )


def customer_tiers(model: TieringModel, deals: Sequence[Deal], today: date) -> list[CustomerRow]:
    """Deal-history-only tiers without history or CRM health fields: NOT what a run
    decides. Kept importable for older callers; ``tierwise customers`` uses
    ``tierwise.sync.preview.preview_customers``, which agrees with ``run``."""
    inputs = customer_inputs(deals, today)
    result = tier_accounts(model, inputs, {}, datetime.combine(today, time.max, tzinfo=UTC))
    return customer_rows(_Tiered({d.key: d for d in result.decisions}, inputs))


@dataclass(frozen=True, slots=True)
class _Tiered:
    decisions: Mapping[str, Decision]
    inputs: Sequence[AccountInput]


def customers_text(model: TieringModel, rows: Sequence[CustomerRow], top: int = 15) -> str:
    labels = model.tier_labels()
    lines = [f"Customer tiers (preview, read-only): {len(rows)} customers with a won deal"]
    for tier in [t.id for t in model.tiers]:
        members = [r for r in rows if r.tier == tier]
        lines.append(
            f"  {labels[tier]:<10}{len(members):>7} customers  "
            f"ARR ${sum(r.arr for r in members):,.0f}"
        )
    lines.append(f"Top {min(top, len(rows))} by score:")
    lines += [
        f"  {r.key:<32} {labels.get(r.tier, r.tier):<8} {r.score:5.1f}  {r.reason}"
        for r in rows[:top]
    ]
    return "\n".join(lines)


def customers_dict(rows: Sequence[CustomerRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
