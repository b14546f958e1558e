"""Dataset artifacts: the content hash of a file or folder, row counts and column types."""

from __future__ import annotations

import os
from typing import Any

from raymlops.artifacts import sha256_path
from raymlops.metadata import Artifact

__all__ = ["dataset_artifact"]


def dataset_artifact(
    path: str,
    *,
    type: str = "Dataset",
    name: str | None = None,
    rows: int | None = None,
    columns: list[dict[str, Any]] | None = None,
    properties: dict[str, Any] | None = None,
) -> Artifact:
    """An artifact for data at ``path`` with its content hash, rows and columns."""
    path = os.path.abspath(path)
    props: dict[str, Any] = {"format": "parquet" if path.endswith((".parquet", "/")) or os.path.isdir(path) else os.path.splitext(path)[1].lstrip(".")}
    if rows is not None:
        props["rows"] = int(rows)
    if columns is not None:
        props["columns"] = columns
    props.update(properties or {})
    return Artifact(type=type, uri=f"file://{path}", sha256=sha256_path(path), name=name, properties=props)
