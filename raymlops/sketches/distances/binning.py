"""Shared quantile bins for PSI and Jensen-Shannon on numeric values, equal in both modes.

The reference's quantiles at ``k/bins`` (``k = 1..bins-1``; the value of 0-based rank
``floor(k/bins * (n-1))``, the sketch's rank convention) are *snapped up to the upper
edge of the DDSketch bucket that holds them*; repeated cuts are dropped (ties and
few-valued columns give fewer bins). A sketch knows exactly which bucket holds a given
rank, and a bucket lies wholly on one side of any of its edges, so the cuts and the
counts on both sides of every cut are the same exact integers whether computed from raw
values (``searchsorted``) or from sketches: the two modes reach the same PSI and
Jensen-Shannon and so the same verdict. The bins are ``(-inf, c1], (c1, c2], ...,
(c_last, +inf)``, except that a negative cut ``c`` (a negative bucket's upper edge, which
the bucket excludes) puts ``c`` itself in the bin to its right. Default ``bins=10``
(deciles, the usual PSI binning) and the profiles' accuracy ``0.01``, so a bin edge lies
within 2% of the reference quantile it stands for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.sketches._arrays import sorted_finite
from raymlops.sketches.distances._common import need_values, numeric_pair
from raymlops.sketches.numeric import NumericSketch

__all__ = ["binned_counts", "quantile_cuts"]


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
        need_values(reference.count, 1)
        _, hi, c = reference.bins()
        idx = np.searchsorted(np.cumsum(c), _cut_ranks(reference.count, bins), side="right")
        return np.unique(hi[idx])
    x = sorted_finite(reference)
    need_values(x.size, 1)
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
        x = side if isinstance(side, np.ndarray) else sorted_finite(side)
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
    a, b, sketched = numeric_pair(reference, current)
    need_values(a.count if sketched else a.size, b.count if sketched else b.size)
    cuts = quantile_cuts(a, bins=bins, relative_accuracy=relative_accuracy)
    return cuts, _counts_on_cuts(a, cuts), _counts_on_cuts(b, cuts)
