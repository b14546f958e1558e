"""Post-processing: a decision threshold per slice for a binary classifier's scores.

:class:`SliceThresholds` fits the thresholds on validation data (each slice's own best,
or thresholds that equalise a rate across slices through fairlearn's
``ThresholdOptimizer``); :class:`SliceThresholdModel` is a fitted classifier with them
applied, what a ``thresholds`` remediation registers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import py
from raymlops.training.remediate._inputs import as_binary, as_scores, as_vector

__all__ = ["SliceThresholdModel", "SliceThresholds", "slice_membership"]

_OBJECTIVES: Mapping[str, str] = {"accuracy": "accuracy_score", "balanced_accuracy": "balanced_accuracy_score"}
_CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
    "true_negative_rate_parity",
    "false_negative_rate_parity",
)


class _GivenScores(BaseEstimator):
    """A pass-through 'estimator' for fairlearn: its input is the score column itself."""

    def fit(self, X: Any, y: Any = None) -> _GivenScores:
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, 0]

    def __sklearn_is_fitted__(self) -> bool:
        return True


def _best_threshold(scores: np.ndarray, y: np.ndarray, objective: str) -> float:
    """The threshold (``score >= t`` → 1) maximising ``objective`` on one slice, exactly.

    Candidates are the midpoints between consecutive distinct scores plus one below the
    minimum and one above the maximum; every distinct prediction is reachable. Ties go
    to the lowest threshold.
    """
    u = np.unique(scores)
    cands = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2.0, [u[-1] + 1.0]])
    order = np.sort(scores)
    pos_sorted = np.sort(scores[y == 1])
    P, N = int(y.sum()), int(len(y) - y.sum())
    tp = P - np.searchsorted(pos_sorted, cands, side="left")
    predicted = len(order) - np.searchsorted(order, cands, side="left")
    fp = predicted - tp
    tn = N - fp
    if objective == "accuracy":
        value = (tp + tn) / len(y)
    else:
        tpr = tp / P if P else np.full(len(cands), np.nan)
        tnr = tn / N if N else np.full(len(cands), np.nan)
        value = np.nanmean(np.vstack([tpr, tnr]), axis=0)
    return float(cands[int(np.argmax(value))])


class SliceThresholds(BaseEstimator):
    """Per-slice decision thresholds for a binary classifier's scores (post-processing).

    Without a ``constraint``, each slice gets the threshold that maximises ``objective``
    on its own validation rows, found exactly by our own search over the slice's
    distinct scores: fairlearn's ``ThresholdOptimizer`` has no unconstrained mode (it
    always equalises a rate), and this case needs none of its machinery. With a
    ``constraint`` (``"demographic_parity"``, ``"equalized_odds"``,
    ``"true_positive_rate_parity"``, ``"false_positive_rate_parity"``, ...), the
    thresholds come from :class:`fairlearn.postprocessing.ThresholdOptimizer` (the
    project's library for this), which maximises ``objective`` subject to that rate
    being equal across slices (within ``tol`` when given). Its solution may randomise
    between two thresholds in a slice; ``random_state`` makes :meth:`predict`
    reproducible.

    Args:
        objective: ``"accuracy"`` or ``"balanced_accuracy"``.
        constraint: ``None`` or a fairlearn constraint name.
        tol: allowed spread of the constrained rate across slices (``None``: equal).
        grid_size: fairlearn's grid over the rate (constraint only).
        random_state: seed of fairlearn's randomised predictions (constraint only).

    Attributes:
        slices_: the slice labels seen in :meth:`fit`.
        thresholds_: slice → threshold (unconstrained only; predict ``score >= t``).
        optimizer_: the fitted ``ThresholdOptimizer`` (constraint only).

    Example:
        >>> scores = np.array([0.2, 0.4, 0.6, 0.8, 0.1, 0.2, 0.3, 0.4])
        >>> y = np.array([0, 0, 1, 1, 0, 1, 1, 1])
        >>> slices = np.array(["a"] * 4 + ["b"] * 4)
        >>> st = SliceThresholds().fit(scores, y, slices)
        >>> {k: round(v, 2) for k, v in st.thresholds_.items()}
        {'a': 0.5, 'b': 0.15}
        >>> st.predict(scores, slices).tolist()
        [0, 0, 1, 1, 0, 1, 1, 1]
    """

    def __init__(
        self,
        *,
        objective: Literal["accuracy", "balanced_accuracy"] = "accuracy",
        constraint: str | None = None,
        tol: float | None = None,
        grid_size: int = 1000,
        random_state: int = 0,
    ):
        self.objective = objective
        self.constraint = constraint
        self.tol = tol
        self.grid_size = grid_size
        self.random_state = random_state

    def fit(self, scores: Any, y: Any, slice_labels: Any) -> SliceThresholds:
        """Choose the thresholds on validation ``scores``, labels ``y`` (0/1) and slices.

        Raises:
            InvalidInputError: mismatched lengths, non-binary ``y``, non-finite scores,
                an unknown objective or constraint, or no rows.
        """
        if self.objective not in _OBJECTIVES:
            raise InvalidInputError(f"objective={self.objective!r}: use one of {sorted(_OBJECTIVES)}")
        if self.constraint is not None and self.constraint not in _CONSTRAINTS:
            raise InvalidInputError(f"constraint={self.constraint!r}: use None or one of {list(_CONSTRAINTS)}")
        s = as_scores(scores)
        if len(s) == 0:
            raise InvalidInputError("no rows to fit thresholds on")
        yy = as_binary(y, len(s))
        labels = as_vector(slice_labels, "slice_labels", len(s))
        if pd.isna(labels).any():
            raise InvalidInputError("slice_labels have missing values: give every row a slice")
        self.slices_ = pd.unique(labels)
        if self.constraint is None:
            self.thresholds_ = {
                py(v): _best_threshold(s[labels == v], yy[labels == v], self.objective) for v in self.slices_
            }
            return self
        self.optimizer_ = ThresholdOptimizer(
            estimator=_GivenScores(),
            constraints=self.constraint,
            objective=_OBJECTIVES[self.objective],
            grid_size=self.grid_size,
            prefit=True,
            predict_method="predict",
            tol=self.tol,
        ).fit(s.reshape(-1, 1), yy, sensitive_features=labels)
        return self

    def predict(self, scores: Any, slice_labels: Any) -> np.ndarray:
        """0/1 decisions for ``scores`` with each row's slice threshold.

        Raises:
            InvalidInputError: a slice not seen in :meth:`fit`, or bad inputs.
        """
        check_is_fitted(self, "slices_")
        s = as_scores(scores)
        labels = as_vector(slice_labels, "slice_labels", len(s))
        unknown = pd.unique(labels[~pd.Series(labels).isin(self.slices_).to_numpy()])
        if len(unknown):
            raise InvalidInputError(
                f"slice(s) {sorted(map(str, unknown))} were not in the validation data the thresholds were fitted "
                f"on ({sorted(map(str, self.slices_))}): refit with rows of every slice"
            )
        if self.constraint is None:
            thr = np.array([self.thresholds_[py(v)] for v in labels], dtype=np.float64)
            return (s >= thr).astype(np.int64)
        pred = self.optimizer_.predict(s.reshape(-1, 1), sensitive_features=labels, random_state=self.random_state)
        return np.asarray(pred, dtype=np.int64)


def slice_membership(X: pd.DataFrame, column: str, value: str) -> np.ndarray:
    """``"in"`` for the rows where ``column`` reads ``value`` (compared as text), else ``"out"``.

    Example:
        >>> slice_membership(pd.DataFrame({"color": ["red", "blue"], "n": [1, 2]}), "n", "2").tolist()
        ['out', 'in']
    """
    return np.where(X[column].astype(str).to_numpy() == value, "in", "out")


class SliceThresholdModel(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier with one decision threshold per slice (in and out).

    Args:
        model: the fitted classifier (``predict_proba``, ``classes_``).
        thresholds: fitted :class:`SliceThresholds` over the slice labels ``"in"``/``"out"``
            (see :func:`slice_membership`).
        column: the slice's column.
        value: the slice's value (compared as text).
    """

    def __init__(self, model: Any = None, thresholds: Any = None, column: str = "", value: str = ""):
        self.model = model
        self.thresholds = thresholds
        self.column = column
        self.value = value

    @property
    def classes_(self) -> np.ndarray:
        return self.model.classes_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        scores = self.model.predict_proba(X)[:, 1]
        positive = np.asarray(self.thresholds.predict(scores, slice_membership(X, self.column, self.value)), dtype=bool)
        return np.where(positive, self.classes_[1], self.classes_[0])
