"""Batch drift between two datasets: ``raymlops drift REFERENCE CURRENT``.

Each side is a data source (CSV or Parquet files, folders, globs, fsspec URIs,
``sklearn://NAME``), a pandas DataFrame, or a saved profile (``raymlops data profile --out``).

* **exact** mode reads both sides into columnar memory (pyarrow, streamed file by file)
  and judges the columns in parallel threads (the statistics sort with numpy, which
  releases the GIL): results equal scipy's.
* **sketch** mode profiles each side in one streaming, parallel pass on Ray Data (memory
  bounded by one record batch per task, so any size works) and judges the sketches, with
  each statistic's stated bound.
* **auto** (default) picks sketch mode when a side is a profile or the files of both
  sides exceed ``exact_max_bytes`` (256 MiB), else exact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from raymlops.core import runtime
from raymlops.core.errors import InvalidInputError
from raymlops.data.ingest import load_sklearn_frame
from raymlops.data.pipeline import reading
from raymlops.data.ray_ops import profile_dataset
from raymlops.data.sources import DataUnusableError, read_dataset, resolve_source
from raymlops.monitoring.judge import column_facts, columns_of, judge_column
from raymlops.monitoring.presets import PRESETS
from raymlops.monitoring.results import DriftReport
from raymlops.sketches import Profile

__all__ = ["batch_drift", "read_table", "EXACT_MAX_BYTES", "MODES"]

EXACT_MAX_BYTES = 256 << 20
MODES = ("auto", "exact", "sketch")


def _is_profile_file(data: Any) -> bool:
    if not isinstance(data, (str, os.PathLike)) or not str(data).endswith(".json") or not os.path.isfile(data):
        return False
    with open(data, "rb") as f:
        head = f.read(4096)
    return b"raymlops.profile/1" in head


def _load_profile(path: str) -> Profile:
    try:
        with open(path) as f:
            return Profile.from_dict(json.load(f))
    except (OSError, ValueError) as exc:
        raise DataUnusableError(f"cannot read profile {path}: {exc}") from None


def _size(data: Any) -> int:
    src = resolve_source(data)
    if src.kind != "file":
        return 0
    total = 0
    for p in src.paths:
        try:
            total += src.filesystem.get_file_info(p).size if src.filesystem is not None else os.path.getsize(p)
        except (OSError, AttributeError):
            pass
    return total


def read_table(data: Any, *, format: str | None = None) -> Any:
    """Read a whole source into one pyarrow Table (file by file, record batch by batch).

    Raises:
        DataUnusableError: unreadable, unknown format, or no rows.
    """
    src = resolve_source(data, format=format)
    if src.kind == "pandas":
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif src.kind == "sklearn":
        table = pa.Table.from_pandas(load_sklearn_frame(src.uri[len("sklearn://") :]), preserve_index=False)
    else:
        parts = []
        for path in src.paths:
            try:
                if src.filesystem is not None:
                    f = src.filesystem.open_input_file(path)
                else:
                    f = pa.OSFile(path) if src.format == "parquet" else pa.input_stream(path)
                with f:
                    if src.format == "parquet":
                        parts.append(pq.read_table(f))
                    else:
                        parts.append(csv.read_csv(f, read_options=csv.ReadOptions(block_size=16 << 20)))
            except (OSError, pa.ArrowInvalid) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise DataUnusableError(f"cannot read {path}: {first[:300]}") from None
        try:
            table = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
        except pa.ArrowInvalid as exc:
            raise DataUnusableError(f"the files of {src.describe()} do not share a schema: {exc}") from None
    if table.num_rows == 0:
        raise DataUnusableError(f"{src.describe() if src.kind != 'pandas' else 'the DataFrame'} has no rows: nothing to compare")
    return table


def _profile(data: Any, settings: Any, format: str | None) -> Profile:
    runtime.init(settings)
    with reading(str(data) if not hasattr(data, "columns") else "the DataFrame"):
        ds, _ = read_dataset(data, format=format)
        prof = profile_dataset(ds)
    if prof.rows == 0:
        raise DataUnusableError(f"{data} has no rows: nothing to compare")
    return prof


def batch_drift(
    reference: Any,
    current: Any,
    *,
    preset: str = "evidently",
    mode: str = "auto",
    thresholds: float | Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    drift_share: float = 0.5,
    workers: int | None = None,
    settings: Any = None,
    format: str | None = None,
    exact_max_bytes: int = EXACT_MAX_BYTES,
) -> tuple[DriftReport, Any, Any, str]:
    """Judge every shared column of two datasets, columns in parallel.

    Returns:
        ``(report, reference side, current side, mode used)``; the sides are pyarrow
        Tables (exact) or Profiles (sketch), ready for :func:`~raymlops.monitoring.report.render_html`.

    Raises:
        InvalidInputError: unknown preset or mode, exact mode asked of a profile, no
            shared column; DataUnusableError: a side cannot be read.
    """
    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}; use one of {list(PRESETS)}")
    if mode not in MODES:
        raise InvalidInputError(f"unknown mode {mode!r}; use one of {list(MODES)}")
    profiles = [_is_profile_file(reference), _is_profile_file(current)]
    if mode == "exact" and any(profiles):
        raise InvalidInputError("a saved profile holds sketches, not values: use --mode sketch (or auto) with a profile")
    if mode == "auto":
        big = not any(profiles) and (_size(reference) + _size(current) > exact_max_bytes)
        mode = "sketch" if any(profiles) or big else "exact"
    sides = []
    for data, is_prof in zip((reference, current), profiles):
        if is_prof:
            sides.append(_load_profile(str(data)))
        elif mode == "exact":
            sides.append(read_table(data, format=format))
        else:
            sides.append(_profile(data, settings, format))
    ref, cur = sides
    ref_cols, ref_get = columns_of(ref)
    cur_cols, cur_get = columns_of(cur)
    if columns is None:
        names = [c for c in ref_cols if c in set(cur_cols)]
    else:
        missing = [c for c in columns if c not in set(ref_cols) or c not in set(cur_cols)]
        if missing:
            raise InvalidInputError(f"columns {missing} are not on both sides; pass columns both have")
        names = list(columns)
    if not names:
        raise InvalidInputError("the reference and the current data share no column: compare data with the same columns")
    skipped = tuple(c for c in ref_cols + cur_cols if c not in set(names))
    accuracy = ref.relative_accuracy if isinstance(ref, Profile) else cur.relative_accuracy if isinstance(cur, Profile) else 0.01

    def one(name: str):
        thr = thresholds.get(name) if isinstance(thresholds, Mapping) else thresholds
        ref_side, cur_side = ref_get(name), cur_get(name)
        values, column_type = column_facts(ref, cur, name, ref_side, cur_side)
        return judge_column(
            name, ref_side, cur_side, preset=preset, threshold=thr, relative_accuracy=accuracy,
            values=values, column_type=column_type,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        results = list(pool.map(one, names))
    return DriftReport(tuple(results), float(drift_share), preset, tuple(dict.fromkeys(skipped))), ref, cur, mode
