"""The point-in-time join, as a pure numpy kernel (no Ray).

Semantics (Feast's DuckDB/ibis offline store, the reference): for every entity row
``(keys, t)`` and every feature view, the feature row with the same keys whose event
time ``f.ts`` satisfies ``f.ts <= t`` and, when the view has a TTL, ``f.ts >= t - ttl``
(both ends inclusive). Among those the newest event time wins; equal event times are
decided by the newest created time, then by the later row in source order (files in
sorted path order, rows in file order). Every entity row is kept, in order, duplicates
included; where nothing matches the features are null. Rows with a null key or a null
timestamp never match (an entity row with one gets nulls).

Method: keys of both sides are factorized together into integer codes; feature rows are
sorted once by ``(code, event time)`` as one int64 (the event time is replaced by its
rank among the feature times when the raw value would overflow), ties are ordered by
``(created, position)``; each entity row is then one ``searchsorted`` into that order.
The cost is a sort of the feature rows plus ``O(n log m)`` for ``n`` entity rows. No
cross product and no per-key loop, so memory is linear in the input.

Example:
    >>> import numpy as np
    >>> e_code, e_ts = np.array([0, 0, 1, 0]), np.array([5, 10, 10, 1])
    >>> f_code, f_ts = np.array([0, 0, 0, 1]), np.array([2, 5, 5, 11])
    >>> created = np.array([0, 7, 3, 0])
    >>> asof_indices(e_code, e_ts, f_code, f_ts, created=created).tolist()
    [1, 1, -1, -1]
    >>> asof_indices(e_code, e_ts, f_code, f_ts, created=created, ttl=4).tolist()
    [1, -1, -1, -1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core import coltypes
from raymlops.core.errors import InvalidInputError
from raymlops.features.definitions import column_name
from raymlops.features.times import NAT, US, arrow_to_us, us_to_arrow

__all__ = [
    "ViewInput",
    "asof_indices",
    "check_key_types",
    "key_array",
    "factorize_keys",
    "latest_indices",
    "normalize_times",
    "point_in_time_join",
    "spine_from_views",
    "take_or_null",
]

_LIMIT = 1 << 62


def factorize_keys(entity: Sequence[np.ndarray], features: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for composite keys, shared by both sides; -1 where any part is null.

    Args:
        entity: the entity side's key columns (numpy arrays; None/NaN for null).
        features: the feature side's key columns, same count and order.
    """
    n = len(entity[0]) if entity else 0
    e_codes = np.zeros(n, dtype=np.int64)
    f_codes = np.zeros(len(features[0]) if features else 0, dtype=np.int64)
    for e_col, f_col in zip(entity, features):
        e_col, f_col = np.asarray(e_col), np.asarray(f_col)
        if e_col.dtype != f_col.dtype and not (e_col.dtype.kind in "iu" and f_col.dtype.kind in "iu"):
            e_col, f_col = e_col.astype(object), f_col.astype(object)
        codes, uniques = pd.factorize(np.concatenate([e_col, f_col]))
        codes = codes.astype(np.int64)
        width = len(uniques) + 1
        e_part, f_part = codes[:n], codes[n:]
        combined_e = np.where((e_codes < 0) | (e_part < 0), -1, e_codes * width + e_part)
        combined_f = np.where((f_codes < 0) | (f_part < 0), -1, f_codes * width + f_part)
        if max(int(combined_e.max(initial=0)), int(combined_f.max(initial=0))) > _LIMIT // max(width, 1):
            both, _ = pd.factorize(np.concatenate([combined_e, combined_f]))
            both = np.where(np.concatenate([combined_e, combined_f]) < 0, -1, both)
            combined_e, combined_f = both[:n], both[n:]
        e_codes, f_codes = combined_e, combined_f
    return e_codes, f_codes


def _sorted_features(
    f_code: np.ndarray, f_ts: np.ndarray, created: np.ndarray | None, pos: np.ndarray | None, e_ts: np.ndarray | None
):
    """Valid feature rows sorted by (code, ts, created, pos), as (rows, sorted composite, mapper).

    ``mapper(ts)`` turns entity timestamps into the composite's time axis.
    """
    rows = np.flatnonzero((f_code >= 0) & (f_ts != NAT))
    code, ts = f_code[rows], f_ts[rows]
    if len(rows) == 0:
        return rows, np.empty(0, np.int64), np.empty(0, np.int64), None
    lo, hi = int(ts.min()), int(ts.max())
    if e_ts is not None and len(e_ts):
        valid_e = e_ts[e_ts != NAT]
        if len(valid_e):
            lo, hi = min(lo, int(valid_e.min())), max(hi, int(valid_e.max()))
    k = int(code.max()) + 1
    span = hi - lo + 1
    if span < _LIMIT // k:
        comp = code * span + (ts - lo)

        def axis(t: np.ndarray) -> np.ndarray:
            return t - lo

        width = span
    else:
        uniq = np.unique(ts)
        width = len(uniq) + 1
        if width >= _LIMIT // k:
            raise InvalidInputError("too many distinct keys and timestamps for one partition; use more partitions")
        comp = code * width + np.searchsorted(uniq, ts) + 1

        def axis(t: np.ndarray) -> np.ndarray:
            return np.searchsorted(uniq, t, side="right")

    order = np.argsort(comp, kind="stable")
    s = comp[order]
    tie = s[1:] == s[:-1]
    if tie.any() and (created is not None or pos is not None):
        member = np.zeros(len(s), dtype=bool)
        member[1:] |= tie
        member[:-1] |= tie
        sub = order[member]
        c = created[rows][sub] if created is not None else np.zeros(len(sub), np.int64)
        p = pos[rows][sub] if pos is not None else sub
        order[member] = sub[np.lexsort((p, c, comp[sub]))]
    return rows[order], comp[order], (width, axis), code[order]


def asof_indices(
    e_code: np.ndarray,
    e_ts: np.ndarray,
    f_code: np.ndarray,
    f_ts: np.ndarray,
    *,
    created: np.ndarray | None = None,
    pos: np.ndarray | None = None,
    ttl: int | None = None,
) -> np.ndarray:
    """For each entity row, the index of the matching feature row, or -1.

    Args:
        e_code, e_ts: entity key codes (-1 null) and timestamps (int64; :data:`NAT` null).
        f_code, f_ts: feature key codes and event timestamps, in the same units.
        created: feature created timestamps (ties on event time: newest wins).
        pos: feature source positions (remaining ties: the largest wins); row order by default.
        ttl: the longest age ``t - f.ts`` that still counts, in the timestamps' unit.

    Returns:
        int64 indices into the feature rows, -1 where nothing matches.
    """
    e_code = np.asarray(e_code, dtype=np.int64)
    e_ts = np.asarray(e_ts, dtype=np.int64)
    f_ts = np.asarray(f_ts, dtype=np.int64)
    out = np.full(len(e_code), -1, dtype=np.int64)
    rows, comp, mapper, code_sorted = _sorted_features(np.asarray(f_code, dtype=np.int64), f_ts, created, pos, e_ts)
    if len(rows) == 0 or len(e_code) == 0:
        return out
    width, axis = mapper
    ok = np.flatnonzero((e_code >= 0) & (e_ts != NAT))
    q = e_code[ok] * width + axis(e_ts[ok])
    j = np.searchsorted(comp, q, side="right") - 1
    hit = j >= 0
    jj = np.where(hit, j, 0)
    hit &= code_sorted[jj] == e_code[ok]
    found = rows[jj]
    if ttl is not None:
        hit &= f_ts[found] >= e_ts[ok] - ttl
    out[ok[hit]] = found[hit]
    return out


def latest_indices(
    f_code: np.ndarray,
    f_ts: np.ndarray,
    *,
    created: np.ndarray | None = None,
    pos: np.ndarray | None = None,
) -> np.ndarray:
    """The index of the winning row of each key (newest event, then created, then position)."""
    rows, _, _, code_sorted = _sorted_features(np.asarray(f_code, np.int64), np.asarray(f_ts, np.int64), created, pos, None)
    if len(rows) == 0:
        return rows
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = code_sorted[1:] != code_sorted[:-1]
    return rows[last]


def normalize_times(table: pa.Table, columns: Sequence[str], *, what: str = "") -> pa.Table:
    """``table`` with the named timestamp columns as ``timestamp[us, UTC]`` (naive = UTC)."""
    for c in columns:
        i = table.column_names.index(c)
        table = table.set_column(i, c, us_to_arrow(arrow_to_us(table.column(c), what=f"{what}{c}")))
    return table


def take_or_null(column: pa.Array | pa.ChunkedArray, indices: np.ndarray) -> pa.Array:
    """``column[indices]`` with null where the index is -1."""
    idx = pa.array(indices, type=pa.int64(), mask=indices < 0)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return pc.take(column, idx)


@dataclass
class ViewInput:
    """One feature view's rows for the kernel.

    Attributes:
        name: the view name (output columns are ``name__feature``).
        table: the view's rows: join keys, timestamp columns, features (and ``pos``).
        join_keys: key columns, present with the same names in the entity table.
        timestamp_field: the event-time column.
        features: feature columns to return, in order.
        created_column: the created-time column, if any.
        ttl: the TTL in seconds (None: no limit).
        pos_column: a column of source positions for the last tie-break (row order if None).
    """

    name: str
    table: pa.Table
    join_keys: list[str]
    timestamp_field: str
    features: list[str]
    created_column: str | None = None
    ttl: int | None = None
    pos_column: str | None = None
    dtypes: dict[str, str] = field(default_factory=dict)


def key_array(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A key column as numpy: int64 when it has no nulls, else objects with None for null."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_integer(column.type) and column.null_count == 0:
        return column.cast(pa.int64()).to_numpy()
    return np.asarray(column.to_pylist(), dtype=object) if column.null_count else column.to_numpy(zero_copy_only=False)


def check_key_types(entity: pa.Schema, features: pa.Schema, keys: Sequence[str], view: str) -> None:
    """Join keys must have the same column type on both sides (an int never equals a string).

    Raises:
        InvalidInputError: a key column is missing or its types differ.
    """
    for k in keys:
        if k not in entity.names:
            raise InvalidInputError(f"the entity rows have no column {k!r}, a join key of feature view {view!r}")
        a, b = coltypes.from_arrow(entity.field(k).type), coltypes.from_arrow(features.field(k).type)
        if a is not None and b is not None and a != b:
            raise InvalidInputError(
                f"join key {k!r} is {b} in the rows of feature view {view!r} but {a} in the entity rows; "
                f"write the entity column as {b}"
            )


def _keys(table: pa.Table, keys: Sequence[str]) -> list[np.ndarray]:
    return [key_array(table.column(k)) for k in keys]


def view_indices(entity: pa.Table, ts_us: np.ndarray, view: ViewInput) -> np.ndarray:
    """The matching row of ``view.table`` for each entity row (-1 none)."""
    t = view.table
    check_key_types(entity.schema, t.schema, view.join_keys, view.name)
    e_code, f_code = factorize_keys(_keys(entity, view.join_keys), _keys(t, view.join_keys))
    f_ts = arrow_to_us(t.column(view.timestamp_field), what=f"{view.name}.{view.timestamp_field}")
    created = arrow_to_us(t.column(view.created_column), what=f"{view.name}.{view.created_column}") if view.created_column else None
    pos = t.column(view.pos_column).to_numpy() if view.pos_column else None
    ttl = view.ttl * US if view.ttl else None
    return asof_indices(e_code, ts_us, f_code, f_ts, created=created, pos=pos, ttl=ttl)


def point_in_time_join(entity: pa.Table, views: Sequence[ViewInput], *, timestamp_col: str = "event_timestamp") -> pa.Table:
    """The entity rows, in order, with ``view__feature`` columns appended.

    The entity timestamp column is returned as ``timestamp[us, UTC]``.

    Raises:
        InvalidInputError: a missing join key or timestamp column, or a non-timestamp column.
    """
    if timestamp_col not in entity.column_names:
        raise InvalidInputError(f"the entity rows have no timestamp column {timestamp_col!r}; pass the right --timestamp-col")
    ts = arrow_to_us(entity.column(timestamp_col), what=f"entity column {timestamp_col!r}")
    out = entity.set_column(entity.column_names.index(timestamp_col), timestamp_col, us_to_arrow(ts))
    for view in views:
        idx = view_indices(entity, ts, view)
        for f in view.features:
            out = out.append_column(column_name(view.name, f), take_or_null(view.table.column(f), idx))
    return out


def spine_from_views(views: Sequence[ViewInput], *, start: int | None, end: int | None, timestamp_col: str = "event_timestamp") -> pa.Table:
    """Entity rows for retrieval without an entity table: every distinct ``(keys, event time)``
    of the views' rows with ``start <= time <= end``, sorted by time then keys.

    Raises:
        InvalidInputError: the views do not share the same join keys.
    """
    keys = views[0].join_keys
    for v in views[1:]:
        if v.join_keys != keys:
            raise InvalidInputError(
                f"retrieval by time range needs views with the same join keys; {views[0].name!r} has {keys}, {v.name!r} has {v.join_keys}"
            )
    parts = []
    for v in views:
        ts = arrow_to_us(v.table.column(v.timestamp_field), what=f"{v.name}.{v.timestamp_field}")
        keep = ts != NAT
        if start is not None:
            keep &= ts >= start
        if end is not None:
            keep &= ts <= end
        cols = {k: v.table.column(k).filter(pa.array(keep)) for k in keys}
        cols[timestamp_col] = us_to_arrow(ts[keep])
        parts.append(pa.table(cols))
    table = pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({})
    grouped = table.group_by(keys + [timestamp_col], use_threads=False).aggregate([])
    return grouped.select(keys + [timestamp_col]).sort_by([(timestamp_col, "ascending")] + [(k, "ascending") for k in keys])
