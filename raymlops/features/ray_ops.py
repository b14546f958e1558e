"""The Ray shell of the feature store: partitioned and broadcast point-in-time joins.

Point-in-time join with an entity table:

1. **Shuffle path.** Views with the same join keys share one shuffle. Map tasks (one per
   file, or per ~1M rows of Parquet row groups) read the entity rows lean (ordinal,
   timestamp, join keys) and each view's rows with their features in shared value slots
   (:func:`~raymlops.features.partition.feature_slots`), give every row a partition id
   from the same hash of its canonical keys, and return one table per partition
   (``num_returns=partitions``). One reduce task per partition receives every map task's
   share of it, complete, and runs the pure kernel
   (:class:`~raymlops.features.pit.AsofIndex`): (ordinal, features) sorted by ordinal.
   Keys therefore always meet; nothing depends on which file or block a row was read
   into, or on time windows. The object store spills map outputs to disk when they do
   not fit in memory. (Ray Data's own hash shuffle, ``groupby().map_groups``, was the
   first version: it coalesces up to 1 GiB of shuffle input into one map task, so its
   join phase took 31-46 s on the benchmark's 1M x 5M rows where these tasks take
   9-16 s, measured on the same shared 2-core machine.)
2. **Broadcast path.** When the feature files are small (``broadcast_bytes``), the
   views' rows are read with Ray Data, indexed once, put in the object store, and every
   entity block is joined where it is read (order kept, no shuffle).
3. **Writing.** :func:`write_merged` streams the entity rows in order (Ray Data, order
   preserved) and, batch by batch, takes the matching ordinals from every partition's
   sorted output (a binary search per table, zero-copy from the object store), so the
   result is in entity order without a global sort; every entity row must come back
   exactly once.

Retrieval by time range builds the entity rows inside each partition from the views'
own (keys, event time) pairs; the result is then sorted by time and keys.

Materialization (:func:`latest_rows`) reads a view's rows in a time window with Ray Data
and keeps each block's newest row per key; the online store's conditional write picks
the newest across blocks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray
import ray.data

from raymlops.core.errors import InvalidInputError, RaymlopsError
from raymlops.features.partition import CREATED, ORD, PART, SIDE, TS, canonical_keys, conform, feature_slots, join_schema, partition_ids
from raymlops.features.pit import AsofIndex, key_array, take_or_null
from raymlops.features.plan import ViewSpec, Window
from raymlops.features.ray_read import Reader, chunks, read_files, view_reader
from raymlops.features.times import US, arrow_to_us

__all__ = ["BROADCAST_BYTES", "broadcast_join", "latest_rows", "partitioned_join", "range_join",
           "write_merged", "write_ordered"]

BROADCAST_BYTES = 32 << 20
PARTITION_BYTES = 48 << 20
SHUFFLE_INPUT_BYTES = 64 << 20


def _groups(specs: Sequence[ViewSpec]) -> list[list[ViewSpec]]:
    out: dict[tuple, list[ViewSpec]] = {}
    for s in specs:
        out.setdefault(tuple(s.join_keys.items()), []).append(s)
    return list(out.values())


def _feature_fields(specs: Sequence[ViewSpec]) -> list[tuple[str, pa.DataType]]:
    return [(out, t) for s in specs for out, t in s.features.values()]


def _index(spec: ViewSpec, rows: pa.Table) -> AsofIndex:
    created = arrow_to_us(rows.column(CREATED)) if spec.created_column else None
    return AsofIndex([key_array(rows.column(k)) for k in spec.join_keys], arrow_to_us(rows.column(TS)),
                     created=created, pos=rows.column(ORD).to_numpy())


def _lookup(entity: pa.Table, spec: ViewSpec, index: AsofIndex) -> np.ndarray:
    keys = [key_array(entity.column(k)) for k in spec.join_keys]
    return index.lookup(keys, arrow_to_us(entity.column(TS)), ttl=spec.ttl * US if spec.ttl else None)


def _partitions(specs: Sequence[ViewSpec], entity_bytes: int, partitions: int | None) -> int:
    if partitions:
        return partitions
    total = entity_bytes + sum(s.files.bytes for s in specs)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return int(max(cpus, min(512, -(-total // PARTITION_BYTES))))


# ---------------------------------------------------------------------- shuffle path
def _join_partition(group: pa.Table, specs: list[ViewSpec], slots: list[list[str]], spine: Window | None) -> pa.Table:
    """map_groups UDF: one complete partition → (ordinal | keys and time, features), sorted."""
    side = group.column(SIDE).to_numpy()
    views = [(s, sl, group.filter(pa.array(side == i + 1))) for i, (s, sl) in enumerate(zip(specs, slots))]
    keys = list(specs[0].join_keys)
    if spine is None:
        entity = group.filter(pa.array(side == 0)).select([ORD, TS] + keys)
        entity = entity.take(pa.array(np.argsort(entity.column(ORD).to_numpy(), kind="stable")))
        out = {ORD: entity.column(ORD)}
    else:
        entity = _spine(views, spine, keys)
        out = {k: entity.column(k) for k in keys} | {TS: entity.column(TS)}
    for spec, slot_names, rows in views:
        if not (rows.num_rows and entity.num_rows):
            out |= {name: pa.nulls(entity.num_rows, t) for name, t in spec.features.values()}
            continue
        idx = _lookup(entity, spec, _index(spec, rows))
        got = rows.select(slot_names).take(pa.array(idx, mask=idx < 0))  # one gather for the view's columns
        out |= {name: got.column(slot) for (name, _), slot in zip(spec.features.values(), slot_names)}
    return pa.table(out)


def _spine(views, window: Window, keys: list[str]) -> pa.Table:
    """Distinct (keys, event time) of the views' rows inside the window, sorted by time then keys."""
    parts = []
    for _, _, rows in views:
        keep = window.mask(arrow_to_us(rows.column(TS)), None)
        parts.append(rows.select(keys + [TS]).filter(pa.array(keep)))
    table = pa.concat_tables(parts).group_by(keys + [TS], use_threads=False).aggregate([])
    return table.sort_by([(TS, "ascending")] + [(k, "ascending") for k in keys])


def _split(table: pa.Table, partitions: int) -> list[pa.Table]:
    """``table`` cut into one table per partition id (rows of partition ``i`` at position ``i``)."""
    part = table.column(PART).to_numpy().astype(np.int16 if partitions < 1 << 15 else np.int64)
    order = np.argsort(part, kind="stable")  # a radix sort for 16-bit values
    bounds = np.searchsorted(part[order], np.arange(partitions + 1))
    table = table.take(pa.array(order))
    return [table.slice(bounds[i], bounds[i + 1] - bounds[i]) for i in range(partitions)]


def _map(reader: Reader, unit: tuple, partitions: int, lean: dict[str, pa.DataType] | None, schema: pa.Schema):
    """Map task: read one work unit (a file or some of its row groups), hash-partition its rows;
    returns one table per partition."""
    path, index, groups, first = unit
    batch = pa.table({"path": [path], "index": [index]})
    tables = []
    for t in reader(batch, groups, first):
        if lean is not None:
            t = canonical_keys(t, list(lean), lean)
            cols = {c: t.column(c) for c in t.column_names}
            cols[PART] = pa.array(partition_ids(t, list(lean), partitions))
            cols[SIDE] = pa.array(np.zeros(t.num_rows, np.int8))
            t = conform(cols, schema, t.num_rows)
        tables.append(t)
    whole = pa.concat_tables(tables) if tables else schema.empty_table()
    return tuple(_split(whole, partitions)) if partitions > 1 else whole


def _reduce(specs: list[ViewSpec], slots: list[list[str]], spine: Window | None, schema: pa.Schema, *parts: pa.Table) -> pa.Table:
    """Reduce task: one complete partition (every map task's share) → the joined, sorted rows."""
    group = pa.concat_tables([t.cast(schema) for t in parts if t.num_rows]) if any(t.num_rows for t in parts) else schema.empty_table()
    return _join_partition(group, specs, slots, spine)


_map_task = ray.remote(_map)
_reduce_task = ray.remote(_reduce)


def _shuffle(group: list[ViewSpec], p: int, entities: Any, spine: Window | None) -> list[Any]:
    """Hash-partition the entity rows and the views' rows by key into ``p`` partitions with Ray
    tasks (one map task per file or ~1M rows of row groups, ``num_returns=p``), then one reduce
    task per partition."""
    keys = group[0].join_keys
    fields, slots = feature_slots([[t for _, t in s.features.values()] for s in group])
    schema = join_schema(keys, pa.schema([]), [(f.name, f.type) for f in fields])
    maps = []
    for i, (s, sl) in enumerate(zip(group, slots)):
        reader = view_reader(s, schema, side=i + 1, partitions=p, slots=sl, window=Window(spine.start, spine.end) if spine else None)
        maps += [_map_task.options(num_returns=p).remote(reader, unit, p, None, schema) for unit in chunks(s.files)]
    if entities is not None:
        files, reader = entities
        maps += [_map_task.options(num_returns=p).remote(reader, unit, p, keys, schema) for unit in chunks(files)]
    maps = [m if isinstance(m, list) else [m] for m in maps]
    return [_reduce_task.remote(group, slots, spine, schema, *[m[i] for m in maps]) for i in range(p)]


def partitioned_join(specs: Sequence[ViewSpec], entities_lean: tuple[Any, Any], *, entity_bytes: int = 0,
                     partitions: int | None = None) -> list[list[Any]]:
    """Per group of views, the refs of the partitions' (ordinal, features) tables, each sorted by ordinal.

    Args:
        specs: the views and features asked for.
        entities_lean: ``(files, reader)`` of the entity rows' ordinals, timestamps and join keys.
        entity_bytes: the entity data's size (sizes the partitions).
        partitions: shuffle partitions (default from the data size and the CPUs).
    """
    return [_shuffle(g, _partitions(g, entity_bytes, partitions), entities_lean, None) for g in _groups(specs)]


def range_join(specs: Sequence[ViewSpec], window: Window, *, partitions: int | None = None) -> Any:
    """A dataset of every distinct (keys, event time) of the views inside ``window``, with features;
    sort it by time and keys.

    Raises:
        InvalidInputError: the views do not share their join keys.
    """
    groups = _groups(specs)
    if len(groups) != 1:
        raise InvalidInputError("retrieval by time range needs views with the same join keys; ask for those views separately")
    return ray.data.from_arrow_refs(_shuffle(groups[0], _partitions(specs, 0, partitions), None, window))


# ---------------------------------------------------------------------- broadcast path
_broadcast: dict[str, list] = {}


def _broadcast_batch(batch: pa.Table, ref: Any, specs: list[ViewSpec]) -> pa.Table:
    key = ref.hex()
    tables = _broadcast.get(key)
    if tables is None:  # once per worker process: the indexes are shared through the object store
        _broadcast.clear()
        tables = _broadcast[key] = ray.get(ref)
    for spec, (index, rows) in zip(specs, tables):
        entity = canonical_keys(batch.select([TS] + list(spec.join_keys)), list(spec.join_keys), spec.join_keys)
        idx = _lookup(entity, spec, index)
        for out, _ in spec.features.values():
            batch = batch.append_column(out, take_or_null(rows.column(out), idx))
    return batch


def broadcast_join(specs: Sequence[ViewSpec], entities: Any) -> Any:
    """The entity rows, in order, with features, joined against views indexed once in the driver."""
    tables = []
    for s in specs:
        schema = join_schema(s.join_keys, pa.schema([]), _feature_fields([s]))
        blocks = [t for t in ray.get(read_files(s.files, view_reader(s, schema)).to_arrow_refs()) if t.num_rows]
        rows = pa.concat_tables([t.cast(schema) for t in blocks]) if blocks else schema.empty_table()
        tables.append((_index(s, rows), rows.select([out for out, _ in s.features.values()])))
    ref = ray.put(tables)
    return entities.map_batches(_broadcast_batch, fn_args=(ref, list(specs)), batch_format="pyarrow", batch_size=65_536)


# ---------------------------------------------------------------------- writing
class _Writer:
    """A Parquet file written through a temporary name, renamed into place when complete."""

    def __init__(self, path: str, schema: pa.Schema):
        self.path, self.schema = path, schema
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self.tmp = f"{path}.tmp-{os.getpid()}"
        # Dictionary-encoding float columns (mostly distinct values) only costs time.
        dictionary = [f.name for f in schema if not pa.types.is_floating(f.type)]
        self.writer = pq.ParquetWriter(self.tmp, schema, use_dictionary=dictionary)
        self.rows = 0

    def write(self, table: pa.Table, columns: dict[str, str]) -> None:
        out = pa.Table.from_arrays([table.column(c) for c in columns], names=list(columns.values()))
        self.writer.write_table(out.cast(self.schema))
        self.rows += out.num_rows

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        self.writer.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        elif os.path.exists(self.tmp):
            os.remove(self.tmp)


def write_ordered(ds: Any, path: str, columns: dict[str, str], sort: list[str], schema: pa.Schema) -> int:
    """Stream ``ds`` (sorted by ``sort`` first, if given) into one Parquet file; rows written.

    ``columns`` maps the dataset's columns to output names, in output order; ``schema``
    is the output's. Without ``sort`` the rows must arrive in entity order (checked).
    """
    if sort:
        ds = ds.sort(sort)
    last = None
    with _Writer(path, schema) as w:
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            if batch.num_rows == 0:
                continue
            if not sort:
                o = batch.column(ORD).to_numpy()
                if (last is not None and o[0] < last) or (np.diff(o) < 0).any():
                    raise RaymlopsError("internal error: joined rows arrived out of order; report this")
                last = int(o[-1])
            w.write(batch, columns)
    return w.rows


def write_merged(entities: Any, results: Sequence[Sequence[Any]], path: str, columns: dict[str, str], schema: pa.Schema) -> int:
    """Write the entity rows (an ordered dataset) with the features of each group's partition
    tables (object refs), taking each entity batch's ordinals from every table (see module docstring)."""
    groups = []
    for refs in results:
        blocks = []
        for t in ray.get(list(refs)):
            if t.num_rows == 0:
                continue
            ords = t.column(ORD).to_numpy()
            if (np.diff(ords) < 0).any():  # a block can hold several partitions' sorted outputs
                t = t.take(pa.array(np.argsort(ords, kind="stable")))
                ords = t.column(ORD).to_numpy()
            blocks.append((t, ords))
        groups.append(blocks)
    with _Writer(path, schema) as w:
        for batch in entities.iter_batches(batch_format="pyarrow", batch_size=None):
            if batch.num_rows == 0:
                continue
            o = batch.column(ORD).to_numpy()
            if (np.diff(o) < 0).any():
                raise RaymlopsError("internal error: entity rows arrived out of order; report this")
            for blocks in groups:
                pieces = []
                for t, ords in blocks:
                    a, b = np.searchsorted(ords, o[0], "left"), np.searchsorted(ords, o[-1], "right")
                    if b > a:
                        pieces.append(t.slice(a, b - a))
                got = pa.concat_tables(pieces) if pieces else None
                if got is not None and len(pieces) > 1:
                    got = got.take(pa.array(np.argsort(got.column(ORD).to_numpy(), kind="stable")))
                if got is None or got.num_rows != batch.num_rows or not np.array_equal(got.column(ORD).to_numpy(), o):
                    raise RaymlopsError("internal error: an entity row came back from the join zero or several times; report this")
                for c in got.column_names:
                    if c != ORD:
                        batch = batch.append_column(c, got.column(c))
            w.write(batch, columns)
    return w.rows


# ---------------------------------------------------------------------- materialization
def latest_rows(spec: ViewSpec, window: Window) -> Iterator[pa.Table]:
    """Each block's newest row per key inside ``window`` (keys, ``__ts``, ``__created``, ``__ord``, features)."""
    schema = join_schema(spec.join_keys, pa.schema([]), _feature_fields([spec]))
    ds = read_files(spec.files, view_reader(spec, schema, window=window)).map_batches(
        _block_latest, fn_args=(spec,), batch_format="pyarrow", batch_size=None)
    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        if batch.num_rows:
            yield batch


def _block_latest(batch: pa.Table, spec: ViewSpec) -> pa.Table:
    rows = batch.select([c for c in batch.column_names if c not in (PART, SIDE)])
    return rows.take(pa.array(_index(spec, rows).latest()))

