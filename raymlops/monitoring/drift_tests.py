"""The drift tests, as data: each :class:`DriftTest` carries its name, how to read it, its
default threshold and the function that computes it on a :class:`~raymlops.monitoring.column_data.ColumnData`.

A new test is a function and one entry of :data:`TESTS`; a preset picks tests by name.
The statistics themselves are :mod:`raymlops.sketches.distances`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.monitoring.column_data import ColumnData
from raymlops.sketches import distances as st
from raymlops.sketches.distances import TestResult

__all__ = ["TESTS", "DriftTest", "verdict"]


class DriftTest(NamedTuple):
    """One drift test: its name, how to read it, its default threshold, and its function.

    ``drift_if`` is ``"p<"`` (drift when the p-value is below the threshold), ``"p<="``,
    ``">="`` or ``">"`` (drift when the statistic reaches or exceeds it). ``run(data,
    by_value)`` computes the test on a prepared column; ``by_value`` asks count-based tests
    to count each value of a few-valued numeric column rather than quantile bins.
    """

    name: str
    title: str
    description: str
    kinds: tuple[str, ...]
    default_threshold: float
    drift_if: str
    run: Callable[[ColumnData, bool], TestResult]

    __test__ = False  # not a pytest test class

    @property
    def uses_p_value(self) -> bool:
        return self.drift_if.startswith("p")


def verdict(test: DriftTest, value: float, threshold: float) -> bool:
    """Whether ``value`` (the p-value or the statistic) means drift under ``threshold``."""
    if test.drift_if == "p<":
        return value < threshold
    if test.drift_if == "p<=":
        return value <= threshold
    if test.drift_if == ">=":
        return value >= threshold
    return value > threshold


def _numeric_only(name: str, data: ColumnData) -> None:
    if data.kind != "numeric":
        raise InvalidInputError(f"the {name} test needs a numeric column; use chi2, z, jensenshannon or linf")


def _ks(data: ColumnData, by_value: bool) -> TestResult:
    _numeric_only("ks", data)
    if data.sketched:
        return st.ks(data.ref, data.cur)
    d = data.merged.ks
    return TestResult(d, st.ks_pvalue(d, data.n_ref, data.n_cur), 0.0)


def _wasserstein_normed(data: ColumnData, by_value: bool) -> TestResult:
    _numeric_only("wasserstein_normed", data)
    if data.sketched:
        return st.wasserstein_normed(data.ref, data.cur)
    norm = max(float(np.std(data.ref)), st.MIN_STD)
    return TestResult(data.merged.wasserstein / norm, None, 0.0)


def _on_counts(fn: Callable[[np.ndarray, np.ndarray], TestResult | float]) -> Callable[[ColumnData, bool], TestResult]:
    def run(data: ColumnData, by_value: bool) -> TestResult:
        c = data.counts(by_value)
        out = fn(c.reference, c.current)
        return out if isinstance(out, TestResult) else TestResult(float(out), None, 0.0)

    return run


TESTS: dict[str, DriftTest] = {
    t.name: t
    for t in (
        DriftTest(
            "ks",
            "Kolmogorov-Smirnov test",
            "largest distance between the two empirical CDFs; p-value from the Smirnov "
            "distribution (exact up to 10,000 values a side, else Kolmogorov with n*m/(n+m))",
            ("numeric",),
            0.05,
            "p<",
            _ks,
        ),
        DriftTest(
            "wasserstein_normed",
            "normed Wasserstein distance",
            "Wasserstein-1 (earth mover's) distance divided by max(std of reference, 0.001); "
            "0 = same distribution, 0.1 = the mass moved by a tenth of a standard deviation",
            ("numeric",),
            0.1,
            ">=",
            _wasserstein_normed,
        ),
        DriftTest(
            "chi2",
            "chi-square test",
            "Pearson chi-square test of independence on the 2 x k table of counts (reference, current)",
            ("numeric", "categorical"),
            0.05,
            "p<",
            _on_counts(st.chi2),
        ),
        DriftTest(
            "z",
            "Z-test for proportions",
            "two-proportion Z-test (pooled variance, two-sided) on a binary column",
            ("numeric", "categorical"),
            0.05,
            "p<",
            _on_counts(st.ztest),
        ),
        DriftTest(
            "jensenshannon_distance_ln",
            "Jensen-Shannon distance (natural log)",
            "square root of the Jensen-Shannon divergence computed with the natural log; a distance in [0, 0.833]",
            ("numeric", "categorical"),
            0.1,
            ">=",
            _on_counts(st.jensenshannon),
        ),
        DriftTest(
            "jensenshannon_divergence_base2",
            "Jensen-Shannon divergence (log base 2)",
            "Jensen-Shannon divergence computed with log base 2; a divergence in [0, 1]",
            ("numeric", "categorical"),
            0.1,
            ">",
            _on_counts(lambda r, c: st.jensenshannon_divergence(r, c, base=2.0)),
        ),
        DriftTest(
            "psi",
            "Population Stability Index (natural log)",
            "sum of (current - reference) * ln(current / reference) over bin proportions, "
            "empty bins smoothed as in Evidently",
            ("numeric", "categorical"),
            0.1,
            ">=",
            _on_counts(st.psi),
        ),
        DriftTest(
            "linf",
            "L-infinity distance",
            "largest absolute difference between the two sides' category proportions; in [0, 1]",
            ("numeric", "categorical"),
            0.1,
            ">",
            _on_counts(st.linf),
        ),
    )
}
"""Every test by name: the name is what results report as ``test``."""
