"""Check definitions against the real files: paths, columns and column types.

For each source: the path resolves to Parquet or CSV files; the timestamp columns exist
and hold timestamps (or ISO 8601 text). For each view: its join keys and features exist
in its source, keys are integers or strings, and each feature's type matches its
declared ``dtype`` (an integer column may be declared ``float``). An entity whose key
has different types in two sources is an error too. Only schemas are read (Parquet
footers, the first block of a CSV file), never the rows.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from raymlops.core import coltypes
from raymlops.core.errors import RaymlopsError
from raymlops.features.plan import file_schema, files_of
from raymlops.features.repo import DefinitionError, Repository
from raymlops.features.times import arrow_to_us

__all__ = ["check_files"]

_MAX_FOOTERS = 200


def _compatible(declared: str, found: str | None) -> bool:
    return found is None or found == declared or (declared == "float" and found == "int")


def _schemas(files) -> list[tuple[str, pa.Schema]]:
    if files.format != "parquet" or files.filesystem is not None:
        return [(files.paths[0], file_schema(files))]
    return [(p, pq.read_schema(p)) for p in files.paths[:_MAX_FOOTERS]]


def _time_column_ok(files, path: str, schema: pa.Schema, column: str) -> str | None:
    kind = coltypes.from_arrow(schema.field(column).type)
    if kind == "datetime":
        return None
    if kind == "string" and files.format == "csv":
        with pa.input_stream(path) as stream:
            block = next(iter(csv.open_csv(stream, read_options=csv.ReadOptions(block_size=1 << 20))), None)
        if block is None:
            return None
        try:
            arrow_to_us(block.column(block.schema.get_field_index(column)))
            return None
        except RaymlopsError as exc:
            return exc.message
    return f"has type {schema.field(column).type}, not a timestamp"


def check_files(repo: Repository) -> dict[str, dict[str, str]]:
    """Check every source and view against its files; the column types found, per source.

    Raises:
        DefinitionError: every problem found, each naming the file, the source or view, and the key.
    """
    problems: list[str] = []
    found: dict[str, dict[str, str]] = {}
    schemas: dict[str, list[tuple[str, pa.Schema]]] = {}
    origin = repo.origin
    for i, src in enumerate(repo.sources):
        where = f"sources[{i}] {src.name!r}"
        try:
            files = files_of(repo.source_path(src.name))
            schemas[src.name] = _schemas(files)
        except RaymlopsError as exc:
            problems.append(f"{where}.path: {exc.message}")
            continue
        for path, schema in schemas[src.name]:
            for key in ("timestamp_field", "created_timestamp_column"):
                col = getattr(src, key)
                if col is None:
                    continue
                if col not in schema.names:
                    problems.append(f"{where}.{key}: {path} has no column {col!r} (it has {', '.join(schema.names)})")
                else:
                    why = _time_column_ok(files, path, schema, col)
                    if why:
                        problems.append(f"{where}.{key}: column {col!r} of {path} {why}; store timestamps (naive means UTC)")
        first = schemas[src.name][0][1]
        found[src.name] = {f.name: coltypes.from_arrow(f.type) or "null" for f in first}
    key_types: dict[str, tuple[str, str]] = {}
    for i, view in enumerate(repo.feature_views):
        where = f"feature_views[{i}] {view.name!r}"
        for path, schema in schemas.get(view.source, []):
            for key in repo.join_keys(view.name):
                if key not in schema.names:
                    problems.append(f"{where}.entities: join key {key!r} is not a column of {path}")
                    continue
                kind = coltypes.from_arrow(schema.field(key).type)
                if kind not in ("int", "string", None):
                    problems.append(f"{where}.entities: join key {key!r} of {path} is {kind}; join keys must be int or string")
                elif kind is not None:
                    seen = key_types.setdefault(key, (kind, path))
                    if seen[0] != kind:
                        problems.append(f"{where}.entities: join key {key!r} is {kind} in {path} but {seen[0]} in {seen[1]}")
            for j, feature in enumerate(view.features):
                if feature.name not in schema.names:
                    problems.append(f"{where}.features[{j}] {feature.name!r}: no such column in {path} (it has {', '.join(schema.names)})")
                    continue
                kind = coltypes.from_arrow(schema.field(feature.name).type)
                if not _compatible(feature.dtype, kind):
                    problems.append(
                        f"{where}.features[{j}] {feature.name!r}: declared {feature.dtype} but {path} holds {kind} "
                        f"({schema.field(feature.name).type}); fix the dtype or the data"
                    )
    if problems:
        shown = "; ".join(problems[:6]) + (f" (and {len(problems) - 6} more)" if len(problems) > 6 else "")
        raise DefinitionError(f"{origin}: {shown}", details=problems)
    return found
