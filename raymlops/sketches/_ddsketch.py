"""DDSketch buckets (Masson, Rim and Lee, VLDB 2019) with edges fixed bit for bit.

With ``gamma = (1 + a) / (1 - a)``, positive bucket ``i`` holds the
values ``x`` with ``B[i-1] < x <= B[i]``, where ``B[i]`` is ``gamma**i`` computed in
50-digit decimal arithmetic and rounded once to float64. So the index of ``x`` is
``ceil(log_gamma(x))`` with the edges fixed bit for bit on every host: a value near an
edge never lands in a different bucket on another machine or numpy build (the fast
``log`` only proposes an index; comparisons with the edge table decide). Edges are
computed lazily for the range of values seen, about 1 microsecond per edge, once per
process: ``ln(max/min) / (2a)`` edges, a few thousand for ``a = 0.01``.
Negative values use a mirrored store (bucket ``i`` holds ``-B[i] <= x < -B[i-1]``) and
values with ``|x| <= min_indexable`` (the largest edge ``<= 1e-9``; about ``0.98e-9``
for ``a = 0.01``) go to one zero bucket. Edges depend only on ``a``, never on the data,
so two sketches with the same ``a`` share every edge and merge by adding count arrays:
``merge(A, B)`` has exactly the bucket counts of a sketch of ``A + B``.

:class:`QuantileBuckets` is the quantile part of a
:class:`~raymlops.sketches.numeric.NumericSketch`: it knows the bucket counts and reads
quantiles and the CDF off them; the sketch adds the exact counts, extremes and moments.
See :mod:`raymlops.sketches.numeric` for the guarantees.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from decimal import Context, Decimal
from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError

__all__ = ["MIN_INDEXABLE", "QuantileBuckets", "bad_dict"]

MIN_INDEXABLE = 1e-9
"""Values with ``|x|`` at or below the largest bucket edge not above this go to the zero bucket."""

_CHUNK = 2048  # edges are computed (and cached) in chunks of this many indices
_DBL_MAX = float(np.finfo(np.float64).max)


def bad_dict(where: str, expected: str) -> InvalidInputError:
    """The error for a sketch dict that is not what ``to_dict`` writes."""
    return InvalidInputError(
        f"invalid sketch dict: {where} must be {expected}; pass the output of to_dict() unchanged"
    )


class _LogMapping:
    """The DDSketch bucket edges ``B[i] = gamma**i`` for one relative accuracy.

    Edges are computed in 50-digit decimal arithmetic, chunk by chunk on demand, and
    rounded once to float64, so they are identical on every host. Edges at or above the
    largest float are clipped to it, so the top bucket ``k_max`` ends at ``DBL_MAX``.
    """

    def __init__(self, alpha: float):
        self.alpha = alpha
        self._ctx = Context(prec=50)
        a = Decimal(alpha)
        self._gamma = self._ctx.divide(self._ctx.add(Decimal(1), a), self._ctx.subtract(Decimal(1), a))
        self.gamma = float(self._gamma)
        self.ln_gamma = float(self._ctx.ln(self._gamma))
        self._lock = threading.Lock()
        self._chunks: dict[int, np.ndarray] = {}
        self._table = np.empty(0)
        self._table_lo = 0
        k = math.floor(math.log(MIN_INDEXABLE) / self.ln_gamma)
        while self.edge(k) > MIN_INDEXABLE:
            k -= 1
        while self.edge(k + 1) <= MIN_INDEXABLE:
            k += 1
        self.k0 = k  # zero bucket: |x| <= B[k0]
        self.min_indexable = self.edge(k)
        k = math.ceil(math.log(_DBL_MAX) / self.ln_gamma)
        while self.edge(k - 1) >= _DBL_MAX:
            k -= 1
        while self.edge(k) < _DBL_MAX:
            k += 1
        self.k_max = k  # top bucket: (B[k_max - 1], DBL_MAX]

    def _chunk(self, c: int) -> np.ndarray:
        chunk = self._chunks.get(c)
        if chunk is None:
            x = self._ctx.power(self._gamma, c * _CHUNK)
            values = []
            for _ in range(_CHUNK):
                values.append(float(x))
                x = self._ctx.multiply(x, self._gamma)
            chunk = np.minimum(np.array(values, dtype=np.float64), _DBL_MAX)
            self._chunks[c] = chunk
        return chunk

    def edge(self, i: int) -> float:
        with self._lock:
            return float(self._chunk(i // _CHUNK)[i % _CHUNK])

    def table(self, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """An array ``t`` and offset ``t0`` with ``t[i - t0] == B[i]`` for ``lo <= i <= hi``."""
        with self._lock:
            t, t0 = self._table, self._table_lo
            if t.size and t0 <= lo and hi < t0 + t.size:
                return t, t0
            if t.size:
                lo, hi = min(lo, t0), max(hi, t0 + t.size - 1)
            c_lo, c_hi = lo // _CHUNK, hi // _CHUNK
            t = np.concatenate([self._chunk(c) for c in range(c_lo, c_hi + 1)])
            self._table, self._table_lo = t, c_lo * _CHUNK
            return t, c_lo * _CHUNK

    def index(self, ax: np.ndarray) -> np.ndarray:
        """Bucket index of each ``|x|``: ``i`` with ``B[i-1] < ax <= B[i]``; ``k0`` for the zero bucket."""
        with np.errstate(divide="ignore"):
            f = np.log(ax)
        f *= 1.0 / self.ln_gamma
        np.ceil(f, out=f)
        np.clip(f, self.k0 + 1, self.k_max, out=f)
        i = f.astype(np.int64)
        # log proposes; comparisons with the exact edges decide (log is off by at most one).
        t, t0 = self.table(int(i.min()) - 1, int(i.max()))
        j = i - t0
        i += ax > t[j]
        j -= 1
        i -= ax <= t[j]
        return i


_MAPPINGS: dict[float, _LogMapping] = {}
_MAPPINGS_LOCK = threading.Lock()


def _mapping(alpha: float) -> _LogMapping:
    with _MAPPINGS_LOCK:
        m = _MAPPINGS.get(alpha)
        if m is None:
            m = _MAPPINGS[alpha] = _LogMapping(alpha)
        return m


class _Store:
    """Dense bucket counts ``counts[i - offset]``, kept trimmed (no zeros at either end)."""

    __slots__ = ("offset", "counts")

    def __init__(self, offset: int = 0, counts: np.ndarray | None = None):
        self.offset = offset
        self.counts = np.zeros(0, np.int64) if counts is None else counts

    def add(self, offset: int, counts: np.ndarray) -> None:
        nz = np.flatnonzero(counts)
        if not nz.size:
            return
        offset, counts = offset + int(nz[0]), counts[nz[0] : nz[-1] + 1]
        if not self.counts.size:
            self.offset, self.counts = offset, counts.astype(np.int64, copy=True)
            return
        lo = min(self.offset, offset)
        hi = max(self.offset + self.counts.size, offset + counts.size)
        if lo != self.offset or hi != self.offset + self.counts.size:
            grown = np.zeros(hi - lo, np.int64)
            grown[self.offset - lo : self.offset - lo + self.counts.size] = self.counts
            self.offset, self.counts = lo, grown
        self.counts[offset - lo : offset - lo + counts.size] += counts

    def copy(self) -> _Store:
        return _Store(self.offset, self.counts.copy())

    def total(self) -> int:
        return int(self.counts.sum())

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Store)
            and self.offset == other.offset
            and np.array_equal(self.counts, other.counts)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "counts": self.counts.tolist()}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> _Store:
        if not isinstance(d, Mapping) or set(d) != {"offset", "counts"}:
            raise bad_dict(where, "an object with 'offset' and 'counts'")
        counts = np.asarray(d["counts"], dtype=np.int64).ravel()
        if counts.size and counts.min() < 0:
            raise bad_dict(where, "non-negative counts")
        store = cls()
        store.add(int(d["offset"]), counts)
        return store



class QuantileBuckets:
    """The DDSketch part of a numeric sketch: bucket counts of the finite values.

    Args:
        alpha: the relative accuracy (checked by the caller).

    Reading quantiles and the CDF needs the exact count, minimum and maximum, which the
    owning :class:`~raymlops.sketches.numeric.NumericSketch` keeps; they are passed in.
    """

    __slots__ = ("alpha", "zero", "_map", "_pos", "_neg")

    def __init__(self, alpha: float):
        self.alpha = alpha
        self.zero = 0
        self._map = _mapping(alpha)
        self._pos, self._neg = _Store(), _Store()

    # -- pickling: the edge table is per process, look it up again on load
    def __getstate__(self) -> tuple[float, int, _Store, _Store]:
        return self.alpha, self.zero, self._pos, self._neg

    def __setstate__(self, state: tuple[float, int, _Store, _Store]) -> None:
        self.alpha, self.zero, self._pos, self._neg = state
        self._map = _mapping(self.alpha)

    @property
    def min_indexable(self) -> float:
        return self._map.min_indexable

    def add(self, x: np.ndarray) -> None:
        """Count a non-empty array of finite values into their buckets."""
        ax = np.abs(x)
        i = self._map.index(ax)
        zero = ax <= self._map.min_indexable
        n_zero = int(np.count_nonzero(zero))
        self.zero += n_zero
        if n_zero == x.size:
            return
        hi = int(i.max())
        if n_zero:
            np.copyto(i, hi, where=zero)  # keep the zero bucket out of the index range
        lo = int(i.min())
        width = hi - lo + 1
        key = i - lo
        neg = x < 0
        np.add(key, width, out=key, where=neg)
        if n_zero:
            np.copyto(key, 2 * width, where=zero)
        counts = np.bincount(key, minlength=2 * width + 1)
        self._pos.add(lo, counts[:width])
        self._neg.add(lo, counts[width : 2 * width])

    def merge_inplace(self, other: QuantileBuckets) -> None:
        self.zero += other.zero
        self._pos.add(other._pos.offset, other._pos.counts)
        self._neg.add(other._neg.offset, other._neg.counts)

    def copy(self) -> QuantileBuckets:
        new = QuantileBuckets.__new__(QuantileBuckets)
        new.alpha, new.zero, new._map = self.alpha, self.zero, self._map
        new._pos, new._neg = self._pos.copy(), self._neg.copy()
        return new

    def total(self) -> int:
        return self.zero + self._pos.total() + self._neg.total()

    def buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every bucket from the most negative to the most positive: lower, upper, estimate, count.

        Empty buckets inside a store's range are included (count 0).
        """
        parts_lo, parts_hi, parts_rep, parts_c = [], [], [], []
        grow = 1.0 + self.alpha
        stores = [s for s in (self._neg, self._pos) if s.counts.size]
        if stores:
            lo = min(s.offset for s in stores) - 1
            hi = max(s.offset + s.counts.size - 1 for s in stores)
            t, t0 = self._map.table(lo, hi)
        if self._neg.counts.size:
            k = np.arange(self._neg.offset, self._neg.offset + self._neg.counts.size)[::-1] - t0
            with np.errstate(over="ignore"):
                rep = np.minimum(t[k - 1] * grow, t[k])
            parts_lo.append(-t[k])
            parts_hi.append(-t[k - 1])
            parts_rep.append(-rep)
            parts_c.append(self._neg.counts[::-1])
        if self.zero:
            mi = self._map.min_indexable
            parts_lo.append(np.array([-mi]))
            parts_hi.append(np.array([mi]))
            parts_rep.append(np.zeros(1))
            parts_c.append(np.array([self.zero], np.int64))
        if self._pos.counts.size:
            k = np.arange(self._pos.offset, self._pos.offset + self._pos.counts.size) - t0
            with np.errstate(over="ignore"):
                rep = np.minimum(t[k - 1] * grow, t[k])
            parts_lo.append(t[k - 1])
            parts_hi.append(t[k])
            parts_rep.append(rep)
            parts_c.append(self._pos.counts)
        if not parts_c:
            empty = np.zeros(0)
            return empty, empty, empty, np.zeros(0, np.int64)
        return (
            np.concatenate(parts_lo),
            np.concatenate(parts_hi),
            np.concatenate(parts_rep),
            np.concatenate(parts_c),
        )

    def bins(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The occupied buckets in increasing order, as (lower, upper, count) arrays."""
        lo, hi, _, c = self.buckets()
        keep = c > 0
        return lo[keep], hi[keep], c[keep]

    def quantiles(self, q: np.ndarray, count: int, vmin: float, vmax: float) -> np.ndarray:
        """Estimates of the values of rank ``floor(q * (count - 1))``, clipped to ``[vmin, vmax]``."""
        _, _, rep, c = self.buckets()
        rank = np.floor(q.reshape(-1) * (count - 1))
        b = np.searchsorted(np.cumsum(c), rank, side="right")
        est = np.clip(rep[b], vmin, vmax)
        est[rank == 0] = vmin  # the extreme ranks are known exactly
        est[rank == count - 1] = vmax
        return est.reshape(q.shape)

    def cdf(self, xs: np.ndarray, count: int, vmin: float, vmax: float) -> np.ndarray:
        """Fraction of values ``<= x``, interpolated inside the bucket holding ``x``."""
        lo, hi, c = self.bins()
        lo = np.clip(lo, vmin, vmax)
        hi = np.clip(hi, vmin, vmax)
        cum = np.concatenate([[0], np.cumsum(c)])
        j = np.searchsorted(hi, xs, side="right")  # buckets entirely <= x
        inside = np.minimum(j, c.size - 1)
        width = hi[inside] - lo[inside]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(width > 0, (xs - lo[inside]) / width, 0.0)
        frac = np.where(j < c.size, np.clip(frac, 0.0, 1.0), 0.0)
        out = (cum[j] + frac * c[inside]) / count
        return np.where(np.isnan(xs), np.nan, out)

    def to_dict(self) -> dict[str, Any]:
        """The ``zero``, ``positive`` and ``negative`` entries of a numeric sketch's dict."""
        return {"zero": self.zero, "positive": self._pos.to_dict(), "negative": self._neg.to_dict()}

    @classmethod
    def from_dict(cls, alpha: float, d: Mapping[str, Any]) -> QuantileBuckets:
        """Rebuild from the entries :meth:`to_dict` wrote, checking the offsets."""
        qb = cls(alpha)
        zero = d["zero"]
        if not isinstance(zero, int) or isinstance(zero, bool) or zero < 0:
            raise bad_dict("zero", "a non-negative integer")
        qb.zero = zero
        qb._pos = _Store.from_dict(d["positive"], "positive")
        qb._neg = _Store.from_dict(d["negative"], "negative")
        for store in (qb._pos, qb._neg):
            last = store.offset + store.counts.size - 1
            if store.counts.size and not qb._map.k0 < store.offset <= last <= qb._map.k_max:
                raise bad_dict("bucket offsets", f"between {qb._map.k0 + 1} and {qb._map.k_max}")
        return qb

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, QuantileBuckets)
            and (self.alpha, self.zero) == (other.alpha, other.zero)
            and self._pos == other._pos
            and self._neg == other._neg
        )

    __hash__ = None  # type: ignore[assignment]
