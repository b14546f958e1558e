"""The outcome of gate checks: :class:`GateStatus`, one :class:`GateCheck` per gate, a :class:`GateVerdict`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["GateCheck", "GateStatus", "GateVerdict"]


class GateStatus(str, Enum):
    """The outcome of a gate check, and of a verdict."""

    PASS = "PASS"
    FAIL = "FAIL"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class GateCheck:
    """The result of one gate: its numbers and a message saying why.

    Attributes:
        name: the gate's name.
        kind: the gate's kind.
        status: PASS, FAIL or INSUFFICIENT_DATA.
        value: the measured number (None without data).
        threshold: the number it was compared with.
        samples: samples seen; ``min_samples`` needed.
        message: a sentence with the numbers.
        baseline: the baseline's number, for gates that compare with it.
    """

    name: str
    kind: str
    status: GateStatus
    value: float | None
    threshold: float | None
    samples: int
    min_samples: int
    message: str
    baseline: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "value": self.value,
            "threshold": self.threshold,
            "samples": self.samples,
            "min_samples": self.min_samples,
            "message": self.message,
            "baseline": self.baseline,
        }


@dataclass(frozen=True)
class GateVerdict:
    """The combined result of all gates.

    Attributes:
        status: FAIL if any check failed, else INSUFFICIENT_DATA if any lacked data,
            else PASS.
        checks: one :class:`GateCheck` per gate, in the gates' order.
    """

    status: GateStatus
    checks: tuple[GateCheck, ...] = ()

    @property
    def message(self) -> str:
        """The messages of the checks that decided the status (all when it is PASS)."""
        if not self.checks:
            return "no gates configured"
        if self.status is GateStatus.PASS:
            return "; ".join(c.message for c in self.checks)
        return "; ".join(c.message for c in self.checks if c.status is self.status)

    def numbers(self) -> dict[str, float | None]:
        """``{gate name: measured value}``, for rollout decision records."""
        return {c.name: c.value for c in self.checks}

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "message": self.message, "checks": [c.to_dict() for c in self.checks]}
