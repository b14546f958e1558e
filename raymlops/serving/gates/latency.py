"""The latency gate: a latency quantile (p99 by default) of the new version is at most
``max_ms``, or at most ``max_ratio`` times the stable version's over the same window."""

from __future__ import annotations

from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates._checks import fmt, positive, unit
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["LatencyGate"]


class LatencyGate(Gate):
    """A latency quantile (p99 by default) of the new version, against a bound.

    ``max_ms`` is an absolute bound. ``max_ratio`` compares with the stable version over
    the same gate window (as Kayenta and Argo Rollouts' analyses do): both versions serve
    on the same machines at the same moments, so a slow machine or a burst of load moves
    both quantiles and only the new version's own cost moves the ratio. With both, both
    must hold. The quantiles come from the merged latency sketches, within their relative
    accuracy (1 % by default).

    Args:
        max_ms: the highest acceptable latency in milliseconds.
        max_ratio: the highest acceptable ratio of the new version's quantile to the
            stable version's (which then also needs ``min_samples`` observations).
        quantile: the quantile level, in (0, 1].
        min_samples: latency observations needed before the gate decides.
        name: defaults to ``"p99_latency_ms"`` (``p50_latency_ms`` for 0.5, ...).

    Example:
        >>> LatencyGate(max_ms=250, quantile=0.95).name
        'p95_latency_ms'
        >>> from raymlops.serving.gates.stats import VersionStats
        >>> new, old = VersionStats(), VersionStats()
        >>> for ms in range(1, 101):
        ...     new.record_request(ms * 3.0); old.record_request(ms * 2.0)
        >>> LatencyGate(max_ratio=1.2, quantile=0.5, min_samples=50).check(new, old).message
        'p50_latency_ms: 149.922 ms > 1.2 x 100.495 ms (stable version) over 100 requests'
    """

    kind = "latency"
    _params = ("max_ms", "max_ratio", "quantile")

    def __init__(
        self, *, max_ms: float | None = None, max_ratio: float | None = None, quantile: float = 0.99, min_samples: int = 100,
        name: str | None = None,
    ):  # fmt: skip
        if max_ms is None and max_ratio is None:
            raise InvalidInputError("a latency gate needs max_ms, max_ratio or both")
        self.max_ms = None if max_ms is None else positive(max_ms, "max_ms")
        self.max_ratio = None if max_ratio is None else positive(max_ratio, "max_ratio")
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
        bounds, base = [], None  # (limit in ms, how the message names it); the tighter one decides
        if self.max_ms is not None:
            bounds.append((self.max_ms, f"{fmt(self.max_ms)} ms"))
        if self.max_ratio is not None:
            m = 0 if baseline is None else baseline.latency_ms.count
            if m < self.min_samples or m == 0:
                return self._insufficient(m, "latency observations of the stable version")
            base = baseline.latency_ms.quantile(self.quantile)  # type: ignore[union-attr]
            bounds.append((self.max_ratio * base, f"{fmt(self.max_ratio)} x {fmt(base)} ms (stable version)"))
        limit, bound = min(bounds, key=lambda b: b[0])
        ok = value <= limit
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, value, limit, n,
            f"{fmt(value)} ms {'<=' if ok else '>'} {bound} over {n} requests", base,
        )  # fmt: skip
