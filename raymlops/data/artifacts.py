"""Dataset artifacts: the content hash of a file or folder, row counts and column types.

There is one way data is hashed: :func:`raymlops.artifacts.sha256_path` (a single file
is its own sha256, a folder the listing of its files' hashes). The pipeline's ingest and
every step that writes a dataset (:func:`dataset_artifact`) use it, so a file a step
wrote and the same file read back by ``raymlops train`` are one artifact and lineage
continues through it.

Example:
    >>> import os, tempfile
    >>> from raymlops.artifacts import sha256_file
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(p, "w").write("x")
    >>> source_sha256([p], p) == dataset_artifact(p).sha256 == sha256_file(p)
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from raymlops.artifacts import files_of, sha256_path, sha256_paths
from raymlops.metadata import Artifact

__all__ = ["dataset_artifact", "source_sha256"]


def source_sha256(paths: Sequence[str], uri: str) -> str:
    """The content hash of the data files ``paths`` read from ``uri``.

    When they are the whole file or folder at ``uri`` this is ``sha256_path(uri)``, the
    hash :func:`dataset_artifact` records; a subset (a glob, a format filter) hashes as
    the listing of those files relative to ``uri``.
    """
    if sorted(paths) == files_of(uri):
        return sha256_path(uri)
    return sha256_paths(paths, root=uri)


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
