"""Hypothesis tests on two count vectors: chi-square (independence, goodness of fit) and the Z-test."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as _st

from raymlops.core.errors import InvalidInputError
from raymlops.sketches.distances._common import TestResult
from raymlops.sketches.distances.divergences import count_pair

__all__ = ["chi2", "chisquare", "ztest"]


def chi2(reference_counts: Any, current_counts: Any, *, correction: bool = True) -> TestResult:
    """Pearson's chi-square test of independence on the 2 x k table (reference, current).

    Equal to ``scipy.stats.chi2_contingency([reference_counts, current_counts])``:
    expected counts are ``row total * column total / N``, ``dof = k - 1``, and with
    ``correction`` Yates' continuity correction applies when ``dof == 1``. Categories
    empty on both sides are dropped first (scipy refuses zero expected counts); with a
    single category left the statistic is 0 and the p-value 1. Evidently's ``chisquare``
    test instead runs a goodness-of-fit test of the current counts against the
    reference's proportions, which is infinite for a category new in the current data;
    this test treats both sides as samples and stays finite.

    Args:
        reference_counts: counts per category.
        current_counts: counts on the same categories.
        correction: apply Yates' correction when ``dof == 1`` (scipy's default).

    Returns:
        ``(statistic, p_value, 0.0)``.

    Example:
        >>> r = chi2([30, 50, 20], [20, 50, 30])
        >>> round(r.statistic, 6), round(r.p_value, 6)
        (4.0, 0.135335)
    """
    p, q = count_pair(reference_counts, current_counts)
    keep = (p + q) > 0
    observed = np.vstack([p[keep], q[keep]])
    dof = observed.shape[1] - 1
    if dof == 0:
        return TestResult(0.0, 1.0, 0.0)
    rows, cols = observed.sum(axis=1), observed.sum(axis=0)
    expected = np.outer(rows, cols) / observed.sum()
    if correction and dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(((observed - expected) ** 2 / expected).sum())
    return TestResult(stat, float(_st.chi2.sf(stat, dof)), 0.0)


def ztest(reference_counts: Any, current_counts: Any) -> TestResult:
    """Two-proportion Z-test (pooled variance, two-sided) for a binary column.

    The proportion compared is that of the first category (in :func:`category_counts`
    order): ``z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n + 1/m))`` with the pooled
    proportion ``P``, and ``p_value = 2 * sf(|z|)`` of the standard normal (Evidently's
    ``z`` test). With one category only (or ``P`` of 0 or 1) ``z = 0`` and ``p = 1``.

    Args:
        reference_counts: counts of the (at most two) categories.
        current_counts: counts on the same categories.

    Returns:
        ``(z, p_value, 0.0)``.

    Raises:
        InvalidInputError: with more than two non-empty categories.

    Example:
        >>> r = ztest([60, 40], [45, 55])
        >>> round(r.statistic, 4), round(r.p_value, 4)
        (2.124, 0.0337)
    """
    p, q = count_pair(reference_counts, current_counts)
    keep = (p + q) > 0
    p, q = p[keep], q[keep]
    if p.size > 2:
        raise InvalidInputError(
            f"the Z-test compares two proportions, got {p.size} categories; use chi2 for more than two"
        )
    n, m = p.sum(), q.sum()
    if p.size < 2:
        return TestResult(0.0, 1.0, 0.0)
    p1, p2 = p[0] / n, q[0] / m
    pooled = (p[0] + q[0]) / (n + m)
    var = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
    if var <= 0:
        return TestResult(0.0, 1.0, 0.0)
    z = float((p1 - p2) / math.sqrt(var))
    return TestResult(z, float(2.0 * _st.norm.sf(abs(z))), 0.0)



def chisquare(reference_counts: Any, current_counts: Any) -> TestResult:
    """Pearson's goodness-of-fit test of the current counts against the reference's proportions.

    Evidently's ``chisquare`` test: ``f_exp = reference counts * n_cur / n_ref`` and
    ``f_obs = current counts`` over the union of categories, ``dof = k - 1``; equal to
    ``scipy.stats.chisquare(f_obs, f_exp)``. A category the reference never had (``f_exp``
    0) with current values makes the statistic infinite and the p-value 0: anything new
    is drift. With one category the statistic is 0 and the p-value 1. Unlike :func:`chi2`,
    which treats both sides as samples, this test treats the reference as the truth.

    Args:
        reference_counts: counts per category.
        current_counts: counts on the same categories.

    Returns:
        ``(statistic, p_value, 0.0)``.

    Example:
        >>> r = chisquare([156, 167, 163, 154, 160], [199, 158, 159, 138, 146])
        >>> round(r.statistic, 4), round(r.p_value, 7)
        (15.3231, 0.0040759)
        >>> chisquare([10, 10, 0], [9, 10, 1]).p_value  # a category new in the current data
        0.0
    """
    p, q = count_pair(reference_counts, current_counts)
    keep = (p + q) > 0
    p, q = p[keep], q[keep]
    dof = p.size - 1
    if dof == 0:
        return TestResult(0.0, 1.0, 0.0)
    f_exp = p * (q.sum() / p.sum())
    if ((f_exp == 0) & (q > 0)).any():
        return TestResult(math.inf, 0.0, 0.0)
    stat = float(((q - f_exp) ** 2 / f_exp).sum())
    return TestResult(stat, float(_st.chi2.sf(stat, dof)), 0.0)
