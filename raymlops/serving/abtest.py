"""Significance tests for A/B rollouts, from aggregated counts and summaries.

The monitor aggregates per-variant outcomes from feedback (A is the stable version, B the
new one), so every test here takes counts or ``(n, mean, variance)`` summaries, never raw
rows:

* rates (conversion, accuracy): :func:`two_proportion_ztest` (pooled standard error
  under H0: ``p_A = p_B``) and :func:`chi_square_test` (Pearson's chi-square on the 2x2
  table via :func:`scipy.stats.chi2_contingency` **without** Yates' continuity correction,
  so its statistic is the z statistic squared and its p-value the same);
* continuous outcomes: :func:`welch_ttest` from two summaries (Welch's unequal-variance
  t-test with Welch-Satterthwaite degrees of freedom; equal to
  ``scipy.stats.ttest_ind(b, a, equal_var=False)`` on the raw values). Replicas keep a
  :class:`RunningSummary` per variant (Welford updates, Chan et al.'s merge), so the
  merged summary equals one that saw every value.

Each returns a :class:`SignificanceResult`: the effect ``B - A`` and the relative lift
``(B - A) / A``, the two-sided ``1 - alpha`` confidence interval of the difference
(unpooled Wald interval for rates; Welch t interval for means), the p-value (two-sided),
the samples per variant, and whether a planned minimum sample size is reached. Plan that
size with :func:`required_samples`.

Example:
    >>> r = two_proportion_ztest(successes_a=200, n_a=2000, successes_b=250, n_b=2000, min_samples=1500)
    >>> round(r.effect, 4), round(r.lift, 4), round(r.p_value, 4), r.significant, r.sufficient
    (0.025, 0.25, 0.0124, True, True)
    >>> [round(x, 4) for x in r.ci]
    [0.0054, 0.0446]
    >>> required_samples(p_baseline=0.10, mde=0.02)
    3841
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from raymlops.core.errors import InvalidInputError

__all__ = [
    "RunningSummary",
    "SignificanceResult",
    "Summary",
    "chi_square_test",
    "required_samples",
    "two_proportion_ztest",
    "welch_ttest",
]

_REL_TOL = 1e-9


class Summary(NamedTuple):
    """``n`` values with their mean and sample variance (``ddof=1``)."""

    n: int
    mean: float
    variance: float


@dataclass(frozen=True)
class SignificanceResult:
    """The outcome of one A/B significance test.

    Attributes:
        test: ``"two_proportion_z"``, ``"chi_square"`` or ``"welch_t"``.
        n_a, n_b: samples per variant.
        estimate_a, estimate_b: each variant's rate or mean.
        effect: ``estimate_b - estimate_a``.
        lift: ``effect / estimate_a``; None when ``estimate_a`` is 0.
        ci: the ``1 - alpha`` confidence interval of ``effect`` (low, high).
        alpha: the significance level.
        statistic: z, chi-square or t.
        p_value: two-sided.
        significant: ``p_value < alpha``.
        min_samples: the planned samples per variant, or None.
        sufficient: both variants have ``min_samples``; None without a plan.
        df: degrees of freedom (chi-square: 1; Welch: Welch-Satterthwaite; z: None).
    """

    test: str
    n_a: int
    n_b: int
    estimate_a: float
    estimate_b: float
    effect: float
    lift: float | None
    ci: tuple[float, float]
    alpha: float
    statistic: float
    p_value: float
    significant: bool
    min_samples: int | None
    sufficient: bool | None
    df: float | None = None

    @property
    def confidence(self) -> float:
        """The confidence level of :attr:`ci`, ``1 - alpha``."""
        return 1 - self.alpha

    @property
    def conclusive(self) -> bool:
        """Significant, with the planned sample size reached (when one was planned)."""
        return self.significant and self.sufficient is not False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (infinite statistics become strings)."""

        def num(x: float | None) -> float | str | None:
            return x if x is None or math.isfinite(x) else repr(float(x))

        return {
            "test": self.test,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "estimate_a": self.estimate_a,
            "estimate_b": self.estimate_b,
            "effect": self.effect,
            "lift": self.lift,
            "ci": [num(self.ci[0]), num(self.ci[1])],
            "confidence": self.confidence,
            "alpha": self.alpha,
            "statistic": num(self.statistic),
            "p_value": self.p_value,
            "significant": self.significant,
            "min_samples": self.min_samples,
            "sufficient": self.sufficient,
            "df": num(self.df),
        }


# --------------------------------------------------------------------------- validation


def _alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InvalidInputError(f"alpha must be a number between 0 and 1 (e.g. 0.05), got {alpha!r}")
    return float(alpha)


def _int(v: Any, what: str, lo: int = 0) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidInputError(f"{what} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _min_samples(min_samples: Any) -> int | None:
    return None if min_samples is None else _int(min_samples, "min_samples")


def _sufficient(n_a: int, n_b: int, min_samples: int | None) -> bool | None:
    return None if min_samples is None else (n_a >= min_samples and n_b >= min_samples)


def _counts(successes: Any, n: Any, variant: str) -> tuple[int, int]:
    n = _int(n, f"n_{variant}", lo=1)
    successes = _int(successes, f"successes_{variant}")
    if successes > n:
        raise InvalidInputError(f"successes_{variant} ({successes}) is more than n_{variant} ({n})")
    return successes, n


def _lift(effect: float, base: float) -> float | None:
    return effect / base if base != 0 else None


def _wald_ci(pa: float, na: int, pb: float, nb: int, alpha: float) -> tuple[float, float]:
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return (pb - pa - half, pb - pa + half)


# --------------------------------------------------------------------------- rates


def two_proportion_ztest(
    *, successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05, min_samples: int | None = None
) -> SignificanceResult:
    """Two-sided z-test of ``p_B = p_A`` from success counts.

    ``z = (p_B - p_A) / sqrt(p (1 - p) (1/n_A + 1/n_B))`` with the pooled rate
    ``p = (s_A + s_B) / (n_A + n_B)``; ``p_value = 2 * (1 - Phi(|z|))``. When every
    outcome is the same (``p`` is 0 or 1) the rates are equal: ``z = 0``, ``p_value = 1``.
    The interval is the unpooled Wald interval ``effect +/- z_{1-alpha/2} * se``.

    Args:
        successes_a, n_a: successes and trials of A (the stable version).
        successes_b, n_b: of B (the new version).
        alpha: significance level; the interval has confidence ``1 - alpha``.
        min_samples: planned trials per variant (see :func:`required_samples`).

    Raises:
        InvalidInputError: on negative counts, successes above trials, or no trials.
    """
    alpha, min_samples = _alpha(alpha), _min_samples(min_samples)
    sa, na = _counts(successes_a, n_a, "a")
    sb, nb = _counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    pooled = (sa + sb) / (na + nb)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    z = (pb - pa) / se0 if se0 > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(z)))
    return SignificanceResult(
        "two_proportion_z", na, nb, pa, pb, pb - pa, _lift(pb - pa, pa), _wald_ci(pa, na, pb, nb, alpha), alpha,
        z, p, p < alpha, min_samples, _sufficient(na, nb, min_samples),
    )  # fmt: skip


def chi_square_test(
    *, successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05, min_samples: int | None = None
) -> SignificanceResult:
    """Pearson's chi-square test of independence on the 2x2 table (variant x outcome).

    Uses :func:`scipy.stats.chi2_contingency` with ``correction=False``: no Yates
    continuity correction, so the statistic equals the square of
    :func:`two_proportion_ztest`'s z and the p-value is the same. When a column is
    empty (every outcome the same) the table has no information: statistic 0, p-value 1.
    The interval is the unpooled Wald interval of ``p_B - p_A``.

    Args:
        successes_a, n_a, successes_b, n_b, alpha, min_samples: as in
            :func:`two_proportion_ztest`.

    Raises:
        InvalidInputError: on negative counts, successes above trials, or no trials.
    """
    alpha, min_samples = _alpha(alpha), _min_samples(min_samples)
    sa, na = _counts(successes_a, n_a, "a")
    sb, nb = _counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    if sa + sb in (0, na + nb):
        chi2, p = 0.0, 1.0
    else:
        res = stats.chi2_contingency(np.array([[sa, na - sa], [sb, nb - sb]]), correction=False)
        chi2, p = float(res.statistic), float(res.pvalue)
    return SignificanceResult(
        "chi_square", na, nb, pa, pb, pb - pa, _lift(pb - pa, pa), _wald_ci(pa, na, pb, nb, alpha), alpha,
        chi2, p, p < alpha, min_samples, _sufficient(na, nb, min_samples), 1.0,
    )  # fmt: skip


def required_samples(p_baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Samples per variant for a two-sided two-proportion test to detect ``mde``.

    ``n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p1 (1 - p1) + p2 (1 - p2)))**2 / mde**2``
    with ``p1 = p_baseline``, ``p2 = p_baseline + mde`` and ``pbar = (p1 + p2) / 2``,
    rounded up.

    Args:
        p_baseline: A's expected rate, in (0, 1).
        mde: the minimum detectable effect, an absolute difference of rates (e.g. 0.02
            for 10 % to 12 %); negative for a decrease. ``p_baseline + mde`` must be in (0, 1).
        alpha: the significance level.
        power: the probability of detecting a true effect of ``mde``.

    Raises:
        InvalidInputError: on values out of range.
    """
    for name, v in (("p_baseline", p_baseline), ("power", power)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise InvalidInputError(f"{name} must be a number between 0 and 1, got {v!r}")
    alpha = _alpha(alpha)
    if isinstance(mde, bool) or not isinstance(mde, (int, float)) or not math.isfinite(mde) or mde == 0:
        raise InvalidInputError(f"mde must be a non-zero difference of rates, got {mde!r}")
    p1, p2 = float(p_baseline), float(p_baseline) + float(mde)
    if not 0 < p2 < 1:
        raise InvalidInputError(f"p_baseline + mde = {p2:g} must be between 0 and 1")
    pbar = (p1 + p2) / 2
    za, zb = float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / mde**2
    return math.ceil(n - 1e-9)


# --------------------------------------------------------------------------- means


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
        new._n = _int(data["n"], "n")
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
    n = _int(n, f"n of variant {variant}", lo=2)
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
    alpha, min_samples = _alpha(alpha), _min_samples(min_samples)
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
        "welch_t", sa.n, sb.n, sa.mean, sb.mean, effect, _lift(effect, sa.mean), ci, alpha, t, p, p < alpha,
        min_samples, _sufficient(sa.n, sb.n, min_samples), df,
    )  # fmt: skip
