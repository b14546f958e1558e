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
from raymlops.monitoring.text_drift import domain_classifier_auc, random_auc_percentile, text_split_labels
from raymlops.monitoring.tfdv_histogram import counts_histogram, js_divergence, sketch_histogram, standard_histogram
from raymlops.sketches import distances as st
from raymlops.sketches.distances import TestResult

__all__ = ["TESTS", "DriftTest", "verdict"]


class DriftTest(NamedTuple):
    """One drift test: its name, how to read it, its default threshold, and its function.

    ``drift_if`` is ``"p<"`` (drift when the p-value is below the threshold), ``"p<="``,
    ``">="`` or ``">"`` (drift when the statistic reaches or exceeds it). ``run(data,
    by_value)`` computes the test on a prepared column; ``by_value`` asks count-based tests
    to count each value of a few-valued numeric column rather than quantile bins. A test
    whose statistic is compared with a value derived from the threshold and the data (the
    percentile text test) gives ``critical(data, threshold)``.
    """

    name: str
    title: str
    description: str
    kinds: tuple[str, ...]
    default_threshold: float
    drift_if: str
    run: Callable[[ColumnData, bool], TestResult]
    critical: Callable[[ColumnData, float], float] | None = None

    __test__ = False  # not a pytest test class

    @property
    def uses_p_value(self) -> bool:
        return self.drift_if.startswith("p")


def verdict(test: DriftTest, value: float, threshold: float, data: ColumnData | None = None) -> bool:
    """Whether ``value`` (the p-value or the statistic) means drift under ``threshold``."""
    if test.critical is not None and data is not None:
        threshold = test.critical(data, threshold)
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


def _jsd_base2(data: ColumnData, by_value: bool) -> TestResult:
    """TFDV's: its own equal-width histograms for numbers, value proportions for categories."""
    if data.kind != "numeric":
        c = data.counts(by_value)
        return TestResult(st.jensenshannon_divergence(c.reference, c.current, base=2.0), None, 0.0)
    if data.sketched:
        exact = data.values is not None and not (data.values[0].saturated or data.values[1].saturated)
        if exact:  # a few-valued column: the histograms from its exact value counts
            h_ref, h_cur = counts_histogram(data.values[0].counts), counts_histogram(data.values[1].counts)
            return TestResult(js_divergence(h_ref, h_cur), None, 0.0)
        # quantiles from the sketches: approximate, with no proven bound
        return TestResult(js_divergence(sketch_histogram(data.ref), sketch_histogram(data.cur)), None, np.inf)
    return TestResult(js_divergence(standard_histogram(data.ref), standard_histogram(data.cur)), None, 0.0)


def _texts(data: ColumnData, name: str) -> tuple[list[str], list[str]]:
    if data.kind != "text":
        raise InvalidInputError(f"the {name} test needs a text column with its raw values on both sides")
    return data.ref_texts, data.cur_texts


def _text_auc(data: ColumnData, by_value: bool) -> TestResult:
    return TestResult(domain_classifier_auc(*_texts(data, "text content drift")), None, 0.0)


def _random_auc_critical(data: ColumnData, level: float) -> float:
    return random_auc_percentile(text_split_labels(data.n_ref, data.n_cur), level)


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
            "p<=",
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
            "chisquare",
            "chi-square goodness-of-fit test",
            "Pearson chi-square test of the current counts against the reference's proportions "
            "(Evidently's): a category the reference never had is drift",
            ("numeric", "categorical"),
            0.05,
            "p<",
            _on_counts(st.chisquare),
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
            "Jensen-Shannon divergence with log base 2 (TFDV's): numbers on each side's 10 equal-width "
            "buckets re-bucketed on the union of edges, categories on their proportions; in [0, 1]",
            ("numeric", "categorical"),
            0.1,
            ">",
            _jsd_base2,
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
        DriftTest(
            "abs_text_content_drift",
            "text content drift (absolute)",
            "ROC AUC of a classifier telling current texts from reference texts (Evidently's); "
            "0.5 = indistinguishable, drift when above the threshold",
            ("text",),
            0.55,
            ">",
            _text_auc,
        ),
        DriftTest(
            "perc_text_content_drift",
            "text content drift (percentile)",
            "ROC AUC of a classifier telling current texts from reference texts (Evidently's); "
            "drift when above the threshold's quantile of 1,000 random classifiers' AUCs",
            ("text",),
            0.95,
            ">",
            _text_auc,
            _random_auc_critical,
        ),
    )
}
"""Every test by name: the name is what results report as ``test``."""
