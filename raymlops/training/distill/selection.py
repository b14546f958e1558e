"""What a distillation sweep reports per trial (model size, single-row latency) and how it
chooses the student to register (the Pareto front, the best within a latency budget)."""

from __future__ import annotations

import math
import pickle
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.training.distill._checks import is_real

__all__ = ["DEFAULT_OBJECTIVES", "model_size_bytes", "pareto_front", "pick_best", "single_row_latency_ms"]

#: The objectives of :func:`pareto_front` by default: trial metric → ``"max"``/``"min"``.
DEFAULT_OBJECTIVES: Mapping[str, str] = {"accuracy": "max", "latency_ms": "min", "size_bytes": "min"}


def model_size_bytes(model: Any) -> int:
    """The size of ``model`` as a pickle (highest protocol), in bytes."""
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def single_row_latency_ms(model: Any, X: Any, repeats: int = 200, *, warmup: int = 5) -> float:
    """Median wall time of ``model.predict`` on one row, in milliseconds.

    Calls cycle through the rows of ``X`` (one row per call); ``warmup`` calls are not
    timed. This is a per-trial figure for comparing candidates on the same machine, not a
    serving benchmark.

    Raises:
        InvalidInputError: empty ``X`` or ``repeats < 1``.
    """
    if not isinstance(repeats, (int, np.integer)) or isinstance(repeats, bool) or repeats < 1:
        raise InvalidInputError(f"repeats={repeats!r}: use a whole number >= 1")
    n = len(X)
    if n == 0:
        raise InvalidInputError("X has no rows: pass at least one row to time")
    frame = isinstance(X, pd.DataFrame)
    arr = X if frame else np.asarray(X)

    def row(i: int) -> Any:
        return arr.iloc[[i % n]] if frame else arr[i % n : i % n + 1]

    for i in range(max(int(warmup), 0)):
        model.predict(row(i))
    times = []
    for i in range(int(repeats)):
        r = row(i)
        t0 = time.perf_counter()
        model.predict(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0


def _objective_values(rows: Sequence[Mapping[str, Any]], objectives: Mapping[str, str]) -> np.ndarray:
    for name, direction in objectives.items():
        if direction not in ("max", "min"):
            raise InvalidInputError(f"objective {name!r}: direction {direction!r}, use 'max' or 'min'")
    values = np.empty((len(rows), len(objectives)))
    for i, row in enumerate(rows):
        for j, (name, direction) in enumerate(objectives.items()):
            v = row.get(name) if isinstance(row, Mapping) else None
            if not is_real(v) or math.isnan(v):
                raise InvalidInputError(f"row {i} has no numeric {name!r} (got {v!r}): every row needs every objective")
            values[i, j] = v if direction == "max" else -v
    return values


def pareto_front(rows: Sequence[Mapping[str, Any]], objectives: Mapping[str, str] | None = None) -> list[bool]:
    """Which rows are Pareto-optimal: no other row is as good in every objective and better in one.

    Args:
        rows: one mapping per trial, e.g. ``{"accuracy": .9, "latency_ms": .2, "size_bytes": 9000}``.
        objectives: metric → ``"max"`` or ``"min"``; default :data:`DEFAULT_OBJECTIVES`.

    Returns:
        One bool per row (identical rows are all on the front).

    Raises:
        InvalidInputError: a row without a numeric value for an objective, or a bad direction.

    Example:
        >>> rows = [{"accuracy": 0.9, "latency_ms": 1.0}, {"accuracy": 0.8, "latency_ms": 2.0},
        ...         {"accuracy": 0.85, "latency_ms": 0.5}]
        >>> pareto_front(rows, {"accuracy": "max", "latency_ms": "min"})
        [True, False, True]
    """
    objectives = dict(DEFAULT_OBJECTIVES if objectives is None else objectives)
    if not objectives:
        raise InvalidInputError("no objectives: give at least one metric with 'max' or 'min'")
    v = _objective_values(rows, objectives)
    front = []
    for i in range(len(v)):
        dominated = np.all(v >= v[i], axis=1) & np.any(v > v[i], axis=1)
        front.append(not bool(dominated.any()))
    return front


def pick_best(
    rows: Sequence[Mapping[str, Any]],
    *,
    metric: str = "accuracy",
    latency_budget_ms: float | None = None,
    mode: Literal["max", "min"] = "max",
    latency_key: str = "latency_ms",
) -> Mapping[str, Any] | None:
    """The best row by ``metric`` among the rows within the latency budget.

    Ties on ``metric`` go to the lower latency (when rows have one), then to the earlier row.

    Args:
        rows: one mapping per trial.
        metric: the metric to optimise.
        latency_budget_ms: keep only rows with ``row[latency_key] <= budget``; ``None``
            keeps all.
        mode: ``"max"`` or ``"min"`` for ``metric``.
        latency_key: the latency field of a row.

    Returns:
        The chosen row itself, or ``None`` when no row fits the budget (or there are none).

    Raises:
        InvalidInputError: a bad budget or mode, or a row without the metric (or without
            a latency when there is a budget).

    Example:
        >>> rows = [{"accuracy": 0.95, "latency_ms": 3.0}, {"accuracy": 0.9, "latency_ms": 0.4}]
        >>> pick_best(rows)["accuracy"], pick_best(rows, latency_budget_ms=1.0)["accuracy"]
        (0.95, 0.9)
        >>> pick_best(rows, latency_budget_ms=0.1) is None
        True
    """
    if mode not in ("max", "min"):
        raise InvalidInputError(f"mode={mode!r}: use 'max' or 'min'")
    if latency_budget_ms is not None and (not is_real(latency_budget_ms) or math.isnan(latency_budget_ms)):
        raise InvalidInputError(f"latency_budget_ms={latency_budget_ms!r}: use a number of milliseconds or None")
    keys = {metric: mode} | ({latency_key: "min"} if latency_budget_ms is not None else {})
    _objective_values(rows, keys)
    best, best_key = None, None
    for row in rows:
        lat = row.get(latency_key)
        if latency_budget_ms is not None and lat > latency_budget_ms:
            continue
        lat_key = -lat if is_real(lat) and not math.isnan(lat) else -math.inf
        key = (row[metric] if mode == "max" else -row[metric], lat_key)
        if best_key is None or key > best_key:
            best, best_key = row, key
    return best
