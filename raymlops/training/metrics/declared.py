"""The declared metrics: their direction, what they need, and how to look one up.

Every decision that one model is "better" than another looks its metric up in
:data:`METRICS` and compares with :func:`is_better` (the conventions are in
:mod:`raymlops.training.metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from raymlops.core.errors import InvalidInputError

__all__ = [
    "METRICS",
    "TASKS",
    "Metric",
    "MetricFn",
    "default_metric",
    "get_metric",
    "is_better",
    "resolve_metrics",
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
        # undefined (0/0) is nan, not 0: a slice without positives has no F1 to report or gate on
        return float(sk(y_true, y_pred, zero_division=np.nan, **_averaging(classes)))

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


def resolve_metrics(metric_names: str | Metric | Sequence[str | Metric]) -> list[Metric]:
    """The declared metrics named, in order (one name or :class:`Metric` is a list of one).

    Raises:
        InvalidInputError: an unknown name, no name, or a name given twice.

    Example:
        >>> [m.name for m in resolve_metrics(["accuracy", "log_loss"])], resolve_metrics("rmse")[0].name
        (['accuracy', 'log_loss'], 'rmse')
    """
    if isinstance(metric_names, (str, Metric)):
        metric_names = [metric_names]
    metrics = [get_metric(n) for n in metric_names]
    if not metrics:
        raise InvalidInputError(f"no metrics given: name at least one ({_names_by_task()})")
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"metrics {names!r} repeat a name: list each metric once")
    return metrics
