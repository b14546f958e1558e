"""Exact counts of finite values on fixed histogram edges: the histogram part of a numeric sketch.

Bin ``k`` is ``[edges[k], edges[k+1])``, except that the last bin also holds
``edges[-1]`` (numpy.histogram's convention); values below the first edge count as
underflow, above the last as overflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._ddsketch import bad_dict

__all__ = ["EdgeCounts", "Histogram"]


class Histogram(NamedTuple):
    """Counts of finite values on fixed edges.

    Bin ``k`` is ``[edges[k], edges[k+1])``, except that the last bin also holds
    ``edges[-1]`` (numpy.histogram's convention). ``underflow`` counts values below
    ``edges[0]`` and ``overflow`` values above ``edges[-1]``.
    """

    edges: np.ndarray
    counts: np.ndarray
    underflow: int
    overflow: int


class EdgeCounts:
    """Counts on fixed edges, mergeable by addition.

    Args:
        edges: at least two strictly increasing finite numbers.

    Raises:
        InvalidInputError: on invalid edges.
    """

    __slots__ = ("edges", "_counts")

    def __init__(self, edges: Sequence[float] | np.ndarray):
        e = np.array(edges, dtype=np.float64).ravel()
        if e.size < 2 or not np.isfinite(e).all() or not (np.diff(e) > 0).all():
            raise InvalidInputError(
                f"histogram edges must be at least two strictly increasing finite numbers, got {list(edges)!r}"
            )
        self.edges = e
        self._counts = np.zeros(e.size + 1, np.int64)  # [underflow, bin 0, ..., bin m-2, overflow]

    def _bin_index(self, x: np.ndarray) -> np.ndarray:
        """``np.searchsorted(edges, x, side="right")``; arithmetic for equal-width edges.

        For equal widths the index is computed, then corrected by one comparison with
        the true edges on each side, so it equals ``searchsorted`` exactly (a value
        within rounding of an edge lands where ``searchsorted`` puts it).
        """
        e = self.edges
        width = (e[-1] - e[0]) / (e.size - 1)
        if e.size < 3 or not np.allclose(np.diff(e), width, rtol=1e-12, atol=0.0):
            return np.searchsorted(e, x, side="right")
        i = np.floor((x - e[0]) / width).astype(np.int64)
        np.clip(i, -1, e.size - 1, out=i)
        i += 1
        ext = np.concatenate(([-np.inf], e, [np.inf]))  # ext[k] is edge k-1
        i -= x < ext[i]
        i += x >= ext[i + 1]
        return i

    def add(self, x: np.ndarray) -> None:
        """Count an array of finite values."""
        e = self.edges
        counts = np.bincount(self._bin_index(x), minlength=e.size + 1)
        at_last = int(np.count_nonzero(x == e[-1]))  # the last bin is closed on the right
        counts[-2] += at_last
        counts[-1] -= at_last
        self._counts += counts

    def same_edges(self, other: EdgeCounts | None) -> bool:
        return other is not None and np.array_equal(self.edges, other.edges)

    def merge_inplace(self, other: EdgeCounts) -> None:
        self._counts += other._counts

    def copy(self) -> EdgeCounts:
        new = EdgeCounts.__new__(EdgeCounts)
        new.edges, new._counts = self.edges, self._counts.copy()
        return new

    def histogram(self) -> Histogram:
        h = self._counts
        return Histogram(self.edges.copy(), h[1:-1].copy(), int(h[0]), int(h[-1]))

    def to_dict(self) -> dict[str, Any]:
        h = self._counts
        return {"underflow": int(h[0]), "counts": h[1:-1].tolist(), "overflow": int(h[-1])}

    @classmethod
    def from_dict(cls, edges: Sequence[float], d: Mapping[str, Any], total: int) -> EdgeCounts:
        """Rebuild from :meth:`to_dict` output, checking the counts sum to ``total``."""
        new = cls(edges)
        counts = np.asarray(d["counts"], dtype=np.int64).ravel()
        if counts.size != new.edges.size - 1:
            raise bad_dict("histogram.counts", "one count per bin (len(edges) - 1)")
        new._counts = np.concatenate([[int(d["underflow"])], counts, [int(d["overflow"])]]).astype(np.int64)
        if new._counts.min() < 0 or int(new._counts.sum()) != total:
            raise bad_dict("the histogram counts", "non-negative and summing to count")
        return new

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EdgeCounts) and self.same_edges(other) and np.array_equal(self._counts, other._counts)

    __hash__ = None  # type: ignore[assignment]
