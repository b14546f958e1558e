"""Tests on rates (conversion, accuracy) from success counts: z-test, chi-square, sample sizes."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from raymlops.core.errors import InvalidInputError
from raymlops.serving.abtest._checks import check_alpha, check_counts, check_min_samples, lift, sufficient
from raymlops.serving.abtest.result import SignificanceResult

__all__ = ["chi_square_test", "required_samples", "two_proportion_ztest"]


def _wald_ci(pa: float, na: int, pb: float, nb: int, alpha: float) -> tuple[float, float]:
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return (pb - pa - half, pb - pa + half)


def two_proportion_ztest(
    *, successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05, min_samples: int | None = None
) -> SignificanceResult:
    """Two-sided z-test of ``p_B = p_A`` from success counts.

    ``z = (p_B - p_A) / sqrt(p (1 - p) (1/n_A + 1/n_B))`` with the pooled rate
    ``p = (s_A + s_B) / (n_A + n_B)``; ``p_value = 2 * (1 - Phi(|z|))``. When every
    outcome is the same (``p`` is 0 or 1) the rates are equal: ``z = 0``, ``p_value = 1``.
    The interval is the unpooled Wald interval ``effect +/- z_{1-alpha/2} * se``.

    Args:
        successes_a, n_a: successes and trials of A (the stable version).
        successes_b, n_b: of B (the new version).
        alpha: significance level; the interval has confidence ``1 - alpha``.
        min_samples: planned trials per variant (see :func:`required_samples`).

    Raises:
        InvalidInputError: on negative counts, successes above trials, or no trials.
    """
    alpha, min_samples = check_alpha(alpha), check_min_samples(min_samples)
    sa, na = check_counts(successes_a, n_a, "a")
    sb, nb = check_counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    pooled = (sa + sb) / (na + nb)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    z = (pb - pa) / se0 if se0 > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(z)))
    return SignificanceResult(
        "two_proportion_z", na, nb, pa, pb, pb - pa, lift(pb - pa, pa), _wald_ci(pa, na, pb, nb, alpha), alpha,
        z, p, p < alpha, min_samples, sufficient(na, nb, min_samples),
    )  # fmt: skip


def chi_square_test(
    *, successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05, min_samples: int | None = None
) -> SignificanceResult:
    """Pearson's chi-square test of independence on the 2x2 table (variant x outcome).

    Uses :func:`scipy.stats.chi2_contingency` with ``correction=False``: no Yates
    continuity correction, so the statistic equals the square of
    :func:`two_proportion_ztest`'s z and the p-value is the same. When a column is
    empty (every outcome the same) the table has no information: statistic 0, p-value 1.
    The interval is the unpooled Wald interval of ``p_B - p_A``.

    Args:
        successes_a, n_a, successes_b, n_b, alpha, min_samples: as in
            :func:`two_proportion_ztest`.

    Raises:
        InvalidInputError: on negative counts, successes above trials, or no trials.
    """
    alpha, min_samples = check_alpha(alpha), check_min_samples(min_samples)
    sa, na = check_counts(successes_a, n_a, "a")
    sb, nb = check_counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    if sa + sb in (0, na + nb):
        chi2, p = 0.0, 1.0
    else:
        res = stats.chi2_contingency(np.array([[sa, na - sa], [sb, nb - sb]]), correction=False)
        chi2, p = float(res.statistic), float(res.pvalue)
    return SignificanceResult(
        "chi_square", na, nb, pa, pb, pb - pa, lift(pb - pa, pa), _wald_ci(pa, na, pb, nb, alpha), alpha,
        chi2, p, p < alpha, min_samples, sufficient(na, nb, min_samples), 1.0,
    )  # fmt: skip


def required_samples(p_baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Samples per variant for a two-sided two-proportion test to detect ``mde``.

    ``n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p1 (1 - p1) + p2 (1 - p2)))**2 / mde**2``
    with ``p1 = p_baseline``, ``p2 = p_baseline + mde`` and ``pbar = (p1 + p2) / 2``,
    rounded up.

    Args:
        p_baseline: A's expected rate, in (0, 1).
        mde: the minimum detectable effect, an absolute difference of rates (e.g. 0.02
            for 10 % to 12 %); negative for a decrease. ``p_baseline + mde`` must be in (0, 1).
        alpha: the significance level.
        power: the probability of detecting a true effect of ``mde``.

    Raises:
        InvalidInputError: on values out of range.
    """
    for name, v in (("p_baseline", p_baseline), ("power", power)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise InvalidInputError(f"{name} must be a number between 0 and 1, got {v!r}")
    alpha = check_alpha(alpha)
    if isinstance(mde, bool) or not isinstance(mde, (int, float)) or not math.isfinite(mde) or mde == 0:
        raise InvalidInputError(f"mde must be a non-zero difference of rates, got {mde!r}")
    p1, p2 = float(p_baseline), float(p_baseline) + float(mde)
    if not 0 < p2 < 1:
        raise InvalidInputError(f"p_baseline + mde = {p2:g} must be between 0 and 1")
    pbar = (p1 + p2) / 2
    za, zb = float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / mde**2
    return math.ceil(n - 1e-9)
