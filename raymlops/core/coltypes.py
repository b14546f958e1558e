"""The one vocabulary of column types, and its mapping to Arrow, pandas, numpy and JSON.

Every place that names the type of a data column uses these five words: schemas, model
signatures, the ``columns`` property of ``Dataset`` artifacts, feature definitions and
the serving protocol.

==========  ==================  ===================  ===========================
type        Arrow               pandas / numpy       JSON value in a request
==========  ==================  ===================  ===========================
``int``     any integer         int64                an integer (``3.0`` too)
``float``   floating, decimal   float64              a number
``bool``    boolean             bool                 ``true`` / ``false``
``string``  (large) string      object               a string
``datetime`` timestamp, date    datetime64[us]       an ISO 8601 string
==========  ==================  ===================  ===========================

Older records (signatures written before this vocabulary) use ``double``, ``long`` and
``boolean``; :func:`canonical` reads them, so stored versions keep working. The metadata
store's *property* types (``INT``, ``DOUBLE``, ``STRING``, ``BOOL``, ``STRUCT``) are not
column types: they type the properties of ML Metadata records and keep ML Metadata's
names.

Example:
    >>> canonical("double"), canonical("Int"), from_pandas("datetime64[ns]")
    ('float', 'int', 'datetime')
    >>> import pyarrow as pa
    >>> from_arrow(pa.large_string()), to_arrow("datetime"), from_arrow(pa.null())
    ('string', TimestampType(timestamp[us]), None)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from raymlops.core.errors import InvalidInputError

__all__ = [
    "COLUMN_TYPES",
    "NUMERIC_TYPES",
    "OTHER",
    "canonical",
    "from_arrow",
    "from_pandas",
    "is_numeric",
    "json_kind",
    "numpy_dtype",
    "to_arrow",
    "widen",
]

COLUMN_TYPES = ("int", "float", "bool", "string", "datetime")
"""Every column type, in the order they are listed to people."""

NUMERIC_TYPES = ("int", "float", "bool")
"""Types whose values are numbers to a statistic (a bool counts as 0/1)."""

OTHER = "other"
"""What :func:`from_arrow` says of a type no column type describes (lists, structs, binary)."""

_ALIASES = {
    "long": "int",
    "integer": "int",
    "int64": "int",
    "double": "float",
    "float64": "float",
    "boolean": "bool",
    "str": "string",
    "timestamp": "datetime",
}

_ARROW = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "datetime": pa.timestamp("us"),
}

_NUMPY: dict[str, Any] = {
    "int": np.int64,
    "float": np.float64,
    "bool": np.bool_,
    "string": object,
    "datetime": np.dtype("datetime64[us]"),
}

_JSON = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "datetime": "an ISO 8601 date-time string",
}


def canonical(name: Any) -> str:
    """The column type ``name`` stands for (case-insensitive; older aliases accepted).

    Raises:
        InvalidInputError: ``name`` is no column type.
    """
    if isinstance(name, str):
        low = name.strip().lower()
        low = _ALIASES.get(low, low)
        if low in COLUMN_TYPES:
            return low
    raise InvalidInputError(f"unknown column type {name!r}: use one of {', '.join(COLUMN_TYPES)}")


def is_numeric(name: str) -> bool:
    """Whether values of the type are numbers to a statistic (``int``, ``float``, ``bool``)."""
    return canonical(name) in NUMERIC_TYPES


def from_arrow(arrow_type: pa.DataType) -> str | None:
    """The column type of an Arrow type; None for the null type, :data:`OTHER` if none fits.

    Dictionary-encoded types count as their value type; decimals as ``float``; dates as
    ``datetime``.
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
    return OTHER


def to_arrow(name: str) -> pa.DataType:
    """The Arrow type a column of this type is stored as."""
    return _ARROW[canonical(name)]


def from_pandas(dtype: Any) -> str:
    """The column type of a pandas or numpy dtype (objects and categories are ``string``)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def numpy_dtype(name: str) -> Any:
    """The numpy dtype a column of this type is converted to in a DataFrame."""
    return _NUMPY[canonical(name)]


def json_kind(name: str) -> str:
    """What a JSON value of this type looks like, in words (for error messages)."""
    return _JSON[canonical(name)]


def widen(a: str | None, b: str | None) -> str | None:
    """The type of a column typed ``a`` in one part of the data and ``b`` in another.

    The same type stays; ``None`` (no values seen) takes the other; bool and int widen to
    int, either with float to float; anything else to string.

    Example:
        >>> widen("int", "float"), widen("bool", "int"), widen(None, "datetime"), widen("int", "string")
        ('float', 'int', 'datetime', 'string')
    """
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} <= {"bool", "int", "float"}:
        return "float" if "float" in (a, b) else "int"
    return "string"
