"""The one statistics format: mergeable sketches of numeric and categorical columns.

A sketch summarises one column. The data profile produces one per column, every serving
replica produces one per column and batch, and a monitor merges them; drift statistics
compare two sketches. Merging is addition, so the monitor's view of N replicas equals
one process that saw all rows (DESIGN.md, principle 3). Everything here is plain numpy:
no Ray, and pandas/pyarrow are imported only when their objects are passed in.

:class:`NumericSketch` keeps, for the finite values of a column:

* exact counts: ``count`` (finite values), ``nulls``, ``nan``, ``posinf``, ``neginf``,
  and exact ``min`` / ``max``;
* moments as count, mean and population standard deviation (ddof=0), merged with Chan
  et al.'s pairwise formula (the M2 form, ``M2 = count * std**2``) evaluated on
  power-of-two-scaled operands: it stays accurate when the mean is large against the
  spread, and finite for any finite data (a stored M2 or sum of squares would overflow
  past about 1e154). ``sum = count * mean``, ``sum_sq = M2 + count * mean**2`` and
  ``m2`` derive from them (and may overflow to inf, being beyond float64);
* a DDSketch (Masson, Rim and Lee, VLDB 2019) with relative accuracy ``a``;
* optionally, exact counts on fixed histogram edges given at construction.

DDSketch buckets. With ``gamma = (1 + a) / (1 - a)``, positive bucket ``i`` holds the
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

Guarantees (``n = count``, ``F`` the empirical CDF of the finite values):

* Rank convention: ``quantile(q)`` estimates the value of 0-based rank
  ``floor(q * (n - 1))`` in sorted order (DDSketch's convention; numpy's
  ``quantile(..., method="lower")``). The estimate ``v`` satisfies
  ``|v - x| <= a * |x|`` for that value ``x`` when ``|x| > min_indexable``, and
  ``|v - x| <= min_indexable`` otherwise. (The bound is exact in real arithmetic on the
  float64 edges; the returned float can exceed it by one rounding, about ``2e-16 |x|``.)
  Estimates are clipped to ``[min, max]`` and ranks ``0`` and ``n - 1`` return the exact
  ``min`` and ``max``, so ``q = 0``, ``q = 1`` and a constant column are exact.
* ``bins()`` gives the buckets as ``(lower, upper, count)``; a bucket spans a relative
  width ``gamma - 1 = 2a / (1 - a)``. ``cdf(x)`` counts whole buckets below ``x`` and
  interpolates linearly inside the one bucket containing ``x`` (its span clipped to
  ``[min, max]``), so ``|cdf(x) - F(x)| <= c(x) / n`` where ``c(x)`` is the count of that
  bucket (0, i.e. exact, when ``x`` is in no occupied bucket). A KS distance from two
  sketches is therefore off by at most the largest single-bucket mass of each.
* Moving every value to its bucket's representative (the quantile estimate) moves it by
  at most ``a |x|`` (or ``min_indexable``), so the Wasserstein-1 distance between the
  bucket distribution and the data is at most ``a * mean(|x|) + min_indexable``. PSI and
  Jensen-Shannon on the shared buckets (or on the fixed edges) are computed from exact
  counts.

:class:`CategoricalSketch` keeps exact counts per category (``str`` of the value), nulls,
and, past ``max_categories`` distinct values, an ``other`` bucket.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.lognormal(size=30_000)
    >>> parts = [NumericSketch() for _ in range(3)]
    >>> for part, rows in zip(parts, np.array_split(x, 3)):
    ...     part.update(rows)
    >>> whole = NumericSketch()
    >>> whole.update(x)
    >>> parts[0].merge(parts[1]).merge(parts[2]) == whole
    True
    >>> true = np.quantile(x, 0.99, method="lower")
    >>> bool(abs(whole.quantile(0.99) - true) <= 0.01 * true)
    True
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Context, Decimal
from typing import Any, NamedTuple

import numpy as np

from raymlops.errors import InvalidInputError

__all__ = [
    "NumericSketch",
    "CategoricalSketch",
    "Histogram",
    "Sketch",
    "sketch_for",
    "sketch_from_dict",
    "MIN_INDEXABLE",
    "FORMAT_VERSION",
]

MIN_INDEXABLE = 1e-9
"""Values with ``|x|`` at or below the largest bucket edge not above this go to the zero bucket."""

FORMAT_VERSION = 1
"""Version of the ``to_dict`` layout; ``from_dict`` refuses other versions."""

_MIN_ACCURACY, _MAX_ACCURACY = 1e-4, 0.5
_CHUNK = 2048  # edges are computed (and cached) in chunks of this many indices
_DBL_MAX = float(np.finfo(np.float64).max)
_SCALE_ABOVE = 2.0**400  # moments of data beyond 2**400 (or below 2**-400) are rescaled
_REL_TOL = 1e-9  # __eq__ tolerance on mean and std, relative ...
_ABS_TOL = 1e-12  # ... plus this fraction of max(|min|, |max|)


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


# --------------------------------------------------------------------------- edges


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
            raise _bad_dict(where, "an object with 'offset' and 'counts'")
        counts = np.asarray(d["counts"], dtype=np.int64).ravel()
        if counts.size and counts.min() < 0:
            raise _bad_dict(where, "non-negative counts")
        store = cls()
        store.add(int(d["offset"]), counts)
        return store


# --------------------------------------------------------------------------- helpers


def _bad_dict(where: str, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"invalid sketch dict: {where} must be {expected}; pass the output of to_dict() unchanged"
    )


def _json_float(x: float) -> float | str:
    """A float for JSON: non-finite values become the strings 'inf', '-inf', 'nan'."""
    return float(x) if math.isfinite(x) else repr(float(x))


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def _close(a: float, b: float, scale: float) -> bool:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b)) + _ABS_TOL * scale


def _moments(x: np.ndarray, big: float) -> tuple[float, float]:
    """Mean and population std of a non-empty finite array whose largest magnitude is ``big``."""
    e = 0
    if big > _SCALE_ABOVE or 0 < big < 1 / _SCALE_ABOVE:
        e = math.frexp(big)[1]  # scaling by a power of two is exact; the squares stay in range
        x = np.ldexp(x, -e)
    mean = float(x.mean())
    d = x - mean
    np.square(d, out=d)
    std = math.sqrt(float(d.sum()) / x.size)
    if e:
        with np.errstate(over="ignore"):
            mean, std = float(np.ldexp(mean, e)), float(np.ldexp(std, e))
    return mean, std


def _combine(n_a: int, mean_a: float, std_a: float, n_b: int, mean_b: float, std_b: float) -> tuple[float, float]:
    """Chan et al.'s pairwise update of (mean, std) for two disjoint parts of sizes n_a, n_b.

    ``var = w_a var_a + w_b var_b + w_a w_b (mean_b - mean_a)**2`` with ``w = n_part / n``,
    computed on operands scaled by a power of two so that nothing overflows or underflows.
    """
    if n_b == 0:
        return mean_a, std_a
    if n_a == 0:
        return mean_b, std_b
    n = n_a + n_b
    w_a, w_b = n_a / n, n_b / n
    mean = mean_a * w_a + mean_b * w_b  # a convex combination cannot overflow
    half_delta = mean_b * 0.5 - mean_a * 0.5
    top = max(std_a, std_b, abs(half_delta))
    if top == 0:
        return mean, 0.0
    e = math.frexp(top)[1]
    sa, sb, d = math.ldexp(std_a, -e), math.ldexp(std_b, -e), math.ldexp(half_delta, 1 - e)
    root = math.sqrt(w_a * sa * sa + w_b * sb * sb + w_a * w_b * d * d)
    try:
        return mean, math.ldexp(root, e)
    except OverflowError:
        return mean, math.inf


def _numeric_array(values: Any) -> tuple[np.ndarray, int]:
    """The values as a flat contiguous float64 array (nulls removed) and the null count."""
    mod = _module(values)
    if mod.startswith("pyarrow"):
        return _arrow_numeric(values)
    if mod.startswith("pandas"):
        dtype = values.dtype
        if type(dtype).__name__ == "ArrowDtype":
            import pyarrow as pa

            return _arrow_numeric(pa.array(values))
        if not isinstance(dtype, np.dtype):  # masked extension arrays (Int64, Float64, boolean)
            if getattr(dtype, "kind", "O") not in "biuf":
                raise _not_numeric(dtype)
            missing = np.asarray(values.isna(), dtype=bool)
            kept = values[~missing] if missing.any() else values
            return np.ascontiguousarray(kept.to_numpy(dtype=np.float64)), int(missing.sum())
        values = values.to_numpy()
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "biuf":
        return np.ascontiguousarray(arr, dtype=np.float64).ravel(), 0
    if kind != "O":
        raise _not_numeric(arr.dtype)
    import pandas as pd

    flat = arr.ravel()
    missing = np.asarray(pd.isna(flat), dtype=bool)
    n_missing = int(missing.sum())
    # Among missing markers only a float NaN is a NaN; None, pd.NA and NaT are nulls.
    n_nan = sum(1 for v in flat[missing] if isinstance(v, float)) if n_missing else 0
    try:
        x = flat[~missing].astype(np.float64) if n_missing else flat.astype(np.float64)
    except (TypeError, ValueError):
        raise _not_numeric(arr.dtype, "an object array with non-numeric values") from None
    if n_nan:
        x = np.concatenate([x, np.full(n_nan, np.nan)])
    return x, n_missing - n_nan


def _arrow_numeric(arr: Any) -> tuple[np.ndarray, int]:
    import pyarrow as pa

    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    t = arr.type
    if not _arrow_type_is_numeric(t):
        raise _not_numeric(t)
    nulls = arr.null_count
    if nulls:
        arr = arr.drop_null()
    if not pa.types.is_float64(t):
        arr = arr.cast(pa.float64(), safe=False)
    return np.ascontiguousarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64), nulls


def _arrow_type_is_numeric(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t))


def _not_numeric(dtype: Any, what: str | None = None) -> InvalidInputError:
    return InvalidInputError(
        f"NumericSketch.update needs numeric or boolean values, got {what or f'dtype {dtype}'}; "
        "sketch this column with CategoricalSketch (sketch_for picks the right sketch for a dtype)"
    )


# --------------------------------------------------------------------------- numeric


class NumericSketch:
    """A mergeable summary of a numeric column: counts, min/max, moments, DDSketch, histogram.

    Args:
        relative_accuracy: the DDSketch relative accuracy ``a`` (between 1e-4 and 0.5):
            every quantile estimate is within ``a * |true|`` of the true value.
        edges: optional strictly increasing finite histogram edges; exact counts are kept
            per bin (see :class:`Histogram` for the bin convention).

    Raises:
        InvalidInputError: on an accuracy out of range or invalid edges.

    Only finite values enter the moments, the DDSketch and the histogram; nulls, NaN and
    infinities are counted apart. Integers are converted to float64 (exact up to 2**53).
    Not thread-safe: give each thread its own sketch and merge.

    Example:
        >>> s = NumericSketch(edges=[0, 1, 2])
        >>> s.update(np.array([0.5, 1.0, 2.0, 7.0, -1.0, np.nan, np.inf]))
        >>> s.count, s.nan, s.posinf, s.min, s.max, s.mean
        (5, 1, 1, -1.0, 7.0, 1.9)
        >>> h = s.histogram()
        >>> h.counts.tolist(), h.underflow, h.overflow
        ([1, 2], 1, 1)
        >>> s.quantile(0.5), round(s.quantile(0.75), 4)  # true values 1.0 and 2.0, within 1%
        (0.99, 1.9937)
    """

    def __init__(self, *, relative_accuracy: float = 0.01, edges: Sequence[float] | None = None):
        try:
            alpha = float(relative_accuracy)
        except (TypeError, ValueError):
            alpha = math.nan
        if not _MIN_ACCURACY <= alpha <= _MAX_ACCURACY:
            raise InvalidInputError(
                f"relative_accuracy must be between {_MIN_ACCURACY} and {_MAX_ACCURACY}, got "
                f"{relative_accuracy!r}; 0.01 (1%) suits profiles and drift"
            )
        self._alpha = alpha
        self._map = _mapping(alpha)
        self._edges: np.ndarray | None = None
        self._hist: np.ndarray | None = None  # [underflow, bin 0, ..., bin m-2, overflow]
        if edges is not None:
            e = np.array(edges, dtype=np.float64).ravel()
            if e.size < 2 or not np.isfinite(e).all() or not (np.diff(e) > 0).all():
                raise InvalidInputError(
                    f"histogram edges must be at least two strictly increasing finite numbers, "
                    f"got {list(edges)!r}"
                )
            self._edges = e
            self._hist = np.zeros(e.size + 1, np.int64)
        self._count = self._nulls = self._nan = self._posinf = self._neginf = self._zero = 0
        self._min, self._max = math.inf, -math.inf
        self._mean = self._std = 0.0
        self._pos, self._neg = _Store(), _Store()

    # -- pickling: the edge table is per process, look it up again on load
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_map"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._map = _mapping(self._alpha)

    # -- updating
    def update(self, values: Any) -> None:
        """Add a batch of values.

        Args:
            values: a numpy array (float, int or bool, any shape; flattened), a pandas
                Series or Index, a pyarrow Array or ChunkedArray, or a sequence of numbers.
                Nulls (None, pd.NA, Arrow nulls, missing entries of nullable pandas
                dtypes) count as ``nulls``; a float NaN counts as ``nan`` (so a NaN in a
                plain float64 Series is ``nan``); +/-inf count as ``posinf``/``neginf``.

        Raises:
            InvalidInputError: if the values are not numeric.
        """
        x, nulls = _numeric_array(values)
        self._nulls += nulls
        if not x.size:
            return
        finite = np.isfinite(x)
        if not finite.all():
            n_nan = int(np.count_nonzero(np.isnan(x)))
            n_pos = int(np.count_nonzero(x == math.inf))
            self._nan += n_nan
            self._posinf += n_pos
            self._neginf += x.size - int(np.count_nonzero(finite)) - n_nan - n_pos
            x = x[finite]
            if not x.size:
                return
        n = x.size
        lo_x, hi_x = float(x.min()), float(x.max())
        mean, std = _moments(x, max(-lo_x, hi_x))
        self._mean, self._std = _combine(self._count, self._mean, self._std, n, mean, std)
        self._count += n
        self._min, self._max = min(self._min, lo_x), max(self._max, hi_x)
        self._add_buckets(x)
        if self._edges is not None:
            self._add_histogram(x)

    def _add_buckets(self, x: np.ndarray) -> None:
        ax = np.abs(x)
        i = self._map.index(ax)
        zero = ax <= self._map.min_indexable
        n_zero = int(np.count_nonzero(zero))
        self._zero += n_zero
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

    def _bin_index(self, x: np.ndarray) -> np.ndarray:
        """``np.searchsorted(edges, x, side="right")``; arithmetic for equal-width edges.

        For equal widths the index is computed, then corrected by one comparison with
        the true edges on each side, so it equals ``searchsorted`` exactly (a value
        within rounding of an edge lands where ``searchsorted`` puts it).
        """
        e = self._edges
        assert e is not None
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

    def _add_histogram(self, x: np.ndarray) -> None:
        e, h = self._edges, self._hist
        assert e is not None and h is not None
        counts = np.bincount(self._bin_index(x), minlength=e.size + 1)
        at_last = int(np.count_nonzero(x == e[-1]))  # the last bin is closed on the right
        counts[-2] += at_last
        counts[-1] -= at_last
        h += counts

    # -- merging
    def _check_mergeable(self, other: Any) -> None:
        if not isinstance(other, NumericSketch):
            raise InvalidInputError(
                f"cannot merge a NumericSketch with {type(other).__name__}; merge sketches of the same kind"
            )
        if other._alpha != self._alpha:
            raise InvalidInputError(
                f"cannot merge sketches with different relative_accuracy ({self._alpha!r} vs "
                f"{other._alpha!r}); build every sketch of a column with the same relative_accuracy"
            )
        same = (self._edges is None and other._edges is None) or (
            self._edges is not None and other._edges is not None and np.array_equal(self._edges, other._edges)
        )
        if not same:
            mine = None if self._edges is None else self._edges.tolist()
            theirs = None if other._edges is None else other._edges.tolist()
            raise InvalidInputError(
                f"cannot merge sketches with different histogram edges ({mine!r} vs {theirs!r}); "
                "build every sketch of a column with the same edges"
            )

    def merge_inplace(self, other: NumericSketch) -> NumericSketch:
        """Add ``other`` into this sketch and return this sketch.

        Raises:
            InvalidInputError: if ``other`` has a different relative accuracy or edges.
        """
        self._check_mergeable(other)
        self._mean, self._std = _combine(self._count, self._mean, self._std, other._count, other._mean, other._std)
        self._count += other._count
        self._nulls += other._nulls
        self._nan += other._nan
        self._posinf += other._posinf
        self._neginf += other._neginf
        self._zero += other._zero
        self._min, self._max = min(self._min, other._min), max(self._max, other._max)
        self._pos.add(other._pos.offset, other._pos.counts)
        self._neg.add(other._neg.offset, other._neg.counts)
        if self._hist is not None:
            self._hist += other._hist
        return self

    def merge(self, other: NumericSketch) -> NumericSketch:
        """A new sketch of the rows of both sketches (bucket and histogram counts are exact).

        Raises:
            InvalidInputError: if ``other`` has a different relative accuracy or edges.
        """
        self._check_mergeable(other)
        return self.copy().merge_inplace(other)

    def __iadd__(self, other: NumericSketch) -> NumericSketch:
        return self.merge_inplace(other)

    def copy(self) -> NumericSketch:
        """An independent copy."""
        new = NumericSketch.__new__(NumericSketch)
        new.__dict__.update(self.__dict__)
        new._pos, new._neg = self._pos.copy(), self._neg.copy()
        if self._hist is not None:
            new._hist = self._hist.copy()
        return new

    # -- exact statistics
    @property
    def relative_accuracy(self) -> float:
        return self._alpha

    @property
    def min_indexable(self) -> float:
        """Values with ``|x|`` at or below this go to the zero bucket (largest edge <= 1e-9)."""
        return self._map.min_indexable

    @property
    def edges(self) -> np.ndarray | None:
        """A copy of the histogram edges, or None."""
        return None if self._edges is None else self._edges.copy()

    @property
    def count(self) -> int:
        """Number of finite values."""
        return self._count

    @property
    def nulls(self) -> int:
        return self._nulls

    @property
    def nan(self) -> int:
        return self._nan

    @property
    def posinf(self) -> int:
        return self._posinf

    @property
    def neginf(self) -> int:
        return self._neginf

    @property
    def rows(self) -> int:
        """Every value seen: ``count + nulls + nan + posinf + neginf``."""
        return self._count + self._nulls + self._nan + self._posinf + self._neginf

    @property
    def zero_count(self) -> int:
        """Finite values in the zero bucket (``|x| <= min_indexable``)."""
        return self._zero

    @property
    def min(self) -> float:
        """Smallest finite value (NaN when there is none)."""
        return self._min if self._count else math.nan

    @property
    def max(self) -> float:
        """Largest finite value (NaN when there is none)."""
        return self._max if self._count else math.nan

    @property
    def mean(self) -> float:
        """Mean of the finite values (NaN when there is none)."""
        return self._mean if self._count else math.nan

    @property
    def m2(self) -> float:
        """Sum of squared deviations from the mean, derived as ``count * std**2``."""
        return self._count * self._std * self._std

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0) of the finite values (NaN when there is none)."""
        return self._std if self._count else math.nan

    @property
    def sum(self) -> float:
        """Sum of the finite values, derived as ``count * mean``."""
        return self._count * self._mean

    @property
    def sum_sq(self) -> float:
        """Sum of squares of the finite values, derived as ``M2 + count * mean**2``."""
        return self._count * (self._std * self._std + self._mean * self._mean)

    def histogram(self) -> Histogram:
        """The fixed-edge histogram.

        Raises:
            InvalidInputError: if the sketch was built without ``edges``.
        """
        if self._edges is None or self._hist is None:
            raise InvalidInputError(
                "this sketch has no fixed-edge histogram; build it with NumericSketch(edges=[...])"
            )
        h = self._hist
        return Histogram(self._edges.copy(), h[1:-1].copy(), int(h[0]), int(h[-1]))

    # -- the quantile sketch
    def _buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every bucket from the most negative to the most positive: lower, upper, estimate, count.

        Empty buckets inside a store's range are included (count 0).
        """
        parts_lo, parts_hi, parts_rep, parts_c = [], [], [], []
        grow = 1.0 + self._alpha
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
        if self._zero:
            mi = self._map.min_indexable
            parts_lo.append(np.array([-mi]))
            parts_hi.append(np.array([mi]))
            parts_rep.append(np.zeros(1))
            parts_c.append(np.array([self._zero], np.int64))
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
        """The occupied DDSketch buckets in increasing order, as (lower, upper, count) arrays.

        Negative buckets are ``[lower, upper)``, the zero bucket ``[-m, m]`` with
        ``m = min_indexable``, positive buckets ``(lower, upper]`` (the lowest positive
        one starts at ``m``, the highest ends at the largest float). Together they
        partition the finite reals, and edges are the same floats for every sketch with
        the same relative accuracy, so two sketches' bins align by their edges.

        Returns:
            Three arrays of equal length: lower edges, upper edges and counts (int64).
        """
        lo, hi, _, c = self._buckets()
        keep = c > 0
        return lo[keep], hi[keep], c[keep]

    def quantiles(self, qs: Sequence[float] | np.ndarray) -> np.ndarray:
        """Estimates of the values of rank ``floor(q * (count - 1))`` (0-based) in sorted order.

        Args:
            qs: quantile levels in ``[0, 1]``.

        Returns:
            An array shaped like ``qs``: one estimate per level, within
            ``relative_accuracy * |true|`` of the true value (within ``min_indexable`` for
            true values in the zero bucket); NaN when the sketch holds no finite value.

        Raises:
            InvalidInputError: if a level is outside ``[0, 1]``.
        """
        q = np.asarray(qs, dtype=np.float64)
        if q.size and not ((q >= 0) & (q <= 1)).all():
            raise InvalidInputError(f"quantile levels must be between 0 and 1, got {np.asarray(qs).tolist()!r}")
        if not self._count:
            return np.full(q.shape, np.nan)
        _, _, rep, c = self._buckets()
        rank = np.floor(q.reshape(-1) * (self._count - 1))
        b = np.searchsorted(np.cumsum(c), rank, side="right")
        est = np.clip(rep[b], self._min, self._max)
        est[rank == 0] = self._min  # the extreme ranks are known exactly
        est[rank == self._count - 1] = self._max
        return est.reshape(q.shape)

    def quantile(self, q: float) -> float:
        """The estimate of one quantile; see :meth:`quantiles`."""
        return float(self.quantiles([q])[0])

    def cdf(self, x: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
        """Estimated fraction of finite values ``<= x``.

        Whole buckets below ``x`` count fully; inside the bucket containing ``x`` the
        count is interpolated linearly over the bucket's span clipped to ``[min, max]``.
        The error is at most that bucket's count divided by ``count`` (none when ``x`` is
        in no occupied bucket, or below ``min``, or at or above ``max``).

        Args:
            x: one point or an array of points.

        Returns:
            A float for a scalar ``x``, else an array of the same shape; NaN when the
            sketch holds no finite value.
        """
        xs = np.asarray(x, dtype=np.float64)
        if not self._count:
            out = np.full(xs.shape, np.nan)
        else:
            lo, hi, c = self.bins()
            lo = np.clip(lo, self._min, self._max)
            hi = np.clip(hi, self._min, self._max)
            cum = np.concatenate([[0], np.cumsum(c)])
            j = np.searchsorted(hi, xs, side="right")  # buckets entirely <= x
            inside = np.minimum(j, c.size - 1)
            width = hi[inside] - lo[inside]
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(width > 0, (xs - lo[inside]) / width, 0.0)
            frac = np.where(j < c.size, np.clip(frac, 0.0, 1.0), 0.0)
            out = (cum[j] + frac * c[inside]) / self._count
            out = np.where(np.isnan(xs), np.nan, out)
        return float(out) if out.ndim == 0 else out

    # -- serialisation and comparison
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (plain ints, floats, lists; no NaN or inf)."""
        h = self._hist
        return {
            "type": "numeric",
            "version": FORMAT_VERSION,
            "relative_accuracy": self._alpha,
            "edges": None if self._edges is None else self._edges.tolist(),
            "count": self._count,
            "nulls": self._nulls,
            "nan": self._nan,
            "posinf": self._posinf,
            "neginf": self._neginf,
            "min": self._min if self._count else None,
            "max": self._max if self._count else None,
            "mean": self._mean,
            "std": _json_float(self._std),
            "zero": self._zero,
            "positive": self._pos.to_dict(),
            "negative": self._neg.to_dict(),
            "histogram": None
            if h is None
            else {"underflow": int(h[0]), "counts": h[1:-1].tolist(), "overflow": int(h[-1])},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NumericSketch:
        """Rebuild a sketch from :meth:`to_dict` output.

        Raises:
            InvalidInputError: if the dict is not a valid numeric sketch.
        """
        keys = {
            "type", "version", "relative_accuracy", "edges", "count", "nulls", "nan", "posinf",
            "neginf", "min", "max", "mean", "std", "zero", "positive", "negative", "histogram",
        }  # fmt: skip
        if not isinstance(d, Mapping) or d.get("type") != "numeric":
            raise _bad_dict("type", "'numeric'")
        if d.get("version") != FORMAT_VERSION:
            raise _bad_dict("version", f"{FORMAT_VERSION} (got {d.get('version')!r})")
        if set(d) != keys:
            raise _bad_dict("the keys", f"exactly {sorted(keys)}")
        try:
            return cls._from_checked_dict(d)
        except (TypeError, ValueError, KeyError) as e:
            raise _bad_dict("every field", f"of the type to_dict() writes ({e})") from None

    @classmethod
    def _from_checked_dict(cls, d: Mapping[str, Any]) -> NumericSketch:
        s = cls(relative_accuracy=d["relative_accuracy"], edges=d["edges"])
        for name in ("count", "nulls", "nan", "posinf", "neginf", "zero"):
            v = d[name]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise _bad_dict(name, "a non-negative integer")
            setattr(s, f"_{name}", v)
        s._pos = _Store.from_dict(d["positive"], "positive")
        s._neg = _Store.from_dict(d["negative"], "negative")
        for store in (s._pos, s._neg):
            last = store.offset + store.counts.size - 1
            if store.counts.size and not s._map.k0 < store.offset <= last <= s._map.k_max:
                raise _bad_dict("bucket offsets", f"between {s._map.k0 + 1} and {s._map.k_max}")
        if s._zero + s._pos.total() + s._neg.total() != s._count:
            raise _bad_dict("the bucket counts", "summing to count")
        if s._count:
            if d["min"] is None or d["max"] is None:
                raise _bad_dict("min and max", "numbers when count > 0")
            s._min, s._max = float(d["min"]), float(d["max"])
        s._mean, s._std = float(d["mean"]), float(d["std"])
        h = d["histogram"]
        if (h is None) != (s._hist is None):
            raise _bad_dict("histogram", "present exactly when edges are")
        if h is not None:
            counts = np.asarray(h["counts"], dtype=np.int64).ravel()
            if counts.size != s._edges.size - 1:  # type: ignore[union-attr]
                raise _bad_dict("histogram.counts", "one count per bin (len(edges) - 1)")
            s._hist = np.concatenate([[int(h["underflow"])], counts, [int(h["overflow"])]]).astype(np.int64)
            if s._hist.min() < 0 or int(s._hist.sum()) != s._count:
                raise _bad_dict("the histogram counts", "non-negative and summing to count")
        return s

    def __eq__(self, other: object) -> bool:
        """Counts, min/max, buckets and histogram exactly equal; mean and std within 1e-9.

        The float tolerance is ``1e-9`` relative plus ``1e-12 * max(|min|, |max|)``
        (rounding differs with the order in which parts were merged).
        """
        if not isinstance(other, NumericSketch):
            return NotImplemented
        exact = (
            self._alpha == other._alpha
            and (self._count, self._nulls, self._nan, self._posinf, self._neginf, self._zero)
            == (other._count, other._nulls, other._nan, other._posinf, other._neginf, other._zero)
            and self._min == other._min
            and self._max == other._max
            and self._pos == other._pos
            and self._neg == other._neg
            and (
                (self._edges is None and other._edges is None)
                or (
                    self._edges is not None
                    and other._edges is not None
                    and np.array_equal(self._edges, other._edges)
                    and np.array_equal(self._hist, other._hist)  # type: ignore[arg-type]
                )
            )
        )
        if not exact or not self._count:
            return exact
        scale = max(abs(self._min), abs(self._max))
        return _close(self._mean, other._mean, scale) and _close(self.std, other.std, scale)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"NumericSketch(count={self._count}, nulls={self._nulls}, nan={self._nan}, "
            f"min={self.min:.6g}, max={self.max:.6g}, mean={self.mean:.6g}, std={self.std:.6g}, "
            f"relative_accuracy={self._alpha})"
        )


# --------------------------------------------------------------------------- categorical


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
    if _module(values).startswith("pyarrow"):
        import pyarrow.compute as pc

        vc = pc.value_counts(values)
        return vc.field("values").to_pylist(), vc.field("counts").to_pylist()
    if isinstance(values, (list, tuple)) or (isinstance(values, np.ndarray) and values.dtype.kind == "O"):
        # Python objects already: Counter hashes them in C, faster than pandas, esp. on small batches
        counted = Counter(values if isinstance(values, (list, tuple)) else values.ravel().tolist())
        return list(counted), list(counted.values())
    import pandas as pd

    if isinstance(values, pd.Series):
        s = values
    elif _module(values).startswith("pandas"):
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
            raise _bad_dict("type", "'categorical'")
        if d.get("version") != FORMAT_VERSION:
            raise _bad_dict("version", f"{FORMAT_VERSION} (got {d.get('version')!r})")
        if set(d) != keys:
            raise _bad_dict("the keys", f"exactly {sorted(keys)}")
        s = cls(max_categories=d["max_categories"])
        for name in ("count", "nulls", "other"):
            v = d[name]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise _bad_dict(name, "a non-negative integer")
            setattr(s, f"_{name}", v)
        counts = d["counts"]
        if not isinstance(counts, Mapping) or not all(
            isinstance(k, str) and type(v) is int and v > 0 for k, v in counts.items()
        ):
            raise _bad_dict("counts", "an object of category -> positive integer")
        s._counts = dict(counts)
        s._truncated = bool(d["truncated"])
        if sum(s._counts.values()) + s._other != s._count or len(s._counts) > s._max:
            raise _bad_dict("counts", "at most max_categories entries summing, with other, to count")
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


# --------------------------------------------------------------------------- choosing

Sketch = NumericSketch | CategoricalSketch
"""Either kind of column sketch."""


def _is_numeric(dtype_or_values: Any) -> bool:
    obj = dtype_or_values
    mod = _module(obj)
    if mod.startswith("pyarrow"):
        import pyarrow as pa

        t = obj if isinstance(obj, pa.DataType) else obj.type
        return _arrow_type_is_numeric(t.value_type if pa.types.is_dictionary(t) else t)
    if isinstance(obj, (str, type, np.dtype)) or mod.startswith("pandas.core.dtypes") or hasattr(obj, "kind"):
        if isinstance(obj, str):
            import pandas as pd

            try:
                obj = pd.api.types.pandas_dtype(obj)
            except TypeError:
                raise InvalidInputError(
                    f"unknown dtype {dtype_or_values!r}; use a numpy, pandas or pyarrow dtype"
                ) from None
        elif isinstance(obj, type):
            obj = np.dtype(obj)
        return getattr(obj, "kind", "O") in "biuf"
    dtype = getattr(obj, "dtype", None)
    if dtype is None or getattr(dtype, "kind", "O") == "O":
        import pandas as pd

        inferred = pd.api.types.infer_dtype(obj if dtype is not None else list(obj), skipna=True)
        return inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal")
    return _is_numeric(dtype)


def sketch_for(
    dtype_or_values: Any,
    *,
    relative_accuracy: float = 0.01,
    edges: Sequence[float] | None = None,
    max_categories: int = 10_000,
) -> Sketch:
    """An empty sketch of the right kind for a column.

    Numeric and boolean dtypes (numpy, pandas nullable, pyarrow integer/floating/boolean/
    decimal) get a :class:`NumericSketch`; everything else (strings, categoricals,
    datetimes, objects) a :class:`CategoricalSketch`. Object values are inspected with
    pandas' type inference (numbers with missing values count as numeric). The options
    of the other kind are ignored. The sketch is not updated: call ``update(values)``.

    Args:
        dtype_or_values: a dtype (numpy, pandas, pyarrow, a dtype name or a Python type)
            or the column's values.
        relative_accuracy: passed to :class:`NumericSketch`.
        edges: passed to :class:`NumericSketch`.
        max_categories: passed to :class:`CategoricalSketch`.

    Returns:
        A new, empty sketch.

    Example:
        >>> type(sketch_for(np.array([1.5, 2.0]))).__name__, type(sketch_for("str")).__name__
        ('NumericSketch', 'CategoricalSketch')
    """
    if _is_numeric(dtype_or_values):
        return NumericSketch(relative_accuracy=relative_accuracy, edges=edges)
    return CategoricalSketch(max_categories=max_categories)


def sketch_from_dict(d: Mapping[str, Any]) -> Sketch:
    """Rebuild either kind of sketch from its ``to_dict`` output (by its ``type``).

    Raises:
        InvalidInputError: if the dict is not a valid sketch.
    """
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind == "numeric":
        return NumericSketch.from_dict(d)
    if kind == "categorical":
        return CategoricalSketch.from_dict(d)
    raise _bad_dict("type", "'numeric' or 'categorical'")


if __name__ == "__main__":  # a speed sanity check, not a benchmark (figures live in benchmarks/)
    import time

    data = np.random.default_rng(0).normal(size=1_000_000)
    for hist_edges in (None, np.linspace(-4, 4, 21)):
        times = []
        for _ in range(7):
            sketch = NumericSketch(edges=hist_edges)
            start = time.perf_counter()
            sketch.update(data)
            times.append(time.perf_counter() - start)
        label = "with 20 fixed bins" if hist_edges is not None else "DDSketch only"
        print(f"update of 1e6 float64, {label}: best {min(times) * 1e3:.1f} ms, first {times[0] * 1e3:.1f} ms")
