"""Check every gate on the new version's stats and combine the results: :func:`evaluate_gates`."""

from __future__ import annotations

from collections.abc import Iterable

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateStatus, GateVerdict

__all__ = ["evaluate_gates"]


def evaluate_gates(
    gates: Iterable[Gate],
    canary_stats: VersionStats,
    baseline_stats: VersionStats | None = None,
    *,
    drift: bool | float | None = None,
) -> GateVerdict:
    """Check every gate and combine the results.

    Args:
        gates: the gate definitions (names must be unique).
        canary_stats: the new version's merged stats (for a shadow rollout, the shadow's).
        baseline_stats: the stable version's merged stats, for relative gates.
        drift: the drift monitor's flag or score for the new version, or None.

    Returns:
        The verdict: FAIL if any check failed, else INSUFFICIENT_DATA if any lacked data,
        else PASS.

    Raises:
        InvalidInputError: on repeated gate names or a non-gate.
    """
    gates = list(gates)
    names = [g.name for g in gates if isinstance(g, Gate)]
    if len(names) != len(gates):
        raise InvalidInputError("evaluate_gates takes Gate objects (ErrorRateGate, LatencyGate, ...)")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"gate names must be unique, got {names}; pass name=... to tell them apart")
    checks = tuple(g.check(canary_stats, baseline_stats, drift=drift) for g in gates)
    statuses = {c.status for c in checks}
    if GateStatus.FAIL in statuses:
        status = GateStatus.FAIL
    elif GateStatus.INSUFFICIENT_DATA in statuses:
        status = GateStatus.INSUFFICIENT_DATA
    else:
        status = GateStatus.PASS
    return GateVerdict(status, checks)
