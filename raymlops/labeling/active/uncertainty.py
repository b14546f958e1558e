"""Uncertainty scores of class probabilities: least confidence, margin, entropy.

Each score is higher for a row the model is less sure of, so the top-k rows are the
ones to label next.

Example:
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.55, 0.45], [0.5, 0.5]])
    >>> least_confidence(p).round(2).tolist(), margin(p).round(2).tolist(), entropy(p).round(3).tolist()
    ([0.1, 0.45, 0.5], [0.2, 0.9, 1.0], [0.325, 0.688, 0.693])
"""

from __future__ import annotations

import numpy as np

__all__ = ["least_confidence", "margin", "entropy"]


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """1 - the largest class probability."""
    return 1.0 - np.max(proba, axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """1 - (largest - second largest probability): 1 for a tie."""
    if proba.shape[1] < 2:
        return np.zeros(len(proba))
    top2 = -np.partition(-proba, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy of the class probabilities (nats)."""
    p = np.clip(proba, 1e-12, 1.0)
    return -(proba * np.log(p)).sum(axis=1)
