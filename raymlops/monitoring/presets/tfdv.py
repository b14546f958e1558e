"""The ``tfdv`` preset: TensorFlow Data Validation's drift comparators.

Categorical columns by the L-infinity distance of the category proportions (``linf``),
numeric ones by the Jensen-Shannon *divergence* with log base 2
(``jensenshannon_divergence_base2``, in ``[0, 1]``); drift when the statistic is *above*
the threshold. TFDV has no default thresholds (a comparator runs only when the schema
sets one); ours default to 0.1 for both, set per column with ``thresholds``.
"""

from __future__ import annotations

from raymlops.monitoring.column_data import ColumnData
from raymlops.monitoring.presets.base import Choice, Preset

__all__ = ["TFDV"]


def _choose(data: ColumnData) -> Choice:
    if data.kind == "categorical":
        return Choice("linf", False, "tfdv: categorical column")
    return Choice("jensenshannon_divergence_base2", False, "tfdv: numeric column, on quantile bins")


TFDV = Preset("tfdv", "TensorFlow Data Validation's drift comparators", _choose)
