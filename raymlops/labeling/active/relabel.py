"""ActiveLab-style scores: which tasks (labelled or not) to send for one more label.

ActiveLab (Goh and Mueller, 2023; cleanlab's ``get_active_learning_scores``) mixes the
model and the annotators: a task's score is a weighted mean of the quality of its
consensus label and the 1/K of a guess, with weights (sum of its annotators' weights +
the model's weight) and (the mean annotator weight). Low scores go first. A task with
no label scores its model confidence against the same 1/K, weighted by the model's
weight and the mean annotator weight.

Here the consensus comes from our aggregator (Dawid-Skene with gold and SMEs) on the
long annotation table instead of cleanlab's dense tasks x annotators matrix:

- consensus quality: the posterior of the consensus label after multiplying in the
  model's probabilities (a product of experts, weighted by the model's weight);
- annotator weight: ``max(0, 1 - error / chance_error)`` from the worker's estimated
  accuracy (chance: 1 - 1/K), as CROWDLAB's ``1 - annotator error / baseline error``;
- model weight: the same from the model's agreement with the consensus on the tasks.

The unit test compares the ranking with cleanlab's own function on a small dense table.

Example:
    >>> import numpy as np
    >>> post = np.array([[0.99, 0.01], [0.6, 0.4]])     # aggregated posteriors
    >>> model = np.array([[0.9, 0.1], [0.5, 0.5]])
    >>> s = relabel_scores(post, model, annotator_weights=[[1.0, 1.0, 1.0], [1.0]], classes=2)
    >>> bool(s[1] < s[0])       # the contested task with one label needs another first
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["relabel_scores", "unlabeled_scores", "quality_weight"]


def quality_weight(accuracy: np.ndarray | float, classes: int) -> np.ndarray:
    """``max(0, 1 - (1 - accuracy) / (1 - 1/K))``: 1 for a perfect rater, 0 at chance."""
    chance_error = 1.0 - 1.0 / classes
    return np.maximum(0.0, 1.0 - (1.0 - np.asarray(accuracy, dtype=float)) / chance_error)


def relabel_scores(
    posteriors: np.ndarray,
    model_proba: np.ndarray,
    *,
    annotator_weights: Sequence[Sequence[float]] | Sequence[np.ndarray],
    classes: int,
    model_weight: float | None = None,
    mean_annotator_weight: float | None = None,
) -> np.ndarray:
    """Scores of labelled tasks (lower = relabel first).

    Args:
        posteriors: (n, K) aggregated class posteriors per task.
        model_proba: (n, K) the model's probabilities for the same tasks.
        annotator_weights: per task, the weights of the workers who labelled it.
        classes: K.
        model_weight: the model's weight (default: from its agreement with the consensus).
        mean_annotator_weight: default: the mean over all given weights.
    """
    consensus = posteriors.argmax(axis=1)
    if model_weight is None:
        model_weight = float(quality_weight((model_proba.argmax(axis=1) == consensus).mean(), classes))
    flat = np.concatenate([np.asarray(w, dtype=float) for w in annotator_weights]) if len(annotator_weights) else np.zeros(1)
    avg = float(flat.mean()) if mean_annotator_weight is None else mean_annotator_weight
    combined = np.log(np.clip(posteriors, 1e-12, 1)) + model_weight * np.log(np.clip(model_proba, 1e-12, 1))
    combined = np.exp(combined - combined.max(axis=1, keepdims=True))
    combined /= combined.sum(axis=1, keepdims=True)
    quality = combined[np.arange(len(consensus)), consensus]
    total = np.array([np.sum(w) for w in annotator_weights], dtype=float) + model_weight
    return (quality * total + avg / classes) / (total + avg)


def unlabeled_scores(model_proba: np.ndarray, *, model_weight: float, mean_annotator_weight: float) -> np.ndarray:
    """Scores of tasks with no label yet, comparable with :func:`relabel_scores`."""
    k = model_proba.shape[1]
    return (model_proba.max(axis=1) * model_weight + mean_annotator_weight / k) / (model_weight + mean_annotator_weight)
