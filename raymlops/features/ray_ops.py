"""The Ray Data shell of the feature store: read sources, hash-partition, join, write in order.

Point-in-time join (:func:`historical_dataset`):

1. Entity rows and the rows of each feature view are read file by file (one Ray Data
   task per file, record batch by record batch) into the shared layout of
   :mod:`~raymlops.features.partition`, with their timestamps in UTC microseconds, their
   keys cast to one canonical type, and a source position (``file << 40 | row``).
2. Views with the same join keys share one shuffle: both sides get a partition id from
   the same key hash, and ``groupby(__part).map_groups`` hands each partition, complete,
   to the pure kernel (:class:`~raymlops.features.pit.AsofIndex`). Keys therefore always
   meet; nothing depends on which block a row was read into or on time windows. Views
   with other join keys run as a next stage on the joined rows.
3. When the feature files are small (``broadcast_bytes``), there is no shuffle: the
   views' rows are indexed once in the driver, put in the object store, and every entity
   block is joined against them where it is read (order kept).
4. The result is sorted by entity ordinal (or by time and keys for retrieval without an
   entity table) and streamed into one Parquet file by the driver.

Materialization (:func:`latest_rows`) reads a view's rows inside a time window and
keeps each block's newest row per key; the online store's conditional write picks the
newest across blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv
import ray
import ray.data
from ray.util import metrics

from raymlops.core.errors import InvalidInputError, RaymlopsError
from raymlops.features.partition import (
    CREATED,
    FILE_SHIFT,
    ORD,
    PART,
    SIDE,
    TS,
    canonical_keys,
    conform,
    join_schema,
    partition_ids,
)
from raymlops.features.pit import AsofIndex, key_array, take_or_null
from raymlops.features.plan import FileSet, ViewSpec, Window
from raymlops.features.times import US, arrow_to_us, us_to_arrow

__all__ = ["entities_from_table", "historical_dataset", "latest_rows", "publish_freshness", "read_entities", "write_ordered"]

BROADCAST_BYTES = 32 << 20
PARTITION_BYTES = 48 << 20


class _Reader:
    """Ray Data UDF: reads the files named in a batch into a layout, batch by batch."""

    def __init__(self, files: FileSet, *, schema: pa.Schema, rename: dict[str, str], times: dict[str, str],
                 keys: dict[str, pa.DataType], side: int, partitions: int | None, window: Window | None,
                 batch_rows: int = 262_144):
        self.files, self.schema, self.rename, self.times = files, schema, rename, times
        self.keys, self.side, self.partitions, self.window, self.batch_rows = keys, side, partitions, window, batch_rows

    def _batches(self, path: str) -> Iterator[pa.Table]:
        fs = self.files.filesystem
        if self.files.format == "parquet":
            f = fs.open_input_file(path) if fs is not None else pa.OSFile(path)
            with f:
                pf = pq.ParquetFile(f)
                wanted = [c for c in pf.schema_arrow.names if c in self.rename or c in self.times]
                for rb in pf.iter_batches(batch_size=self.batch_rows, columns=wanted):
                    yield pa.Table.from_batches([rb])
        else:
            stream = fs.open_input_stream(path) if fs is not None else pa.input_stream(path)
            with stream:
                for rb in csv.open_csv(stream, read_options=csv.ReadOptions(block_size=16 << 20)):
                    yield pa.Table.from_batches([rb])

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for path, index in zip(batch.column("path").to_pylist(), batch.column("index").to_pylist()):
            row0 = 0
            for t in self._batches(path):
                n = t.num_rows
                if n == 0:
                    continue
                missing = [c for c in list(self.rename) + list(self.times) if c not in t.column_names]
                if missing:
                    raise InvalidInputError(f"{path} has no column {', '.join(map(repr, missing))}; check the source definition")
                cols: dict[str, Any] = {dst: t.column(src) for src, dst in self.rename.items()}
                us = {dst: arrow_to_us(t.column(src), what=f"column {src!r} of {path}") for src, dst in self.times.items()}
                for dst, values in us.items():
                    cols[dst] = us_to_arrow(values)
                cols[ORD] = pa.array((index << FILE_SHIFT) + row0 + np.arange(n, dtype=np.int64))
                cols[SIDE] = pa.array(np.full(n, self.side, np.int8))
                row0 += n
                out = canonical_keys(pa.table({k: cols[k] for k in self.keys}), list(self.keys), self.keys)
                for k in self.keys:
                    cols[k] = out.column(k)
                if self.partitions:
                    cols[PART] = pa.array(partition_ids(out, list(self.keys), self.partitions))
                table = conform(cols, self.schema, n)
                if self.window is not None:
                    keep = self.window.mask(us[TS], us.get(CREATED))
                    if not keep.all():
                        table = table.filter(pa.array(keep))
                if table.num_rows:
                    yield table


def _read(files: FileSet, reader: _Reader, ordered: bool = False):
    ds = ray.data.from_items([{"path": p, "index": i} for i, p in enumerate(files.paths)], override_num_blocks=len(files.paths))
    if ordered:
        ds.context.execution_options.preserve_order = True
    return ds.map_batches(reader, batch_format="pyarrow", batch_size=1)


def _view_reader(spec: ViewSpec, schema: pa.Schema, side: int, partitions: int | None, window: Window | None = None) -> _Reader:
    rename = {k: k for k in spec.join_keys} | {src: out for src, (out, _) in spec.features.items()}
    times = {spec.timestamp_field: TS} | ({spec.created_column: CREATED} if spec.created_column else {})
    return _Reader(spec.files, schema=schema, rename=rename, times=times, keys=spec.join_keys, side=side,
                   partitions=partitions, window=window)


def read_entities(files: FileSet, layout: pa.Schema, timestamp_col: str):
    """The entity rows in the entity layout (``__ord``, ``__ts``, every other column), in order."""
    payload = [f.name for f in layout if f.name not in (ORD, TS)]
    reader = _Reader(files, schema=layout, rename={c: c for c in payload}, times={timestamp_col: TS},
                     keys={}, side=0, partitions=None, window=None)
    return _read(files, reader, ordered=True)


def entities_from_table(table: pa.Table, timestamp_col: str):
    """An in-memory entity table (e.g. a DataFrame's) as a dataset in the entity layout."""
    if timestamp_col not in table.column_names:
        raise InvalidInputError(f"the entity rows have no timestamp column {timestamp_col!r}; pass the right --timestamp-col")
    ts = us_to_arrow(arrow_to_us(table.column(timestamp_col), what=f"entity column {timestamp_col!r}"))
    cols = {ORD: pa.array(np.arange(table.num_rows, dtype=np.int64)), TS: ts}
    cols |= {c: table.column(c) for c in table.column_names if c != timestamp_col}
    ds = ray.data.from_arrow(pa.table(cols))
    ds.context.execution_options.preserve_order = True
    return ds, pa.table(cols).schema


def _groups(specs: Sequence[ViewSpec]) -> list[list[int]]:
    out: dict[tuple, list[int]] = {}
    for i, s in enumerate(specs):
        out.setdefault(tuple(s.join_keys.items()), []).append(i)
    return list(out.values())


def _feature_fields(specs: Sequence[ViewSpec]) -> list[tuple[str, pa.DataType]]:
    return [(out, t) for s in specs for out, t in s.features.values()]


def _join(entity: pa.Table, views: Sequence[tuple[ViewSpec, pa.Table | AsofIndex, pa.Table]]) -> pa.Table:
    """Fill the feature columns of ``entity`` from each (spec, index, view rows)."""
    ts = arrow_to_us(entity.column(TS))
    for spec, index, rows in views:
        if not isinstance(index, AsofIndex):
            index = _index(spec, rows)
        keys = [key_array(entity.column(k)) for k in spec.join_keys]
        idx = index.lookup(keys, ts, ttl=spec.ttl * US if spec.ttl else None)
        for out, _ in spec.features.values():
            entity = entity.set_column(entity.schema.get_field_index(out), out, take_or_null(rows.column(out), idx))
    return entity


def _index(spec: ViewSpec, rows: pa.Table) -> AsofIndex:
    created = arrow_to_us(rows.column(CREATED)) if spec.created_column else None
    return AsofIndex([key_array(rows.column(k)) for k in spec.join_keys], arrow_to_us(rows.column(TS)),
                     created=created, pos=rows.column(ORD).to_numpy())


def _join_partition(group: pa.Table, specs: list[ViewSpec], sides: list[int], out_schema: pa.Schema, spine: Window | None) -> pa.Table:
    """map_groups UDF: one complete partition (entity rows and view rows) → joined entity rows."""
    side = group.column(SIDE).to_numpy()
    views = [(s, None, group.filter(pa.array(side == k))) for s, k in zip(specs, sides)]
    entity = group.filter(pa.array(side == 0)) if spine is None else _spine(views, spine, out_schema)
    entity = entity.select(out_schema.names)
    if entity.num_rows == 0:
        return entity
    return _join(entity, [(s, None, r) for s, _, r in views if r.num_rows])


def _spine(views, window: Window, schema: pa.Schema) -> pa.Table:
    """Distinct (keys, event time) of the views' rows inside the window, in the output layout."""
    keys = list(views[0][0].join_keys)
    parts = []
    for _, _, rows in views:
        keep = window.mask(arrow_to_us(rows.column(TS)), None)
        parts.append(rows.select(keys + [TS]).filter(pa.array(keep)))
    table = pa.concat_tables(parts).group_by(keys + [TS], use_threads=False).aggregate([])
    return conform({c: table.column(c) for c in table.column_names} | {ORD: pa.array(np.zeros(table.num_rows, np.int64))}, schema, table.num_rows)


def _partitions(specs: Sequence[ViewSpec], entity_bytes: int, partitions: int | None) -> int:
    if partitions:
        return partitions
    total = entity_bytes + sum(s.files.bytes for s in specs)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return int(max(cpus, min(512, -(-total // PARTITION_BYTES))))


def historical_dataset(
    specs: Sequence[ViewSpec],
    *,
    entities: Any = None,
    entity_schema: pa.Schema | None = None,
    entity_bytes: int = 0,
    window: Window | None = None,
    partitions: int | None = None,
    broadcast_bytes: int = BROADCAST_BYTES,
) -> tuple[Any, list[str], str]:
    """The joined rows as a dataset, the columns to write and the path taken.

    Args:
        specs: the views and features asked for.
        entities: the entity dataset in the entity layout (:func:`read_entities`), or None
            to retrieve by time range (``window``) without an entity table.
        entity_schema: the layout of ``entities`` (needed with ``entities``).
        entity_bytes: the entity data's size on disk (sizes the partitions).
        window: with no entity table, the time range of the rows to return.
        partitions: shuffle partitions (default from the data size and the CPUs).
        broadcast_bytes: feature files up to this size in total are broadcast, not shuffled.

    Returns:
        ``(dataset, sort columns, "broadcast" | "shuffle")``; the dataset is already in
        order when the sort columns are empty.
    """
    feature_bytes = sum(s.files.bytes for s in specs)
    if entities is None:
        if len(_groups(specs)) != 1:
            raise InvalidInputError("retrieval by time range needs views with the same join keys; ask for those views separately")
        keys = specs[0].join_keys
        schema = join_schema(keys, pa.schema([]), _feature_fields(specs))
        out_schema = pa.schema([f for f in schema if f.name not in (PART, SIDE, CREATED)])
        p = _partitions(specs, 0, partitions)
        unions = [_read(s.files, _view_reader(s, schema, i + 1, p, Window(window.start, window.end) if window else None)) for i, s in enumerate(specs)]
        ds = unions[0].union(*unions[1:]) if len(unions) > 1 else unions[0]
        ds = ds.groupby(PART, num_partitions=p).map_groups(
            _join_partition, fn_args=(list(specs), list(range(1, len(specs) + 1)), out_schema, window or Window()), batch_format="pyarrow")
        return ds, [TS] + list(keys), "shuffle"

    assert entity_schema is not None
    if feature_bytes <= broadcast_bytes:
        tables = []
        for s in specs:
            schema = join_schema(s.join_keys, pa.schema([]), _feature_fields([s]))
            refs = _read(s.files, _view_reader(s, schema, 1, None)).to_arrow_refs()
            blocks = [t for t in ray.get(refs) if t.num_rows]  # empty blocks carry no schema
            rows = pa.concat_tables([t.cast(schema) for t in blocks]) if blocks else schema.empty_table()
            tables.append((s, _index(s, rows), rows.select([c for c in rows.column_names if c not in (PART, SIDE)])))
        ref = ray.put(tables)
        out_schema = _entity_out_schema(entity_schema, specs)
        ds = entities.map_batches(_broadcast_join, fn_args=(ref, out_schema), batch_format="pyarrow", batch_size=65_536)
        return ds, [], "broadcast"

    ds, layout = entities, entity_schema
    for group in _groups(specs):
        gspecs = [specs[i] for i in group]
        keys = gspecs[0].join_keys
        p = _partitions(gspecs, entity_bytes, partitions)
        payload = pa.schema([f for f in layout if f.name not in (ORD, TS)])
        schema = join_schema(keys, payload, _feature_fields(gspecs))
        out_schema = pa.schema([f for f in schema if f.name not in (PART, SIDE, CREATED)])
        left = ds.map_batches(_to_layout, fn_args=(schema, keys, p), batch_format="pyarrow", batch_size=None)
        right = [_read(s.files, _view_reader(s, schema, i + 1, p)) for i, s in enumerate(gspecs)]
        ds = left.union(*right).groupby(PART, num_partitions=p).map_groups(
            _join_partition, fn_args=(gspecs, list(range(1, len(gspecs) + 1)), out_schema, None), batch_format="pyarrow")
        layout = out_schema
    return ds, [ORD], "shuffle"


def _entity_out_schema(entity_schema: pa.Schema, specs: Sequence[ViewSpec]) -> pa.Schema:
    fields = list(entity_schema)
    for name, t in _feature_fields(specs):
        if name in entity_schema.names:
            raise InvalidInputError(f"the entity rows already have a column {name!r}; rename it, the output puts that feature there")
        fields.append(pa.field(name, t))
    return pa.schema(fields)


_broadcast: dict[str, list] = {}


def _broadcast_join(batch: pa.Table, ref: Any, out_schema: pa.Schema) -> pa.Table:
    key = ref.hex()
    tables = _broadcast.get(key)
    if tables is None:  # once per worker process: the indexes are shared through the object store
        _broadcast.clear()
        tables = _broadcast[key] = ray.get(ref)
    entity = conform({c: batch.column(c) for c in batch.column_names}, out_schema, batch.num_rows)
    for s, _, _ in tables:
        entity = canonical_keys(entity, list(s.join_keys), s.join_keys)
    return _join(entity, tables)


def _to_layout(batch: pa.Table, schema: pa.Schema, keys: dict[str, pa.DataType], partitions: int) -> pa.Table:
    batch = canonical_keys(batch, list(keys), keys)
    cols = {c: batch.column(c) for c in batch.column_names}
    cols[PART] = pa.array(partition_ids(batch, list(keys), partitions))
    cols[SIDE] = pa.array(np.zeros(batch.num_rows, np.int8))
    return conform(cols, schema, batch.num_rows)


def write_ordered(ds: Any, path: str, columns: dict[str, str], sort: list[str], schema: pa.Schema) -> int:
    """Stream ``ds`` (sorted by ``sort`` first, if given) into one Parquet file; rows written.

    ``columns`` maps the dataset's columns to output names, in output order; ``schema``
    is the output's, written as is when there are no rows. Rows are
    checked to arrive in order, so a reordering anywhere fails loudly instead of
    writing a shuffled training set.
    """
    if sort:
        ds = ds.sort(sort)
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    writer, rows, last = None, 0, None
    try:
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            if batch.num_rows == 0:
                continue
            if not sort or sort == [ORD]:
                o = batch.column(ORD).to_numpy()
                if (last is not None and o[0] < last) or (len(o) > 1 and (np.diff(o) < 0).any()):
                    raise RaymlopsError("internal error: joined rows arrived out of order; report this")
                last = int(o[-1])
            out = pa.Table.from_arrays([batch.column(c) for c in columns], names=list(columns.values()))
            if writer is None:
                writer = pq.ParquetWriter(tmp, out.schema)
            writer.write_table(out.cast(writer.schema))
            rows += out.num_rows
        if writer is None:
            writer = pq.ParquetWriter(tmp, schema)
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        if writer is not None:
            writer.close()
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return rows


def latest_rows(spec: ViewSpec, window: Window) -> Iterator[pa.Table]:
    """Each block's newest row per key inside ``window`` (keys, ``__ts``, ``__created``, ``__ord``, features)."""
    schema = join_schema(spec.join_keys, pa.schema([]), _feature_fields([spec]))
    ds = _read(spec.files, _view_reader(spec, schema, 1, None, window)).map_batches(
        _block_latest, fn_args=(spec,), batch_format="pyarrow", batch_size=None)
    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        if batch.num_rows:
            yield batch


def _block_latest(batch: pa.Table, spec: ViewSpec) -> pa.Table:
    rows = batch.select([c for c in batch.column_names if c not in (PART, SIDE)])
    return rows.take(pa.array(_index(spec, rows).latest()))


def publish_freshness(freshness: dict[str, float | None]) -> None:
    """Set the ``raymlops_feature_freshness_seconds`` Ray metric of each view (this process)."""
    gauge = _gauges.get("freshness")
    if gauge is None:
        gauge = _gauges["freshness"] = metrics.Gauge(
            "raymlops_feature_freshness_seconds", "now minus the newest event time in the online store", tag_keys=("view",))
    for view, seconds in freshness.items():
        if seconds is not None:
            gauge.set(float(seconds), tags={"view": view})


_gauges: dict[str, Any] = {}
