"""Data: rebalance one slice's classes with SMOTE rows made from that slice's own rows
(:func:`raymlops.data.augment.smote`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.data.augment import AUGMENTED_COLUMN, Augmented, smote

__all__ = ["augment_slice"]


def augment_slice(
    df: pd.DataFrame,
    *,
    target: Hashable,
    slice_mask: Any,
    ratio: float = 1.0,
    k_neighbors: int = 5,
    numeric: Sequence[Hashable] | None = None,
    seed: int = 0,
) -> Augmented:
    """Rebalance the classes of one slice with SMOTE rows made from that slice only.

    :func:`raymlops.data.augment.smote` runs on the rows where ``slice_mask`` is True:
    every class of the slice ends with at least ``ceil(ratio × n_max)`` rows, ``n_max``
    being the slice's largest class, and each synthetic row interpolates between two
    rows of the slice (same class). Non-numeric columns are copied from the base row, so
    a slice defined by a category stays in it; a slice defined by an interval of a
    numeric column does too (the interpolation stays between two of its rows).

    Args:
        df: all rows.
        target: the class column.
        slice_mask: one boolean per row of ``df`` (array or Series in ``df``'s order).
        ratio: as in :func:`~raymlops.data.augment.smote`, within the slice.
        k_neighbors: as in :func:`~raymlops.data.augment.smote`.
        numeric: the columns to interpolate (default: every numeric feature column).
        seed: the random seed.

    Returns:
        ``(frame, added)``: every row of ``df`` unchanged, then the new rows;
        ``__augmented`` marks the new ones, ``added`` counts them per class of the slice.

    Raises:
        InvalidInputError: a mask of the wrong length or type, an empty slice, or
            anything :func:`~raymlops.data.augment.smote` rejects.

    Example:
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 8.0, 9.0], "g": list("aaabbbbb"),
        ...                    "y": [0, 0, 1, 0, 0, 0, 1, 1]})
        >>> out, added = augment_slice(df, target="y", slice_mask=df["g"] == "b", seed=0)
        >>> added, out[out["__augmented"]]["g"].tolist()
        ({0: 0, 1: 1}, ['b'])
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"expected a pandas DataFrame, got {type(df).__name__}")
    mask = slice_mask.to_numpy() if isinstance(slice_mask, pd.Series) else np.asarray(slice_mask)
    if mask.shape != (len(df),):
        raise InvalidInputError(f"slice_mask has shape {mask.shape}: pass one boolean per row ({len(df)} rows)")
    if mask.dtype != bool:
        raise InvalidInputError(f"slice_mask has dtype {mask.dtype}: pass booleans (e.g. df['city'] == 'x')")
    if not mask.any():
        raise InvalidInputError("slice_mask selects no rows: the slice to augment is empty")
    frame, added = smote(df[mask], target=target, ratio=ratio, k_neighbors=k_neighbors, numeric=numeric, seed=seed)
    new = frame.iloc[int(mask.sum()) :]  # smote returns the slice's rows, then the new ones
    originals = df.copy()
    if AUGMENTED_COLUMN not in originals.columns:
        originals[AUGMENTED_COLUMN] = False
    out = pd.concat([originals, new], ignore_index=True)
    out[AUGMENTED_COLUMN] = out[AUGMENTED_COLUMN].astype(bool)
    return Augmented(out, added)
