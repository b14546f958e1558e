"""CSV and Parquet files, read in bounded record batches: formats, headers and the batch stream.

Pure pyarrow: :mod:`~raymlops.data.sources` uses it to resolve and peek at data, and
the Ray Data reader (:mod:`~raymlops.data.ray_read`) streams every file through
:func:`record_batches`, so no task holds more than one batch of input.

Example:
    >>> format_of("s3://bucket/part-0.PARQUET"), format_of("rows.csv.gz"), format_of("notes.txt")
    ('parquet', 'csv', None)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from raymlops.data.errors import DataUnusableError

__all__ = ["FORMATS", "csv_header", "csv_string_options", "format_of", "is_blank", "record_batches"]

FORMATS = ("csv", "parquet")
_EXT = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".csv.gz": "csv"}
_CSV_BLOCK = 16 << 20  # bytes of CSV parsed at once


def format_of(path: str) -> str | None:
    """``csv`` or ``parquet`` from a file name's extension; None when it does not tell."""
    low = path.lower()
    for ext, fmt in sorted(_EXT.items(), key=lambda kv: -len(kv[0])):
        if low.endswith(ext):
            return fmt
    return None


def is_blank(path: str) -> bool:
    """An empty local file, or one with only whitespace."""
    size = os.path.getsize(path)
    if size > 64:
        return False
    with open(path, "rb") as f:
        return not f.read().strip()


def csv_header(path: str, filesystem: Any = None) -> list[str]:
    """The column names in a CSV file's header, in order.

    Raises:
        DataUnusableError: the file cannot be read as CSV.
    """
    try:
        stream = filesystem.open_input_stream(path) if filesystem is not None else pa.input_stream(path)  # .gz too
        with stream:
            return list(csv.open_csv(stream).schema.names)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataUnusableError(f"cannot read the header of {path}: {str(exc).splitlines()[0]}") from None


def csv_string_options(path: str, filesystem: Any = None) -> csv.ConvertOptions:
    """CSV convert options that read every column of the header as a string."""
    names = csv_header(path, filesystem)
    # only an empty field is null: "nan", "NA" or "null" reach validation as written
    return csv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True, null_values=[""])


def _open(path: str, fmt: str, filesystem: Any) -> Any:
    if filesystem is not None:
        return filesystem.open_input_file(path)
    return pa.input_stream(path) if fmt == "csv" else pa.OSFile(path)


def record_batches(
    path: str, fmt: str, *, strings: bool = False, filesystem: Any = None, batch_rows: int = 262_144
) -> Iterator[pa.Table]:
    """The rows of one file as tables of at most ``batch_rows`` rows (Parquet) or one CSV block.

    Args:
        path: the file.
        fmt: ``csv`` or ``parquet``.
        strings: read CSV columns as strings, so that validation (not the reader) decides
            what a malformed value is.
        filesystem: a pyarrow filesystem for a remote file, or None for a local one.
        batch_rows: the most rows of a Parquet batch.
    """
    with _open(path, fmt, filesystem) as f:
        if fmt == "parquet":
            batches = pq.ParquetFile(f).iter_batches(batch_size=batch_rows)
        else:
            convert = csv_string_options(path, filesystem) if strings else csv.ConvertOptions()
            batches = csv.open_csv(f, read_options=csv.ReadOptions(block_size=_CSV_BLOCK), convert_options=convert)
        for rb in batches:
            if rb.num_rows:
                yield pa.Table.from_batches([rb])
