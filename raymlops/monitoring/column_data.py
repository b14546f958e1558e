"""Both sides of one column, prepared once for whichever drift test runs on them.

Each side is raw values (**exact mode**: sorted finite numbers, or category counts) or
sketches (**sketch mode**); a raw side next to a sketch is sketched first. The counts the
count-based tests need (per category, per value of a few-valued numeric column, or on
quantile bins) are derived here, once, and shared by the tests.

Distinct values in sketch mode. A DDSketch does not count distinct values, so for a
numeric column given as sketches, "at most 5 distinct values" is decided as follows,
first rule that applies:

1. a :class:`~raymlops.sketches.ValueCounts` pair (``values=``, or the profiles' own)
   that is not saturated gives the exact distinct count and the exact count of each
   value; a saturated one (more than ``max_values >= 5`` values) proves ``distinct > 5``;
2. more than 5 occupied buckets in the merged sketch prove ``distinct > 5`` (each
   occupied bucket holds at least one value);
3. the merged minimum equals the maximum: one value, counted exactly;
4. exactly two values ``{min, max}``, when the merged variance equals
   ``(max - mean)(mean - min)`` to 1e-9 relative: the Bhatia-Davis bound, reached only by
   distributions on the two endpoints; each side's count at ``max`` is
   ``round(count * (mean - min) / (max - min))``. This catches 0/1 flags;
5. otherwise (2 to 5 buckets that may hold a narrow continuous range) the column is
   judged as continuous and ``reason`` says so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from raymlops.core.errors import InvalidInputError
from raymlops.sketches import CategoricalSketch, NumericSketch, ValueCounts
from raymlops.sketches import distances as st
from raymlops.sketches.distances import Merged

__all__ = ["FEW_VALUES", "ColumnData", "Counts", "infer_kind"]

FEW_VALUES = 5
"""At most this many distinct values: a numeric column is tested on the count of each value."""


class Counts(NamedTuple):
    """Aligned counts of both sides, and how they were obtained (for the verdict's reason)."""

    keys: list[Any]
    reference: np.ndarray
    current: np.ndarray
    how: str


class ColumnData:
    """Both sides of one column, prepared once for whichever test runs.

    Args:
        reference: raw values or a sketch.
        current: raw values or a sketch.
        kind: ``"numeric"``, ``"categorical"`` or ``"text"`` (raw strings on both sides:
            the text tests need them; the category counts are there too).
        values: a ValueCounts pair for a numeric column given as sketches.
        bins: quantile bins for count-based tests on a numeric column.
        accuracy: the DDSketch accuracy the bins snap to.
    """

    def __init__(self, reference: Any, current: Any, kind: str, values: Any, bins: int, accuracy: float):
        self.kind, self.bins, self.accuracy = kind, bins, accuracy
        self.values = values
        self.sketched = st.is_sketch(reference) or st.is_sketch(current)
        self._merged: Merged | None = None
        self._few: Counts | None | bool = False  # False: not computed yet
        self.few_how: str | None = None  # why a sketched numeric column counts as continuous
        if kind == "text":
            self.ref_texts, self.cur_texts = _strings(reference), _strings(current)
        if kind in ("categorical", "text"):
            if isinstance(reference, NumericSketch) or isinstance(current, NumericSketch):
                reference, current = self._numeric_as_categories(reference, current)
            keys, rc, cc = st.category_counts(reference, current)
            self.counts_ = Counts(keys, rc, cc, "category counts")
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
    def merged(self) -> Merged:
        if self._merged is None:
            self._merged = st.merge_sorted(self.ref, self.cur)
        return self._merged

    # -- counts for the count-based tests
    def value_counts(self) -> Counts | None:
        """Exact counts per value if the numeric column has at most FEW_VALUES distinct values."""
        if self._few is False:
            self._few = self._sketch_few() if self.sketched else self._exact_few()
        return self._few  # type: ignore[return-value]

    def _exact_few(self) -> Counts | None:
        m = self.merged
        if m.distinct > FEW_VALUES:
            return None
        a, b = self.ref, self.cur
        keys = np.unique(np.concatenate([distinct_sorted(a), distinct_sorted(b)]))
        rc = np.searchsorted(a, keys, side="right") - np.searchsorted(a, keys, side="left")
        cc = np.searchsorted(b, keys, side="right") - np.searchsorted(b, keys, side="left")
        return Counts(keys.tolist(), rc.astype(np.int64), cc.astype(np.int64), f"{m.distinct} distinct values (exact)")

    def _sketch_few(self) -> Counts | None:
        a: NumericSketch = self.ref
        b: NumericSketch = self.cur
        if self.values is not None:
            vr, vc = self.values
            if not (vr.saturated or vc.saturated):
                keys, rc, cc = st.category_counts(vr, vc)
                if len(keys) > FEW_VALUES:
                    self.few_how = f"{len(keys)} distinct values (ValueCounts, exact)"
                    return None
                return Counts(keys, rc, cc, f"{len(keys)} distinct values (ValueCounts, exact)")
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
            return Counts([lo], np.array([a.count]), np.array([b.count]), "1 distinct value (min == max)")
        if buckets == 2 and two_point(merged):
            def at_max(s: NumericSketch) -> int:
                return int(round(s.count * (s.mean - lo) / (hi - lo)))

            ka, kb = at_max(a), at_max(b)
            return Counts(
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

    def binned(self) -> Counts:
        cuts, rc, cc = st.binned_counts(self.ref, self.cur, bins=self.bins, relative_accuracy=self.accuracy)
        how = f"{cuts.size + 1} of {self.bins} quantile bins of the reference"
        if cuts.size + 1 < self.bins:
            how += " (ties, or a range narrower than the DDSketch buckets)"
        return Counts(cuts.tolist(), rc, cc, how)

    def counts(self, by_value: bool) -> Counts:
        if self.kind in ("categorical", "text"):
            return self.counts_
        few = self.value_counts() if by_value else None
        return few if few is not None else self.binned()


def distinct_sorted(x: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    if not x.size:
        return x
    return x[np.concatenate([[True], x[1:] != x[:-1]])]


def two_point(s: NumericSketch) -> bool:
    """Whether the variance reaches the Bhatia-Davis bound (max - mean)(mean - min): two values only."""
    lo, hi, mean, var = s.min, s.max, s.mean, s.std**2
    bd = (hi - mean) * (mean - lo)
    return bd > 0 and abs(bd - var) <= 1e-9 * bd


def infer_kind(values: Any) -> str:
    """``"numeric"`` or ``"categorical"`` from a sketch's type or the values' dtype (booleans are numeric)."""
    if isinstance(values, NumericSketch):
        return "numeric"
    if isinstance(values, (CategoricalSketch, ValueCounts)):
        return "categorical"
    dtype = getattr(values, "dtype", None)
    if dtype is None and (type(values).__module__ or "").startswith("pyarrow"):
        t = values.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)
        return "numeric" if numeric else "categorical"
    if dtype is not None and dtype != np.dtype(object):
        return "numeric" if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype) else "categorical"
    inferred = pd.api.types.infer_dtype(values if dtype is not None else list(values), skipna=True)
    numeric = inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal")
    return "numeric" if numeric else "categorical"


def _strings(values: Any) -> list[str]:
    """The non-null values of a raw text column, as strings."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pandas()
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return [v if isinstance(v, str) else str(v) for v in s.dropna().tolist()]
