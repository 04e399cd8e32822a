"""The gate for new models: a candidate goes live only if it is not worse, out of time.

Closed deals are split by close date: the latest ``HOLDOUT`` share is the test window,
the rest is history. Both models tier the accounts as of the cut-off date; on the
accounts with a deal closed after it the gate compares

* AUC of the score against won/lost,
* tier-1 lift (tier 1's win rate over the overall win rate),
* the Brier score of each tier's win rate before the cut-off used as the win chance
  after it (calibration by tier: a tier whose past rate says 40 % should win ~40 %).

The candidate is refused when it is worse than the live model beyond a tolerance on any
of the three, or when too few deals closed after the cut-off to tell. Pure: the caller
brings the inputs, the deals and both models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from tierwise.sync.exits import EXIT_MODEL_REFUSED
from tierwise.sync.outcomes.backtest import outcomes_after, score_with_model
from tierwise.sync.outcomes.data import Deal
from tierwise.sync.outcomes.metrics import auc, lift, rate
from tierwise.tiering import TieringModel
from tierwise.tiering.errors import TierwiseError
from tierwise.tiering.records import AccountInput


class ModelRefusedError(TierwiseError):
    """The candidate model did worse than the live one out of time; the live file is
    unchanged (``tierwise model promote --force`` promotes it anyway)."""

    run_status = "model_refused"
    exit_code = EXIT_MODEL_REFUSED


HOLDOUT = 0.3  # share of closed deals, the latest ones, held out
MIN_HOLDOUT_DEALS = 30
AUC_TOLERANCE = 0.02
LIFT_TOLERANCE = 0.1
BRIER_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class TierFigures:
    tier: str
    accounts: int  # with a deal closed after the cut-off
    rate_before: float | None  # win rate before the cut-off: the predicted chance
    rate_after: float | None  # win rate after it


@dataclass
class Figures:
    auc: float | None
    tier_1_lift: float | None
    brier: float | None
    accounts: int
    tiers: list[TierFigures] = field(default_factory=list)


@dataclass
class Verdict:
    cutoff: date
    until: date
    holdout_deals: int
    live: Figures
    candidate: Figures
    refusals: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.refusals

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "until": self.until.isoformat(),
            "holdout_deals": self.holdout_deals,
            "live": asdict(self.live),
            "candidate": asdict(self.candidate),
            "accepted": self.accepted,
            "refusals": self.refusals,
        }


def cutoff_date(deals: Sequence[Deal], holdout: float = HOLDOUT) -> date | None:
    """The close date before which ``1 - holdout`` of the closed deals closed."""
    closed = sorted(d.closed for d in deals if d.is_closed and d.closed is not None)
    if len(closed) < 2:
        return None
    index = min(len(closed) - 1, max(1, int(len(closed) * (1 - holdout))))
    return closed[index - 1]


def figures(
    model: TieringModel,
    inputs: Sequence[AccountInput],
    deals: Sequence[Deal],
    cutoff: date,
    until: date,
) -> Figures:
    scored = score_with_model(model, inputs, cutoff)
    before = outcomes_after(deals, date.min, cutoff)
    after = outcomes_after(deals, cutoff, until)
    labelled = [k for k in scored if k in after]
    won = {k: after[k][1] > 0 for k in labelled}
    tiers = [t.id for t in model.tiers]
    rows: list[TierFigures] = []
    chance: dict[str, float] = {}
    overall_before = rate(
        sum(1 for k, (_, w) in before.items() if k in scored and w > 0),
        sum(1 for k in before if k in scored),
    )
    for tier in [*tiers, *sorted({s.tier for s in scored.values()} - set(tiers))]:
        keys = [k for k, s in scored.items() if s.tier == tier]
        past = [k for k in keys if k in before]
        r_before = rate(sum(1 for k in past if before[k][1] > 0), len(past))
        now = [k for k in keys if k in won]
        rows.append(TierFigures(tier, len(now), r_before, rate(sum(won[k] for k in now), len(now))))
        chance[tier] = r_before if r_before is not None else (overall_before or 0.0)
    overall_after = rate(sum(won.values()), len(won))
    top = next((r for r in rows if r.tier == tiers[0]), None) if tiers else None
    brier = (
        sum((chance[scored[k].tier] - float(won[k])) ** 2 for k in labelled) / len(labelled)
        if labelled
        else None
    )
    return Figures(
        auc=auc([scored[k].score for k in labelled], [won[k] for k in labelled]),
        tier_1_lift=lift(top.rate_after, overall_after) if top is not None else None,
        brier=brier,
        accounts=len(labelled),
        tiers=rows,
    )


def judge(live: Figures, candidate: Figures) -> list[str]:
    """Why the candidate is worse than the live model beyond the tolerances (empty: not)."""
    out: list[str] = []
    checks: Sequence[tuple[str, float | None, float | None, float, bool]] = (
        ("AUC", live.auc, candidate.auc, AUC_TOLERANCE, True),
        ("tier-1 lift", live.tier_1_lift, candidate.tier_1_lift, LIFT_TOLERANCE, True),
        ("Brier score", live.brier, candidate.brier, BRIER_TOLERANCE, False),
    )
    for name, old, new, tolerance, higher_is_better in checks:
        if old is None:
            continue
        if new is None:
            out.append(f"{name} cannot be measured for the candidate (live {old:.3f})")
        elif higher_is_better and new < old - tolerance:
            out.append(f"{name} {new:.3f} < live {old:.3f} - {tolerance}")
        elif not higher_is_better and new > old + tolerance:
            out.append(f"{name} {new:.3f} > live {old:.3f} + {tolerance} (lower is better)")
    return out


def evaluate(
    live: TieringModel,
    candidate: TieringModel,
    inputs: Sequence[AccountInput],
    deals: Sequence[Deal],
    today: date,
) -> Verdict:
    cutoff = cutoff_date(deals) or today
    after = outcomes_after(deals, cutoff, today)
    holdout = sum(closed for closed, _ in after.values())
    verdict = Verdict(
        cutoff,
        today,
        holdout,
        figures(live, inputs, deals, cutoff, today),
        figures(candidate, inputs, deals, cutoff, today),
    )
    if holdout < MIN_HOLDOUT_DEALS:
        verdict.refusals.append(
            f"only {holdout} deals closed after the cut-off {cutoff} (at least "
            f"{MIN_HOLDOUT_DEALS} needed to compare models out of time)"
        )
    verdict.refusals += judge(verdict.live, verdict.candidate)
    return verdict


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "-" if value is None else format(value, fmt)


def verdict_text(v: Verdict, names: Mapping[str, str]) -> str:
    live, cand = names["live"], names["candidate"]
    lines = [
        f"Out-of-time backtest: tiers as of {v.cutoff}, {v.holdout_deals} deals closed "
        f"{v.cutoff} .. {v.until}",
        f"  {'':<22}{live[:18]:>18}{cand[:18]:>18}",
        f"  {'AUC':<22}{_num(v.live.auc):>18}{_num(v.candidate.auc):>18}",
        f"  {'tier-1 lift':<22}{_num(v.live.tier_1_lift, '.2f'):>18}"
        f"{_num(v.candidate.tier_1_lift, '.2f'):>18}",
        f"  {'Brier (by tier)':<22}{_num(v.live.brier):>18}{_num(v.candidate.brier):>18}",
        f"  {'accounts with a deal':<22}{v.live.accounts:>18}{v.candidate.accounts:>18}",
        "  win rate before -> after the cut-off, by tier:",
    ]
    for side, figs in ((live, v.live), (cand, v.candidate)):
        cells = [
            f"{t.tier} {_num(t.rate_before, '.0%')}->{_num(t.rate_after, '.0%')} (n={t.accounts})"
            for t in figs.tiers
            if t.accounts
        ]
        lines.append(f"    {side}: " + "; ".join(cells))
    return "\n".join(lines)
