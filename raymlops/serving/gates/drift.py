"""The drift gate: no drift flagged on the new version's traffic."""

from __future__ import annotations

import math

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates._checks import fmt
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["DriftGate"]


class DriftGate(Gate):
    """No drift flagged on the new version's traffic.

    The drift result comes from the monitor through ``evaluate_gates(..., drift=...)``: a
    boolean (True fails) or a score (fails above ``max_score``); None means no result yet.

    Args:
        max_score: the highest acceptable drift score; None accepts booleans only.
        min_samples: requests of the new version needed before the gate decides.
        name: defaults to ``"drift"``.
    """

    kind = "drift"
    _params = ("max_score",)

    def __init__(self, *, max_score: float | None = None, min_samples: int = 0, name: str | None = None):
        if max_score is not None and (
            isinstance(max_score, bool) or not isinstance(max_score, (int, float)) or not math.isfinite(max_score)
        ):
            raise InvalidInputError(f"max_score must be a finite number or None, got {max_score!r}")
        self.max_score = None if max_score is None else float(max_score)
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: bool | float | None) -> GateCheck:
        n = canary.requests
        if drift is None:
            return self._result(GateStatus.INSUFFICIENT_DATA, None, self.max_score, n, "no drift result yet")
        if n < self.min_samples:
            return self._insufficient(n, "requests")
        if isinstance(drift, bool):
            status = GateStatus.FAIL if drift else GateStatus.PASS
            return self._result(
                status, float(drift), self.max_score, n, "drift detected" if drift else "no drift detected"
            )
        if not isinstance(drift, (int, float)) or math.isnan(drift):
            raise InvalidInputError(f"drift must be a boolean, a score or None, got {drift!r}")
        if self.max_score is None:
            raise InvalidInputError(
                f"gate {self.name!r} has no max_score, so it takes a boolean drift flag; got the score {drift!r}"
            )
        ok = drift <= self.max_score
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, float(drift), self.max_score, n,
            f"score {fmt(float(drift))} {'<=' if ok else '>'} {fmt(self.max_score)}",
        )  # fmt: skip
