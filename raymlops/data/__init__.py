"""The data pipeline: sources, schema, validation with quarantine, profiles, splits, lineage."""

from __future__ import annotations

from raymlops.data.ingest import SKLEARN_DATASETS, ingest_sklearn, record_file

__all__ = ["SKLEARN_DATASETS", "ingest_sklearn", "record_file"]
