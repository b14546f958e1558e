"""Built-in steps: each wraps what raymlops already has, one file each.

A new built-in step (label aggregation from :mod:`raymlops.labeling`, say) is one file
here and one line in :data:`STEPS`; ``training_set`` is the point-in-time training set of
:mod:`raymlops.features`.
"""

from __future__ import annotations

from raymlops.pipelines.step import Step
from raymlops.pipelines.steps.evaluate import evaluate
from raymlops.pipelines.steps.features import features
from raymlops.pipelines.steps.ingest import ingest
from raymlops.pipelines.steps.labels import labels
from raymlops.pipelines.steps.merge import merge
from raymlops.pipelines.steps.push import push
from raymlops.pipelines.steps.split import split
from raymlops.pipelines.steps.train import train
from raymlops.pipelines.steps.training_set import training_set
from raymlops.pipelines.steps.validate import validate

__all__ = ["STEPS"]

STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        ingest,
        merge,
        labels,
        training_set,
        validate,
        split,
        features,
        train,
        evaluate,
        push,
    )
}
"""Every built-in step by name."""
