"""How many distinct values a column has: exact while few, a K-minimum-values estimate beyond.

Every value is hashed to 64 bits (pandas' ``hash_array``: SipHash with a fixed key, so the
same value hashes the same in every process). While at most ``k`` distinct hashes have
been seen the sketch keeps them all and the count is exact; beyond, it keeps the ``k``
smallest (Bar-Yossef et al.'s K-minimum-values) and estimates ``(k - 1) / h_k`` with
``h_k`` the k-th smallest hash scaled to ``[0, 1)``: a relative standard error of about
``1 / sqrt(k - 2)``, 1.6% for the default ``k = 4096``. Merging keeps the ``k`` smallest
of the union, so the merge of two sketches is the sketch of all rows, exactly.

Example:
    >>> import numpy as np
    >>> a, b = DistinctCount(), DistinctCount()
    >>> a.update(np.arange(3000)); b.update(np.arange(2000, 5000))
    >>> ab = a.merge(b)
    >>> ab.exact, abs(ab.estimate() - 5000) <= 3 * ab.relative_error * 5000
    (False, True)
    >>> small = DistinctCount(); small.update(["x", "y", "x", None])
    >>> small.exact, small.estimate(), small.count
    (True, 2, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from raymlops.core.errors import InvalidInputError

__all__ = ["DistinctCount"]

_SCALE = 2.0**64


def _hashes(values: Any) -> np.ndarray:
    """64-bit hashes of the non-null values."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.drop_null()
        values = values.to_numpy(zero_copy_only=False) if isinstance(values, pa.Array) else values.to_numpy()
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.dtype.kind == "O":
        arr = arr[~pd.isna(arr)]
    elif arr.dtype.kind == "f":
        arr = arr[~np.isnan(arr)]
    elif arr.dtype.kind in "US":
        arr = arr.astype(object)
    return pd.util.hash_array(arr.ravel())


class DistinctCount:
    """Distinct non-null values: exact up to ``k`` of them, estimated (KMV) beyond.

    Args:
        k: hashes kept (at least 16); the estimate's relative error is about ``1/sqrt(k - 2)``.
    """

    def __init__(self, *, k: int = 4096):
        if not isinstance(k, int) or isinstance(k, bool) or k < 16:
            raise InvalidInputError(f"k must be an integer of at least 16, got {k!r}")
        self._k = k
        self._hashes = np.zeros(0, np.uint64)  # sorted, distinct, at most k
        self._saturated = False  # True once more than k distinct hashes were seen
        self._count = 0

    def update(self, values: Any) -> None:
        """Add a batch of values (numpy, pandas, pyarrow or a sequence; nulls are skipped)."""
        h = _hashes(values)
        self._count += h.size
        self._add(h)

    def _add(self, h: np.ndarray) -> None:
        if self._saturated and self._hashes.size:  # only a hash below the k-th smallest can still enter
            h = h[h < self._hashes[-1]]
        cap = 4 * self._k
        if h.size > cap:  # the k smallest distinct hashes are among the 4k smallest, unless many repeat
            small = h[h <= np.partition(h, cap)[cap]]
            merged = np.unique(np.concatenate([self._hashes, small]))
            if merged.size <= self._k:
                merged = np.unique(np.concatenate([self._hashes, h]))
        else:
            merged = np.unique(np.concatenate([self._hashes, h]))
        if merged.size > self._k:
            self._saturated = True
            merged = merged[: self._k]
        self._hashes = merged

    def merge(self, other: DistinctCount) -> DistinctCount:
        """A new sketch of the values of both."""
        if not isinstance(other, DistinctCount) or other._k != self._k:
            raise InvalidInputError("merge DistinctCount sketches with the same k")
        out = DistinctCount(k=self._k)
        out._count = self._count + other._count
        out._add(np.concatenate([self._hashes, other._hashes]))
        out._saturated = out._saturated or self._saturated or other._saturated
        return out

    @property
    def count(self) -> int:
        """Non-null values seen."""
        return self._count

    @property
    def exact(self) -> bool:
        """Whether :meth:`estimate` is the exact distinct count (at most ``k`` distinct values)."""
        return not self._saturated

    @property
    def relative_error(self) -> float:
        """The estimate's relative standard error (0 while exact)."""
        return 0.0 if self.exact else 1.0 / float(np.sqrt(self._k - 2))

    def estimate(self) -> int:
        """The number of distinct non-null values (exact, or the KMV estimate)."""
        if self.exact:
            return int(self._hashes.size)
        kth = (float(self._hashes[-1]) + 1.0) / _SCALE
        return int(round((self._k - 1) / kth))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "distinct",
            "k": self._k,
            "count": self._count,
            "saturated": self._saturated,
            "hashes": [int(x) for x in self._hashes],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DistinctCount:
        if not isinstance(d, Mapping) or d.get("type") != "distinct":
            raise InvalidInputError("not a DistinctCount dict; pass the output of DistinctCount.to_dict() unchanged")
        out = cls(k=int(d["k"]))
        out._count = int(d["count"])
        out._saturated = bool(d["saturated"])
        out._hashes = np.unique(np.asarray(d["hashes"], dtype=np.uint64))
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DistinctCount):
            return NotImplemented
        return (self._k, self._count, self._saturated) == (other._k, other._count, other._saturated) and np.array_equal(
            self._hashes, other._hashes
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DistinctCount(count={self._count}, distinct~{self.estimate()}, exact={self.exact}, k={self._k})"
