"""Bringing data in: scikit-learn's bundled datasets and local files, recorded as artifacts.

The bundled datasets themselves are in :mod:`~raymlops.data.bundled` (re-exported here).
Every ingest is an ``Ingest`` execution from the source (an ``ExternalSource``
artifact) to a ``Dataset`` artifact with its content sha256, row count and columns,
so a model's lineage reaches the raw data. Ingesting the same bytes again reuses the
recorded artifact and marks the execution CACHED.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from raymlops.artifacts import sha256_file
from raymlops.core import coltypes
from raymlops.core.config import Settings
from raymlops.data.bundled import SKLEARN_DATASETS, load_sklearn_frame
from raymlops.metadata import Artifact, Execution, MetadataAPI, connect

__all__ = ["SKLEARN_DATASETS", "ingest_sklearn", "load_sklearn_frame", "record_file"]


def _source(store: MetadataAPI, uri: str) -> Artifact:
    found = store.get_artifacts(type="ExternalSource", uri=uri, limit=1)
    return found[0] if found else Artifact(type="ExternalSource", uri=uri)


def record_file(
    path: str | os.PathLike[str],
    *,
    store: MetadataAPI,
    source_uri: str | None = None,
    rows: int | None = None,
    columns: list[dict[str, Any]] | None = None,
    name: str | None = None,
) -> Artifact:
    """Record a data file as a ``Dataset`` artifact produced by an ``Ingest`` execution."""
    path = os.path.abspath(path)
    uri = f"file://{path}"
    sha = sha256_file(path)
    same = [a for a in store.get_artifacts(type="Dataset", uri=uri) if a.sha256 == sha]
    src = _source(store, source_uri or uri)
    if same:
        store.put_execution(Execution(type="Ingest", name=name, state="CACHED"), inputs=[src], outputs=[same[-1]])
        return same[-1]
    props: dict[str, Any] = {"format": Path(path).suffix.lstrip(".") or "unknown"}
    if rows is not None:
        props["rows"] = int(rows)
    if columns is not None:
        props["columns"] = columns
    ds = Artifact(type="Dataset", uri=uri, sha256=sha, name=name, properties=props)
    store.put_execution(Execution(type="Ingest", name=name, state="COMPLETE"), inputs=[src], outputs=[ds])
    return ds


def ingest_sklearn(name: str, *, settings: Settings | None = None, store: MetadataAPI | None = None) -> Artifact:
    """Write a bundled scikit-learn dataset to CSV under ``home/datasets`` and record it."""
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    df = load_sklearn_frame(name)
    out = settings.ensure_home() / "datasets" / f"{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    cols = [{"name": c, "type": coltypes.from_pandas(df[c].dtype)} for c in df.columns]
    return record_file(out, store=store, source_uri=f"sklearn://load_{name}", rows=len(df), columns=cols, name=name)
