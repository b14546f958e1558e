"""scikit-learn's bundled datasets as DataFrames (no download): the ``sklearn://NAME`` sources.

Example:
    >>> df = load_sklearn_frame("iris")
    >>> df.shape, list(df.columns[:2]), df.columns[-1]
    ((150, 5), ['sepal_length_cm', 'sepal_width_cm'], 'target')
"""

from __future__ import annotations

import pandas as pd
import sklearn.datasets

from raymlops.core.errors import InvalidInputError

__all__ = ["SKLEARN_DATASETS", "load_sklearn_frame"]

SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")


def load_sklearn_frame(name: str) -> pd.DataFrame:
    """A bundled scikit-learn dataset as a DataFrame with a ``target`` column (no download).

    Raises:
        InvalidInputError: ``name`` is not one of :data:`SKLEARN_DATASETS`.
    """
    if name not in SKLEARN_DATASETS:
        raise InvalidInputError(f"unknown bundled dataset {name!r}: use one of {', '.join(SKLEARN_DATASETS)}")
    bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
    df = bunch.frame.copy()
    df.columns = [str(c).replace(" ", "_").replace("(", "").replace(")", "") for c in df.columns]
    return df
