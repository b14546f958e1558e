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
- An undefined precision, recall or F1 (0/0: no predicted positives for precision, no
  true positives for recall, neither for F1) is ``nan``, shown as ``n/a``, not the 0
  scikit-learn uses by default: a slice without positives has no F1, and a gate cannot
  judge it (``zero_division=np.nan``; in a macro average the undefined classes are left
  out). A model that predicts positives where there are none has precision and F1 0.
- A metric that cannot be computed on the rows given is ``nan``, never an error: ROC AUC
  of rows with a single class, R² of a single row. In a multiclass ROC AUC, classes
  that are absent from (or the only class of) the rows are left out of the average;
  with every class present this is exactly scikit-learn's
  ``roc_auc_score(..., multi_class="ovr", average="macro")``. (This matters for slices
  of the evaluation data, see :mod:`raymlops.training.evaluate`.)

The declarations and the lookup are in :mod:`~raymlops.training.metrics.declared`, the
scoring of predictions and models in :mod:`~raymlops.training.metrics.scoring`.

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

from raymlops.training.metrics.declared import (
    METRICS,
    TASKS,
    Metric,
    default_metric,
    get_metric,
    is_better,
    resolve_metrics,
)
from raymlops.training.metrics.scoring import Predictions, model_task, predict_for, score, score_model

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
    "resolve_metrics",
    "score",
    "score_model",
]
