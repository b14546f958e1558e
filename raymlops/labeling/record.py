"""Lineage of the labeling steps: inputs and outputs as artifacts of one execution.

Every labeling output (aggregated labels, worker table, label matrix, weak labels,
Label Studio tasks, imported annotations, pseudo-labels) is a ``Dataset`` artifact with
its content sha256, row count and columns, the output of an execution whose inputs are
what it came from: the annotation file, the gold file, the labeling-function file (a
``Code`` artifact), the model (the registry's ``Model`` artifact). An input file that
was recorded before with the same content is reused, so lineage chains across steps.

Example:
    >>> import tempfile, os
    >>> from raymlops.metadata import MetadataStore
    >>> store = MetadataStore("sqlite://")
    >>> p = os.path.join(tempfile.mkdtemp(), "lfs.py")
    >>> _ = open(p, "w").write("x = 1\\n")
    >>> a = file_artifact(store, p, type="Code")
    >>> b = store.put_artifact(a)
    >>> file_artifact(store, p, type="Code").id == b.id
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from raymlops.data.artifacts import dataset_artifact
from raymlops.labeling.io import columns_of
from raymlops.metadata import Artifact, MetadataAPI

__all__ = ["file_artifact", "source_artifact", "output_artifact", "record_step"]


def file_artifact(store: MetadataAPI, path: str, *, type: str = "Dataset", name: str | None = None, **props: Any) -> Artifact:
    """The artifact of the file (or folder) at ``path``: the recorded one with the same content, or a new one."""
    art = dataset_artifact(path, type=type, name=name or os.path.basename(os.path.abspath(path).rstrip("/")), properties=props or None)
    same = [a for a in store.get_artifacts(type=type, uri=art.uri) if a.sha256 == art.sha256]
    return same[-1] if same else art


def source_artifact(store: MetadataAPI, source: Any, *, name: str | None = None, rows: int | None = None) -> Artifact:
    """The input artifact of a path, URI or DataFrame."""
    if isinstance(source, pd.DataFrame):
        return Artifact(type="Dataset", uri="pandas://DataFrame", name=name, properties={"rows": int(len(source)), "columns": columns_of(source)})
    text = os.fspath(source)
    if "://" in text and not text.startswith("file://"):
        return Artifact(type="Dataset", uri=text, name=name or text.rsplit("/", 1)[-1])
    path = text[len("file://") :] if text.startswith("file://") else text
    if os.path.exists(path):
        return file_artifact(store, path, name=name, **({"rows": int(rows)} if rows is not None else {}))
    return Artifact(type="Dataset", uri=text, name=name)


def output_artifact(path: str, *, name: str, df: pd.DataFrame | None = None, rows: int | None = None, **props: Any) -> Artifact:
    """A ``Dataset`` artifact for an output file, with its rows and columns."""
    return dataset_artifact(
        path,
        name=name,
        rows=len(df) if df is not None else rows,
        columns=columns_of(df) if df is not None else None,
        properties={"kind": name, **props},
    )


def record_step(
    store: MetadataAPI,
    type: str,
    *,
    inputs: Mapping[str, Artifact],
    outputs: Mapping[str, Artifact],
    properties: dict[str, Any] | None = None,
    name: str | None = None,
) -> dict[str, Artifact]:
    """One COMPLETE execution from ``inputs`` to ``outputs`` (by role); returns the stored outputs."""
    with store.run_execution(type, name=name, inputs=dict(inputs), properties=properties) as step:
        return {role: step.add_output(art, role=role) for role, art in outputs.items()}
