"""Argument checks and number formatting shared by the gate modules."""

from __future__ import annotations

import math
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["count", "fmt", "pair", "positive", "unit"]


def count(v: Any, what: str) -> int:
    """``v`` if it is a non-negative integer."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise InvalidInputError(f"{what} must be a non-negative integer, got {v!r}")
    return v


def pair(part: Any, total: Any, what: str) -> tuple[int, int]:
    """``(part, total)`` if both are counts and ``part <= total``."""
    part, total = count(part, f"{what} count"), count(total, f"{what} total")
    if part > total:
        raise InvalidInputError(f"{what}: {part} out of {total} is more than the total")
    return part, total


def unit(v: Any, what: str) -> float:
    """``v`` if it is a number between 0 and 1."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise InvalidInputError(f"{what} must be a number between 0 and 1, got {v!r}")
    return float(v)


def positive(v: Any, what: str) -> float:
    """``v`` if it is a positive, finite number."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
        raise InvalidInputError(f"{what} must be a positive number, got {v!r}")
    return float(v)


def fmt(x: float | None) -> str:
    """A measured number for a gate message (``n/a`` without one)."""
    return "n/a" if x is None else f"{x:.6g}"
