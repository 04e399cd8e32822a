"""The tier history half of the state store: each account's current tier per target
and the points where its tier or score moved (``StateStore`` mixes it in).

Keys are account keys, prefixed per tier target (``customer:<key>``); the store does not
interpret them. The outcome reports read the history through ``history_rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine

from tierwise.sync.state.tables import account_tier, tier_history
from tierwise.tiering.recorded import RecordedDecisions
from tierwise.tiering.records import AccountHistory, Decision, ScorePoint

# Rows per fetch when the history is read; decisions per chunk when a run is recorded.
READ_CHUNK = 5000
RECORD_CHUNK = 5000


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; everything in the store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    run_id: str
    at: datetime
    score: float
    tier: str
    rule: str
    reason: str


class TierHistory:
    """Tier history reads and writes; needs ``self.engine``."""

    engine: Engine

    def histories(
        self,
        now: datetime,
        lookback: timedelta = timedelta(days=90),
        *,
        intern: Callable[[str], str] | None = None,
    ) -> dict[str, AccountHistory]:
        """Each tiered account's current tier, since when, and its recent scores (oldest first).

        Read in chunks; the tier names and the timestamps of one run are shared objects
        (a run writes the same ``at`` for every point), so a million histories cost the
        dict and one small record each. ``intern`` shares the account keys with the
        snapshots read just before (``Interner.text``).
        """
        same = intern or _same
        since = now - lookback
        points: dict[str, list[ScorePoint]] = {}
        texts: dict[str, str] = {}
        stamps: dict[datetime, datetime] = {}

        def stamp(value: datetime | None) -> datetime | None:
            if value is None:
                return None
            value = utc(value) or value
            return stamps.setdefault(value, value)

        found: dict[str, AccountHistory] = {}
        with self.engine.connect() as conn:
            chunked_conn = conn.execution_options(yield_per=READ_CHUNK)
            for r in chunked_conn.execute(
                select(
                    tier_history.c.key, tier_history.c.at, tier_history.c.score, tier_history.c.tier
                )
                .where(tier_history.c.at >= since)
                .order_by(tier_history.c.key, tier_history.c.at, tier_history.c.id)
            ):
                points.setdefault(r.key, []).append(
                    ScorePoint(
                        at=stamp(r.at) or r.at, score=r.score, tier=texts.setdefault(r.tier, r.tier)
                    )
                )
            for r in chunked_conn.execute(select(account_tier)):
                found[same(r.key)] = AccountHistory(
                    tier=texts.setdefault(r.tier, r.tier),
                    tier_since=stamp(r.tier_since),
                    points=tuple(points.pop(r.key, ())),
                )
        return found

    def record_decisions(self, run_id: str, at: datetime, decisions: Sequence[Decision]) -> int:
        """Remember each account's tier; append a history point when tier or score moved.

        Returns the number of history points written. Unchanged accounts add no row, so
        an hourly incremental schedule does not grow the table by the population size.
        """
        with self.engine.begin() as conn:
            return self._record_decisions(conn, run_id, at, decisions)

    def _record_decisions(
        self, conn: Connection, run_id: str, at: datetime, decisions: Sequence[Decision]
    ) -> int:
        """In chunks of decisions: each chunk reads its accounts' current tiers, then
        writes its rows, so neither the ``account_tier`` table nor the rows to write are
        ever held whole (a first run at a million accounts writes a million of each)."""
        written = 0
        for start in range(0, len(decisions), RECORD_CHUNK):
            written += self._record_chunk(conn, run_id, at, decisions[start : start + RECORD_CHUNK])
        return written

    @staticmethod
    def _record_chunk(
        conn: Connection, run_id: str, at: datetime, decisions: Sequence[Decision]
    ) -> int:
        if isinstance(decisions, RecordedDecisions):
            keys, tiers, scores = decisions.keys, decisions.tiers, decisions.scores
        else:
            keys = [d.key for d in decisions]
            tiers = [d.tier for d in decisions]
            scores = [d.score for d in decisions]
        current: dict[str, Any] = {}
        for chunk in chunked(keys, 500):
            for r in conn.execute(select(account_tier).where(account_tier.c.key.in_(chunk))):
                current[r.key] = r
        new_rows: list[dict[str, Any]] = []
        upserts: list[dict[str, Any]] = []
        for i, (key, tier, exact) in enumerate(zip(keys, tiers, scores, strict=True)):
            prev = current.get(key)
            score = round(exact, 1)
            if prev is not None and prev.tier == tier and abs(prev.score - score) < 0.05:
                continue
            # Only a row written needs the whole decision (its rule and rendered reason).
            d = decisions[i]
            since = at if prev is None or prev.tier != tier else utc(prev.tier_since)
            upserts.append(
                {"key": key, "tier": tier, "tier_since": since, "score": score, "updated": at}
            )
            new_rows.append(
                {
                    "key": key,
                    "run_id": run_id,
                    "at": at,
                    "score": score,
                    "tier": tier,
                    "rule": d.rule,
                    "reason": d.reason,
                }
            )
        keys = [u["key"] for u in upserts]
        for chunk in chunked(keys, 500):
            conn.execute(delete(account_tier).where(account_tier.c.key.in_(chunk)))
        if upserts:
            conn.execute(insert(account_tier), upserts)
        if new_rows:
            conn.execute(insert(tier_history), new_rows)
        return len(new_rows)

    def history(self, key: str) -> list[HistoryRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tier_history)
                .where(tier_history.c.key == key)
                .order_by(tier_history.c.at, tier_history.c.id)
            ).all()
        return [
            HistoryRow(
                run_id=r.run_id,
                at=utc(r.at) or r.at,
                score=r.score,
                tier=r.tier,
                rule=r.rule,
                reason=r.reason,
            )
            for r in rows
        ]

    def history_rows(self, *, until: datetime | None = None) -> list[tuple[str, HistoryRow]]:
        """Every tier history row as (key, row), oldest first (``until``: at or before it).

        The outcome reports read the history through this, never with SQL of their own,
        so the table can change without breaking analytics.
        """
        query = select(
            tier_history.c.key,
            tier_history.c.run_id,
            tier_history.c.at,
            tier_history.c.score,
            tier_history.c.tier,
            tier_history.c.rule,
        ).order_by(tier_history.c.at, tier_history.c.id)
        if until is not None:
            query = query.where(tier_history.c.at <= until)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            (
                r.key,
                HistoryRow(
                    run_id=r.run_id,
                    at=utc(r.at) or r.at,
                    score=float(r.score),
                    tier=r.tier,
                    rule=r.rule,
                    reason="",
                ),
            )
            for r in rows
        ]

    def count_history(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tier_history)).scalar_one())


def _same(value: str) -> str:
    return value


def chunked(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
