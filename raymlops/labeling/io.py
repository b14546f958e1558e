"""Reading tables for the labeling steps, and writing their outputs.

Files (CSV, Parquet, folders, globs, fsspec URIs) are resolved by the data pipeline's
:func:`~raymlops.data.sources.resolve_source` and read in process with pyarrow, so a
single-process step needs no Ray; ``sklearn://NAME`` is read through Ray Data
(:func:`~raymlops.data.sources.read_dataset`). Unusable input raises the data
pipeline's ``DataUnusableError`` (exit code 2).

Example:
    >>> import pandas as pd, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> pd.DataFrame({"task": [1, 2], "label": ["x", "y"]}).to_csv(p, index=False)
    >>> read_table(p).to_dict("records")
    [{'task': 1, 'label': 'x'}, {'task': 2, 'label': 'y'}]
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from raymlops.core.coltypes import from_pandas
from raymlops.data.sources import DataUnusableError, read_dataset, resolve_source

__all__ = ["read_table", "write_parquet", "columns_of"]


def _read_file(path: str, fmt: str, filesystem: Any) -> pa.Table:
    if fmt == "parquet":
        if filesystem is not None:
            with filesystem.open_input_file(path) as f:
                return pq.read_table(f)
        return pq.read_table(path)
    stream = filesystem.open_input_stream(path) if filesystem is not None else pa.input_stream(path)
    with stream:
        return csv.read_csv(stream)


def read_table(source: Any, *, columns: list[str] | None = None) -> pd.DataFrame:
    """``source`` (a path, glob, URI, ``sklearn://NAME`` or DataFrame) as one DataFrame.

    Raises:
        DataUnusableError: the source does not exist, cannot be parsed, or has no rows.
    """
    if isinstance(source, pd.DataFrame):
        return source if columns is None else source[columns]
    src = resolve_source(source)
    if src.kind == "sklearn":
        ds, _ = read_dataset(source)
        return ds.to_pandas()
    try:
        tables = [_read_file(p, src.format or "parquet", src.filesystem) for p in src.paths]
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataUnusableError(f"cannot read {src.describe()}: {str(exc).splitlines()[0][:300]}") from None
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    df = table.to_pandas()
    return df if columns is None else df[columns]


def columns_of(df: pd.DataFrame) -> list[dict[str, str]]:
    """The ``columns`` property of a Dataset artifact (the one column-type vocabulary)."""
    out = []
    for c in df.columns:
        try:
            out.append({"name": str(c), "type": from_pandas(df[c].dtype)})
        except Exception:  # noqa: BLE001 - a nested column (lists): recorded by name
            out.append({"name": str(c), "type": "string"})
    return out


def write_parquet(df: pd.DataFrame, path: str) -> str:
    """Write ``df`` to ``path`` (folders created), returning the absolute path."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    df.to_parquet(path, index=False)
    return path
