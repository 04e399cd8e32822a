"""Pure outcome measures: no I/O, plain records in, numbers out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve of ``scores`` against ``labels`` (ties count one half).

    The Mann-Whitney form: the chance that a random positive outscores a random
    negative. None when either class is empty (AUC is undefined then).
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_s = s[order]
    # Average ranks over ties.
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    rank_sum = float(ranks[y].sum())
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def lift(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole
