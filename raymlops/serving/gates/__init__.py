"""Rollout gates: checks on a new version's live statistics that decide promotion and rollback.

Every serving replica keeps one :class:`VersionStats` per version (requests, server
errors, a latency :class:`~raymlops.sketches.NumericSketch` in milliseconds, feedback
and shadow-agreement counts) and flushes it; merging is addition (the sketches merge
exactly), so the controller's view of N replicas equals one process that saw every
request. :func:`evaluate_gates` checks the new version's stats (``canary_stats``) against
the gates, using the stable version's stats (``baseline_stats``) where a gate compares:

========================  ============================================  ====================
gate (``kind``)           passes when                                   samples counted
========================  ============================================  ====================
``error_rate``            ``errors / requests <= max_rate``             requests
``latency``               latency quantile (p99) ``<= max_ms``          latency observations
``shadow_agreement``      ``agree / total >= min_agreement``            shadow pairs
``accuracy``              feedback accuracy ``>= min_accuracy``, or     feedback labels (of
                          ``>= baseline accuracy - max_drop``           both, when relative)
``drift``                 no drift flagged (or score ``<= max_score``)  requests
========================  ============================================  ====================

A gate with fewer than ``min_samples`` samples reports INSUFFICIENT_DATA. The verdict is
FAIL if any check fails, else INSUFFICIENT_DATA if any check lacks data, else PASS (also
when there are no gates). The drift monitor lands later, so drift comes in as a boolean
or a score through ``evaluate_gates(..., drift=...)``.

Example:
    >>> canary = VersionStats()
    >>> canary.record_requests([12.0] * 180 + [40.0] * 20, errors=3)
    >>> gates = [ErrorRateGate(max_rate=0.01, min_samples=100), LatencyGate(max_ms=50, min_samples=100)]
    >>> verdict = evaluate_gates(gates, canary)
    >>> verdict.status.value, verdict.numbers()
    ('FAIL', {'error_rate': 0.015, 'p99_latency_ms': 40.0})
    >>> print(verdict.message)
    error_rate: 0.015 > 0.01 (3 of 200 requests failed)
"""

from __future__ import annotations

from raymlops.serving.gates.accuracy import AccuracyGate
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.drift import DriftGate
from raymlops.serving.gates.error_rate import ErrorRateGate
from raymlops.serving.gates.evaluate import evaluate_gates
from raymlops.serving.gates.latency import LatencyGate
from raymlops.serving.gates.registry import GATE_TYPES, gate_from_dict
from raymlops.serving.gates.shadow_agreement import ShadowAgreementGate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus, GateVerdict

__all__ = [
    "GATE_TYPES",
    "AccuracyGate",
    "DriftGate",
    "ErrorRateGate",
    "Gate",
    "GateCheck",
    "GateStatus",
    "GateVerdict",
    "LatencyGate",
    "ShadowAgreementGate",
    "VersionStats",
    "evaluate_gates",
    "gate_from_dict",
]
