"""Training: baselines, sweeps on Ray Tune, evaluation per slice and blessing,
knowledge distillation and remediation.

The pure core, unit-tested without Ray (none of it imports Ray):

- ``metrics``: the declared business metrics and scoring;
- ``evaluate``: slice specs, evaluation per slice, thresholds, checks and the blessing verdict;
- ``slices``: SliceLine, the automatic search for the worst slices;
- ``distill``: students, soft targets, the distillation fit, Pareto front and choice;
- ``remediate``: per-slice thresholds, MinDiff, slice augmentation, before/after comparison;
- ``search_space`` (the grammar of sweep spaces) and ``models`` (estimators, the
  composite model).

The orchestration and the Ray shell:

- ``train``: :class:`Trainer`, the orchestrator of a training run, with ``prepared``
  (the data pipeline's splits), ``registration`` (a version with its drift reference
  profile) and ``evaluation_run`` (the recorded evaluation and blessing;
  :func:`blessing_of` reads it back);
- ``tune``: the Ray Tune shell (tracked trials, ``run_sweep``, Tune's param spaces);
  ``train_tune`` and ``distill_tune``: the training and distillation sweeps;
- ``remediation_run``: the recorded remediation of a registered model.

Example:
    >>> get_metric("log_loss").greater_is_better, default_metric("classification")
    (False, 'accuracy')
"""

from __future__ import annotations

from raymlops.training.evaluate import Blessing, ChangeThreshold, EvaluationResult, SliceSpec, Threshold, bless
from raymlops.training.evaluation_run import BlessingRecord, blessing_of
from raymlops.training.metrics import METRICS, default_metric, get_metric, score_model
from raymlops.training.slices import find_worst_slices
from raymlops.training.train import Trainer, TrainResult
from raymlops.training.tune import load_space, parse_space

__all__ = [
    "METRICS",
    "Blessing",
    "BlessingRecord",
    "ChangeThreshold",
    "EvaluationResult",
    "SliceSpec",
    "Threshold",
    "TrainResult",
    "Trainer",
    "bless",
    "blessing_of",
    "default_metric",
    "find_worst_slices",
    "get_metric",
    "load_space",
    "parse_space",
    "score_model",
]
