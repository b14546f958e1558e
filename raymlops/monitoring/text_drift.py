"""Drift of a text column, as Evidently measures it: can a classifier tell the two sides apart?

A domain classifier (TF-IDF with ``sublinear_tf=True, max_df=0.5, stop_words="english"``,
then ``SGDClassifier(alpha=1e-4, max_iter=50, penalty="l1", loss="modified_huber",
random_state=42)``) is trained on half of the reference (label 0) and current (label 1)
rows, split with ``train_test_split(test_size=0.5, random_state=42, shuffle=True)`` in
that order, and scored by its ROC AUC on the other half: 0.5 when the sides look alike,
1.0 when every text gives its side away. Two verdicts, as in Evidently:

* absolute (:func:`text_drift_abs`): drift when the ROC AUC is above the threshold
  (default 0.55);
* percentile (:func:`text_drift_perc`): drift when the ROC AUC is above the
  ``threshold``-quantile (default 0.95) of the ROC AUCs of 1,000 random scorings of the
  same test labels (seeded as Evidently seeds them).

This needs the raw strings: no sketch can train a classifier, so sketch mode judges text
columns on their category counts instead (and says so). scikit-learn does the work; the
random generators are private ``RandomState`` objects seeded as Evidently seeds numpy's
global one, so the numbers are Evidently's and the process's global state is untouched.

Example:
    >>> ref = [f"order {i} shipped on time" for i in range(200)]
    >>> cur = [f"refund {i} requested after delay" for i in range(200)]
    >>> round(domain_classifier_auc(ref, cur), 3)
    0.995
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

__all__ = [
    "domain_classifier_auc",
    "random_auc_percentile",
    "text_drift_abs",
    "text_drift_perc",
    "text_split_labels",
]


def _split(reference: Sequence[str], current: Sequence[str]):
    texts = list(reference) + list(current)
    labels = np.r_[np.zeros(len(reference), dtype=np.int64), np.ones(len(current), dtype=np.int64)]
    return train_test_split(texts, labels, test_size=0.5, random_state=42, shuffle=True)


def text_split_labels(n_reference: int, n_current: int) -> np.ndarray:
    """The held-out labels of the split (they depend only on the two sizes)."""
    labels = np.r_[np.zeros(n_reference, dtype=np.int64), np.ones(n_current, dtype=np.int64)]
    return np.asarray(train_test_split(labels, test_size=0.5, random_state=42, shuffle=True)[1])


def _auc(reference: Sequence[str], current: Sequence[str]) -> tuple[float, np.ndarray]:
    x_train, x_test, y_train, y_test = _split(reference, current)
    pipeline = Pipeline(
        [
            ("vectorization", TfidfVectorizer(sublinear_tf=True, max_df=0.5, stop_words="english")),
            (
                "classification",
                SGDClassifier(alpha=0.0001, max_iter=50, penalty="l1", loss="modified_huber", random_state=42),
            ),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 50 iterations, as Evidently runs it
        pipeline.fit(x_train, y_train)
    return float(roc_auc_score(y_test, pipeline.predict_proba(x_test)[:, 1])), np.asarray(y_test)


def domain_classifier_auc(reference: Sequence[str], current: Sequence[str]) -> float:
    """ROC AUC of the domain classifier on the held-out half (module docstring)."""
    return _auc(reference, current)[0]


def random_auc_percentile(y_test: np.ndarray, level: float = 0.95, iters: int = 1000, seed: int = 42) -> float:
    """The ``level``-quantile of the ROC AUCs of ``iters`` random scorings of ``y_test`` (Evidently's)."""
    seeds = np.random.RandomState(seed).randint(0, iters * 10, size=iters)
    aucs = [roc_auc_score(y_test, np.random.RandomState(s).rand(len(y_test))) for s in seeds]
    return float(np.percentile(aucs, 100 * level))


def text_drift_abs(reference: Sequence[str], current: Sequence[str], threshold: float = 0.55) -> tuple[float, bool]:
    """The ROC AUC, and whether it is above ``threshold``."""
    auc = domain_classifier_auc(reference, current)
    return auc, auc > threshold


def text_drift_perc(reference: Sequence[str], current: Sequence[str], level: float = 0.95) -> tuple[float, bool]:
    """The ROC AUC, and whether it is above the ``level``-quantile of random classifiers' AUCs."""
    auc, y_test = _auc(reference, current)
    return auc, auc > random_auc_percentile(y_test, level)
