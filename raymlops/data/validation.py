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

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.data.schema import ColumnSchema, Schema, _a, _iso_to_micros, _to_micros, as_table, column_kind
from raymlops.core.errors import ChecksFailedError, InvalidInputError, RaymlopsError

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

REASONS_COLUMN = "__reasons"
ANOMALY_KINDS = (
    "missing_column",
    "unexpected_column",
    "wrong_type",
    "out_of_range",
    "unseen_category",
    "null_not_allowed",
    "nan_or_inf",
    "duplicate_key",
)
_ROW_UNIT_KINDS = ("duplicate_key", "unexpected_column")
_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.large_string(),
    "datetime": pa.timestamp("us"),
}
_MAX_SHOWN = 40  # characters of a string value shown in a reason


class SchemaMismatchError(RaymlopsError):
    """Columns the schema requires are missing from the data, so no row can be checked."""

    code = "schema_mismatch"
    exit_code = 1
    http_status = 422
    template = (
        "the data has no column {columns} that the schema requires (data columns: {found}); "
        "add the column(s) to the data, or remove them from the schema file if they are no longer expected"
    )


# ---------------------------------------------------------------------------- results


@dataclass
class Anomaly:
    """How many values (or rows) of one column failed one kind of check.

    ``hint`` is the message without its leading count, so counts can be added up.

    Example:
        >>> Anomaly("age", "out_of_range", 12, "of 'age' out of range [0, 120]").message
        "12 values of 'age' out of range [0, 120]"
    """

    column: str
    kind: str
    count: int
    hint: str

    @property
    def message(self) -> str:
        """What was wrong and what to do, e.g. ``12 values of 'age' out of range [0, 120]; ...``."""
        unit = "row" if self.kind in _ROW_UNIT_KINDS else "value"
        return f"{self.count} {unit}{'' if self.count == 1 else 's'} {self.hint}"

    def to_dict(self) -> dict[str, Any]:
        """``{"column", "kind", "count", "message"}``."""
        return {"column": self.column, "kind": self.kind, "count": self.count, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anomaly:
        """The inverse of :meth:`to_dict`."""
        count = int(data["count"])
        _, _, rest = str(data["message"]).partition(" ")
        _, _, hint = rest.partition(" ")
        return cls(str(data["column"]), str(data["kind"]), count, hint)


@dataclass(frozen=True)
class BatchResult:
    """One validated batch: the rows that passed, the rows quarantined, and what was wrong.

    Attributes:
        valid: the rows that passed every check (declared types where a column was cast).
        quarantined: the failing rows, with the columns as they came in plus ``__reasons``.
        rows_in: rows in the batch.
        anomalies: per (column, kind), how many failed, with a message.
    """

    valid: pa.Table
    quarantined: pa.Table
    rows_in: int
    anomalies: tuple[Anomaly, ...] = ()

    @property
    def rows_valid(self) -> int:
        return self.valid.num_rows

    @property
    def rows_quarantined(self) -> int:
        return self.quarantined.num_rows

    @property
    def report(self) -> ValidationReport:
        """This batch alone as a :class:`ValidationReport`."""
        report = ValidationReport()
        report.add(self)
        return report


class ValidationReport:
    """Counts added up over batches; ``add`` in place or ``merge`` into a new report.

    Example:
        >>> a = ValidationReport(rows_in=10, rows_valid=8, rows_quarantined=2,
        ...                      anomalies=[Anomaly("x", "null_not_allowed", 2, "of 'x' null")])
        >>> b = ValidationReport(rows_in=5, rows_valid=4, rows_quarantined=1,
        ...                      anomalies=[Anomaly("x", "null_not_allowed", 1, "of 'x' null")])
        >>> merged = a.merge(b).to_dict()
        >>> merged["rows_in"], merged["rows_valid"], merged["rows_quarantined"]
        (15, 12, 3)
        >>> merged["anomalies"]
        [{'column': 'x', 'kind': 'null_not_allowed', 'count': 3, 'message': "3 values of 'x' null"}]
    """

    def __init__(
        self,
        *,
        rows_in: int = 0,
        rows_valid: int = 0,
        rows_quarantined: int = 0,
        anomalies: list[Anomaly] | tuple[Anomaly, ...] = (),
    ) -> None:
        self.rows_in = rows_in
        self.rows_valid = rows_valid
        self.rows_quarantined = rows_quarantined
        self._anomalies: dict[tuple[str, str], Anomaly] = {}
        self._add_anomalies(anomalies)

    def _add_anomalies(self, anomalies: Any) -> None:
        for a in anomalies:
            known = self._anomalies.get((a.column, a.kind))
            if known is None:
                self._anomalies[(a.column, a.kind)] = Anomaly(a.column, a.kind, a.count, a.hint)
            else:
                known.count += a.count

    @property
    def anomalies(self) -> list[Anomaly]:
        """One entry per (column, kind), in the order first seen."""
        return list(self._anomalies.values())

    @property
    def ok(self) -> bool:
        """True when nothing was wrong (no anomaly of any kind)."""
        return not self._anomalies

    def count(self, column: str, kind: str) -> int:
        """How many values (rows for row-level kinds) of ``column`` failed ``kind``."""
        found = self._anomalies.get((column, kind))
        return 0 if found is None else found.count

    def add(self, other: BatchResult | ValidationReport) -> None:
        """Add a batch result or another report to this one."""
        self.rows_in += other.rows_in
        self.rows_valid += other.rows_valid
        self.rows_quarantined += other.rows_quarantined
        self._add_anomalies(other.anomalies)

    def merge(self, other: BatchResult | ValidationReport) -> ValidationReport:
        """A new report with the counts of both."""
        out = ValidationReport()
        out.add(self)
        out.add(other)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape."""
        return {
            "rows_in": self.rows_in,
            "rows_valid": self.rows_valid,
            "rows_quarantined": self.rows_quarantined,
            "anomalies": [a.to_dict() for a in self._anomalies.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """The inverse of :meth:`to_dict` (e.g. to merge reports sent as JSON)."""
        return cls(
            rows_in=int(data["rows_in"]),
            rows_valid=int(data["rows_valid"]),
            rows_quarantined=int(data["rows_quarantined"]),
            anomalies=[Anomaly.from_dict(a) for a in data.get("anomalies", [])],
        )

    def raise_for_anomalies(self) -> None:
        """Raise :class:`~raymlops.core.errors.ChecksFailedError` (exit code 1) if anything was wrong."""
        if self.ok:
            return
        messages = [a.message for a in self._anomalies.values()]
        raise ChecksFailedError(
            f"validation found problems: {self.rows_quarantined} of {self.rows_in} rows quarantined; "
            + "; ".join(messages),
            details=[a.to_dict() for a in self._anomalies.values()],
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidationReport) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (
            f"ValidationReport(rows_in={self.rows_in}, rows_valid={self.rows_valid}, "
            f"rows_quarantined={self.rows_quarantined}, anomalies={len(self._anomalies)})"
        )


# ---------------------------------------------------------------------------- conversion


def _single(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 1:
            return arr.chunk(0)
        if arr.num_chunks == 0:
            return pa.array([], type=arr.type)
        return arr.combine_chunks()
    return arr


def _np_mask(mask: pa.Array) -> np.ndarray:
    """An arrow boolean array as numpy, null counting as False."""
    if mask.null_count:
        mask = mask.fill_null(False)
    return mask.to_numpy(zero_copy_only=False)


@dataclass
class _Typed:
    values: pa.Array  # the declared type; null where a value could not be read
    wrong: np.ndarray | None  # values that could not be read as the type
    changed: bool  # values has another type than the input


_INT_TEXT = r"^[+-]?[0-9]+(\.0*)?$"
_FLOAT_TEXT = r"(?i)^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)$"
_TRUE = pa.array(["true", "t", "yes", "y", "1"])
_FALSE = pa.array(["false", "f", "no", "n", "0"])


def _blank_as_null(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Trimmed strings, with empty ones made null (an empty CSV field is a missing value)."""
    trimmed = pc.utf8_trim_whitespace(text)
    blank = pc.equal(pc.utf8_length(trimmed), 0)
    if pc.any(blank).as_py():
        trimmed = pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed)
    return trimmed, blank


def _parse_int(text: pa.Array) -> pa.Array:
    try:
        return pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed, _ = _blank_as_null(text)
    ok = pc.match_substring_regex(trimmed, _INT_TEXT)
    clean = pc.if_else(ok, trimmed, pa.scalar(None, trimmed.type))
    clean = pc.replace_substring_regex(clean, r"(^\+)|(\.0*$)", "")  # "+5" and "5.0" are 5
    try:
        return pc.cast(clean, pa.int64())
    except pa.ArrowInvalid:  # out of the int64 range: check the few long ones one by one
        long = _np_mask(pc.greater(pc.utf8_length(clean), 18))
        items = clean.to_pylist()
        for i in np.flatnonzero(long):
            if not -(2**63) <= int(items[i]) < 2**63:
                items[i] = None
        return pa.array([None if v is None else int(v) for v in items], pa.int64())


def _parse_float(text: pa.Array) -> pa.Array:
    try:
        return pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed, _ = _blank_as_null(text)
    ok = pc.match_substring_regex(trimmed, _FLOAT_TEXT)
    return pc.cast(pc.if_else(ok, trimmed, pa.scalar(None, trimmed.type)), pa.float64())


def _parse_bool(text: pa.Array) -> pa.Array:
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    true, false = pc.is_in(lowered, value_set=_TRUE), pc.is_in(lowered, value_set=_FALSE)
    return pc.if_else(true, True, pc.if_else(false, False, pa.scalar(None, pa.bool_())))


def _parse_datetime(text: pa.Array) -> pa.Array:
    try:
        return pc.cast(text, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    import pandas as pd

    trimmed, _ = _blank_as_null(text)
    texts = pd.Series(trimmed.to_pylist(), dtype=object)
    parsed = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
    return pc.cast(pa.array(parsed.dt.tz_localize(None).astype("datetime64[us]")), pa.timestamp("us"))


def _convert(arr: pa.Array, kind: str) -> _Typed:
    """Read ``arr`` as ``kind``: cast what can be cast, mark the values that cannot."""
    source = column_kind(arr.type)
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    if source == kind:
        if pa.types.is_decimal(arr.type):
            return _Typed(pc.cast(arr, pa.float64()), None, True)
        if pa.types.is_string_view(arr.type):
            arr = pc.cast(arr, pa.large_string())
        return _Typed(arr, None, False)
    target = _ARROW_TYPES[kind]
    if source is None:  # the null type: every value is null
        return _Typed(pa.nulls(len(arr), target), None, True)
    as_null = None  # values read as null rather than wrong (blank strings, NaN in an int column)
    if source == "other":
        values = pa.nulls(len(arr), target)
    elif kind == "string":
        values = pc.cast(arr, pa.large_string())
    elif source == "string":
        parse = {"int": _parse_int, "float": _parse_float, "bool": _parse_bool, "datetime": _parse_datetime}[kind]
        values = parse(arr)
        as_null = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0)
    elif kind == "int" and source in ("float", "bool"):
        if source == "float":
            x = pc.cast(arr, pa.float64())
            as_null = pc.is_nan(x)
            whole = pc.and_(pc.is_finite(x), pc.equal(pc.floor(x), x))
            whole = pc.and_(whole, pc.and_(pc.greater_equal(x, -(2.0**63)), pc.less(x, 2.0**63)))
            values = pc.cast(pc.if_else(whole, x, pa.scalar(None, pa.float64())), pa.int64())
        else:
            values = pc.cast(arr, pa.int64())
    elif kind == "float" and source in ("int", "bool"):
        values = pc.cast(arr, pa.float64(), safe=False)
    elif kind == "bool" and source in ("int", "float"):
        x = pc.cast(arr, pa.float64(), safe=False)
        values = pc.if_else(
            pc.equal(x, 1.0), True, pc.if_else(pc.equal(x, 0.0), False, pa.scalar(None, pa.bool_()))
        )
    else:  # e.g. datetime for a number column, or the reverse
        values = pa.nulls(len(arr), target)
    if values.null_count == arr.null_count:  # casts keep nulls, so nothing was lost
        return _Typed(values, None, True)
    lost = pc.and_(arr.is_valid(), values.is_null())
    if as_null is not None:
        lost = pc.and_kleene(lost, pc.invert(as_null))
    wrong = _np_mask(lost)
    return _Typed(values, wrong if wrong.any() else None, True)


# ---------------------------------------------------------------------------- checks


@dataclass
class _Failure:
    """One check's failing rows, and how to describe them."""

    column: str
    kind: str
    mask: np.ndarray
    hint: str  # the anomaly message after its count; "{example}" is filled in
    detail: str  # the reason's detail after the value, or the whole detail if values is None
    values: pa.Array | None = None  # the values to show in reasons
    count: int = field(default=0)

    def __post_init__(self) -> None:
        self.count = int(np.count_nonzero(self.mask))


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _shown(values: pa.Array) -> pa.Array:
    """Values as short text for reasons: strings quoted and cut, others as arrow prints them."""
    if column_kind(values.type) == "string":
        text = pc.cast(values, pa.large_string())
        long = pc.greater(pc.utf8_length(text), _MAX_SHOWN)
        if pc.any(long).as_py():
            cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, _MAX_SHOWN), _lit("..."), _lit(""))
            text = pc.if_else(long, cut, text)
        return pc.binary_join_element_wise(_lit("'"), text, _lit("'"), _lit(""))
    if column_kind(values.type) == "other":
        return pa.array(["<" + str(values.type) + ">"] * len(values), pa.large_string())
    return pc.cast(values, pa.large_string())


def _example(values: pa.Array, mask: np.ndarray) -> str:
    first = int(np.argmax(mask))
    text = _shown(values.slice(first, 1))[0].as_py()
    return "null" if text is None else text


def _bool_numpy(values: pa.Array, fn_numpy: Any, fn_arrow: Any) -> np.ndarray:
    """Apply a check with numpy when there are no nulls (zero copy), else with arrow."""
    if values.null_count == 0 and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return fn_numpy(values.to_numpy(zero_copy_only=False))
    return _np_mask(fn_arrow(values))


def _column_failures(col: ColumnSchema, arr: pa.Array, typed: _Typed, classes: list[Any] | None) -> list[_Failure]:
    name = col.name
    out: list[_Failure] = []
    values = typed.values
    wrong = typed.wrong
    if wrong is not None:
        out.append(
            _Failure(
                name,
                "wrong_type",
                wrong,
                f"of {name!r} cannot be read as {col.type} (e.g. {{example}}); fix the source, or change "
                "the column's type in the schema if the data is right",
                f" is not {_a(col.type)}",
                values=arr,
            )
        )
    if values.null_count and not col.nullable:
        nulls = _np_mask(values.is_null())
        if wrong is not None:
            nulls &= ~wrong
        if nulls.any():
            out.append(
                _Failure(
                    name,
                    "null_not_allowed",
                    nulls,
                    f"of {name!r} null, but the column is not nullable in the schema; set \"nullable\": true "
                    "for it if missing values are expected",
                    "null",
                )
            )
    if values.null_count == len(values):
        return out
    if col.type == "float" and not col.allow_nan_or_inf:
        bad = _bool_numpy(
            values,
            lambda v: ~np.isfinite(v),
            lambda a: pc.invert(pc.is_finite(a)),
        )
        if bad.any():
            out.append(
                _Failure(
                    name,
                    "nan_or_inf",
                    bad,
                    f"of {name!r} NaN or infinite (e.g. {{example}}); fix the source, or set "
                    "\"allow_nan_or_inf\": true for it in the schema if such values are expected",
                    "",
                    values=values,
                )
            )
    if col.type in ("int", "float", "datetime") and (col.min is not None or col.max is not None):
        failure = _range_failure(col, values)
        if failure is not None:
            out.append(failure)
    allowed = classes if classes is not None else (list(col.domain) if col.domain is not None else None)
    if allowed is not None:
        failure = _category_failure(col, values, allowed, is_label=classes is not None)
        if failure is not None:
            out.append(failure)
    return out


def _range_failure(col: ColumnSchema, values: pa.Array) -> _Failure | None:
    lo, hi = col.min, col.max
    numbers = values
    if col.type == "datetime":
        numbers = _to_micros(values)
        lo = None if lo is None else _iso_to_micros(lo)
        hi = None if hi is None else _iso_to_micros(hi)
    mm = pc.min_max(numbers)
    low, high = mm["min"].as_py(), mm["max"].as_py()
    if low is None or ((lo is None or low >= lo) and (hi is None or high <= hi)):
        return None

    infinite = low == -math.inf or high == math.inf  # NaN compares false already

    def numpy_check(v: np.ndarray) -> np.ndarray:
        if lo is not None and hi is not None:
            bad = v < lo
            bad |= v > hi
        else:
            bad = v < lo if lo is not None else v > hi
        if infinite:
            bad &= np.isfinite(v)
        return bad

    def arrow_check(a: pa.Array) -> pa.Array:
        bad = None
        if lo is not None:
            bad = pc.less(a, lo)
        if hi is not None:
            above = pc.greater(a, hi)
            bad = above if bad is None else pc.or_(bad, above)
        if pa.types.is_floating(a.type):
            bad = pc.and_(bad, pc.is_finite(a))
        return bad

    mask = _bool_numpy(numbers, numpy_check, arrow_check)
    if not mask.any():
        return None
    where = col.bounds_text
    return _Failure(
        col.name,
        "out_of_range",
        mask,
        f"of {col.name!r} out of range {where} (e.g. {{example}}); widen the range in the schema if such "
        "values are valid",
        f" not in {where}",
        values=values,
    )


def _category_failure(
    col: ColumnSchema, values: pa.Array, allowed: list[Any], *, is_label: bool
) -> _Failure | None:
    try:
        value_set = pa.array(allowed, type=values.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        values = pc.cast(values, _ARROW_TYPES[col.type])
        value_set = pa.array(allowed, type=values.type)
    mask = ~_np_mask(pc.is_in(values, value_set=value_set))
    if values.null_count:
        mask &= _np_mask(values.is_valid())
    if not mask.any():
        return None
    if is_label:
        hint = (
            f"of {col.name!r} not among the label classes (e.g. {{example}}); add each new class to "
            "label.classes in the schema, with its definition, if it is valid"
        )
        detail = " not in label classes"
    else:
        hint = (
            f"of {col.name!r} not in its domain (e.g. {{example}}); add such values to the column's domain "
            "in the schema if they are valid"
        )
        detail = " not in domain"
    return _Failure(col.name, "unseen_category", mask, hint, detail, values=values)


# ---------------------------------------------------------------------------- duplicate keys

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ROW_BITS = 32
_NOWHERE = np.iinfo(np.int64).max


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _hash_strings(values: pa.Array) -> np.ndarray:
    """64-bit hashes of strings, vectorised over 8-byte words (no Python per row)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.large_string())
    n = len(values)
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, off_buf, data_buf = values.buffers()
    start = values.offset * np.dtype(off_type).itemsize
    offsets = np.frombuffer(off_buf, dtype=off_type, count=n + 1, offset=start).astype(np.int64)
    lengths = np.diff(offsets)
    first, last = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    offsets -= first  # a slice uses only part of the data buffer
    size = last - first
    padded = np.zeros(size + 8, dtype=np.uint8)
    if size:
        padded[:size] = np.frombuffer(data_buf, dtype=np.uint8, count=size, offset=first)
    words = np.ndarray((size + 1,), dtype="<u8", buffer=padded, strides=(1,))  # the 8 bytes from each byte
    h = _mix(lengths.astype(np.uint64) ^ _GOLDEN)
    active = np.flatnonzero(lengths > 0)
    step = 0
    while active.size:
        left = lengths[active] - 8 * step
        w = words[offsets[active] + 8 * step]
        short = left < 8
        if short.any():
            w[short] &= (np.uint64(1) << (left[short] * 8).astype(np.uint64)) - np.uint64(1)
        h[active] = _mix(h[active] ^ w)
        active = active[left > 8]
        step += 1
    return h


def _hash_values(values: pa.Array, kind: str) -> np.ndarray:
    if kind == "string":
        return _hash_strings(values)
    if kind == "datetime":
        values = _to_micros(values)
    if kind == "float":
        x = pc.cast(values, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) + 0.0  # -0.0 == 0.0
        x[np.isnan(x)] = np.nan
        bits = x.view(np.uint64)
    else:
        ints = pc.cast(values, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        bits = ints.view(np.uint64)
    return _mix(bits ^ _GOLDEN)


def _key_hashes(
    typed: dict[str, pa.Array], kinds: dict[str, str], key: tuple[str, ...], n: int
) -> tuple[np.ndarray, np.ndarray]:
    h = np.zeros(n, dtype=np.uint64)
    present = np.ones(n, dtype=bool)
    for i, name in enumerate(key):
        values = typed[name]
        if len(key) == 1 and kinds[name] in ("int", "bool", "datetime"):
            # one integer-like key column: the value itself, order kept (sorted ids sort fast)
            ints = _to_micros(values) if kinds[name] == "datetime" else pc.cast(values, pa.int64())
            hc = ints.fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64) ^ np.uint64(1 << 63)
        else:
            hc = _hash_values(values, kinds[name])
        h = hc if i == 0 else _mix((h * _GOLDEN) ^ hc)
        if values.null_count:
            present &= _np_mask(values.is_valid())
    return h, present


def key_hashes(batch: Any, schema: Schema) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit hash of each row's key, and which rows have a complete (non-null) key.

    Values are read as their declared types first, so ``"7"`` from a CSV and ``7`` from
    Parquet hash alike.

    Raises:
        InvalidInputError: the schema has no key.
        SchemaMismatchError: a key column is missing from the batch.
    """
    if not schema.key:
        raise InvalidInputError("the schema has no key columns; add \"key\": [...] to it to check duplicates")
    table = as_table(batch)
    missing = [k for k in schema.key if k not in table.column_names]
    if missing:
        raise SchemaMismatchError(columns=_names(missing), found=_names(table.column_names))
    typed = {k: _convert(_single(table.column(k)), schema.column(k).type).values for k in schema.key}
    kinds = {k: schema.column(k).type for k in schema.key}
    return _key_hashes(typed, kinds, schema.key, table.num_rows)


class KeyTracker:
    """The first position (batch index, row) of every key hash seen; mergeable.

    Stores sorted runs of (hash, position), about 16 bytes per distinct key. See the
    module docstring for the duplicate rule and the two ways to use it. Not thread-safe:
    one ``observe`` (or ``validate_batch``) at a time per tracker; it pickles, so a Ray
    actor or task can hold one.

    Example:
        >>> import numpy as np
        >>> tracker = KeyTracker()
        >>> tracker.observe(np.array([7, 8, 7], dtype=np.uint64)).tolist()
        [False, False, True]
        >>> tracker.observe(np.array([9, 8], dtype=np.uint64)).tolist()
        [False, True]
        >>> len(tracker), tracker.next_batch_index
        (3, 2)
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._next = 0

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self._runs)

    @property
    def next_batch_index(self) -> int:
        """One more than the largest batch index seen (what ``observe`` uses by default)."""
        return self._next

    @property
    def nbytes(self) -> int:
        """Memory held by the hashes and positions."""
        return sum(h.nbytes + p.nbytes for h, p in self._runs)

    def observe(
        self, hashes: np.ndarray, *, batch_index: int | None = None, present: np.ndarray | None = None
    ) -> np.ndarray:
        """Record a batch's key hashes and return which rows are duplicates.

        A row is a duplicate when its key's first occurrence in input order (over every
        batch recorded so far, this one included) is at an earlier position.

        Args:
            hashes: one uint64 hash per row (see :func:`key_hashes`).
            batch_index: the batch's place in the input; defaults to ``next_batch_index``.
            present: rows that have a key (rows with a null key are never duplicates).

        Returns:
            A boolean mask over the rows.
        """
        if batch_index is None:
            batch_index = self._next
        if not 0 <= batch_index < 2**31:
            raise InvalidInputError(f"batch_index must be in [0, 2**31), got {batch_index}")
        hashes = np.asarray(hashes, dtype=np.uint64)
        n = len(hashes)
        if n >= 2**_ROW_BITS:
            raise InvalidInputError(
                f"a batch of {n} rows is too large for key tracking; split it into batches below 2**32 rows"
            )
        self._next = max(self._next, batch_index + 1)
        duplicate = np.zeros(n, dtype=bool)
        rows = np.arange(n, dtype=np.int64) if present is None else np.flatnonzero(present).astype(np.int64)
        if rows.size == 0:
            return duplicate
        h = hashes if present is None else hashes[rows]
        own = rows + (np.int64(batch_index) << np.int64(_ROW_BITS))
        order = np.argsort(h)
        sorted_h, sorted_pos = h[order], own[order]
        starts_mask = np.empty(len(sorted_h), dtype=bool)
        starts_mask[0] = True
        np.not_equal(sorted_h[1:], sorted_h[:-1], out=starts_mask[1:])
        if starts_mask.all():  # no key repeats within the batch
            unique, local_first = sorted_h, sorted_pos
            known_first, hits = self._find(unique)
            later = known_first < local_first
        else:
            starts = np.flatnonzero(starts_mask)
            unique = sorted_h[starts]
            local_first = np.minimum.reduceat(sorted_pos, starts)
            known_first, hits = self._find(unique)
            first = np.minimum(local_first, known_first)
            later = sorted_pos != first[np.cumsum(starts_mask) - 1]
        duplicate[rows[order[later]]] = True
        # record: move known keys to an earlier first position, add new keys as a run
        earlier = local_first < known_first
        for run, hit, idx in hits:
            move = earlier[hit]
            if move.any():
                self._runs[run][1][idx[move]] = local_first[hit][move]
        new = known_first == _NOWHERE
        if new.any():
            self._push(unique[new], local_first[new])
        return duplicate

    def add(
        self, hashes: np.ndarray, *, batch_index: int | None = None, present: np.ndarray | None = None
    ) -> None:
        """Record a batch's key hashes (:meth:`observe` without the answer)."""
        self.observe(hashes, batch_index=batch_index, present=present)

    def add_batch(self, batch: Any, schema: Schema, *, batch_index: int | None = None) -> None:
        """Record the keys of a batch (way (b): collect from every batch, then validate)."""
        hashes, present = key_hashes(batch, schema)
        self.observe(hashes, batch_index=batch_index, present=present)

    def merge(self, other: KeyTracker) -> KeyTracker:
        """A new tracker holding both; a key's first position is the earlier of the two."""
        out = KeyTracker()
        out._next = max(self._next, other._next)
        runs = self._runs + other._runs
        if runs:
            h = np.concatenate([r[0] for r in runs])
            p = np.concatenate([r[1] for r in runs])
            order = np.lexsort((p, h))
            h, p = h[order], p[order]
            keep = np.empty(len(h), dtype=bool)
            if len(h):
                keep[0] = True
                np.not_equal(h[1:], h[:-1], out=keep[1:])
            out._runs = [(h[keep], p[keep].copy())] if keep.any() else []
        return out

    def _find(self, unique: np.ndarray) -> tuple[np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]:
        """First positions of sorted unique hashes (``_NOWHERE`` if unseen), and where they live."""
        first = np.full(len(unique), _NOWHERE, dtype=np.int64)
        hits = []
        for r, (h, p) in enumerate(self._runs):
            idx = np.searchsorted(h, unique)
            np.minimum(idx, len(h) - 1, out=idx)
            hit = h[idx] == unique
            if hit.any():
                first[hit] = p[idx[hit]]
                hits.append((r, hit, idx[hit]))
        return first, hits

    def _push(self, h: np.ndarray, p: np.ndarray) -> None:
        """Add a sorted run of new hashes; merge runs of similar size (log-structured)."""
        self._runs.append((h, p))
        while len(self._runs) > 1 and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            (bh, bp), (ah, ap) = self._runs.pop(), self._runs.pop()
            at = np.searchsorted(ah, bh) + np.arange(len(bh))
            total = len(ah) + len(bh)
            from_a = np.ones(total, dtype=bool)
            from_a[at] = False
            mh, mp = np.empty(total, dtype=np.uint64), np.empty(total, dtype=np.int64)
            mh[at], mp[at] = bh, bp
            mh[from_a], mp[from_a] = ah, ap
            self._runs.append((mh, mp))


def _duplicate_failure(
    schema: Schema, typed: dict[str, pa.Array], keys: KeyTracker | None, batch_index: int | None, n: int
) -> _Failure | None:
    kinds = {k: schema.column(k).type for k in schema.key}
    hashes, present = _key_hashes(typed, kinds, schema.key, n)
    tracker = keys if keys is not None else KeyTracker()
    mask = tracker.observe(hashes, batch_index=batch_index, present=present)
    if not mask.any():
        return None
    key = schema.key
    label = ",".join(key)
    shown = typed[key[0]] if len(key) == 1 else None
    detail = " repeats an earlier row" if shown is not None else "key repeats an earlier row"
    example = " (e.g. {example})" if shown is not None else ""
    return _Failure(
        label,
        "duplicate_key",
        mask,
        f"with a key ({', '.join(key)}) seen in an earlier row{example}; the first occurrence was kept: "
        "deduplicate the source, or fix the key in the schema",
        detail,
        values=shown,
    )


# ---------------------------------------------------------------------------- validate


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "none"


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


def _reasons(failures: list[_Failure], rows: np.ndarray) -> pa.Array:
    """The ``__reasons`` strings of the failing ``rows``: every failing check, in schema order.

    Each check formats only its own failing values, then places them among ``rows``.
    """
    parts = []
    for f in failures:
        sub = f.mask[rows]
        if not sub.any():
            continue
        head = f"{f.column}: {f.kind} ("
        if f.values is None:
            text = pa.array([f"{head}{f.detail})"], pa.large_string())
            place = np.zeros(len(rows), dtype=np.int64)
        else:
            shown = _shown(f.values.take(pa.array(rows[sub])))
            text = pc.binary_join_element_wise(_lit(head), shown, _lit(f"{f.detail})"), _lit(""))
            place = np.cumsum(sub) - 1
        parts.append(text.take(pa.array(place, mask=~sub)))
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, _lit("; "), null_handling="skip")


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
            columns=_names(missing),
            found=_names(table.column_names),
            details=[{"column": name, "kind": "missing_column"} for name in missing],
        )
    n = table.num_rows
    label = schema.label.column if schema.label is not None else None
    classes = schema.label_values()
    workers = _workers(threads, n)

    def check_column(col: ColumnSchema) -> tuple[_Typed, list[_Failure]]:
        arr = _single(table.column(col.name))
        converted = _convert(arr, col.type)
        return converted, _column_failures(col, arr, converted, classes if col.name == label else None)

    def check_key() -> _Failure | None:
        typed = {k: _convert(_single(table.column(k)), schema.column(k).type).values for k in schema.key}
        return _duplicate_failure(schema, typed, keys, batch_index, n)

    # the key check (the longest task) goes first, so it runs alongside the column checks
    tasks = ([check_key] if schema.key else []) + [lambda col=col: check_column(col) for col in schema.columns]
    results = _map(lambda task: task(), tasks, workers)
    duplicates = results.pop(0) if schema.key else None
    failures: list[_Failure] = []
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
        example = _example(f.values, f.mask) if f.values is not None and "{example}" in f.hint else ""
        anomalies.append(Anomaly(f.column, f.kind, f.count, f.hint.replace("{example}", example)))

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
    quarantined = table.take(take).append_column(REASONS_COLUMN, _reasons(failures, rows))
    return BatchResult(valid=valid, quarantined=quarantined, rows_in=n, anomalies=tuple(anomalies))
