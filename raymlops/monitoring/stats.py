"""Drift statistics between a reference and a current sample, exact or from sketches.

Every function takes the two sides either as raw values (**exact mode**: a numpy array,
pandas Series, pyarrow array or list) or as sketches of :mod:`raymlops.data.sketch`
(**sketch mode**: a :class:`~raymlops.data.sketch.NumericSketch` or
:class:`~raymlops.data.sketch.CategoricalSketch` merged from any number of replicas). If
one side is raw and the other a sketch, the raw side is sketched first. Nulls, NaN and
infinities are left out (a sketch counts them apart); statistics compare the finite
values of numeric columns and the non-null values of categorical ones.

Exact mode equals scipy to float rounding (the tests hold it to 1e-9 on random data):

* :func:`ks` is ``scipy.stats.ks_2samp`` (two-sided; exact p-value when both samples
  have at most 10,000 values, else ``kstwo.sf(D, round(n*m/(n+m)))``, as scipy does);
* :func:`wasserstein` is ``scipy.stats.wasserstein_distance``; :func:`wasserstein_normed`
  divides it by ``max(std of reference, 0.001)`` (population std, ddof=0: Evidently's);
* :func:`chi2` is ``scipy.stats.chi2_contingency`` on the 2 x k table of counts;
* :func:`jensenshannon` is ``scipy.spatial.distance.jensenshannon`` (a *distance*: the
  square root of the divergence), natural log unless ``base`` is given;
  :func:`jensenshannon_divergence` is its square, log base 2 by default (0..1).

KS and Wasserstein come from one sort of each side: the two sorted arrays are merged in
linear time (``searchsorted`` of sorted keys) and the CDF difference is read off the
merge, so both statistics and the distinct-value count of the union come out of one pass
(about 3x faster than the scipy calls on 1e6 + 1e6 values). The large-sample KS p-value
sums the same Smirnov series as scipy, vectorised (:func:`ks_pvalue`).

Sketch mode bounds (``a`` = relative accuracy, ``m`` = ``min_indexable`` of the sketches):

* KS: the statistic is ``max |cdf_ref(t) - cdf_cur(t)|`` over every bucket edge and each
  side's min and max, with the sketches' interpolated CDFs (piecewise linear between
  those points, so the maximum is at one of them). Each ``cdf`` is within its bucket's
  mass of the empirical CDF, so the statistic is within
  ``max bucket mass(ref) + max bucket mass(cur)`` of the exact one. The p-value is
  :func:`ks_pvalue` of that statistic (Kolmogorov distribution with effective
  ``n*m/(n+m)``; exact Smirnov distribution below 10,000 values, as in exact mode).
* Wasserstein: each side's values are moved to their bucket's representative (the
  sketch's quantile estimate, clipped to ``[min, max]``), which moves a value by at most
  ``a*|x|`` (``m`` in the zero bucket); by the triangle inequality the distance is within
  ``a*mean|x| + m`` per side of the exact one. ``mean|x|`` is not kept by the sketch, so
  the bound uses ``min(sqrt(mean**2 + std**2), mean over buckets of the largest |edge|)``,
  which is at least ``mean|x|``. :func:`wasserstein_normed` divides the bound too.
* PSI, Jensen-Shannon, chi-square, L-infinity, Z: computed from counts that are the same
  in both modes (below), so sketch and exact mode agree to float rounding (bound 0).

Shared bins for PSI and Jensen-Shannon on numeric values (:func:`quantile_cuts`,
:func:`binned_counts`): the reference's quantiles at ``k/bins`` (``k = 1..bins-1``; the
value of 0-based rank ``floor(k/bins * (n-1))``, the sketch's rank convention) are
*snapped up to the upper edge of the DDSketch bucket that holds them*; repeated cuts
are dropped (ties and few-valued columns give fewer bins). A sketch knows exactly which
bucket holds a given rank, and a bucket lies wholly on one side of any of its edges, so
the cuts and the counts on both sides of every cut are the same exact integers whether
computed from raw values (``searchsorted``) or from sketches: the two modes reach the same
PSI and Jensen-Shannon and so the same verdict. The bins are ``(-inf, c1], (c1, c2], ...,
(c_last, +inf)``, except that a negative cut ``c`` (a negative bucket's upper edge, which
the bucket excludes) puts ``c`` itself in the bin to its right. Default ``bins=10``
(deciles, the usual PSI binning) and the profiles' accuracy ``0.01``, so a bin edge lies
within 2% of the reference quantile it stands for.

Category counts (:func:`category_counts`) are exact in both modes: a
:class:`~raymlops.data.sketch.CategoricalSketch` keeps exact counts (if it was truncated,
its ``other`` count becomes the category :data:`OTHER` and kept counts are lower bounds).
Categories are ``str(value)``, as in the sketch, in sorted order. :class:`ValueCounts`
keeps the exact counts of a *numeric* column's values while it has few distinct values,
so the tests that Evidently runs on few-valued numeric columns can be run from sketches.

Logarithms: PSI and :func:`jensenshannon` use the natural log; :func:`jensenshannon_divergence`
uses base 2 unless ``base`` is given.

Example:
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.normal(size=5_000), rng.normal(0.3, 1.0, size=5_000)
    >>> r = ks(ref, cur)
    >>> round(r.statistic, 4), r.p_value < 1e-20, r.bound
    (0.1458, True, 0.0)
    >>> sref, scur = NumericSketch(), NumericSketch()
    >>> sref.update(ref); scur.update(cur)
    >>> s = ks(sref, scur)
    >>> bool(abs(s.statistic - r.statistic) <= s.bound), round(s.bound, 4)
    (True, 0.0154)
    >>> _, rc, cc = binned_counts(ref, cur)
    >>> _, src, scc = binned_counts(sref, scur)
    >>> rc.tolist() == src.tolist() and cc.tolist() == scc.tolist()
    True
    >>> round(psi(rc, cc), 4), round(psi(src, scc), 4)
    (0.1089, 0.1089)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from scipy import special
from scipy import stats as _st

from raymlops.data.sketch import CategoricalSketch, NumericSketch
from raymlops.errors import InvalidInputError

__all__ = [
    "TestResult",
    "ValueCounts",
    "OTHER",
    "EXACT_KS_MAX_N",
    "ks",
    "ks_pvalue",
    "wasserstein",
    "wasserstein_normed",
    "quantile_cuts",
    "binned_counts",
    "category_counts",
    "psi",
    "jensenshannon",
    "jensenshannon_divergence",
    "chi2",
    "linf",
    "ztest",
    "is_sketch",
]

OTHER = "<other>"
"""The category that stands for a truncated CategoricalSketch's ``other`` count."""

EXACT_KS_MAX_N = 10_000
"""Up to this many values on each side the KS p-value is exact (scipy's ``method='auto'``)."""

_MIN_STD = 0.001  # Evidently's floor on the reference std in the normed Wasserstein distance
_ROUNDING = 1e-12  # relative slack added to sketch bounds for float rounding


class TestResult(NamedTuple):
    """A statistic, its p-value (None for distances) and its error bound.

    ``bound`` is the most ``statistic`` can differ from the exact-mode statistic on the
    same data: 0.0 in exact mode and for count-based statistics, positive for KS and
    Wasserstein from sketches.
    """

    statistic: float
    p_value: float | None
    bound: float

    __test__ = False  # not a pytest test class


# --------------------------------------------------------------------------- inputs


def is_sketch(obj: Any) -> bool:
    """Whether ``obj`` is a sketch (numeric, categorical or :class:`ValueCounts`)."""
    return isinstance(obj, (NumericSketch, CategoricalSketch, ValueCounts))


def _finite(values: Any) -> np.ndarray:
    """The finite values of a numeric array-like as a float64 array (possibly a view of the input)."""
    return _finite_owned(values)[0]


def _finite_owned(values: Any) -> tuple[np.ndarray, bool]:
    """The finite values as float64, and whether the array is a fresh copy we may sort in place."""
    mod = type(values).__module__ or ""
    if mod.startswith("pyarrow"):
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        values = pc.cast(values, pa.float64()).fill_null(math.nan)
        x = values.to_numpy(zero_copy_only=False)
    elif mod.startswith("pandas"):
        dtype = getattr(values, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            x = np.asarray(values.to_numpy(), dtype=np.float64)
        else:
            try:
                x = values.to_numpy(dtype=np.float64, na_value=math.nan)
            except (TypeError, ValueError):
                raise _not_numeric(dtype) from None
    else:
        try:
            x = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise _not_numeric(getattr(values, "dtype", type(values).__name__)) from None
    if isinstance(values, np.ndarray):
        owned = not np.may_share_memory(x, values)
    else:
        owned = isinstance(values, (list, tuple))
    x = x.ravel()
    finite = np.isfinite(x)
    return (x, owned) if finite.all() else (x[finite], True)


def _not_numeric(dtype: Any) -> InvalidInputError:
    return InvalidInputError(
        f"numeric drift statistics need numeric values, got {dtype}; compare categorical "
        "columns with category_counts() and the count-based statistics"
    )


def _sorted_finite(values: Any) -> np.ndarray:
    x, owned = _finite_owned(values)
    if owned:
        x.sort()
        return x
    return np.sort(x)


def _numeric_pair(reference: Any, current: Any) -> tuple[Any, Any, bool]:
    """Both sides as sorted finite arrays (exact) or NumericSketches (sketch), and the mode."""
    ref_sk, cur_sk = isinstance(reference, NumericSketch), isinstance(current, NumericSketch)
    for side in (reference, current):
        if isinstance(side, (CategoricalSketch, ValueCounts)):
            raise InvalidInputError(
                f"this statistic compares numeric distributions, got a {type(side).__name__}; "
                "use category_counts() and a count-based statistic (chi2, jensenshannon, linf, psi)"
            )
    if ref_sk and cur_sk:
        if reference.relative_accuracy != current.relative_accuracy:
            raise InvalidInputError(
                f"cannot compare sketches of different relative_accuracy ({reference.relative_accuracy} vs "
                f"{current.relative_accuracy}); sketch both sides with the same accuracy"
            )
        return reference, current, True
    if ref_sk or cur_sk:
        sk = reference if ref_sk else current
        other = NumericSketch(relative_accuracy=sk.relative_accuracy)
        other.update(_finite(current if ref_sk else reference))
        return (reference, other, True) if ref_sk else (other, current, True)
    return _sorted_finite(reference), _sorted_finite(current), False


def _need_values(n: int, m: int) -> None:
    if not n or not m:
        side = "reference" if not n else "current"
        raise InvalidInputError(
            f"the {side} side has no finite values; a drift statistic needs values on both sides"
        )


# --------------------------------------------------------------------------- exact numeric


class _Merged(NamedTuple):
    """CDF difference along the merge of two sorted samples."""

    ks: float
    wasserstein: float
    distinct: int  # distinct values in the union


def _merge_sorted(a: np.ndarray, b: np.ndarray) -> _Merged:
    """KS statistic, Wasserstein-1 distance and distinct count of two sorted samples.

    ``b[j]`` goes to position ``searchsorted(a, b[j], "right") + j`` of the merge (after
    the values of ``a`` equal to it); along the merge, ``F_a - F_b`` is the running count
    of ``a`` over ``n`` minus that of ``b`` over ``m``. At the end of each run of equal
    values both counts are those of ``searchsorted(..., side="right")``, which is where
    scipy evaluates the CDFs; inside a run the gap to the next value is 0, so it adds
    nothing to the Wasserstein integral.
    """
    n, m = a.size, b.size
    pos = np.searchsorted(a, b, side="right")  # sorted keys: numpy narrows each search
    pos += np.arange(m)
    is_b = np.zeros(n + m, dtype=bool)
    is_b[pos] = True
    z = np.empty(n + m)
    z[pos] = b
    z[~is_b] = a
    count_b = np.cumsum(is_b)
    count_a = np.arange(1, n + m + 1) - count_b
    diff = count_a / n - count_b / m
    np.abs(diff, out=diff)
    gaps = np.diff(z)
    ends = gaps != 0  # last position of each run of equal values (the final one has diff 0)
    d = float(diff[:-1][ends].max()) if ends.any() else 0.0
    w = float(np.dot(diff[:-1], gaps))
    return _Merged(d, w, int(np.count_nonzero(ends)) + 1)


def ks_pvalue(statistic: float, n: int, m: int, *, method: str = "auto") -> float:
    """Two-sided p-value of a two-sample KS statistic for sample sizes ``n`` and ``m``.

    ``"auto"`` is ``"exact"`` when ``max(n, m) <= 10_000`` (the Smirnov distribution of
    the statistic, computed by scipy's routine), else ``"asymp"``: the Kolmogorov
    distribution ``kstwo`` with effective size ``round(n*m/(n+m))``. This is what
    ``scipy.stats.ks_2samp(method="auto")`` does, so the p-values are scipy's. If the
    exact computation fails (float overflow) or scipy's routine is missing, the
    asymptotic value is returned.

    Args:
        statistic: the KS statistic ``D`` in ``[0, 1]``.
        n: size of the first sample.
        m: size of the second sample.
        method: ``"auto"``, ``"exact"`` or ``"asymp"``.

    Returns:
        The p-value in ``[0, 1]``.

    Raises:
        InvalidInputError: on an empty sample or an unknown method.

    Example:
        >>> round(ks_pvalue(0.1, 1000, 1000), 6), round(ks_pvalue(0.01, 10**6, 10**6), 6)
        (9e-05, 0.0)
    """
    if method not in ("auto", "exact", "asymp"):
        raise InvalidInputError(f"method must be 'auto', 'exact' or 'asymp', got {method!r}")
    n, m = int(n), int(m)
    _need_values(n, m)
    d = min(max(float(statistic), 0.0), 1.0)
    if method == "auto":
        method = "exact" if max(n, m) <= EXACT_KS_MAX_N else "asymp"
    if method == "exact":
        p = _exact_ks_pvalue(d, n, m)
        if p is not None:
            return p
    big, small = max(n, m), min(n, m)
    en = big * small / (big + small)
    return _kstwo_sf(d, int(np.round(en)))


_SMIRNOV_FAST_N = (20_000, 1_000_000)  # where scipy's kstwo.sf runs an O(n) loop in C


def _kstwo_sf(x: float, n: int) -> float:
    """``scipy.stats.kstwo.sf(x, n)``, with its slow branch vectorised.

    For ``n > 140`` and ``n x**2 >= 2.2`` scipy returns ``2 * smirnov(n, x)``, which it
    computes (up to n = 1e6) by summing the Birnbaum-Tingey series one term at a time:
    about 0.6 s at n = 500,000, the size a KS test of 1e6 + 1e6 rows needs. The same
    series summed with numpy in log space takes about 40 ms and agrees to about 1e-9
    relative (below 3e-11 absolute, as the p-value there is below 0.025). Every other
    case, and ``n`` outside 20,000..1,000,000 (scipy switches to an approximation above
    1e6), is scipy's own call.
    """
    lo, hi = _SMIRNOV_FAST_N
    t = n * x
    if not lo < n <= hi or x <= 0.0 or x >= 1.0 or t <= 1.0 or t >= n - 1 or (x < 0.5 and t * x < 2.2):
        return float(np.clip(_st.kstwo.sf(x, n), 0.0, 1.0))
    if x < 0.5 and t * x >= 370.0:
        return 0.0
    return float(np.clip(2.0 * _smirnov_sf(n, x), 0.0, 1.0))


def _smirnov_sf(n: int, x: float) -> float:
    """One-sided Smirnov ``P(D+_n >= x)`` by the Birnbaum-Tingey series, summed in log space.

    ``x * sum_j C(n, j) (1 - x - j/n)**(n - j) (x + j/n)**(j - 1)`` for
    ``j = 0..floor(n (1 - x))``; every term is positive, so there is no cancellation.
    """
    j = np.arange(int(math.floor(n * (1.0 - x))) + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_terms = (
            special.gammaln(n + 1.0)
            - special.gammaln(j + 1.0)
            - special.gammaln(n - j + 1.0)
            + (n - j) * np.log1p(-x - j / n)
            + (j - 1.0) * np.log(x + j / n)
        )
    top = float(log_terms.max())
    return x * math.exp(top) * float(np.exp(log_terms - top).sum())


def _exact_ks_pvalue(d: float, n: int, m: int) -> float | None:
    try:  # scipy's compiled Smirnov distribution (what ks_2samp itself calls)
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # pragma: no cover - a future scipy may move it
        return None
    g = math.gcd(n, m)
    if n // g >= np.iinfo(np.int32).max / (m // g):
        return None
    with np.errstate(all="ignore"):
        ok, _, p = _attempt_exact_2kssamp(n, m, g, d, "two-sided")
    return float(np.clip(p, 0.0, 1.0)) if ok else None


# --------------------------------------------------------------------------- sketch numeric


def _representatives(s: NumericSketch) -> tuple[np.ndarray, np.ndarray]:
    """Each occupied bucket's representative (the quantile estimate, clipped to [min, max]) and count."""
    lo, hi, c = s.bins()
    grow = 1.0 + s.relative_accuracy
    with np.errstate(over="ignore"):
        rep = np.where(lo > 0, np.minimum(lo * grow, hi), np.where(hi < 0, np.maximum(hi * grow, lo), 0.0))
    return np.clip(rep, s.min, s.max), c


def _mean_abs_bound(s: NumericSketch) -> float:
    """An upper bound on mean(|x|): the RMS, or the mass-weighted largest |edge| of each bucket."""
    rms = math.hypot(s.mean, s.std)
    lo, hi, c = s.bins()
    lo, hi = np.clip(lo, s.min, s.max), np.clip(hi, s.min, s.max)
    by_bucket = float(np.dot(np.maximum(np.abs(lo), np.abs(hi)), c)) / s.count
    return min(rms, by_bucket)


def _ks_sketch(a: NumericSketch, b: NumericSketch) -> TestResult:
    la, ha, ca = a.bins()
    lb, hb, cb = b.bins()
    knots = np.unique(np.concatenate([la, ha, lb, hb, [a.min, a.max, b.min, b.max]]))
    d = float(np.abs(np.asarray(a.cdf(knots)) - np.asarray(b.cdf(knots))).max())
    bound = float(ca.max()) / a.count + float(cb.max()) / b.count
    return TestResult(d, ks_pvalue(d, a.count, b.count), bound)


def _wasserstein_sketch(a: NumericSketch, b: NumericSketch) -> TestResult:
    xa, wa = _representatives(a)
    xb, wb = _representatives(b)
    x = np.concatenate([xa, xb])
    order = np.argsort(x, kind="stable")
    w = np.concatenate([wa / a.count, -wb / b.count])[order]
    x = x[order]
    cdf_diff = np.cumsum(w)[:-1]
    dist = float(np.dot(np.abs(cdf_diff), np.diff(x)))
    bound = sum(
        (s.relative_accuracy + _ROUNDING) * _mean_abs_bound(s) + s.min_indexable for s in (a, b)
    )
    return TestResult(dist, None, bound)


# --------------------------------------------------------------------------- numeric statistics


def ks(reference: Any, current: Any) -> TestResult:
    """Two-sample Kolmogorov-Smirnov test (two-sided).

    Args:
        reference: raw values or a :class:`NumericSketch`.
        current: raw values or a :class:`NumericSketch`.

    Returns:
        ``(statistic, p_value, bound)``: the largest distance between the two empirical
        CDFs, its p-value (:func:`ks_pvalue`), and 0.0 in exact mode or, from sketches,
        the largest single-bucket mass of each side added up.

    Raises:
        InvalidInputError: if a side has no finite value or is not numeric.
    """
    a, b, sketched = _numeric_pair(reference, current)
    _need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    if sketched:
        return _ks_sketch(a, b)
    d = _merge_sorted(a, b).ks
    return TestResult(d, ks_pvalue(d, a.size, b.size), 0.0)


def wasserstein(reference: Any, current: Any) -> TestResult:
    """Wasserstein-1 (earth mover's) distance between the two samples, in the data's units.

    Args:
        reference: raw values or a :class:`NumericSketch`.
        current: raw values or a :class:`NumericSketch`.

    Returns:
        ``(distance, None, bound)``; the bound is 0.0 in exact mode and
        ``a*mean|x| + min_indexable`` per side from sketches (module docstring).

    Raises:
        InvalidInputError: if a side has no finite value or is not numeric.

    Example:
        >>> wasserstein([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]).statistic
        5.0
    """
    a, b, sketched = _numeric_pair(reference, current)
    _need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    if sketched:
        return _wasserstein_sketch(a, b)
    return TestResult(_merge_sorted(a, b).wasserstein, None, 0.0)


def _reference_std(reference: Any) -> float:
    if isinstance(reference, NumericSketch):
        return reference.std
    return float(np.std(reference))


def wasserstein_normed(reference: Any, current: Any, *, min_std: float = _MIN_STD) -> TestResult:
    """Wasserstein-1 distance divided by ``max(std of reference, min_std)`` (Evidently's).

    The std is the population standard deviation (ddof=0) of the reference's finite
    values, exact in both modes; the bound is divided by the same number.

    Args:
        reference: raw values or a :class:`NumericSketch`.
        current: raw values or a :class:`NumericSketch`.
        min_std: the floor on the denominator (0.001 in Evidently).

    Returns:
        ``(normed distance, None, bound)``.

    Example:
        >>> wasserstein_normed([0.0, 2.0], [1.0, 3.0]).statistic
        1.0
    """
    a, b, sketched = _numeric_pair(reference, current)
    _need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    w = _wasserstein_sketch(a, b) if sketched else TestResult(_merge_sorted(a, b).wasserstein, None, 0.0)
    norm = max(_reference_std(a), min_std)
    return TestResult(w.statistic / norm, None, w.bound / norm)


# --------------------------------------------------------------------------- shared bins


def _cut_ranks(n: int, bins: int) -> np.ndarray:
    return np.floor(np.arange(1, bins) / bins * (n - 1)).astype(np.int64)


def quantile_cuts(reference: Any, *, bins: int = 10, relative_accuracy: float = 0.01) -> np.ndarray:
    """The reference's ``k/bins`` quantiles snapped up to their DDSketch bucket's upper edge.

    Args:
        reference: raw values or a :class:`NumericSketch` (then its own accuracy is used).
        bins: the number of quantile bins before repeated cuts are dropped (at least 2).
        relative_accuracy: the DDSketch accuracy whose bucket edges the cuts snap to, for
            raw values; use the accuracy of the sketches you compare with (0.01 in profiles).

    Returns:
        The distinct cuts in increasing order (at most ``bins - 1`` of them).

    Raises:
        InvalidInputError: if the reference has no finite value or ``bins < 2``.

    Example:
        >>> quantile_cuts(np.arange(1.0, 101.0), bins=4).tolist()
        [25.030806838286544, 50.40703126168425, 75.19945688385998]
    """
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 2:
        raise InvalidInputError(f"bins must be an integer of at least 2, got {bins!r}")
    if isinstance(reference, NumericSketch):
        _need_values(reference.count, 1)
        _, hi, c = reference.bins()
        idx = np.searchsorted(np.cumsum(c), _cut_ranks(reference.count, bins), side="right")
        return np.unique(hi[idx])
    x = _sorted_finite(reference)
    _need_values(x.size, 1)
    values = x[_cut_ranks(x.size, bins)]
    holder = NumericSketch(relative_accuracy=relative_accuracy)
    holder.update(values)
    _, hi, c = holder.bins()  # the buckets of the sorted cut values, one upper edge per value
    return np.unique(np.repeat(hi, c))


def _counts_on_cuts(side: Any, cuts: np.ndarray) -> np.ndarray:
    if isinstance(side, NumericSketch):
        _, hi, c = side.bins()
        below = np.concatenate([[0], np.cumsum(c)])[np.searchsorted(hi, cuts, side="right")]
        total = side.count
    else:
        x = side if isinstance(side, np.ndarray) else _sorted_finite(side)
        # a positive cut is a bucket's closed upper edge (x <= cut goes left), a negative
        # one a bucket's open upper edge (x < cut goes left)
        below = np.where(
            cuts > 0, np.searchsorted(x, cuts, side="right"), np.searchsorted(x, cuts, side="left")
        )
        total = x.size
    return np.diff(np.concatenate([[0], below, [total]])).astype(np.int64)


def binned_counts(
    reference: Any, current: Any, *, bins: int = 10, relative_accuracy: float = 0.01
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of both sides on the reference's quantile bins snapped to DDSketch edges.

    The same integers in exact and sketch mode (module docstring), so PSI and
    Jensen-Shannon on them agree between the modes.

    Args:
        reference: raw values or a :class:`NumericSketch`.
        current: raw values or a :class:`NumericSketch`.
        bins: see :func:`quantile_cuts`.
        relative_accuracy: see :func:`quantile_cuts` (ignored for sketches).

    Returns:
        ``(cuts, reference_counts, current_counts)``; ``len(cuts) + 1`` bins.
    """
    a, b, sketched = _numeric_pair(reference, current)
    _need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    cuts = quantile_cuts(a, bins=bins, relative_accuracy=relative_accuracy)
    return cuts, _counts_on_cuts(a, cuts), _counts_on_cuts(b, cuts)


# --------------------------------------------------------------------------- value counts


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
        x = _finite(values)
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


# --------------------------------------------------------------------------- category counts


def _category_table(side: Any) -> dict[Any, int]:
    if isinstance(side, CategoricalSketch):
        table: dict[Any, int] = dict(side.counts)
        if side.other:
            table[OTHER] = table.get(OTHER, 0) + side.other
        return table
    if isinstance(side, ValueCounts):
        if side.saturated:
            raise InvalidInputError(
                f"the column has more than {side.max_values} distinct values, so ValueCounts kept no "
                "counts; compare it as numeric (binned_counts) instead"
            )
        return dict(side.counts or {})
    if isinstance(side, NumericSketch):
        raise InvalidInputError(
            "a NumericSketch keeps no category counts; sketch the column with CategoricalSketch "
            "(or keep a ValueCounts next to the NumericSketch)"
        )
    import pandas as pd

    if isinstance(side, pd.Series):
        s = side
    elif (type(side).__module__ or "").startswith("pyarrow"):
        s = side.to_pandas()
    else:
        s = pd.Series(side.ravel() if isinstance(side, np.ndarray) else list(side))
    vc = s.value_counts(dropna=True, sort=False)
    vc = vc[vc.to_numpy() > 0]
    table = {}
    for key, c in zip(vc.index.tolist(), vc.to_numpy().tolist()):
        key = key if isinstance(key, str) else str(key)
        table[key] = table.get(key, 0) + int(c)
    return table


def category_counts(reference: Any, current: Any) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Aligned counts of each category (or value) on both sides.

    Args:
        reference: raw values (categories are ``str(value)``), a
            :class:`CategoricalSketch`, or a :class:`ValueCounts` (keys are the floats).
        current: the same kinds. A raw side next to a :class:`CategoricalSketch` is
            counted the same way (``str`` of each non-null value).

    Returns:
        ``(categories, reference_counts, current_counts)``: the union of the non-null
        categories in sorted order and the int64 counts of each side.

    Raises:
        InvalidInputError: for a NumericSketch or a saturated ValueCounts.

    Example:
        >>> cats, r, c = category_counts(["a", "b", "a", None], ["b", "c"])
        >>> cats, r.tolist(), c.tolist()
        (['a', 'b', 'c'], [2, 1, 0], [0, 1, 1])
    """
    ta, tb = _category_table(reference), _category_table(current)
    keys = sorted(set(ta) | set(tb), key=lambda k: (isinstance(k, str), k))
    ra = np.array([ta.get(k, 0) for k in keys], dtype=np.int64)
    rb = np.array([tb.get(k, 0) for k in keys], dtype=np.int64)
    return keys, ra, rb


# --------------------------------------------------------------------------- count statistics


def _count_pair(reference_counts: Any, current_counts: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(reference_counts, dtype=np.float64).ravel()
    q = np.asarray(current_counts, dtype=np.float64).ravel()
    if p.shape != q.shape:
        raise InvalidInputError(
            f"counts must be aligned, got {p.size} and {q.size} entries; use category_counts() or binned_counts()"
        )
    if (p < 0).any() or (q < 0).any() or not np.isfinite(p).all() or not np.isfinite(q).all():
        raise InvalidInputError("counts must be finite and non-negative")
    _need_values(int(p.sum() > 0), int(q.sum() > 0))
    return p, q


def _fill_zeros(p: np.ndarray) -> np.ndarray:
    """Evidently's PSI smoothing: empty bins get min(nonzero)/1e6 if that is <= 1e-4, else 1e-4."""
    smallest = p[p > 0].min()
    eps = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return np.where(p == 0, eps, p)


def psi(reference_counts: Any, current_counts: Any) -> float:
    """Population Stability Index, natural log: ``sum((q - p) * ln(q / p))``.

    ``p`` and ``q`` are the two sides' proportions. An empty bin would make the log
    infinite, so its proportion is replaced, as in Evidently, by
    ``min(non-zero proportions of that side) / 1e6`` if that is at most ``1e-4``, else by
    ``1e-4`` (proportions are not renormalised afterwards).

    Args:
        reference_counts: counts per bin or category (:func:`binned_counts`,
            :func:`category_counts`).
        current_counts: counts on the same bins.

    Returns:
        The PSI (0 for identical proportions; rules of thumb: < 0.1 stable, > 0.25 shifted).

    Example:
        >>> round(psi([50, 50], [60, 40]), 6)
        0.040547
    """
    p, q = _count_pair(reference_counts, current_counts)
    p, q = _fill_zeros(p / p.sum()), _fill_zeros(q / q.sum())
    return float(np.sum((q - p) * np.log(q / p)))


def jensenshannon(reference_counts: Any, current_counts: Any, *, base: float | None = None) -> float:
    """Jensen-Shannon *distance* (square root of the divergence); natural log by default.

    Equal to ``scipy.spatial.distance.jensenshannon(p, q, base)``: the counts are
    normalised to proportions, ``M = (p + q) / 2`` and the distance is
    ``sqrt((KL(p||M) + KL(q||M)) / 2)``. With the natural log it lies in
    ``[0, sqrt(ln 2)] = [0, 0.8326]``; with ``base=2`` in ``[0, 1]``.

    Args:
        reference_counts: counts per bin or category.
        current_counts: counts on the same bins.
        base: the logarithm base; None means e (Evidently's ``jensenshannon`` test).

    Returns:
        The distance.

    Example:
        >>> round(jensenshannon([50, 50], [60, 40]), 6)
        0.071129
    """
    p, q = _count_pair(reference_counts, current_counts)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    js = (float(special.rel_entr(p, m).sum()) + float(special.rel_entr(q, m).sum())) / 2.0
    if base is not None:
        js /= math.log(base)
    return math.sqrt(max(js, 0.0))


def jensenshannon_divergence(reference_counts: Any, current_counts: Any, *, base: float = 2.0) -> float:
    """Jensen-Shannon *divergence*, log base 2 by default (in ``[0, 1]``; TFDV's).

    The square of :func:`jensenshannon` in the same base.

    Example:
        >>> round(jensenshannon_divergence([50, 50], [60, 40]), 6)
        0.007299
    """
    return jensenshannon(reference_counts, current_counts, base=base) ** 2


def linf(reference_counts: Any, current_counts: Any) -> float:
    """L-infinity distance of the two category distributions: ``max |p_i - q_i|`` (TFDV's).

    Example:
        >>> round(linf([50, 30, 20], [40, 30, 30]), 12)
        0.1
    """
    p, q = _count_pair(reference_counts, current_counts)
    return float(np.abs(p / p.sum() - q / q.sum()).max())


def chi2(reference_counts: Any, current_counts: Any, *, correction: bool = True) -> TestResult:
    """Pearson's chi-square test of independence on the 2 x k table (reference, current).

    Equal to ``scipy.stats.chi2_contingency([reference_counts, current_counts])``:
    expected counts are ``row total * column total / N``, ``dof = k - 1``, and with
    ``correction`` Yates' continuity correction applies when ``dof == 1``. Categories
    empty on both sides are dropped first (scipy refuses zero expected counts); with a
    single category left the statistic is 0 and the p-value 1. Evidently's ``chisquare``
    test instead runs a goodness-of-fit test of the current counts against the
    reference's proportions, which is infinite for a category new in the current data;
    this test treats both sides as samples and stays finite.

    Args:
        reference_counts: counts per category.
        current_counts: counts on the same categories.
        correction: apply Yates' correction when ``dof == 1`` (scipy's default).

    Returns:
        ``(statistic, p_value, 0.0)``.

    Example:
        >>> r = chi2([30, 50, 20], [20, 50, 30])
        >>> round(r.statistic, 6), round(r.p_value, 6)
        (4.0, 0.135335)
    """
    p, q = _count_pair(reference_counts, current_counts)
    keep = (p + q) > 0
    observed = np.vstack([p[keep], q[keep]])
    dof = observed.shape[1] - 1
    if dof == 0:
        return TestResult(0.0, 1.0, 0.0)
    rows, cols = observed.sum(axis=1), observed.sum(axis=0)
    expected = np.outer(rows, cols) / observed.sum()
    if correction and dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(((observed - expected) ** 2 / expected).sum())
    return TestResult(stat, float(_st.chi2.sf(stat, dof)), 0.0)


def ztest(reference_counts: Any, current_counts: Any) -> TestResult:
    """Two-proportion Z-test (pooled variance, two-sided) for a binary column.

    The proportion compared is that of the first category (in :func:`category_counts`
    order): ``z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n + 1/m))`` with the pooled
    proportion ``P``, and ``p_value = 2 * sf(|z|)`` of the standard normal (Evidently's
    ``z`` test). With one category only (or ``P`` of 0 or 1) ``z = 0`` and ``p = 1``.

    Args:
        reference_counts: counts of the (at most two) categories.
        current_counts: counts on the same categories.

    Returns:
        ``(z, p_value, 0.0)``.

    Raises:
        InvalidInputError: with more than two non-empty categories.

    Example:
        >>> r = ztest([60, 40], [45, 55])
        >>> round(r.statistic, 4), round(r.p_value, 4)
        (2.124, 0.0337)
    """
    p, q = _count_pair(reference_counts, current_counts)
    keep = (p + q) > 0
    p, q = p[keep], q[keep]
    if p.size > 2:
        raise InvalidInputError(
            f"the Z-test compares two proportions, got {p.size} categories; use chi2 for more than two"
        )
    n, m = p.sum(), q.sum()
    if p.size < 2:
        return TestResult(0.0, 1.0, 0.0)
    p1, p2 = p[0] / n, q[0] / m
    pooled = (p[0] + q[0]) / (n + m)
    var = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
    if var <= 0:
        return TestResult(0.0, 1.0, 0.0)
    z = float((p1 - p2) / math.sqrt(var))
    return TestResult(z, float(2.0 * _st.norm.sf(abs(z))), 0.0)

