"""Dataset profiles: one mergeable sketch per column, built in one streaming pass.

A profile is the project's one statistics format applied to a whole dataset: the data
pipeline profiles training data with it, every registered model version keeps the
profile of its training data, and the monitoring side compares live sketches against
it. Because a profile is a set of :mod:`raymlops.sketches` sketches, merging two
profiles is adding them: ``profile(A ∪ B) == merge(profile(A), profile(B))``, exactly
for counts, histograms, DDSketch buckets and category counts (means and standard
deviations agree to float rounding).

Histogram edges: a numeric column whose range is known (from a schema) gets
``bins`` equal-width fixed edges over that range (values outside land in the underflow
and overflow counts); every numeric column also has DDSketch buckets, whose edges are
fixed globally, so two profiles can always be compared bin by bin.

Each column also keeps its column type (:mod:`raymlops.core.coltypes`, from the Arrow
type of the data), and each numeric column a :class:`~raymlops.sketches.ValueCounts`: the
exact count of every value while the column has at most :data:`MAX_VALUES` distinct
values. So a flag, a label or a small integer reports the values it really has (its
quantiles are exact), and drift presets that treat few-valued columns as categories
decide that exactly, from sketches alone.

Example:
    >>> import pandas as pd
    >>> a = pd.DataFrame({"x": [1.0, 2.0, None], "c": ["r", "g", "r"]})
    >>> b = pd.DataFrame({"x": [3.0, 4.0, 5.0], "c": ["g", None, "b"]})
    >>> pa_, pb_ = Profile(), Profile()
    >>> pa_.update(a); pb_.update(b)
    >>> whole = Profile(); whole.update(pd.concat([a, b]))
    >>> pa_.merge(pb_) == whole
    True
    >>> whole.rows, whole["x"].nulls, whole["c"].top(1)
    (6, 1, [('g', 2)])
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from raymlops.core import coltypes
from raymlops.core.coltypes import NUMERIC_TYPES
from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import arrow_type_is_numeric
from raymlops.sketches.categorical import CategoricalSketch
from raymlops.sketches.kinds import Sketch, sketch_from_dict
from raymlops.sketches.numeric import NumericSketch
from raymlops.sketches.values import ValueCounts

__all__ = ["DEFAULT_BINS", "MAX_VALUES", "Profile"]

DEFAULT_BINS = 20

MAX_VALUES = 32
"""Numeric columns with at most this many distinct values keep the exact count of each."""


class Profile:
    """Per-column sketches of a dataset.

    Args:
        relative_accuracy: DDSketch accuracy of numeric columns (quantile error).
        edges: fixed histogram edges per numeric column.
        kinds: ``{"column": "numeric"|"categorical"}`` to force a sketch kind (columns
            not listed are decided from their type).
    """

    def __init__(
        self,
        *,
        relative_accuracy: float = 0.01,
        edges: Mapping[str, Iterable[float]] | None = None,
        kinds: Mapping[str, str] | None = None,
    ):
        self.relative_accuracy = relative_accuracy
        self.edges = {k: [float(e) for e in v] for k, v in (edges or {}).items()}
        self.kinds = dict(kinds or {})
        self.columns: dict[str, Sketch] = {}
        self.types: dict[str, str] = {}
        self.values: dict[str, ValueCounts] = {}
        self.rows = 0

    @classmethod
    def for_schema(cls, schema: Any, *, bins: int = DEFAULT_BINS, relative_accuracy: float = 0.01) -> Profile:
        """A profile whose numeric columns have ``bins`` fixed edges over the schema's range."""
        edges: dict[str, list[float]] = {}
        kinds: dict[str, str] = {}
        for col in schema.columns:
            numeric = col.type in NUMERIC_TYPES
            kinds[col.name] = "numeric" if numeric else "categorical"
            lo, hi = getattr(col, "min", None), getattr(col, "max", None)
            if numeric and lo is not None and hi is not None and hi > lo:
                edges[col.name] = list(np.linspace(float(lo), float(hi), bins + 1))
        return cls(relative_accuracy=relative_accuracy, edges=edges, kinds=kinds)

    def _new_sketch(self, name: str, numeric: bool) -> Sketch:
        kind = self.kinds.get(name)
        if kind == "numeric" or (kind is None and numeric):
            return NumericSketch(relative_accuracy=self.relative_accuracy, edges=self.edges.get(name))
        return CategoricalSketch()

    def update(self, batch: Any) -> None:
        """Add a batch (pyarrow Table or pandas DataFrame) to the profile."""
        if not isinstance(batch, pa.Table):
            batch = pa.Table.from_pandas(batch, preserve_index=False)
        for name in batch.column_names:
            col = batch.column(name)
            sk = self.columns.get(name)
            if sk is None:
                sk = self.columns[name] = self._new_sketch(name, arrow_type_is_numeric(col.type))
            self.types[name] = _merge_types(self.types.get(name), coltypes.from_arrow(col.type))
            if isinstance(sk, NumericSketch):
                if pa.types.is_boolean(col.type):
                    col = col.cast(pa.int8())
                seen = sk.count
                sk.update(col)
                vc = self.values.setdefault(name, ValueCounts(max_values=MAX_VALUES))
                if vc.saturated:  # nothing left to learn from the values: count them
                    vc.skip(sk.count - seen)
                else:
                    vc.update(col)
            else:
                sk.update(col)
        self.rows += batch.num_rows

    def __getitem__(self, column: str) -> Sketch:
        return self.columns[column]

    def merge(self, other: Profile) -> Profile:
        """A new profile of both datasets (sketches of a column present in both are added)."""
        if other.relative_accuracy != self.relative_accuracy:
            raise InvalidInputError(
                f"cannot merge profiles of different relative_accuracy ({self.relative_accuracy} vs {other.relative_accuracy})"
            )
        out = Profile(relative_accuracy=self.relative_accuracy, edges={**other.edges, **self.edges}, kinds={**other.kinds, **self.kinds})
        out.rows = self.rows + other.rows
        for name in {**self.types, **other.types}:
            out.types[name] = _merge_types(self.types.get(name), other.types.get(name))
        for name in {**self.values, **other.values}:
            a_v, b_v = self.values.get(name), other.values.get(name)
            out.values[name] = a_v.merge(b_v) if a_v is not None and b_v is not None else (a_v or b_v).copy()
        for name in {**self.columns, **other.columns}:
            a, b = self.columns.get(name), other.columns.get(name)
            if a is not None and b is not None:
                if type(a) is not type(b):
                    raise InvalidInputError(
                        f"cannot merge column {name!r}: numeric in one profile, categorical in the other; "
                        "profile both with the same schema"
                    )
                out.columns[name] = a.merge(b)
            else:
                out.columns[name] = (a or b).copy()
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return (self.rows, self.columns, self.types, self.values) == (other.rows, other.columns, other.types, other.values)

    def __repr__(self) -> str:
        return f"Profile(rows={self.rows}, columns={list(self.columns)})"

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "raymlops.profile/1",
            "rows": self.rows,
            "relative_accuracy": self.relative_accuracy,
            "edges": self.edges,
            "kinds": self.kinds,
            "types": self.types,
            "values": {k: v.to_dict() for k, v in self.values.items()},
            "columns": {k: v.to_dict() for k, v in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        if not isinstance(d, Mapping) or d.get("format") != "raymlops.profile/1":
            raise InvalidInputError("not a raymlops profile (expected a JSON object with format 'raymlops.profile/1')")
        out = cls(relative_accuracy=d["relative_accuracy"], edges=d.get("edges"), kinds=d.get("kinds"))
        out.rows = int(d["rows"])
        out.columns = {k: sketch_from_dict(v) for k, v in d["columns"].items()}
        out.types = dict(d.get("types") or {})  # absent in profiles written before types were kept
        out.values = {k: ValueCounts.from_dict(v) for k, v in (d.get("values") or {}).items()}
        return out

    def save(self, path: str | os.PathLike[str]) -> str:
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, allow_nan=False)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Profile:
        try:
            with open(path) as f:
                return cls.from_dict(json.load(f))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInputError(f"cannot read profile {os.fspath(path)}: {exc}") from None

    # ------------------------------------------------------------------ reading
    def summary(self) -> list[dict[str, Any]]:
        """One row per column: counts, range, moments, quantiles or top categories.

        Quantiles of a numeric column with at most :data:`MAX_VALUES` distinct values are
        exact values of the column (``quantile_relative_error`` 0, ``distinct`` its
        distinct count); otherwise they are DDSketch estimates within
        ``quantile_relative_error`` of the true value (``distinct`` None: more than
        :data:`MAX_VALUES`).
        """
        rows = []
        for name, sk in self.columns.items():
            if isinstance(sk, NumericSketch):
                vc = self.values.get(name)
                exact = vc is not None and not vc.saturated and vc.count == sk.count
                if not sk.count:
                    q: Any = [None] * 3
                elif exact:
                    q = _exact_quantiles(vc.counts or {}, (0.01, 0.5, 0.99))
                else:
                    q = sk.quantiles([0.01, 0.5, 0.99])
                rows.append(
                    {
                        "column": name,
                        "kind": "numeric",
                        "count": sk.count,
                        "nulls": sk.nulls,
                        "nan": sk.nan,
                        "inf": sk.posinf + sk.neginf,
                        "min": sk.min if sk.count else None,
                        "max": sk.max if sk.count else None,
                        "mean": sk.mean if sk.count else None,
                        "std": sk.std if sk.count else None,
                        "p01": _f(q[0]),
                        "p50": _f(q[1]),
                        "p99": _f(q[2]),
                        "quantile_relative_error": 0.0 if exact else sk.relative_accuracy,
                        "distinct": vc.distinct if vc is not None else None,
                    }
                )
            else:
                rows.append(
                    {
                        "column": name,
                        "kind": "categorical",
                        "count": sk.count,
                        "nulls": sk.nulls,
                        "distinct": sk.distinct,
                        "top": sk.top(5),
                    }
                )
        return rows


def _exact_quantiles(counts: Mapping[float, int], qs: Iterable[float]) -> list[float]:
    """The values of 0-based rank ``floor(q * (n - 1))`` (the sketches' convention), from exact counts."""
    keys = sorted(counts)
    cum = np.cumsum([counts[k] for k in keys])
    n = int(cum[-1])
    return [keys[int(np.searchsorted(cum, np.floor(q * (n - 1)), side="right"))] for q in qs]


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def _merge_types(a: str | None, b: str | None) -> str | None:
    """The column type of two parts: the same, or ints and floats widened to float."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a, b} <= {"bool", "int", "float"}:
        return "float" if "float" in (a, b) else "int"
    return "string"
