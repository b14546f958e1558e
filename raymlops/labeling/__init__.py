"""Labeling: crowd labels aggregated by annotator reliability (with SME gold), labeling
functions and a label model, active learning and semi-supervised learning.

The names here are the pure cores (numpy, scipy.sparse, scikit-learn; importing them
starts no Ray). The Ray shell is :mod:`raymlops.labeling.ray_ops`; the recorded steps
behind ``raymlops labels ...`` (read, compute, write, record lineage) are in
:mod:`raymlops.labeling.steps`.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"task": [1, 1, 1], "worker": ["a", "b", "c"], "label": ["x", "x", "y"]})
    >>> DawidSkene().fit(df).result().tasks["label"].tolist()
    ['x']
"""

from __future__ import annotations

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
