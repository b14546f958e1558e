"""The data pipeline on Ray Data: sources, schema, validation with quarantine, profiles,
splits, label quality, augmentation, feature selection, all recorded with lineage.

The logic lives in pure modules, unit-tested without Ray: :mod:`~raymlops.data.schema`
(the schema, its JSON file, inference), :mod:`~raymlops.data.validation` (row checks,
quarantine reasons, duplicate keys), :mod:`~raymlops.data.split`,
:mod:`~raymlops.data.label_quality`, :mod:`~raymlops.data.augment` and
:mod:`~raymlops.data.features`; statistics are the profiles of :mod:`raymlops.sketches`.
:mod:`~raymlops.data.sources` and :mod:`~raymlops.data.files` say what the data is and
read its files. The Ray Data shell is :mod:`~raymlops.data.ray_read` (files as a
Dataset) and :mod:`~raymlops.data.ray_ops` (the passes: infer, validate, profile, split);
:mod:`~raymlops.data.pipeline` records every step in the metadata store.

Example:
    >>> import pyarrow as pa
    >>> schema = infer_schema(pa.table({"x": [1, 2, 3]}))
    >>> validate_batch(pa.table({"x": [2, 9]}), schema).report.to_dict()["rows_quarantined"]
    1
"""

from __future__ import annotations

from raymlops.data.errors import DataUnusableError
from raymlops.data.ingest import SKLEARN_DATASETS, ingest_sklearn, load_sklearn_frame, record_file
from raymlops.data.pipeline import DataPipeline, PipelineResult
from raymlops.data.schema import ColumnSchema, Schema, SchemaBuilder, infer_schema
from raymlops.data.sources import read_dataset, resolve_source
from raymlops.data.validation import BatchResult, KeyTracker, SchemaMismatchError, ValidationReport, validate_batch
from raymlops.sketches import CategoricalSketch, NumericSketch, Profile

__all__ = [
    "SKLEARN_DATASETS",
    "BatchResult",
    "CategoricalSketch",
    "ColumnSchema",
    "DataPipeline",
    "DataUnusableError",
    "KeyTracker",
    "NumericSketch",
    "PipelineResult",
    "Profile",
    "Schema",
    "SchemaBuilder",
    "SchemaMismatchError",
    "ValidationReport",
    "infer_schema",
    "ingest_sklearn",
    "load_sklearn_frame",
    "read_dataset",
    "record_file",
    "resolve_source",
    "validate_batch",
]
