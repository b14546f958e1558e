"""What a rollout records: its states, its actions, one :class:`RolloutRecord` per decision.

Example:
    >>> rec = RolloutRecord(60.0, 1, 50.0, "advance", "step 1/3 at 10% baked 60s", RolloutState.RUNNING)
    >>> RolloutRecord.from_dict(rec.to_dict()) == rec, rec.to_dict()["state"]
    (True, 'RUNNING')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from raymlops.core.errors import ConflictError, InvalidInputError

__all__ = ["ACTIONS", "FINAL_STATES", "RolloutRecord", "RolloutState", "RolloutStateError"]

ACTIONS = (
    "start", "ready", "advance", "hold", "promote", "rollback", "manual_promote", "manual_rollback", "set_percent",
)  # fmt: skip
"""Every action a :class:`RolloutRecord` can carry."""


class RolloutState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    HOLDING = "HOLDING"
    PROMOTED = "PROMOTED"
    ROLLED_BACK = "ROLLED_BACK"


FINAL_STATES = (RolloutState.PROMOTED, RolloutState.ROLLED_BACK)
"""The states a rollout never leaves."""


class RolloutStateError(ConflictError):
    """An operation the rollout's current state does not allow."""

    code = "rollout_state"
    template = "cannot {op} the rollout of {model!r} while it is {state}; {hint}"


@dataclass(frozen=True)
class RolloutRecord:
    """One decision of a rollout.

    Attributes:
        time: when (the ``now`` given to the method).
        step: the step index after the decision (None before start).
        percent: the new version's share of traffic after the decision (for ``shadow``
            before promotion, 0: it only receives mirrored copies).
        action: one of :data:`ACTIONS`.
        reason: why, in words.
        state: the state after the decision.
        numbers: the numbers behind it (gate values and samples, elapsed and bake seconds).
    """

    time: float
    step: int | None
    percent: float
    action: str
    reason: str
    state: RolloutState
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "step": self.step,
            "percent": self.percent,
            "action": self.action,
            "reason": self.reason,
            "state": self.state.value,
            "numbers": dict(self.numbers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RolloutRecord:
        try:
            rec = cls(
                time=float(data["time"]), step=data["step"], percent=float(data["percent"]),
                action=data["action"], reason=str(data["reason"]), state=RolloutState(data["state"]),
                numbers=dict(data.get("numbers") or {}),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"invalid rollout record {data!r}: {e}") from None
        if rec.action not in ACTIONS:
            raise InvalidInputError(f"unknown rollout action {rec.action!r}: one of {', '.join(ACTIONS)}")
        return rec

    def same_hold(self, other: RolloutRecord) -> bool:
        """Whether both are the same decision (action, step, percent, state, reason), time aside."""
        return (self.action, self.step, self.percent, self.state, self.reason) == (
            other.action, other.step, other.percent, other.state, other.reason,
        )  # fmt: skip
