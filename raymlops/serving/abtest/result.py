"""The outcome of an A/B significance test (:class:`SignificanceResult`) and a ``(n, mean, variance)`` :class:`Summary`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["SignificanceResult", "Summary"]


class Summary(NamedTuple):
    """``n`` values with their mean and sample variance (``ddof=1``)."""

    n: int
    mean: float
    variance: float


@dataclass(frozen=True)
class SignificanceResult:
    """The outcome of one A/B significance test.

    Attributes:
        test: ``"two_proportion_z"``, ``"chi_square"`` or ``"welch_t"``.
        n_a, n_b: samples per variant.
        estimate_a, estimate_b: each variant's rate or mean.
        effect: ``estimate_b - estimate_a``.
        lift: ``effect / estimate_a``; None when ``estimate_a`` is 0.
        ci: the ``1 - alpha`` confidence interval of ``effect`` (low, high).
        alpha: the significance level.
        statistic: z, chi-square or t.
        p_value: two-sided.
        significant: ``p_value < alpha``.
        min_samples: the planned samples per variant, or None.
        sufficient: both variants have ``min_samples``; None without a plan.
        df: degrees of freedom (chi-square: 1; Welch: Welch-Satterthwaite; z: None).
    """

    test: str
    n_a: int
    n_b: int
    estimate_a: float
    estimate_b: float
    effect: float
    lift: float | None
    ci: tuple[float, float]
    alpha: float
    statistic: float
    p_value: float
    significant: bool
    min_samples: int | None
    sufficient: bool | None
    df: float | None = None

    @property
    def confidence(self) -> float:
        """The confidence level of :attr:`ci`, ``1 - alpha``."""
        return 1 - self.alpha

    @property
    def conclusive(self) -> bool:
        """Significant, with the planned sample size reached (when one was planned)."""
        return self.significant and self.sufficient is not False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (infinite statistics become strings)."""

        def num(x: float | None) -> float | str | None:
            return x if x is None or math.isfinite(x) else repr(float(x))

        return {
            "test": self.test,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "estimate_a": self.estimate_a,
            "estimate_b": self.estimate_b,
            "effect": self.effect,
            "lift": self.lift,
            "ci": [num(self.ci[0]), num(self.ci[1])],
            "confidence": self.confidence,
            "alpha": self.alpha,
            "statistic": num(self.statistic),
            "p_value": self.p_value,
            "significant": self.significant,
            "min_samples": self.min_samples,
            "sufficient": self.sufficient,
            "df": num(self.df),
        }
