"""The data pipeline on Ray Data: sources, schema, validation with quarantine, profiles,
splits, label quality, augmentation, feature selection, all recorded with lineage.

The logic lives in pure modules (``schema``, ``validation``, ``sketch``, ``profile``,
``split``, ``label_quality``, ``augment``, ``features``), unit-tested without Ray;
``ray_ops`` streams Ray Datasets through them and ``pipeline`` records every step.
"""

from __future__ import annotations

from raymlops.data.ingest import SKLEARN_DATASETS, ingest_sklearn, load_sklearn_frame, record_file
from raymlops.data.pipeline import DataPipeline, PipelineResult
from raymlops.sketches import Profile
from raymlops.data.schema import Schema, infer_schema
from raymlops.sketches import CategoricalSketch, NumericSketch
from raymlops.data.sources import DataUnusableError, read_dataset, resolve_source
from raymlops.data.validation import ValidationReport, validate_batch

__all__ = [
    "SKLEARN_DATASETS",
    "CategoricalSketch",
    "DataPipeline",
    "DataUnusableError",
    "NumericSketch",
    "PipelineResult",
    "Profile",
    "Schema",
    "ValidationReport",
    "infer_schema",
    "ingest_sklearn",
    "load_sklearn_frame",
    "read_dataset",
    "record_file",
    "resolve_source",
    "validate_batch",
]
