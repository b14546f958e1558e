"""Schema inference from the one statistics format, mergeable batch by batch.

A :class:`SchemaBuilder` keeps, per column, its type and sketches from
:mod:`raymlops.sketches`, so inference runs per Ray Data block and merges at the end:

- a :class:`~raymlops.sketches.NumericSketch` of int, float, bool and datetime columns
  (datetimes as microseconds since the epoch): its exact minimum and maximum give the
  range, its NaN and infinity counts the ``allow_nan_or_inf`` decision;
- :class:`~raymlops.sketches.ValueCounts` of int and bool columns while they have at most
  ``max_domain`` distinct values: the label classes;
- a :class:`~raymlops.sketches.CategoricalSketch` of string columns while they have at
  most ``max_domain`` distinct values: the domain (or the label classes);
- a :class:`~raymlops.sketches.DistinctCount` of int and string columns: whether a column
  is unique per row.

Columns that are data but not features go to the schema's ``excluded`` list, with why
(training and the data pipeline leave them out; the user may remove an entry):

- **key-like**: an int or string column unique per row (every non-null value distinct;
  exact up to 4,096 values, at least 99% distinct by the KMV estimate beyond), with at
  least :data:`MIN_KEY_ROWS` values: a row id, a UUID. A model that learns from a row id
  leaks and asks every request for an id it cannot know;
- **constant**: one value (or none) in every row;
- **timestamps**: a raw point in time does not generalise to the future (a model fitted
  on last year's times sees only new ones); derive features from it (hour, weekday,
  age) or remove the exclusion to keep it.

Types come from :func:`raymlops.core.coltypes.from_arrow`. A pandas float column that
holds only whole numbers and at least one NaN is inferred as ``int`` (pandas turns an
integer column with a missing value into floats). A column typed differently in two
batches widens: bool and int to int, either with float to float, anything else to
string. A batch in which a column has no values at all (Arrow's null type) tells
nothing about its range or domain.

Exactness: a NumericSketch holds its minimum and maximum as float64, which is exact for
integers below 2**53 in magnitude (and for datetimes between about 1685 and 2255). Beyond
that an int or datetime range is widened outward to the next float64 value, so that it
still holds every value seen, and clipped to the int64 range; an int column beyond it
gets no label classes.

Example:
    >>> import pyarrow as pa
    >>> a, b = SchemaBuilder(), SchemaBuilder()
    >>> a.update(pa.table({"x": [1, 2], "c": ["u", "v"]}))
    >>> b.update(pa.table({"x": [0.5, None], "c": ["w", "u"]}))
    >>> schema = a.merge(b).build(key="c")
    >>> schema.column("x").to_dict()
    {'name': 'x', 'type': 'float', 'nullable': True, 'min': 0.5, 'max': 2.0, 'allow_nan_or_inf': False}
    >>> schema.column("c").domain, schema.key
    (('u', 'v', 'w'), ('c',))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core import coltypes
from raymlops.core.errors import InvalidInputError
from raymlops.data.schema.arrow import as_table, micros_to_iso, to_micros
from raymlops.data.schema.model import COLUMN_TYPES, SCHEMA_VERSION, Schema, class_key
from raymlops.sketches import CategoricalSketch, DistinctCount, NumericSketch, ValueCounts

__all__ = ["MIN_KEY_ROWS", "SchemaBuilder", "excluded_columns", "infer_schema"]

MIN_KEY_ROWS = 20
"""A column needs at least this many values to be called unique per row (key-like)."""

_UNIQUE_SHARE = 0.99  # beyond exact counting, this share of distinct values means unique per row

_EXACT = 2**53  # float64 holds every integer below this exactly
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NUMBERED = ("int", "float", "bool", "datetime")  # kinds with a NumericSketch
_COUNTED = ("int", "bool", "string")  # kinds whose few distinct values are counted
_IDENTIFYING = ("int", "string")  # kinds that may be a row id


# ---------------------------------------------------------------------------- one column


@dataclass
class _ColumnSketches:
    """What inference keeps of one column: type, rows, nulls and its sketches.

    ``values`` is None once the column has more than ``max_domain`` distinct values (or
    is typed differently in different batches); merging two is adding their sketches.
    """

    kind: str | None = None
    rows: int = 0
    nulls: int = 0
    numbers: NumericSketch | None = None
    values: ValueCounts | CategoricalSketch | None = None
    distinct_count: DistinctCount | None = None

    def merge(self, other: _ColumnSketches, max_domain: int) -> _ColumnSketches:
        kind = _merge_kind(self.kind, other.kind)
        out = _ColumnSketches(kind=kind, rows=self.rows + other.rows, nulls=self.nulls + other.nulls)
        if kind in _NUMBERED:
            numbers = [s.numbers for s in (self, other) if s.numbers is not None]
            out.numbers = numbers[0].merge(numbers[1]) if len(numbers) == 2 else (numbers[0] if numbers else None)
        if kind in _IDENTIFYING:
            counts = [s.distinct_count for s in (self, other) if s.kind is not None]
            if counts and all(c is not None for c in counts):
                out.distinct_count = counts[0].merge(counts[1]) if len(counts) == 2 else counts[0]
        sides = [s for s in (self, other) if s.kind is not None]  # a null-typed batch has no values
        if kind in _COUNTED and all(s.kind == kind and s.values is not None for s in sides):
            counted = [_capped(s.values, max_domain) for s in sides]
            if all(c is not None for c in counted):
                merged = counted[0].merge(counted[1]) if len(counted) == 2 else counted[0]
                out.values = _capped(merged, max_domain)
        return out

    @property
    def nan_or_inf(self) -> bool:
        n = self.numbers
        return n is not None and n.nan + n.posinf + n.neginf > 0

    def bounds(self) -> tuple[Any, Any]:
        """``(min, max)`` of the finite values in the column's type; None where there are none."""
        n = self.numbers
        if n is None or n.count == 0:
            return None, None
        if self.kind == "float":
            return n.min, n.max
        return _whole(n.min, down=True), _whole(n.max, down=False)

    def distinct(self) -> list[Any] | None:
        """The distinct values, sorted and typed, or None when more than ``max_domain``."""
        if self.values is None:
            return None
        if self.kind == "string":
            return sorted(self.values.counts)
        if self.kind == "int":
            return [int(v) for v in self.values.counts]
        return [bool(v) for v in self.values.counts]


def _merge_kind(a: str | None, b: str | None) -> str | None:
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} <= {"bool", "int", "float"}:
        return "float" if "float" in (a, b) else "int"
    return "string"


def _whole(value: float, *, down: bool) -> int:
    """An int bound from a float64 one: exact below 2**53, else one float step outward."""
    if abs(value) < _EXACT:
        return int(value)
    wider = np.nextafter(value, -math.inf if down else math.inf)
    return min(max(int(wider), _INT64_MIN), _INT64_MAX)


def _capped(values: ValueCounts | CategoricalSketch | None, max_domain: int) -> ValueCounts | CategoricalSketch | None:
    """The counts kept for at most ``max_domain`` distinct values; None beyond.

    Both kinds of counts are built to hold ``max_domain + 1`` values, so that counts of
    builders with different ``max_domain`` merge (rebuilt through their dict form).
    """
    if values is None:
        return None
    full = values.saturated if isinstance(values, ValueCounts) else values.truncated
    if full or values.distinct > max_domain:
        return None
    cap = "max_values" if isinstance(values, ValueCounts) else "max_categories"
    if getattr(values, cap) == max_domain + 1:
        return values
    d = values.to_dict()
    d[cap] = max_domain + 1
    return type(values).from_dict(d)


def _pandas_int_columns(batch: Any) -> set[str]:
    """Float columns of a DataFrame that are ints with missing values (pandas' int + NaN)."""
    if not isinstance(batch, pd.DataFrame):
        return set()
    out = set()
    for name in batch.columns:
        s = batch[name]
        if coltypes.from_pandas(s.dtype) == "float" and s.isna().any():
            v = s.dropna().to_numpy(dtype=np.float64)
            if len(v) and np.all(np.isfinite(v)) and np.all(v == np.round(v)) and np.all(np.abs(v) < _EXACT):
                out.add(str(name))
    return out


def _sketch(arr: pa.ChunkedArray, name: str, max_domain: int, count_values: bool, as_int: bool) -> _ColumnSketches:
    """The sketches of one column of one batch."""
    kind = coltypes.from_arrow(arr.type)
    if kind == coltypes.OTHER:
        raise InvalidInputError(
            f"column {name!r} has arrow type {arr.type}, which a schema cannot describe (it knows "
            f"{', '.join(COLUMN_TYPES)}); convert or drop the column before inferring a schema"
        )
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    if pa.types.is_decimal(arr.type):
        arr = pc.cast(arr, pa.float64())
    if as_int and kind == "float":
        arr, kind = pc.cast(arr, pa.int64()), "int"
    col = _ColumnSketches(kind=kind, rows=len(arr), nulls=arr.null_count)
    if kind in _NUMBERED:
        col.numbers = NumericSketch()
        col.numbers.update(to_micros(arr) if kind == "datetime" else arr)
    if kind in _IDENTIFYING:
        col.distinct_count = DistinctCount()
        col.distinct_count.update(arr)
    if kind in _COUNTED and count_values:
        if kind == "string":
            if len(pc.unique(arr).drop_null()) <= max_domain:
                col.values = CategoricalSketch(max_categories=max_domain + 1)
                col.values.update(arr)
        elif not _beyond_exact(col.numbers):  # float64 counts would merge two ints there
            col.values = ValueCounts(max_values=max_domain + 1)
            col.values.update(arr)
            col.values = _capped(col.values, max_domain)
    return col


def _beyond_exact(numbers: NumericSketch | None) -> bool:
    """Whether a sketch saw a finite value of magnitude 2**53 or more."""
    return numbers is not None and numbers.count > 0 and max(-numbers.min, numbers.max) >= _EXACT


# ---------------------------------------------------------------------------- the builder


class SchemaBuilder:
    """Mergeable schema inference: ``update`` with batches, ``merge`` builders, ``build``.

    Args:
        max_domain: a string column (or the label column) with at most this many
            distinct values gets them as its domain (classes); more, and any value is
            allowed.

    Example:
        >>> import pyarrow as pa
        >>> b = SchemaBuilder(max_domain=2)
        >>> b.update(pa.table({"n": [3, 9], "c": ["u", "v"], "d": ["p", "q"]}))
        >>> b.update(pa.table({"n": [1, 4], "c": ["v", "u"], "d": ["r", "p"]}))
        >>> [b.build().column(name).to_dict() for name in ("n", "c")]
        [{'name': 'n', 'type': 'int', 'nullable': False, 'min': 1, 'max': 9}, {'name': 'c', 'type': 'string', 'nullable': False, 'domain': ['u', 'v']}]
        >>> b.rows, b.build().column("d").domain
        (4, None)
    """

    def __init__(self, *, max_domain: int = 100) -> None:
        if not isinstance(max_domain, int) or max_domain < 0:
            raise InvalidInputError(f"max_domain must be an int >= 0, got {max_domain!r}")
        self.max_domain = max_domain
        self._rows = 0
        self._columns: dict[str, _ColumnSketches] = {}

    @property
    def rows(self) -> int:
        """Rows seen so far."""
        return self._rows

    def update(self, batch: Any) -> None:
        """Add a batch (pyarrow Table or RecordBatch, or pandas DataFrame)."""
        as_int = _pandas_int_columns(batch)
        table = as_table(batch)
        self._rows += table.num_rows
        for name in table.column_names:
            before = self._columns.get(name)
            count_values = before is None or before.kind is None or before.values is not None
            col = _sketch(table.column(name), name, self.max_domain, count_values, name in as_int)
            self._columns[name] = col if before is None else before.merge(col, self.max_domain)

    def merge(self, other: SchemaBuilder) -> SchemaBuilder:
        """A new builder that has seen the rows of both (``self``'s columns first)."""
        out = SchemaBuilder(max_domain=min(self.max_domain, other.max_domain))
        out._rows = self._rows + other._rows
        for name in list(self._columns) + [n for n in other._columns if n not in self._columns]:
            a = self._columns.get(name) or _ColumnSketches()
            b = other._columns.get(name) or _ColumnSketches()
            out._columns[name] = a.merge(b, out.max_domain)
        return out

    def build(
        self,
        *,
        label: str | None = None,
        key: str | list[str] | tuple[str, ...] | None = None,
        allow_nan_or_inf: bool = False,
    ) -> Schema:
        """The inferred schema.

        Args:
            label: the label column; its distinct values become the classes (with empty
                definitions to fill in) when it is int, bool or string with at most
                ``max_domain`` of them.
            key: the column or columns that identify a row.
            allow_nan_or_inf: accept NaN/inf in float columns where the data had them.
                Off by default: no model trains on an infinite value, so an inferred
                schema flags them and validation quarantines their rows.

        Raises:
            InvalidInputError: no rows were seen, or ``label``/``key`` name unknown columns.
        """
        if not self._columns:
            raise InvalidInputError("no columns seen: call update() with at least one batch before build()")
        keys = [key] if isinstance(key, str) else list(key or [])
        for name in ([label] if label is not None else []) + keys:
            if name not in self._columns:
                raise InvalidInputError(
                    f"column {name!r} is not in the data (columns: {', '.join(self._columns)}); check the name"
                )
        columns = []
        for name, col in self._columns.items():
            kind = col.kind or "string"
            nullable = col.nulls > 0 or col.rows < self._rows
            spec: dict[str, Any] = {"name": name, "type": kind, "nullable": nullable}
            if kind in ("int", "float"):
                spec["min"], spec["max"] = col.bounds()
                if kind == "float":
                    spec["allow_nan_or_inf"] = bool(allow_nan_or_inf and col.nan_or_inf)
            elif kind == "datetime":
                spec["min"], spec["max"] = (None if b is None else micros_to_iso(b) for b in col.bounds())
            elif kind == "string" and name != label and col.distinct():
                spec["domain"] = col.distinct()
            columns.append(spec)
        label_spec = None
        if label is not None:
            col = self._columns[label]
            classes = None
            values = col.distinct() if col.kind in _COUNTED else None
            if values:
                classes = {class_key(v): {"definition": ""} for v in values}
            label_spec = {"column": label, "classes": classes}
        excluded = [
            {"column": name, "reason": reason}
            for name, reason in excluded_columns(self._columns, self._rows).items()
            if name != label and name not in keys
        ]
        return Schema.from_dict(
            {"version": SCHEMA_VERSION, "columns": columns, "label": label_spec, "key": keys, "excluded": excluded},
            source="the inferred schema",
        )


def excluded_columns(columns: dict[str, _ColumnSketches], rows: int) -> dict[str, str]:
    """The columns that are data but not features (module docstring), with why."""
    out = {}
    for name, col in columns.items():
        n = col.rows - col.nulls
        if col.kind == "datetime":
            out[name] = "a timestamp: raw time does not generalise (derive features from it, or remove this exclusion)"
        elif n == 0:
            out[name] = "no values"
        elif _constant(col):
            out[name] = "constant (one value in every row)"
        elif col.kind in _IDENTIFYING and n >= MIN_KEY_ROWS and _unique(col.distinct_count, n):
            lo, hi = col.bounds() if col.kind == "int" else (None, None)
            sequence = lo is not None and hi - lo + 1 <= 2 * n
            out[name] = "unique per row (key-like: an integer sequence)" if sequence else "unique per row (key-like)"
    return out


def _constant(col: _ColumnSketches) -> bool:
    if col.numbers is not None:
        n = col.numbers
        return n.count > 0 and n.min == n.max and n.nan + n.posinf + n.neginf == 0
    return col.distinct_count is not None and col.distinct_count.exact and col.distinct_count.estimate() == 1


def _unique(counted: DistinctCount | None, n: int) -> bool:
    if counted is None:
        return False
    distinct = counted.estimate()
    return distinct == n if counted.exact else distinct >= _UNIQUE_SHARE * n


def infer_schema(
    data: Any,
    *,
    label: str | None = None,
    key: str | list[str] | tuple[str, ...] | None = None,
    max_domain: int = 100,
) -> Schema:
    """Infer a schema from one pyarrow Table / RecordBatch or pandas DataFrame.

    Args:
        data: the rows.
        label: the label column (its classes get empty definitions to fill in).
        key: the column or columns that identify a row.
        max_domain: the most distinct values a string column may have to get a domain.

    Returns:
        The schema; save it with :meth:`Schema.save`, edit it, load it with :meth:`Schema.load`.
    """
    builder = SchemaBuilder(max_domain=max_domain)
    builder.update(data)
    return builder.build(label=label, key=key)
