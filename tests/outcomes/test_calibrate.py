"""The candidate model evaluated in memory is the one written to the candidate file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.outcomes.test_outcomes_sandbox import LIVE_MODEL
from tierwise.sync.outcomes.backtest import end_of
from tierwise.sync.outcomes.calibrate import candidate_model, write_candidate
from tierwise.tiering import load_model, tier_accounts
from tierwise.tiering.records import AccountInput


@pytest.mark.parametrize(
    "shares",
    [
        None,
        {
            "fit": {
                "industry": 50.0,
                "employees": 50.0,
                "annual_revenue": 0.0,
                "country": 0.0,
                "tech_fit": 0.0,
            }
        },
    ],
)
def test_the_written_candidate_scores_like_the_evaluated_one(
    tmp_path: Path, shares: dict[str, dict[str, float]] | None
) -> None:
    model = load_model(LIVE_MODEL)
    weights = {"fit": 60.0, "intent": 35.0, "opportunity": 5.0}
    out = tmp_path / "candidate.yaml"
    accounts = [
        AccountInput("a", {"industry": "Software", "employees": 900.0, "intent_score": 70.0}),
        AccountInput("b", {"industry": "Retail", "employees": 20.0, "open_pipeline": 9e5}),
        AccountInput("c", {"industry": "Media", "annual_revenue": 2e8, "intent_surge": True}),
    ]
    now = end_of(date(2026, 11, 1))

    write_candidate(LIVE_MODEL, weights, out, shares)
    written = tier_accounts(load_model(out), accounts, {}, now)
    in_memory = tier_accounts(candidate_model(model, weights, shares), accounts, {}, now)

    assert [d.score for d in written.decisions] == pytest.approx(
        [d.score for d in in_memory.decisions]
    )
    assert "Candidate model written by `tierwise calibrate`" in out.read_text(encoding="utf-8")


def test_a_proposal_that_zeroes_a_whole_group_is_warned_about() -> None:
    from tierwise.sync.outcomes.calibrate import calibration_warnings

    found = calibration_warnings(
        {"fit": 40.0, "intent": 35.0, "opportunity": 25.0},
        {"fit": 70.0, "intent": 30.0, "opportunity": 0.0},
        closed_accounts=500,
    )

    assert len(found) == 1
    assert "zeroes the whole group 'opportunity'" in found[0]


def test_a_proposal_resting_on_too_few_closed_deals_is_warned_about() -> None:
    from tierwise.sync.outcomes.calibrate import calibration_warnings

    found = calibration_warnings({"fit": 50.0}, {"fit": 50.0}, closed_accounts=12, minimum=100)

    assert len(found) == 1
    assert "rests on 12 accounts with a closed deal (fewer than 100)" in found[0]


def test_a_sound_proposal_has_no_warning() -> None:
    from tierwise.sync.outcomes.calibrate import calibration_warnings

    assert (
        calibration_warnings(
            {"fit": 50.0, "intent": 50.0}, {"fit": 60.0, "intent": 40.0}, closed_accounts=400
        )
        == []
    )
