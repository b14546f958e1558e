"""Numeric input of every kind as a flat float64 array: numpy, pandas, pyarrow, lists.

Shared by the sketches and the distances, so a NaN, a null or an Arrow dictionary means
the same thing everywhere: nulls (None, pd.NA, Arrow nulls, masked entries) are removed
and counted, a float NaN stays a NaN, and infinities stay infinite until a caller keeps
only the finite values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core.errors import InvalidInputError

__all__ = [
    "arrow_type_is_numeric",
    "finite_owned",
    "finite_values",
    "module_of",
    "numeric_array",
    "sorted_finite",
]


def module_of(obj: Any) -> str:
    """The module an object's type comes from (how numpy, pandas and Arrow inputs are told apart)."""
    return type(obj).__module__ or ""


def numeric_array(values: Any) -> tuple[np.ndarray, int]:
    """The values as a flat contiguous float64 array (nulls removed) and the null count."""
    mod = module_of(values)
    if mod.startswith("pyarrow"):
        return _arrow_numeric(values)
    if mod.startswith("pandas"):
        dtype = values.dtype
        if type(dtype).__name__ == "ArrowDtype":
            return _arrow_numeric(pa.array(values))
        if not isinstance(dtype, np.dtype):  # masked extension arrays (Int64, Float64, boolean)
            if getattr(dtype, "kind", "O") not in "biuf":
                raise _not_numeric(dtype)
            missing = np.asarray(values.isna(), dtype=bool)
            kept = values[~missing] if missing.any() else values
            return np.ascontiguousarray(kept.to_numpy(dtype=np.float64)), int(missing.sum())
        values = values.to_numpy()
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "biuf":
        return np.ascontiguousarray(arr, dtype=np.float64).ravel(), 0
    if kind != "O":
        raise _not_numeric(arr.dtype)
    flat = arr.ravel()
    missing = np.asarray(pd.isna(flat), dtype=bool)
    n_missing = int(missing.sum())
    # Among missing markers only a float NaN is a NaN; None, pd.NA and NaT are nulls.
    n_nan = sum(1 for v in flat[missing] if isinstance(v, float)) if n_missing else 0
    try:
        x = flat[~missing].astype(np.float64) if n_missing else flat.astype(np.float64)
    except (TypeError, ValueError):
        raise _not_numeric(arr.dtype, "an object array with non-numeric values") from None
    if n_nan:
        x = np.concatenate([x, np.full(n_nan, np.nan)])
    return x, n_missing - n_nan


def _arrow_numeric(arr: Any) -> tuple[np.ndarray, int]:
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    t = arr.type
    if not arrow_type_is_numeric(t):
        raise _not_numeric(t)
    nulls = arr.null_count
    if nulls:
        arr = arr.drop_null()
    if not pa.types.is_float64(t):
        arr = arr.cast(pa.float64(), safe=False)
    return np.ascontiguousarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64), nulls


def arrow_type_is_numeric(t: Any) -> bool:
    """Whether an Arrow type holds numbers (integers, floats, decimals, booleans)."""
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t))


def _not_numeric(dtype: Any, what: str | None = None, purpose: str = "sketch") -> InvalidInputError:
    if purpose == "drift":
        return InvalidInputError(
            f"numeric drift statistics need numeric values, got {dtype}; compare categorical "
            "columns with category_counts() and the count-based statistics"
        )
    return InvalidInputError(
        f"NumericSketch.update needs numeric or boolean values, got {what or f'dtype {dtype}'}; "
        "sketch this column with CategoricalSketch (sketch_for picks the right sketch for a dtype)"
    )


def finite_values(values: Any) -> np.ndarray:
    """The finite values of a numeric array-like as a float64 array (possibly a view of the input)."""
    return finite_owned(values)[0]


def finite_owned(values: Any) -> tuple[np.ndarray, bool]:
    """The finite values as float64, and whether the array is a fresh copy we may sort in place."""
    mod = module_of(values)
    if mod.startswith("pyarrow"):
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        values = pc.cast(values, pa.float64()).fill_null(math.nan)
        x = values.to_numpy(zero_copy_only=False)
    elif mod.startswith("pandas"):
        dtype = getattr(values, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            x = np.asarray(values.to_numpy(), dtype=np.float64)
        else:
            try:
                x = values.to_numpy(dtype=np.float64, na_value=math.nan)
            except (TypeError, ValueError):
                raise _not_numeric(dtype, None, "drift") from None
    else:
        try:
            x = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise _not_numeric(getattr(values, "dtype", type(values).__name__), None, "drift") from None
    if isinstance(values, np.ndarray):
        owned = not np.may_share_memory(x, values)
    else:
        owned = isinstance(values, (list, tuple))
    x = x.ravel()
    finite = np.isfinite(x)
    return (x, owned) if finite.all() else (x[finite], True)


def sorted_finite(values: Any) -> np.ndarray:
    """The finite values, sorted (in place when they were copied anyway)."""
    x, owned = finite_owned(values)
    if owned:
        x.sort()
        return x
    return np.sort(x)

