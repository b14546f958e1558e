"""What a retrieval or a materialization reads: the files, columns and types of each view.

Pure: resolves paths and reads file schemas (no rows, no Ray). The Ray shell
(:mod:`raymlops.features.ray_ops`) turns a :class:`ViewSpec` into a dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from raymlops.core import coltypes
from raymlops.data.sources import resolve_source
from raymlops.features.definitions import column_name
from raymlops.features.partition import canonical_key_type
from raymlops.features.repo import Repository
from raymlops.features.times import NAT

__all__ = ["FileSet", "ViewSpec", "Window", "file_schema", "files_of", "view_specs"]


@dataclass(frozen=True)
class FileSet:
    """Resolved data files (sorted: file order is the last tie-break) and their format."""

    uri: str
    format: str
    paths: tuple[str, ...]
    filesystem: Any = None

    @property
    def bytes(self) -> int:
        if self.filesystem is not None:
            return sum(self.filesystem.get_file_info(p).size or 0 for p in self.paths)
        return sum(os.path.getsize(p) for p in self.paths)


@dataclass
class ViewSpec:
    """One feature view as the shell reads it.

    Attributes:
        name: the view.
        files: its source's files.
        join_keys: key columns and their canonical Arrow types.
        timestamp_field, created_column: the source's time columns.
        features: ``{source column: (output column, Arrow type)}`` for the features asked.
        ttl: seconds, None for no limit.
    """

    name: str
    files: FileSet
    join_keys: dict[str, pa.DataType]
    timestamp_field: str
    created_column: str | None
    features: dict[str, tuple[str, pa.DataType]] = field(default_factory=dict)
    ttl: int | None = None

    @property
    def key_names(self) -> list[str]:
        return list(self.join_keys)


@dataclass(frozen=True)
class Window:
    """Rows to keep, on event time ``ts`` and created time ``c`` (µs; None = unbounded):
    ``start <= ts <= end`` and, when a ``since`` bound is set, ``ts > since_event or c > since_created``."""

    start: int | None = None
    end: int | None = None
    since_event: int | None = None
    since_created: int | None = None

    def mask(self, ts: np.ndarray, created: np.ndarray | None) -> np.ndarray:
        keep = ts != NAT
        if self.start is not None:
            keep &= ts >= self.start
        if self.end is not None:
            keep &= ts <= self.end
        if self.since_event is not None or self.since_created is not None:
            recent = ts > self.since_event if self.since_event is not None else np.zeros(len(ts), bool)
            if self.since_created is not None and created is not None:
                recent |= created > self.since_created
            keep &= recent
        return keep


def files_of(uri: str) -> FileSet:
    """The files behind a path, folder, glob or URI (raises DataUnusableError if none)."""
    src = resolve_source(uri)
    return FileSet(uri=uri, format=src.format or "parquet", paths=tuple(src.paths), filesystem=src.filesystem)


def file_schema(files: FileSet) -> pa.Schema:
    """The first file's schema (Parquet footer, or the types of a CSV file's first block)."""
    first = files.paths[0]
    if files.format == "parquet":
        if files.filesystem is not None:
            with files.filesystem.open_input_file(first) as f:
                return pq.read_schema(f)
        return pq.read_schema(first)
    stream = files.filesystem.open_input_stream(first) if files.filesystem is not None else pa.input_stream(first)
    with stream:
        reader = csv.open_csv(stream, read_options=csv.ReadOptions(block_size=1 << 20))
        return reader.schema


def view_specs(repo: Repository, selection: dict[str, list[str]]) -> list[ViewSpec]:
    """A :class:`ViewSpec` per selected view, with key types read from the source files."""
    out = []
    for view_name, features in selection.items():
        view = repo.view(view_name)
        source = repo.source(view.source)
        files = files_of(repo.source_path(source.name))
        schema = file_schema(files)
        keys = {}
        for k in repo.join_keys(view_name):
            t = schema.field(k).type if k in schema.names else pa.int64()
            keys[k] = canonical_key_type(t, what=f"join key {k!r} of source {source.name!r}")
        feats = {f: (column_name(view_name, f), coltypes.to_arrow(view.feature(f).dtype)) for f in features}
        out.append(
            ViewSpec(
                name=view_name,
                files=files,
                join_keys=keys,
                timestamp_field=source.timestamp_field,
                created_column=source.created_timestamp_column,
                features=feats,
                ttl=view.ttl_seconds,
            )
        )
    return out
