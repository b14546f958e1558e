"""Validating one batch: every column checked (on a shared thread pool), rows split.

See :mod:`raymlops.data.validation` for the reasons format, the anomaly kinds and the
duplicate-key rule.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from raymlops.core.errors import InvalidInputError
from raymlops.data.schema.arrow import as_table
from raymlops.data.schema.model import ColumnSchema, Schema
from raymlops.data.validation._checks import Failure, column_failures, example, reasons
from raymlops.data.validation._convert import Typed, convert, single
from raymlops.data.validation.keys import KeyTracker, duplicate_failure
from raymlops.data.validation.report import (
    REASONS_COLUMN,
    Anomaly,
    BatchResult,
    SchemaMismatchError,
    column_list,
)

__all__ = ["validate_batch"]

_PARALLEL_ROWS = 100_000
_POOL: tuple[ThreadPoolExecutor, int] | None = None  # the shared pool and its size
_POOL_LOCK = threading.Lock()


def _workers(threads: int | None, rows: int) -> int:
    if threads is not None:
        if threads < 1:
            raise InvalidInputError(f"threads must be 1 or more, got {threads}")
        return threads
    return 1 if rows < _PARALLEL_ROWS else max(1, min(4, os.cpu_count() or 1))


def _map(fn: Any, items: Any, workers: int) -> list[Any]:
    """``[fn(x) for x in items]``, on a shared thread pool when ``workers`` > 1.

    pyarrow and numpy release the GIL in their kernels, so columns are checked in parallel.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[1] < workers:
            if _POOL is not None:
                _POOL[0].shutdown(wait=False)
            _POOL = (ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raymlops-validate"), workers)
        pool = _POOL[0]
    return list(pool.map(fn, items))


def validate_batch(
    batch: Any,
    schema: Schema,
    *,
    keys: KeyTracker | None = None,
    batch_index: int | None = None,
    threads: int | None = None,
) -> BatchResult:
    """Check every row of a batch against ``schema`` and quarantine the failing ones.

    Args:
        batch: a pyarrow Table or RecordBatch (fastest) or a pandas DataFrame.
        schema: what the columns should hold.
        keys: a tracker shared across batches, to catch duplicate keys that span batches
            (the module docstring gives the rule); without it, within this batch only.
        batch_index: the batch's place in the input (way (b)); defaults to the tracker's
            ``next_batch_index`` (way (a), batches in order).
        threads: threads checking columns at once; default the number of CPUs (at most
            4), and 1 for batches under 100,000 rows. Pass 1 inside a one-CPU Ray task.

    Returns:
        The valid rows, the quarantined rows with ``__reasons``, and the anomaly counts.

    Raises:
        SchemaMismatchError: columns of the schema are missing from the batch.
    """
    table = as_table(batch)
    if REASONS_COLUMN in table.column_names:
        table = table.drop_columns([REASONS_COLUMN])
    present = set(table.column_names)
    missing = [name for name in schema.names if name not in present]
    if missing:
        raise SchemaMismatchError(
            columns=column_list(missing),
            found=column_list(table.column_names),
            details=[{"column": name, "kind": "missing_column"} for name in missing],
        )
    n = table.num_rows
    label = schema.label.column if schema.label is not None else None
    classes = schema.label_values()
    workers = _workers(threads, n)

    def check_column(col: ColumnSchema) -> tuple[Typed, list[Failure]]:
        arr = single(table.column(col.name))
        converted = convert(arr, col.type)
        return converted, column_failures(col, arr, converted, classes if col.name == label else None)

    def check_key() -> Failure | None:
        typed = {k: convert(single(table.column(k)), schema.column(k).type).values for k in schema.key}
        return duplicate_failure(schema, typed, keys, batch_index, n)

    # the key check (the longest task) goes first, so it runs alongside the column checks
    tasks = ([check_key] if schema.key else []) + [lambda col=col: check_column(col) for col in schema.columns]
    results = _map(lambda task: task(), tasks, workers)
    duplicates = results.pop(0) if schema.key else None
    failures: list[Failure] = []
    out = table
    for col, (converted, found) in zip(schema.columns, results):
        if converted.changed:
            out = out.set_column(out.schema.get_field_index(col.name), col.name, converted.values)
        failures.extend(found)
    if duplicates is not None:
        failures.append(duplicates)

    known = set(schema.names)
    anomalies = [
        Anomaly(
            name,
            "unexpected_column",
            n,
            f"with column {name!r}, which is not in the schema; the rows were kept: add the column to the "
            "schema, or drop it from the data",
        )
        for name in table.column_names
        if name not in known
    ]
    for f in failures:
        shown = example(f.values, f.mask) if f.values is not None and "{example}" in f.hint else ""
        anomalies.append(Anomaly(f.column, f.kind, f.count, f.hint.replace("{example}", shown)))

    if not failures:
        empty = table.slice(0, 0).append_column(REASONS_COLUMN, pa.array([], pa.large_string()))
        return BatchResult(valid=out, quarantined=empty, rows_in=n, anomalies=tuple(anomalies))
    bad = failures[0].mask.copy()
    for f in failures[1:]:
        bad |= f.mask
    rows = np.flatnonzero(bad)
    keep = pa.array(~bad)
    take = pa.array(rows)
    columns = _map(lambda c: c.filter(keep), out.columns, workers)
    valid = pa.Table.from_arrays(columns, schema=out.schema)
    quarantined = table.take(take).append_column(REASONS_COLUMN, reasons(failures, rows))
    return BatchResult(valid=valid, quarantined=quarantined, rows_in=n, anomalies=tuple(anomalies))
