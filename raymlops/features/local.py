"""The point-in-time join in this process, for small data: whole tables into the kernel, no Ray.

``FeatureStore.get_historical_features(..., engine="local")`` and the pipelines'
``training_set`` step (for inputs up to :data:`LOCAL_BYTES`) use it: starting Ray costs
seconds, a join of a few MiB costs milliseconds. It reads each source with pyarrow, casts
the join keys to their canonical types on both sides (as the Ray readers do), and runs
:func:`~raymlops.features.pit.point_in_time_join`, the kernel the Ray paths run per
partition; the output has the same schema as theirs. Rows keep their source order (files
in sorted path order), the last tie-break.

Example:
    >>> import os, tempfile
    >>> from raymlops.features.repo import load_repo
    >>> from raymlops.features.plan import view_specs
    >>> from raymlops.features.sample import write_driver_repo
    >>> p = write_driver_repo(tempfile.mkdtemp(), drivers=3, hours=4, trips=5, seed=1)
    >>> repo = load_repo(p["repo"])
    >>> specs = view_specs(repo, repo.resolve(service="driver_model"))
    >>> out = local_join(specs, read_table(files_of(p["entities"])), "event_timestamp")
    >>> out.num_rows, out.column_names[3:]
    (5, ['driver_hourly__conv_rate', 'driver_hourly__acc_rate', 'driver_hourly__avg_daily_trips', 'driver_daily__rating'])
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from raymlops.features.partition import canonical_keys
from raymlops.features.pit import ViewInput, point_in_time_join, spine_from_views
from raymlops.features.plan import FileSet, ViewSpec, files_of

__all__ = ["LOCAL_BYTES", "files_of", "local_join", "local_range_join", "read_table"]

LOCAL_BYTES = 32 << 20
"""Inputs (feature sources plus entity rows) up to this size are joined in process by ``engine="auto"``."""


def read_table(files: FileSet, columns: Sequence[str] | None = None) -> pa.Table:
    """Every file of ``files`` (Parquet or CSV) as one table, in file order; only ``columns`` when given."""
    parts = []
    for path in files.paths:
        if files.format == "parquet":
            t = pq.read_table(path, columns=list(columns) if columns else None, filesystem=files.filesystem)
        else:
            stream = files.filesystem.open_input_stream(path) if files.filesystem is not None else pa.input_stream(path)
            with stream:
                t = csv.read_csv(stream)
            t = t.select(list(columns)) if columns else t
        parts.append(t)
    return pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]


def _view_input(spec: ViewSpec) -> ViewInput:
    cols = list(dict.fromkeys([*spec.join_keys, spec.timestamp_field, *([spec.created_column] if spec.created_column else []), *spec.features]))
    table = canonical_keys(read_table(spec.files, cols), list(spec.join_keys), spec.join_keys)
    return ViewInput(name=spec.name, table=table, join_keys=list(spec.join_keys), timestamp_field=spec.timestamp_field,
                     features=list(spec.features), created_column=spec.created_column, ttl=spec.ttl)


def local_join(specs: Sequence[ViewSpec], entities: pa.Table, timestamp_col: str) -> pa.Table:
    """The entity rows, in order, with each spec's ``view__feature`` columns (timestamp as UTC)."""
    keys = {k: t for s in specs for k, t in s.join_keys.items()}
    return point_in_time_join(canonical_keys(entities, list(keys), keys), [_view_input(s) for s in specs], timestamp_col=timestamp_col)


def local_range_join(specs: Sequence[ViewSpec], *, start: int | None, end: int | None, timestamp_col: str) -> pa.Table:
    """Every distinct ``(keys, event time)`` of the views in ``[start, end]``, with the features as of then."""
    views = [_view_input(s) for s in specs]
    spine = spine_from_views(views, start=start, end=end, timestamp_col=timestamp_col)
    return point_in_time_join(spine, views, timestamp_col=timestamp_col)
