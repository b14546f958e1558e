"""Training: baselines, sweeps on Ray Tune, evaluation and blessing, distillation."""

from __future__ import annotations

from raymlops.training.baseline import train_baseline

__all__ = ["train_baseline"]
