"""Judging a remedy: a metric overall and per slice, and the slice gap before and after."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import py
from raymlops.training.remediate._inputs import as_vector

__all__ = ["compare", "slice_metrics"]


def slice_metrics(
    y_true: Any,
    y_pred: Any,
    slice_labels: Any,
    *,
    metric: Callable[[Any, Any], float] = accuracy_score,
) -> dict[str, Any]:
    """A metric overall and per slice: ``{"overall": x, "slices": {slice: x, ...}}``.

    Example:
        >>> slice_metrics([1, 0, 1, 1], [1, 0, 0, 1], ["a", "a", "b", "b"])
        {'overall': 0.75, 'slices': {'a': 1.0, 'b': 0.5}}
    """
    yt = as_vector(y_true, "y_true")
    yp = as_vector(y_pred, "y_pred", len(yt))
    labels = as_vector(slice_labels, "slice_labels", len(yt))
    if len(yt) == 0:
        raise InvalidInputError("no rows to score")
    slices = {py(v): float(metric(yt[labels == v], yp[labels == v])) for v in pd.unique(labels)}
    return {"overall": float(metric(yt, yp)), "slices": slices}


def _check_metrics(m: Any, what: str) -> tuple[float, dict[Any, float]]:
    if not isinstance(m, Mapping) or "overall" not in m or not isinstance(m.get("slices"), Mapping) or not m["slices"]:
        raise InvalidInputError(f"{what} must look like {{'overall': 0.9, 'slices': {{'a': 0.93, 'b': 0.85}}}}")
    try:
        return float(m["overall"]), {k: float(v) for k, v in m["slices"].items()}
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} has non-numeric metric values") from None


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[Any, Any]]:
    """Slice gap and overall metric before and after a remediation.

    Args:
        before: ``{"overall": x, "slices": {slice: x}}`` (see :func:`slice_metrics`).
        after: the same, after the remediation, with the same slices.

    Returns:
        ``{"slice_gap": {"before", "after"}, "overall": {"before", "after"},
        "slices": {slice: {"before", "after"}}}``; the gap is the best slice's metric
        minus the worst's.

    Raises:
        InvalidInputError: malformed inputs or different slices.
    """
    ob, sb = _check_metrics(before, "before")
    oa, sa = _check_metrics(after, "after")
    if set(sb) != set(sa):
        raise InvalidInputError(
            f"before has slices {sorted(map(str, sb))} and after {sorted(map(str, sa))}: compare on the same slices"
        )
    return {
        "slice_gap": {"before": max(sb.values()) - min(sb.values()), "after": max(sa.values()) - min(sa.values())},
        "overall": {"before": ob, "after": oa},
        "slices": {k: {"before": sb[k], "after": sa[k]} for k in sb},
    }
