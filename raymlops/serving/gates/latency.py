"""The latency gate: a latency quantile (p99 by default) of the new version is at most ``max_ms``."""

from __future__ import annotations

from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates._checks import fmt, positive, unit
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["LatencyGate"]


class LatencyGate(Gate):
    """A latency quantile (p99 by default) of the new version is at most ``max_ms``.

    The quantile comes from the merged latency sketch, within its relative accuracy
    (1 % by default).

    Args:
        max_ms: the highest acceptable latency in milliseconds.
        quantile: the quantile level, in (0, 1].
        min_samples: latency observations needed before the gate decides.
        name: defaults to ``"p99_latency_ms"`` (``p50_latency_ms`` for 0.5, ...).

    Example:
        >>> LatencyGate(max_ms=250, quantile=0.95).name
        'p95_latency_ms'
    """

    kind = "latency"
    _params = ("max_ms", "quantile")

    def __init__(self, *, max_ms: float, quantile: float = 0.99, min_samples: int = 100, name: str | None = None):
        self.max_ms = positive(max_ms, "max_ms")
        self.quantile = unit(quantile, "quantile")
        if self.quantile == 0:
            raise InvalidInputError("quantile must be above 0 (0 is the minimum latency); use e.g. 0.99")
        self._init_common(name, min_samples)

    def default_name(self) -> str:
        return f"p{self.quantile * 100:g}_latency_ms"

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.latency_ms.count
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "latency observations")
        value = canary.latency_ms.quantile(self.quantile)
        ok = value <= self.max_ms
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, value, self.max_ms, n,
            f"{fmt(value)} ms {'<=' if ok else '>'} {fmt(self.max_ms)} ms over {n} requests",
        )  # fmt: skip
