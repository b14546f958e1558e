"""Tabular augmentation: SMOTE-style class rebalancing and numeric jitter.

:func:`smote` adds synthetic rows to every class smaller than ``ratio`` times the largest
one. Each synthetic row starts from a random row of the class (its *base*) and moves a
random fraction of the way towards one of the base's ``k`` nearest neighbours of the same
class, in the numeric columns; every other column (categoricals, the target) is copied
from the base row. :func:`jitter` adds copies of rows with Gaussian noise on numeric
columns, scaled by each column's standard deviation times ``factor``.

Both return the original rows unchanged, followed by the new rows; a boolean column
``__augmented`` marks the new rows (True) and the originals (False, or their existing
value when the input was already augmented), and ``added`` counts the new rows per
class for lineage. Both are seeded and deterministic: the same input and seed give the
same output.

We do not use imbalanced-learn: the algorithm is a few lines of numpy on top of
scikit-learn's ``NearestNeighbors``; we need what its ``fit_resample`` does not give
(a mark on every synthetic row, the count added per class for lineage, categorical
columns copied from the base row in the same call, integer columns kept integer), and
one dependency fewer that has to keep pace with our scikit-learn version.

Example:
    >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 10.0, 11.0], "city": list("aabbcc"),
    ...                    "y": ["maj"] * 4 + ["min"] * 2})
    >>> out, added = smote(df, target="y", seed=0)
    >>> added
    {'maj': 0, 'min': 2}
    >>> out[out["__augmented"]].round(2)
           x city    y  __augmented
    6  10.73    c  min         True
    7  10.96    c  min         True
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import is_numeric_series, py

__all__ = ["AUGMENTED_COLUMN", "Augmented", "jitter", "smote"]

AUGMENTED_COLUMN = "__augmented"


class Augmented(NamedTuple):
    """The result of an augmentation.

    Attributes:
        frame: the original rows followed by the new ones, with ``__augmented``.
        added: new rows per class (every class, 0 when none were added).
    """

    frame: pd.DataFrame
    added: dict[Any, int]


def _check_frame(df: pd.DataFrame, target: Hashable) -> pd.Series:
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if target not in df.columns:
        raise InvalidInputError(f"target column {target!r} not in the data; available columns: {list(df.columns)!r}")
    y = df[target]
    missing = int(y.isna().sum())
    if missing:
        raise InvalidInputError(f"target column {target!r} has {missing} missing value(s): drop or fill them first")
    if df.columns.duplicated().any():
        raise InvalidInputError(f"duplicate column names {list(df.columns[df.columns.duplicated()])!r}: rename them")
    return y


def _numeric_columns(
    df: pd.DataFrame, target: Hashable, columns: Sequence[Hashable] | None, *, floats_only: bool
) -> list[Hashable]:
    if columns is None:
        cols = [
            c
            for c in df.columns
            if c not in (target, AUGMENTED_COLUMN)
            and is_numeric_series(df[c])
            and (not floats_only or pd.api.types.is_float_dtype(df[c].dtype))
        ]
        if not cols:
            kind = "float" if floats_only else "numeric"
            raise InvalidInputError(f"no {kind} feature columns to augment: pass the columns explicitly")
        return cols
    cols = list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InvalidInputError(f"column(s) {missing!r} not in the data; available columns: {list(df.columns)!r}")
    if target in cols:
        raise InvalidInputError(f"the target {target!r} cannot be an augmented feature column: leave it out")
    bad = [c for c in cols if not is_numeric_series(df[c])]
    if bad:
        raise InvalidInputError(f"column(s) {bad!r} are not numeric: augment only numeric columns")
    if not cols:
        raise InvalidInputError("no columns given to augment: pass at least one numeric column, or None for all")
    return cols


def _classes(y: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codes, classes, counts)`` in order of first appearance."""
    codes, classes = pd.factorize(y, sort=False)
    return codes, np.asarray(classes, dtype=object), np.bincount(codes, minlength=len(classes))


def _set_numeric(frame: pd.DataFrame, col: Hashable, values: np.ndarray) -> None:
    """Write float values into ``col`` keeping its dtype (integers are rounded)."""
    dtype = frame[col].dtype
    if pd.api.types.is_integer_dtype(dtype):
        values = np.rint(values)
    frame[col] = pd.Series(values, index=frame.index).astype(dtype)


def _combine(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    originals = df.copy()
    if AUGMENTED_COLUMN not in originals.columns:
        originals[AUGMENTED_COLUMN] = False
    new = new.copy()
    new[AUGMENTED_COLUMN] = True
    out = pd.concat([originals, new], ignore_index=True)
    out[AUGMENTED_COLUMN] = out[AUGMENTED_COLUMN].astype(bool)
    return out


def smote(
    df: pd.DataFrame,
    *,
    target: Hashable,
    ratio: float = 1.0,
    k_neighbors: int = 5,
    numeric: Sequence[Hashable] | None = None,
    seed: int = 0,
) -> Augmented:
    """Rebalance classes by interpolating between same-class nearest neighbours.

    Every class ends with at least ``ceil(ratio * n_max)`` rows, where ``n_max`` is the
    size of the largest class. Neighbours are found on the numeric columns divided by
    their standard deviation (so no column dominates the distance); the interpolation
    uses the raw values. Integer columns are rounded to the nearest integer and keep
    their dtype.

    Args:
        df: the rows, with numeric features without missing values.
        target: the class column.
        ratio: the smallest class size wanted, relative to the largest, in (0, 1].
        k_neighbors: neighbours to interpolate towards (fewer when a class is smaller).
        numeric: the columns to interpolate; default every numeric, non-boolean column
            except the target.
        seed: the random seed.

    Returns:
        ``(frame, added)``: see :class:`Augmented`.

    Raises:
        InvalidInputError: unknown or non-numeric columns, missing values, a class with
            a single row that needs new rows, or an invalid ``ratio``/``k_neighbors``.
    """
    y = _check_frame(df, target)
    if not (isinstance(ratio, (int, float)) and 0.0 < ratio <= 1.0):
        raise InvalidInputError(f"ratio={ratio!r}: use a number in (0, 1] (1 balances all classes)")
    if not isinstance(k_neighbors, (int, np.integer)) or k_neighbors < 1:
        raise InvalidInputError(f"k_neighbors={k_neighbors!r}: use an integer of at least 1 (default 5)")
    cols = _numeric_columns(df, target, numeric, floats_only=False)
    X = df[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    nan_cols = [c for c, bad in zip(cols, np.isnan(X).any(axis=0)) if bad]
    if nan_cols:
        raise InvalidInputError(f"numeric column(s) {nan_cols!r} have missing values: impute or drop them before SMOTE")
    codes, classes, counts = _classes(y)
    goal = math.ceil(ratio * counts.max() - 1e-9) if len(counts) else 0
    scale = X.std(axis=0) if len(X) else np.ones(len(cols))
    scale[~(scale > 0)] = 1.0
    rng = np.random.default_rng(seed)

    added: dict[Any, int] = {}
    parts: list[pd.DataFrame] = []
    for code, cls in enumerate(classes):
        need = max(goal - int(counts[code]), 0)
        added[py(cls)] = need
        if need == 0:
            continue
        rows = np.flatnonzero(codes == code)
        if len(rows) < 2:
            raise InvalidInputError(
                f"class {py(cls)!r} has 1 row: SMOTE interpolates between two rows of a class; add rows, drop "
                "the class, or oversample it another way (e.g. jitter)"
            )
        k = min(int(k_neighbors), len(rows) - 1)
        Xc = X[rows]
        neighbours = NearestNeighbors(n_neighbors=k).fit(Xc / scale).kneighbors(return_distance=False)
        base = rng.integers(0, len(rows), size=need)
        other = neighbours[base, rng.integers(0, k, size=need)]
        gap = rng.random(size=(need, 1))
        values = Xc[base] + gap * (Xc[other] - Xc[base])
        new = df.iloc[rows[base]].reset_index(drop=True)
        for j, col in enumerate(cols):
            _set_numeric(new, col, values[:, j])
        parts.append(new)
    if not parts:
        return Augmented(_combine(df, df.iloc[:0]), added)
    return Augmented(_combine(df, pd.concat(parts, ignore_index=True)), added)


def jitter(
    df: pd.DataFrame,
    *,
    target: Hashable,
    factor: float = 0.05,
    copies: int = 1,
    columns: Sequence[Hashable] | None = None,
    classes: Sequence[Any] | None = None,
    seed: int = 0,
) -> Augmented:
    """Add noisy copies of rows: Gaussian noise of ``factor`` × each column's std.

    The standard deviation is the population one (``ddof=0``) of the column over all of
    ``df``, ignoring missing values; missing values stay missing. Integer columns, when
    listed in ``columns``, are rounded and keep their dtype.

    Args:
        df: the rows.
        target: the class column (copied, never jittered).
        factor: noise standard deviation as a multiple of each column's std (>= 0).
        copies: noisy copies to add per row (>= 1).
        columns: the columns to jitter; default every float column except the target.
        classes: copy only rows of these classes; default all rows.
        seed: the random seed.

    Returns:
        ``(frame, added)``: see :class:`Augmented`.

    Raises:
        InvalidInputError: unknown or non-numeric columns, unknown classes, or an invalid
            ``factor``/``copies``.

    Example:
        >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "a", "b"]})
        >>> out, added = jitter(df, target="y", factor=0.1, copies=2, seed=0)
        >>> added, len(out), int(out["__augmented"].sum())
        ({'a': 4, 'b': 2}, 9, 6)
    """
    y = _check_frame(df, target)
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor >= 0):
        raise InvalidInputError(f"factor={factor!r}: use a number >= 0 (noise std as a multiple of each column's std)")
    if not isinstance(copies, (int, np.integer)) or copies < 1:
        raise InvalidInputError(f"copies={copies!r}: use an integer of at least 1")
    cols = _numeric_columns(df, target, columns, floats_only=columns is None)
    codes, all_classes, _ = _classes(y)
    if classes is None:
        rows = np.arange(len(df))
    else:
        known = {py(c) for c in all_classes}
        unknown = [c for c in classes if py(c) not in known]
        if unknown:
            raise InvalidInputError(
                f"class(es) {unknown!r} not in column {target!r}; its classes: {sorted(map(str, known))}"
            )
        wanted = pd.Series(all_classes, dtype=object).isin([py(c) for c in classes]).to_numpy()
        rows = np.flatnonzero(wanted[codes]) if len(codes) else np.zeros(0, dtype=np.int64)
    base = np.tile(rows, int(copies))
    X = df[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    std = np.nanstd(X, axis=0) if len(X) else np.zeros(len(cols))
    std = np.where(np.isfinite(std), std, 0.0)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(size=(len(base), len(cols))) * (std * factor)
    new = df.iloc[base].reset_index(drop=True)
    values = X[base] + noise
    for j, col in enumerate(cols):
        _set_numeric(new, col, values[:, j])
    per_class = np.bincount(codes[base], minlength=len(all_classes)) if len(base) else np.zeros(len(all_classes), int)
    added = {py(c): int(n) for c, n in zip(all_classes, per_class)}
    return Augmented(_combine(df, new), added)
