"""Dataset schemas: what each column should hold, inferred from data and edited by people.

A :class:`Schema` lists every column with its type (``int``, ``float``, ``bool``,
``string`` or ``datetime``), whether it may be null, its range (numbers and datetimes)
or its domain (strings with few distinct values, like TFDV), and optionally the label
column with a human definition of each class (label quality starts with saying what
each label means) and the key columns whose values must not repeat.
:func:`raymlops.data.validation.validate_batch` checks data against it.

Inference is mergeable so it can run batch by batch, e.g. one :class:`SchemaBuilder`
per Ray Data block merged at the end: ``update(batch)`` on each builder, ``merge`` the
builders, then ``build(label=..., key=...)``. :func:`infer_schema` does all three for
one table. Types come from the pyarrow types; a pandas float column that holds only
whole numbers and at least one NaN is inferred as ``int`` (pandas turns an integer
column with a missing value into floats).

The schema file is JSON, meant to be read and edited by people::

    {
      "version": 1,
      "columns": [
        {"name": "id", "type": "int", "nullable": false, "min": 1, "max": 5000},
        {"name": "age", "type": "int", "nullable": false, "min": 0, "max": 120},
        {"name": "income", "type": "float", "nullable": true, "min": 0.0,
         "max": 250000.0, "allow_nan_or_inf": false},
        {"name": "color", "type": "string", "nullable": false, "domain": ["blue", "red"]},
        {"name": "city", "type": "string", "nullable": false, "domain": null},
        {"name": "signup", "type": "datetime", "nullable": false,
         "min": "2020-01-01T00:00:00", "max": "2024-12-31T23:59:59"},
        {"name": "churned", "type": "string", "nullable": false}
      ],
      "label": {"column": "churned",
                "classes": {"no": {"definition": "still a customer after 90 days"},
                            "yes": {"definition": ""}}},
      "key": ["id"]
    }

Column fields (only ``name`` and ``type`` are required):

- ``nullable`` (default true): whether a null (missing) value is allowed.
- ``min`` / ``max`` (int, float and datetime columns; null or absent = no bound):
  the inclusive range. Datetimes are ISO 8601 strings, compared in UTC.
- ``allow_nan_or_inf`` (float columns, default false): whether NaN and ±inf are allowed.
- ``domain`` (string columns; null or absent = any value): the allowed values.
  Inference writes one when a column has at most ``max_domain`` distinct values.
- ``description`` (optional): free text for people.

``label`` names the label column; ``classes`` maps each class value (as a JSON string:
``"3"`` for an int label, ``"true"`` for a bool one) to ``{"definition": "..."}``, or is
null for a regression target. The classes are the label column's domain: a value that
is not a class is an ``unseen_category``. ``key`` lists the columns whose combined value
identifies a row. Safe edits: widen or narrow a range, set a bound to null, add or remove
domain values or classes, flip ``nullable``, write the class definitions, change the
key. Unknown fields are errors (a typo such as ``"mxa"`` is reported, not ignored).

Example:
    >>> import pyarrow as pa
    >>> table = pa.table({"age": [31, 45, 27], "color": ["red", "blue", "red"], "y": [0, 1, 1]})
    >>> schema = infer_schema(table, label="y")
    >>> for column in schema.to_dict()["columns"]:
    ...     print(column)
    {'name': 'age', 'type': 'int', 'nullable': False, 'min': 27, 'max': 45}
    {'name': 'color', 'type': 'string', 'nullable': False, 'domain': ['blue', 'red']}
    {'name': 'y', 'type': 'int', 'nullable': False, 'min': 0, 'max': 1}
    >>> schema.to_dict()["label"]
    {'column': 'y', 'classes': {'0': {'definition': ''}, '1': {'definition': ''}}}
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, model_validator

from raymlops.core.errors import InvalidInputError

__all__ = [
    "COLUMN_TYPES",
    "ColumnSchema",
    "LabelClass",
    "LabelSchema",
    "Schema",
    "SchemaBuilder",
    "infer_schema",
    "as_table",
    "column_kind",
]

COLUMN_TYPES = ("int", "float", "bool", "string", "datetime")
SCHEMA_VERSION = 1
_HELP = (
    "fix the file (its format is described in raymlops.data.schema), or write a new one with "
    "`raymlops data validate DATA --save-schema S`"
)


# ---------------------------------------------------------------------------- arrow helpers


def as_table(batch: Any) -> pa.Table:
    """A pyarrow Table from a Table, RecordBatch or pandas DataFrame (index dropped).

    A pandas object column that pyarrow cannot convert (mixed Python types) becomes a
    string column, so that each value can still be checked on its own.

    Raises:
        InvalidInputError: the batch is none of those.
    """
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(batch, pd.DataFrame):
        df = batch
        if not all(isinstance(c, str) for c in df.columns):
            df = df.rename(columns=str)
        try:
            return pa.Table.from_pandas(df, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arrays = {}
            for name in df.columns:
                try:
                    arrays[name] = pa.array(df[name], from_pandas=True)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                    values = df[name].astype(object)
                    arrays[name] = pa.array(
                        [None if _is_missing(v) else str(v) for v in values], type=pa.string()
                    )
            return pa.table(arrays)
    raise InvalidInputError(
        f"cannot read a batch of type {type(batch).__name__}: pass a pyarrow Table or RecordBatch, "
        "or a pandas DataFrame"
    )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def column_kind(arrow_type: pa.DataType) -> str | None:
    """The schema type of an arrow type: ``int``, ``float``, ``bool``, ``string``, ``datetime``.

    Returns ``None`` for the null type (a column with no values), ``"other"`` for types a
    schema cannot describe (lists, structs, binary, ...).

    Example:
        >>> column_kind(pa.int32()), column_kind(pa.large_string()), column_kind(pa.null())
        ('int', 'string', None)
    """
    t = arrow_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t):
        return None
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    return "other"


def _to_micros(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Timestamps or dates as int64 microseconds since the epoch (UTC; nanoseconds dropped)."""
    if not pa.types.is_timestamp(arr.type) or arr.type.unit != "us" or arr.type.tz is not None:
        arr = pc.cast(arr, pa.timestamp("us"), safe=False)
    return pc.cast(arr, pa.int64())


def _iso_to_micros(text: str) -> int:
    """An ISO 8601 datetime as microseconds since the epoch (UTC; naive means UTC)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return int(np.datetime64(parsed, "us").astype(np.int64))


def _micros_to_iso(value: int) -> str:
    unit = "datetime64[s]" if value % 1_000_000 == 0 else "datetime64[us]"
    return str(np.datetime64(int(value), "us").astype(unit))


# ---------------------------------------------------------------------------- the schema model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSchema(_Model):
    """One column: its type, nullability and range or domain.

    Example:
        >>> ColumnSchema(name="age", type="int", nullable=False, min=0, max=120).to_dict()
        {'name': 'age', 'type': 'int', 'nullable': False, 'min': 0, 'max': 120}
    """

    name: StrictStr = Field(min_length=1)
    type: Literal["int", "float", "bool", "string", "datetime"]
    nullable: StrictBool = True
    min: Any = None
    max: Any = None
    allow_nan_or_inf: StrictBool = False
    domain: tuple[StrictStr, ...] | None = None
    description: StrictStr = ""

    @model_validator(mode="after")
    def _check(self) -> ColumnSchema:
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is None:
                continue
            if self.type in ("int", "float"):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{bound} of {_a(self.type)} column must be a number or null, got {value!r}")
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{bound} must be a finite number; use null for no bound")
            elif self.type == "datetime":
                if not isinstance(value, str):
                    raise ValueError(
                        f"{bound} of a datetime column must be an ISO 8601 string such as "
                        f"'2024-01-31T00:00:00', got {value!r}"
                    )
                try:
                    _iso_to_micros(value)
                except ValueError:
                    raise ValueError(
                        f"{bound} {value!r} is not an ISO 8601 datetime; write e.g. '2024-01-31T00:00:00'"
                    ) from None
            else:
                raise ValueError(
                    f"{bound} applies to int, float and datetime columns, not to {_a(self.type)} column; remove it"
                )
        if self.min is not None and self.max is not None:
            lo, hi = self.min, self.max
            if self.type == "datetime":
                lo, hi = _iso_to_micros(lo), _iso_to_micros(hi)
            if lo > hi:
                raise ValueError(f"min {self.min!r} is greater than max {self.max!r}")
        if self.domain is not None and self.type != "string":
            raise ValueError(f"domain applies to string columns, not to {_a(self.type)} column; remove it")
        if self.allow_nan_or_inf and self.type != "float":
            raise ValueError(
                f"allow_nan_or_inf applies to float columns, not to {_a(self.type)} column; remove it"
            )
        return self

    @property
    def bounds_text(self) -> str:
        """The range as ``[min, max]``, with ``-inf``/``inf`` for a missing bound."""
        lo = "-inf" if self.min is None else _fmt(self.min)
        hi = "inf" if self.max is None else _fmt(self.max)
        return f"[{lo}, {hi}]"

    def to_dict(self, *, with_domain: bool = True) -> dict[str, Any]:
        """The JSON form, with every field that applies to the column's type."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.type in ("int", "float", "datetime"):
            out["min"] = self.min
            out["max"] = self.max
        if self.type == "float":
            out["allow_nan_or_inf"] = self.allow_nan_or_inf
        if self.type == "string" and with_domain:
            out["domain"] = None if self.domain is None else list(self.domain)
        if self.description:
            out["description"] = self.description
        return out


def _a(kind: str) -> str:
    """``int`` → ``an int``, ``float`` → ``a float``."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


class LabelClass(_Model):
    """One class of the label: what it means, in words a labeler can apply."""

    definition: StrictStr = ""


class LabelSchema(_Model):
    """The label column and its classes (``None`` for a regression target)."""

    column: StrictStr = Field(min_length=1)
    classes: dict[StrictStr, LabelClass] | None = None


class Schema(_Model):
    """What a dataset's columns should hold; see the module docstring for the JSON format.

    Example:
        >>> schema = Schema.from_dict({"columns": [{"name": "x", "type": "float", "min": 0.0}]})
        >>> schema.names, schema.column("x").nullable, schema.column("x").bounds_text
        (['x'], True, '[0.0, inf]')
    """

    version: Literal[1] = SCHEMA_VERSION
    columns: tuple[ColumnSchema, ...]
    label: LabelSchema | None = None
    key: tuple[StrictStr, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Schema:
        if not self.columns:
            raise ValueError("the schema lists no columns; add at least one")
        seen: set[str] = set()
        for col in self.columns:
            if col.name in seen:
                raise ValueError(f"column {col.name!r} is listed twice; keep one entry per column")
            seen.add(col.name)
        if self.label is not None:
            if self.label.column not in seen:
                raise ValueError(
                    f"label column {self.label.column!r} is not among the columns; add it or fix the name"
                )
            col = self.column(self.label.column)
            if self.label.classes is not None:
                if col.type not in ("int", "bool", "string"):
                    raise ValueError(
                        f"label column {col.name!r} is {col.type}; classes apply to int, bool and string "
                        "labels (use \"classes\": null for a regression target)"
                    )
                if col.domain is not None:
                    raise ValueError(
                        f"label column {col.name!r} has a domain; list its values under label.classes instead"
                    )
                for value in self.label.classes:
                    _parse_class(value, col.type)
        for name in self.key:
            if name not in seen:
                raise ValueError(f"key column {name!r} is not among the columns; add it or fix the name")
        if len(set(self.key)) != len(self.key):
            raise ValueError(f"key {list(self.key)} lists a column twice")
        return self

    # ---- access

    @property
    def names(self) -> list[str]:
        """The column names, in schema order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSchema:
        """The column called ``name``.

        Raises:
            InvalidInputError: no such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise InvalidInputError(f"column {name!r} is not in the schema (columns: {', '.join(self.names)})")

    def label_values(self) -> list[Any] | None:
        """The label classes as typed values (ints for an int label), or ``None``."""
        if self.label is None or self.label.classes is None:
            return None
        kind = self.column(self.label.column).type
        return [_parse_class(v, kind) for v in self.label.classes]

    # ---- (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring)."""
        label_col = self.label.column if self.label is not None and self.label.classes is not None else None
        out: dict[str, Any] = {
            "version": self.version,
            "columns": [c.to_dict(with_domain=c.name != label_col) for c in self.columns],
        }
        if self.label is not None:
            classes = None
            if self.label.classes is not None:
                classes = {k: v.model_dump() for k, v in self.label.classes.items()}
            out["label"] = {"column": self.label.column, "classes": classes}
        else:
            out["label"] = None
        out["key"] = list(self.key)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schema") -> Schema:
        """Build a schema from its JSON form.

        Args:
            data: the parsed JSON.
            source: what to call the input in error messages (e.g. the file path).

        Raises:
            InvalidInputError: naming every field that is wrong and what it should be.
        """
        if not isinstance(data, dict):
            raise InvalidInputError(
                f"{source} is not valid: it must be a JSON object with \"columns\", "
                f"got {type(data).__name__}; {_HELP}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = [_describe(e, data) for e in err.errors()]
            raise InvalidInputError(
                f"{source} is not valid: {'; '.join(problems)}; {_HELP}", details=problems
            ) from None

    def to_json(self) -> str:
        """The schema file's text: indented JSON, keys in a fixed order."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the schema file (creating parent folders) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Schema:
        """Read a schema file.

        Raises:
            InvalidInputError: the file is missing, is not JSON, or does not describe a
                schema; the message names the file, the line or field, and the fix.
        """
        path = Path(path)
        source = f"schema file {str(path)!r}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidInputError(
                f"{source} does not exist; pass the path of an existing schema, or write one with "
                "`raymlops data validate DATA --save-schema S`"
            ) from None
        except (OSError, UnicodeDecodeError) as err:
            raise InvalidInputError(f"cannot read {source}: {err}") from None
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as err:
            raise InvalidInputError(
                f"{source} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}; {_HELP}"
            ) from None
        except _DuplicateKey as err:
            raise InvalidInputError(
                f"{source} is not valid: the key {err.args[0]!r} appears twice in one object; keep one"
            ) from None
        return cls.from_dict(data, source=source)


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


_FIELDS = {
    "schema": "version, columns, label, key",
    "column": "name, type, nullable, min, max, allow_nan_or_inf, domain, description",
    "label": "column, classes",
    "class": "definition",
}


def _describe(error: Any, data: dict[str, Any]) -> str:
    """One pydantic error as ``where: what``, naming columns by their name."""
    loc = list(error["loc"])
    where = ""
    node: Any = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            where += f"[{part}]" + (f" ({name!r})" if isinstance(name, str) else "")
            node = item
        else:
            in_classes = i > 0 and loc[i - 1] == "classes"
            where += ("." if where else "") + (repr(part) if in_classes else str(part))
            node = node.get(part) if isinstance(node, dict) else None
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        parent = {0: "schema", 1: "schema"}.get(len(loc), "")
        if loc[0] == "columns" and len(loc) == 3:
            parent = "column"
        elif loc[0] == "label":
            parent = "label" if len(loc) == 2 else "class"
        msg = f"unknown field (allowed: {_FIELDS[parent or 'schema']})"
    elif error["type"] == "missing":
        msg = "required field is missing"
    return f"{where or 'top level'}: {msg}"


def _parse_class(value: str, kind: str) -> Any:
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"label class {value!r} is not an int, but the label column is int") from None
    if kind == "bool":
        if value not in ("true", "false"):
            raise ValueError(f"label class {value!r} of a bool label must be \"true\" or \"false\"")
        return value == "true"
    return value


def _class_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------- inference


@dataclass
class _ColumnStats:
    """What inference keeps per column; merging two is a union."""

    kind: str | None = None
    rows: int = 0
    nulls: int = 0
    min: Any = None
    max: Any = None
    nan_or_inf: bool = False
    distinct: set[Any] | None = field(default_factory=set)

    def merge(self, other: _ColumnStats, max_domain: int) -> _ColumnStats:
        kind = _merge_kind(self.kind, other.kind)
        out = _ColumnStats(kind=kind, rows=self.rows + other.rows, nulls=self.nulls + other.nulls)
        out.nan_or_inf = self.nan_or_inf or other.nan_or_inf
        sides = [s for s in (self, other) if s.kind is not None]
        if kind in ("int", "float", "datetime"):
            cast = {"int": int, "float": float, "datetime": int}[kind]
            lows = [cast(s.min) for s in sides if s.min is not None]
            highs = [cast(s.max) for s in sides if s.max is not None]
            out.min = min(lows) if lows else None
            out.max = max(highs) if highs else None
        same = all(s.kind == kind for s in sides)
        if kind in ("int", "bool", "string") and same and all(s.distinct is not None for s in (self, other)):
            union = self.distinct | other.distinct  # type: ignore[operator]
            out.distinct = union if len(union) <= max_domain else None
        else:
            out.distinct = None
        return out


def _merge_kind(a: str | None, b: str | None) -> str | None:
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} <= {"bool", "int", "float"}:
        return "float" if "float" in (a, b) else "int"
    return "string"


def _pandas_int_columns(batch: Any) -> set[str]:
    """Float columns of a DataFrame that are ints with missing values (pandas' int + NaN)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        return set()
    if not isinstance(batch, pd.DataFrame):
        return set()
    out = set()
    for name in batch.columns:
        s = batch[name]
        if s.dtype.kind == "f" and s.isna().any():
            v = s.dropna().to_numpy()
            if len(v) and np.all(np.isfinite(v)) and np.all(v == np.round(v)) and np.all(np.abs(v) < 2**53):
                out.add(str(name))
    return out


def _stats(arr: pa.ChunkedArray, name: str, max_domain: int, want_distinct: bool, as_int: bool) -> _ColumnStats:
    kind = column_kind(arr.type)
    if kind == "other":
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
    st = _ColumnStats(kind=kind, rows=len(arr), nulls=arr.null_count)
    if kind is None or st.nulls == st.rows:
        st.distinct = set() if kind in ("int", "bool", "string") else None
        return st
    if kind in ("int", "float", "datetime", "bool"):
        values = _to_micros(arr) if kind == "datetime" else arr
        if kind == "float":
            finite = pc.is_finite(values)
            if not pc.all(finite).as_py():
                st.nan_or_inf = True
                values = values.filter(finite)
        if len(values) - values.null_count > 0:
            mm = pc.min_max(values)
            st.min, st.max = mm["min"].as_py(), mm["max"].as_py()
    if kind in ("int", "bool", "string") and want_distinct:
        uniq = pc.unique(arr).drop_null()
        st.distinct = set(uniq.to_pylist()) if len(uniq) <= max_domain else None
    else:
        st.distinct = None
    return st


class SchemaBuilder:
    """Mergeable schema inference: ``update`` with batches, ``merge`` builders, ``build``.

    Args:
        max_domain: a string column (or the label column) with at most this many
            distinct values gets them as its domain (classes); more, and any value is
            allowed.

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

    def __init__(self, *, max_domain: int = 100) -> None:
        if not isinstance(max_domain, int) or max_domain < 0:
            raise InvalidInputError(f"max_domain must be an int >= 0, got {max_domain!r}")
        self.max_domain = max_domain
        self._rows = 0
        self._columns: dict[str, _ColumnStats] = {}

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
            want = before is None or before.distinct is not None
            st = _stats(table.column(name), name, self.max_domain, want, name in as_int)
            self._columns[name] = st if before is None else before.merge(st, self.max_domain)

    def merge(self, other: SchemaBuilder) -> SchemaBuilder:
        """A new builder that has seen the rows of both (``self``'s columns first)."""
        out = SchemaBuilder(max_domain=min(self.max_domain, other.max_domain))
        out._rows = self._rows + other._rows
        for name in list(self._columns) + [n for n in other._columns if n not in self._columns]:
            a, b = self._columns.get(name), other._columns.get(name)
            if a is None or b is None:
                only = a or b
                assert only is not None
                out._columns[name] = only.merge(_ColumnStats(), out.max_domain)
            else:
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
        for name, st in self._columns.items():
            kind = st.kind or "string"
            nullable = st.nulls > 0 or st.rows < self._rows
            spec: dict[str, Any] = {"name": name, "type": kind, "nullable": nullable}
            if kind in ("int", "float"):
                spec["min"], spec["max"] = st.min, st.max
                if kind == "float":
                    spec["allow_nan_or_inf"] = bool(allow_nan_or_inf and st.nan_or_inf)
            elif kind == "datetime":
                spec["min"] = None if st.min is None else _micros_to_iso(st.min)
                spec["max"] = None if st.max is None else _micros_to_iso(st.max)
            elif kind == "string" and name != label and st.distinct:
                spec["domain"] = sorted(st.distinct)
            columns.append(spec)
        label_spec = None
        if label is not None:
            st = self._columns[label]
            classes = None
            if (st.kind or "string") in ("int", "bool", "string") and st.distinct:
                classes = {_class_key(v): {"definition": ""} for v in sorted(st.distinct)}
            label_spec = {"column": label, "classes": classes}
        return Schema.from_dict(
            {"version": SCHEMA_VERSION, "columns": columns, "label": label_spec, "key": keys},
            source="the inferred schema",
        )


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
