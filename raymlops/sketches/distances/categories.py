"""Aligned counts of each category (or few-valued number) on the two sides, exact in both modes.

A :class:`~raymlops.sketches.categorical.CategoricalSketch` keeps exact counts (if it was
truncated, its ``other`` count becomes the category :data:`OTHER` and kept counts are
lower bounds); a :class:`~raymlops.sketches.values.ValueCounts` keeps the exact counts of
a few-valued numeric column. Categories are ``str(value)``, as in the sketch, except
that raw numbers compared with raw numbers (or with a ValueCounts) are counted as numbers,
so an integer ``1`` on one side and a float ``1.0`` on the other are one category.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.sketches.categorical import CategoricalSketch
from raymlops.sketches.numeric import NumericSketch
from raymlops.sketches.values import ValueCounts

__all__ = ["OTHER", "category_counts"]

OTHER = "<other>"
"""The category that stands for a truncated CategoricalSketch's ``other`` count."""


def _category_table(side: Any, as_text: bool) -> dict[Any, int]:
    if isinstance(side, CategoricalSketch):
        table: dict[Any, int] = dict(side.counts)
        if side.other:
            table[OTHER] = table.get(OTHER, 0) + side.other
        return table
    if isinstance(side, ValueCounts):
        if side.saturated:
            raise InvalidInputError(
                f"the column has more than {side.max_values} distinct values, so ValueCounts kept no "
                "counts; compare it as numeric (binned_counts) instead"
            )
        return dict(side.counts or {})
    if isinstance(side, NumericSketch):
        raise InvalidInputError(
            "a NumericSketch keeps no category counts; sketch the column with CategoricalSketch "
            "(or keep a ValueCounts next to the NumericSketch)"
        )
    if isinstance(side, pd.Series):
        s = side
    elif (type(side).__module__ or "").startswith("pyarrow"):
        s = side.to_pandas()
    else:
        s = pd.Series(side.ravel() if isinstance(side, np.ndarray) else list(side))
    vc = s.value_counts(dropna=True, sort=False)
    vc = vc[vc.to_numpy() > 0]
    numbers = not as_text and pd.api.types.is_numeric_dtype(s.dtype)
    table = {}
    for key, c in zip(vc.index.tolist(), vc.to_numpy().tolist()):
        key = float(key) if numbers else key if isinstance(key, str) else str(key)
        table[key] = table.get(key, 0) + int(c)
    return table


def category_counts(reference: Any, current: Any) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Aligned counts of each category (or value) on both sides.

    Args:
        reference: raw values (categories are ``str(value)``), a
            :class:`CategoricalSketch`, or a :class:`ValueCounts` (keys are the floats).
        current: the same kinds. A raw side next to a :class:`CategoricalSketch` is
            counted the same way (``str`` of each non-null value).

    Returns:
        ``(categories, reference_counts, current_counts)``: the union of the non-null
        categories in sorted order and the int64 counts of each side.

    Raises:
        InvalidInputError: for a NumericSketch or a saturated ValueCounts.

    Example:
        >>> cats, r, c = category_counts(["a", "b", "a", None], ["b", "c"])
        >>> cats, r.tolist(), c.tolist()
        (['a', 'b', 'c'], [2, 1, 0], [0, 1, 1])
    """
    as_text = isinstance(reference, CategoricalSketch) or isinstance(current, CategoricalSketch)
    ta, tb = _category_table(reference, as_text), _category_table(current, as_text)
    keys = sorted(set(ta) | set(tb), key=lambda k: (isinstance(k, str), k))
    ra = np.array([ta.get(k, 0) for k in keys], dtype=np.int64)
    rb = np.array([tb.get(k, 0) for k in keys], dtype=np.int64)
    return keys, ra, rb
