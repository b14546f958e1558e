"""TFDV's Jensen-Shannon divergence of numeric features, on its own histograms.

TensorFlow Data Validation (1.16, ``anomalies/metrics.cc: JensenShannonDivergence``) does
not share bins between the two sides. Each side gets its STANDARD histogram
(``basic_stats_generator.py`` and ``utils/quantiles_util.py``):

1. 1,000 quantile boundaries ``q_i = sorted(x)[min(floor(i n / 1000), n - 1)]`` with the
   count of values ``<= q_i``; the 1,000 buckets between them get the count differences,
   runs of buckets with the same upper bound share their weight evenly, and the
   minimum's own count goes to the leading buckets identical to the first;
2. those buckets are spread over 10 equal-width buckets from this side's minimum to its
   maximum (one point bucket when they are equal), assuming a uniform distribution
   inside each quantile bucket.

The two histograms are aligned (``AlignHistograms``): point buckets set aside, both
re-bucketed on the union of their edges (uniform within a bucket) when the edges differ,
then one bucket per point value; both normalised, and the divergence is
``(KL(P||M) + KL(Q||M)) / 2`` with log base 2 (terms with a zero skipped), in ``[0, 1]``.

This reproduces TFDV's own values to 1e-9 on every numeric column of the parity cases
(``tests/unit/fixtures/tfdv_parity.json``). From a sketch, the quantile boundaries are the
sketch's estimates (within its relative accuracy) and the counts its CDF, as TFDV's own
quantile sketch does on large data; the result is then approximate.

Example:
    >>> import numpy as np
    >>> x = np.arange(100.0)
    >>> round(js_divergence(standard_histogram(x), standard_histogram(x + 50)), 4)
    0.505
"""

from __future__ import annotations

import numpy as np

from raymlops.sketches import NumericSketch

__all__ = ["Histogram", "counts_histogram", "js_divergence", "sketch_histogram", "standard_histogram"]

Histogram = list[tuple[float, float, float]]
"""Buckets as ``(low, high, weight)``; a point bucket has ``low == high``."""

_QUANTILES = 1000
_BUCKETS = 10


def _bin_weights(q: np.ndarray, cum: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``quantiles_util._get_bin_weights``: the 1,000 quantile buckets and their weights."""
    low, high, counts = q[:-1], q[1:], np.diff(cum.astype(np.float64))
    i = 0
    while i < low.size:  # runs of equal upper bounds share their weight evenly
        j = i + 1
        while j < low.size and high[i] == high[j]:
            j += 1
        if j > i + 1:
            counts[i:j] = counts[i:j].sum() / (j - i)
        i = j
    lead = 0
    while lead < low.size and low[lead] == low[0] and high[lead] == high[0]:
        lead += 1
    counts[:lead] += cum[0] / lead  # the minimum's own count goes to the leading identical buckets
    return low, high, counts


def _equi_width(low: np.ndarray, high: np.ndarray, w: np.ndarray, lo: float, hi: float) -> Histogram:
    """``generate_equi_width_histogram``: spread quantile buckets over equal-width buckets."""
    edges = np.array([lo, hi]) if lo == hi else np.linspace(lo, hi, _BUCKETS + 1)
    out: Histogram = []
    width = high - low
    point = width == 0
    for i in range(edges.size - 1):
        a, b = edges[i], edges[i + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = (np.minimum(high, b) - np.maximum(low, a)) / width
        frac = np.clip(np.where(point, 0.0, frac), 0.0, 1.0)
        frac = np.where((high < a) | (low > b), 0.0, frac)
        # a point bucket on an edge goes to the bucket on its left; on the first edge, to the first
        inside = point & (low > a) & (low <= b)
        at_first = point & (low == a) & (i == 0)
        frac = np.where(inside | at_first, 1.0, frac)
        out.append((float(a), float(b), float(np.dot(frac, w))))
    return out


def standard_histogram(sorted_values: np.ndarray) -> Histogram:
    """TFDV's STANDARD histogram of sorted finite values (module docstring)."""
    x = sorted_values
    n = x.size
    idx = np.minimum((np.arange(_QUANTILES + 1) * n) // _QUANTILES, n - 1)
    q = x[idx]
    cum = np.searchsorted(x, q, side="right").astype(np.float64)
    low, high, w = _bin_weights(q, cum)
    return _equi_width(low, high, w, float(x[0]), float(x[-1]))


def counts_histogram(counts: dict[float, int]) -> Histogram:
    """The STANDARD histogram from exact value counts (a few-valued column): exact, like from values."""
    keys = np.array(sorted(counts), dtype=np.float64)
    cum_counts = np.cumsum([counts[k] for k in sorted(counts)]).astype(np.float64)
    n = int(cum_counts[-1])
    ranks = np.minimum((np.arange(_QUANTILES + 1) * n) // _QUANTILES, n - 1)
    at = np.searchsorted(cum_counts, ranks, side="right")  # the value holding each rank
    low, high, w = _bin_weights(keys[at], cum_counts[at])
    return _equi_width(low, high, w, float(keys[0]), float(keys[-1]))


def sketch_histogram(sketch: NumericSketch) -> Histogram:
    """The STANDARD histogram from a sketch's quantile estimates and CDF (approximate)."""
    n = sketch.count
    ranks = np.minimum((np.arange(_QUANTILES + 1) * n) // _QUANTILES, n - 1)
    q = sketch.quantiles(ranks / max(n - 1, 1))
    cum = np.rint(np.asarray(sketch.cdf(q), dtype=np.float64) * n)
    low, high, w = _bin_weights(q, cum)
    return _equi_width(low, high, w, float(sketch.min), float(sketch.max))


def _rebucket(bounds: list[float], hist: Histogram) -> list[float]:
    """``metrics.cc: RebucketHistogram``: counts on ``bounds``, uniform within a bucket."""
    out: list[float] = []
    idx = 0
    top = len(bounds) - 1
    for lo, hi, c in hist:
        while lo > bounds[idx]:
            out.append(0.0)
            idx += 1
        covered = []
        while hi > bounds[idx]:
            covered.append(bounds[idx])
            idx += 1
        covered.append(bounds[idx])
        for k in range(len(covered) - 1):
            out.append((covered[k + 1] - covered[k]) / (hi - lo) * c)
    out.extend([0.0] * (top - idx))
    return out


def js_divergence(h1: Histogram, h2: Histogram) -> float:
    """TFDV's Jensen-Shannon divergence (log base 2) of two aligned STANDARD histograms."""
    points1 = {lo: c for lo, hi, c in h1 if lo == hi}
    points2 = {lo: c for lo, hi, c in h2 if lo == hi}
    h1 = [b for b in h1 if b[0] != b[1]]
    h2 = [b for b in h2 if b[0] != b[1]]
    b1 = {v for lo, hi, _ in h1 for v in (lo, hi)}
    b2 = {v for lo, hi, _ in h2 for v in (lo, hi)}
    if b1 != b2:
        bounds = sorted(b1 | b2)
        p, q = _rebucket(bounds, h1), _rebucket(bounds, h2)
    else:
        p, q = [c for *_, c in h1], [c for *_, c in h2]
    for v in sorted(set(points1) | set(points2)):
        p.append(points1.get(v, 0.0))
        q.append(points2.get(v, 0.0))
    pa, qa = np.array(p), np.array(q)
    pa, qa = pa / pa.sum(), qa / qa.sum()
    m = (pa + qa) / 2

    def kl(a: np.ndarray) -> float:
        keep = (a > 0) & (m > 0)
        return float(np.sum(a[keep] * np.log2(a[keep] / m[keep])))

    return (kl(pa) + kl(qa)) / 2
