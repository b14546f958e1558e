"""Active learning: which rows of a pool to label next, and which labelled tasks to relabel.

``STRATEGIES`` maps the CLI's ``--strategy`` names to scoring functions over class
probabilities (higher = label first); ``diverse`` also needs the pool's features. A new
strategy is a new file and one line here.

Example:
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3]])
    >>> select(p, k=2, strategy="margin")[0].tolist()
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.labeling.active.diverse import diverse_batch
from raymlops.labeling.active.relabel import quality_weight, relabel_scores, unlabeled_scores
from raymlops.labeling.active.uncertainty import entropy, least_confidence, margin

__all__ = [
    "STRATEGIES",
    "diverse_batch",
    "entropy",
    "least_confidence",
    "margin",
    "quality_weight",
    "relabel_scores",
    "select",
    "unlabeled_scores",
]


def _random(proba: np.ndarray, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(len(proba))


STRATEGIES: dict[str, Callable[..., np.ndarray] | None] = {
    "least-confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
    "random": _random,
    "diverse": None,  # needs features: diverse_batch
}


def select(proba: np.ndarray, *, k: int, strategy: str = "margin", X: np.ndarray | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows to label next and their scores (margin uncertainty for ``diverse``).

    Raises:
        InvalidInputError: an unknown strategy; ``diverse`` without features.
    """
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    k = max(0, min(int(k), len(proba)))
    if strategy == "diverse":
        if X is None:
            raise InvalidInputError("the diverse strategy needs the pool's numeric features")
        idx = diverse_batch(proba, X, k=k, seed=seed)
        return idx, margin(proba[idx])
    fn = STRATEGIES[strategy]
    scores = fn(proba, seed) if strategy == "random" else fn(proba)  # type: ignore[misc]
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    idx = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx, scores[idx]
