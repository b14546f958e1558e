"""Semi-supervised learning: self-training with a confidence threshold, and label
spreading on a sparse kNN graph that scales to millions of rows.
"""

from __future__ import annotations

from raymlops.labeling.semi.knn import KNNIndex
from raymlops.labeling.semi.label_spreading import KNNLabelSpreading
from raymlops.labeling.semi.self_training import SelfTraining, default_estimator

__all__ = ["KNNIndex", "KNNLabelSpreading", "SelfTraining", "default_estimator"]
