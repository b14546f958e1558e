"""Dataset artifacts: content hashes of files and folders, row counts and column types.

A folder of Parquet parts hashes to the sha256 of its sorted ``(relative path, file
sha256)`` list, so the same rows written as the same parts always get the same hash.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import Any

from raymlops.metadata import Artifact
from raymlops.registry.blobs import sha256_file

__all__ = ["sha256_path", "sha256_paths", "dataset_artifact", "files_of"]


def files_of(path: str) -> list[str]:
    """The data files of a file or folder (hidden and ``_`` files skipped), sorted."""
    if os.path.isfile(path):
        return [path]
    out = []
    for d, _, files in os.walk(path):
        out += [os.path.join(d, f) for f in files if not f.startswith((".", "_"))]
    return sorted(out)


def sha256_paths(paths: Iterable[str], root: str | None = None) -> str:
    """One digest for several files: sha256 of their sorted (relative name, sha256) lines."""
    h = hashlib.sha256()
    for p in sorted(paths):
        rel = os.path.relpath(p, root) if root else os.path.basename(p)
        h.update(f"{rel}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


def sha256_path(path: str) -> str:
    """sha256 of a file, or of a folder's files (see module docstring)."""
    if os.path.isfile(path):
        return sha256_file(path)
    return sha256_paths(files_of(path), root=path)


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
