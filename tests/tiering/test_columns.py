"""Column shortcuts (C-speed conversion, a table of distinct values) change no value.

``Columns`` converts a plain number column in one numpy call and maps other columns
through a table of their distinct values (issue 15). The reference is the value-by-value
definition each shortcut replaces; columns are drawn with the values that compare equal
across classes (``True == 1 == 1.0``), None, numpy scalars and unhashable lists mixed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.tiering.records import AccountInput, FieldLayout, FieldRow, FieldValue
from tierwise.tiering.scoring import Columns, _as_number

TODAY = date(2026, 11, 24)

values = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from((0, 1, 2, 0.0, 1.0, -0.0, 2.5, math.nan)),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from(("Software", "1", "", "True")),
    st.sampled_from((date(2026, 1, 1), datetime(2026, 1, 1), date(2025, 6, 30))),
    st.sampled_from((("Snowflake",), ("AWS", "Okta"), ())),
    # Equal tuples of equal values of different classes: never one answer for both.
    st.sampled_from(((1,), (True,), (1.0,))),
    st.just(np.float64(3.5)),
    st.just(["list"]),
)
columns = st.one_of(
    st.lists(values, min_size=1, max_size=40),
    # Columns of one kind take the shortcuts; draw them often.
    st.lists(st.one_of(st.none(), st.floats(allow_nan=True), st.integers()), min_size=1),
    st.lists(st.one_of(st.none(), st.booleans()), min_size=1),
    st.lists(st.one_of(st.none(), st.sampled_from(("Software", "Retail"))), min_size=1),
)


def _columns(raw: list[object]) -> Columns:
    accounts = [AccountInput(key=str(i), fields={"f": v}) for i, v in enumerate(raw)]  # type: ignore[dict-item]  # drawn values include unhashable and numpy ones on purpose
    return Columns(accounts, TODAY)


def _same(expected: list[float], actual: np.ndarray) -> None:
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual.tolist(), strict=True):
        assert (math.isnan(want) and math.isnan(got)) or want == got


def _strict(v: FieldValue) -> float:
    """A lookup that tells apart every class of equal values."""
    if v is None:
        return math.nan
    return float(hash((type(v).__name__, repr(v))) % 1000)


@settings(max_examples=300, deadline=None)
@given(raw=columns)
def test_numbers_are_each_value_as_a_number(raw: list[object]) -> None:
    expected = [
        float(v) if v.__class__ is float or v.__class__ is int else _as_number(v)  # type: ignore[arg-type]  # drawn values
        for v in raw
    ]
    _same(expected, _columns(raw).numbers("f"))


@settings(max_examples=300, deadline=None)
@given(raw=columns)
def test_mapped_asks_the_lookup_of_each_value(raw: list[object]) -> None:
    _same([_strict(v) for v in raw], _columns(raw).mapped("f", _strict))  # type: ignore[arg-type]  # drawn values


@settings(max_examples=300, deadline=None)
@given(raw=columns)
def test_days_since_counts_whole_days_of_dates_only(raw: list[object]) -> None:
    expected = [TODAY.toordinal() - v.toordinal() if isinstance(v, date) else math.nan for v in raw]
    _same(expected, _columns(raw).days_since("f"))


layouts = st.sampled_from((("f", "g"), ("g", "f"), ("f",), ("g",), ()))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(layouts, st.lists(values, min_size=2, max_size=2), st.booleans()),
        min_size=1,
        max_size=30,
    ),
    shared=st.booleans(),
)
def test_columns_of_field_rows_read_what_get_reads(
    rows: list[tuple[tuple[str, ...], list[object], bool]], shared: bool
) -> None:
    """The per-layout C path over ``FieldRow``s (one layout, several, or mixed with
    plain dicts) reads each account's ``fields.get(name)``."""
    made: dict[tuple[str, ...], FieldLayout] = {}
    maps: list[Mapping[str, FieldValue]] = []
    for names, drawn, as_dict in rows:
        if shared:
            names = ("f", "g")
        layout = made.setdefault(names, FieldLayout(names))
        row = FieldRow(layout, tuple(drawn[: len(names)]))  # type: ignore[arg-type]  # drawn values
        maps.append(dict(row.items()) if as_dict and not shared else row)
    accounts = [AccountInput(key=str(i), fields=m) for i, m in enumerate(maps)]
    columns = Columns(accounts, TODAY)
    for name in ("f", "g", "h"):
        expected = [m.get(name) for m in maps]
        actual = columns.raw(name)
        assert [(type(v), repr(v)) for v in expected] == [(type(v), repr(v)) for v in actual]


def test_mapped_tells_zero_from_minus_zero_when_the_lookup_does() -> None:
    # A hypothesis find: 0.0 == -0.0 share a key in the table of distinct values.
    _same([_strict(0.0), _strict(-0.0)], _columns([0.0, -0.0]).mapped("f", _strict))
