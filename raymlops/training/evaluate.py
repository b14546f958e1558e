"""Evaluation per slice, thresholds and the blessing verdict (TFX Evaluator / TFMA style).

:func:`evaluate` scores a fitted model overall and on slices of the evaluation data;
:func:`bless` checks the result against :class:`Threshold` and :class:`ChangeThreshold`
definitions, comparing with the current champion (the *baseline*), and returns a
:class:`Blessing` whose verdict gates registration and rollout.

Slices (:class:`SliceSpec`):

- a column, one slice per value: ``SliceSpec(column="color")`` → ``color=red``, ...;
  missing values form the slice ``color is null``. With neither ``buckets`` nor
  ``edges``, a numeric column with more than 20 distinct values is cut into 4 quantile
  buckets instead (so ``--slice age`` on a continuous column stays readable);
- a numeric column in buckets: ``SliceSpec(column="age", buckets=4)`` takes the
  0, 1/4, ..., 1 quantiles of the evaluation data as edges (numpy's linear
  interpolation; repeated edges merge, so a skewed column may get fewer buckets), or
  ``SliceSpec(column="age", edges=[0, 30, 60, math.inf])`` uses given edges. Buckets
  are half-open ``[lo, hi)`` except the last, which is closed ``[lo, hi]`` when ``hi``
  is finite (the quantile buckets end at the maximum). Values outside explicit edges go
  to ``age=(-inf, 0)`` / ``age=(60, inf)``;
- crosses: ``SliceSpec(column="color", cross=SliceSpec(column="age", buckets=4))`` →
  ``color=red & age=[30, 45)``; only combinations that have rows are slices.

The overall slice is named ``*``. Slice names depend only on the data's values, so a
candidate and its baseline evaluated on the same data have the same slice names (change
thresholds compare slices by name). Empty buckets are not slices.

Per-slice metrics are computed with fairlearn's :class:`~fairlearn.metrics.MetricFrame`
(one per slice spec, with the slice as its sensitive feature). The model predicts once;
MetricFrame is given the row positions as ``y_pred`` and every metric looks the
predictions and probabilities of its group's rows up by position, so label and
probability metrics share one frame.

Example:
    >>> import numpy as np, pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "color": list("rrrbbb")})
    >>> y = np.array([0, 0, 1, 1, 1, 0])
    >>> model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X[["x"]], y)
    >>> result = evaluate(model, X[["x"]], y, metrics=["accuracy"], slices=["color"], slice_data=X)
    >>> result.by_slice
    {'*': {'accuracy': 0.8333333333333334}, 'color=b': {'accuracy': 0.6666666666666666}, 'color=r': {'accuracy': 1.0}}
    >>> blessing = bless(result, None, [Threshold(metric="accuracy", lower=0.8, slices="all")])
    >>> blessing.verdict
    'NOT_BLESSED'
    >>> print(blessing.failed[0].message)
    accuracy on slice color=b is 0.6667, below the lower bound 0.8
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import ChecksFailedError, InvalidInputError
from raymlops.training.metrics import Metric, Predictions, _resolve, get_metric, predict_for

__all__ = [
    "BLESSED",
    "NOT_BLESSED",
    "OVERALL",
    "Blessing",
    "ChangeThreshold",
    "Check",
    "EvaluationResult",
    "SliceSpec",
    "Threshold",
    "bless",
    "evaluate",
    "evaluate_predictions",
    "slice_name",
    "threshold_from_dict",
]

OVERALL = "*"
BLESSED = "BLESSED"
NOT_BLESSED = "NOT_BLESSED"
AUTO_MAX_VALUES = 20
AUTO_BUCKETS = 4
_FORMAT = "raymlops.evaluation/1"


# ---------------------------------------------------------------------------- value formatting


def _fmt_number(x: float, digits: int = 6) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}" if digits < 17 else repr(float(x))


def _fmt_edges(edges: Sequence[float]) -> list[str]:
    """Edge labels, with as many digits as it takes to keep distinct edges distinct."""
    for digits in (6, 8, 10, 12, 15, 17):
        text = [_fmt_number(e, digits) for e in edges]
        if len(set(text)) == len(set(edges)):
            return text
    return [_fmt_number(e, 17) for e in edges]  # pragma: no cover - repr is exact


def _fmt_value(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _fmt_number(float(v), 17)
    return str(v)


def _predicate_text(column: Any, value: Any) -> str:
    """``column=value`` (value: a category, an interval label, or None for missing values)."""
    if value is None:
        return f"{column} is null"
    return f"{column}={_fmt_value(value)}"


def slice_name(predicates: Mapping[Any, Any]) -> str:
    """The readable name of a slice from its predicates, in the given order.

    Args:
        predicates: ``{column: value}``; a value is a category, an interval label such as
            ``"[30, 45)"``, or ``None`` for the rows where the column is missing.

    Returns:
        ``"*"`` for no predicates, else the predicates joined by ``" & "``.

    Example:
        >>> slice_name({"color": "red", "age": "[30, 45)"}), slice_name({"zip": None}), slice_name({})
        ('color=red & age=[30, 45)', 'zip is null', '*')
    """
    if not predicates:
        return OVERALL
    return " & ".join(_predicate_text(c, v) for c, v in predicates.items())


# ---------------------------------------------------------------------------- binning (shared with slices.py)


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _numeric_values(s: pd.Series, column: Any) -> np.ndarray:
    try:
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"column {column!r} is not numeric ({s.dtype}): buckets and edges need numbers; "
            "slice it by value with SliceSpec(column=...)"
        ) from None


def _quantile_edges(values: np.ndarray, buckets: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return np.array([], dtype=np.float64)
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, buckets + 1)))


def _bucketize(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes and labels of values cut at ``edges`` (see the module docstring)."""
    n_edges = len(edges)
    labels: list[Any] = []
    codes = np.full(len(values), -1, dtype=np.int64)
    null = np.isnan(values)
    if n_edges == 0:  # no finite value: the infinite ones (if any) form one slice
        for mask, label in ((~null, "[-inf, inf]"), (null, None)):
            if mask.any():
                codes[mask] = len(labels)
                labels.append(label)
        return codes, labels
    text = _fmt_edges(list(edges))
    lo, hi = edges[0], edges[-1]
    below = ~null & (values < lo)
    if n_edges == 1:  # a single value (e.g. a constant column)
        buckets = [f"[{text[0]}, {text[0]}]"]
        inside = ~null & (values == lo)
        idx = np.zeros(len(values), dtype=np.int64)
    else:
        last_closed = math.isfinite(hi)
        buckets = [
            f"[{text[i]}, {text[i + 1]}{']' if (i == n_edges - 2 and last_closed) else ')'}"
            for i in range(n_edges - 1)
        ]
        inside = ~null & (values >= lo) & ((values <= hi) if last_closed else (values < hi) | (values == np.inf))
        idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_edges - 2)
    above = ~null & ~below & ~inside
    next_code = 0
    if below.any():
        labels.append(f"(-inf, {text[0]})")
        codes[below] = next_code
        next_code += 1
    codes[inside] = idx[inside] + next_code
    labels.extend(buckets)
    next_code += len(buckets)
    if above.any():
        labels.append(f"({text[-1]}, inf)")
        codes[above] = next_code
        next_code += 1
    if null.any():
        labels.append(None)
        codes[null] = next_code
    return codes, labels


def _categories(s: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes and values of a column sliced by value: values sorted, missing values last."""
    codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    values = [_py(v) for v in np.asarray(uniques, dtype=object).tolist()]
    try:
        order = sorted(range(len(values)), key=lambda i: values[i])
    except TypeError:
        order = sorted(range(len(values)), key=lambda i: (type(values[i]).__name__, str(values[i])))
    remap = np.empty(len(values) + 1, dtype=np.int64)
    remap[np.asarray(order, dtype=np.int64)] = np.arange(len(values))
    labels = [values[i] for i in order]
    null = codes < 0
    if null.any():
        remap[-1] = len(values)
        labels.append(None)
    out = remap[np.where(null, len(values), codes)]
    texts = [_predicate_text("", v) for v in labels]
    if len(set(texts)) != len(texts):
        dupes = sorted({t[1:] for t in texts if texts.count(t) > 1})
        raise InvalidInputError(
            f"column {s.name!r} has distinct values that read the same ({', '.join(dupes)}): "
            "convert the column to one type before slicing"
        )
    return out, labels


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _bin_column(
    s: pd.Series, *, buckets: int | None = None, edges: Sequence[float] | None = None, auto_values: int | None = None
) -> tuple[np.ndarray, list[Any]]:
    """Codes (one per row, ``0..len(labels)-1``) and predicate values of one column.

    ``auto_values``: with neither buckets nor edges, a numeric column with more distinct
    values than this is cut into :data:`AUTO_BUCKETS` quantile buckets.
    """
    column = s.name
    if buckets is None and edges is None and auto_values is not None and _is_numeric(s):
        if s.nunique(dropna=True) > auto_values:
            buckets = AUTO_BUCKETS
    if edges is not None:
        return _bucketize(_numeric_values(s, column), np.asarray(edges, dtype=np.float64))
    if buckets is not None:
        values = _numeric_values(s, column)
        return _bucketize(values, _quantile_edges(values, buckets))
    return _categories(s)


# ---------------------------------------------------------------------------- slice specs


@dataclass(frozen=True, kw_only=True)
class SliceSpec:
    """How to cut the evaluation data into slices (see the module docstring).

    Args:
        column: the column to slice on.
        buckets: cut a numeric column at the quantiles of the evaluation data into this
            many buckets.
        edges: cut a numeric column at these increasing edges (``math.inf`` allowed).
        cross: another spec (or a column name) to cross with: one slice per non-empty
            combination.

    Raises:
        InvalidInputError: both ``buckets`` and ``edges``, ``buckets < 1``, fewer than two
            or non-increasing edges, or a column repeated in a cross.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"color": ["red", "blue", "red"], "age": [20, 50, 70]})
        >>> spec = SliceSpec(column="color", cross=SliceSpec(column="age", edges=[0, 30, 60]))
        >>> spec
        SliceSpec(column='color', cross=SliceSpec(column='age', edges=(0.0, 30.0, 60.0)))
        >>> spec.assign(df).tolist()
        ['color=red & age=[0, 30)', 'color=blue & age=[30, 60]', 'color=red & age=(60, inf)']
        >>> SliceSpec.from_dict(spec.to_dict()) == spec
        True
    """

    column: Any
    buckets: int | None = None
    edges: tuple[float, ...] | None = None
    cross: SliceSpec | None = None

    def __post_init__(self) -> None:
        if self.column is None or (isinstance(self.column, str) and not self.column):
            raise InvalidInputError("SliceSpec needs a column: SliceSpec(column='color')")
        if self.buckets is not None and self.edges is not None:
            raise InvalidInputError(
                f"SliceSpec(column={self.column!r}) has both buckets and edges: "
                "give quantile buckets or edges, not both"
            )
        if self.buckets is not None:
            if isinstance(self.buckets, bool) or not isinstance(self.buckets, (int, np.integer)) or self.buckets < 1:
                raise InvalidInputError(
                    f"SliceSpec(column={self.column!r}) buckets={self.buckets!r}: use a whole number >= 1"
                )
            object.__setattr__(self, "buckets", int(self.buckets))
        if self.edges is not None:
            try:
                edges = tuple(float(e) for e in self.edges)
            except (TypeError, ValueError):
                raise InvalidInputError(
                    f"SliceSpec(column={self.column!r}) edges={self.edges!r}: use numbers (math.inf allowed)"
                ) from None
            if len(edges) < 2 or any(math.isnan(e) for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
                raise InvalidInputError(
                    f"SliceSpec(column={self.column!r}) edges={list(self.edges)!r}: use at least two strictly "
                    "increasing numbers, e.g. [0, 30, 60, math.inf]"
                )
            object.__setattr__(self, "edges", edges)
        if self.cross is not None:
            cross = SliceSpec(column=self.cross) if not isinstance(self.cross, SliceSpec) else self.cross
            object.__setattr__(self, "cross", cross)
            cols = self.columns
            if len(set(map(str, cols))) != len(cols):
                raise InvalidInputError(f"slice cross {list(cols)!r} repeats a column: cross distinct columns")

    @property
    def columns(self) -> tuple[Any, ...]:
        """The columns of this spec, crosses included, in order."""
        return (self.column,) + (self.cross.columns if self.cross is not None else ())

    def _chain(self) -> list[SliceSpec]:
        return [self] + (self.cross._chain() if self.cross is not None else [])

    def groups(self, data: pd.DataFrame) -> tuple[np.ndarray, list[str], list[dict[Any, Any]]]:
        """Assign every row to its slice.

        Args:
            data: the evaluation rows (at least the spec's columns).

        Returns:
            ``(codes, names, predicates)``: the slice index of every row, and the name and
            ``{column: value}`` predicates of each slice, in order (values sorted, buckets
            in edge order, missing values last; only slices that have rows).

        Raises:
            InvalidInputError: a missing column, or buckets/edges on a non-numeric column.
        """
        if not isinstance(data, pd.DataFrame):
            raise InvalidInputError(f"slicing needs a pandas DataFrame, got {type(data).__name__}")
        missing = [c for c in self.columns if c not in data.columns]
        if missing:
            raise InvalidInputError(
                f"slice column(s) {missing!r} not in the data; available columns: {list(data.columns)!r}"
            )
        combined = np.zeros(len(data), dtype=np.int64)
        parts: list[tuple[Any, list[Any]]] = []
        for spec in self._chain():
            codes, labels = _bin_column(
                data[spec.column],
                buckets=spec.buckets,
                edges=spec.edges,
                auto_values=AUTO_MAX_VALUES,
            )
            combined = combined * len(labels) + codes
            parts.append((spec.column, labels))
        present, codes = np.unique(combined, return_inverse=True)
        names: list[str] = []
        predicates: list[dict[Any, Any]] = []
        for flat in present.tolist():
            pred: dict[Any, Any] = {}
            for column, labels in reversed(parts):
                flat, code = divmod(flat, len(labels))
                pred[column] = labels[code]
            pred = dict(reversed(list(pred.items())))
            predicates.append(pred)
            names.append(slice_name(pred))
        return codes.astype(np.int64), names, predicates

    def assign(self, data: pd.DataFrame) -> pd.Series:
        """The slice name of every row, as a Series aligned with ``data``."""
        codes, names, _ = self.groups(data)
        return pd.Series(np.asarray(names, dtype=object)[codes] if names else [], index=data.index, dtype=object)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "buckets": self.buckets,
            "edges": None if self.edges is None else [_fmt_number(e) if math.isinf(e) else e for e in self.edges],
            "cross": None if self.cross is None else self.cross.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SliceSpec:
        _check_keys(d, {"column", "buckets", "edges", "cross"}, "SliceSpec")
        edges = d.get("edges")
        cross = d.get("cross")
        return cls(
            column=d.get("column"),
            buckets=d.get("buckets"),
            edges=None if edges is None else tuple(float(e) for e in edges),
            cross=None if cross is None else cls.from_dict(cross),
        )

    def __repr__(self) -> str:
        parts = [f"column={self.column!r}"]
        if self.buckets is not None:
            parts.append(f"buckets={self.buckets}")
        if self.edges is not None:
            parts.append(f"edges={self.edges!r}")
        if self.cross is not None:
            parts.append(f"cross={self.cross!r}")
        return f"SliceSpec({', '.join(parts)})"


def _as_spec(s: Any) -> SliceSpec:
    if isinstance(s, SliceSpec):
        return s
    if isinstance(s, Mapping):
        return SliceSpec.from_dict(s)
    if isinstance(s, (list, tuple)):
        if not s:
            raise InvalidInputError("an empty slice cross (): name two or more columns to cross, e.g. ('color', 'age')")
        spec = _as_spec(s[-1])
        for part in reversed(s[:-1]):
            head = _as_spec(part)
            if head.cross is not None:
                raise InvalidInputError(f"cannot cross {head!r}, which is already a cross, with more columns")
            spec = SliceSpec(column=head.column, buckets=head.buckets, edges=head.edges, cross=spec)
        return spec
    return SliceSpec(column=s)


def _check_keys(d: Mapping[str, Any], allowed: set[str], what: str) -> None:
    if not isinstance(d, Mapping):
        raise InvalidInputError(f"{what}.from_dict needs a mapping, got {type(d).__name__}")
    extra = set(d) - allowed - {"type"}
    if extra:
        raise InvalidInputError(f"unknown {what} field(s) {sorted(extra)}: allowed fields are {sorted(allowed)}")


# ---------------------------------------------------------------------------- evaluation


def _nan_to_none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _none_to_nan(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one model on one evaluation dataset, overall and per slice.

    Attributes:
        metrics: the metric names, in order.
        by_slice: ``{slice name: {metric: value}}``, the overall slice ``"*"`` first,
            then every slice of every spec in order. ``nan`` marks a metric undefined on
            a slice (e.g. ROC AUC of a slice with one class).
        counts: ``{slice name: rows}``, same keys.
        min_slice_size: slices with fewer rows are reported but not checked by
            :func:`bless` (the overall slice is always checked).
        task: ``"classification"`` or ``"regression"``.
    """

    metrics: tuple[str, ...]
    by_slice: dict[str, dict[str, float]]
    counts: dict[str, int]
    min_slice_size: int = 1
    task: str | None = None

    @property
    def overall(self) -> dict[str, float]:
        """The metrics of the overall slice ``"*"``."""
        return self.by_slice[OVERALL]

    @property
    def slices(self) -> list[str]:
        """Slice names, without the overall slice."""
        return [s for s in self.by_slice if s != OVERALL]

    def checked(self, slice_: str) -> bool:
        """Whether :func:`bless` checks this slice (it has at least ``min_slice_size`` rows)."""
        return slice_ == OVERALL or self.counts.get(slice_, 0) >= self.min_slice_size

    def to_frame(self) -> pd.DataFrame:
        """One row per slice: its row count and metrics."""
        rows = [{"slice": s, "count": self.counts[s], **m} for s, m in self.by_slice.items()]
        return pd.DataFrame(rows, columns=["slice", "count", *self.metrics]).set_index("slice")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``nan`` becomes ``None``)."""
        return {
            "format": _FORMAT,
            "task": self.task,
            "metrics": list(self.metrics),
            "min_slice_size": self.min_slice_size,
            "by_slice": {s: {k: _nan_to_none(v) for k, v in m.items()} for s, m in self.by_slice.items()},
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvaluationResult:
        if not isinstance(d, Mapping) or d.get("format") != _FORMAT:
            raise InvalidInputError(f"not an evaluation result: expected a mapping with format {_FORMAT!r}")
        by_slice = {s: {k: _none_to_nan(v) for k, v in m.items()} for s, m in d["by_slice"].items()}
        if OVERALL not in by_slice:
            raise InvalidInputError(f"evaluation result has no overall slice {OVERALL!r}")
        return cls(
            metrics=tuple(d["metrics"]),
            by_slice=by_slice,
            counts={s: int(c) for s, c in d["counts"].items()},
            min_slice_size=int(d.get("min_slice_size", 1)),
            task=d.get("task"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvaluationResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()


def _check_min_slice_size(min_slice_size: Any) -> int:
    if isinstance(min_slice_size, bool) or not isinstance(min_slice_size, (int, np.integer)) or min_slice_size < 1:
        raise InvalidInputError(f"min_slice_size={min_slice_size!r}: use a whole number of rows >= 1")
    return int(min_slice_size)


def evaluate_predictions(
    predictions: Predictions,
    y: Any,
    *,
    metrics: str | Metric | Sequence[str | Metric],
    slices: Iterable[Any] = (),
    slice_data: pd.DataFrame | None = None,
    min_slice_size: int = 1,
) -> EvaluationResult:
    """:func:`evaluate` for predictions already made (e.g. in Ray Data batches).

    Args:
        predictions: from :func:`raymlops.training.metrics.predict_for` (or built by hand).
        y: the true labels or values, one per row.
        metrics: metric names.
        slices: slice specs (see :func:`evaluate`).
        slice_data: the rows' slicing columns (a DataFrame aligned with ``y``).
        min_slice_size: see :class:`EvaluationResult`.

    Returns:
        The evaluation.

    Raises:
        InvalidInputError: see :func:`evaluate`.
    """
    try:
        from fairlearn.metrics import MetricFrame
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "per-slice evaluation needs fairlearn: `pip install fairlearn` (it belongs in the project's dependencies)"
        ) from exc

    ms = _resolve(metrics)
    for m in ms:
        get_metric(m, task=predictions.task)
    min_slice_size = _check_min_slice_size(min_slice_size)
    specs = [_as_spec(s) for s in ([slices] if isinstance(slices, (str, SliceSpec)) else slices)]
    y_arr = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr[:, 0]
    n = len(y_arr)
    for what, arr in (("predictions", predictions.y_pred), ("probabilities", predictions.proba)):
        if arr is not None and len(arr) != n:
            raise InvalidInputError(f"{len(arr)} {what} for {n} labels: pass one label per row")
    if specs:
        if slice_data is None:
            raise InvalidInputError(
                "slices need the slicing columns: pass slice_data= (a DataFrame with those columns)"
            )
        if len(slice_data) != n:
            raise InvalidInputError(f"slice_data has {len(slice_data)} rows but y has {n}: pass aligned rows")
        slice_data = slice_data.reset_index(drop=True)

    by_slice: dict[str, dict[str, float]] = {OVERALL: {m.name: predictions.score(m, y_arr) for m in ms}}
    counts: dict[str, int] = {OVERALL: n}

    def metric_fn(m: Metric):
        def fn(y_true: Any, rows: Any) -> float:
            # rows: the group's positions (MetricFrame's y_pred); y_true is y[rows]
            return predictions.score(m, y_arr, rows=np.asarray(rows, dtype=np.int64))

        return fn

    positions = np.arange(n, dtype=np.int64)
    frame_metrics = {m.name: metric_fn(m) for m in ms}
    for spec in specs:
        codes, names, _ = spec.groups(slice_data)
        frame = MetricFrame(
            metrics=frame_metrics,
            y_true=y_arr,
            y_pred=positions,
            sensitive_features=pd.Series(codes, name="slice"),
        )
        table = frame.by_group
        sizes = np.bincount(codes, minlength=len(names))
        for code, name in enumerate(names):
            if name in by_slice:
                raise InvalidInputError(
                    f"slice {name!r} comes from two slice specs: list each column or cross once in slices="
                )
            row = table.loc[code]
            by_slice[name] = {m.name: float(row[m.name]) for m in ms}
            counts[name] = int(sizes[code])
    return EvaluationResult(
        metrics=tuple(m.name for m in ms),
        by_slice=by_slice,
        counts=counts,
        min_slice_size=min_slice_size,
        task=predictions.task,
    )


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    metrics: str | Metric | Sequence[str | Metric],
    slices: Iterable[Any] = (),
    min_slice_size: int = 1,
    slice_data: pd.DataFrame | None = None,
) -> EvaluationResult:
    """Score a fitted model overall and on every slice.

    Args:
        model: a fitted estimator or Pipeline.
        X: the evaluation rows (what the model takes).
        y: the true labels or values.
        metrics: metric names from :data:`raymlops.training.metrics.METRICS`.
        slices: slice specs: :class:`SliceSpec`, a column name (one slice per value), a
            tuple of names or specs (a cross), or a :meth:`SliceSpec.to_dict` mapping.
        min_slice_size: slices with fewer rows are reported but not checked by :func:`bless`.
        slice_data: the columns to slice on when they are not in ``X`` (e.g. a column the
            model does not take); default ``X`` itself.

    Returns:
        The evaluation.

    Raises:
        InvalidInputError: unknown metrics or metrics of another task, slice columns
            missing from the data, misaligned inputs, or an unusable model.
    """
    preds = predict_for(model, X, metrics)
    if slice_data is None and isinstance(X, pd.DataFrame):
        slice_data = X
    return evaluate_predictions(
        preds, y, metrics=metrics, slices=slices, slice_data=slice_data, min_slice_size=min_slice_size
    )


# ---------------------------------------------------------------------------- thresholds


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
        _check_keys(d, {"metric", "min_improvement", "relative", "slices"}, "ChangeThreshold")
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
        _check_keys(d, {"metric", "lower", "upper", "slices", "change"}, "Threshold")
        return cls(**{k: v for k, v in d.items() if k != "type"})


def threshold_from_dict(d: Mapping[str, Any]) -> Threshold | ChangeThreshold:
    """A :class:`Threshold` or :class:`ChangeThreshold` from its ``to_dict`` (by ``type``)."""
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind == "value":
        return Threshold.from_dict(d)
    if kind == "change":
        return ChangeThreshold.from_dict(d)
    raise InvalidInputError(f"not a threshold: expected a mapping with type 'value' or 'change', got {d!r}")


# ---------------------------------------------------------------------------- blessing


@dataclass(frozen=True, kw_only=True)
class Check:
    """One checked (or skipped) bound of one metric on one slice.

    Attributes:
        metric: the metric name.
        slice: the slice name (``"*"`` overall).
        kind: ``"value"`` (a bound on the value) or ``"change"`` (against the baseline).
        value: the candidate's value (``None`` when the slice is missing).
        baseline: the baseline's value (change checks).
        bound: the value the candidate had to reach.
        op: ``">="`` or ``"<="``: the check passes when ``value op bound``.
        passed: ``True``/``False``, or ``None`` when skipped.
        message: what was checked and how it came out.
    """

    metric: str
    slice: str
    kind: str
    value: float | None
    baseline: float | None
    bound: float | None
    op: str
    passed: bool | None
    message: str

    @property
    def skipped(self) -> bool:
        return self.passed is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "slice": self.slice,
            "kind": self.kind,
            "value": None if self.value is None else _nan_to_none(self.value),
            "baseline": None if self.baseline is None else _nan_to_none(self.baseline),
            "bound": self.bound,
            "op": self.op,
            "passed": self.passed,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Check:
        _check_keys(d, {"metric", "slice", "kind", "value", "baseline", "bound", "op", "passed", "message"}, "Check")
        return cls(**d)


@dataclass(frozen=True)
class Blessing:
    """The verdict of :func:`bless` and every check behind it.

    Attributes:
        verdict: ``"BLESSED"`` when no check failed, else ``"NOT_BLESSED"``.
        checks: every check, skipped ones included, in threshold then slice order.
    """

    verdict: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def blessed(self) -> bool:
        return self.verdict == BLESSED

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    @property
    def skipped(self) -> list[Check]:
        return [c for c in self.checks if c.passed is None]

    def summary(self) -> str:
        """The verdict and the failed checks' messages, one per line."""
        counts = f"{len(self.checks)} checks: {len(self.failed)} failed, {len(self.skipped)} skipped"
        return "\n".join([f"{self.verdict} ({counts})", *(f"- {c.message}" for c in self.failed)])

    def raise_if_not_blessed(self) -> None:
        """Raise :class:`~raymlops.core.errors.ChecksFailedError` (exit code 1) unless blessed."""
        if not self.blessed:
            raise ChecksFailedError(
                f"the candidate is not blessed: {len(self.failed)} check(s) failed: "
                + "; ".join(c.message for c in self.failed),
                details=[c.to_dict() for c in self.failed],
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``blessed`` and ``failed`` (the failed checks) are derived, for readers."""
        return {
            "verdict": self.verdict,
            "blessed": self.blessed,
            "checks": [c.to_dict() for c in self.checks],
            "failed": [c.to_dict() for c in self.failed],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Blessing:
        """Rebuild from :meth:`to_dict` (the derived ``blessed`` and ``failed`` are ignored)."""
        _check_keys(d, {"verdict", "checks", "blessed", "failed"}, "Blessing")
        if d.get("verdict") not in (BLESSED, NOT_BLESSED):
            raise InvalidInputError(f"blessing verdict {d.get('verdict')!r}: expected {BLESSED} or {NOT_BLESSED}")
        return cls(verdict=d["verdict"], checks=tuple(Check.from_dict(c) for c in d.get("checks", ())))


def _fmt_pair(a: float, b: float) -> tuple[str, str]:
    """Format two numbers with 4 significant digits, more if they would read the same."""
    for digits in (4, 6, 8, 12, 17):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb or a == b:
            return sa, sb
    return repr(a), repr(b)  # pragma: no cover


def _where(slice_: str) -> str:
    return "overall (slice *)" if slice_ == OVERALL else f"on slice {slice_}"


def _target_slices(slices: str | tuple[str, ...], candidate: EvaluationResult) -> list[str]:
    if slices == OVERALL:
        return [OVERALL]
    if slices == "all":
        return list(candidate.by_slice)
    return list(slices)


def _check(metric: str, slice_: str, kind: str, op: str, passed: bool | None, message: str, **values: Any) -> Check:
    return Check(
        metric=metric,
        slice=slice_,
        kind=kind,
        value=values.get("value"),
        baseline=values.get("baseline"),
        bound=values.get("bound"),
        op=op,
        passed=passed,
        message=message,
    )


def _precheck(metric: str, kind: str, s: str, candidate: EvaluationResult, op: str) -> Check | None:
    """The failed/skipped check for a missing, too small or undefined slice, else None."""
    if s not in candidate.by_slice:
        shown = list(candidate.by_slice)[:10]
        more = "" if len(candidate.by_slice) <= 10 else f" and {len(candidate.by_slice) - 10} more"
        message = (
            f"slice {s!r} of the {metric} threshold is not in the candidate's evaluation (slices: "
            f"{', '.join(shown)}{more}): fix the slice name or evaluate with the slice spec that makes it"
        )
        return _check(metric, s, kind, op, False, message)
    value = candidate.by_slice[s][metric]
    if not candidate.checked(s):
        message = (
            f"{metric} {_where(s)} not checked: the slice has {candidate.counts[s]} rows, below "
            f"min_slice_size {candidate.min_slice_size}"
        )
        return _check(metric, s, kind, op, None, message, value=value)
    if math.isnan(value):
        message = f"{metric} {_where(s)} not checked: it is undefined on the slice's rows (e.g. a single class)"
        return _check(metric, s, kind, op, None, message, value=value)
    return None


def _value_checks(t: Threshold, candidate: EvaluationResult) -> list[Check]:
    out: list[Check] = []
    for s in _target_slices(t.slices, candidate):
        for bound, op, side in ((t.lower, ">=", "lower"), (t.upper, "<=", "upper")):
            if bound is None:
                continue
            pre = _precheck(t.metric, "value", s, candidate, op)
            if pre is not None:
                out.append(pre)
                continue
            value = candidate.by_slice[s][t.metric]
            passed = value >= bound if op == ">=" else value <= bound
            sv, sb = _fmt_pair(value, bound)
            outcome = "within" if passed else ("below" if side == "lower" else "above")
            message = f"{t.metric} {_where(s)} is {sv}, {outcome} the {side} bound {sb}"
            out.append(_check(t.metric, s, "value", op, passed, message, value=value, bound=bound))
    return out


def _change_rule(t: ChangeThreshold) -> str:
    amount = f"{abs(t.min_improvement) * 100:g}% of the baseline" if t.relative else f"{abs(t.min_improvement):g}"
    if t.min_improvement > 0:
        return f"it must improve on the baseline by at least {amount}"
    if t.min_improvement < 0:
        return f"it may be at most {amount} worse than the baseline"
    return "it must be no worse than the baseline"


def _change_checks(t: ChangeThreshold, candidate: EvaluationResult, baseline: EvaluationResult | None) -> list[Check]:
    greater = get_metric(t.metric).greater_is_better
    op = ">=" if greater else "<="
    out: list[Check] = []
    for s in _target_slices(t.slices, candidate):
        pre = _precheck(t.metric, "change", s, candidate, op)
        if pre is not None:
            out.append(pre)
            continue
        value = candidate.by_slice[s][t.metric]
        base = None if baseline is None else baseline.by_slice.get(s, {}).get(t.metric)
        reason = None
        if baseline is None:
            reason = "there is no baseline to compare with"
        elif s not in baseline.by_slice:
            reason = "the baseline's evaluation has no such slice"
        elif base is None:
            reason = f"the baseline was not evaluated on {t.metric}"
        elif math.isnan(base):
            reason = "it is undefined for the baseline"
        if reason is not None:
            message = f"change of {t.metric} {_where(s)} not checked: {reason}"
            out.append(_check(t.metric, s, "change", op, None, message, value=value, baseline=base))
            continue
        allowance = t.min_improvement * (abs(base) if t.relative else 1.0)
        bound = base + allowance if greater else base - allowance
        passed = value >= bound if greater else value <= bound
        sv, sbase = _fmt_pair(value, base)
        _, sbound = _fmt_pair(value, bound)
        direction = "higher" if greater else "lower"
        outcome = "meets" if passed else ("is below" if greater else "is above")
        message = (
            f"{t.metric} {_where(s)} is {sv} vs the baseline's {sbase} ({direction} is better): {outcome} "
            f"the bound {sbound}; {_change_rule(t)}"
        )
        out.append(_check(t.metric, s, "change", op, passed, message, value=value, baseline=base, bound=bound))
    return out


def bless(
    candidate: EvaluationResult,
    baseline: EvaluationResult | None,
    thresholds: Threshold | ChangeThreshold | Iterable[Threshold | ChangeThreshold],
) -> Blessing:
    """Check a candidate's evaluation against thresholds: the blessing verdict.

    Semantics:

    - Value bounds are inclusive (``value >= lower``, ``value <= upper``); each bound of
      each slice is one :class:`Check`.
    - Change thresholds compare with the baseline's value of the same slice name (see
      :class:`ChangeThreshold`). They are **skipped** (recorded, not failed) when there
      is no baseline, the baseline lacks the slice or the metric, or the baseline's
      value is undefined.
    - Slices with fewer rows than the candidate's ``min_slice_size`` are reported but
      not checked (skipped, with the row count in the message); so are metrics that are
      undefined (``nan``) on a slice.
    - A slice named in a threshold that the candidate's evaluation lacks fails (a typo
      must not pass silently).
    - The verdict is BLESSED when no check failed; with no thresholds, or with only
      skipped checks (a first model, without a baseline), the candidate is BLESSED.

    Args:
        candidate: the new model's evaluation.
        baseline: the current champion's evaluation on the same data, or ``None``.
        thresholds: :class:`Threshold` and :class:`ChangeThreshold` definitions.

    Returns:
        The blessing.

    Raises:
        InvalidInputError: a threshold on a metric the candidate was not evaluated on.

    Example:
        >>> cand = EvaluationResult(metrics=("log_loss",), by_slice={"*": {"log_loss": 0.42}}, counts={"*": 100})
        >>> base = EvaluationResult(metrics=("log_loss",), by_slice={"*": {"log_loss": 0.40}}, counts={"*": 100})
        >>> b = bless(cand, base, [ChangeThreshold(metric="log_loss", min_improvement=-0.01)])
        >>> b.verdict, b.failed[0].bound
        ('NOT_BLESSED', 0.41000000000000003)
        >>> bless(cand, None, [ChangeThreshold(metric="log_loss")]).skipped[0].message
        'change of log_loss overall (slice *) not checked: there is no baseline to compare with'
    """
    if isinstance(thresholds, (Threshold, ChangeThreshold)):
        thresholds = [thresholds]
    checks: list[Check] = []
    for t in thresholds:
        if isinstance(t, Mapping):
            t = threshold_from_dict(t)
        if not isinstance(t, (Threshold, ChangeThreshold)):
            raise InvalidInputError(f"not a threshold: {t!r}; pass Threshold(...) or ChangeThreshold(...)")
        if t.metric not in candidate.metrics:
            raise InvalidInputError(
                f"a threshold is on {t.metric!r}, which the candidate was not evaluated on "
                f"(metrics: {', '.join(candidate.metrics)}): add it to evaluate(metrics=...)"
            )
        if isinstance(t, Threshold):
            checks.extend(_value_checks(t, candidate))
            if t.change is not None:
                checks.extend(_change_checks(t.change, candidate, baseline))
        else:
            checks.extend(_change_checks(t, candidate, baseline))
    verdict = NOT_BLESSED if any(c.passed is False for c in checks) else BLESSED
    return Blessing(verdict=verdict, checks=tuple(checks))
