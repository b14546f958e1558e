"""The Ray Data reader: files and DataFrames as a lazy, streaming ``ray.data.Dataset``.

Files are read by one task per file, in record batches (:func:`raymlops.data.files.record_batches`);
steps mapped over the dataset fuse into the same tasks. (Ray Data's own ``read_parquet``
lists files in a separate task and groups files into blocks; on two cores that costs
about as much as validating 5M rows.) :func:`raymlops.data.sources.read_dataset` resolves
what to read and calls these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import ray  # ray.data loads on first use (Ray's lazy attribute, about 1 s), not with this module

from raymlops.data.files import record_batches

__all__ = ["FileReader", "from_frame", "read_files"]


class FileReader:
    """A Ray Data UDF: reads the files named in a batch, yielding bounded row batches.

    Each file streams in record batches (Parquet row groups, CSV blocks), so one
    task never holds more than ``batch_rows`` rows of input, whatever the file size,
    and the steps fused after it (validation, profiling) run batch by batch.
    """

    def __init__(self, fmt: str, strings: bool, filesystem: Any, batch_rows: int):
        self.fmt = fmt
        self.strings = strings
        self.filesystem = filesystem
        self.batch_rows = batch_rows

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        for path in batch.column("path").to_pylist():
            yield from record_batches(
                path, self.fmt, strings=self.strings, filesystem=self.filesystem, batch_rows=self.batch_rows
            )


def read_files(
    paths: Sequence[str], fmt: str, *, strings: bool = False, filesystem: Any = None, batch_rows: int = 262_144
) -> Any:
    """The rows of ``paths`` (all ``csv`` or all ``parquet``) as a lazy Dataset, one task per file."""
    files = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=len(paths))
    reader = FileReader(fmt, strings, filesystem, batch_rows)
    return files.map_batches(reader, batch_format="pyarrow", batch_size=1)


def from_frame(df: pd.DataFrame) -> Any:
    """A DataFrame as a Dataset."""
    return ray.data.from_pandas(df)
