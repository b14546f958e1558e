"""Scoring: one metric of predictions, the predictions a model makes for its metrics,
and every metric of a fitted model (conventions in :mod:`raymlops.training.metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.exceptions import NotFittedError

from raymlops.core.errors import InvalidInputError
from raymlops.training.metrics.declared import Metric, get_metric, resolve_metrics

__all__ = ["Predictions", "model_task", "predict_for", "score", "score_model"]


# ---------------------------------------------------------------------------- scoring


def _column(values: Any, what: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InvalidInputError(f"{what} has {values.shape[1]} columns: pass one column of values")
        arr = values.iloc[:, 0].to_numpy()
    else:
        arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidInputError(f"{what} has shape {arr.shape}: pass one value per row")
    if arr.dtype.kind in "OUST" and arr.dtype != object:
        arr = arr.astype(object)
    return arr


def _check_no_nulls(arr: np.ndarray, what: str) -> None:
    nulls = int(pd.isna(arr).sum())
    if nulls:
        raise InvalidInputError(f"{what} has {nulls} missing value(s): drop or fill those rows before scoring")


def _sorted_labels(values: np.ndarray, what: str) -> np.ndarray:
    try:
        labels = np.unique(values)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values.tolist()})
        raise InvalidInputError(
            f"{what} mixes label types ({', '.join(kinds)}) that cannot be sorted: use one type for class labels"
        ) from None
    return labels.astype(object) if labels.dtype.kind in "OUST" else labels


def score(
    metric: str | Metric,
    y_true: Any,
    y_pred: Any = None,
    proba: Any = None,
    classes: Sequence[Any] | np.ndarray | None = None,
) -> float:
    """One metric of predictions.

    Args:
        metric: a metric name or :class:`Metric`.
        y_true: the true labels or values, one per row.
        y_pred: predicted labels or values (metrics that do not need probabilities).
        proba: class probabilities, shape ``(rows, len(classes))`` with columns in
            ``classes`` order (metrics that need them). For two classes a 1-D array is the
            probability of the second class.
        classes: the sorted class labels (e.g. ``model.classes_``). Default: the sorted
            labels of ``y_true`` and ``y_pred``. Pass them whenever the rows may lack a
            class (a slice), so that binary/multiclass and the positive class stay fixed.

    Returns:
        The value, ``nan`` when it is undefined on these rows (see :mod:`raymlops.training.metrics`).

    Raises:
        InvalidInputError: missing predictions or probabilities, mismatched lengths or
            shapes, missing values, labels outside ``classes``, or no rows.

    Example:
        >>> score("roc_auc", [0, 0, 1, 1], proba=[0.1, 0.6, 0.4, 0.9])
        0.75
        >>> score("rmse", [1.0, 2.0], [1.0, 4.0])
        1.4142135623730951
    """
    m = get_metric(metric)
    yt = _column(y_true, "y_true")
    n = len(yt)
    if n == 0:
        raise InvalidInputError(f"no rows to compute {m.name} on: pass at least one row")
    _check_no_nulls(yt, "y_true")
    regression = "regression" in m.tasks
    yp = pr = None
    if m.needs_proba:
        if proba is None:
            raise InvalidInputError(f"{m.name} needs class probabilities: pass proba= (from predict_proba)")
        pr = np.asarray(proba, dtype=np.float64)
    else:
        if y_pred is None:
            raise InvalidInputError(f"{m.name} needs predictions: pass y_pred= (from predict)")
        yp = _column(y_pred, "y_pred")
        if len(yp) != n:
            raise InvalidInputError(f"y_pred has {len(yp)} rows but y_true has {n}: pass one prediction per row")
        _check_no_nulls(yp, "y_pred")
    if regression:
        try:
            yt = yt.astype(np.float64)
            yp = yp.astype(np.float64)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{m.name} is a regression metric: y_true and y_pred must be numbers") from None
        return m.fn(yt, yp, None, None)

    if classes is None:
        classes_arr = _sorted_labels(yt if yp is None else np.concatenate([yt, yp]), "y_true and y_pred")
    else:
        classes_arr = _column(classes, "classes")
    if pr is not None:
        if pr.ndim == 1:
            if len(classes_arr) != 2:
                raise InvalidInputError(
                    f"a 1-D proba is the probability of the second of two classes, but there are "
                    f"{len(classes_arr)} classes: pass proba with one column per class"
                )
            pr = np.column_stack([1.0 - pr, pr])
        if pr.ndim != 2 or pr.shape != (n, len(classes_arr)):
            raise InvalidInputError(
                f"proba has shape {pr.shape} but there are {n} rows and {len(classes_arr)} classes: pass one "
                "column per class, in the order of classes= (model.classes_)"
            )
    unknown = ~np.isin(yt, classes_arr)
    if unknown.any():
        raise InvalidInputError(
            f"y_true has labels {_sorted_labels(yt[unknown], 'y_true').tolist()!r} that are not among the "
            f"classes {classes_arr.tolist()!r}: drop those rows or retrain the model with them"
        )
    if yp is not None and (~np.isin(yp, classes_arr)).any():
        extra = _sorted_labels(yp[~np.isin(yp, classes_arr)], "y_pred").tolist()
        raise InvalidInputError(
            f"y_pred has labels {extra!r} that are not among the classes {classes_arr.tolist()!r}: pass the "
            "model's classes_ as classes="
        )
    return m.fn(yt, yp, pr, classes_arr)


# ---------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Predictions:
    """What a model predicted for some rows, as the metrics need it.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        y_pred: ``predict`` output, or ``None`` when no metric needs it.
        proba: ``predict_proba`` output (columns in ``classes`` order), or ``None``.
        classes: the model's sorted ``classes_`` (classification), else ``None``.
    """

    task: str
    y_pred: np.ndarray | None
    proba: np.ndarray | None
    classes: np.ndarray | None

    def score(self, metric: str | Metric, y_true: Any, rows: np.ndarray | None = None) -> float:
        """:func:`score` of these predictions, on all rows or on ``rows`` (an index array or mask)."""
        pick = (lambda a: a) if rows is None else (lambda a: None if a is None else a[rows])
        yt = _column(y_true, "y")
        return score(metric, pick(yt), pick(self.y_pred), pick(self.proba), self.classes)


def model_task(model: Any) -> str:
    """``"classification"`` or ``"regression"``: what a fitted estimator or Pipeline does.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> model_task(LogisticRegression())
        'classification'
    """
    try:
        if is_classifier(model):
            return "classification"
        if is_regressor(model):
            return "regression"
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator: decide by duck typing
        pass
    return "classification" if hasattr(model, "classes_") or hasattr(model, "predict_proba") else "regression"


def predict_for(model: Any, X: Any, metric_names: str | Metric | Sequence[str | Metric]) -> Predictions:
    """Call ``predict`` and/or ``predict_proba`` once each, as the metrics need.

    Args:
        model: a fitted estimator or Pipeline.
        X: the rows, in whatever form the model takes.
        metric_names: the metrics that will be computed.

    Returns:
        The predictions.

    Raises:
        InvalidInputError: a metric of another task, a probability metric for a model
            without ``predict_proba``, or an unfitted model.
    """
    metrics = resolve_metrics(metric_names)
    task = model_task(model)
    for m in metrics:
        get_metric(m, task=task)
    need_proba = any(m.needs_proba for m in metrics)
    need_pred = any(not m.needs_proba for m in metrics)
    if need_proba and not hasattr(model, "predict_proba"):
        names = [m.name for m in metrics if m.needs_proba]
        raise InvalidInputError(
            f"{type(model).__name__} has no predict_proba, which {', '.join(names)} need: drop those metrics "
            "or use a probabilistic classifier (e.g. wrap it in CalibratedClassifierCV)"
        )
    try:
        y_pred = _column(model.predict(X), "predict output") if need_pred else None
        proba = np.asarray(model.predict_proba(X), dtype=np.float64) if need_proba else None
    except NotFittedError:
        raise InvalidInputError(f"{type(model).__name__} is not fitted: fit it before evaluating") from None
    classes = None
    if task == "classification":
        raw = getattr(model, "classes_", None)
        if raw is None:
            raise InvalidInputError(
                f"{type(model).__name__} has no classes_: classification metrics need the model's sorted class labels"
            )
        classes = _column(raw, "classes_")
    return Predictions(task=task, y_pred=y_pred, proba=proba, classes=classes)


def score_model(model: Any, X: Any, y: Any, metric_names: str | Metric | Sequence[str | Metric]) -> dict[str, float]:
    """Every named metric of a fitted model on ``(X, y)``.

    Args:
        model: a fitted estimator or Pipeline (``predict``; ``predict_proba`` for
            ``roc_auc`` and ``log_loss``; ``classes_`` for a classifier).
        X: the rows.
        y: the true labels or values.
        metric_names: metric names (or one name).

    Returns:
        ``{metric: value}`` in the order given.

    Raises:
        InvalidInputError: see :func:`predict_for` and :func:`score`.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> X, y = [[0.0], [1.0], [2.0], [3.0]], ["no", "no", "yes", "yes"]
        >>> score_model(LogisticRegression().fit(X, y), X, y, ["accuracy", "roc_auc"])
        {'accuracy': 1.0, 'roc_auc': 1.0}
    """
    metrics = resolve_metrics(metric_names)
    preds = predict_for(model, X, metrics)
    yt = _column(y, "y")
    return {m.name: preds.score(m, yt) for m in metrics}
