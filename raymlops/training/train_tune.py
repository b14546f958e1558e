"""The model sweep of a training run on Ray Tune: HistGradientBoosting's default search
space and its trainable, which grows the model in steps and reports the validation
metric after each (so ASHA can stop poor trials early). With sample weights in the
data (``w_train``) every trial fits with them, as the baselines do."""

from __future__ import annotations

from typing import Any

from raymlops.training.metrics import get_metric, score_model
from raymlops.training.models import make_estimator
from raymlops.training.tune import report

__all__ = ["HGB_ITERS_PER_STEP", "HGB_STEPS", "default_space", "hgb_trainable"]

HGB_STEPS = 8  # iterations reported per trial (ASHA rungs)
HGB_ITERS_PER_STEP = 25


def default_space() -> dict[str, Any]:
    """The default HistGradientBoosting search space."""
    return {
        "learning_rate": {"loguniform": [0.02, 0.3]},
        "max_leaf_nodes": {"randint": [8, 64]},
        "min_samples_leaf": {"randint": [5, 50]},
        "l2_regularization": {"uniform": [0.0, 1.0]},
    }


def hgb_trainable(config: dict[str, Any], *, data: dict[str, Any], task: str, metric: str) -> None:
    """A Tune trainable: HistGradientBoosting grown in steps, validation metric per step.

    ``data`` holds ``X_train``, ``y_train``, ``X_val``, ``y_val`` and optionally
    ``w_train`` (sample weights of the training rows, None for unweighted).
    """
    params = {k: v for k, v in config.items() if k != "seed"}
    est = make_estimator("hgb", task, {**params, "early_stopping": False, "warm_start": True}, seed=int(config.get("seed", 0)))
    m = get_metric(metric)
    for step in range(1, HGB_STEPS + 1):
        est.set_params(max_iter=step * HGB_ITERS_PER_STEP)
        est.fit(data["X_train"], data["y_train"], sample_weight=data.get("w_train"))
        value = score_model(est, data["X_val"], data["y_val"], [m.name])[m.name]
        report({m.name: value, "n_iter": int(est.n_iter_)}, model=est)
