"""How a column is cut into slice predicates, and how a slice is named.

A column is sliced by value (values sorted, missing values last), in quantile buckets,
or at given edges (see :mod:`raymlops.training.evaluate` for the bucket semantics).
:class:`~raymlops.training.evaluate.SliceSpec` and SliceLine
(:mod:`raymlops.training.slices`) both cut columns with :func:`bin_column`, so a slice
has the same name wherever it is found.

Example:
    >>> import pandas as pd
    >>> codes, labels = bin_column(pd.Series([1.0, 5.0, 9.0, None], name="age"), edges=[0, 4, 8])
    >>> codes.tolist(), labels
    ([0, 1, 2, 3], ['[0, 4)', '[4, 8]', '(8, inf)', None])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import is_numeric_series, py

__all__ = ["AUTO_BUCKETS", "AUTO_MAX_VALUES", "OVERALL", "bin_column", "fmt_number", "slice_name"]

OVERALL = "*"
"""The name of the overall slice (every row)."""
AUTO_MAX_VALUES = 20
"""A numeric column with more distinct values than this is cut into quantile buckets by default."""
AUTO_BUCKETS = 4
"""The number of those quantile buckets."""


# ---------------------------------------------------------------------------- value formatting


def fmt_number(x: float, digits: int = 6) -> str:
    """``x`` as an edge label: integers without a point, ``inf``/``-inf``, else ``digits`` significant digits."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}" if digits < 17 else repr(float(x))


def _fmt_edges(edges: Sequence[float]) -> list[str]:
    """Edge labels, with as many digits as it takes to keep distinct edges distinct."""
    for digits in (6, 8, 10, 12, 15, 17):
        text = [fmt_number(e, digits) for e in edges]
        if len(set(text)) == len(set(edges)):
            return text
    return [fmt_number(e, 17) for e in edges]  # pragma: no cover - repr is exact


def _fmt_value(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return fmt_number(float(v), 17)
    return str(v)


def _predicate_text(column: Any, value: Any) -> str:
    """``column=value`` (value: a category, an interval label, or None for missing values)."""
    if value is None:
        return f"{column} is null"
    return f"{column}={_fmt_value(value)}"


def slice_name(predicates: Mapping[Any, Any]) -> str:
    """The readable name of a slice from its predicates, in the given order.

    Args:
        predicates: ``{column: value}``; a value is a category, an interval label such as
            ``"[30, 45)"``, or ``None`` for the rows where the column is missing.

    Returns:
        ``"*"`` for no predicates, else the predicates joined by ``" & "``.

    Example:
        >>> slice_name({"color": "red", "age": "[30, 45)"}), slice_name({"zip": None}), slice_name({})
        ('color=red & age=[30, 45)', 'zip is null', '*')
    """
    if not predicates:
        return OVERALL
    return " & ".join(_predicate_text(c, v) for c, v in predicates.items())


# ---------------------------------------------------------------------------- binning


def _numeric_values(s: pd.Series, column: Any) -> np.ndarray:
    try:
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"column {column!r} is not numeric ({s.dtype}): buckets and edges need numbers; "
            "slice it by value with SliceSpec(column=...)"
        ) from None


def _quantile_edges(values: np.ndarray, buckets: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return np.array([], dtype=np.float64)
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, buckets + 1)))


def _bucketize(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes and labels of values cut at ``edges`` (semantics in :mod:`raymlops.training.evaluate`)."""
    n_edges = len(edges)
    labels: list[Any] = []
    codes = np.full(len(values), -1, dtype=np.int64)
    null = np.isnan(values)
    if n_edges == 0:  # no finite value: the infinite ones (if any) form one slice
        for mask, label in ((~null, "[-inf, inf]"), (null, None)):
            if mask.any():
                codes[mask] = len(labels)
                labels.append(label)
        return codes, labels
    text = _fmt_edges(list(edges))
    lo, hi = edges[0], edges[-1]
    below = ~null & (values < lo)
    if n_edges == 1:  # a single value (e.g. a constant column)
        buckets = [f"[{text[0]}, {text[0]}]"]
        inside = ~null & (values == lo)
        idx = np.zeros(len(values), dtype=np.int64)
    else:
        last_closed = math.isfinite(hi)
        buckets = [
            f"[{text[i]}, {text[i + 1]}{']' if (i == n_edges - 2 and last_closed) else ')'}"
            for i in range(n_edges - 1)
        ]
        inside = ~null & (values >= lo) & ((values <= hi) if last_closed else (values < hi) | (values == np.inf))
        idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_edges - 2)
    above = ~null & ~below & ~inside
    next_code = 0
    if below.any():
        labels.append(f"(-inf, {text[0]})")
        codes[below] = next_code
        next_code += 1
    codes[inside] = idx[inside] + next_code
    labels.extend(buckets)
    next_code += len(buckets)
    if above.any():
        labels.append(f"({text[-1]}, inf)")
        codes[above] = next_code
        next_code += 1
    if null.any():
        labels.append(None)
        codes[null] = next_code
    return codes, labels


def _categories(s: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes and values of a column sliced by value: values sorted, missing values last."""
    codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    values = [py(v) for v in np.asarray(uniques, dtype=object).tolist()]
    try:
        order = sorted(range(len(values)), key=lambda i: values[i])
    except TypeError:
        order = sorted(range(len(values)), key=lambda i: (type(values[i]).__name__, str(values[i])))
    remap = np.empty(len(values) + 1, dtype=np.int64)
    remap[np.asarray(order, dtype=np.int64)] = np.arange(len(values))
    labels = [values[i] for i in order]
    null = codes < 0
    if null.any():
        remap[-1] = len(values)
        labels.append(None)
    out = remap[np.where(null, len(values), codes)]
    texts = [_predicate_text("", v) for v in labels]
    if len(set(texts)) != len(texts):
        dupes = sorted({t[1:] for t in texts if texts.count(t) > 1})
        raise InvalidInputError(
            f"column {s.name!r} has distinct values that read the same ({', '.join(dupes)}): "
            "convert the column to one type before slicing"
        )
    return out, labels


def bin_column(
    s: pd.Series, *, buckets: int | None = None, edges: Sequence[float] | None = None, auto_values: int | None = None
) -> tuple[np.ndarray, list[Any]]:
    """Cut one column into slice predicates.

    Args:
        s: the column (its name is the predicates' column).
        buckets: cut a numeric column into this many quantile buckets.
        edges: cut a numeric column at these increasing edges.
        auto_values: with neither buckets nor edges, a numeric column with more distinct
            values than this is cut into :data:`AUTO_BUCKETS` quantile buckets.

    Returns:
        ``(codes, labels)``: the predicate index of every row (``0..len(labels)-1``) and
        each predicate's value: a category, a bucket label such as ``"[30, 45)"``, or
        ``None`` for missing values.

    Raises:
        InvalidInputError: buckets or edges on a non-numeric column, or distinct values
            that read the same.
    """
    column = s.name
    if buckets is None and edges is None and auto_values is not None and is_numeric_series(s):
        if s.nunique(dropna=True) > auto_values:
            buckets = AUTO_BUCKETS
    if edges is not None:
        return _bucketize(_numeric_values(s, column), np.asarray(edges, dtype=np.float64))
    if buckets is not None:
        values = _numeric_values(s, column)
        return _bucketize(values, _quantile_edges(values, buckets))
    return _categories(s)
