"""The ``evidently`` preset: Evidently's DataDrift preset, so results read the same.

``n`` is the number of non-null (numeric: finite) reference values of the column, and
``distinct`` the number of distinct values over reference and current:

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
are tested on the counts of each value. The dataset drifted when at least ``drift_share``
(default 0.5) of the judged columns drifted (Evidently's rule).
"""

from __future__ import annotations

import numpy as np

from raymlops.monitoring.column_data import ColumnData
from raymlops.monitoring.presets.base import Choice, Preset

__all__ = ["EVIDENTLY", "SMALL_REFERENCE"]

SMALL_REFERENCE = 1000
"""At most this many reference values: the evidently preset uses p-value tests."""


def _choose(data: ColumnData) -> Choice:
    small = data.n_ref <= SMALL_REFERENCE
    size = f"reference has {data.n_ref} values ({'<=' if small else '>'} {SMALL_REFERENCE})"
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
        return Choice("chi2" if distinct > 2 else "z", True, f"{size}; {what}")
    return Choice("jensenshannon_distance_ln", True, f"{size}; {what}")


EVIDENTLY = Preset("evidently", "Evidently's DataDrift preset", _choose)
