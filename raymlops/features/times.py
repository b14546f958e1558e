"""Time in the feature store: instants as int64 microseconds since the epoch, UTC.

Every timestamp the feature store compares (event times, created times, entity
timestamps, ``--start``/``--end``) is first turned into microseconds since the epoch in
UTC, the resolution of the project's ``datetime`` column type. A timezone-naive
timestamp means UTC; a timezone-aware one is converted. A missing timestamp is
:data:`NAT` (numpy's NaT viewed as int64), which compares lower than any instant and
never matches.

Durations (feature-view TTLs, lookbacks) are written ``30s``, ``15m``, ``2h`` or ``7d``;
``0`` or nothing means no limit.

Example:
    >>> parse_duration("15m"), parse_duration("0"), format_duration(7_200)
    (900, None, '2h')
    >>> to_us("2024-01-01T01:00:00+01:00") == to_us("2024-01-01T00:00:00")
    True
    >>> format_us(to_us("2024-03-05T06:07:08Z"))
    '2024-03-05T06:07:08+00:00'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core.errors import InvalidInputError

__all__ = [
    "NAT",
    "arrow_to_us",
    "format_duration",
    "format_us",
    "now_us",
    "parse_duration",
    "to_us",
    "us_to_arrow",
    "utc_us",
]

NAT = int(np.iinfo(np.int64).min)
"""A missing instant (numpy's NaT as int64)."""

US = 1_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


def parse_duration(value: Any) -> int | None:
    """Seconds in a duration (``30s``, ``15m``, ``2h``, ``7d``, an int, a timedelta); None = no limit.

    Raises:
        InvalidInputError: the text is not a duration.
    """
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        if seconds < 0 or seconds != int(seconds):
            raise InvalidInputError(f"duration {value} must be a whole, non-negative number of seconds")
        return int(seconds) or None
    if isinstance(value, bool):
        raise InvalidInputError(f"duration {value!r} is not a duration; write e.g. 30s, 15m, 2h or 7d")
    if isinstance(value, int):
        if value < 0:
            raise InvalidInputError(f"duration {value} is negative; write e.g. 30s, 15m, 2h or 7d")
        return value or None
    m = _DURATION.match(str(value))
    if not m:
        raise InvalidInputError(f"duration {value!r} is not a duration; write e.g. 30s, 15m, 2h or 7d (0 for no limit)")
    n, unit = int(m.group(1)), m.group(2)
    if n and not unit:
        raise InvalidInputError(f"duration {value!r} has no unit; write {n}s, {n}m, {n}h or {n}d")
    return n * _UNITS[unit or "s"] or None


def format_duration(seconds: int | None) -> str:
    """The shortest exact text for a number of seconds (``0`` for no limit)."""
    if not seconds:
        return "0"
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def to_us(value: Any) -> int:
    """One instant (ISO 8601 text, datetime, pandas Timestamp, numpy datetime64) in µs UTC.

    Raises:
        InvalidInputError: the value is not a timestamp.
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InvalidInputError(f"{value!r} is not an ISO 8601 timestamp; write e.g. 2024-05-01T12:00:00 (naive means UTC)") from None
    if ts is pd.NaT:
        raise InvalidInputError(f"{value!r} is not a timestamp")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.to_datetime64().astype("datetime64[us]").astype(np.int64))


def now_us() -> int:
    """The current instant in µs UTC."""
    return int(dt.datetime.now(dt.timezone.utc).timestamp() * US)


def format_us(us: int | None) -> str | None:
    """An instant as ISO 8601 text in UTC (None for a missing one)."""
    if us is None or us == NAT:
        return None
    return (_EPOCH + dt.timedelta(microseconds=int(us))).isoformat()


def arrow_to_us(column: pa.Array | pa.ChunkedArray, *, what: str = "timestamp column") -> np.ndarray:
    """A timestamp, date or ISO-text Arrow column as int64 µs UTC, nulls as :data:`NAT`.

    Raises:
        InvalidInputError: the column holds numbers, booleans or text that is no timestamp.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.dictionary_decode()
        t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            parsed = pd.to_datetime(pd.Series(column.to_numpy(zero_copy_only=False)), utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"{what} holds text that is not an ISO 8601 timestamp ({str(exc).splitlines()[0]})") from None
        return parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64).copy()
    if pa.types.is_date(t):
        column = column.cast(pa.timestamp("us"))
        t = column.type
    if not pa.types.is_timestamp(t):
        raise InvalidInputError(f"{what} has type {t}, not a timestamp; store ISO 8601 timestamps (naive means UTC)")
    if t.unit != "us":
        # Arrow keeps UTC instants for zoned timestamps, so only the unit changes.
        column = pc.cast(column, pa.timestamp("us", t.tz), safe=False)
    values = column.cast(pa.int64()).fill_null(NAT)
    return values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def utc_us(column: pa.Array | pa.ChunkedArray, *, what: str = "timestamp column") -> pa.Array:
    """A timestamp, date or ISO-text column as ``timestamp[us, tz=UTC]`` (a cast when it is already a timestamp)."""
    t = column.type
    if pa.types.is_timestamp(t):
        # Arrow keeps UTC instants for zoned and naive timestamps alike: only unit and zone metadata change.
        return pc.cast(column, pa.timestamp("us", "UTC"), safe=False)
    return us_to_arrow(arrow_to_us(column, what=what))


def us_to_arrow(values: np.ndarray) -> pa.Array:
    """int64 µs UTC (NaT for missing) as a ``timestamp[us, tz=UTC]`` Arrow array."""
    values = np.asarray(values, dtype=np.int64)
    mask = values == NAT
    return pa.array(values, type=pa.int64(), mask=mask if mask.any() else None).cast(pa.timestamp("us", "UTC"))
