"""The lazy decisions (issue 15) answer exactly what built decisions answer.

``DecisionMap`` builds a decision when a key is read, ``brief`` answers tier, score,
play and previous tier without building one, and a deferred decision renders its
reason and breakdown on first read. Whatever is read first, the values are the same.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path

import pytest

from tierwise.tiering import DecisionTable, load_model, tier_accounts
from tierwise.tiering.reasons import ReasonWriter
from tierwise.tiering.records import AccountHistory, AccountInput, Decision

from .conftest import NOW

MODEL = load_model(Path(__file__).resolve().parents[2] / "config" / "model.yaml")


def _accounts() -> list[AccountInput]:
    industries = ("Software", "Retail", None)
    return [
        AccountInput(
            key=f"a{i}.com",
            fields={
                "industry": industries[i % 3],
                "employees": float(i * 37 % 5000),
                "web_visits": float(i * 13 % 300),
                "intent_score": float(i * 7 % 100),
                "intent_surge": i % 5 == 0,
            },
            owner=f"u{i % 4}",
        )
        for i in range(300)
    ]


def _table() -> DecisionTable:
    history = {
        f"a{i}.com": AccountHistory("tier_2", NOW - timedelta(days=40)) for i in range(0, 300, 3)
    }
    decisions = tier_accounts(MODEL, _accounts(), history, NOW).decisions
    assert isinstance(decisions, DecisionTable)
    return decisions


def _values(d: Decision) -> tuple[object, ...]:
    return tuple(getattr(d, f.name) for f in fields(Decision))


def test_the_map_by_key_holds_every_decision_of_the_table_and_briefs_agree() -> None:
    table = _table()
    by_key = table.by_key()
    brief = by_key.brief_of()
    assert [d.key for d in table] == list(by_key)
    for d in table:
        assert _values(d) == _values(by_key[d.key])
        b = brief(d.key)
        assert b is not None
        assert (d.tier, d.score, d.play, d.previous_tier, d.changed) == (
            b.tier,
            b.score,
            b.play,
            b.previous_tier,
            b.changed,
        )
    assert brief("missing.com") is None
    assert by_key.brief("missing.com") is None


def test_a_deferred_decision_reads_the_same_whatever_is_read_first() -> None:
    table = _table()
    for i in range(len(table)):
        reason_first, groups_first = table[i], table[i]
        assert reason_first.reason
        assert groups_first.groups
        assert _values(reason_first) == _values(groups_first)
        eager = Decision(**{f.name: getattr(table[i], f.name) for f in fields(Decision)})
        assert eager == table[i]
        assert replace(table[i], key="x") == replace(eager, key="x")
        assert pickle.loads(pickle.dumps(table[i]))  # noqa: S301 - our own bytes, just made == eager
        assert copy.copy(table[i]) == eager


def test_a_reason_renders_once_per_run_however_often_its_decision_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = _table()
    rendered: list[int] = []

    def counting(real: Callable[..., str]) -> Callable[..., str]:
        def counted(self: ReasonWriter, i: int, *args: object) -> str:
            rendered.append(i)
            return real(self, i, *args)

        return counted

    # Either way of wording a reason counts: alone (a write) or with the breakdown.
    monkeypatch.setattr(ReasonWriter, "reason", counting(ReasonWriter.reason))
    monkeypatch.setattr(ReasonWriter, "from_groups", counting(ReasonWriter.from_groups))
    first = [table[i].reason for i in range(0, 300, 7)]
    # Built again (the plan reads each company once per CRM record, the history once
    # more): the reason comes from the run's cache, the breakdown still renders on read.
    again = [table[i] for i in range(0, 300, 7)]
    assert [d.reason for d in again] == first
    assert rendered == list(range(0, 300, 7))
    # Every value is what a fresh table renders (reading the breakdown of a cached
    # decision words no reason again; the fresh table's decisions word theirs).
    fresh = _table()
    assert [_values(d) for d in again] == [_values(fresh[i]) for i in range(0, 300, 7)]
    assert rendered == [*range(0, 300, 7)] * 2
