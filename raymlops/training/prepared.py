"""Data ready for training: the data pipeline's splits of a dataset, its fitted feature
transform and their artifacts (the inputs every run of a training records).
:meth:`raymlops.training.train.Trainer.prepare` makes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from raymlops.metadata import Artifact

__all__ = ["SPLITS", "Prepared"]

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
    excluded: tuple[dict[str, str], ...] = ()  # the columns that are not features, with why

    def excluded_columns(self) -> list[dict[str, str]]:
        """``[{"column", "reason"}]``: the key, row ids, constants and timestamps left out."""
        return [dict(e) for e in self.excluded]

    def xy(self, split: str) -> tuple[pd.DataFrame, pd.Series]:
        """The features and the target of one split (excluded and ``__`` columns dropped)."""
        df = getattr(self, split)
        drop = [self.target, *self.exclude, *[c for c in df.columns if str(c).startswith("__")]]
        return df.drop(columns=drop), df[self.target]
