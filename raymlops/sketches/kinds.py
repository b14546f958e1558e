"""Choosing a sketch for a column, and reading any sketch back from its dict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import arrow_type_is_numeric, module_of
from raymlops.sketches._ddsketch import bad_dict
from raymlops.sketches.categorical import CategoricalSketch
from raymlops.sketches.numeric import NumericSketch

__all__ = ["Sketch", "is_numeric", "sketch_for", "sketch_from_dict"]

Sketch = NumericSketch | CategoricalSketch
"""Either kind of column sketch."""


def is_numeric(dtype_or_values: Any) -> bool:
    """Whether a dtype (numpy, pandas, pyarrow, a name or a Python type) or some values are numeric."""
    obj = dtype_or_values
    mod = module_of(obj)
    if mod.startswith("pyarrow"):
        t = obj if isinstance(obj, pa.DataType) else obj.type
        return arrow_type_is_numeric(t.value_type if pa.types.is_dictionary(t) else t)
    if isinstance(obj, (str, type, np.dtype)) or mod.startswith("pandas.core.dtypes") or hasattr(obj, "kind"):
        if isinstance(obj, str):
            try:
                obj = pd.api.types.pandas_dtype(obj)
            except TypeError:
                raise InvalidInputError(
                    f"unknown dtype {dtype_or_values!r}; use a numpy, pandas or pyarrow dtype"
                ) from None
        elif isinstance(obj, type):
            obj = np.dtype(obj)
        return getattr(obj, "kind", "O") in "biuf"
    dtype = getattr(obj, "dtype", None)
    if dtype is None or getattr(dtype, "kind", "O") == "O":
        inferred = pd.api.types.infer_dtype(obj if dtype is not None else list(obj), skipna=True)
        return inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal")
    return is_numeric(dtype)


def sketch_for(
    dtype_or_values: Any,
    *,
    relative_accuracy: float = 0.01,
    edges: Sequence[float] | None = None,
    max_categories: int = 10_000,
) -> Sketch:
    """An empty sketch of the right kind for a column.

    Numeric and boolean dtypes (numpy, pandas nullable, pyarrow integer/floating/boolean/
    decimal) get a :class:`NumericSketch`; everything else (strings, categoricals,
    datetimes, objects) a :class:`CategoricalSketch`. Object values are inspected with
    pandas' type inference (numbers with missing values count as numeric). The options
    of the other kind are ignored. The sketch is not updated: call ``update(values)``.

    Args:
        dtype_or_values: a dtype (numpy, pandas, pyarrow, a dtype name or a Python type)
            or the column's values.
        relative_accuracy: passed to :class:`NumericSketch`.
        edges: passed to :class:`NumericSketch`.
        max_categories: passed to :class:`CategoricalSketch`.

    Returns:
        A new, empty sketch.

    Example:
        >>> type(sketch_for(np.array([1.5, 2.0]))).__name__, type(sketch_for("str")).__name__
        ('NumericSketch', 'CategoricalSketch')
    """
    if is_numeric(dtype_or_values):
        return NumericSketch(relative_accuracy=relative_accuracy, edges=edges)
    return CategoricalSketch(max_categories=max_categories)


def sketch_from_dict(d: Mapping[str, Any]) -> Sketch:
    """Rebuild either kind of sketch from its ``to_dict`` output (by its ``type``).

    Raises:
        InvalidInputError: if the dict is not a valid sketch.
    """
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind == "numeric":
        return NumericSketch.from_dict(d)
    if kind == "categorical":
        return CategoricalSketch.from_dict(d)
    raise bad_dict("type", "'numeric' or 'categorical'")
