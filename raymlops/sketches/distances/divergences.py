"""Distances between two count vectors: PSI, Jensen-Shannon, L-infinity.

Count-based, so exact in both modes. PSI and :func:`jensenshannon` use the natural log;
:func:`jensenshannon_divergence` uses base 2 unless ``base`` is given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from raymlops.core.errors import InvalidInputError
from raymlops.sketches.distances._common import need_values

__all__ = ["count_pair", "jensenshannon", "jensenshannon_divergence", "linf", "psi"]


def count_pair(reference_counts: Any, current_counts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two aligned, finite, non-negative count vectors as floats, each with a positive sum."""
    p = np.asarray(reference_counts, dtype=np.float64).ravel()
    q = np.asarray(current_counts, dtype=np.float64).ravel()
    if p.shape != q.shape:
        raise InvalidInputError(
            f"counts must be aligned, got {p.size} and {q.size} entries; use category_counts() or binned_counts()"
        )
    if (p < 0).any() or (q < 0).any() or not np.isfinite(p).all() or not np.isfinite(q).all():
        raise InvalidInputError("counts must be finite and non-negative")
    need_values(int(p.sum() > 0), int(q.sum() > 0))
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
    p, q = count_pair(reference_counts, current_counts)
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
    p, q = count_pair(reference_counts, current_counts)
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
    p, q = count_pair(reference_counts, current_counts)
    return float(np.abs(p / p.sum() - q / q.sum()).max())
