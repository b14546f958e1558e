"""Judging drift: one column (:func:`judge_column`) or every shared column of a dataset (:func:`judge`).

:func:`judge` compares a reference (the training data's profile, or a sample of it) with
current data (the merged sketches of the serving replicas, or a batch) column by column,
and decides whether the dataset drifted. Each column is judged by :func:`judge_column`,
a standalone function, so a caller may judge columns in parallel and assemble a
:class:`~raymlops.monitoring.results.DriftReport` itself. Both sides are either raw values
(**exact mode**: pandas DataFrames, pyarrow Tables or mappings of arrays) or sketches
(**sketch mode**: :class:`~raymlops.sketches.Profile` objects or mappings of sketches); a
raw side next to a sketch is sketched first. The preset (:mod:`raymlops.monitoring.presets`)
picks each column's test; the tests are :data:`~raymlops.monitoring.drift_tests.TESTS`.

Sketch-mode results carry ``bound``, the most the statistic can differ from the
exact-mode statistic, and ``certain``, whether the verdict holds for any statistic within
that bound.

Example:
    >>> import numpy as np, pandas as pd
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

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.monitoring.column_data import ColumnData, infer_kind
from raymlops.monitoring.drift_tests import TESTS, verdict
from raymlops.monitoring.presets import PRESETS
from raymlops.monitoring.results import ColumnDrift, DriftReport
from raymlops.sketches import NumericSketch, Profile, ValueCounts
from raymlops.sketches.profile import MAX_VALUES as PROFILE_MAX_VALUES
from raymlops.sketches.distances import is_sketch, ks_pvalue

__all__ = ["column_facts", "columns_of", "judge", "judge_column"]


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
    column_type: str | None = None,
) -> ColumnDrift:
    """Judge one column: choose its test by the preset's rules, compute it, decide.

    Args:
        column: the column's name (reported as is).
        reference: the reference values (array-like, pandas Series, pyarrow array) or
            sketch (:class:`NumericSketch`, :class:`CategoricalSketch`).
        current: the current values or sketch.
        preset: ``"evidently"`` or ``"tfdv"`` (module docstring).
        kind: ``"numeric"``, ``"categorical"`` or ``"text"``; decided by the preset's
            rules when None (``evidently``: from the current data's dtype, as Evidently
            does; ``tfdv``: numbers and booleans numeric, the rest categorical). A column
            the preset does not judge gets test ``"none"`` and is not counted.
        test: run this test (a key of :data:`TESTS`) instead of the preset's choice.
            Count-based tests on a numeric column use the shared quantile bins.
        threshold: the threshold; the test's default when None.
        values: a :class:`ValueCounts` for each side of a numeric column given as
            sketches, to decide "at most 5 distinct values" exactly.
        bins: quantile bins for count-based tests on numeric columns.
        relative_accuracy: the DDSketch accuracy the bins snap to in exact mode, and of
            the sketch built for a raw side next to a sketch (the sketch's own wins).
        column_type: the column's type (:mod:`raymlops.core.coltypes`) when the sides are
            sketches: a profile records it, and presets that type columns by dtype need it.

    Returns:
        The :class:`ColumnDrift`. A side with no values gives test ``"none"``, no drift.

    Raises:
        InvalidInputError: on an unknown preset, test or kind, or a test that does not
            apply to the column (e.g. ``ks`` on a categorical column, ``z`` on more than
            two categories).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> r = judge_column("age", rng.normal(40, 12, 500), rng.normal(46, 12, 400))
        >>> r.test, r.p_value < 0.05, r.drift, r.reason
        ('ks', True, True, 'reference has 500 values (<= 1000); numeric, 900 distinct values (exact)')
    """
    _check_preset(preset)
    if test is not None and test not in TESTS:
        raise InvalidInputError(f"unknown test {test!r}; use one of {sorted(TESTS)}")
    sketched = is_sketch(reference) or is_sketch(current)
    mode = "sketch" if sketched else "exact"
    typed = ""
    if kind is None:
        decided = PRESETS[preset].kind_of(reference, current, column_type, values)
        if decided.kind is None:
            return ColumnDrift(column, "none", "none", math.nan, math.nan, None, False, mode, 0.0, True, decided.reason)
        kind, typed = decided.kind, decided.reason
    if kind not in ("numeric", "categorical", "text"):
        raise InvalidInputError(f"kind must be 'numeric', 'categorical' or 'text', got {kind!r}")
    if kind == "text" and sketched:
        kind, typed = "categorical", f"{typed}; judged on category counts (text drift needs the raw strings)"
    for side in (reference, current):
        if isinstance(side, NumericSketch):
            relative_accuracy = side.relative_accuracy
    data = ColumnData(reference, current, kind, values, bins, relative_accuracy)
    counts = dict(reference_count=data.n_ref, current_count=data.n_cur)
    if not data.n_ref or not data.n_cur:
        side = "reference" if not data.n_ref else "current"
        return ColumnDrift(
            column, kind, "none", math.nan, math.nan, None, False, mode, 0.0, True,
            f"no values on the {side} side", **counts,
        )  # fmt: skip
    if test is None:
        test, by_value, reason = PRESETS[preset].choose(data)
    else:
        by_value, reason = False, f"test {test} requested"
    if typed:
        reason = f"{typed}; {reason}"
    spec = TESTS[test]
    if kind not in spec.kinds and not (kind == "text" and "categorical" in spec.kinds):
        if spec.kinds == ("text",):
            raise InvalidInputError(f"the {test} test needs a text column with its raw values on both sides")
        raise InvalidInputError(f"the {test} test needs a numeric column; use chi2, z, jensenshannon or linf")
    thr = spec.default_threshold if threshold is None else float(threshold)
    result = spec.run(data, by_value)
    if test not in ("ks", "wasserstein_normed") and kind == "numeric" and not by_value:
        reason += f"; {data.counts(False).how}"
    value = result.p_value if spec.uses_p_value else result.statistic
    drift = verdict(spec, value, thr, data)  # type: ignore[arg-type]
    certain = True
    if result.bound > 0:
        lo, hi = result.statistic - result.bound, result.statistic + result.bound
        if spec.uses_p_value:
            lo, hi = (ks_pvalue(min(max(v, 0.0), 1.0), data.n_ref, data.n_cur) for v in (hi, lo))
        certain = verdict(spec, lo, thr, data) == verdict(spec, hi, thr, data) == drift
    return ColumnDrift(
        column, kind, test, result.statistic, thr, result.p_value, bool(drift), mode,
        result.bound, certain, reason, **counts,
    )  # fmt: skip


def columns_of(side: Any) -> tuple[list[str], Callable[[str], Any]]:
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
    _check_preset(preset)
    if not 0 < drift_share <= 1:
        raise InvalidInputError(f"drift_share must be in (0, 1], got {drift_share!r}")
    ref_cols, ref_get = columns_of(reference)
    cur_cols, cur_get = columns_of(current)
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
        ref_side, cur_side = ref_get(name), cur_get(name)
        given, column_type = column_facts(reference, current, name, ref_side, cur_side)
        results.append(
            judge_column(
                name,
                ref_side,
                cur_side,
                preset=preset,
                kind=kinds.get(name),
                test=tests.get(name),
                threshold=thr,
                values=values.get(name, given),
                bins=bins,
                relative_accuracy=accuracy,
                column_type=column_type,
            )
        )
    return DriftReport(tuple(results), float(drift_share), preset, skipped)


def column_facts(
    reference: Any, current: Any, name: str, ref_side: Any, cur_side: Any
) -> tuple[tuple[ValueCounts, ValueCounts] | None, str | None]:
    """What profiles know of a column beyond its sketch: exact value counts and the column type.

    Returns the ``(reference, current)`` :class:`ValueCounts` pair when both sides have one
    (a raw numeric side next to a profile is counted here), and the column type the
    current profile (else the reference one) recorded.
    """
    if not (isinstance(reference, Profile) or isinstance(current, Profile)):
        return None, None
    pair = []
    for whole, side in ((reference, ref_side), (current, cur_side)):
        if isinstance(whole, Profile):
            pair.append(whole.values.get(name))
        elif not is_sketch(side) and infer_kind(side) == "numeric":
            vc = ValueCounts(max_values=PROFILE_MAX_VALUES)
            vc.update(side)
            pair.append(vc)
        else:
            pair.append(None)
    types = [p.types.get(name) for p in (current, reference) if isinstance(p, Profile)]
    column_type = next((t for t in types if t), None)
    return (pair[0], pair[1]) if None not in pair else None, column_type


def _check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}; use one of {list(PRESETS)}")
