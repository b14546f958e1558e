"""Training: baselines, sweeps on Ray Tune, evaluation per slice and blessing,
knowledge distillation and remediation.

Pure cores (``metrics``, ``evaluate``, ``slices``, ``distill``, ``remediate``,
``search_space``, ``models``) are unit-tested without Ray; ``tune`` is the Ray Tune
shell and ``train`` orchestrates a training run with tracking and the registry.
"""

from __future__ import annotations

from raymlops.training.evaluate import Blessing, ChangeThreshold, EvaluationResult, SliceSpec, Threshold, bless
from raymlops.training.metrics import METRICS, default_metric, get_metric, score_model
from raymlops.training.search_space import load_space, parse_space
from raymlops.training.slices import find_worst_slices
from raymlops.training.train import Trainer, TrainResult

__all__ = [
    "METRICS",
    "Blessing",
    "ChangeThreshold",
    "EvaluationResult",
    "SliceSpec",
    "Threshold",
    "TrainResult",
    "Trainer",
    "bless",
    "default_metric",
    "find_worst_slices",
    "get_metric",
    "load_space",
    "parse_space",
    "score_model",
]
