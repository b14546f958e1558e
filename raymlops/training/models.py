"""Estimators for training: the task, baselines, the default model, and the composite
model that carries the pipeline's fitted feature transform.

A registered model is a scikit-learn ``Pipeline`` of the feature transform fitted by the
data pipeline on the training split (kept as fitted, never refitted) and the estimator,
so serving applies exactly the transform that training saw.

Example:
    >>> import numpy as np, pandas as pd
    >>> detect_task(pd.Series(["a", "b", "a"])), detect_task(pd.Series(np.linspace(0, 1, 50)))
    ('classification', 'regression')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from raymlops.core.errors import InvalidInputError

__all__ = ["ESTIMATORS", "check_target", "compose", "detect_task", "fit_on_features", "make_estimator"]


def _dummy(classify: bool, params: dict[str, Any], seed: int) -> BaseEstimator:
    return DummyClassifier(strategy="prior") if classify else DummyRegressor(strategy="mean")


def _linear(classify: bool, params: dict[str, Any], seed: int) -> BaseEstimator:
    return LogisticRegression(max_iter=2000, **params) if classify else Ridge(**params)


def _hgb(classify: bool, params: dict[str, Any], seed: int) -> BaseEstimator:
    cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    return cls(random_state=seed, **params)


_BUILDERS: Mapping[str, Callable[[bool, dict[str, Any], int], BaseEstimator]] = {
    "dummy": _dummy,
    "linear": _linear,
    "hgb": _hgb,
}

ESTIMATORS = tuple(_BUILDERS)


def detect_task(y: pd.Series) -> str:
    """``classification`` for labels (strings, bools, few integers), else ``regression``."""
    if y.dtype == object or y.dtype.kind in "bOSU" or isinstance(y.dtype, pd.CategoricalDtype) or str(y.dtype) == "str":
        return "classification"
    if y.dtype.kind in "iu" and y.nunique() <= max(20, int(0.05 * len(y))):
        return "classification"
    if y.dtype.kind == "f" and y.nunique() <= 20 and np.allclose(y.dropna(), np.round(y.dropna())):
        return "classification"
    return "regression"


def check_target(y: pd.Series, target: str) -> None:
    """Refuse a target that cannot be learned (constant, all missing)."""
    if y.isna().all():
        raise InvalidInputError(f"target column {target!r} has no values: every row is missing")
    if y.nunique(dropna=True) < 2:
        raise InvalidInputError(
            f"target column {target!r} is constant ({y.dropna().iloc[0]!r}): there is nothing to learn; pick another target"
        )


def make_estimator(kind: str, task: str, params: dict[str, Any] | None = None, *, seed: int = 0) -> BaseEstimator:
    """An unfitted estimator: ``dummy``, ``linear`` (logistic / ridge) or ``hgb`` (HistGradientBoosting)."""
    build = _BUILDERS.get(kind)
    if build is None:
        raise InvalidInputError(f"unknown estimator {kind!r}: use one of {', '.join(ESTIMATORS)}")
    return build(task == "classification", dict(params or {}), seed)


def compose(transform: Any, estimator: BaseEstimator) -> Pipeline:
    """The registered model: the fitted feature transform, then the fitted estimator."""
    return Pipeline([("features", transform), ("model", estimator)])


def fit_on_features(transform: Any, estimator: BaseEstimator, X: pd.DataFrame, y: Any, sample_weight: Any = None) -> Pipeline:
    """Fit ``estimator`` on transformed features (rows weighted by ``sample_weight``); the transform stays as fitted."""
    est = clone(estimator)
    if sample_weight is None:
        est.fit(transform.transform(X), y)
    else:
        est.fit(transform.transform(X), y, sample_weight=np.asarray(sample_weight, dtype=float))
    return compose(transform, est)
