"""The numeric column sketch: exact counts, extremes and moments, a DDSketch, a histogram.

Merging is addition, so the monitor's view of N replicas equals one process that saw all
rows (DESIGN.md, principle 3).

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

DDSketch bucket edges are fixed bit for bit on every host (:mod:`raymlops.sketches._ddsketch`),
so two sketches with the same ``a`` merge by adding count arrays: ``merge(A, B)`` has
exactly the bucket counts of a sketch of ``A + B``.

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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import numeric_array
from raymlops.sketches._ddsketch import MIN_INDEXABLE, QuantileBuckets, bad_dict
from raymlops.sketches._edges import EdgeCounts, Histogram
from raymlops.sketches._moments import combine_moments, moments

__all__ = ["FORMAT_VERSION", "MIN_INDEXABLE", "Histogram", "NumericSketch"]

FORMAT_VERSION = 1
"""Version of the ``to_dict`` layout; ``from_dict`` refuses other versions."""

_MIN_ACCURACY, _MAX_ACCURACY = 1e-4, 0.5
_REL_TOL = 1e-9  # __eq__ tolerance on mean and std, relative ...
_ABS_TOL = 1e-12  # ... plus this fraction of max(|min|, |max|)


def _json_float(x: float) -> float | str:
    """A float for JSON: non-finite values become the strings 'inf', '-inf', 'nan'."""
    return float(x) if math.isfinite(x) else repr(float(x))



def _close(a: float, b: float, scale: float) -> bool:
    """Equal up to merge-order rounding: relative, at the data's scale, and a few units in
    the last place (only subnormal values, below 2.2e-308, need that: they have fewer bits).

    Example:
        >>> _close(1.711595204e-315, 1.7115952e-315, 2.2e-313), _close(1.0, 1.0 + 1e-6, 1.0)
        (True, False)
    """
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    big = max(abs(a), abs(b))
    return abs(a - b) <= _REL_TOL * big + _ABS_TOL * scale + 4 * math.ulp(big)


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
        self._h = None if edges is None else EdgeCounts(edges)
        self._count = self._nulls = self._nan = self._posinf = self._neginf = 0
        self._min, self._max = math.inf, -math.inf
        self._mean = self._std = 0.0
        self._q = QuantileBuckets(alpha)

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
        x, nulls = numeric_array(values)
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
        mean, std = moments(x, max(-lo_x, hi_x))
        self._mean, self._std = combine_moments(self._count, self._mean, self._std, n, mean, std)
        self._count += n
        self._min, self._max = min(self._min, lo_x), max(self._max, hi_x)
        self._q.add(x)
        if self._h is not None:
            self._h.add(x)

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
        same = (self._h is None and other._h is None) or (self._h is not None and self._h.same_edges(other._h))
        if not same:
            mine = None if self._h is None else self._h.edges.tolist()
            theirs = None if other._h is None else other._h.edges.tolist()
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
        self._mean, self._std = combine_moments(self._count, self._mean, self._std, other._count, other._mean, other._std)
        self._count += other._count
        self._nulls += other._nulls
        self._nan += other._nan
        self._posinf += other._posinf
        self._neginf += other._neginf
        self._min, self._max = min(self._min, other._min), max(self._max, other._max)
        self._q.merge_inplace(other._q)
        if self._h is not None:
            self._h.merge_inplace(other._h)  # type: ignore[arg-type]
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
        new._q = self._q.copy()
        if self._h is not None:
            new._h = self._h.copy()
        return new

    # -- exact statistics
    @property
    def relative_accuracy(self) -> float:
        return self._alpha

    @property
    def min_indexable(self) -> float:
        """Values with ``|x|`` at or below this go to the zero bucket (largest edge <= 1e-9)."""
        return self._q.min_indexable

    @property
    def edges(self) -> np.ndarray | None:
        """A copy of the histogram edges, or None."""
        return None if self._h is None else self._h.edges.copy()

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
        return self._q.zero

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
        if self._h is None:
            raise InvalidInputError(
                "this sketch has no fixed-edge histogram; build it with NumericSketch(edges=[...])"
            )
        return self._h.histogram()

    # -- the quantile sketch
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
        return self._q.bins()

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
        return self._q.quantiles(q, self._count, self._min, self._max)

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
            out = self._q.cdf(xs, self._count, self._min, self._max)
        return float(out) if out.ndim == 0 else out

    # -- serialisation and comparison
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (plain ints, floats, lists; no NaN or inf)."""
        return {
            "type": "numeric",
            "version": FORMAT_VERSION,
            "relative_accuracy": self._alpha,
            "edges": None if self._h is None else self._h.edges.tolist(),
            "count": self._count,
            "nulls": self._nulls,
            "nan": self._nan,
            "posinf": self._posinf,
            "neginf": self._neginf,
            "min": self._min if self._count else None,
            "max": self._max if self._count else None,
            "mean": self._mean,
            "std": _json_float(self._std),
            **self._q.to_dict(),
            "histogram": None if self._h is None else self._h.to_dict(),
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
            raise bad_dict("type", "'numeric'")
        if d.get("version") != FORMAT_VERSION:
            raise bad_dict("version", f"{FORMAT_VERSION} (got {d.get('version')!r})")
        if set(d) != keys:
            raise bad_dict("the keys", f"exactly {sorted(keys)}")
        try:
            return cls._from_checked_dict(d)
        except (TypeError, ValueError, KeyError) as e:
            raise bad_dict("every field", f"of the type to_dict() writes ({e})") from None

    @classmethod
    def _from_checked_dict(cls, d: Mapping[str, Any]) -> NumericSketch:
        s = cls(relative_accuracy=d["relative_accuracy"], edges=d["edges"])
        for name in ("count", "nulls", "nan", "posinf", "neginf"):
            v = d[name]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise bad_dict(name, "a non-negative integer")
            setattr(s, f"_{name}", v)
        s._q = QuantileBuckets.from_dict(s._alpha, d)
        if s._q.total() != s._count:
            raise bad_dict("the bucket counts", "summing to count")
        if s._count:
            if d["min"] is None or d["max"] is None:
                raise bad_dict("min and max", "numbers when count > 0")
            s._min, s._max = float(d["min"]), float(d["max"])
        s._mean, s._std = float(d["mean"]), float(d["std"])
        h = d["histogram"]
        if (h is None) != (s._h is None):
            raise bad_dict("histogram", "present exactly when edges are")
        if h is not None:
            s._h = EdgeCounts.from_dict(d["edges"], h, s._count)
        return s

    def __eq__(self, other: object) -> bool:
        """Counts, min/max, buckets and histogram exactly equal; mean and std within 1e-9.

        The float tolerance is ``1e-9`` relative plus ``1e-12 * max(|min|, |max|)`` plus four
        units in the last place (rounding differs with the order in which parts were merged).
        """
        if not isinstance(other, NumericSketch):
            return NotImplemented
        exact = (
            self._alpha == other._alpha
            and (self._count, self._nulls, self._nan, self._posinf, self._neginf)
            == (other._count, other._nulls, other._nan, other._posinf, other._neginf)
            and self._min == other._min
            and self._max == other._max
            and self._q == other._q
            and self._h == other._h
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


