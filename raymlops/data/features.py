"""Feature extraction and selection: one fitted scikit-learn transform per model.

:func:`build_feature_transform` fits a :class:`~sklearn.pipeline.Pipeline` of

* ``preprocess``: a :class:`~sklearn.compose.ColumnTransformer` that imputes numeric
  columns with their median and standardises them (``num__<column>``), and one-hot
  encodes categorical columns (``cat__<column>_<value>``; a missing value is its own
  category, and categories unseen in training encode as all zeros);
* ``select`` (optional): the ``k`` features with the highest mutual information with
  the target (:class:`~sklearn.feature_selection.SelectKBest`), or those a tree
  ensemble finds most important (:class:`~sklearn.feature_selection.SelectFromModel`).

Fit it on the TRAINING split only: the means, scales, categories and selected features
are learned from the rows passed in, so passing validation or test rows would leak them
into the model. The transform is a plain picklable scikit-learn object: it is stored as
an artifact with the model, and serving applies the same transform to incoming rows
(which need not carry the target). ``transform.get_feature_names_out()`` names its
output columns. The output is a dense float array.

Example:
    >>> df = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "color": ["red", "blue", "red", "blue"],
    ...                    "label": [0, 1, 0, 1]})
    >>> transform, info = build_feature_transform(df, target="label")
    >>> transform.get_feature_names_out().tolist()
    ['num__size', 'cat__color_blue', 'cat__color_red']
    >>> transform.transform(pd.DataFrame({"size": [2.5], "color": ["green"]})).round(2).tolist()
    [[0.0, 0.0, 0.0]]
    >>> info["numeric"], info["categorical"]
    (['size'], ['color'])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.feature_selection import SelectFromModel, SelectKBest, mutual_info_classif, mutual_info_regression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import is_numeric_series, py
from raymlops.data.augment import AUGMENTED_COLUMN

__all__ = ["SELECTORS", "TASKS", "build_feature_transform", "infer_column_kinds"]

SELECTORS = (None, "mutual_info", "model")
TASKS = ("classification", "regression")
_ALWAYS_EXCLUDED = (AUGMENTED_COLUMN,)  # the augmentation marker is bookkeeping, not a feature


def _is_categorical(s: pd.Series) -> bool:
    dtype = s.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def infer_column_kinds(
    df: pd.DataFrame, *, target: Hashable, exclude: Sequence[Hashable] = ()
) -> tuple[list[Hashable], list[Hashable], list[Hashable]]:
    """Split the columns other than the target into numeric, categorical and dropped.

    Numeric: numeric dtypes except booleans. Categorical: strings, objects, categoricals
    and booleans. Dropped: everything else (datetimes, ...) and ``exclude``.

    Example:
        >>> df = pd.DataFrame({"a": [1.5], "b": ["x"], "t": pd.to_datetime(["2024-01-01"]), "y": [0]})
        >>> infer_column_kinds(df, target="y")
        (['a'], ['b'], ['t'])
    """
    skip = {target, *exclude, *_ALWAYS_EXCLUDED}
    numeric, categorical, dropped = [], [], []
    for col in df.columns:
        if col in skip:
            if col != target:
                dropped.append(col)
        elif is_numeric_series(df[col]):
            numeric.append(col)
        elif _is_categorical(df[col]):
            categorical.append(col)
        else:
            dropped.append(col)
    return numeric, categorical, dropped


def _check_columns(df: pd.DataFrame, cols: Sequence[Hashable], what: str) -> list[Hashable]:
    cols = [cols] if isinstance(cols, str) else list(cols)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"{what} column(s) {missing!r} not in the data; available columns: {list(df.columns)!r}"
        )
    return cols


def _selector(select: str, k: int | None, task: str, seed: int, estimator: Any) -> Any:
    if select == "mutual_info":
        score = mutual_info_classif if task == "classification" else mutual_info_regression
        return SelectKBest(partial(score, random_state=seed), k=k)
    if estimator is None:
        cls = ExtraTreesClassifier if task == "classification" else ExtraTreesRegressor
        estimator = cls(n_estimators=200, random_state=seed)
    if k is None:
        return SelectFromModel(estimator)  # features above the mean importance
    return SelectFromModel(estimator, max_features=k, threshold=-np.inf)


def build_feature_transform(
    df: pd.DataFrame,
    *,
    target: Hashable,
    numeric: Sequence[Hashable] | None = None,
    categorical: Sequence[Hashable] | None = None,
    exclude: Sequence[Hashable] = (),
    select: str | None = None,
    k: int | None = None,
    task: str = "classification",
    estimator: Any = None,
    seed: int = 0,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit the feature transform on the training rows.

    Args:
        df: the TRAINING rows only (features and target); see the module docstring.
        target: the target column (used for selection; never a feature).
        numeric: columns to impute and scale; default every numeric, non-boolean column.
        categorical: columns to one-hot encode; default every string, object,
            categorical or boolean column. Given one of the two lists, the other still
            defaults to inference over the remaining columns.
        exclude: columns that are not features (ids, the split column, ...).
        select: ``None`` (keep all), ``"mutual_info"`` (the ``k`` best by mutual
            information; ``k`` required) or ``"model"`` (by the importance of a tree
            ensemble: the ``k`` most important, or those above the mean importance when
            ``k`` is None).
        k: features to keep, counted after one-hot encoding.
        task: ``"classification"`` or ``"regression"``.
        estimator: the model for ``select="model"``; default extra trees (200, seeded).
        seed: seeds mutual information and the default selection model.

    Returns:
        ``(transform, info)``: the fitted, picklable pipeline, and a JSON-friendly dict
        for lineage with ``numeric``, ``categorical``, ``dropped``, ``n_rows``,
        ``task``, ``select``, ``k``, ``features_in`` (after encoding), ``features_out``
        and ``scores`` (per encoded feature, or None without selection).

    Raises:
        InvalidInputError: unknown columns, a column both numeric and categorical, a
            non-numeric column declared numeric, no feature columns, a single class, a
            non-numeric regression target, or an invalid ``select``/``k``/``task``.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if task not in TASKS:
        raise InvalidInputError(f"task={task!r}: use 'classification' or 'regression'")
    if select not in SELECTORS:
        raise InvalidInputError(f"select={select!r}: use None, 'mutual_info' or 'model'")
    if k is not None and (not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1):
        raise InvalidInputError(f"k={k!r}: use a positive integer (features to keep after encoding)")
    if select == "mutual_info" and k is None:
        raise InvalidInputError("select='mutual_info' keeps the k best features: pass k (e.g. k=10)")
    if select is None and k is not None:
        raise InvalidInputError(f"k={k} without select: pass select='mutual_info' or 'model', or drop k")
    if target not in df.columns:
        raise InvalidInputError(f"target column {target!r} not in the data; available columns: {list(df.columns)!r}")
    if len(df) == 0:
        raise InvalidInputError("no rows: pass the training split's rows")

    exclude = _check_columns(df, exclude, "excluded")
    inferred_num, inferred_cat, _ = infer_column_kinds(df, target=target, exclude=exclude)
    num = _check_columns(df, numeric, "numeric") if numeric is not None else None
    cat = _check_columns(df, categorical, "categorical") if categorical is not None else None
    if num is None:
        num = [c for c in inferred_num if cat is None or c not in cat]
    if cat is None:
        cat = [c for c in inferred_cat if c not in num]
    excluded_features = sorted({*num, *cat} & set(exclude), key=str)
    if excluded_features:
        raise InvalidInputError(f"column(s) {excluded_features!r} are both excluded and features: pick one")
    both = sorted(set(num) & set(cat), key=str)
    if both:
        raise InvalidInputError(f"column(s) {both!r} are both numeric and categorical: list each in one only")
    if target in num or target in cat:
        raise InvalidInputError(f"the target {target!r} cannot be a feature: leave it out of numeric/categorical")
    not_numeric = [c for c in num if not is_numeric_series(df[c])]
    if not_numeric:
        raise InvalidInputError(
            f"column(s) {not_numeric!r} are not numeric: list them as categorical, or convert them first"
        )
    if not num and not cat:
        raise InvalidInputError("no feature columns: pass numeric=[...] or categorical=[...]")
    bad_names = [c for c in [*num, *cat] if not isinstance(c, str)]
    if bad_names:
        raise InvalidInputError(f"feature column names must be strings, got {bad_names!r}: rename them")
    empty = [c for c in num if df[c].isna().all()]
    if empty:
        raise InvalidInputError(f"numeric column(s) {empty!r} have no values in the training rows: drop them")
    used = {*num, *cat}
    dropped = [c for c in df.columns if c != target and c not in used]

    y = df[target]
    if y.isna().any():
        raise InvalidInputError(
            f"target column {target!r} has {int(y.isna().sum())} missing value(s): drop those rows first"
        )
    if task == "classification" and y.nunique() < 2:
        raise InvalidInputError(
            f"target column {target!r} has a single class {py(y.iloc[0])!r}: classification needs at least 2 classes"
        )
    if task == "regression" and not is_numeric_series(y):
        raise InvalidInputError(f"target column {target!r} is not numeric: use task='classification' or convert it")

    transformers = []
    if num:
        transformers.append(
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), num)
        )
    if cat:
        transformers.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat))
    preprocess = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    X = df[[*num, *cat]]
    encoded = preprocess.fit_transform(X, y)
    features_in = preprocess.get_feature_names_out().tolist()
    steps: list[tuple[str, Any]] = [("preprocess", preprocess)]
    scores = None
    if select is not None:
        if k is not None and k > len(features_in):
            raise InvalidInputError(
                f"k={k} but there are only {len(features_in)} features after encoding: pass k <= {len(features_in)}"
            )
        selector = _selector(select, k, task, seed, estimator).fit(encoded, y)
        raw = selector.scores_ if select == "mutual_info" else selector.estimator_.feature_importances_
        scores = {name: float(s) for name, s in zip(features_in, raw)}
        steps.append(("select", selector))
    transform = Pipeline(steps)
    info = {
        "task": task,
        "target": str(target),
        "numeric": [str(c) for c in num],
        "categorical": [str(c) for c in cat],
        "dropped": [str(c) for c in dropped],
        "n_rows": int(len(df)),
        "select": select,
        "k": None if k is None else int(k),
        "features_in": features_in,
        "features_out": transform.get_feature_names_out().tolist(),
        "scores": scores,
    }
    return transform, info
