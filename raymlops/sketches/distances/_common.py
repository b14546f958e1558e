"""What every distance shares: the result type, and pairing the two sides of a comparison.

Each side is raw values (**exact mode**) or a sketch (**sketch mode**); a raw side next
to a sketch is sketched first. See :mod:`raymlops.sketches.distances` for the modes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import finite_values, sorted_finite
from raymlops.sketches.categorical import CategoricalSketch
from raymlops.sketches.numeric import NumericSketch
from raymlops.sketches.values import ValueCounts

__all__ = ["ROUNDING", "Merged", "TestResult", "is_sketch", "merge_sorted", "need_values", "numeric_pair"]

ROUNDING = 1e-12
"""Relative slack added to sketch bounds for float rounding."""


class TestResult(NamedTuple):
    """A statistic, its p-value (None for distances) and its error bound.

    ``bound`` is the most ``statistic`` can differ from the exact-mode statistic on the
    same data: 0.0 in exact mode and for count-based statistics, positive for KS and
    Wasserstein from sketches.
    """

    statistic: float
    p_value: float | None
    bound: float

    __test__ = False  # not a pytest test class



def is_sketch(obj: Any) -> bool:
    """Whether ``obj`` is a sketch (numeric, categorical or :class:`ValueCounts`)."""
    return isinstance(obj, (NumericSketch, CategoricalSketch, ValueCounts))


def numeric_pair(reference: Any, current: Any) -> tuple[Any, Any, bool]:
    """Both sides as sorted finite arrays (exact) or NumericSketches (sketch), and the mode."""
    ref_sk, cur_sk = isinstance(reference, NumericSketch), isinstance(current, NumericSketch)
    for side in (reference, current):
        if isinstance(side, (CategoricalSketch, ValueCounts)):
            raise InvalidInputError(
                f"this statistic compares numeric distributions, got a {type(side).__name__}; "
                "use category_counts() and a count-based statistic (chi2, jensenshannon, linf, psi)"
            )
    if ref_sk and cur_sk:
        if reference.relative_accuracy != current.relative_accuracy:
            raise InvalidInputError(
                f"cannot compare sketches of different relative_accuracy ({reference.relative_accuracy} vs "
                f"{current.relative_accuracy}); sketch both sides with the same accuracy"
            )
        return reference, current, True
    if ref_sk or cur_sk:
        sk = reference if ref_sk else current
        other = NumericSketch(relative_accuracy=sk.relative_accuracy)
        other.update(finite_values(current if ref_sk else reference))
        return (reference, other, True) if ref_sk else (other, current, True)
    return sorted_finite(reference), sorted_finite(current), False


def need_values(n: int, m: int) -> None:
    if not n or not m:
        side = "reference" if not n else "current"
        raise InvalidInputError(
            f"the {side} side has no finite values; a drift statistic needs values on both sides"
        )


class Merged(NamedTuple):
    """CDF difference along the merge of two sorted samples."""

    ks: float
    wasserstein: float
    distinct: int  # distinct values in the union


def merge_sorted(a: np.ndarray, b: np.ndarray) -> Merged:
    """KS statistic, Wasserstein-1 distance and distinct count of two sorted samples.

    ``b[j]`` goes to position ``searchsorted(a, b[j], "right") + j`` of the merge (after
    the values of ``a`` equal to it); along the merge, ``F_a - F_b`` is the running count
    of ``a`` over ``n`` minus that of ``b`` over ``m``. At the end of each run of equal
    values both counts are those of ``searchsorted(..., side="right")``, which is where
    scipy evaluates the CDFs; inside a run the gap to the next value is 0, so it adds
    nothing to the Wasserstein integral.
    """
    n, m = a.size, b.size
    pos = np.searchsorted(a, b, side="right")  # sorted keys: numpy narrows each search
    pos += np.arange(m)
    is_b = np.zeros(n + m, dtype=bool)
    is_b[pos] = True
    z = np.empty(n + m)
    z[pos] = b
    z[~is_b] = a
    count_b = np.cumsum(is_b)
    count_a = np.arange(1, n + m + 1) - count_b
    diff = count_a / n - count_b / m
    np.abs(diff, out=diff)
    gaps = np.diff(z)
    ends = gaps != 0  # last position of each run of equal values (the final one has diff 0)
    d = float(diff[:-1][ends].max()) if ends.any() else 0.0
    w = float(np.dot(diff[:-1], gaps))
    return Merged(d, w, int(np.count_nonzero(ends)) + 1)
