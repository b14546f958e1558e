"""The shadow-agreement gate: the shadow agrees with the primary often enough."""

from __future__ import annotations

from typing import Any

from raymlops.serving.gates._checks import fmt, unit
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["ShadowAgreementGate"]


class ShadowAgreementGate(Gate):
    """The shadow version agrees with the primary on at least ``min_agreement`` of predictions.

    Args:
        min_agreement: the lowest acceptable agreement rate (0 to 1).
        min_samples: compared prediction pairs needed before the gate decides.
        name: defaults to ``"shadow_agreement"``.
    """

    kind = "shadow_agreement"
    _params = ("min_agreement",)

    def __init__(self, *, min_agreement: float, min_samples: int = 100, name: str | None = None):
        self.min_agreement = unit(min_agreement, "min_agreement")
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.shadow_total
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "shadow comparisons")
        value = canary.shadow_agree / n
        ok = value >= self.min_agreement
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, value, self.min_agreement, n,
            f"{fmt(value)} {'>=' if ok else '<'} {fmt(self.min_agreement)} ({canary.shadow_agree} of {n} agree)",
        )  # fmt: skip
