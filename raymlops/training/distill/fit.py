"""The distillation fit: replicated rows whose weighted log-loss is the distillation loss
(:func:`distillation_set`), and the student fitted on them (:func:`distill`) or, as the
baseline, on the hard labels only (:func:`train_hard`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from raymlops.core.errors import InvalidInputError
from raymlops.training.distill._checks import is_real
from raymlops.training.distill.soft_targets import soften, teacher_logits
from raymlops.training.distill.students import DistillationConfig, make_student

__all__ = ["distill", "distillation_set", "fit_weighted", "train_hard"]


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return np.asarray(X)[idx]


def distillation_set(
    X: Any,
    y: Any,
    soft: Any,
    *,
    alpha: float,
    temperature: float,
    classes: Sequence[Any],
    normalize: bool = False,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Replicated rows whose weighted log-loss is the distillation loss.

    Row ``i`` appears once per class ``c``, with label ``c`` and weight
    ``(1 − alpha) · t² · soft[i, c]``, plus ``alpha`` for ``c = y_i`` (its hard label: the
    hard row and the soft row of the same class are one row with the summed weight, which
    gives the same loss with ``n`` rows fewer). For any probabilistic model ``p``:

    .. code-block:: text

        Σ_rows w · (−log p(label | x))
            = Σᵢ [alpha · CE(onehot(yᵢ), p(xᵢ)) + (1 − alpha) t² · CE(soft_i, p(xᵢ))]

    and the weights sum to ``n · (alpha + (1 − alpha) t²)``, so scikit-learn's
    weighted-mean ``log_loss`` is that sum divided by it. Rows of weight exactly 0 are
    left out (they add nothing to the loss). With ``normalize``, weights are divided by
    ``alpha + (1 − alpha) t²`` (every row then weighs 1 in total).

    Args:
        X: ``(n, d)`` features (array or DataFrame; a DataFrame stays one, re-indexed).
        y: ``n`` hard labels, each in ``classes``.
        soft: ``(n, k)`` soft targets, e.g. from :func:`soften`, columns in ``classes`` order.
        alpha: hard-label weight in [0, 1].
        temperature: ``t`` > 0 (only the ``t²`` factor is used here).
        classes: the ``k`` class labels of the columns of ``soft`` (``teacher.classes_``).
        normalize: divide the weights by ``alpha + (1 − alpha) t²``.

    Returns:
        ``(X_rep, y_rep, sample_weight)``.

    Raises:
        InvalidInputError: mismatched lengths, labels not in ``classes``, soft targets
            that are not distributions, or ``alpha``/``temperature`` out of range.

    Example:
        >>> X = np.array([[0.0], [1.0]])
        >>> Xr, yr, w = distillation_set(X, ["a", "b"], [[0.9, 0.1], [0.2, 0.8]], alpha=0.5,
        ...                              temperature=2.0, classes=["a", "b"])
        >>> Xr.ravel().tolist(), yr.tolist(), w.round(2).tolist()
        ([0.0, 0.0, 1.0, 1.0], ['a', 'b', 'a', 'b'], [2.3, 0.2, 0.4, 2.1])
    """
    if not is_real(alpha) or not 0.0 <= alpha <= 1.0:
        raise InvalidInputError(f"alpha={alpha!r}: use a number in [0, 1]")
    if not is_real(temperature) or not math.isfinite(temperature) or temperature <= 0:
        raise InvalidInputError(f"temperature={temperature!r}: use a finite number > 0")
    classes_arr = np.asarray(classes)
    k = len(classes_arr)
    if k < 2 or len(pd.unique(classes_arr)) != k:
        raise InvalidInputError(f"classes={list(classes_arr)!r}: give at least 2 distinct class labels")
    q = np.asarray(soft, dtype=np.float64)
    n = len(X)
    if q.shape != (n, k):
        raise InvalidInputError(f"soft targets of shape {q.shape}: expected ({n}, {k}), one column per class")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or (n and np.max(np.abs(q.sum(axis=1) - 1.0)) > 1e-6):
        raise InvalidInputError("soft targets must be probability rows (>= 0, summing to 1): use soften()")
    y_arr = np.asarray(y)
    if y_arr.shape != (n,):
        raise InvalidInputError(f"y has shape {y_arr.shape}: expected ({n},), one label per row of X")
    codes = pd.Index(classes_arr).get_indexer(y_arr)
    if np.any(codes < 0):
        unknown = sorted({str(v) for v in y_arr[codes < 0]})
        raise InvalidInputError(f"label(s) {unknown} are not teacher classes {list(classes_arr)!r}")
    soft_scale = (1.0 - alpha) * float(temperature) ** 2
    # row-major (row, class) order; the hard row of i is merged into its (i, y_i) row
    weights = soft_scale * q
    weights[np.arange(n), codes] += float(alpha)
    if normalize:
        weights = weights / (alpha + soft_scale)
    rows, labels = np.nonzero(weights > 0)
    return _take(X, rows), classes_arr[labels], weights[rows, labels]


def fit_weighted(est: BaseEstimator, X: Any, y: Any, sample_weight: np.ndarray) -> BaseEstimator:
    """Fit ``est`` with ``sample_weight`` (for a pipeline, its last step's); returns it."""
    if isinstance(est, Pipeline):
        return est.fit(X, y, **{f"{est.steps[-1][0]}__sample_weight": sample_weight})
    return est.fit(X, y, sample_weight=sample_weight)


def _check_config(config: Any) -> DistillationConfig:
    if not isinstance(config, DistillationConfig):
        raise InvalidInputError(f"config must be a DistillationConfig, got {type(config).__name__}")
    return config


def distill(teacher: Any, X: Any, y: Any, config: DistillationConfig, *, seed: int = 0) -> BaseEstimator:
    """Fit the student of ``config`` on ``teacher``'s softened outputs and the hard labels.

    Args:
        teacher: a fitted classifier with ``classes_`` and ``decision_function`` or
            ``predict_proba`` (any scikit-learn-like model, e.g. a registered one).
        X: the training rows (the transfer set).
        y: their hard labels (classes of the teacher).
        config: temperature, alpha and the student.
        seed: the student's random seed.

    Returns:
        The fitted student (its ``classes_`` are the teacher's).

    Raises:
        InvalidInputError: see :func:`teacher_logits` and :func:`distillation_set`.
    """
    config = _check_config(config)
    classes = getattr(teacher, "classes_", None)
    if classes is None:
        raise InvalidInputError(f"teacher {type(teacher).__name__} has no classes_: pass a fitted classifier")
    soft = soften(teacher_logits(teacher, X, method=config.teacher_output), config.temperature)
    X_rep, y_rep, w = distillation_set(
        X,
        y,
        soft,
        alpha=config.alpha,
        temperature=config.temperature,
        classes=classes,
        normalize=config.normalize_weights,
    )
    return fit_weighted(make_student(config, seed=seed), X_rep, y_rep, w)


def train_hard(X: Any, y: Any, config: DistillationConfig, *, seed: int = 0) -> BaseEstimator:
    """The same student as :func:`distill` would fit, on the hard labels only (the baseline)."""
    return make_student(_check_config(config), seed=seed).fit(X, y)
