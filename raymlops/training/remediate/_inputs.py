"""Input checks shared by the remedies: one value per row, finite scores, 0/1 labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError

__all__ = ["as_binary", "as_scores", "as_vector"]


def as_vector(values: Any, what: str, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-D array (of ``n`` values when given)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(f"{what} has shape {arr.shape}: pass one value per row (a 1-D array)")
    if n is not None and len(arr) != n:
        raise InvalidInputError(f"{what} has {len(arr)} values for {n} rows: pass one per row")
    return arr


def as_scores(values: Any, what: str = "scores", n: int | None = None) -> np.ndarray:
    """``values`` as finite float64 scores, one per row."""
    arr = as_vector(values, what, n)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be numbers") from None
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{what} have NaN or infinite values: drop or fill those rows")
    return arr


def as_binary(y: Any, n: int) -> np.ndarray:
    """``y`` as 0/1 int64 labels, ``n`` of them."""
    arr = as_vector(y, "y", n)
    if len(arr) and not np.isin(pd.unique(arr), [0, 1]).all():
        raise InvalidInputError(f"y must be binary 0/1 (or bool), got values {sorted(map(str, pd.unique(arr)))[:5]}")
    return arr.astype(np.int64)
