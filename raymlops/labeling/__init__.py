"""Labeling: crowd labels aggregated by annotator reliability (with SME gold), labeling
functions and a label model, active learning and semi-supervised learning.

Pure cores (numpy, scipy.sparse, scikit-learn) with the Ray shell in ``ray_ops``; the
``steps`` modules read inputs, run a core, write Parquet/JSON outputs and record each
output as an artifact with lineage to what it came from.
"""

from __future__ import annotations

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

__all__ = [
    "METHODS",
    "AggregateResult",
    "Aggregator",
    "Annotations",
    "AnnotationsError",
    "DawidSkene",
    "Gold",
    "GoldError",
    "LabelStudioFormatError",
    "LabelingFunctionError",
    "MajorityVote",
    "Wawa",
    "make_aggregator",
]
