"""Slice specs: how to cut the evaluation data into named slices (a column's values,
quantile buckets, given edges, and crosses of those); the semantics are in
:mod:`raymlops.training.evaluate`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.training.evaluate._common import check_keys
from raymlops.training.evaluate.binning import AUTO_MAX_VALUES, bin_column, fmt_number, slice_name

__all__ = ["SliceSpec", "as_slice_spec"]


@dataclass(frozen=True, kw_only=True)
class SliceSpec:
    """How to cut the evaluation data into slices (see :mod:`raymlops.training.evaluate`).

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
            codes, labels = bin_column(
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
            "edges": None if self.edges is None else [fmt_number(e) if math.isinf(e) else e for e in self.edges],
            "cross": None if self.cross is None else self.cross.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SliceSpec:
        check_keys(d, {"column", "buckets", "edges", "cross"}, "SliceSpec")
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


def as_slice_spec(s: Any) -> SliceSpec:
    """A :class:`SliceSpec` from a spec, a column name, a tuple (a cross) or a ``to_dict`` mapping.

    Example:
        >>> as_slice_spec(("color", SliceSpec(column="age", buckets=4)))
        SliceSpec(column='color', cross=SliceSpec(column='age', buckets=4))
    """
    if isinstance(s, SliceSpec):
        return s
    if isinstance(s, Mapping):
        return SliceSpec.from_dict(s)
    if isinstance(s, (list, tuple)):
        if not s:
            raise InvalidInputError("an empty slice cross (): name two or more columns to cross, e.g. ('color', 'age')")
        spec = as_slice_spec(s[-1])
        for part in reversed(s[:-1]):
            head = as_slice_spec(part)
            if head.cross is not None:
                raise InvalidInputError(f"cannot cross {head!r}, which is already a cross, with more columns")
            spec = SliceSpec(column=head.column, buckets=head.buckets, edges=head.edges, cross=spec)
        return spec
    return SliceSpec(column=s)
