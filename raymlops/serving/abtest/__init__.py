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

from raymlops.serving.abtest.means import RunningSummary, welch_ttest
from raymlops.serving.abtest.rates import chi_square_test, required_samples, two_proportion_ztest
from raymlops.serving.abtest.result import SignificanceResult, Summary

__all__ = [
    "RunningSummary",
    "SignificanceResult",
    "Summary",
    "chi_square_test",
    "required_samples",
    "two_proportion_ztest",
    "welch_ttest",
]
