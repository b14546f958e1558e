"""Labeling: crowd labels aggregated by annotator reliability (with SME gold), labeling
functions and a label model, active learning and semi-supervised learning.

The names here are the pure cores (numpy, scipy.sparse, scikit-learn; importing them
starts no Ray), each loaded from its module on first use, so a script that only
aggregates crowd labels imports the aggregation core alone. The Ray shell is :mod:`raymlops.labeling.ray_ops`; the recorded steps
behind ``raymlops labels ...`` (read, compute, write, record lineage) are in
:mod:`raymlops.labeling.steps`.

Example:
    >>> import pandas as pd
    >>> from raymlops.labeling import DawidSkene
    >>> df = pd.DataFrame({"task": [1, 1, 1], "worker": ["a", "b", "c"], "label": ["x", "x", "y"]})
    >>> DawidSkene().fit(df).result().tasks["label"].tolist()
    ['x']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from raymlops.labeling.active import STRATEGIES, diverse_batch, relabel_scores, select, unlabeled_scores
    from raymlops.labeling.aggregate import (
        METHODS,
        AggregateResult,
        Aggregator,
        DawidSkene,
        MajorityVote,
        Wawa,
        make_aggregator,
    )
    from raymlops.labeling.annotations import Annotations, Gold
    from raymlops.labeling.errors import AnnotationsError, GoldError, LabelingFunctionError, LabelStudioFormatError
    from raymlops.labeling.label_model import LabelModel, majority_vote
    from raymlops.labeling.label_studio import labeling_config, parse_export, read_export, tasks_json
    from raymlops.labeling.lf_analysis import lf_summary
    from raymlops.labeling.lf_matrix import LabelMatrix, apply_lfs
    from raymlops.labeling.lfs import ABSTAIN, LabelingFunction, LFSet, labeling_function, lfs_from_source, load_lfs
    from raymlops.labeling.semi import KNNLabelSpreading, SelfTraining


__all__ = [
    "ABSTAIN",
    "METHODS",
    "STRATEGIES",
    "AggregateResult",
    "Aggregator",
    "Annotations",
    "AnnotationsError",
    "DawidSkene",
    "Gold",
    "GoldError",
    "KNNLabelSpreading",
    "LFSet",
    "LabelMatrix",
    "LabelModel",
    "LabelStudioFormatError",
    "LabelingFunction",
    "LabelingFunctionError",
    "MajorityVote",
    "SelfTraining",
    "Wawa",
    "apply_lfs",
    "diverse_batch",
    "labeling_config",
    "labeling_function",
    "lf_summary",
    "lfs_from_source",
    "load_lfs",
    "majority_vote",
    "make_aggregator",
    "parse_export",
    "read_export",
    "relabel_scores",
    "select",
    "tasks_json",
    "unlabeled_scores",
]

# Each name is imported from its module on first use, so `from raymlops.labeling import
# DawidSkene` loads the aggregation core alone, not the semi-supervised and active-learning
# cores (scikit-learn's neighbours and boosting) it does not need.
_LAZY = {
    "ABSTAIN": "raymlops.labeling.lfs",
    "AggregateResult": "raymlops.labeling.aggregate",
    "Aggregator": "raymlops.labeling.aggregate",
    "Annotations": "raymlops.labeling.annotations",
    "AnnotationsError": "raymlops.labeling.errors",
    "DawidSkene": "raymlops.labeling.aggregate",
    "Gold": "raymlops.labeling.annotations",
    "GoldError": "raymlops.labeling.errors",
    "KNNLabelSpreading": "raymlops.labeling.semi",
    "LFSet": "raymlops.labeling.lfs",
    "LabelMatrix": "raymlops.labeling.lf_matrix",
    "LabelModel": "raymlops.labeling.label_model",
    "LabelStudioFormatError": "raymlops.labeling.errors",
    "LabelingFunction": "raymlops.labeling.lfs",
    "LabelingFunctionError": "raymlops.labeling.errors",
    "METHODS": "raymlops.labeling.aggregate",
    "MajorityVote": "raymlops.labeling.aggregate",
    "STRATEGIES": "raymlops.labeling.active",
    "SelfTraining": "raymlops.labeling.semi",
    "Wawa": "raymlops.labeling.aggregate",
    "apply_lfs": "raymlops.labeling.lf_matrix",
    "diverse_batch": "raymlops.labeling.active",
    "labeling_config": "raymlops.labeling.label_studio",
    "labeling_function": "raymlops.labeling.lfs",
    "lf_summary": "raymlops.labeling.lf_analysis",
    "lfs_from_source": "raymlops.labeling.lfs",
    "load_lfs": "raymlops.labeling.lfs",
    "majority_vote": "raymlops.labeling.label_model",
    "make_aggregator": "raymlops.labeling.aggregate",
    "parse_export": "raymlops.labeling.label_studio",
    "read_export": "raymlops.labeling.label_studio",
    "relabel_scores": "raymlops.labeling.active",
    "select": "raymlops.labeling.active",
    "tasks_json": "raymlops.labeling.label_studio",
    "unlabeled_scores": "raymlops.labeling.active",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first used (see ``_LAZY``)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'raymlops.labeling' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
