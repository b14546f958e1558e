"""Batches as Arrow tables, and datetimes as microseconds: what inference and validation share.

Example:
    >>> import pandas as pd
    >>> as_table(pd.DataFrame({"a": [1, 2], "b": ["x", 3]})).to_pydict()
    {'a': [1, 2], 'b': ['x', '3']}
    >>> micros = iso_to_micros("2024-01-31T12:00:00+02:00")
    >>> micros, micros_to_iso(micros)
    (1706695200000000, '2024-01-31T10:00:00')
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core.errors import InvalidInputError

__all__ = ["as_table", "iso_to_micros", "micros_to_iso", "to_micros"]

_UNCONVERTIBLE = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def as_table(batch: Any) -> pa.Table:
    """A pyarrow Table from a Table, RecordBatch or pandas DataFrame (index dropped).

    A pandas object column that pyarrow cannot convert (mixed Python types) becomes a
    string column, so that each value can still be checked on its own.

    Raises:
        InvalidInputError: the batch is none of those.
    """
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    if isinstance(batch, pd.DataFrame):
        df = batch
        if not all(isinstance(c, str) for c in df.columns):
            df = df.rename(columns=str)
        try:
            return pa.Table.from_pandas(df, preserve_index=False)
        except _UNCONVERTIBLE:
            arrays = {}
            for name in df.columns:
                try:
                    arrays[name] = pa.array(df[name], from_pandas=True)
                except _UNCONVERTIBLE:
                    values = df[name].astype(object)
                    arrays[name] = pa.array([None if _is_missing(v) else str(v) for v in values], type=pa.string())
            return pa.table(arrays)
    raise InvalidInputError(
        f"cannot read a batch of type {type(batch).__name__}: pass a pyarrow Table or RecordBatch, "
        "or a pandas DataFrame"
    )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def to_micros(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Timestamps or dates as int64 microseconds since the epoch (UTC; nanoseconds dropped)."""
    if not pa.types.is_timestamp(arr.type) or arr.type.unit != "us" or arr.type.tz is not None:
        arr = pc.cast(arr, pa.timestamp("us"), safe=False)
    return pc.cast(arr, pa.int64())


def iso_to_micros(text: str) -> int:
    """An ISO 8601 datetime as microseconds since the epoch (UTC; naive means UTC).

    Raises:
        ValueError: ``text`` is not an ISO 8601 datetime.
    """
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return int(np.datetime64(parsed, "us").astype(np.int64))


def micros_to_iso(value: int) -> str:
    """Microseconds since the epoch as an ISO 8601 string (seconds when they are whole)."""
    unit = "datetime64[s]" if value % 1_000_000 == 0 else "datetime64[us]"
    return str(np.datetime64(int(value), "us").astype(unit))
