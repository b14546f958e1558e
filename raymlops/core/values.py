"""Small value helpers every package needs, written once.

Example:
    >>> import numpy as np
    >>> py(np.int64(3)), plain({"a": np.float32(0.5), 1: (np.bool_(True), [np.int8(2)])})
    (3, {'a': 0.5, '1': [True, [2]]})
    >>> plain([float("inf"), np.nan], nonfinite=None)
    [None, None]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_numeric_series", "plain", "py"]

_KEEP = object()


def py(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def plain(value: Any, *, nonfinite: Any = _KEEP) -> Any:
    """``value`` with numpy scalars and arrays turned into Python ones, recursively.

    Dicts get string keys and tuples become lists, so the result is ready for JSON.

    Args:
        value: anything.
        nonfinite: when given, what NaN and infinities become (e.g. ``None`` for JSON,
            which has no NaN); by default they are kept.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): plain(v, nonfinite=nonfinite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, nonfinite=nonfinite) for v in value]
    if nonfinite is not _KEEP and isinstance(value, float) and not math.isfinite(value):
        return nonfinite
    return value


def is_numeric_series(s: pd.Series) -> bool:
    """Whether a pandas column holds numbers (booleans are not numbers here)."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
