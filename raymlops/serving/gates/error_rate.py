"""The error-rate gate: the new version's server error rate is at most ``max_rate``."""

from __future__ import annotations

from typing import Any

from raymlops.serving.gates._checks import fmt, unit
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["ErrorRateGate"]


class ErrorRateGate(Gate):
    """The new version's server error rate is at most ``max_rate``.

    Args:
        max_rate: the highest acceptable ``errors / requests`` (0 to 1).
        min_samples: requests needed before the gate decides.
        name: defaults to ``"error_rate"``.

    Example:
        >>> ErrorRateGate(max_rate=0.01)
        ErrorRateGate(name='error_rate', max_rate=0.01, min_samples=100)
    """

    kind = "error_rate"
    _params = ("max_rate",)

    def __init__(self, *, max_rate: float, min_samples: int = 100, name: str | None = None):
        self.max_rate = unit(max_rate, "max_rate")
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.requests
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "requests")
        rate = canary.errors / n
        ok = rate <= self.max_rate
        sign = "<=" if ok else ">"
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, rate, self.max_rate, n,
            f"{fmt(rate)} {sign} {fmt(self.max_rate)} ({canary.errors} of {n} requests failed)",
        )  # fmt: skip
