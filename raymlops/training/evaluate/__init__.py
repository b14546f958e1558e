"""Evaluation per slice, thresholds and the blessing verdict (TFX Evaluator / TFMA style).

:func:`evaluate` scores a fitted model overall and on slices of the evaluation data;
:func:`bless` checks the result against :class:`Threshold` and :class:`ChangeThreshold`
definitions, comparing with the current champion (the *baseline*), and returns a
:class:`Blessing` whose verdict gates registration and rollout.

Slices (:class:`SliceSpec`):

- a column, one slice per value: ``SliceSpec(column="color")`` → ``color=red``, ...;
  missing values form the slice ``color is null``. With neither ``buckets`` nor
  ``edges``, a numeric column with more than 20 distinct values is cut into 4 quantile
  buckets instead (so ``--slice age`` on a continuous column stays readable);
- a numeric column in buckets: ``SliceSpec(column="age", buckets=4)`` takes the
  0, 1/4, ..., 1 quantiles of the evaluation data as edges (numpy's linear
  interpolation; repeated edges merge, so a skewed column may get fewer buckets), or
  ``SliceSpec(column="age", edges=[0, 30, 60, math.inf])`` uses given edges. Buckets
  are half-open ``[lo, hi)`` except the last, which is closed ``[lo, hi]`` when ``hi``
  is finite (the quantile buckets end at the maximum). Values outside explicit edges go
  to ``age=(-inf, 0)`` / ``age=(60, inf)``;
- crosses: ``SliceSpec(column="color", cross=SliceSpec(column="age", buckets=4))`` →
  ``color=red & age=[30, 45)``; only combinations that have rows are slices.

The overall slice is named ``*``. Slice names depend only on the data's values, so a
candidate and its baseline evaluated on the same data have the same slice names (change
thresholds compare slices by name). Empty buckets are not slices.

The modules, one concept each: :mod:`~raymlops.training.evaluate.binning` (cutting a
column, naming a slice), :mod:`~raymlops.training.evaluate.spec` (:class:`SliceSpec`),
:mod:`~raymlops.training.evaluate.result` (:func:`evaluate`, :class:`EvaluationResult`),
:mod:`~raymlops.training.evaluate.thresholds` and
:mod:`~raymlops.training.evaluate.blessing` (:class:`Check`, :class:`Blessing`,
:func:`bless`).

Example:
    >>> import numpy as np, pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "color": list("rrrbbb")})
    >>> y = np.array([0, 0, 1, 1, 1, 0])
    >>> model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X[["x"]], y)
    >>> result = evaluate(model, X[["x"]], y, metrics=["accuracy"], slices=["color"], slice_data=X)
    >>> result.by_slice
    {'*': {'accuracy': 0.8333333333333334}, 'color=b': {'accuracy': 0.6666666666666666}, 'color=r': {'accuracy': 1.0}}
    >>> blessing = bless(result, None, [Threshold(metric="accuracy", lower=0.8, slices="all")])
    >>> blessing.verdict
    'NOT_BLESSED'
    >>> print(blessing.failed[0].message)
    accuracy on slice color=b is 0.6667, below the lower bound 0.8
"""

from __future__ import annotations

from raymlops.training.evaluate.binning import AUTO_BUCKETS, AUTO_MAX_VALUES, OVERALL, bin_column, slice_name
from raymlops.training.evaluate.blessing import BLESSED, NOT_BLESSED, Blessing, Check, bless
from raymlops.training.evaluate.result import EvaluationResult, evaluate, evaluate_predictions
from raymlops.training.evaluate.spec import SliceSpec, as_slice_spec
from raymlops.training.evaluate.thresholds import ChangeThreshold, Threshold, threshold_from_dict

__all__ = [
    "AUTO_BUCKETS",
    "AUTO_MAX_VALUES",
    "BLESSED",
    "NOT_BLESSED",
    "OVERALL",
    "Blessing",
    "ChangeThreshold",
    "Check",
    "EvaluationResult",
    "SliceSpec",
    "Threshold",
    "as_slice_spec",
    "bin_column",
    "bless",
    "evaluate",
    "evaluate_predictions",
    "slice_name",
    "threshold_from_dict",
]
