"""Mean and population standard deviation, computed and merged without overflow.

Moments are kept as count, mean and population standard deviation (ddof=0) and merged
with Chan et al.'s pairwise formula (the M2 form) evaluated on power-of-two-scaled
operands: accurate when the mean is large against the spread, and finite for any finite
data (a stored M2 or sum of squares would overflow past about 1e154).

Example:
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> m1, s1 = moments(x[:1], 1.0)
    >>> m2, s2 = moments(x[1:], 4.0)
    >>> combine_moments(1, m1, s1, 3, m2, s2) == moments(x, 4.0)
    True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["combine_moments", "moments"]

_SCALE_ABOVE = 2.0**400  # moments of data beyond 2**400 (or below 2**-400) are rescaled


def moments(x: np.ndarray, big: float) -> tuple[float, float]:
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


def combine_moments(n_a: int, mean_a: float, std_a: float, n_b: int, mean_b: float, std_b: float) -> tuple[float, float]:
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
