"""Column-wise scoring: every signal is evaluated for all accounts at once.

A per-account loop over signal objects costs tens of microseconds per account,
which is a minute per million accounts. Instead each field is pulled out of the
records once into a numpy column and each signal becomes a vector operation, so a
run costs a few passes over the records. Per-signal points stay in one compact
``(accounts, signals)`` array from which breakdowns are built only when a decision
is looked at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from tierwise.tiering.inputs import column
from tierwise.tiering.model import SignalSpec, TieringModel
from tierwise.tiering.records import (
    AccountInput,
    FieldLayout,
    FieldRow,
    FieldValue,
    row_layout,
    row_values,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int16]  # tier indexes
_NAN = math.nan


class Columns:
    """Field columns pulled once from the records and shared by signals and triggers."""

    def __init__(self, accounts: Sequence[AccountInput], today: date) -> None:
        self.count = len(accounts)
        self.today = today
        self._maps: list[Mapping[str, FieldValue]] = column(accounts, "fields")
        self._raw: dict[str, list[FieldValue]] = {}
        self._numbers: dict[str, FloatArray] = {}
        self._groups = _row_groups(self._maps)

    def raw(self, name: str) -> list[FieldValue]:
        column = self._raw.get(name)
        if column is None:
            column = self._raw[name] = self._read(name)
        return column

    def _read(self, name: str) -> list[FieldValue]:
        """One field of every account: ``fields.get(name)`` of each, but for the store's
        ``FieldRow``s one C-level pass over their value tuples per shared layout."""
        groups = self._groups
        if groups is None:
            return [fields.get(name) for fields in self._maps]
        if len(groups) == 1 and groups[0].positions is None:
            return groups[0].read(name)
        column = np.full(self.count, None, dtype=object)
        for group in groups:
            values = group.read(name)
            # fromiter keeps each value (a tuple too) as one element of the object array.
            column[group.positions] = np.fromiter(values, dtype=object, count=len(values))
        mixed: list[FieldValue] = column.tolist()
        return mixed

    def numbers(self, name: str) -> FloatArray:
        """Numbers as floats; None or a value of another type is NaN (missing)."""
        column = self._numbers.get(name)
        if column is None:
            raw = self.raw(name)
            if set(map(type, raw)) <= _PLAIN_NUMBERS:
                # Only floats, ints and None: numpy converts the list at C speed (None is NaN).
                column = np.array(raw, dtype=np.float64)
            else:
                column = np.fromiter(
                    (
                        v if v.__class__ is float or v.__class__ is int else _as_number(v)
                        for v in raw
                    ),
                    dtype=np.float64,
                    count=self.count,
                )
            self._numbers[name] = column
        return column

    def days_since(self, name: str) -> FloatArray:
        """Whole days from a date field to today; NaN when missing."""
        key = "@days:" + name
        column = self._numbers.get(key)
        if column is None:
            today = self.today.toordinal()
            column = self.mapped(
                name, lambda v: today - v.toordinal() if isinstance(v, date) else _NAN
            )
            self._numbers[key] = column
        return column

    def mapped(self, name: str, lookup: Callable[[FieldValue], float]) -> FloatArray:
        """``lookup`` of every value; asked once per distinct value where that is exact.

        Fields repeat a few values (industries, flags, dates), so a column is mapped
        through a table of its distinct values. Values are told apart by equality, so
        the table is used only when no two classes of equal values (``True == 1 ==
        1.0``) share the column; otherwise, or for an unhashable value, value by value.
        """
        raw = self.raw(name)
        kinds = set(map(type, raw))
        if len(kinds & _EQUAL_ACROSS) <= 1 and kinds <= _MEMO_SAFE:
            try:
                distinct = set(raw)
            except TypeError:  # an unhashable value (a list inside a tuple)
                pass
            else:
                # 0.0 == -0.0 share a key: the table holds only when the lookup agrees.
                zero = 0.0 in distinct and float in kinds
                if _plain_tuples(distinct) and (not zero or _same_at_zero(lookup)):
                    table = {v: lookup(v) for v in distinct}
                    return np.fromiter(
                        map(table.__getitem__, raw), dtype=np.float64, count=self.count
                    )
        return np.fromiter((lookup(v) for v in raw), dtype=np.float64, count=self.count)


def _same_at_zero(lookup: Callable[[FieldValue], float]) -> bool:
    """Does ``lookup`` give 0.0 and -0.0 the same points (both NaN counts as the same)?"""
    plus, minus = lookup(0.0), lookup(-0.0)
    return plus == minus or (math.isnan(plus) and math.isnan(minus))


class _RowGroup:
    """The accounts whose fields share one ``FieldLayout`` (or, ``layout`` None, any
    other mappings), by position; ``positions`` None: every account, in order."""

    __slots__ = ("layout", "maps", "positions", "rows")

    def __init__(
        self,
        layout: FieldLayout | None,
        maps: list[Mapping[str, FieldValue]],
        positions: list[int] | None,
    ) -> None:
        self.layout = layout
        self.maps = maps
        self.positions = None if positions is None else np.array(positions, dtype=np.intp)
        self.rows = list(map(row_values, maps)) if layout is not None else []  # type: ignore[arg-type]  # a layout's group holds FieldRows only

    def read(self, name: str) -> list[FieldValue]:
        if self.layout is None:
            return [fields.get(name) for fields in self.maps]
        i = self.layout.index.get(name)
        if i is None:
            return [None] * len(self.rows)
        return list(map(itemgetter(i), self.rows))


def _row_groups(maps: list[Mapping[str, FieldValue]]) -> list[_RowGroup] | None:
    """``maps`` grouped by ``FieldRow`` layout; None when no map is a ``FieldRow``."""
    kinds = set(map(type, maps))
    if FieldRow not in kinds:
        return None
    if len(kinds) == 1:
        layouts = list(map(row_layout, maps))  # type: ignore[arg-type]  # every map is a FieldRow
        if len(set(layouts)) == 1:
            return [_RowGroup(layouts[0], maps, None)]
    by_layout: dict[FieldLayout | None, tuple[list[Mapping[str, FieldValue]], list[int]]] = {}
    for position, fields in enumerate(maps):
        layout = row_layout(fields) if fields.__class__ is FieldRow else None  # checked: a FieldRow
        group = by_layout.get(layout)
        if group is None:
            group = by_layout[layout] = ([], [])
        group[0].append(fields)
        group[1].append(position)
    return [_RowGroup(layout, got, positions) for layout, (got, positions) in by_layout.items()]


_PLAIN_NUMBERS: frozenset[type] = frozenset({float, int, type(None)})
# Classes whose values compare equal across classes: one column may hold one of them.
_EQUAL_ACROSS: frozenset[type] = frozenset({bool, int, float})
# Tuples too when they hold strings only (a field's list of values, the canonical form):
# equal tuples of strings are the same strings in the same order.
_MEMO_SAFE: frozenset[type] = frozenset({bool, int, float, str, date, datetime, tuple, type(None)})


def _plain_tuples(distinct: set[FieldValue]) -> bool:
    """No distinct tuple holds anything but strings (``(1,) == (True,)``, see ``mapped``)."""
    return all(type(item) is str for value in distinct if type(value) is tuple for item in value)


def _as_number(value: FieldValue) -> float:
    """The slow path of ``Columns.numbers``: numpy scalars count, bools do not."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return float(value)
    return _NAN


def _range(signal: SignalSpec, columns: Columns) -> FloatArray:
    xs = np.array([x for x, _ in signal.points])
    ys = np.array([y for _, y in signal.points])
    values: FloatArray = np.interp(columns.numbers(signal.field), xs, ys)
    return values


def _category(signal: SignalSpec, columns: Columns) -> FloatArray:
    table, default = dict(signal.table), signal.default

    def lookup(value: FieldValue) -> float:
        if value is None:
            return _NAN
        try:
            return table.get(value, default)  # type: ignore[arg-type]  # keys are str; other values just miss, unhashable ones raise below
        except TypeError:  # an unhashable value cannot be in the table
            return default

    return columns.mapped(signal.field, lookup)


def _contains_any(signal: SignalSpec, columns: Columns) -> FloatArray:
    wanted, match, no_match = signal.any_of, signal.match, signal.no_match

    def lookup(value: FieldValue) -> float:
        if value is None:
            return _NAN
        if isinstance(value, tuple | list):
            return no_match if wanted.isdisjoint(value) else match
        return match if value in wanted else no_match

    return columns.mapped(signal.field, lookup)


def _bool(signal: SignalSpec, columns: Columns) -> FloatArray:
    if_true, if_false = signal.true_value, signal.false_value
    return columns.mapped(
        signal.field, lambda v: if_true if v is True else (if_false if v is False else _NAN)
    )


def _recency(signal: SignalSpec, columns: Columns) -> FloatArray:
    days = np.maximum(columns.days_since(signal.field), 0.0)
    values: FloatArray = np.power(0.5, days / signal.half_life_days)
    return values


_KINDS: Mapping[str, Callable[[SignalSpec, Columns], FloatArray]] = {
    "range": _range,
    "category": _category,
    "contains_any": _contains_any,
    "bool": _bool,
    "recency": _recency,
}


@dataclass(frozen=True, slots=True)
class ScoreTable:
    """Scores of one run. ``points[i, j]``: points account i got from signal j.

    Risk points are stored positive; ``subtracts[j]`` says they count negatively.
    """

    signals: tuple[SignalSpec, ...]
    group_of: tuple[int, ...]
    subtracts: tuple[bool, ...]
    points: FloatArray
    missing: BoolArray
    scores: FloatArray


def score_accounts(model: TieringModel, columns: Columns) -> ScoreTable:
    """Score every account 0..100; risk subtracts, the result is clipped to the range."""
    signals = model.signals()
    group_of = tuple(g for g, group in enumerate(model.groups) for _ in group.signals)
    subtracts = tuple(model.groups[g].subtracts for g in group_of)
    n = columns.count
    points = np.empty((n, len(signals)), dtype=np.float64)
    missing = np.empty((n, len(signals)), dtype=np.bool_)
    total = np.zeros(n, dtype=np.float64)
    for j, signal in enumerate(signals):
        values = _KINDS[signal.kind](signal, columns)
        absent = np.isnan(values)
        values[absent] = signal.missing
        column = values * signal.weight
        points[:, j] = column
        missing[:, j] = absent
        if subtracts[j]:
            total -= column
        else:
            total += column
    # Rounded once here so every later comparison and every explanation sees one number.
    scores = np.asarray(np.round(np.clip(total, 0.0, 100.0), 2), dtype=np.float64)
    return ScoreTable(signals, group_of, subtracts, points, missing, scores)


def signal_detail(signal: SignalSpec, value: FieldValue) -> str:
    """A few words a rep recognises ("Software", "1,200 emp", "surge") or ""."""
    if value is None:
        return "missing"
    if signal.kind == "range" and isinstance(value, int | float) and not isinstance(value, bool):
        text = _money(float(value)) if signal.unit == "USD" else f"{value:,.0f}"
        if signal.unit and signal.unit != "USD":
            text = f"{text} {signal.unit}"
        return f"{signal.label} {text}" if signal.label else text
    if signal.kind == "category":
        return f"{signal.label} {value}" if signal.label else str(value)
    if signal.kind in ("bool", "contains_any"):
        return signal.label or signal.id
    if signal.kind == "recency" and isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        return f"{signal.label or signal.id} {day.isoformat()}"
    return ""


def _money(amount: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= size:
            return f"${amount / size:.3g}{suffix}"
    return f"${amount:,.0f}"
