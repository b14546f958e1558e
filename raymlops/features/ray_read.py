"""Reading feature sources and entity rows into Ray Data, file by file, with positions.

One Ray Data task per file streams it in record batches (Parquet: only the columns
needed), turns its timestamps into UTC microseconds, casts join keys to their canonical
type, adds the row's position (``file << 40 | row``: file order, then row order, the
last tie-break and the entity row's ordinal), optionally a partition id from the key
hash and a time-window filter, and emits the batch in a fixed layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray.data
from pyarrow import csv

from raymlops.core.errors import InvalidInputError
from raymlops.features.partition import CREATED, FILE_SHIFT, ORD, PART, SIDE, TS, canonical_keys, conform, partition_ids
from raymlops.features.plan import FileSet, ViewSpec, Window
from raymlops.features.times import arrow_to_us, utc_us

__all__ = ["Reader", "chunks", "entity_reader", "read_entities", "read_files", "view_reader"]


class Reader:
    """Ray Data UDF: reads the files named in a batch (``path``, ``index``) into ``schema``.

    Args:
        files: the file set (format and filesystem).
        schema: the output layout; columns not produced are null.
        rename: source column → output column (copied as they are, then cast).
        times: source timestamp column → output column (``__ts``/``__created``).
        keys: canonical key types (cast, and hashed when ``partitions``).
        side: the ``__side`` value of every row.
        partitions: add ``__part`` from the key hash.
        window: keep only rows inside this time window.
    """

    def __init__(self, files: FileSet, *, schema: pa.Schema, rename: dict[str, str], times: dict[str, str],
                 keys: dict[str, pa.DataType], side: int = 0, partitions: int | None = None, window: Window | None = None,
                 batch_rows: int = 262_144):
        self.files, self.schema, self.rename, self.times = files, schema, rename, times
        self.keys, self.side, self.partitions, self.window, self.batch_rows = keys, side, partitions, window, batch_rows

    def _batches(self, path: str, groups: list[int] | None = None) -> Iterator[pa.Table]:
        fs = self.files.filesystem
        if self.files.format == "parquet":
            f = fs.open_input_file(path) if fs is not None else pa.OSFile(path)
            with f:
                pf = pq.ParquetFile(f)
                wanted = [c for c in pf.schema_arrow.names if c in self.rename or c in self.times]
                for rb in pf.iter_batches(batch_size=self.batch_rows, columns=wanted, row_groups=groups):
                    yield pa.Table.from_batches([rb])
        else:
            stream = fs.open_input_stream(path) if fs is not None else pa.input_stream(path)
            with stream:
                for rb in csv.open_csv(stream, read_options=csv.ReadOptions(block_size=16 << 20)):
                    yield pa.Table.from_batches([rb])

    def __call__(self, batch: pa.Table, groups: list[int] | None = None, first_row: int = 0) -> Iterator[pa.Table]:
        """Read each file of ``batch``; or only Parquet row ``groups`` starting at row ``first_row``."""
        for path, index in zip(batch.column("path").to_pylist(), batch.column("index").to_pylist()):
            row0 = first_row
            for t in self._batches(path, groups):
                n = t.num_rows
                if n == 0:
                    continue
                missing = [c for c in list(self.rename) + list(self.times) if c not in t.column_names]
                if missing:
                    raise InvalidInputError(f"{path} has no column {', '.join(map(repr, missing))}; check the source definition")
                cols: dict[str, Any] = {dst: t.column(src) for src, dst in self.rename.items()}
                for src, dst in self.times.items():
                    cols[dst] = utc_us(t.column(src), what=f"column {src!r} of {path}")
                cols[ORD] = pa.array((index << FILE_SHIFT) + row0 + np.arange(n, dtype=np.int64))
                row0 += n
                if SIDE in self.schema.names:
                    cols[SIDE] = pa.array(np.full(n, self.side, np.int8))
                if self.keys:
                    keyed = canonical_keys(pa.table({k: cols[k] for k in self.keys}), list(self.keys), self.keys)
                    cols.update({k: keyed.column(k) for k in self.keys})
                    if self.partitions:
                        cols[PART] = pa.array(partition_ids(keyed, list(self.keys), self.partitions))
                table = conform(cols, self.schema, n)
                if self.window is not None:
                    keep = self.window.mask(arrow_to_us(table.column(TS)), arrow_to_us(table.column(CREATED)) if CREATED in table.column_names else None)
                    if not keep.all():
                        table = table.filter(pa.array(keep))
                if table.num_rows:
                    yield table


def chunks(files: FileSet, rows: int = 1 << 20) -> list[tuple[str, int, list[int] | None, int]]:
    """Work units of at most about ``rows`` rows: ``(path, file index, row groups, first row)``.

    A Parquet file is cut at row-group boundaries (its footer says where); a CSV file is one unit.
    """
    out = []
    for index, path in enumerate(files.paths):
        if files.format != "parquet":
            out.append((path, index, None, 0))
            continue
        f = files.filesystem.open_input_file(path) if files.filesystem is not None else pa.OSFile(path)
        with f:
            meta = pq.ParquetFile(f).metadata
        groups: list[int] = []
        first = start = count = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and count + n > rows:
                out.append((path, index, groups, start))
                groups, start, count = [], first, 0
            groups.append(g)
            count += n
            first += n
        out.append((path, index, groups or None, start))
    return out


def read_files(files: FileSet, reader: Reader, ordered: bool = False):
    """A dataset of ``files`` read by ``reader`` (in file and row order when ``ordered``)."""
    ds = ray.data.from_items([{"path": p, "index": i} for i, p in enumerate(files.paths)], override_num_blocks=len(files.paths))
    if ordered:
        ds.context.execution_options.preserve_order = True
    return ds.map_batches(reader, batch_format="pyarrow", batch_size=1)


def view_reader(spec: ViewSpec, schema: pa.Schema, *, side: int = 1, partitions: int | None = None,
                window: Window | None = None, slots: list[str] | None = None) -> Reader:
    """The reader of a view's rows; feature columns go to ``slots`` (or their output names)."""
    outs = slots or [out for out, _ in spec.features.values()]
    rename = {k: k for k in spec.join_keys} | dict(zip(spec.features, outs))
    times = {spec.timestamp_field: TS} | ({spec.created_column: CREATED} if spec.created_column else {})
    return Reader(spec.files, schema=schema, rename=rename, times=times, keys=spec.join_keys, side=side,
                  partitions=partitions, window=window)


def entity_reader(files: FileSet, layout: pa.Schema, timestamp_col: str, *, keys: list[str] | None = None) -> Reader:
    """The reader of entity rows in ``layout`` (``__ord``, ``__ts``, then columns); with ``keys``,
    only those columns (the lean side of the shuffle)."""
    names = [f.name for f in layout if f.name not in (ORD, TS)] if keys is None else keys
    schema = layout if keys is None else pa.schema([layout.field(ORD), layout.field(TS)] + [layout.field(k) for k in keys])
    return Reader(files, schema=schema, rename={c: c for c in names}, times={timestamp_col: TS}, keys={})


def read_entities(files: FileSet, layout: pa.Schema, timestamp_col: str):
    """Entity rows in ``layout``, in order, as a dataset."""
    return read_files(files, entity_reader(files, layout, timestamp_col), ordered=True)
