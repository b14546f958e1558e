"""Reading files in bounded record batches, headers, and unusable input."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from raymlops.data.errors import DataUnusableError, reading
from raymlops.data.files import csv_header, csv_string_options, format_of, is_blank, record_batches
from raymlops.data.ray_read import FileReader


def test_format_comes_from_the_longest_known_extension():
    assert [format_of(p) for p in ("a.CSV", "b.csv.gz", "c.pq", "d.tsv", "e.json")] == [
        "csv",
        "csv",
        "parquet",
        "csv",
        None,
    ]


def test_parquet_streams_in_batches_of_at_most_batch_rows(tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame({"a": range(10)}).to_parquet(path, index=False)
    sizes = [t.num_rows for t in record_batches(str(path), "parquet", batch_rows=4)]
    assert sizes == [4, 4, 2]


def test_csv_reads_every_column_as_strings_when_asked(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("n,s\n1,a\n,NA\nabc,\n")
    assert csv_header(str(path)) == ["n", "s"]
    assert set(csv_string_options(str(path)).column_types) == {"n", "s"}
    (table,) = record_batches(str(path), "csv", strings=True)
    assert table.schema.types == [pa.string(), pa.string()]
    assert table.to_pydict() == {"n": ["1", None, "abc"], "s": ["a", "NA", None]}


def test_the_reader_udf_yields_the_batches_of_every_file(tmp_path):
    for i in range(2):
        pd.DataFrame({"a": [i, i]}).to_parquet(tmp_path / f"p{i}.parquet", index=False)
    reader = FileReader("parquet", False, None, 262_144)
    paths = pa.table({"path": [str(tmp_path / "p0.parquet"), str(tmp_path / "p1.parquet")]})
    assert [t.column("a").to_pylist() for t in reader(paths)] == [[0, 0], [1, 1]]


def test_unreadable_header_and_blank_files_are_unusable(tmp_path):
    blank = tmp_path / "blank.csv"
    blank.write_text("  \n")
    assert is_blank(str(blank))
    with pytest.raises(DataUnusableError, match="cannot read the header of"):
        csv_header(str(tmp_path / "missing.csv"))


def test_reading_turns_reader_failures_into_one_unusable_error():
    class Wrapped(Exception):
        def __init__(self, cause: Exception):
            super().__init__("ray task failed")
            self.cause = cause

    with pytest.raises(DataUnusableError, match=r"^cannot read d.csv: bad row 3$"):
        with reading("d.csv"):
            raise Wrapped(ValueError("Traceback (most recent call last):\nbad row 3"))
    with pytest.raises(DataUnusableError, match="no rows"):
        with reading("d.csv"):
            raise DataUnusableError("no rows")
