"""The Wasserstein-1 (earth mover's) distance, raw or normed by the reference's spread.

Exact mode equals ``scipy.stats.wasserstein_distance``. From sketches, each side's
values are moved to their bucket's representative (the sketch's quantile estimate,
clipped to ``[min, max]``), which moves a value by at most ``a*|x|`` (``m`` in the zero
bucket); by the triangle inequality the distance is within ``a*mean|x| + m`` per side of
the exact one. ``mean|x|`` is not kept by the sketch, so the bound uses
``min(sqrt(mean**2 + std**2), mean over buckets of the largest |edge|)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from raymlops.sketches.distances._common import ROUNDING, TestResult, merge_sorted, need_values, numeric_pair
from raymlops.sketches.numeric import NumericSketch

__all__ = ["MIN_STD", "wasserstein", "wasserstein_normed"]

MIN_STD = 0.001
"""Evidently's floor on the reference std in the normed Wasserstein distance."""


def _representatives(s: NumericSketch) -> tuple[np.ndarray, np.ndarray]:
    """Each occupied bucket's representative (the quantile estimate, clipped to [min, max]) and count."""
    lo, hi, c = s.bins()
    grow = 1.0 + s.relative_accuracy
    with np.errstate(over="ignore"):
        rep = np.where(lo > 0, np.minimum(lo * grow, hi), np.where(hi < 0, np.maximum(hi * grow, lo), 0.0))
    return np.clip(rep, s.min, s.max), c


def _mean_abs_bound(s: NumericSketch) -> float:
    """An upper bound on mean(|x|): the RMS, or the mass-weighted largest |edge| of each bucket."""
    rms = math.hypot(s.mean, s.std)
    lo, hi, c = s.bins()
    lo, hi = np.clip(lo, s.min, s.max), np.clip(hi, s.min, s.max)
    by_bucket = float(np.dot(np.maximum(np.abs(lo), np.abs(hi)), c)) / s.count
    return min(rms, by_bucket)


def _wasserstein_sketch(a: NumericSketch, b: NumericSketch) -> TestResult:
    xa, wa = _representatives(a)
    xb, wb = _representatives(b)
    x = np.concatenate([xa, xb])
    order = np.argsort(x, kind="stable")
    w = np.concatenate([wa / a.count, -wb / b.count])[order]
    x = x[order]
    cdf_diff = np.cumsum(w)[:-1]
    dist = float(np.dot(np.abs(cdf_diff), np.diff(x)))
    bound = sum(
        (s.relative_accuracy + ROUNDING) * _mean_abs_bound(s) + s.min_indexable for s in (a, b)
    )
    return TestResult(dist, None, bound)


def wasserstein(reference: Any, current: Any) -> TestResult:
    """Wasserstein-1 (earth mover's) distance between the two samples, in the data's units.

    Args:
        reference: raw values or a :class:`NumericSketch`.
        current: raw values or a :class:`NumericSketch`.

    Returns:
        ``(distance, None, bound)``; the bound is 0.0 in exact mode and
        ``a*mean|x| + min_indexable`` per side from sketches (module docstring).

    Raises:
        InvalidInputError: if a side has no finite value or is not numeric.

    Example:
        >>> wasserstein([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]).statistic
        5.0
    """
    a, b, sketched = numeric_pair(reference, current)
    need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    if sketched:
        return _wasserstein_sketch(a, b)
    return TestResult(merge_sorted(a, b).wasserstein, None, 0.0)


def _reference_std(reference: Any) -> float:
    if isinstance(reference, NumericSketch):
        return reference.std
    return float(np.std(reference))


def wasserstein_normed(reference: Any, current: Any, *, min_std: float = MIN_STD) -> TestResult:
    """Wasserstein-1 distance divided by ``max(std of reference, min_std)`` (Evidently's).

    The std is the population standard deviation (ddof=0) of the reference's finite
    values, exact in both modes; the bound is divided by the same number.

    Args:
        reference: raw values or a :class:`NumericSketch`.
        current: raw values or a :class:`NumericSketch`.
        min_std: the floor on the denominator (0.001 in Evidently).

    Returns:
        ``(normed distance, None, bound)``.

    Example:
        >>> wasserstein_normed([0.0, 2.0], [1.0, 3.0]).statistic
        1.0
    """
    a, b, sketched = numeric_pair(reference, current)
    need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    w = _wasserstein_sketch(a, b) if sketched else TestResult(merge_sorted(a, b).wasserstein, None, 0.0)
    norm = max(_reference_std(a), min_std)
    return TestResult(w.statistic / norm, None, w.bound / norm)
