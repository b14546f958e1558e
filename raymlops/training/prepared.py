"""Data ready for training: the data pipeline's splits of a dataset, its fitted feature
transform and their artifacts (the inputs every run of a training records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from raymlops.artifacts import BlobStore, loads_model
from raymlops.core.config import Settings
from raymlops.data import DataPipeline, Schema
from raymlops.metadata import Artifact, MetadataAPI

__all__ = ["SPLITS", "Prepared", "prepare"]

SPLITS = ("train", "validation", "test")


@dataclass
class Prepared:
    """Data ready for training: the splits, the fitted transform and their artifacts."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    transform: Any
    task: str
    target: str
    artifacts: dict[str, Artifact]
    exclude: tuple[str, ...] = ()

    def xy(self, split: str) -> tuple[pd.DataFrame, pd.Series]:
        """The features and the target of one split (keys and ``__`` columns dropped)."""
        df = getattr(self, split)
        drop = [self.target, *self.exclude, *[c for c in df.columns if str(c).startswith("__")]]
        return df.drop(columns=drop), df[self.target]


def prepare(
    data: Any,
    *,
    settings: Settings,
    store: MetadataAPI,
    blobs: BlobStore,
    target: str,
    key: str | list[str] | None = None,
    schema_path: str | None = None,
    seed: int = 0,
    run_name: str | None = None,
) -> Prepared:
    """Run the data pipeline (no label-quality pass) and load its splits.

    Args:
        data: the dataset (anything :class:`~raymlops.data.DataPipeline` reads).
        settings: raymlops settings.
        store: the metadata store the pipeline records into.
        blobs: the blob store that holds the fitted feature transform.
        target: the column to predict.
        key: key column(s) of the data (kept out of the features).
        schema_path: validate against this schema (a reference); inferred from the
            data when omitted.
        seed: the split's seed.
        run_name: the pipeline run's name.
    """
    pipe = DataPipeline(settings, store=store, run_name=run_name)
    res = pipe.run(data, target=target, key=key, schema_path=schema_path, label_quality=False, seed=seed)
    frames = {s: pipe.load(res.artifacts[f"split_{s}"]) for s in SPLITS}
    t = res.artifacts["transform"]
    transform = loads_model(blobs.get(t.sha256, what="feature transform"))
    keys = tuple(Schema.load(res.artifacts["schema"].uri[len("file://") :]).key or ())
    return Prepared(
        train=frames["train"],
        validation=frames["validation"],
        test=frames["test"],
        transform=transform,
        task=res.features["task"],
        target=target,
        artifacts=res.artifacts,
        exclude=keys,
    )
