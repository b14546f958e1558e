"""The gate registry: one line per gate kind in :data:`GATE_TYPES`.

Example:
    >>> sorted(GATE_TYPES)
    ['accuracy', 'drift', 'error_rate', 'latency', 'shadow_agreement']
    >>> gate_from_dict({"kind": "error_rate", "max_rate": 0.01})
    ErrorRateGate(name='error_rate', max_rate=0.01, min_samples=100)
"""

from __future__ import annotations

from raymlops.serving.gates.accuracy import AccuracyGate
from raymlops.serving.gates.base import GATE_TYPES, gate_from_dict
from raymlops.serving.gates.drift import DriftGate
from raymlops.serving.gates.error_rate import ErrorRateGate
from raymlops.serving.gates.latency import LatencyGate
from raymlops.serving.gates.shadow_agreement import ShadowAgreementGate

__all__ = ["GATE_TYPES", "gate_from_dict"]

GATE_TYPES.update(
    {
        cls.kind: cls
        for cls in (
            ErrorRateGate,
            LatencyGate,
            ShadowAgreementGate,
            AccuracyGate,
            DriftGate,
        )
    }
)
