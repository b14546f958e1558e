"""Thresholds a candidate's evaluation must meet: :class:`Threshold` (bounds on a metric's
value) and :class:`ChangeThreshold` (against the baseline, the champion), per slice."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.training.evaluate._common import check_keys
from raymlops.training.evaluate.binning import OVERALL
from raymlops.training.metrics import get_metric

__all__ = ["ChangeThreshold", "Threshold", "threshold_from_dict"]


def _check_slices(slices: Any, what: str) -> str | tuple[str, ...]:
    if isinstance(slices, str):
        return slices if slices in (OVERALL, "all") else (slices,)
    try:
        out = tuple(slices)
    except TypeError:
        out = None
    if not out or not all(isinstance(s, str) and s for s in out):
        raise InvalidInputError(
            f"{what} slices={slices!r}: use '*' (overall), 'all' (overall and every slice) or a list of slice "
            "names such as ['color=red', 'age=[30, 45)']"
        )
    if len(set(out)) != len(out):
        raise InvalidInputError(f"{what} slices={list(out)!r} repeat a name: list each slice once")
    return out


def _check_number(x: Any, what: str, *, allow_inf: bool = False) -> float:
    if isinstance(x, bool):
        raise InvalidInputError(f"{what} is {x!r}: use a number")
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} is {x!r}: use a number") from None
    if math.isnan(f) or (math.isinf(f) and not allow_inf):
        raise InvalidInputError(f"{what} is {x!r}: use a finite number")
    return f


def _slices_dict(slices: str | tuple[str, ...]) -> str | list[str]:
    return slices if isinstance(slices, str) else list(slices)


@dataclass(frozen=True, kw_only=True)
class ChangeThreshold:
    """The candidate must not be worse than the baseline (the champion) by more than allowed.

    The comparison follows the metric's direction. ``improvement`` is ``candidate -
    baseline`` for a higher-is-better metric and ``baseline - candidate`` for a
    lower-is-better one; the check passes when ``improvement >= min_improvement`` (times
    ``|baseline|`` when ``relative``). ``min_improvement=0`` means "no worse"; a
    positive value requires a real improvement; a negative value allows that much
    degradation (``log_loss`` with ``-0.01`` may go up by at most 0.01). With a baseline
    of 0, a relative threshold asks for "no worse".

    Args:
        metric: a metric name.
        min_improvement: the required improvement (negative: allowed degradation).
        relative: ``min_improvement`` is a fraction of ``|baseline|``.
        slices: ``"*"`` (overall), ``"all"`` (overall and every slice), or slice names.

    Raises:
        InvalidInputError: an unknown metric, a non-finite ``min_improvement`` or bad slices.

    Example:
        >>> ChangeThreshold(metric="log_loss", min_improvement=-0.01)
        ChangeThreshold(metric='log_loss', min_improvement=-0.01, relative=False, slices='*')
    """

    metric: str
    min_improvement: float = 0.0
    relative: bool = False
    slices: str | tuple[str, ...] = OVERALL

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", get_metric(self.metric).name)
        what = f"ChangeThreshold({self.metric})"
        object.__setattr__(self, "min_improvement", _check_number(self.min_improvement, f"{what} min_improvement"))
        if not isinstance(self.relative, (bool, np.bool_)):
            raise InvalidInputError(f"ChangeThreshold({self.metric}) relative={self.relative!r}: use True or False")
        object.__setattr__(self, "relative", bool(self.relative))
        object.__setattr__(self, "slices", _check_slices(self.slices, f"ChangeThreshold({self.metric})"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "change",
            "metric": self.metric,
            "min_improvement": self.min_improvement,
            "relative": self.relative,
            "slices": _slices_dict(self.slices),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChangeThreshold:
        check_keys(d, {"metric", "min_improvement", "relative", "slices"}, "ChangeThreshold")
        return cls(**{k: v for k, v in d.items() if k != "type"})


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """Bounds on a metric's value, optionally with a change threshold against the baseline.

    Args:
        metric: a metric name.
        lower: the value must be ``>= lower``.
        upper: the value must be ``<= upper``.
        slices: ``"*"`` (overall, the default), ``"all"`` (overall and every slice), or
            slice names such as ``["color=red"]``.
        change: a :class:`ChangeThreshold` of the same metric, or a number (its absolute
            ``min_improvement``, on the same slices).

    Raises:
        InvalidInputError: an unknown metric, no bound and no change, ``lower > upper``,
            non-finite bounds, bad slices, or a change threshold of another metric.

    Example:
        >>> t = Threshold(metric="accuracy", lower=0.8, slices="all", change=0.0)
        >>> t.change
        ChangeThreshold(metric='accuracy', min_improvement=0.0, relative=False, slices='all')
        >>> Threshold.from_dict(t.to_dict()) == t
        True
    """

    metric: str
    lower: float | None = None
    upper: float | None = None
    slices: str | tuple[str, ...] = OVERALL
    change: ChangeThreshold | float | None = None

    def __post_init__(self) -> None:
        metric = get_metric(self.metric).name
        object.__setattr__(self, "metric", metric)
        what = f"Threshold({metric})"
        for bound in ("lower", "upper"):
            v = getattr(self, bound)
            if v is not None:
                object.__setattr__(self, bound, _check_number(v, f"{what} {bound}"))
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise InvalidInputError(f"{what} lower={self.lower} is above upper={self.upper}: swap them")
        object.__setattr__(self, "slices", _check_slices(self.slices, what))
        change = self.change
        if change is not None and not isinstance(change, ChangeThreshold):
            if isinstance(change, Mapping):
                change = ChangeThreshold.from_dict(change)
            else:
                change = ChangeThreshold(
                    metric=metric, min_improvement=_check_number(change, f"{what} change"), slices=self.slices
                )
        if change is not None and change.metric != metric:
            raise InvalidInputError(
                f"{what} has a change threshold on {change.metric!r}: give it its own ChangeThreshold, "
                f"or use {metric!r}"
            )
        object.__setattr__(self, "change", change)
        if self.lower is None and self.upper is None and change is None:
            raise InvalidInputError(f"{what} checks nothing: give lower=, upper= and/or change=")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "value",
            "metric": self.metric,
            "lower": self.lower,
            "upper": self.upper,
            "slices": _slices_dict(self.slices),
            "change": None if self.change is None else self.change.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Threshold:
        check_keys(d, {"metric", "lower", "upper", "slices", "change"}, "Threshold")
        return cls(**{k: v for k, v in d.items() if k != "type"})


def threshold_from_dict(d: Mapping[str, Any]) -> Threshold | ChangeThreshold:
    """A :class:`Threshold` or :class:`ChangeThreshold` from its ``to_dict`` (by ``type``)."""
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind == "value":
        return Threshold.from_dict(d)
    if kind == "change":
        return ChangeThreshold.from_dict(d)
    raise InvalidInputError(f"not a threshold: expected a mapping with type 'value' or 'change', got {d!r}")
