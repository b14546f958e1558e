"""The point-in-time join, as a pure numpy kernel (no Ray).

Semantics (Feast's DuckDB/ibis offline store, the reference): for every entity row
``(keys, t)`` and every feature view, the feature row with the same keys whose event
time ``f.ts`` satisfies ``f.ts <= t`` and, when the view has a TTL, ``f.ts >= t - ttl``
(both ends inclusive). Among those the newest event time wins; equal event times are
decided by the newest created time, then by the later row in source order (files in
sorted path order, rows in file order). Every entity row is kept, in order, duplicates
included; where nothing matches the features are null. Rows with a null key or a null
timestamp never match (an entity row with one gets nulls).

Method (:class:`AsofIndex`): feature keys are factorized into integer codes; feature
rows are sorted once by ``(code, event time)`` as one int64 (the event time is replaced
by its rank among the feature times when the raw value would overflow); ties are
ordered by ``(created, position)``; each entity row is then a hash lookup of its key's
code and one ``searchsorted`` into that order. A built index serves many entity
batches (the broadcast path).
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
    "AsofIndex",
    "ViewInput",
    "asof_indices",
    "check_key_types",
    "key_array",
    "latest_indices",
    "normalize_times",
    "point_in_time_join",
    "spine_from_views",
    "take_or_null",
    "view_index",
]

_LIMIT = 1 << 62


class AsofIndex:
    """Feature rows sorted once for as-of lookups: build it, then :meth:`lookup` entity rows.

    Args:
        keys: the feature rows' key columns (numpy; None/NaN for null).
        ts: event timestamps (int64, :data:`NAT` for null).
        created: created timestamps (ties on event time: the newest wins).
        pos: source positions (remaining ties: the largest wins); row order by default.
    """

    def __init__(self, keys: Sequence[np.ndarray], ts: np.ndarray, *, created: np.ndarray | None = None, pos: np.ndarray | None = None):
        ts = np.asarray(ts, dtype=np.int64)
        arrays = [np.asarray(k) for k in keys]
        valid = ts != NAT
        for k in arrays:
            if k.dtype.kind in "fOmM":
                valid &= ~pd.isna(k)
        rows = np.flatnonzero(valid)
        sel = [k[rows] for k in arrays]
        if len(sel) > 1:
            code, uniques = pd.factorize(pd.MultiIndex.from_arrays(sel))
            self._index = uniques
        else:
            code, uniques = pd.factorize(sel[0])
            self._index = pd.Index(uniques)
        code = code.astype(np.int64)
        self._multi = len(sel) > 1
        t = ts[rows]
        self.size = len(rows)
        if self.size == 0:
            self._rows = rows
            return
        lo, hi = int(t.min()), int(t.max())
        k = int(code.max()) + 1
        span = hi - lo + 2
        if span < _LIMIT // k:
            self._width, self._uniq, self._lo, self._hi = span, None, lo, hi
            comp = code * span + (t - lo + 1)
        else:
            self._uniq = np.unique(t)
            self._width = len(self._uniq) + 1
            if self._width >= _LIMIT // k:
                raise InvalidInputError("too many distinct keys and timestamps for one partition; use more partitions")
            comp = code * self._width + np.searchsorted(self._uniq, t) + 1
        order = np.argsort(comp)  # unstable is fine: ties are ordered explicitly below
        s = comp[order]
        tie = s[1:] == s[:-1]
        if tie.any():
            member = np.zeros(len(s), dtype=bool)
            member[1:] |= tie
            member[:-1] |= tie
            sub = order[member]
            c = np.asarray(created, np.int64)[rows][sub] if created is not None else np.zeros(len(sub), np.int64)
            p = np.asarray(pos, np.int64)[rows][sub] if pos is not None else sub
            order[member] = sub[np.lexsort((p, c, comp[sub]))]
        self._rows, self._comp, self._code, self._ts = rows[order], comp[order], code[order], t[order]

    def _axis(self, t: np.ndarray) -> np.ndarray:
        if self._uniq is None:
            return np.clip(t, self._lo - 1, self._hi) - self._lo + 1
        return np.searchsorted(self._uniq, t, side="right")

    def codes_of(self, keys: Sequence[np.ndarray]) -> np.ndarray:
        """The code of each entity key (-1: no feature row has it, or it is null)."""
        if self._multi:
            return np.asarray(self._index.get_indexer(pd.MultiIndex.from_arrays([np.asarray(k) for k in keys])), np.int64)
        return np.asarray(self._index.get_indexer(np.asarray(keys[0])), np.int64)

    def lookup(self, keys: Sequence[np.ndarray], ts: np.ndarray, *, ttl: int | None = None) -> np.ndarray:
        """For each entity row, the index of the matching feature row, or -1."""
        ts = np.asarray(ts, dtype=np.int64)
        out = np.full(len(ts), -1, dtype=np.int64)
        if self.size == 0 or len(ts) == 0:
            return out
        e_code = self.codes_of(keys)
        ok = np.flatnonzero((e_code >= 0) & (ts != NAT))
        q = e_code[ok] * self._width + self._axis(ts[ok])
        qo = np.argsort(q, kind="stable")  # sorted queries: searchsorted walks memory forward
        j = np.empty(len(q), dtype=np.int64)
        j[qo] = np.searchsorted(self._comp, q[qo], side="right") - 1
        hit = j >= 0
        jj = np.where(hit, j, 0)
        hit &= self._code[jj] == e_code[ok]
        if ttl is not None:
            hit &= self._ts[jj] >= ts[ok] - ttl
        out[ok[hit]] = self._rows[jj[hit]]
        return out

    def latest(self) -> np.ndarray:
        """The index of each key's winning row (newest event, then created, then position)."""
        if self.size == 0:
            return self._rows
        last = np.ones(len(self._rows), dtype=bool)
        last[:-1] = self._code[1:] != self._code[:-1]
        return self._rows[last]


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
        e_code, e_ts: entity keys (-1 null) and timestamps (int64; :data:`NAT` null).
        f_code, f_ts: feature keys and event timestamps, in the same units.
        created: feature created timestamps (ties on event time: newest wins).
        pos: feature source positions (remaining ties: the largest wins); row order by default.
        ttl: the longest age ``t - f.ts`` that still counts, in the timestamps' unit.
    """
    f_code = np.asarray(f_code, np.int64)
    e_code = np.asarray(e_code, np.int64)
    index = AsofIndex([np.where(f_code < 0, np.nan, f_code)], f_ts, created=created, pos=pos)
    return index.lookup([np.where(e_code < 0, np.nan, e_code)], e_ts, ttl=ttl)


def latest_indices(
    f_code: np.ndarray,
    f_ts: np.ndarray,
    *,
    created: np.ndarray | None = None,
    pos: np.ndarray | None = None,
) -> np.ndarray:
    """The index of the winning row of each key (newest event, then created, then position)."""
    f_code = np.asarray(f_code, np.int64)
    return AsofIndex([np.where(f_code < 0, np.nan, f_code)], f_ts, created=created, pos=pos).latest()


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
    check_key_types(entity.schema, view.table.schema, view.join_keys, view.name)
    return view_index(view).lookup(_keys(entity, view.join_keys), ts_us, ttl=view.ttl * US if view.ttl else None)


def view_index(view: ViewInput) -> AsofIndex:
    """The :class:`AsofIndex` of a view's rows."""
    t = view.table
    f_ts = arrow_to_us(t.column(view.timestamp_field), what=f"{view.name}.{view.timestamp_field}")
    created = arrow_to_us(t.column(view.created_column), what=f"{view.name}.{view.created_column}") if view.created_column else None
    pos = t.column(view.pos_column).to_numpy() if view.pos_column else None
    return AsofIndex(_keys(t, view.join_keys), f_ts, created=created, pos=pos)


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
