"""The categorical column sketch: exact counts per category, mergeable by addition.

Categories are ``str(value)`` (strings stay as they are); nulls are counted apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import module_of
from raymlops.sketches._ddsketch import bad_dict
from raymlops.sketches.numeric import FORMAT_VERSION

__all__ = ["CategoricalSketch"]


def _is_null(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(v != v)
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(v))
    return type(v).__name__ in ("NAType", "NaTType")


def _category_counts(values: Any) -> tuple[list[Any], list[int]]:
    """Distinct values (nulls included, as they come) and their counts."""
    if isinstance(values, (str, bytes)):
        raise InvalidInputError(
            f"CategoricalSketch.update takes a batch of values, got the single value {values!r}; pass [value]"
        )
    if module_of(values).startswith("pyarrow"):
        vc = pc.value_counts(values)
        return vc.field("values").to_pylist(), vc.field("counts").to_pylist()
    if isinstance(values, (list, tuple)) or (isinstance(values, np.ndarray) and values.dtype.kind == "O"):
        # Python objects already: Counter hashes them in C, faster than pandas, esp. on small batches
        counted = Counter(values if isinstance(values, (list, tuple)) else values.ravel().tolist())
        return list(counted), list(counted.values())
    if isinstance(values, pd.Series):
        s = values
    elif module_of(values).startswith("pandas"):
        s = pd.Series(values)
    elif isinstance(values, np.ndarray):
        s = pd.Series(values.ravel())
    else:
        s = pd.Series(list(values), dtype=object)
    vc = s.value_counts(dropna=False, sort=False)
    vc = vc[vc.to_numpy() > 0]  # a Categorical lists its unused categories too
    return vc.index.tolist(), vc.to_numpy().tolist()


class CategoricalSketch:
    """Exact counts per category, mergeable by addition.

    Categories are ``str(value)`` (strings stay as they are). Nulls (None, NaN, pd.NA,
    NaT, Arrow nulls) are counted apart. If more than ``max_categories`` distinct values
    appear, only the most frequent are kept (ties broken by the category string), the
    rest are folded into ``other`` and ``truncated`` becomes True. From then on ``count``,
    ``nulls`` and ``count == sum(counts) + other`` stay exact, but a kept category's count
    is a lower bound (occurrences folded into ``other`` before it was kept are lost), and
    merging is no longer exactly the sketch of all rows.

    Args:
        max_categories: the most distinct categories kept (at least 1).

    Raises:
        InvalidInputError: if ``max_categories`` is not a positive integer.

    Example:
        >>> s = CategoricalSketch(max_categories=2)
        >>> s.update(["a", "b", "a", None, "c", "a"])
        >>> s.top(2), s.count, s.nulls, s.other, s.truncated
        ([('a', 3), ('b', 1)], 5, 1, 1, True)
    """

    def __init__(self, *, max_categories: int = 10_000):
        if not isinstance(max_categories, int) or isinstance(max_categories, bool) or max_categories < 1:
            raise InvalidInputError(f"max_categories must be a positive integer, got {max_categories!r}")
        self._max = max_categories
        self._counts: dict[str, int] = {}
        self._count = self._nulls = self._other = 0
        self._truncated = False

    def update(self, values: Any) -> None:
        """Add a batch of values.

        Args:
            values: a numpy array, pandas Series/Index/Categorical, pyarrow Array or
                ChunkedArray (dictionary-encoded too), or any iterable of values.
        """
        keys, counts = _category_counts(values)
        table = self._counts
        for key, c in zip(keys, counts):  # one step per distinct value, not per row
            if _is_null(key):
                self._nulls += c
                continue
            self._count += c
            key = key if isinstance(key, str) else str(key)
            table[key] = table.get(key, 0) + c
        self._truncate()

    def _truncate(self) -> None:
        if len(self._counts) <= self._max:
            return
        ranked = sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self._counts = dict(ranked[: self._max])
        self._other += sum(c for _, c in ranked[self._max :])
        self._truncated = True

    def _check_mergeable(self, other: Any) -> None:
        if not isinstance(other, CategoricalSketch):
            raise InvalidInputError(
                f"cannot merge a CategoricalSketch with {type(other).__name__}; merge sketches of the same kind"
            )
        if other._max != self._max:
            raise InvalidInputError(
                f"cannot merge sketches with different max_categories ({self._max} vs {other._max}); "
                "build every sketch of a column with the same max_categories"
            )

    def merge_inplace(self, other: CategoricalSketch) -> CategoricalSketch:
        """Add ``other`` into this sketch and return this sketch.

        Raises:
            InvalidInputError: if ``other`` has a different ``max_categories``.
        """
        self._check_mergeable(other)
        for key, c in other._counts.items():
            self._counts[key] = self._counts.get(key, 0) + c
        self._count += other._count
        self._nulls += other._nulls
        self._other += other._other
        self._truncated = self._truncated or other._truncated
        self._truncate()
        return self

    def merge(self, other: CategoricalSketch) -> CategoricalSketch:
        """A new sketch of the rows of both (exact unless either is or becomes truncated).

        Raises:
            InvalidInputError: if ``other`` has a different ``max_categories``.
        """
        self._check_mergeable(other)
        return self.copy().merge_inplace(other)

    def __iadd__(self, other: CategoricalSketch) -> CategoricalSketch:
        return self.merge_inplace(other)

    def copy(self) -> CategoricalSketch:
        """An independent copy."""
        new = CategoricalSketch(max_categories=self._max)
        new._counts = dict(self._counts)
        new._count, new._nulls, new._other, new._truncated = self._count, self._nulls, self._other, self._truncated
        return new

    @property
    def max_categories(self) -> int:
        return self._max

    @property
    def count(self) -> int:
        """Number of non-null values (including those folded into ``other``)."""
        return self._count

    @property
    def nulls(self) -> int:
        return self._nulls

    @property
    def rows(self) -> int:
        """Every value seen: ``count + nulls``."""
        return self._count + self._nulls

    @property
    def other(self) -> int:
        """Values of categories dropped by truncation."""
        return self._other

    @property
    def truncated(self) -> bool:
        return self._truncated

    @property
    def distinct(self) -> int:
        """Number of categories kept (exact unless truncated, then a lower bound)."""
        return len(self._counts)

    @property
    def counts(self) -> dict[str, int]:
        """A copy of the per-category counts."""
        return dict(self._counts)

    def top(self, k: int | None = None) -> list[tuple[str, int]]:
        """The ``k`` most frequent categories (all when None), by count then category."""
        ranked = sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked if k is None else ranked[: max(k, 0)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; ``counts`` is ordered by count then category."""
        return {
            "type": "categorical",
            "version": FORMAT_VERSION,
            "max_categories": self._max,
            "count": self._count,
            "nulls": self._nulls,
            "other": self._other,
            "truncated": self._truncated,
            "counts": dict(self.top()),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoricalSketch:
        """Rebuild a sketch from :meth:`to_dict` output.

        Raises:
            InvalidInputError: if the dict is not a valid categorical sketch.
        """
        keys = {"type", "version", "max_categories", "count", "nulls", "other", "truncated", "counts"}
        if not isinstance(d, Mapping) or d.get("type") != "categorical":
            raise bad_dict("type", "'categorical'")
        if d.get("version") != FORMAT_VERSION:
            raise bad_dict("version", f"{FORMAT_VERSION} (got {d.get('version')!r})")
        if set(d) != keys:
            raise bad_dict("the keys", f"exactly {sorted(keys)}")
        s = cls(max_categories=d["max_categories"])
        for name in ("count", "nulls", "other"):
            v = d[name]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise bad_dict(name, "a non-negative integer")
            setattr(s, f"_{name}", v)
        counts = d["counts"]
        if not isinstance(counts, Mapping) or not all(
            isinstance(k, str) and type(v) is int and v > 0 for k, v in counts.items()
        ):
            raise bad_dict("counts", "an object of category -> positive integer")
        s._counts = dict(counts)
        s._truncated = bool(d["truncated"])
        if sum(s._counts.values()) + s._other != s._count or len(s._counts) > s._max:
            raise bad_dict("counts", "at most max_categories entries summing, with other, to count")
        return s

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CategoricalSketch):
            return NotImplemented
        return (self._max, self._count, self._nulls, self._other, self._truncated, self._counts) == (
            other._max,
            other._count,
            other._nulls,
            other._other,
            other._truncated,
            other._counts,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"CategoricalSketch(count={self._count}, nulls={self._nulls}, distinct={self.distinct}, "
            f"other={self._other}, truncated={self._truncated})"
        )
