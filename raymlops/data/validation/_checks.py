"""The per-column checks of validation, and the reasons text of the failing rows.

Each check returns a :class:`Failure`: the mask of its failing rows and how to describe
them, both in the anomaly message (with a count) and in each row's ``__reasons``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core import coltypes
from raymlops.data.schema.arrow import iso_to_micros, to_micros
from raymlops.data.schema.model import ColumnSchema, with_article
from raymlops.data.validation._convert import Typed, arrow_type, np_mask

__all__ = ["Failure", "column_failures", "example", "reasons"]

_MAX_SHOWN = 40  # characters of a string value shown in a reason


@dataclass
class Failure:
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
    if coltypes.from_arrow(values.type) == "string":
        text = pc.cast(values, pa.large_string())
        long = pc.greater(pc.utf8_length(text), _MAX_SHOWN)
        if pc.any(long).as_py():
            cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, _MAX_SHOWN), _lit("..."), _lit(""))
            text = pc.if_else(long, cut, text)
        return pc.binary_join_element_wise(_lit("'"), text, _lit("'"), _lit(""))
    if coltypes.from_arrow(values.type) == coltypes.OTHER:
        return pa.array(["<" + str(values.type) + ">"] * len(values), pa.large_string())
    return pc.cast(values, pa.large_string())


def example(values: pa.Array, mask: np.ndarray) -> str:
    """The first failing value, as shown in messages (``null`` for a null)."""
    first = int(np.argmax(mask))
    text = _shown(values.slice(first, 1))[0].as_py()
    return "null" if text is None else text


def _bool_numpy(values: pa.Array, fn_numpy: Any, fn_arrow: Any) -> np.ndarray:
    """Apply a check with numpy when there are no nulls (zero copy), else with arrow."""
    if values.null_count == 0 and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return fn_numpy(values.to_numpy(zero_copy_only=False))
    return np_mask(fn_arrow(values))


def column_failures(col: ColumnSchema, arr: pa.Array, typed: Typed, classes: list[Any] | None) -> list[Failure]:
    """Every check of one column: wrong type, null, NaN/inf, range, domain or label classes.

    Args:
        col: what the column should hold.
        arr: the column as it came in.
        typed: the column read as ``col.type``.
        classes: the label classes when this is the label column, else None.
    """
    name = col.name
    out: list[Failure] = []
    values = typed.values
    wrong = typed.wrong
    if wrong is not None:
        out.append(
            Failure(
                name,
                "wrong_type",
                wrong,
                f"of {name!r} cannot be read as {col.type} (e.g. {{example}}); fix the source, or change "
                "the column's type in the schema if the data is right",
                f" is not {with_article(col.type)}",
                values=arr,
            )
        )
    if values.null_count and not col.nullable:
        nulls = np_mask(values.is_null())
        if wrong is not None:
            nulls &= ~wrong
        if nulls.any():
            out.append(
                Failure(
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
                Failure(
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


def _range_failure(col: ColumnSchema, values: pa.Array) -> Failure | None:
    lo, hi = col.min, col.max
    numbers = values
    if col.type == "datetime":
        numbers = to_micros(values)
        lo = None if lo is None else iso_to_micros(lo)
        hi = None if hi is None else iso_to_micros(hi)
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
    return Failure(
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
) -> Failure | None:
    try:
        value_set = pa.array(allowed, type=values.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        values = pc.cast(values, arrow_type(col.type))
        value_set = pa.array(allowed, type=values.type)
    mask = ~np_mask(pc.is_in(values, value_set=value_set))
    if values.null_count:
        mask &= np_mask(values.is_valid())
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
    return Failure(col.name, "unseen_category", mask, hint, detail, values=values)


def reasons(failures: list[Failure], rows: np.ndarray) -> pa.Array:
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
