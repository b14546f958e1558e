"""The declared business metrics: the one place that says how a model is scored.

Everything that decides whether one model is "better" than another (a Tune sweep picking
its best trial, the blessing of a candidate against the champion, a rollout gate) looks
its metric up in :data:`METRICS` and compares with :func:`is_better`, so the direction of
a metric (higher or lower is better) is declared once.

Conventions (all computed with :mod:`sklearn.metrics`):

- Class labels can be any sortable values (strings, integers, booleans). ``classes`` is
  the sorted list of labels; for a fitted estimator it is ``model.classes_``, which
  scikit-learn already keeps sorted. The columns of ``proba`` follow ``classes``.
- Binary problems (exactly two classes): ``f1``, ``precision`` and ``recall`` are those
  of the positive class, which is the **second class in sorted order** (``1`` of
  ``0/1``, ``True`` of ``False/True``, ``"yes"`` of ``"no"/"yes"``); ``roc_auc`` ranks
  by the probability of that class.
- Multiclass problems: ``f1``, ``precision`` and ``recall`` are **macro** averages (the
  unweighted mean over the labels present in ``y_true`` or ``y_pred``, scikit-learn's
  default), ``roc_auc`` is the one-vs-rest macro average.
- An undefined precision, recall or F1 (no predicted, or no true, positives) is 0, the
  value scikit-learn uses, without its warning.
- A metric that cannot be computed on the rows given is ``nan``, never an error: ROC AUC
  of rows with a single class, R² of a single row. In a multiclass ROC AUC, classes
  that are absent from (or the only class of) the rows are left out of the average;
  with every class present this is exactly scikit-learn's
  ``roc_auc_score(..., multi_class="ovr", average="macro")``. (This matters for slices
  of the evaluation data, see :mod:`raymlops.training.evaluate`.)

Example:
    >>> score("f1", ["no", "yes", "yes", "no"], ["no", "yes", "no", "no"])
    0.6666666666666666
    >>> m = get_metric("log_loss")
    >>> m.greater_is_better, m.needs_proba
    (False, True)
    >>> is_better("rmse", 0.9, 1.0), is_better("accuracy", 0.9, 1.0)
    (True, False)
    >>> default_metric("regression")
    'rmse'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from raymlops.core.errors import InvalidInputError

__all__ = [
    "METRICS",
    "TASKS",
    "Metric",
    "Predictions",
    "default_metric",
    "get_metric",
    "is_better",
    "model_task",
    "predict_for",
    "score",
    "score_model",
]

TASKS = ("classification", "regression")

MetricFn = Callable[[np.ndarray, "np.ndarray | None", "np.ndarray | None", "np.ndarray | None"], float]


@dataclass(frozen=True)
class Metric:
    """A declared metric.

    Attributes:
        name: registry name, e.g. ``"accuracy"``.
        greater_is_better: the direction in which a model is better.
        needs_proba: computed from class probabilities (``predict_proba``) rather than
            from predicted labels or values.
        tasks: the tasks it applies to, a subset of :data:`TASKS`.
        fn: ``fn(y_true, y_pred, proba, classes) -> float`` on validated numpy arrays;
            call it through :func:`score`, which validates and converts the inputs.
    """

    name: str
    greater_is_better: bool
    needs_proba: bool
    tasks: tuple[str, ...]
    fn: MetricFn

    def __repr__(self) -> str:
        direction = "higher" if self.greater_is_better else "lower"
        return f"Metric({self.name!r}, {direction} is better, tasks={self.tasks})"


# ---------------------------------------------------------------------------- metric functions


def _averaging(classes: np.ndarray) -> dict[str, Any]:
    if len(classes) == 2:
        return {"average": "binary", "pos_label": classes[1]}
    return {"average": "macro"}


def _accuracy(y_true, y_pred, proba, classes) -> float:
    return float(skm.accuracy_score(y_true, y_pred))


def _balanced_accuracy(y_true, y_pred, proba, classes) -> float:
    # adjusted=False; classes absent from y_true are ignored by scikit-learn (it warns
    # when y_pred has labels y_true lacks, so count the recall of the true classes here)
    present = np.unique(y_true)
    recalls = [float(np.mean(y_pred[y_true == c] == c)) for c in present]
    return float(np.mean(recalls))


def _prf(kind: str) -> MetricFn:
    sk = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[kind]

    def fn(y_true, y_pred, proba, classes) -> float:
        return float(sk(y_true, y_pred, zero_division=0.0, **_averaging(classes)))

    fn.__name__ = f"_{kind}"
    return fn


def _roc_auc(y_true, y_pred, proba, classes) -> float:
    if len(classes) == 2:
        positive = y_true == classes[1]
        if positive.all() or not positive.any():
            return math.nan
        return float(skm.roc_auc_score(positive, proba[:, 1]))
    aucs = []
    for j, c in enumerate(classes):
        positive = y_true == c
        if positive.any() and not positive.all():
            aucs.append(float(skm.roc_auc_score(positive, proba[:, j])))
    return float(np.mean(aucs)) if aucs else math.nan


def _log_loss(y_true, y_pred, proba, classes) -> float:
    return float(skm.log_loss(y_true, proba, labels=list(classes)))


def _rmse(y_true, y_pred, proba, classes) -> float:
    return float(skm.root_mean_squared_error(y_true, y_pred))


def _mae(y_true, y_pred, proba, classes) -> float:
    return float(skm.mean_absolute_error(y_true, y_pred))


def _r2(y_true, y_pred, proba, classes) -> float:
    if len(y_true) < 2:
        return math.nan
    return float(skm.r2_score(y_true, y_pred))


_C = ("classification",)
_R = ("regression",)

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", True, False, _C, _accuracy),
        Metric("balanced_accuracy", True, False, _C, _balanced_accuracy),
        Metric("f1", True, False, _C, _prf("f1")),
        Metric("precision", True, False, _C, _prf("precision")),
        Metric("recall", True, False, _C, _prf("recall")),
        Metric("roc_auc", True, True, _C, _roc_auc),
        Metric("log_loss", False, True, _C, _log_loss),
        Metric("rmse", False, False, _R, _rmse),
        Metric("mae", False, False, _R, _mae),
        Metric("r2", True, False, _R, _r2),
    )
}
"""Every declared metric by name."""

_DEFAULTS = {"classification": "accuracy", "regression": "rmse"}


# ---------------------------------------------------------------------------- lookup


def _names_by_task() -> str:
    parts = []
    for task in TASKS:
        names = [n for n, m in METRICS.items() if task in m.tasks]
        parts.append(f"{task}: {', '.join(names)}")
    return "; ".join(parts)


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise InvalidInputError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    return task


def get_metric(name: str | Metric, *, task: str | None = None) -> Metric:
    """The declared metric called ``name``.

    Args:
        name: a key of :data:`METRICS` (a :class:`Metric` is returned as is).
        task: when given, the metric must apply to this task.

    Returns:
        The metric.

    Raises:
        InvalidInputError: an unknown name (the message lists the valid names per task),
            or a metric of another task.

    Example:
        >>> get_metric("rmse", task="regression")
        Metric('rmse', lower is better, tasks=('regression',))
    """
    metric = name if isinstance(name, Metric) else METRICS.get(name) if isinstance(name, str) else None
    if metric is None:
        raise InvalidInputError(f"unknown metric {name!r}; valid metrics by task: {_names_by_task()}")
    if task is not None and _check_task(task) not in metric.tasks:
        valid = ", ".join(n for n, m in METRICS.items() if task in m.tasks)
        raise InvalidInputError(
            f"metric {metric.name!r} applies to {' and '.join(metric.tasks)}, not {task}; "
            f"use one of the {task} metrics: {valid}"
        )
    return metric


def default_metric(task: str) -> str:
    """The metric used when none is declared: ``"accuracy"`` or ``"rmse"``.

    Raises:
        InvalidInputError: an unknown task.
    """
    return _DEFAULTS[_check_task(task)]


def is_better(metric: str | Metric, candidate: float, reference: float | None, min_delta: float = 0.0) -> bool:
    """Whether ``candidate`` beats ``reference`` by more than ``min_delta`` in the metric's direction.

    Strict: an equal value is not better. A ``nan`` candidate is never better; a
    missing (``None`` or ``nan``) reference is beaten by any candidate that is not
    ``nan`` (the first model has nothing to beat).

    Args:
        metric: a metric name or :class:`Metric`.
        candidate: the new value.
        reference: the value to beat.
        min_delta: the margin to beat it by (>= 0), in the metric's units.

    Returns:
        ``candidate > reference + min_delta`` when higher is better,
        ``candidate < reference - min_delta`` when lower is better.

    Raises:
        InvalidInputError: an unknown metric or a negative ``min_delta``.

    Example:
        >>> is_better("accuracy", 0.91, 0.90, min_delta=0.02), is_better("log_loss", 0.30, 0.35)
        (False, True)
    """
    m = get_metric(metric)
    if not min_delta >= 0:
        raise InvalidInputError(f"min_delta is {min_delta!r}: use a margin >= 0 in the metric's units")
    c = float(candidate)
    if math.isnan(c):
        return False
    if reference is None or math.isnan(float(reference)):
        return True
    r = float(reference)
    return c > r + min_delta if m.greater_is_better else c < r - min_delta


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
        The value, ``nan`` when it is undefined on these rows (see the module docstring).

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
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(model):
            return "classification"
        if is_regressor(model):
            return "regression"
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator: decide by duck typing
        pass
    return "classification" if hasattr(model, "classes_") or hasattr(model, "predict_proba") else "regression"


def _resolve(metric_names: str | Metric | Sequence[str | Metric]) -> list[Metric]:
    if isinstance(metric_names, (str, Metric)):
        metric_names = [metric_names]
    metrics = [get_metric(n) for n in metric_names]
    if not metrics:
        raise InvalidInputError(f"no metrics given: name at least one ({_names_by_task()})")
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"metrics {names!r} repeat a name: list each metric once")
    return metrics


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
    from sklearn.exceptions import NotFittedError

    metrics = _resolve(metric_names)
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
    metrics = _resolve(metric_names)
    preds = predict_for(model, X, metrics)
    yt = _column(y, "y")
    return {m.name: preds.score(m, yt) for m in metrics}
