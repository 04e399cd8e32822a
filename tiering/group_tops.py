"""Every account's group points and each group's two best signals, for a whole run at once.

A reason names each group's points ("fit 36/40") and the details of its two best
signals. Worked out per account that is a few microseconds of Python (round the
row, sum each group, pick two); a first run words every account, so ``group_tops``
does it for the run in a few array operations and ``ReasonWriter`` reads the
answers row by row. The numbers are the breakdown's own: points rounded as
``np.round`` rounds them, a group summed left to right from 0.0 as ``sum`` adds a
list, ties going to the first signal as a stable sort leaves them. Where the whole
number printed could depend on how the sum rounds to cents (within 0.01 of a half,
or negative) the row says ``EXACT`` and the reason works that group out in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tierwise.tiering.scoring import BoolArray, FloatArray

EXACT = np.iinfo(np.int32).min
_CHUNK = 65_536  # rows per pass: bounds the temporaries at a few megabytes


@dataclass(frozen=True, slots=True)
class GroupTops:
    """``points[i, g]``: group g's points as printed ("%.0f" of the rounded sum), or
    ``EXACT``; ``best[i, 2g]``, ``best[i, 2g + 1]``: its best and second signal (a
    column of the score table, -1: none), among signals with points and not missing."""

    points: npt.NDArray[np.int32]
    best: npt.NDArray[np.int16]


def group_tops(points: FloatArray, missing: BoolArray, groups: Sequence[range]) -> GroupTops:
    """``GroupTops`` of a run's ``(accounts, signals)`` points and missing flags."""
    count = len(points)
    printed = np.empty((count, len(groups)), dtype=np.int32)
    best = np.empty((count, 2 * len(groups)), dtype=np.int16)
    with np.errstate(invalid="ignore"):
        for low in range(0, count, _CHUNK):
            rounded = np.round(points[low : low + _CHUNK], 2)
            valid = (rounded > 0) & ~missing[low : low + _CHUNK]
            rows = slice(low, low + len(rounded))
            for g, columns in enumerate(groups):
                printed[rows, g] = _printed(rounded, columns)
                best[rows, 2 * g], best[rows, 2 * g + 1] = _two_best(rounded, valid, columns)
    return GroupTops(printed, best)


def _printed(rounded: FloatArray, columns: range) -> npt.NDArray[np.int32]:
    total = np.zeros(len(rounded))
    for j in columns:
        total += rounded[:, j]
    whole = np.floor(total)
    part = total - whole
    # Away from a half by 0.01 or more, rounding to cents cannot cross it.
    safe = (total >= 0) & ~np.signbit(total) & (total < 1e9) & (np.abs(part - 0.5) >= 0.01)
    shown = np.where(safe, whole + (part > 0.5), float(EXACT))
    return shown.astype(np.int32)


def _two_best(
    rounded: FloatArray, valid: BoolArray, columns: range
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """The scan ``ReasonWriter`` does per row, over all rows at once."""
    first = np.full(len(rounded), -1, dtype=np.int16)
    second = first.copy()
    best = np.zeros(len(rounded))
    runner = best.copy()
    for j in columns:
        points, ok = rounded[:, j], valid[:, j]
        top = ok & ((first < 0) | (points > best))
        next_ = ok & ~top & ((second < 0) | (points > runner))
        second = np.where(top, first, np.where(next_, j, second)).astype(np.int16)
        runner = np.where(top, best, np.where(next_, points, runner))
        first = np.where(top, j, first).astype(np.int16)
        best = np.where(top, points, best)
    return first, second
