"""Exact counts of a numeric column's distinct values, while there are few.

The companion of :class:`~raymlops.sketches.numeric.NumericSketch` for what a DDSketch
cannot tell: how many distinct values a column has and how often each occurs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import finite_values

__all__ = ["ValueCounts"]


class ValueCounts:
    """Exact counts of each distinct finite value of a numeric column, while there are few.

    A companion to :class:`NumericSketch` for the question a DDSketch cannot answer: how
    many distinct values does the column have, and how often does each occur? It keeps a
    ``{value: count}`` table until more than ``max_values`` distinct values have been
    seen; then it is ``saturated`` and keeps only the count. Merging adds the tables, and
    a merge is saturated exactly when either part is or the union of the tables has more
    than ``max_values`` entries, so ``distinct`` (None once saturated) is always exact:
    "at most ``max_values`` distinct values" is decided exactly, and for few-valued
    columns the counts are those of all rows. Updating a saturated instance costs one
    ``isfinite`` pass (for ``count``).

    Args:
        max_values: the most distinct values tracked (at least 1; the drift presets need
            at least 5).

    Example:
        >>> v = ValueCounts(max_values=3)
        >>> v.update(np.array([0.0, 1.0, 1.0, np.nan]))
        >>> v.distinct, v.counts
        (2, {0.0: 1, 1.0: 2})
        >>> w = ValueCounts(max_values=3)
        >>> w.update([2.0, 3.0])
        >>> v.merge(w).distinct, v.merge(w).saturated
        (None, True)
    """

    def __init__(self, *, max_values: int = 32):
        if not isinstance(max_values, int) or isinstance(max_values, bool) or max_values < 1:
            raise InvalidInputError(f"max_values must be a positive integer, got {max_values!r}")
        self._max = max_values
        self._counts: dict[float, int] | None = {}
        self._count = 0

    def update(self, values: Any) -> None:
        """Add a batch of numeric values (nulls, NaN and infinities are ignored)."""
        x = finite_values(values)
        self._count += x.size
        if self._counts is None or not x.size:
            return
        head = np.unique(x[: 4 * self._max + 4])
        if head.size > self._max:
            self._saturate()
            return
        keys, counts = np.unique(x, return_counts=True)
        if keys.size > self._max:
            self._saturate()
            return
        for k, c in zip(keys.tolist(), counts.tolist()):
            self._counts[k] = self._counts.get(k, 0) + c
        if len(self._counts) > self._max:
            self._saturate()

    def skip(self, n: int) -> None:
        """Count ``n`` finite values without looking at them; only once saturated.

        A saturated instance keeps nothing but the count, so its owner (a profile that
        sketched the same values) can count them without a second pass over the data.

        Raises:
            InvalidInputError: if the instance is not saturated (it needs the values).
        """
        if self._counts is not None:
            raise InvalidInputError("ValueCounts.skip is only for a saturated instance; pass the values to update()")
        self._count += int(n)

    def _saturate(self) -> None:
        self._counts = None

    def merge_inplace(self, other: ValueCounts) -> ValueCounts:
        """Add ``other`` into this instance and return it.

        Raises:
            InvalidInputError: if ``other`` tracks a different ``max_values``.
        """
        if not isinstance(other, ValueCounts) or other._max != self._max:
            raise InvalidInputError(
                "merge ValueCounts with the same max_values; build every part of a column alike"
            )
        self._count += other._count
        if self._counts is not None:
            if other._counts is None:
                self._saturate()
            else:
                for k, c in other._counts.items():
                    self._counts[k] = self._counts.get(k, 0) + c
                if len(self._counts) > self._max:
                    self._saturate()
        return self

    def merge(self, other: ValueCounts) -> ValueCounts:
        """A new instance for the rows of both."""
        return self.copy().merge_inplace(other)

    def copy(self) -> ValueCounts:
        """An independent copy."""
        new = ValueCounts(max_values=self._max)
        new._counts = None if self._counts is None else dict(self._counts)
        new._count = self._count
        return new

    @property
    def max_values(self) -> int:
        return self._max

    @property
    def count(self) -> int:
        """Number of finite values seen."""
        return self._count

    @property
    def saturated(self) -> bool:
        """Whether more than ``max_values`` distinct values were seen."""
        return self._counts is None

    @property
    def distinct(self) -> int | None:
        """The exact number of distinct finite values, or None when more than ``max_values``."""
        return None if self._counts is None else len(self._counts)

    @property
    def counts(self) -> dict[float, int] | None:
        """A copy of ``{value: count}`` sorted by value, or None when saturated."""
        return None if self._counts is None else dict(sorted(self._counts.items()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "type": "value_counts",
            "max_values": self._max,
            "count": self._count,
            "values": None if self._counts is None else [[k, c] for k, c in sorted(self._counts.items())],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ValueCounts:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            InvalidInputError: if the dict is not a ValueCounts dict.
        """
        if not isinstance(d, Mapping) or d.get("type") != "value_counts":
            raise InvalidInputError("not a ValueCounts dict; pass the output of ValueCounts.to_dict() unchanged")
        try:
            new = cls(max_values=d["max_values"])
            new._count = int(d["count"])
            values = d["values"]
            new._counts = None if values is None else {float(k): int(c) for k, c in values}
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"invalid ValueCounts dict ({exc}); pass to_dict() output unchanged") from None
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueCounts):
            return NotImplemented
        return (self._max, self._count, self._counts) == (other._max, other._count, other._counts)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ValueCounts(count={self._count}, distinct={self.distinct}, max_values={self._max})"
