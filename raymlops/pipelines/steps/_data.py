"""Helpers the built-in data steps share (private to :mod:`raymlops.pipelines.steps`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any

import pandas as pd

from raymlops.artifacts import files_of
from raymlops.core.errors import InvalidInputError
from raymlops.data.pipeline import DataPipeline
from raymlops.data.schema import Schema
from raymlops.metadata import Artifact, MetadataStore
from raymlops.pipelines.step import ArtifactRef, StepContext

SCHEMA_FILE = "schema.json"


def scratch_pipeline(ctx: StepContext, work: str) -> DataPipeline:
    """A :class:`DataPipeline` writing under ``work``; its own per-call records go to a scratch
    store (the pipeline step is the execution that counts, with its inputs and outputs)."""
    return DataPipeline(ctx.settings, store=MetadataStore("sqlite://"), run_name=ctx.run_id, out_dir=work)


def as_artifact(ref: ArtifactRef, **properties: Any) -> Artifact:
    """An input folder as the Dataset artifact DataPipeline methods take (scratch: no id)."""
    return Artifact(type="Dataset", uri=f"file://{ref.path}", sha256=ref.sha256, name=ref.name, properties={"format": "parquet", **properties})


def read_frame(ref: ArtifactRef | str) -> pd.DataFrame:
    files = [f for f in files_of(os.fspath(ref)) if f.endswith(".parquet")]
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def move_into(src: str, dest: str) -> None:
    """Move the contents of folder ``src`` into folder ``dest``."""
    os.makedirs(dest, exist_ok=True)
    if os.path.isfile(src):
        shutil.move(src, os.path.join(dest, os.path.basename(src)))
        return
    for name in os.listdir(src):
        shutil.move(os.path.join(src, name), os.path.join(dest, name))


def task_of(schema: Schema, target: str) -> str:
    has_classes = schema.label is not None and schema.label.classes is not None
    return "classification" if has_classes or schema.column(target).type != "float" else "regression"


def excluded(schema: Schema, target: str, keep: Sequence[str] = ()) -> list[dict[str, str]]:
    """The columns that are data but not features, with why (the key, row ids, constants,
    raw timestamps: the schema's), less those ``keep`` makes features, as the Trainer has them.

    Raises:
        InvalidInputError: a kept column is not in the data, or no feature is left.
    """
    unknown = [c for c in keep if c not in schema.names]
    if unknown:
        raise InvalidInputError(f"cannot keep {unknown}: not columns of the data ({', '.join(schema.names)})")
    out = [{"column": c, "reason": why} for c, why in schema.not_features().items() if c not in keep and c != target]
    if len(out) >= len([c for c in schema.names if c != target]):
        raise InvalidInputError(f"no feature columns left besides {target!r}: keep one as a feature with the keep parameter")
    return out
