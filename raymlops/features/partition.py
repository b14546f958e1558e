"""Hash partitioning by join key, and the row layout the partitioned join moves around.

Both sides of a point-in-time join are split by the same hash of their canonical key
values into the same number of partitions, so rows with equal keys always land in the
same partition (never only by luck): integer keys of any width hash as int64, strings
as strings, and a null key hashes like any value (it never matches anyway). The hash is
pandas' fixed-seed ``hash_array``, identical in every process.

Rows travel in one Arrow layout (:func:`join_schema`) so that entity rows and the rows
of several feature views can share a shuffle: ``__part`` (partition), ``__side`` (0 for
entity rows, ``i + 1`` for view ``i``), ``__ord`` (the entity row's ordinal or the
feature row's source position), the join keys, ``__ts`` and ``__created`` (UTC
microseconds), the entity table's other columns, then every ``view__feature`` column;
columns a side does not have are null.

Example:
    >>> import pyarrow as pa
    >>> a = partition_ids(pa.table({"k": pa.array([1, 2, None], pa.int32())}), ["k"], 8)
    >>> b = partition_ids(pa.table({"k": pa.array([1, 2, 0], pa.int64())}), ["k"], 8)
    >>> a[:2].tolist() == b[:2].tolist(), int(a[2]) == int(b[2])
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core import coltypes
from raymlops.core.errors import InvalidInputError

__all__ = [
    "CREATED",
    "ORD",
    "PART",
    "SIDE",
    "TS",
    "TS_TYPE",
    "canonical_key_type",
    "canonical_keys",
    "conform",
    "feature_slots",
    "join_schema",
    "partition_ids",
]

PART, SIDE, ORD, TS, CREATED = "__part", "__side", "__ord", "__ts", "__created"
TS_TYPE = pa.timestamp("us", "UTC")
FILE_SHIFT = 40
"""A row ordinal is ``file_index << 40 | row_in_file``: file order, then row order."""


def canonical_key_type(arrow_type: pa.DataType, *, what: str) -> pa.DataType:
    """int64 for integer keys, string for text keys.

    Raises:
        InvalidInputError: a key column that is neither (floats, timestamps, lists...).
    """
    kind = coltypes.from_arrow(arrow_type)
    if kind in ("int", "bool") or kind is None:
        return pa.int64()
    if kind == "string":
        return pa.string()
    raise InvalidInputError(f"{what} has type {arrow_type}; join keys must be integers or strings")


def canonical_keys(table: pa.Table, keys: Sequence[str], types: dict[str, pa.DataType]) -> pa.Table:
    """``table`` with its key columns cast to their canonical types."""
    for k in keys:
        col = table.column(k)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if col.type != types[k]:
            col = col.cast(types[k])
        table = table.set_column(table.column_names.index(k), k, col)
    return table


def partition_ids(table: pa.Table, keys: Sequence[str], partitions: int) -> np.ndarray:
    """The partition (``0 .. partitions-1``) of each row, from a fixed hash of its keys."""
    h = np.zeros(table.num_rows, dtype=np.uint64)
    for k in keys:
        col = table.column(k)
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        if pa.types.is_integer(col.type) or pa.types.is_boolean(col.type) or pa.types.is_null(col.type):
            values = pc.fill_null(col.cast(pa.int64()), 0).to_numpy()
        else:
            values = np.asarray(pc.fill_null(col.cast(pa.string()), "").to_numpy(zero_copy_only=False), dtype=object)
        h = h * np.uint64(1_000_003) ^ pd.util.hash_array(values, categorize=False)
    return (h % np.uint64(partitions)).astype(np.int64)


def join_schema(
    keys: dict[str, pa.DataType], payload: pa.Schema, features: Sequence[tuple[str, pa.DataType]]
) -> pa.Schema:
    """The shared layout: bookkeeping columns, keys, times, entity payload, feature columns."""
    fields = [pa.field(PART, pa.int64()), pa.field(SIDE, pa.int8()), pa.field(ORD, pa.int64())]
    fields += [pa.field(k, t) for k, t in keys.items()]
    fields += [pa.field(TS, TS_TYPE), pa.field(CREATED, TS_TYPE)]
    fields += [f for f in payload if f.name not in keys]
    names = {f.name for f in fields}
    for name, t in features:
        if name in names:
            raise InvalidInputError(f"the entity rows already have a column {name!r}; rename it, the output puts that feature there")
        fields.append(pa.field(name, t))
        names.add(name)
    return pa.schema(fields)


def feature_slots(views: Sequence[Sequence[pa.DataType]]) -> tuple[list[pa.Field], list[list[str]]]:
    """Shared value columns for the features of several views, so no row carries another view's nulls.

    For each Arrow type, as many slot columns as the view with the most features of
    that type needs. Returns the slot fields and, per view, the slot of each feature.

    Example:
        >>> fields, slots = feature_slots([[pa.float64(), pa.float64()], [pa.string(), pa.float64()]])
        >>> [f.name for f in fields], slots
        (['__v0_0', '__v0_1', '__v1_0'], [['__v0_0', '__v0_1'], ['__v1_0', '__v0_0']])
    """
    types: list[pa.DataType] = []
    need: dict[int, int] = {}
    out: list[list[str]] = []
    for feats in views:
        used: dict[int, int] = {}
        names = []
        for t in feats:
            k = next((i for i, x in enumerate(types) if x == t), None)
            if k is None:
                types.append(t)
                k = len(types) - 1
            names.append(f"__v{k}_{used.get(k, 0)}")
            used[k] = used.get(k, 0) + 1
        for k, n in used.items():
            need[k] = max(need.get(k, 0), n)
        out.append(names)
    fields = [pa.field(f"__v{k}_{i}", types[k]) for k in range(len(types)) for i in range(need.get(k, 0))]
    return fields, out


def conform(columns: dict[str, pa.Array], schema: pa.Schema, rows: int) -> pa.Table:
    """A table of ``schema`` from the columns given (cast to the schema's types), nulls elsewhere."""
    arrays = []
    for f in schema:
        col = columns.get(f.name)
        if col is None:
            arrays.append(pa.nulls(rows, f.type))
            continue
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        arrays.append(col if col.type == f.type else col.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
