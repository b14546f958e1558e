"""Data ready for training: the data pipeline's splits of a dataset, its fitted feature
transform and their artifacts (the inputs every run of a training records).
:meth:`raymlops.training.train.Trainer.prepare` makes it.

A sample-weight column (probabilistic labels: the confidence of aggregated or weak
labels) travels with the splits but is never a feature: :meth:`Prepared.xy` drops it and
:meth:`Prepared.weights` returns it, checked by :func:`check_weights`.

Example:
    >>> df = pd.DataFrame({"x": [1.0, 2.0], "w": [0.5, 1.0], "y": [0, 1]})
    >>> prep = Prepared(train=df, validation=df, test=df, transform=None, task="classification",
    ...                 target="y", artifacts={}, weight="w")
    >>> list(prep.xy("train")[0].columns), prep.weights("train").tolist()
    (['x'], [0.5, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import py
from raymlops.metadata import Artifact

__all__ = ["SPLITS", "WEIGHT_REASON", "Prepared", "check_weights"]

SPLITS = ("train", "validation", "test")
WEIGHT_REASON = "the sample weight (--weight-col)"  # why a weight column is listed as excluded


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
    weight: str | None = None  # the sample-weight column (never a feature)

    def excluded_columns(self) -> list[dict[str, str]]:
        """``[{"column", "reason"}]``: the key, row ids, constants, timestamps and the weight left out."""
        return [dict(e) for e in self.excluded]

    def xy(self, split: str) -> tuple[pd.DataFrame, pd.Series]:
        """The features and the target of one split (excluded, weight and ``__`` columns dropped)."""
        df = getattr(self, split)
        weight = [self.weight] if self.weight and self.weight not in self.exclude else []
        drop = [self.target, *self.exclude, *weight, *[c for c in df.columns if str(c).startswith("__")]]
        return df.drop(columns=drop), df[self.target]

    def weights(self, split: str) -> np.ndarray | None:
        """The sample weights of ``split`` as floats (None without a weight column)."""
        if self.weight is None:
            return None
        return getattr(self, split)[self.weight].to_numpy(dtype=float)


def check_weights(df: pd.DataFrame, col: str) -> None:
    """Sample weights must be there, numbers, not negative and not empty.

    Raises:
        InvalidInputError: naming the first bad row and its value.
    """
    if col not in df.columns:
        raise InvalidInputError(f"weight column {col!r} is not in the data; columns: {', '.join(map(str, df.columns))}")
    w = pd.to_numeric(df[col], errors="coerce")
    bad = w.isna() | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        v = df[col].iloc[i]
        v = None if pd.isna(v) else py(v)
        raise InvalidInputError(f"weight column {col!r} row {i}: {v!r} is not a non-negative number; fix or drop the row")
