"""Row-level validation of data batches against a :class:`~raymlops.data.schema.Schema`.

:func:`validate_batch` checks one batch (a pyarrow Table, the fast path, or a pandas
DataFrame) and splits it: rows that pass every check continue in ``valid``; every row
that fails any check goes to ``quarantined`` with all its original columns as they came
in plus a ``__reasons`` string that lists *every* failing check of that row::

    age: out_of_range (130 not in [0, 120]); color: unseen_category ('pink' not in domain)

Each entry is ``column: kind (detail)``; entries are joined with ``"; "``. The kinds:

- ``missing_column``: a schema column is absent from the batch; the step fails with
  :class:`SchemaMismatchError` (exit code 1) naming the columns.
- ``unexpected_column``: a batch column is not in the schema; reported, rows are kept.
- ``wrong_type``: a value cannot be read as the declared type (``"abc"`` as a float).
  What can be cast is cast: numbers and booleans read as strings from a CSV, an int
  column that pandas made float.
- ``null_not_allowed``: null in a column that is not nullable.
- ``nan_or_inf``: NaN or ±inf in a float column (unless ``allow_nan_or_inf``).
- ``out_of_range``: a number or datetime outside ``[min, max]``.
- ``unseen_category``: a string outside the column's domain, or a label value that is
  not one of the label classes.
- ``duplicate_key``: the row's key (the schema's key columns) repeats an earlier row's.

``rows_in == rows_valid + rows_quarantined`` always. Valid rows keep their values; a
column that arrived in another type (numbers read as strings, an int column that pandas
made float) is cast to the declared type in ``valid``, while ``quarantined`` keeps what
came in. An empty or blank string in a non-string column is read as null,
and so is NaN in an int column (pandas' missing value). An incoming ``__reasons`` column
(re-validating a fixed quarantine file) is dropped.

**Duplicate keys.** The rule: the first occurrence of a key in input order stays valid
and every later occurrence is quarantined; input order is (batch index, row in batch).
Rows with a null key are not checked. Keys are compared by a 64-bit hash (exact for a
single int key; for other keys a false duplicate has a probability of about n²/2⁶⁵,
1 in 1.5 million for 5M rows). A :class:`KeyTracker` remembers the first position of
every key hash in about 16 bytes per distinct key and is mergeable, so a caller can:

(a) validate batches in order with one tracker: ``validate_batch(b, s, keys=tracker)``
    numbers the batches 0, 1, 2, ... itself; or
(b) first collect keys from all batches in any order or in parallel
    (``KeyTracker().add_batch(b, s, batch_index=i)`` per batch, then ``merge``), then
    validate each batch with ``validate_batch(b, s, keys=merged, batch_index=i)``.

Both give the same verdicts. Without ``keys``, duplicates are looked for within the
batch only. A row that fails other checks still counts as its key's first occurrence.

Results merge: :class:`ValidationReport` adds up :class:`BatchResult` s into the CLI shape
``{"rows_in", "rows_valid", "rows_quarantined", "anomalies": [{"column", "kind",
"count", "message"}]}``.

Modules: :mod:`~raymlops.data.validation.report` (anomalies, batch results, reports),
:mod:`~raymlops.data.validation.keys` (key hashes and the :class:`KeyTracker`),
:mod:`~raymlops.data.validation.batch` (:func:`validate_batch`); inside the package,
``_convert`` reads values as their declared types and ``_checks`` holds the per-column
checks and the reasons text.

Example:
    >>> import pyarrow as pa
    >>> from raymlops.data.schema import Schema
    >>> schema = Schema.from_dict({"key": ["id"], "columns": [
    ...     {"name": "id", "type": "int", "nullable": False},
    ...     {"name": "age", "type": "int", "nullable": False, "min": 0, "max": 120},
    ...     {"name": "color", "type": "string", "domain": ["blue", "red"]}]})
    >>> batch = pa.table({"id": [1, 2, 3, 3], "age": [30, 130, None, 40],
    ...                   "color": ["red", "pink", "blue", "red"]})
    >>> result = validate_batch(batch, schema)
    >>> result.rows_in, result.rows_valid, result.rows_quarantined
    (4, 1, 3)
    >>> for reasons in result.quarantined.column("__reasons").to_pylist():
    ...     print(reasons)
    age: out_of_range (130 not in [0, 120]); color: unseen_category ('pink' not in domain)
    age: null_not_allowed (null)
    id: duplicate_key (3 repeats an earlier row)
    >>> for anomaly in result.report.to_dict()["anomalies"]:
    ...     print(anomaly["column"], anomaly["kind"], anomaly["count"])
    age null_not_allowed 1
    age out_of_range 1
    color unseen_category 1
    id duplicate_key 1
    >>> result.anomalies[1].message
    "1 value of 'age' out of range [0, 120] (e.g. 130); widen the range in the schema if such values are valid"
"""

from __future__ import annotations

from raymlops.data.validation.batch import validate_batch
from raymlops.data.validation.keys import KeyTracker, key_hashes
from raymlops.data.validation.report import (
    ANOMALY_KINDS,
    REASONS_COLUMN,
    Anomaly,
    BatchResult,
    SchemaMismatchError,
    ValidationReport,
)

__all__ = [
    "ANOMALY_KINDS",
    "REASONS_COLUMN",
    "Anomaly",
    "BatchResult",
    "KeyTracker",
    "SchemaMismatchError",
    "ValidationReport",
    "key_hashes",
    "validate_batch",
]
