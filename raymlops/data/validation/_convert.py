"""Reading a column as its declared type: cast what can be cast, mark what cannot.

Numbers and booleans read as strings from a CSV are parsed; an int column that pandas
made float is read back as ints; an empty or blank string in a non-string column is a
null, and so is NaN in an int column (pandas' missing value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core import coltypes

__all__ = ["Typed", "arrow_type", "convert", "np_mask", "single"]


def arrow_type(kind: str) -> pa.DataType:
    """The Arrow type validation reads a column of type ``kind`` as (strings as large strings)."""
    return pa.large_string() if kind == "string" else coltypes.to_arrow(kind)


def single(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as one contiguous Arrow array."""
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 1:
            return arr.chunk(0)
        if arr.num_chunks == 0:
            return pa.array([], type=arr.type)
        return arr.combine_chunks()
    return arr


def np_mask(mask: pa.Array) -> np.ndarray:
    """An arrow boolean array as numpy, null counting as False."""
    if mask.null_count:
        mask = mask.fill_null(False)
    return mask.to_numpy(zero_copy_only=False)


@dataclass
class Typed:
    """A column read as its declared type."""

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
        long = np_mask(pc.greater(pc.utf8_length(clean), 18))
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
    trimmed, _ = _blank_as_null(text)
    texts = pd.Series(trimmed.to_pylist(), dtype=object)
    parsed = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
    return pc.cast(pa.array(parsed.dt.tz_localize(None).astype("datetime64[us]")), pa.timestamp("us"))


def convert(arr: pa.Array, kind: str) -> Typed:
    """Read ``arr`` as ``kind``: cast what can be cast, mark the values that cannot."""
    source = coltypes.from_arrow(arr.type)
    if pa.types.is_dictionary(arr.type):
        arr = pc.cast(arr, arr.type.value_type)
    if source == kind:
        if pa.types.is_decimal(arr.type):
            return Typed(pc.cast(arr, pa.float64()), None, True)
        if pa.types.is_string_view(arr.type):
            arr = pc.cast(arr, pa.large_string())
        return Typed(arr, None, False)
    target = arrow_type(kind)
    if source is None:  # the null type: every value is null
        return Typed(pa.nulls(len(arr), target), None, True)
    as_null = None  # values read as null rather than wrong (blank strings, NaN in an int column)
    if source == coltypes.OTHER:
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
        return Typed(values, None, True)
    lost = pc.and_(arr.is_valid(), values.is_null())
    if as_null is not None:
        lost = pc.and_kleene(lost, pc.invert(as_null))
    wrong = np_mask(lost)
    return Typed(values, wrong if wrong.any() else None, True)
