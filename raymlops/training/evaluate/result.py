"""The evaluation of one model on one dataset, overall and per slice: :func:`evaluate`,
:func:`evaluate_predictions` and :class:`EvaluationResult`.

Per-slice metrics are computed with fairlearn's :class:`~fairlearn.metrics.MetricFrame`
(one per slice spec, with the slice as its sensitive feature). The model predicts once;
MetricFrame is given the row positions as ``y_pred`` and every metric looks the
predictions and probabilities of its group's rows up by position, so label and
probability metrics share one frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from raymlops.core.errors import InvalidInputError
from raymlops.training.evaluate._common import nan_to_none, none_to_nan
from raymlops.training.evaluate.binning import OVERALL
from raymlops.training.evaluate.spec import SliceSpec, as_slice_spec
from raymlops.training.metrics import Metric, Predictions, get_metric, predict_for, resolve_metrics

__all__ = ["EvaluationResult", "evaluate", "evaluate_predictions"]

_FORMAT = "raymlops.evaluation/1"


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one model on one evaluation dataset, overall and per slice.

    Attributes:
        metrics: the metric names, in order.
        by_slice: ``{slice name: {metric: value}}``, the overall slice ``"*"`` first,
            then every slice of every spec in order. ``nan`` marks a metric undefined on
            a slice (e.g. ROC AUC of a slice with one class).
        counts: ``{slice name: rows}``, same keys.
        min_slice_size: slices with fewer rows are reported but not checked by
            :func:`bless` (the overall slice is always checked).
        task: ``"classification"`` or ``"regression"``.
    """

    metrics: tuple[str, ...]
    by_slice: dict[str, dict[str, float]]
    counts: dict[str, int]
    min_slice_size: int = 1
    task: str | None = None

    @property
    def overall(self) -> dict[str, float]:
        """The metrics of the overall slice ``"*"``."""
        return self.by_slice[OVERALL]

    @property
    def slices(self) -> list[str]:
        """Slice names, without the overall slice."""
        return [s for s in self.by_slice if s != OVERALL]

    def checked(self, slice_: str) -> bool:
        """Whether :func:`bless` checks this slice (it has at least ``min_slice_size`` rows)."""
        return slice_ == OVERALL or self.counts.get(slice_, 0) >= self.min_slice_size

    def to_frame(self) -> pd.DataFrame:
        """One row per slice: its row count and metrics."""
        rows = [{"slice": s, "count": self.counts[s], **m} for s, m in self.by_slice.items()]
        return pd.DataFrame(rows, columns=["slice", "count", *self.metrics]).set_index("slice")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``nan`` becomes ``None``)."""
        return {
            "format": _FORMAT,
            "task": self.task,
            "metrics": list(self.metrics),
            "min_slice_size": self.min_slice_size,
            "by_slice": {s: {k: nan_to_none(v) for k, v in m.items()} for s, m in self.by_slice.items()},
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvaluationResult:
        if not isinstance(d, Mapping) or d.get("format") != _FORMAT:
            raise InvalidInputError(f"not an evaluation result: expected a mapping with format {_FORMAT!r}")
        by_slice = {s: {k: none_to_nan(v) for k, v in m.items()} for s, m in d["by_slice"].items()}
        if OVERALL not in by_slice:
            raise InvalidInputError(f"evaluation result has no overall slice {OVERALL!r}")
        return cls(
            metrics=tuple(d["metrics"]),
            by_slice=by_slice,
            counts={s: int(c) for s, c in d["counts"].items()},
            min_slice_size=int(d.get("min_slice_size", 1)),
            task=d.get("task"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvaluationResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()


def _check_min_slice_size(min_slice_size: Any) -> int:
    if isinstance(min_slice_size, bool) or not isinstance(min_slice_size, (int, np.integer)) or min_slice_size < 1:
        raise InvalidInputError(f"min_slice_size={min_slice_size!r}: use a whole number of rows >= 1")
    return int(min_slice_size)


def evaluate_predictions(
    predictions: Predictions,
    y: Any,
    *,
    metrics: str | Metric | Sequence[str | Metric],
    slices: Iterable[Any] = (),
    slice_data: pd.DataFrame | None = None,
    min_slice_size: int = 1,
) -> EvaluationResult:
    """:func:`evaluate` for predictions already made (e.g. in Ray Data batches).

    Args:
        predictions: from :func:`raymlops.training.metrics.predict_for` (or built by hand).
        y: the true labels or values, one per row.
        metrics: metric names.
        slices: slice specs (see :func:`evaluate`).
        slice_data: the rows' slicing columns (a DataFrame aligned with ``y``).
        min_slice_size: see :class:`EvaluationResult`.

    Returns:
        The evaluation.

    Raises:
        InvalidInputError: see :func:`evaluate`.
    """
    ms = resolve_metrics(metrics)
    for m in ms:
        get_metric(m, task=predictions.task)
    min_slice_size = _check_min_slice_size(min_slice_size)
    specs = [as_slice_spec(s) for s in ([slices] if isinstance(slices, (str, SliceSpec)) else slices)]
    y_arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr[:, 0]
    n = len(y_arr)
    for what, arr in (("predictions", predictions.y_pred), ("probabilities", predictions.proba)):
        if arr is not None and len(arr) != n:
            raise InvalidInputError(f"{len(arr)} {what} for {n} labels: pass one label per row")
    if specs:
        if slice_data is None:
            raise InvalidInputError(
                "slices need the slicing columns: pass slice_data= (a DataFrame with those columns)"
            )
        if len(slice_data) != n:
            raise InvalidInputError(f"slice_data has {len(slice_data)} rows but y has {n}: pass aligned rows")
        slice_data = slice_data.reset_index(drop=True)

    by_slice: dict[str, dict[str, float]] = {OVERALL: {m.name: predictions.score(m, y_arr) for m in ms}}
    counts: dict[str, int] = {OVERALL: n}

    def metric_fn(m: Metric):
        def fn(y_true: Any, rows: Any) -> float:
            # rows: the group's positions (MetricFrame's y_pred); y_true is y[rows]
            return predictions.score(m, y_arr, rows=np.asarray(rows, dtype=np.int64))

        return fn

    positions = np.arange(n, dtype=np.int64)
    frame_metrics = {m.name: metric_fn(m) for m in ms}
    for spec in specs:
        codes, names, _ = spec.groups(slice_data)
        frame = MetricFrame(
            metrics=frame_metrics,
            y_true=y_arr,
            y_pred=positions,
            sensitive_features=pd.Series(codes, name="slice"),
        )
        table = frame.by_group
        sizes = np.bincount(codes, minlength=len(names))
        for code, name in enumerate(names):
            if name in by_slice:
                raise InvalidInputError(
                    f"slice {name!r} comes from two slice specs: list each column or cross once in slices="
                )
            row = table.loc[code]
            by_slice[name] = {m.name: float(row[m.name]) for m in ms}
            counts[name] = int(sizes[code])
    return EvaluationResult(
        metrics=tuple(m.name for m in ms),
        by_slice=by_slice,
        counts=counts,
        min_slice_size=min_slice_size,
        task=predictions.task,
    )


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    metrics: str | Metric | Sequence[str | Metric],
    slices: Iterable[Any] = (),
    min_slice_size: int = 1,
    slice_data: pd.DataFrame | None = None,
) -> EvaluationResult:
    """Score a fitted model overall and on every slice.

    Args:
        model: a fitted estimator or Pipeline.
        X: the evaluation rows (what the model takes).
        y: the true labels or values.
        metrics: metric names from :data:`raymlops.training.metrics.METRICS`.
        slices: slice specs: :class:`SliceSpec`, a column name (one slice per value), a
            tuple of names or specs (a cross), or a :meth:`SliceSpec.to_dict` mapping.
        min_slice_size: slices with fewer rows are reported but not checked by :func:`bless`.
        slice_data: the columns to slice on when they are not in ``X`` (e.g. a column the
            model does not take); default ``X`` itself.

    Returns:
        The evaluation.

    Raises:
        InvalidInputError: unknown metrics or metrics of another task, slice columns
            missing from the data, misaligned inputs, or an unusable model.
    """
    preds = predict_for(model, X, metrics)
    if slice_data is None and isinstance(X, pd.DataFrame):
        slice_data = X
    return evaluate_predictions(
        preds, y, metrics=metrics, slices=slices, slice_data=slice_data, min_slice_size=min_slice_size
    )
