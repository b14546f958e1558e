"""Argument checks shared by the serving modules (versions, percents, seconds, clock times)."""

from __future__ import annotations

import math
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["fmt", "moment", "percent", "percent_cut", "seconds", "version"]


def version(v: Any, what: str) -> int:
    """``v`` if it is a model version number (an integer >= 1)."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InvalidInputError(f"{what} must be a model version number (an integer >= 1), got {v!r}")
    return v


def percent(p: Any, what: str, *, lo_open: bool = False) -> float:
    """``p`` in [0, 100] (above 0 with ``lo_open``) with at most two decimals, as a float."""
    ok = not isinstance(p, bool) and isinstance(p, (int, float)) and math.isfinite(p) and 0 <= p <= 100
    if not ok or (lo_open and p == 0):
        bounds = "above 0 and at most 100" if lo_open else "between 0 and 100"
        raise InvalidInputError(f"{what} must be a number {bounds}, got {p!r}")
    cut = round(p * 100)
    if abs(p * 100 - cut) > 1e-6:
        raise InvalidInputError(f"{what} {p!r} has more than two decimals; percents have a resolution of 0.01")
    return cut / 100


def percent_cut(p: Any, what: str) -> int:
    """``p * 100`` as an integer number of routing buckets (see :func:`percent`)."""
    return round(percent(p, what) * 100)


def seconds(v: Any, what: str) -> float:
    """``v`` if it is a non-negative, finite number of seconds."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise InvalidInputError(f"{what} must be a non-negative number of seconds, got {v!r}")
    return float(v)


def moment(now: Any) -> float:
    """``now`` if it is a finite clock time in seconds."""
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise InvalidInputError(f"now must be a finite time in seconds (e.g. time.time()), got {now!r}")
    return float(now)


def fmt(p: float) -> str:
    """A percent or a number of seconds for a reason text (``10``, ``12.5``)."""
    return f"{p:g}"
