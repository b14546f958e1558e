"""The Ray Data shell of the data pipeline.

Every function here streams a ``ray.data.Dataset`` block by block through one of the
pure, unit-tested cores (:mod:`~raymlops.data.schema`, :mod:`~raymlops.data.validation`,
:mod:`~raymlops.sketches.profile`, :mod:`~raymlops.data.split`) with ``map_batches``, and
merges the per-block results (schema builders, validation reports, profiles, counts) in
the driver. Outputs are written by the block tasks themselves as Parquet part files, so
a pass reads the data once, in parallel, without holding it in memory.

Part files are named after a fingerprint of their block, so a retried task overwrites
its own output instead of duplicating rows.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pickle
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import ray  # ray.data loads on first use (Ray's lazy attribute, about 1 s), not with this module

from raymlops.core import runtime
from raymlops.core.errors import InvalidInputError
from raymlops.data.schema import Schema, SchemaBuilder
from raymlops.data.split import (
    assign_split,
    assign_stratified_split,
    class_hashes,
    normalize_fractions,
    stratified_cutoffs,
)
from raymlops.data.validation import REASONS_COLUMN, KeyTracker, ValidationReport, validate_batch
from raymlops.sketches import Profile

__all__ = [
    "ValidationOutcome",
    "infer_schema_dataset",
    "profile_dataset",
    "validate_dataset",
    "split_dataset",
    "ray_map",
    "count_rows",
]


def _fingerprint(table: Any) -> str:
    """A cheap, deterministic name for a block: its size, columns and edge rows."""
    h = hashlib.sha1(f"{table.num_rows}|{table.column_names}".encode())
    if table.num_rows:
        h.update(repr(table.slice(0, 1).to_pylist()).encode())
        h.update(repr(table.slice(table.num_rows - 1, 1).to_pylist()).encode())
    return h.hexdigest()[:20]


def _write_part(table: Any, folder: str, name: str) -> None:
    if table.num_rows == 0:
        return
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{name}-{os.getpid()}.parquet")
    pq.write_table(table, tmp)
    os.replace(tmp, os.path.join(folder, f"part-{name}.parquet"))


def _pickled(obj: Any) -> dict[str, list[bytes]]:
    return {"payload": [pickle.dumps(obj, protocol=5)]}


def _collect(ds: Any) -> list[Any]:
    return [pickle.loads(row["payload"]) for row in ds.iter_rows()]


def _map(ds: Any, fn: Callable[[Any], dict[str, list[bytes]]], **kwargs: Any):
    return ds.map_batches(fn, batch_format="pyarrow", batch_size=None, zero_copy_batch=True, **kwargs)


# ---------------------------------------------------------------------------- schema


def infer_schema_dataset(
    ds: Any, *, label: str | None = None, key: str | list[str] | None = None, max_domain: int = 100
) -> Schema:
    """Infer a schema in one parallel pass (schema builders merged in the driver)."""

    def build(batch):
        b = SchemaBuilder(max_domain=max_domain)
        b.update(batch)
        return _pickled(b)

    builders = _collect(_map(ds, build))
    if not builders:
        raise InvalidInputError("the data has no rows: nothing to infer a schema from")
    merged = builders[0]
    for b in builders[1:]:
        merged = merged.merge(b)
    if merged.rows == 0:
        raise InvalidInputError("the data has no rows: nothing to infer a schema from")
    return merged.build(label=label, key=key)


# ---------------------------------------------------------------------------- profile


def profile_dataset(ds: Any, *, schema: Schema | None = None, relative_accuracy: float = 0.01) -> Profile:
    """Profile every column in one parallel pass; block profiles are merged exactly."""

    def new() -> Profile:
        if schema is not None:
            return Profile.for_schema(schema, relative_accuracy=relative_accuracy)
        return Profile(relative_accuracy=relative_accuracy)

    def build(batch):
        p = new()
        p.update(batch)
        return _pickled(p)

    total = new()
    for p in _collect(_map(ds, build)):
        total = total.merge(p)
    return total


# ---------------------------------------------------------------------------- validation


@dataclass
class ValidationOutcome:
    """What a validation pass produced."""

    report: ValidationReport
    profile: Profile
    valid_dir: str | None = None
    quarantine_path: str | None = None
    columns: list[str] = field(default_factory=list)


class _Validator:
    """Validates one block: writes its valid and quarantined rows, profiles the valid ones."""

    def __init__(self, schema: Schema, valid_dir: str | None, quarantine_dir: str | None, relative_accuracy: float):
        self.schema = schema
        self.valid_dir = valid_dir
        self.quarantine_dir = quarantine_dir
        self.relative_accuracy = relative_accuracy

    def __call__(self, batch: Any, keys: KeyTracker | None = None) -> dict[str, list[bytes]]:
        res = validate_batch(batch, self.schema, keys=keys, threads=1 if keys is None else None)
        name = _fingerprint(batch)
        if self.valid_dir:
            _write_part(res.valid, self.valid_dir, name)
        if self.quarantine_dir:
            _write_part(res.quarantined, self.quarantine_dir, name)
        profile = Profile.for_schema(self.schema, relative_accuracy=self.relative_accuracy)
        profile.update(res.valid)
        return _pickled((res.report, profile, batch.column_names))


def validate_dataset(
    ds: Any,
    schema: Schema,
    *,
    valid_dir: str | None = None,
    quarantine_path: str | None = None,
    relative_accuracy: float = 0.01,
) -> ValidationOutcome:
    """Validate every row against ``schema`` and profile the valid rows, in one pass.

    Without a key in the schema, blocks are validated in parallel tasks. With a key,
    duplicates are defined by input order (the first occurrence stays valid), so blocks
    are read in parallel but validated in order in the driver with one key tracker.

    Args:
        ds: the data (read CSV with ``strings=True`` so malformed values reach validation).
        schema: what the data must look like.
        valid_dir: a folder for the valid rows as Parquet parts (not written if ``None``).
        quarantine_path: a Parquet file for the quarantined rows with their ``__reasons``.

    Raises:
        SchemaMismatchError: a schema column is missing entirely (exit code 1).
    """
    q_parts = f"{quarantine_path}.parts" if quarantine_path else None
    for d in (valid_dir, q_parts):
        if d and os.path.isdir(d):
            shutil.rmtree(d)
    validator = _Validator(schema, valid_dir, q_parts, relative_accuracy)
    if schema.key:
        tracker = KeyTracker()
        with runtime.preserving_order(ds):
            results = [
                pickle.loads(validator(batch, keys=tracker)["payload"][0])
                for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None, prefetch_batches=2)
            ]
    else:
        results = _collect(_map(ds, validator))
    report = ValidationReport()
    profile = Profile.for_schema(schema, relative_accuracy=relative_accuracy)
    columns: list[str] = []
    for rep, prof, cols in results:
        report.add(rep)
        profile = profile.merge(prof)
        columns = columns or list(cols)
    if report.rows_in != report.rows_valid + report.rows_quarantined:  # pragma: no cover - invariant
        raise AssertionError("rows_in != rows_valid + rows_quarantined")
    if quarantine_path:
        _combine_parts(q_parts, quarantine_path, columns)
    if valid_dir and not glob.glob(os.path.join(valid_dir, "*.parquet")):
        os.makedirs(valid_dir, exist_ok=True)
    return ValidationOutcome(report, profile, valid_dir, quarantine_path, columns)


def _combine_parts(parts_dir: str | None, path: str, columns: list[str]) -> None:
    """Concatenate part files into one Parquet file (an empty one if there are none)."""
    files = sorted(glob.glob(os.path.join(parts_dir, "*.parquet"))) if parts_dir else []
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    if files:
        tables = [pq.read_table(f) for f in files]
        table = pa.concat_tables(tables, promote_options="permissive")
    else:
        table = pa.table({**{c: pa.array([], pa.string()) for c in columns}, REASONS_COLUMN: pa.array([], pa.string())})
    pq.write_table(table, path)
    if parts_dir and os.path.isdir(parts_dir):
        shutil.rmtree(parts_dir)


# ---------------------------------------------------------------------------- split


def split_dataset(
    ds: Any,
    out_dirs: Mapping[str, str],
    *,
    key: str | list[str] | None = None,
    fractions: Mapping[str, float] | None = None,
    stratify: str | None = None,
    salt: str = "",
) -> dict[str, int]:
    """Write each row to the folder of its split; returns the row count per split.

    A row's split depends only on its key (or content) hash, so it is the same across
    reruns and whatever the block count. With ``stratify`` (a label column), a first
    pass collects per-class hashes so every class gets its exact share.
    """
    frac = normalize_fractions(fractions)
    if set(frac) != set(out_dirs):
        raise InvalidInputError(f"split names {sorted(frac)} do not match output folders {sorted(out_dirs)}")
    for d in out_dirs.values():
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d, exist_ok=True)
    cutoffs = None
    if stratify is not None:

        def hashes(batch):
            return _pickled(class_hashes(batch.to_pandas(), label=stratify, key=key, salt=salt))

        cutoffs = stratified_cutoffs(pd.concat(_collect(_map(ds, hashes)), ignore_index=True), fractions=frac)

    def write(batch):
        df = batch.to_pandas()
        if cutoffs is not None:
            names = assign_stratified_split(df, cutoffs, label=stratify, key=key, salt=salt)
        else:
            names = assign_split(df, key=key, fractions=frac, salt=salt)
        fp = _fingerprint(batch)
        counts = {}
        for split_name, folder in out_dirs.items():
            mask = names == split_name
            counts[split_name] = int(mask.sum())
            _write_part(batch.filter(np.asarray(mask)), folder, fp)
        return _pickled(counts)

    total = {name: 0 for name in out_dirs}
    for counts in _collect(_map(ds, write)):
        for k, v in counts.items():
            total[k] += v
    return total


# ---------------------------------------------------------------------------- helpers


def ray_map(fn: Callable[..., Any], *iterables: Any, num_cpus: float = 1) -> list[Any]:
    """``map`` with every call a Ray task (results in order): folds, trials, shards."""
    task = ray.remote(num_cpus=num_cpus)(fn)
    return ray.get([task.remote(*args) for args in zip(*iterables)])


def count_rows(ds: Any) -> int:
    """The number of rows of a Dataset."""
    return int(ds.count())
