"""Tests on means of continuous outcomes: mergeable :class:`RunningSummary` and :func:`welch_ttest`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats

from raymlops.core.errors import InvalidInputError
from raymlops.serving.abtest._checks import check_alpha, check_int, check_min_samples, lift, sufficient
from raymlops.serving.abtest.result import SignificanceResult, Summary

__all__ = ["RunningSummary", "welch_ttest"]

_REL_TOL = 1e-9


class RunningSummary:
    """Count, mean and sum of squared deviations of a stream of numbers, mergeable.

    Values are added with Welford's update (a batch is summarised first, then combined);
    two summaries merge with Chan et al.'s pairwise formula
    ``M2 = M2_a + M2_b + delta**2 * n_a * n_b / n``, so merging replicas' summaries gives
    the summary of all values (up to float rounding). Non-finite values are rejected.

    Example:
        >>> a, b = RunningSummary(), RunningSummary()
        >>> a.update([1.0, 2.0, 3.0])
        >>> b.add(10.0)
        >>> m = a.merge(b)
        >>> m.n, m.mean, m.variance
        (4, 4.0, 16.666666666666668)
    """

    def __init__(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0

    @property
    def n(self) -> int:
        return self._n

    @property
    def mean(self) -> float:
        """The mean (0.0 when empty)."""
        return self._mean

    @property
    def m2(self) -> float:
        """The sum of squared deviations from the mean."""
        return self._m2

    @property
    def variance(self) -> float:
        """The sample variance (``ddof=1``); NaN with fewer than two values."""
        return self._m2 / (self._n - 1) if self._n > 1 else math.nan

    def summary(self) -> Summary:
        return Summary(self._n, self._mean, self.variance)

    def add(self, x: float) -> None:
        """Add one value (Welford's update).

        Raises:
            InvalidInputError: if ``x`` is not a finite number.
        """
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise InvalidInputError(f"expected a finite number, got {x!r}")
        x = float(x)
        if not math.isfinite(x):
            raise InvalidInputError(f"expected a finite number, got {x!r}")
        self._n += 1
        delta = x - self._mean
        self._mean += delta / self._n
        self._m2 += delta * (x - self._mean)

    def update(self, values: Any) -> None:
        """Add a batch of values (summarised with numpy, then merged).

        Raises:
            InvalidInputError: if a value is not a finite number.
        """
        try:
            x = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise InvalidInputError("expected a sequence of finite numbers") from None
        if not x.size:
            return
        if not np.isfinite(x).all():
            raise InvalidInputError("expected finite numbers, got NaN or infinity")
        mean = float(x.mean())
        self._combine(int(x.size), mean, float(((x - mean) ** 2).sum()))

    def _combine(self, n: int, mean: float, m2: float) -> None:
        if n == 0:
            return
        total = self._n + n
        delta = mean - self._mean
        self._m2 = self._m2 + m2 + delta * delta * self._n * n / total
        self._mean = self._mean + delta * n / total
        self._n = total

    def merge_inplace(self, other: RunningSummary) -> RunningSummary:
        """Add ``other`` into this summary and return it."""
        if not isinstance(other, RunningSummary):
            raise InvalidInputError(f"cannot merge a RunningSummary with {type(other).__name__}")
        self._combine(other._n, other._mean, other._m2)
        return self

    def merge(self, other: RunningSummary) -> RunningSummary:
        """A new summary of both."""
        return self.copy().merge_inplace(other)

    def __iadd__(self, other: RunningSummary) -> RunningSummary:
        return self.merge_inplace(other)

    def __add__(self, other: RunningSummary) -> RunningSummary:
        return self.merge(other)

    def copy(self) -> RunningSummary:
        new = RunningSummary()
        new._n, new._mean, new._m2 = self._n, self._mean, self._m2
        return new

    def to_dict(self) -> dict[str, Any]:
        return {"n": self._n, "mean": self._mean, "m2": self._m2}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunningSummary:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            InvalidInputError: on an invalid dict.
        """
        if not isinstance(data, Mapping) or set(data) != {"n", "mean", "m2"}:
            raise InvalidInputError("a RunningSummary dict has exactly the keys ['m2', 'mean', 'n']")
        new = cls()
        new._n = check_int(data["n"], "n")
        mean, m2 = data["mean"], data["m2"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (mean, m2)):
            raise InvalidInputError("mean and m2 must be finite numbers")
        if m2 < 0:
            raise InvalidInputError(f"m2 must be non-negative, got {m2!r}")
        new._mean, new._m2 = float(mean), float(m2)
        return new

    def __eq__(self, other: object) -> bool:
        """Same count; mean (within 1e-9 of itself or of the std) and M2 within 1e-9 relative.

        The tolerance absorbs the rounding that differs with the order of merges.
        """
        if not isinstance(other, RunningSummary):
            return NotImplemented
        std = math.sqrt(max(self._m2, other._m2) / max(self._n, 1))
        return (
            self._n == other._n
            and math.isclose(self._mean, other._mean, rel_tol=_REL_TOL, abs_tol=_REL_TOL * std)
            and math.isclose(self._m2, other._m2, rel_tol=_REL_TOL, abs_tol=1e-12)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RunningSummary(n={self._n}, mean={self._mean:.6g}, variance={self.variance:.6g})"


def _summary(s: Any, variant: str) -> Summary:
    if isinstance(s, RunningSummary):
        s = s.summary()
    if isinstance(s, (tuple, list)) and len(s) == 3:
        n, mean, var = s
    elif all(hasattr(s, a) for a in ("n", "mean", "variance")):
        n, mean, var = s.n, s.mean, s.variance
    else:
        raise InvalidInputError(
            f"variant {variant} must be a RunningSummary, a Summary or an (n, mean, variance) tuple, got {s!r}"
        )
    n = check_int(n, f"n of variant {variant}", lo=2)
    ok = all(
        not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v)
        for v in (mean, var)
    )
    if not ok or var < 0:
        raise InvalidInputError(
            f"variant {variant} needs a finite mean and a non-negative variance, got {mean!r}, {var!r}"
        )
    return Summary(n, float(mean), float(var))


def welch_ttest(
    a: RunningSummary | Summary | tuple[int, float, float],
    b: RunningSummary | Summary | tuple[int, float, float],
    *,
    alpha: float = 0.05,
    min_samples: int | None = None,
) -> SignificanceResult:
    """Welch's two-sided t-test of ``mean_B = mean_A`` from ``(n, mean, variance)`` summaries.

    ``t = (mean_B - mean_A) / se`` with ``se = sqrt(var_A / n_A + var_B / n_B)`` (sample
    variances, ``ddof=1``) and Welch-Satterthwaite degrees of freedom
    ``df = se**4 / ((var_A/n_A)**2 / (n_A - 1) + (var_B/n_B)**2 / (n_B - 1))``; the
    interval is ``effect +/- t_{1-alpha/2, df} * se``. If both variances are 0 the means
    are known exactly: p-value 1 when they are equal, else 0 (t infinite), interval the
    point ``effect``.

    Args:
        a: summary of A (the stable version), at least 2 values.
        b: summary of B (the new version), at least 2 values.
        alpha: significance level.
        min_samples: planned values per variant.

    Raises:
        InvalidInputError: on fewer than 2 values, or a negative or non-finite variance.
    """
    alpha, min_samples = check_alpha(alpha), check_min_samples(min_samples)
    sa, sb = _summary(a, "A"), _summary(b, "B")
    va, vb = sa.variance / sa.n, sb.variance / sb.n
    se2 = va + vb
    effect = sb.mean - sa.mean
    if se2 == 0:
        t = 0.0 if effect == 0 else math.copysign(math.inf, effect)
        p, df, ci = (1.0 if effect == 0 else 0.0), math.nan, (effect, effect)
    else:
        se = math.sqrt(se2)
        t = effect / se
        df = se2 * se2 / (va * va / (sa.n - 1) + vb * vb / (sb.n - 1))
        p = float(2 * stats.t.sf(abs(t), df))
        half = float(stats.t.ppf(1 - alpha / 2, df)) * se
        ci = (effect - half, effect + half)
    return SignificanceResult(
        "welch_t", sa.n, sb.n, sa.mean, sb.mean, effect, lift(effect, sa.mean), ci, alpha, t, p, p < alpha,
        min_samples, sufficient(sa.n, sb.n, min_samples), df,
    )  # fmt: skip
