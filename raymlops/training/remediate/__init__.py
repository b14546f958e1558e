"""Remediation when a slice underperforms: thresholds per slice, MinDiff, slice augmentation.

Three remedies, one per stage of the model, each judged by :func:`compare` on the gap
between the best and the worst slice and on the overall metric, before and after:

- **Post-processing** — :class:`SliceThresholds` gives a binary classifier's scores a
  decision threshold per slice, fitted on validation data: each slice's own best
  threshold for the objective, or (with a ``constraint``) thresholds that equalise a
  rate across slices, through fairlearn's ``ThresholdOptimizer``. No retraining.
- **In-processing** — :class:`MinDiffLogisticRegression` retrains with the MinDiff
  penalty (Prost, Qian, Chen, Chi, Beutel, *Toward a better trade-off between
  performance and fairness with kernel-based distribution matching*, 2019; TensorFlow
  Model Remediation's ``MinDiffModel``): the squared maximum mean discrepancy
  :func:`mmd2_biased` between the score distributions of the two slices is added to the
  loss, so the model learns scores that do not tell the slices apart.
- **Data** — :func:`augment_slice` adds SMOTE rows (:func:`raymlops.data.augment.smote`)
  made only from the slice's own rows.

The modules: :mod:`~raymlops.training.remediate.slice_thresholds`,
:mod:`~raymlops.training.remediate.mindiff`,
:mod:`~raymlops.training.remediate.augmentation` and
:mod:`~raymlops.training.remediate.comparison`. The tracked run that applies a remedy to a
registered model is :mod:`raymlops.training.remediation_run`.

Example:
    >>> before = {"overall": 0.90, "slices": {"a": 0.93, "b": 0.80}}
    >>> after = {"overall": 0.89, "slices": {"a": 0.91, "b": 0.86}}
    >>> result = compare(before, after)
    >>> {k: {w: round(v, 2) for w, v in result[k].items()} for k in ("slice_gap", "overall")}
    {'slice_gap': {'before': 0.13, 'after': 0.05}, 'overall': {'before': 0.9, 'after': 0.89}}
"""

from __future__ import annotations

from raymlops.training.remediate.augmentation import augment_slice
from raymlops.training.remediate.comparison import compare, slice_metrics
from raymlops.training.remediate.mindiff import MinDiffLogisticRegression, mmd2_and_grad, mmd2_biased
from raymlops.training.remediate.slice_thresholds import SliceThresholdModel, SliceThresholds, slice_membership

__all__ = [
    "MinDiffLogisticRegression",
    "SliceThresholdModel",
    "SliceThresholds",
    "augment_slice",
    "compare",
    "mmd2_and_grad",
    "mmd2_biased",
    "slice_membership",
    "slice_metrics",
]
