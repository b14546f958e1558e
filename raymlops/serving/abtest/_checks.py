"""Argument checks and small formulas shared by the A/B tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError

__all__ = ["check_alpha", "check_counts", "check_int", "check_min_samples", "lift", "sufficient"]


def check_alpha(alpha: Any) -> float:
    """``alpha`` if it is a significance level in (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InvalidInputError(f"alpha must be a number between 0 and 1 (e.g. 0.05), got {alpha!r}")
    return float(alpha)


def check_int(v: Any, what: str, lo: int = 0) -> int:
    """``v`` as an int if it is an integer of at least ``lo``."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidInputError(f"{what} must be an integer >= {lo}, got {v!r}")
    return int(v)


def check_min_samples(min_samples: Any) -> int | None:
    """A planned sample size per variant, or None."""
    return None if min_samples is None else check_int(min_samples, "min_samples")


def sufficient(n_a: int, n_b: int, min_samples: int | None) -> bool | None:
    """Whether both variants reached the planned size; None without a plan."""
    return None if min_samples is None else (n_a >= min_samples and n_b >= min_samples)


def check_counts(successes: Any, n: Any, variant: str) -> tuple[int, int]:
    """``(successes, n)`` of a variant: counts with at least one trial and no more successes than trials."""
    n = check_int(n, f"n_{variant}", lo=1)
    successes = check_int(successes, f"successes_{variant}")
    if successes > n:
        raise InvalidInputError(f"successes_{variant} ({successes}) is more than n_{variant} ({n})")
    return successes, n


def lift(effect: float, base: float) -> float | None:
    """The relative lift ``effect / base``; None when ``base`` is 0."""
    return effect / base if base != 0 else None
