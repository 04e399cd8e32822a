"""``tierwise calibrate``: group weights fitted on won/lost history, for a person to review.

Features are each account's points per adding criteria group, from the current model's
own breakdown; the label is whether any of its closed deals was won. A logistic
regression (scikit-learn) on a deterministic 70% of the accounts gives a coefficient per
point of each group; the group's new weight is proportional to the most it can add to
the log-odds (coefficient x current weight), clipped at 0 and scaled so the adding
groups sum to 100 as the model loader requires. Risk (subtracting) groups, tiers,
signals and everything else are copied unchanged. The held-out 30% compares the
current and candidate weights (AUC, top-tier win rate and lift). The live model file
is never written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML

from tierwise.sync.outcomes.backtest import end_of
from tierwise.sync.outcomes.metrics import auc, lift, rate
from tierwise.tiering import TieringModel, load_model, tier_accounts
from tierwise.tiering.records import AccountInput

HELD_OUT_SHARE = 0.3
# Below this many accounts with a closed deal, a fitted weight is mostly noise (issue 17).
MIN_CLOSED_ACCOUNTS = 100


@dataclass(frozen=True, slots=True)
class Evaluation:
    auc: float | None
    top_tier: str
    top_tier_accounts: int
    top_tier_win_rate: float | None
    overall_win_rate: float | None
    top_tier_lift: float | None


@dataclass
class Calibration:
    current_weights: dict[str, float]
    candidate_weights: dict[str, float]
    coefficients: dict[str, float]
    train_accounts: int
    held_out_accounts: int
    current: Evaluation
    candidate: Evaluation
    out: str | None = None
    notes: list[str] = field(default_factory=list)
    signal_weights: dict[str, dict[str, float]] | None = None
    # What a reviewer must look at before promoting the candidate (issue 17).
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def held_out(key: str) -> bool:
    """A stable split: the same account is always on the same side."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < HELD_OUT_SHARE


def group_points(
    model: TieringModel, inputs: Sequence[AccountInput], as_of: date
) -> dict[str, dict[str, float]]:
    result = tier_accounts(model, inputs, {}, end_of(as_of))
    return {d.key: {g.name: g.points for g in d.groups} for d in result.decisions}


def signal_points(
    model: TieringModel, inputs: Sequence[AccountInput], as_of: date
) -> dict[str, dict[str, float]]:
    """Account key -> ``group.signal`` -> points, from the model's breakdown."""
    result = tier_accounts(model, inputs, {}, end_of(as_of))
    return {
        d.key: {f"{g.name}.{sig.name}": sig.points for g in d.groups for sig in g.signals}
        for d in result.decisions
    }


def _logistic(x: Any, y: Any) -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # scikit-learn ships no type hints

    if len(set(y.tolist())) < 2:
        raise ValueError("calibration needs both won and lost accounts in the training data")
    return LogisticRegression(max_iter=2000).fit(x, y)


def _to_hundred(raw: Mapping[str, float]) -> dict[str, float]:
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("no criteria group predicts wins on this history")
    weights = {k: round(100 * v / total, 1) for k, v in raw.items()}
    largest = max(weights, key=lambda k: weights[k])
    weights[largest] = round(weights[largest] + 100 - sum(weights.values()), 1)
    return weights


def fit_signal_weights(
    model: TieringModel,
    points: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, bool],
) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, float]]:
    """Per-signal fit: (group weights summing to 100, signal shares per group in points,
    coefficients per point by ``group.signal``). A signal's budget is its coefficient x
    its current maximum points (clipped at 0); a group's weight is its signals' sum. A
    group whose every signal lost its budget keeps its signal shares at weight 0."""
    adding = [g for g in model.groups if not g.subtracts]
    names = [f"{g.id}.{sig.id}" for g in adding for sig in g.signals]
    keys = sorted(labels)
    x = np.array([[points[k].get(n, 0.0) for n in names] for k in keys], dtype=float)
    y = np.array([labels[k] for k in keys], dtype=int)
    coefs = dict(zip(names, (float(c) for c in _logistic(x, y).coef_[0]), strict=True))
    budget = {
        g.id: {sig.id: max(0.0, coefs[f"{g.id}.{sig.id}"]) * sig.weight for sig in g.signals}
        for g in adding
    }
    weights = _to_hundred({gid: sum(b.values()) for gid, b in budget.items()})
    shares: dict[str, dict[str, float]] = {}
    for g in adding:
        total = sum(budget[g.id].values())
        shares[g.id] = (
            {sid: round(100 * b / total, 2) for sid, b in budget[g.id].items()}
            if total > 0
            else {sig.id: sig.weight for sig in g.signals}
        )
    return weights, shares, coefs


def fit_weights(
    model: TieringModel,
    points: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, bool],
) -> tuple[dict[str, float], dict[str, float]]:
    """(new weights of the adding groups, summing to 100; coefficients per point)."""
    adding = [g for g in model.groups if not g.subtracts]
    keys = sorted(labels)
    x = np.array([[points[k].get(g.id, 0.0) for g in adding] for k in keys], dtype=float)
    y = np.array([labels[k] for k in keys], dtype=int)
    fitted = _logistic(x, y)
    coefs = {g.id: float(c) for g, c in zip(adding, fitted.coef_[0], strict=True)}
    weights = _to_hundred({g.id: max(0.0, coefs[g.id]) * g.weight for g in adding})
    return weights, coefs


def evaluate(
    model: TieringModel,
    inputs: Sequence[AccountInput],
    labels: Mapping[str, bool],
    as_of: date,
) -> Evaluation:
    result = tier_accounts(model, inputs, {}, end_of(as_of))
    scored = {d.key: (d.tier, d.score) for d in result.decisions if d.key in labels}
    keys = sorted(scored)
    area = auc([scored[k][1] for k in keys], [labels[k] for k in keys])
    top = model.tiers[0].id
    in_top = [k for k in keys if scored[k][0] == top]
    top_rate = rate(sum(labels[k] for k in in_top), len(in_top))
    overall = rate(sum(labels[k] for k in keys), len(keys))
    return Evaluation(area, top, len(in_top), top_rate, overall, lift(top_rate, overall))


def write_candidate(
    model_path: Path,
    weights: Mapping[str, float],
    out: Path,
    shares: Mapping[str, Mapping[str, float]] | None = None,
) -> None:
    """Copy the model file (comments kept) with new group (and signal) weights; check it
    loads."""
    yaml = YAML()
    yaml.preserve_quotes = True
    with model_path.open(encoding="utf-8") as handle:
        doc = yaml.load(handle)
    for group in doc["groups"]:
        if group["id"] in weights:
            group["weight"] = weights[group["id"]]
        for signal in group.get("signals") or ():
            share = (shares or {}).get(group["id"], {}).get(signal["id"])
            if share is not None:
                signal["weight"] = share
    with out.open("w", encoding="utf-8") as handle:
        handle.write("# Candidate model written by `tierwise calibrate` for review; not live.\n")
        yaml.dump(doc, handle)
    load_model(out)


def candidate_model(
    model: TieringModel,
    weights: Mapping[str, float],
    shares: Mapping[str, Mapping[str, float]] | None = None,
) -> TieringModel:
    """The model with new group weights (signal points scaled to match, or set from
    ``shares``), as the loader would build it from the candidate file."""
    from dataclasses import replace

    groups = []
    for g in model.groups:
        if g.id not in weights:
            groups.append(g)
            continue
        new = weights[g.id]
        relative = (shares or {}).get(g.id) or {sig.id: sig.weight for sig in g.signals}
        total = sum(relative.values())
        signals = tuple(
            replace(sig, weight=new * relative[sig.id] / total if total else 0.0)
            for sig in g.signals
        )
        groups.append(replace(g, weight=new, signals=signals))
    return replace(model, groups=tuple(groups))


def calibration_warnings(
    current: Mapping[str, float],
    candidate: Mapping[str, float],
    closed_accounts: int,
    minimum: int = MIN_CLOSED_ACCOUNTS,
) -> list[str]:
    """Proposals a person should not accept unread: whole criteria groups set to 0 (the
    model would stop looking at them), or a fit resting on too few closed deals."""
    out = [
        f"the proposal zeroes the whole group {gid!r} (weight {current[gid]:g} -> 0): the "
        "model would ignore it; check its fields are filled before accepting this"
        for gid in current
        if current[gid] > 0 and candidate.get(gid, current[gid]) <= 0
    ]
    if closed_accounts < minimum:
        out.append(
            f"the proposal rests on {closed_accounts} accounts with a closed deal (fewer "
            f"than {minimum}): its weights are mostly noise; wait for more outcomes or widen "
            "--since"
        )
    return out


def calibrate(
    model: TieringModel,
    inputs: Sequence[AccountInput],
    labels: Mapping[str, bool],
    as_of: date,
    *,
    per_signal: bool = False,
) -> tuple[Calibration, dict[str, float], dict[str, dict[str, float]] | None]:
    """Fit on the training side, evaluate both models on the held-out side."""
    train = {k: v for k, v in labels.items() if not held_out(k)}
    test = {k: v for k, v in labels.items() if held_out(k)}
    train_inputs = [i for i in inputs if i.key in train]
    shares: dict[str, dict[str, float]] | None = None
    if per_signal:
        weights, shares, coefs = fit_signal_weights(
            model, signal_points(model, train_inputs, as_of), train
        )
    else:
        weights, coefs = fit_weights(model, group_points(model, train_inputs, as_of), train)
    candidate = candidate_model(model, weights, shares)
    test_inputs = [i for i in inputs if i.key in test]
    result = Calibration(
        current_weights={g.id: g.weight for g in model.groups if not g.subtracts},
        candidate_weights=weights,
        coefficients=coefs,
        train_accounts=len(train),
        held_out_accounts=len(test),
        current=evaluate(model, test_inputs, test, as_of),
        candidate=evaluate(candidate, test_inputs, test, as_of),
    )
    if shares is not None:
        result.signal_weights = shares
    result.warnings = calibration_warnings(result.current_weights, weights, len(labels))
    return result, weights, shares


def calibration_text(c: Calibration) -> str:
    def show(e: Evaluation) -> str:
        area = "-" if e.auc is None else f"{e.auc:.3f}"
        top = "-" if e.top_tier_win_rate is None else f"{e.top_tier_win_rate:.1%}"
        lf = "-" if e.top_tier_lift is None else f"{e.top_tier_lift:.2f}x"
        return (
            f"AUC {area}; {e.top_tier} win rate {top} ({e.top_tier_accounts} accounts), lift {lf}"
        )

    lines = [
        f"Calibrated on {c.train_accounts} accounts with closed deals; "
        f"evaluated on {c.held_out_accounts} held out.",
        "group weights (current -> candidate):",
    ]
    for gid, w in c.current_weights.items():
        coef = c.coefficients.get(gid)
        detail = f"   (coef/point {coef:+.4f})" if coef is not None else ""
        lines.append(f"  {gid:<14}{w:>7.1f} -> {c.candidate_weights.get(gid, w):>6.1f}{detail}")
        for sid, share in ((c.signal_weights or {}).get(gid) or {}).items():
            lines.append(
                f"      {sid:<20} share {share:>6.2f}   (coef/point "
                f"{c.coefficients.get(f'{gid}.{sid}', 0.0):+.4f})"
            )
    lines.append(f"held out, current:   {show(c.current)}")
    lines.append(f"held out, candidate: {show(c.candidate)}")
    if c.out:
        lines.append(f"candidate model written to {c.out} for review (the live model is unchanged)")
    lines += [f"note: {n}" for n in c.notes]
    lines += [f"warning: {w}" for w in c.warnings]
    return "\n".join(lines)
