"""The ``evidently`` preset: Evidently's DataDriftPreset (0.7), so results give its verdicts.

Checked against Evidently itself: ``benchmarks/parity_evidently.py`` runs Evidently 0.7.23
in a side virtualenv on 40 generated cases and keeps its values in
``tests/unit/fixtures/evidently_parity.json``, which the unit tests compare with this
preset (the rules below are read from Evidently's source: ``benchmarks/parity/EVIDENTLY_RULES.md``).

How a column is typed: from the **current** data, as Evidently does:

* floats are numeric; integers are categorical with at most 10 distinct values, else
  numeric; booleans and pandas categories are categorical;
* strings are text when more than half of the current values are distinct, else
  categorical; an object column of non-strings (e.g. booleans with a None), nullable
  pandas dtypes (``Int64``, ``boolean``) and datetimes are not judged (and not counted).

Which test (``n``: the non-null, finite reference values of the column; ``distinct``: the
distinct values over reference and current):

============================  ============================  ===============================
reference                     column                        test, drift when
============================  ============================  ===============================
``n <= 1000``                 numeric, ``distinct > 5``     ``ks``: p <= 0.05
``n <= 1000``                 other, ``distinct > 2``       ``chisquare``: p < 0.05
``n <= 1000``                 other, ``distinct <= 2``      ``z``: p < 0.05
``n > 1000``                  numeric, ``distinct > 5``     ``wasserstein_normed`` >= 0.1
``n > 1000``                  other                         ``jensenshannon_distance_ln``
                                                            >= 0.1
``n <= 1000``                 text                          ``perc_text_content_drift``
``n > 1000``                  text                          ``abs_text_content_drift`` > 0.55
============================  ============================  ===============================

"Other" is a categorical column or a numeric one with at most 5 distinct values, tested
on the counts of each value. ``chisquare`` is Evidently's goodness-of-fit test of the
current counts against the reference's proportions (a category the reference never had
is drift). The dataset drifted when at least ``drift_share`` (0.5) of the judged columns
drifted. One difference: the Z-test's p-value is ``2 * sf(|z|)``, where Evidently
computes ``2 * (1 - cdf(|z|))``, which rounds to exactly 0 past ``|z|`` = 8.3; the verdicts
are the same.

From sketches (profiles), the type comes from the column type the profile recorded and
its exact value counts (a profile keeps them while a column has at most 32 values); text
columns are judged on their category counts, since a text classifier needs the strings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from raymlops.monitoring.column_data import ColumnData
from raymlops.monitoring.presets.base import Choice, Kind, Preset
from raymlops.sketches import CategoricalSketch, NumericSketch, ValueCounts

__all__ = ["EVIDENTLY", "INT_CATEGORIES", "SMALL_REFERENCE"]

SMALL_REFERENCE = 1000
"""At most this many reference values: the evidently preset uses p-value tests."""

INT_CATEGORIES = 10
"""An integer column with at most this many distinct current values is categorical."""

_NOT_JUDGED = "evidently does not judge {what} columns"


def _strings_kind(distinct: int, count: int, how: str) -> Kind:
    if distinct > 0.5 * count:
        return Kind("text", f"text: {distinct} distinct of {count} current values{how}")
    return Kind("categorical", "")


def _from_series(s: pd.Series) -> Kind:
    name = s.dtype.name
    if name.startswith("float"):
        return Kind("numeric", "")
    if name.startswith("int"):
        n = int(s.nunique())
        return Kind("categorical", f"integer with {n} distinct current values") if n <= INT_CATEGORIES else Kind("numeric", "")
    if name in ("string", "str"):
        return _strings_kind(int(s.nunique()), int(s.count()), "")
    if name in ("bool", "category"):
        return Kind("categorical", "")
    if name.startswith("datetime"):
        return Kind(None, _NOT_JUDGED.format(what="datetime"))
    if name == "object":
        kept = s.dropna()
        if kept.empty:
            return Kind(None, _NOT_JUDGED.format(what="empty object"))
        first, last = kept.iloc[0], kept.iloc[-1]
        if isinstance(first, str) and isinstance(last, str):
            return _strings_kind(int(s.nunique()), int(s.count()), "")
        return Kind(None, _NOT_JUDGED.format(what=f"object ({type(first).__name__})"))
    return Kind(None, _NOT_JUDGED.format(what=f"{name}-typed"))


def _arrow_as_pandas_dtype(arr: Any) -> str:
    """The dtype name pandas gives an Arrow column (nulls make ints float and bools object)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return "category"
    if pa.types.is_floating(t):
        return "float64"
    if pa.types.is_integer(t):
        return "float64" if arr.null_count else ("int64" if pa.types.is_signed_integer(t) else "uint64")
    if pa.types.is_boolean(t):
        return "object" if arr.null_count else "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "str"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime64[ns]"
    return "object"


def _from_sketch(current: Any, column_type: str | None, values: Any) -> Kind:
    if isinstance(current, CategoricalSketch):
        if current.truncated and current.max_categories <= 0.5 * current.count:
            return Kind("categorical", f"more than {current.max_categories} categories (truncated sketch): typed categorical")
        return _strings_kind(current.distinct, current.count, " (category sketch)")
    if column_type == "bool":
        return Kind("categorical", "")
    if column_type == "int":
        vc = values[1] if values is not None else None
        if isinstance(vc, ValueCounts) and not vc.saturated and (vc.distinct or 0) <= INT_CATEGORIES:
            return Kind("categorical", f"integer with {vc.distinct} distinct current values")
        return Kind("numeric", "")
    if column_type == "datetime":
        return Kind(None, _NOT_JUDGED.format(what="datetime"))
    return Kind("numeric", "")


def _kind_of(reference: Any, current: Any, column_type: str | None, values: Any) -> Kind:
    if isinstance(current, (NumericSketch, CategoricalSketch, ValueCounts)):
        return _from_sketch(current, column_type, values)
    if isinstance(current, (pa.Array, pa.ChunkedArray)):
        name = _arrow_as_pandas_dtype(current)
        if name in ("str", "object", "int64", "bool"):
            return _from_series(current.to_pandas())
        return _from_series(pd.Series([], dtype=name)) if name != "category" else Kind("categorical", "")
    if isinstance(current, pd.Series):
        return _from_series(current)
    if isinstance(current, np.ndarray) and current.dtype.kind in "US":
        return _from_series(pd.Series(current.astype(object)))
    return _from_series(pd.Series(current if isinstance(current, np.ndarray) else list(current)))


def _choose(data: ColumnData) -> Choice:
    small = data.n_ref <= SMALL_REFERENCE
    size = f"reference has {data.n_ref} values ({'<=' if small else '>'} {SMALL_REFERENCE})"
    if data.kind == "text":
        return Choice("perc_text_content_drift" if small else "abs_text_content_drift", False, size)
    if data.kind == "numeric":
        few = data.value_counts()
        if few is None:
            how = data.few_how or f"{data.merged.distinct} distinct values (exact)"
            return Choice("ks" if small else "wasserstein_normed", False, f"{size}; numeric, {how}")
        distinct, what = len(few.keys), f"numeric with {few.how}"
    else:
        counts = data.counts(False)
        distinct = int(np.count_nonzero(counts.reference + counts.current))
        what = f"categorical with {distinct} distinct values"
    if small:
        return Choice("chisquare" if distinct > 2 else "z", True, f"{size}; {what}")
    return Choice("jensenshannon_distance_ln", True, f"{size}; {what}")


EVIDENTLY = Preset("evidently", "Evidently's DataDriftPreset (0.7)", _choose, _kind_of)
