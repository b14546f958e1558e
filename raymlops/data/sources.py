"""Data sources → ``ray.data.Dataset``: CSV and Parquet files, folders, globs and fsspec
URIs, pandas DataFrames, and scikit-learn's bundled datasets (``sklearn://iris``).

Reading is lazy and streaming (Ray Data reads blocks as they are consumed), so data
larger than memory flows through validation and profiling block by block.
:func:`resolve_source` and :func:`peek_columns` work out what the data is without Ray;
:func:`read_dataset` hands the files to the Ray Data reader (:mod:`~raymlops.data.ray_read`).

Unusable input (a path that does not exist, a format we cannot tell, no rows) raises
:class:`DataUnusableError` (exit code 2) with a message that says what to pass instead.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import Any

import fsspec
import pandas as pd
import pyarrow.parquet as pq
from pyarrow.fs import FSSpecHandler, PyFileSystem

from raymlops.data.bundled import SKLEARN_DATASETS, load_sklearn_frame
from raymlops.data.errors import DataUnusableError
from raymlops.data.files import FORMATS, csv_header, format_of, is_blank
from raymlops.data.ray_read import from_frame, read_files

__all__ = ["FORMATS", "DataUnusableError", "Source", "peek_columns", "read_dataset", "resolve_source"]


@dataclass(frozen=True)
class Source:
    """A resolved data source: what to read and how."""

    kind: str  # "file" | "sklearn" | "pandas"
    format: str | None
    paths: tuple[str, ...] = ()
    uri: str = ""
    filesystem: Any = None

    def describe(self) -> str:
        return self.uri or ", ".join(self.paths)


def resolve_source(data: Any, *, format: str | None = None) -> Source:
    """Work out what ``data`` is and which reader it needs, without reading it.

    Raises:
        DataUnusableError: the path does not exist, matches nothing, or has an unknown format.
    """
    if format is not None and format not in FORMATS:
        raise DataUnusableError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    if isinstance(data, pd.DataFrame):
        return Source(kind="pandas", format=None, uri="pandas://DataFrame")
    if not isinstance(data, (str, os.PathLike)):
        raise DataUnusableError(
            f"cannot read data of type {type(data).__name__}: pass a path, a glob, a URI or a pandas DataFrame"
        )
    text = os.fspath(data)
    if text.startswith("sklearn://"):
        name = text[len("sklearn://") :].removeprefix("load_")
        if name not in SKLEARN_DATASETS:
            raise DataUnusableError(
                f"unknown bundled dataset {text!r}: use sklearn://NAME with NAME one of {', '.join(SKLEARN_DATASETS)}"
            )
        return Source(kind="sklearn", format=None, uri=f"sklearn://{name}")

    filesystem = None
    scheme, sep, rest = text.partition("://")
    if sep and scheme != "file":
        try:
            fs, root = fsspec.core.url_to_fs(text)
        except (ImportError, ValueError) as exc:
            raise DataUnusableError(f"cannot open {text!r}: {exc}; install the fsspec filesystem for {scheme}://") from None
        filesystem = PyFileSystem(FSSpecHandler(fs))
        matches = sorted(p for p in fs.glob(root) if fs.isfile(p)) if glob.has_magic(root) else None
        if matches is None:
            if not fs.exists(root):
                raise DataUnusableError(f"{text} does not exist; check the URI")
            matches = sorted(p for p in fs.find(root)) if fs.isdir(root) else [root]
    else:
        path = rest if sep else text
        path = os.path.abspath(os.path.expanduser(path))
        if glob.has_magic(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise DataUnusableError(f"no file matches {text!r}; check the pattern")
        elif os.path.isdir(path):
            matches = sorted(
                os.path.join(d, f)
                for d, _, files in os.walk(path)
                for f in files
                if not f.startswith((".", "_"))
            )
        elif os.path.isfile(path):
            matches = [path]
        else:
            raise DataUnusableError(f"{text} does not exist; pass a CSV or Parquet file, a folder of them or a glob")
    if format is None:
        found = {format_of(p) for p in matches} - {None}
        if len(found) != 1:
            exts = sorted({os.path.splitext(p)[1] or "(none)" for p in matches})
            raise DataUnusableError(
                f"cannot tell the format of {text} (extensions: {', '.join(exts) or 'no files'}); "
                "use .csv or .parquet files or pass --format csv|parquet"
            )
        format = found.pop()
    matches = [p for p in matches if format_of(p) in (format, None)]
    if not matches:
        raise DataUnusableError(f"{text} holds no {format} files")
    if filesystem is None and all(is_blank(p) for p in matches):
        raise DataUnusableError(f"{text} is empty: there is no header and no rows to read")
    return Source(kind="file", format=format, paths=tuple(matches), uri=text, filesystem=filesystem)


def peek_columns(data: Any, *, format: str | None = None) -> list[str]:
    """The column names of ``data``, from the first file's header or schema only (no Ray)."""
    src = resolve_source(data, format=format)
    if src.kind == "pandas":
        return [str(c) for c in data.columns]
    if src.kind == "sklearn":
        return list(load_sklearn_frame(src.uri[len("sklearn://") :]).columns)
    first = src.paths[0]
    try:
        if src.format == "parquet":
            if src.filesystem is not None:
                with src.filesystem.open_input_file(first) as f:
                    return list(pq.read_schema(f).names)
            return list(pq.read_schema(first).names)
        return csv_header(first, src.filesystem)
    except (OSError, ValueError) as exc:
        raise DataUnusableError(f"cannot read {first}: {str(exc).splitlines()[0]}") from None


def read_dataset(data: Any, *, format: str | None = None, strings: bool = False, batch_rows: int = 262_144):
    """Read ``data`` as a lazy, streaming ``ray.data.Dataset``.

    Files are read by one task per file, in record batches of at most ``batch_rows``
    rows; steps mapped over the dataset fuse into the same tasks.

    Args:
        data: a path, folder, glob, fsspec URI, ``sklearn://NAME`` or a DataFrame.
        format: ``csv`` or ``parquet`` when it cannot be told from the file names.
        strings: read CSV columns as strings, so that validation (not the reader)
            decides what a malformed value is and quarantines its row.
        batch_rows: the most rows read at once per task.

    Returns:
        ``(dataset, source)``.
    """
    src = resolve_source(data, format=format)
    if src.kind == "pandas":
        return from_frame(data), src
    if src.kind == "sklearn":
        return from_frame(load_sklearn_frame(src.uri[len("sklearn://") :])), src
    ds = read_files(src.paths, src.format or "parquet", strings=strings, filesystem=src.filesystem, batch_rows=batch_rows)
    return ds, src
