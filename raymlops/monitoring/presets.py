"""Column drift tests chosen by rules: the ``evidently`` and ``tfdv`` presets.

:func:`judge` compares a reference (the training data's profile, or a sample of it) with
current data (the merged sketches of the serving replicas, or a batch) column by column,
and decides whether the dataset drifted. Each column is judged by :func:`judge_column`,
a standalone function, so a caller may judge columns in parallel and assemble a
:class:`DriftReport` itself. Both sides are either raw values (**exact mode**: pandas
DataFrames, pyarrow Tables or mappings of arrays) or sketches (**sketch mode**:
:class:`~raymlops.sketches.Profile` objects or mappings of sketches); a raw side next
to a sketch is sketched first. The statistics are those of :mod:`raymlops.sketches.distances`.

Preset ``"evidently"`` (the default) follows Evidently's DataDrift preset, so results read
the same. ``n`` is the number of non-null (numeric: finite) reference values of the
column, and ``distinct`` the number of distinct values over reference and current:

============================  ==============================  ===========================
reference                     column                          test, drift when
============================  ==============================  ===========================
``n <= 1000``                 numeric, ``distinct > 5``       ``ks``: p < 0.05
``n <= 1000``                 other, ``distinct > 2``         ``chi2``: p < 0.05
``n <= 1000``                 other, ``distinct <= 2``        ``z``: p < 0.05
``n > 1000``                  numeric, ``distinct > 5``       ``wasserstein_normed`` >= 0.1
``n > 1000``                  other                           ``jensenshannon_distance_ln``
                                                              >= 0.1
============================  ==============================  ===========================

"Other" is a categorical column or a numeric one with at most 5 distinct values; those
are tested on the counts of each value. ``wasserstein_normed`` is the Wasserstein-1
distance over ``max(std of reference, 0.001)``; ``jensenshannon_distance_ln`` is the
Jensen-Shannon *distance* (square root of the divergence) with the natural log, on the
proportions of each category. One difference from Evidently: ``chi2`` is the chi-square
test of independence on the 2 x k table (``scipy.stats.chi2_contingency``), where
Evidently tests the current counts for goodness of fit against the reference's
proportions (infinite for a category the reference never had).

Preset ``"tfdv"`` follows TensorFlow Data Validation's drift comparators: categorical
columns by the L-infinity distance of the category proportions (``linf``), numeric ones
by the Jensen-Shannon *divergence* with log base 2 (``jensenshannon_divergence_base2``,
in ``[0, 1]``) on the shared quantile bins of :func:`raymlops.sketches.distances.binned_counts`;
drift when the statistic is *above* the threshold. TFDV has no default thresholds (a
comparator runs only when the schema sets one); ours default to 0.1 for both, set per
column with ``thresholds``.

The dataset drifted when at least ``drift_share`` (default 0.5) of the judged columns
drifted (Evidently's rule); ``to_dict()`` reports ``drift_share`` under Evidently's name
for that threshold and the observed share as ``share_of_drifted_columns``.

Distinct values in sketch mode. A DDSketch does not count distinct values, so for a
numeric column given as sketches, "more than 5 distinct values" is decided as follows,
first rule that applies:

1. a :class:`~raymlops.sketches.ValueCounts` pair (``values=``) that is not
   saturated gives the exact distinct count and the exact count of each value; a
   saturated one (more than ``max_values >= 5`` values) proves ``distinct > 5``;
2. more than 5 occupied buckets in the merged sketch prove ``distinct > 5`` (each
   occupied bucket holds at least one value);
3. the merged minimum equals the maximum: one value, counted exactly;
4. exactly two values ``{min, max}``, when the merged variance equals
   ``(max - mean)(mean - min)`` to 1e-9 relative: the Bhatia-Davis bound, reached only by
   distributions on the two endpoints; each side's count at ``max`` is
   ``round(count * (mean - min) / (max - min))``. This catches 0/1 flags;
5. otherwise (2 to 5 buckets that may hold a narrow continuous range) the column is
   judged as continuous and ``reason`` says so; keep a ``ValueCounts`` per numeric column
   next to its sketch to make the choice exact.

Rules 1-4 agree with exact mode; rule 5 may not. Sketch-mode results carry ``bound``, the
most the statistic can differ from the exact-mode statistic, and ``certain``, whether the
verdict holds for any statistic within that bound.

Example:
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b", "c"], 2000)})
    >>> cur = pd.DataFrame({"x": rng.normal(0.5, 1, size=2000), "c": rng.choice(["a", "b", "c"], 2000)})
    >>> report = judge(ref, cur)
    >>> [(c.column, c.test, round(c.statistic, 3), c.drift) for c in report.columns]
    [('x', 'wasserstein_normed', 0.566, True), ('c', 'jensenshannon_distance_ln', 0.009, False)]
    >>> report.share_of_drifted_columns, report.dataset_drift
    (0.5, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from raymlops.sketches import CategoricalSketch, NumericSketch
from raymlops.core.errors import InvalidInputError
from raymlops.sketches import ValueCounts
from raymlops.sketches import distances as st
from raymlops.sketches.distances import TestResult

__all__ = [
    "ColumnDrift",
    "DriftReport",
    "TestSpec",
    "TESTS",
    "PRESETS",
    "SMALL_REFERENCE",
    "FEW_VALUES",
    "judge",
    "judge_column",
]

SMALL_REFERENCE = 1000
"""At most this many reference values: the evidently preset uses p-value tests."""

FEW_VALUES = 5
"""At most this many distinct values: the evidently preset tests a numeric column on value counts."""

PRESETS = ("evidently", "tfdv")


class TestSpec(NamedTuple):
    """One drift test: its name, how to read it and its default threshold.

    ``drift_if`` is ``"p<"`` (drift when the p-value is below the threshold), ``">="``
    or ``">"`` (drift when the statistic reaches or exceeds it).
    """

    name: str
    title: str
    description: str
    kinds: tuple[str, ...]
    default_threshold: float
    drift_if: str

    __test__ = False  # not a pytest test class


TESTS: dict[str, TestSpec] = {
    spec.name: spec
    for spec in (
        TestSpec(
            "ks",
            "Kolmogorov-Smirnov test",
            "largest distance between the two empirical CDFs; p-value from the Smirnov "
            "distribution (exact up to 10,000 values a side, else Kolmogorov with n*m/(n+m))",
            ("numeric",),
            0.05,
            "p<",
        ),
        TestSpec(
            "wasserstein_normed",
            "normed Wasserstein distance",
            "Wasserstein-1 (earth mover's) distance divided by max(std of reference, 0.001); "
            "0 = same distribution, 0.1 = the mass moved by a tenth of a standard deviation",
            ("numeric",),
            0.1,
            ">=",
        ),
        TestSpec(
            "chi2",
            "chi-square test",
            "Pearson chi-square test of independence on the 2 x k table of counts "
            "(reference, current)",
            ("numeric", "categorical"),
            0.05,
            "p<",
        ),
        TestSpec(
            "z",
            "Z-test for proportions",
            "two-proportion Z-test (pooled variance, two-sided) on a binary column",
            ("numeric", "categorical"),
            0.05,
            "p<",
        ),
        TestSpec(
            "jensenshannon_distance_ln",
            "Jensen-Shannon distance (natural log)",
            "square root of the Jensen-Shannon divergence computed with the natural log; "
            "a distance in [0, 0.833]",
            ("numeric", "categorical"),
            0.1,
            ">=",
        ),
        TestSpec(
            "jensenshannon_divergence_base2",
            "Jensen-Shannon divergence (log base 2)",
            "Jensen-Shannon divergence computed with log base 2; a divergence in [0, 1]",
            ("numeric", "categorical"),
            0.1,
            ">",
        ),
        TestSpec(
            "psi",
            "Population Stability Index (natural log)",
            "sum of (current - reference) * ln(current / reference) over bin proportions, "
            "empty bins smoothed as in Evidently",
            ("numeric", "categorical"),
            0.1,
            ">=",
        ),
        TestSpec(
            "linf",
            "L-infinity distance",
            "largest absolute difference between the two sides' category proportions; in [0, 1]",
            ("numeric", "categorical"),
            0.1,
            ">",
        ),
    )
}
"""Every test by name: the name is what results report as ``test``."""


# --------------------------------------------------------------------------- results


def _json_number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclasses.dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one column.

    Attributes:
        column: the column name.
        kind: ``"numeric"`` or ``"categorical"``.
        test: the test's name (a key of :data:`TESTS`), or ``"none"`` when a side had no values.
        statistic: the test's statistic (NaN for ``"none"``).
        threshold: the threshold the verdict used.
        p_value: the p-value for ``ks``, ``chi2`` and ``z``, else None.
        drift: the verdict.
        mode: ``"exact"`` or ``"sketch"``.
        bound: the most ``statistic`` can differ from the exact-mode statistic (0.0 in
            exact mode and for statistics on counts).
        certain: whether the verdict is the same for any statistic within ``bound``.
        reason: why this test was chosen.
        reference_count: non-null (numeric: finite) reference values.
        current_count: non-null (numeric: finite) current values.
    """

    column: str
    kind: str
    test: str
    statistic: float
    threshold: float
    p_value: float | None
    drift: bool
    mode: str = "exact"
    bound: float = 0.0
    certain: bool = True
    reason: str = ""
    reference_count: int = 0
    current_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN becomes None)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _json_number(self.statistic),
            "threshold": _json_number(self.threshold),
            "p_value": _json_number(self.p_value),
            "drift": self.drift,
            "mode": self.mode,
            "bound": _json_number(self.bound),
            "certain": self.certain,
            "reason": self.reason,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnDrift:
        """Rebuild from :meth:`to_dict` output (only the required keys must be present)."""
        try:
            stat = d["statistic"]
            return cls(
                column=str(d["column"]),
                kind=str(d["kind"]),
                test=str(d["test"]),
                statistic=math.nan if stat is None else float(stat),
                threshold=math.nan if d["threshold"] is None else float(d["threshold"]),
                p_value=None if d["p_value"] is None else float(d["p_value"]),
                drift=bool(d["drift"]),
                mode=str(d.get("mode", "exact")),
                bound=float(d.get("bound") or 0.0),
                certain=bool(d.get("certain", True)),
                reason=str(d.get("reason", "")),
                reference_count=int(d.get("reference_count", 0)),
                current_count=int(d.get("current_count", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"invalid column drift dict ({exc!r}); pass ColumnDrift.to_dict() output") from None


@dataclasses.dataclass(frozen=True)
class DriftReport:
    """Verdicts on every judged column and on the dataset.

    Attributes:
        columns: one :class:`ColumnDrift` per judged column, in order.
        drift_share: the dataset drifted when at least this share of columns drifted.
        preset: the preset used.
        skipped: columns present on one side only.
    """

    columns: tuple[ColumnDrift, ...]
    drift_share: float = 0.5
    preset: str = "evidently"
    skipped: tuple[str, ...] = ()

    @property
    def number_of_columns(self) -> int:
        """Columns that could be judged (those with test ``"none"`` are not counted)."""
        return sum(1 for c in self.columns if c.test != "none")

    @property
    def number_of_drifted_columns(self) -> int:
        return sum(1 for c in self.columns if c.drift)

    @property
    def share_of_drifted_columns(self) -> float:
        n = self.number_of_columns
        return self.number_of_drifted_columns / n if n else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Whether at least ``drift_share`` of the judged columns drifted."""
        return bool(self.number_of_columns) and self.share_of_drifted_columns >= self.drift_share

    def __getitem__(self, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    def to_dict(self) -> dict[str, Any]:
        """``{"columns": [...], "drift_share", "dataset_drift", ...}`` (JSON-serialisable)."""
        return {
            "columns": [c.to_dict() for c in self.columns],
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "share_of_drifted_columns": self.share_of_drifted_columns,
            "number_of_drifted_columns": self.number_of_drifted_columns,
            "number_of_columns": self.number_of_columns,
            "preset": self.preset,
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DriftReport:
        """Rebuild from :meth:`to_dict` output."""
        if not isinstance(d, Mapping) or not isinstance(d.get("columns"), list):
            raise InvalidInputError("not a drift report dict; pass DriftReport.to_dict() output")
        return cls(
            columns=tuple(ColumnDrift.from_dict(c) for c in d["columns"]),
            drift_share=float(d.get("drift_share", 0.5)),
            preset=str(d.get("preset", "evidently")),
            skipped=tuple(d.get("skipped", ())),
        )


# --------------------------------------------------------------------------- one column's data


class _Counts(NamedTuple):
    keys: list[Any]
    reference: np.ndarray
    current: np.ndarray
    how: str


class _Data:
    """Both sides of one column, prepared once for whichever test runs."""

    def __init__(self, reference: Any, current: Any, kind: str, values: Any, bins: int, accuracy: float):
        self.kind, self.bins, self.accuracy = kind, bins, accuracy
        self.values = values
        self.sketched = st.is_sketch(reference) or st.is_sketch(current)
        self._merged: st.Merged | None = None
        self._few: _Counts | None | bool = False  # False: not computed yet
        if kind == "categorical":
            if isinstance(reference, NumericSketch) or isinstance(current, NumericSketch):
                reference, current = self._numeric_as_categories(reference, current)
            keys, rc, cc = st.category_counts(reference, current)
            self.counts_ = _Counts(keys, rc, cc, "category counts")
            self.n_ref, self.n_cur = int(rc.sum()), int(cc.sum())
            return
        for side in (reference, current):
            if isinstance(side, (CategoricalSketch, ValueCounts)):
                raise InvalidInputError(
                    f"a {type(side).__name__} cannot be judged as a numeric column; "
                    "pass kind='categorical' or a NumericSketch"
                )
        self.ref, self.cur, _ = st.numeric_pair(reference, current)
        if self.sketched:
            self.n_ref, self.n_cur = self.ref.count, self.cur.count
        else:
            self.n_ref, self.n_cur = self.ref.size, self.cur.size

    def _numeric_as_categories(self, reference: Any, current: Any) -> tuple[Any, Any]:
        vr, vc = self.values if self.values is not None else (None, None)
        if vr is None or vc is None or vr.saturated or vc.saturated:
            raise InvalidInputError(
                "a NumericSketch keeps no per-value counts, so it cannot be judged as categorical; "
                "profile the column as categorical, or pass values=(ValueCounts, ValueCounts) with few values"
            )
        return vr, vc

    @property
    def merged(self) -> st.Merged:
        if self._merged is None:
            self._merged = st.merge_sorted(self.ref, self.cur)
        return self._merged

    # -- counts for the count-based tests
    def value_counts(self) -> _Counts | None:
        """Exact counts per value if the numeric column has at most FEW_VALUES distinct values."""
        if self._few is False:
            self._few = self._sketch_few() if self.sketched else self._exact_few()
        return self._few  # type: ignore[return-value]

    def _exact_few(self) -> _Counts | None:
        m = self.merged
        if m.distinct > FEW_VALUES:
            return None
        a, b = self.ref, self.cur
        keys = np.unique(np.concatenate([_distinct_sorted(a), _distinct_sorted(b)]))
        rc = np.searchsorted(a, keys, side="right") - np.searchsorted(a, keys, side="left")
        cc = np.searchsorted(b, keys, side="right") - np.searchsorted(b, keys, side="left")
        return _Counts(keys.tolist(), rc.astype(np.int64), cc.astype(np.int64), f"{m.distinct} distinct values (exact)")

    def _sketch_few(self) -> _Counts | None:
        a: NumericSketch = self.ref
        b: NumericSketch = self.cur
        if self.values is not None:
            vr, vc = self.values
            if not (vr.saturated or vc.saturated):
                keys, rc, cc = st.category_counts(vr, vc)
                if len(keys) > FEW_VALUES:
                    self.few_how = f"{len(keys)} distinct values (ValueCounts, exact)"
                    return None
                return _Counts(keys, rc, cc, f"{len(keys)} distinct values (ValueCounts, exact)")
            if min(vr.max_values, vc.max_values) >= FEW_VALUES:
                self.few_how = f"more than {min(vr.max_values, vc.max_values)} distinct values (ValueCounts, exact)"
                return None
        merged = a.merge(b)
        buckets = merged.bins()[2].size
        if buckets > FEW_VALUES:
            self.few_how = f"more than {FEW_VALUES} distinct values ({buckets} occupied DDSketch buckets)"
            return None
        lo, hi = merged.min, merged.max
        if lo == hi:
            return _Counts([lo], np.array([a.count]), np.array([b.count]), "1 distinct value (min == max)")
        if buckets == 2 and _two_point(merged):
            def at_max(s: NumericSketch) -> int:
                return int(round(s.count * (s.mean - lo) / (hi - lo)))

            ka, kb = at_max(a), at_max(b)
            return _Counts(
                [lo, hi],
                np.array([a.count - ka, ka]),
                np.array([b.count - kb, kb]),
                "2 distinct values (variance at the Bhatia-Davis bound)",
            )
        self.few_how = (
            f"distinct count unknown from sketches ({buckets} occupied DDSketch buckets); judged as "
            "continuous (keep a ValueCounts next to the sketch to decide exactly)"
        )
        return None

    def binned(self) -> _Counts:
        cuts, rc, cc = st.binned_counts(self.ref, self.cur, bins=self.bins, relative_accuracy=self.accuracy)
        how = f"{cuts.size + 1} of {self.bins} quantile bins of the reference"
        if cuts.size + 1 < self.bins:
            how += " (ties, or a range narrower than the DDSketch buckets)"
        return _Counts(cuts.tolist(), rc, cc, how)

    def counts(self, by_value: bool) -> _Counts:
        if self.kind == "categorical":
            return self.counts_
        few = self.value_counts() if by_value else None
        return few if few is not None else self.binned()


def _distinct_sorted(x: np.ndarray) -> np.ndarray:
    if not x.size:
        return x
    return x[np.concatenate([[True], x[1:] != x[:-1]])]


def _two_point(s: NumericSketch) -> bool:
    """Whether the variance reaches the Bhatia-Davis bound (max - mean)(mean - min): two values only."""
    lo, hi, mean, var = s.min, s.max, s.mean, s.std**2
    bd = (hi - mean) * (mean - lo)
    return bd > 0 and abs(bd - var) <= 1e-9 * bd


# --------------------------------------------------------------------------- tests


def _run(test: str, data: _Data, by_value: bool) -> TestResult:
    if test in ("ks", "wasserstein_normed") and data.kind != "numeric":
        raise InvalidInputError(f"the {test} test needs a numeric column; use chi2, z, jensenshannon or linf")
    if test == "ks":
        if data.sketched:
            return st.ks(data.ref, data.cur)
        d = data.merged.ks
        return TestResult(d, st.ks_pvalue(d, data.n_ref, data.n_cur), 0.0)
    if test == "wasserstein_normed":
        if data.sketched:
            return st.wasserstein_normed(data.ref, data.cur)
        norm = max(float(np.std(data.ref)), st.MIN_STD)
        return TestResult(data.merged.wasserstein / norm, None, 0.0)
    counts = data.counts(by_value)
    rc, cc = counts.reference, counts.current
    if test == "chi2":
        return st.chi2(rc, cc)
    if test == "z":
        return st.ztest(rc, cc)
    if test == "jensenshannon_distance_ln":
        return TestResult(st.jensenshannon(rc, cc), None, 0.0)
    if test == "jensenshannon_divergence_base2":
        return TestResult(st.jensenshannon_divergence(rc, cc, base=2.0), None, 0.0)
    if test == "psi":
        return TestResult(st.psi(rc, cc), None, 0.0)
    if test == "linf":
        return TestResult(st.linf(rc, cc), None, 0.0)
    raise InvalidInputError(f"unknown test {test!r}; use one of {sorted(TESTS)}")  # pragma: no cover


def _verdict(spec: TestSpec, value: float, threshold: float) -> bool:
    if spec.drift_if == "p<":
        return value < threshold
    if spec.drift_if == ">=":
        return value >= threshold
    return value > threshold


def _choose(preset: str, data: _Data) -> tuple[str, bool, str]:
    """The test for this column, whether count tests use per-value counts, and why."""
    if preset == "tfdv":
        if data.kind == "categorical":
            return "linf", False, "tfdv: categorical column"
        return "jensenshannon_divergence_base2", False, "tfdv: numeric column, on quantile bins"
    small = data.n_ref <= SMALL_REFERENCE
    size = f"reference has {data.n_ref} values ({'<=' if small else '>'} {SMALL_REFERENCE})"
    if data.kind == "numeric":
        few = data.value_counts()
        if few is None:
            how = getattr(data, "few_how", None) or f"{data.merged.distinct} distinct values (exact)"
            return ("ks" if small else "wasserstein_normed"), False, f"{size}; numeric, {how}"
        distinct, how = len(few.keys), few.how
        what = f"numeric with {how}"
    else:
        distinct = int(np.count_nonzero(data.counts_.reference + data.counts_.current))
        what = f"categorical with {distinct} distinct values"
    if small:
        return ("chi2" if distinct > 2 else "z"), True, f"{size}; {what}"
    return "jensenshannon_distance_ln", True, f"{size}; {what}"


def _infer_kind(values: Any) -> str:
    if isinstance(values, NumericSketch):
        return "numeric"
    if isinstance(values, (CategoricalSketch, ValueCounts)):
        return "categorical"
    dtype = getattr(values, "dtype", None)
    if dtype is None and (type(values).__module__ or "").startswith("pyarrow"):
        import pyarrow as pa

        t = values.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)
        return "numeric" if numeric else "categorical"
    import pandas as pd

    if dtype is not None and dtype != np.dtype(object):
        return "numeric" if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype) else "categorical"
    inferred = pd.api.types.infer_dtype(values if dtype is not None else list(values), skipna=True)
    numeric = inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal")
    return "numeric" if numeric else "categorical"


def judge_column(
    column: str,
    reference: Any,
    current: Any,
    *,
    preset: str = "evidently",
    kind: str | None = None,
    test: str | None = None,
    threshold: float | None = None,
    values: tuple[ValueCounts, ValueCounts] | None = None,
    bins: int = 10,
    relative_accuracy: float = 0.01,
) -> ColumnDrift:
    """Judge one column: choose its test by the preset's rules, compute it, decide.

    Args:
        column: the column's name (reported as is).
        reference: the reference values (array-like, pandas Series, pyarrow array) or
            sketch (:class:`NumericSketch`, :class:`CategoricalSketch`).
        current: the current values or sketch.
        preset: ``"evidently"`` or ``"tfdv"`` (module docstring).
        kind: ``"numeric"`` or ``"categorical"``; inferred from the dtype or sketch type
            when None (booleans are numeric, as in profiles).
        test: run this test (a key of :data:`TESTS`) instead of the preset's choice.
            Count-based tests on a numeric column use the shared quantile bins.
        threshold: the threshold; the test's default when None.
        values: a :class:`ValueCounts` for each side of a numeric column given as
            sketches, to decide "at most 5 distinct values" exactly.
        bins: quantile bins for count-based tests on numeric columns.
        relative_accuracy: the DDSketch accuracy the bins snap to in exact mode, and of
            the sketch built for a raw side next to a sketch (the sketch's own wins).

    Returns:
        The :class:`ColumnDrift`. A side with no values gives test ``"none"``, no drift.

    Raises:
        InvalidInputError: on an unknown preset, test or kind, or a test that does not
            apply to the column (e.g. ``ks`` on a categorical column, ``z`` on more than
            two categories).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> r = judge_column("age", rng.normal(40, 12, 500), rng.normal(46, 12, 400))
        >>> r.test, r.p_value < 0.05, r.drift, r.reason
        ('ks', True, True, 'reference has 500 values (<= 1000); numeric, 900 distinct values (exact)')
    """
    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}; use one of {list(PRESETS)}")
    if test is not None and test not in TESTS:
        raise InvalidInputError(f"unknown test {test!r}; use one of {sorted(TESTS)}")
    if kind is None:
        kind = _infer_kind(reference if not isinstance(current, (NumericSketch, CategoricalSketch)) else current)
    if kind not in ("numeric", "categorical"):
        raise InvalidInputError(f"kind must be 'numeric' or 'categorical', got {kind!r}")
    for side in (reference, current):
        if isinstance(side, NumericSketch):
            relative_accuracy = side.relative_accuracy
    data = _Data(reference, current, kind, values, bins, relative_accuracy)
    mode = "sketch" if data.sketched else "exact"
    counts = dict(reference_count=data.n_ref, current_count=data.n_cur)
    if not data.n_ref or not data.n_cur:
        side = "reference" if not data.n_ref else "current"
        return ColumnDrift(
            column, kind, "none", math.nan, math.nan, None, False, mode, 0.0, True,
            f"no values on the {side} side", **counts,
        )  # fmt: skip
    if test is None:
        test, by_value, reason = _choose(preset, data)
    else:
        by_value, reason = False, f"test {test} requested"
    spec = TESTS[test]
    if kind not in spec.kinds:
        raise InvalidInputError(f"the {test} test needs a numeric column; use chi2, z, jensenshannon or linf")
    thr = spec.default_threshold if threshold is None else float(threshold)
    result = _run(test, data, by_value)
    if test not in ("ks", "wasserstein_normed") and kind == "numeric" and not by_value:
        reason += f"; {data.counts(False).how}"
    value = result.p_value if spec.drift_if == "p<" else result.statistic
    drift = _verdict(spec, value, thr)  # type: ignore[arg-type]
    certain = True
    if result.bound > 0:
        lo, hi = result.statistic - result.bound, result.statistic + result.bound
        if spec.drift_if == "p<":
            lo, hi = (st.ks_pvalue(min(max(v, 0.0), 1.0), data.n_ref, data.n_cur) for v in (hi, lo))
        certain = _verdict(spec, lo, thr) == _verdict(spec, hi, thr) == drift
    return ColumnDrift(
        column, kind, test, result.statistic, thr, result.p_value, bool(drift), mode,
        result.bound, certain, reason, **counts,
    )  # fmt: skip


# --------------------------------------------------------------------------- datasets


def _columns_of(side: Any) -> tuple[list[str], Any]:
    """Column names and a getter for a DataFrame, pyarrow Table, Profile or mapping."""
    mod = type(side).__module__ or ""
    if mod.startswith("pandas"):
        return [str(c) for c in side.columns], lambda c: side[c]
    if mod.startswith("pyarrow"):
        return list(side.column_names), lambda c: side.column(c)
    columns = getattr(side, "columns", None)
    if isinstance(columns, Mapping):  # a Profile
        return list(columns), lambda c: columns[c]
    if isinstance(side, Mapping):
        return list(side), lambda c: side[c]
    raise InvalidInputError(
        f"cannot judge a {type(side).__name__}; pass a pandas DataFrame, a pyarrow Table, a Profile "
        "or a mapping of column name to values or sketch"
    )


def _accuracy_of(side: Any) -> float | None:
    acc = getattr(side, "relative_accuracy", None)
    return float(acc) if isinstance(acc, (int, float)) and not isinstance(acc, bool) else None


def judge(
    reference: Any,
    current: Any,
    *,
    preset: str = "evidently",
    kinds: Mapping[str, str] | None = None,
    thresholds: float | Mapping[str, float] | None = None,
    tests: Mapping[str, str] | None = None,
    values: Mapping[str, tuple[ValueCounts, ValueCounts]] | None = None,
    drift_share: float = 0.5,
    columns: Sequence[str] | None = None,
    bins: int = 10,
) -> DriftReport:
    """Judge every column shared by the reference and the current data.

    Args:
        reference: a pandas DataFrame or pyarrow Table (exact mode), a
            :class:`~raymlops.sketches.Profile`, or a mapping of column name to values
            or sketch.
        current: the same kinds; a raw side next to sketches is sketched first.
        preset: ``"evidently"`` (default) or ``"tfdv"`` (module docstring).
        kinds: ``{column: "numeric" | "categorical"}`` overriding the inferred kind.
        thresholds: one threshold for every column, or ``{column: threshold}``; columns
            not listed use their test's default (0.05 for p-values, 0.1 for distances).
        tests: ``{column: test}`` overriding the preset's choice for those columns.
        values: ``{column: (reference ValueCounts, current ValueCounts)}`` for numeric
            columns given as sketches (exact distinct counts).
        drift_share: the dataset drifted when at least this share of columns drifted.
        columns: the columns to judge (default: those on both sides, in reference order).
        bins: quantile bins for count-based tests on numeric columns.

    Returns:
        A :class:`DriftReport`; columns present on one side only are listed in ``skipped``.

    Raises:
        InvalidInputError: on an unknown preset, a ``drift_share`` outside ``(0, 1]``, a
            requested column missing on a side, or a test that does not fit a column.
    """
    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}; use one of {list(PRESETS)}")
    if not 0 < drift_share <= 1:
        raise InvalidInputError(f"drift_share must be in (0, 1], got {drift_share!r}")
    ref_cols, ref_get = _columns_of(reference)
    cur_cols, cur_get = _columns_of(current)
    cur_set = set(cur_cols)
    if columns is None:
        names = [c for c in ref_cols if c in cur_set]
        skipped = tuple([c for c in ref_cols if c not in cur_set] + [c for c in cur_cols if c not in set(ref_cols)])
    else:
        missing = [c for c in columns if c not in cur_set or c not in set(ref_cols)]
        if missing:
            raise InvalidInputError(f"columns {missing} are not on both sides; judge columns both sides have")
        names, skipped = list(columns), ()
    accuracy = _accuracy_of(reference) or _accuracy_of(current) or 0.01
    kinds, tests, values = dict(kinds or {}), dict(tests or {}), dict(values or {})
    results = []
    for name in names:
        thr = thresholds.get(name) if isinstance(thresholds, Mapping) else thresholds
        results.append(
            judge_column(
                name,
                ref_get(name),
                cur_get(name),
                preset=preset,
                kind=kinds.get(name),
                test=tests.get(name),
                threshold=thr,
                values=values.get(name),
                bins=bins,
                relative_accuracy=accuracy,
            )
        )
    return DriftReport(tuple(results), float(drift_share), preset, skipped)
