"""Helpers shared by the evaluation modules: ``from_dict`` key checks and NaN in JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["check_keys", "nan_to_none", "none_to_nan"]


def check_keys(d: Mapping[str, Any], allowed: set[str], what: str) -> None:
    """Refuse a ``from_dict`` input that is not a mapping or has unknown keys (``type`` is allowed)."""
    if not isinstance(d, Mapping):
        raise InvalidInputError(f"{what}.from_dict needs a mapping, got {type(d).__name__}")
    extra = set(d) - allowed - {"type"}
    if extra:
        raise InvalidInputError(f"unknown {what} field(s) {sorted(extra)}: allowed fields are {sorted(allowed)}")


def nan_to_none(x: float) -> float | None:
    """``None`` for NaN (JSON has none), else the float."""
    return None if x is None or math.isnan(x) else float(x)


def none_to_nan(x: Any) -> float:
    """The inverse of :func:`nan_to_none`."""
    return math.nan if x is None else float(x)
