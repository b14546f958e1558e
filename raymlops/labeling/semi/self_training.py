"""Self-training: fit on the labelled rows, add the unlabelled rows the model is sure of
(probability at least ``threshold``) as pseudo-labels, refit, until none is added.

The loop is scikit-learn's ``SelfTrainingClassifier`` with the pool scoring pulled out:
``score`` (a function of the fitted model and the rows still unlabelled) defaults to
``predict_proba`` in process, and the Ray shell passes one that scores the pool with
Ray Data ``map_batches``. Every pseudo-label keeps its round and confidence, so the
pseudo-labels are an artifact of their own, and the final model can weight them by
confidence (``sample_weight``).

The default model is the training package's default (HistGradientBoosting), with
string columns ordinal-encoded.

Example:
    >>> from sklearn.datasets import load_breast_cancer
    >>> import numpy as np, pandas as pd
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> lab = np.zeros(len(y), bool); lab[np.random.default_rng(0).choice(len(y), 30, replace=False)] = True
    >>> st = SelfTraining(threshold=0.95, max_iter=2).fit(X[lab], y[lab], X[~lab])
    >>> st.n_iter_ > 0 and len(st.pseudo_) > 100
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from raymlops.core.errors import InvalidInputError

__all__ = ["SelfTraining", "default_estimator"]


def default_estimator(X: pd.DataFrame, seed: int = 0) -> Pipeline:
    """HistGradientBoosting with string/categorical columns ordinal-encoded (NaN passes through).

    Leaves hold at least ``len(X) // 20`` rows (2 to 20), so a few dozen labels still grow trees.
    """
    cat = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])]
    num = [c for c in X.columns if c not in cat]
    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    pre = ColumnTransformer([("num", "passthrough", num), ("cat", enc, cat)], verbose_feature_names_out=False)
    mask = [False] * len(num) + [True] * len(cat)
    leaf = int(np.clip(len(X) // 20, 2, 20))  # the default 20 rows per leaf cannot split 30 labelled rows
    hgb = HistGradientBoostingClassifier(random_state=seed, min_samples_leaf=leaf, categorical_features=mask if cat else None)
    return Pipeline([("encode", pre), ("model", hgb)])


class SelfTraining(BaseEstimator):
    """Self-training around a classifier (see the module docstring).

    Args:
        estimator: an unfitted classifier with ``predict_proba`` (default: :func:`default_estimator`).
        threshold: the smallest probability that makes a pseudo-label.
        max_iter: the most rounds.
        weight_by_confidence: fit on pseudo-labels weighted by their confidence.
        seed: random seed of the default estimator.
    """

    def __init__(self, estimator: Any = None, *, threshold: float = 0.9, max_iter: int = 10, weight_by_confidence: bool = True, seed: int = 0):
        self.estimator = estimator
        self.threshold = threshold
        self.max_iter = max_iter
        self.weight_by_confidence = weight_by_confidence
        self.seed = seed

    def _fit_one(self, X: pd.DataFrame, y: pd.Series, w: np.ndarray) -> Any:
        est = clone(self.estimator) if self.estimator is not None else default_estimator(X, self.seed)
        last = est.steps[-1][0] if isinstance(est, Pipeline) else None
        kw = {f"{last}__sample_weight" if last else "sample_weight": w}
        return est.fit(X, y, **kw)

    def fit(
        self,
        X_labeled: pd.DataFrame,
        y_labeled: pd.Series,
        X_unlabeled: pd.DataFrame,
        *,
        score: Callable[[Any, pd.DataFrame], np.ndarray] | None = None,
    ) -> SelfTraining:
        """Run the rounds; ``score(model, rows)`` gives class probabilities of the unlabelled rows.

        Raises:
            InvalidInputError: fewer than two classes among the labelled rows; a bad threshold.
        """
        if not 0.0 < self.threshold <= 1.0:
            raise InvalidInputError(f"threshold {self.threshold}: use a probability in (0, 1]")
        y_labeled = pd.Series(y_labeled).reset_index(drop=True)
        if y_labeled.nunique() < 2:
            raise InvalidInputError(f"the labelled rows have {y_labeled.nunique()} class(es): self-training needs at least two")
        score = score or (lambda model, rows: model.predict_proba(rows))
        X_l = X_labeled.reset_index(drop=True)
        X_u = X_unlabeled.reset_index(drop=True)
        remaining = np.arange(len(X_u))
        pseudo_idx, pseudo_y, pseudo_conf, pseudo_round = [], [], [], []
        model = self._fit_one(X_l, y_labeled, np.ones(len(X_l)))
        self.history_ = []
        it = 0
        for it in range(1, self.max_iter + 1):
            if not len(remaining):
                break
            proba = np.asarray(score(model, X_u.iloc[remaining]))
            conf = proba.max(axis=1)
            take = conf >= self.threshold
            self.history_.append({"round": it, "scored": int(len(remaining)), "added": int(take.sum())})
            if not take.any():
                break
            classes = np.asarray(model.classes_)
            pseudo_idx.append(remaining[take])
            pseudo_y.append(classes[proba[take].argmax(axis=1)])
            pseudo_conf.append(conf[take])
            pseudo_round.append(np.full(int(take.sum()), it))
            remaining = remaining[~take]
            idx = np.concatenate(pseudo_idx)
            X = pd.concat([X_l, X_u.iloc[idx]], ignore_index=True)
            y = pd.concat([y_labeled, pd.Series(np.concatenate(pseudo_y), name=y_labeled.name)], ignore_index=True)
            w = np.concatenate([np.ones(len(X_l)), np.concatenate(pseudo_conf) if self.weight_by_confidence else np.ones(len(idx))])
            model = self._fit_one(X, y, w)
        self.estimator_ = model
        self.n_iter_ = it
        cat = (lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dtype=dt))
        self.pseudo_ = pd.DataFrame(
            {"row": cat(pseudo_idx, np.int64), "label": cat(pseudo_y, object), "confidence": cat(pseudo_conf, float), "round": cat(pseudo_round, np.int64)}
        )
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator_.predict(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator_.predict_proba(X)
