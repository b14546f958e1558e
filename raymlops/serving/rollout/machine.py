"""The rollout state machine: :class:`Rollout`, the state and every decision of one rollout.

The states, transitions and records are described in :mod:`raymlops.serving.rollout`;
what depends on the strategy (stages, routes, percents, words) comes from the plan's
:class:`~raymlops.serving.strategies.RolloutStrategy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.serving._checks import fmt, moment, percent
from raymlops.serving.gates import GateStatus, GateVerdict
from raymlops.serving.rollout.plan import RolloutPlan
from raymlops.serving.rollout.record import ACTIONS, FINAL_STATES, RolloutRecord, RolloutState, RolloutStateError
from raymlops.serving.routing import RoutingTable
from raymlops.serving.strategies import PercentRefused, Routing, Share

__all__ = ["Rollout"]

_TABLE_CHANGES = frozenset(ACTIONS) - {"hold"}


def _verdict_parts(verdict: Any, has_gates: bool) -> tuple[GateStatus, dict[str, Any], str]:
    """Status, record numbers and a stable reason text from a verdict."""
    if verdict is None:
        if has_gates:
            raise InvalidInputError(
                "this rollout has gates: pass the GateVerdict from evaluate_gates(plan.gates, ...) to tick"
            )
        return GateStatus.PASS, {}, "no gates configured"
    if isinstance(verdict, GateVerdict):
        numbers: dict[str, Any] = {}
        for c in verdict.checks:
            numbers[c.name] = c.value
            numbers[f"{c.name}_samples"] = c.samples
        if verdict.status is GateStatus.INSUFFICIENT_DATA:
            lacking = [c.name for c in verdict.checks if c.status is GateStatus.INSUFFICIENT_DATA]
            return verdict.status, numbers, f"waiting for data: {', '.join(lacking)}"
        return verdict.status, numbers, verdict.message
    try:
        status = GateStatus(verdict)
    except ValueError:
        raise InvalidInputError(
            f"verdict must be a GateVerdict, a GateStatus or one of PASS, FAIL, INSUFFICIENT_DATA, got {verdict!r}"
        ) from None
    reason = {GateStatus.PASS: "gates pass", GateStatus.FAIL: "gates failed"}.get(status, "waiting for data")
    return status, {}, reason


class Rollout:
    """The state of one rollout, with every decision taken.

    Args:
        plan: the plan.
        revision: the revision of the routing table live before the rollout; each table
            the rollout gives has a higher one.

    Not thread-safe: one controller owns it.

    Example:
        >>> plan = RolloutPlan(model="iris", strategy="blue-green", from_version=3, to_version=4, bake_s=60)
        >>> r = Rollout(plan)
        >>> r.start(now=0).reason
        'deployed version 4 at 0%; waiting for it to report ready'
        >>> r.tick(now=5).action, r.routing_table().live_versions
        ('hold', (3,))
        >>> r.mark_ready(now=10).action, [(x.version, x.percent) for x in r.routing_table().routes]
        ('ready', [(4, 100.0), (3, 0.0)])
        >>> r.tick(now=70).reason
        'step 1/1 at 100% baked 60s with gates passing; version 4 promoted, version 3 retired'
        >>> r.routing_table().deployed_versions, [x.action for x in r.history]
        ((4,), ['start', 'hold', 'ready', 'promote'])
    """

    def __init__(self, plan: RolloutPlan, *, revision: int = 0):
        if not isinstance(plan, RolloutPlan):
            raise InvalidInputError(f"plan must be a RolloutPlan, got {type(plan).__name__}")
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
            raise InvalidInputError(f"revision must be a non-negative integer, got {revision!r}")
        self.plan = plan
        self._state = RolloutState.PENDING
        self._step: int | None = None
        self._percent = 0.0
        self._mirror = plan.mirror_percent
        self._ready = not plan.wait_ready
        self._started_at: float | None = None
        self._step_started_at: float | None = None
        self._revision = revision
        self._history: list[RolloutRecord] = []

    # -- views
    @property
    def state(self) -> RolloutState:
        return self._state

    @property
    def step(self) -> int | None:
        """The current step index (None before start)."""
        return self._step

    @property
    def percent(self) -> float:
        """The new version's share of live traffic."""
        return self._percent

    @property
    def mirror_percent(self) -> float:
        """For ``shadow``: the share of requests mirrored to the new version."""
        return self._mirror

    @property
    def ready(self) -> bool:
        """Whether the new version reported ready (always True when the plan does not wait)."""
        return self._ready

    @property
    def waiting_ready(self) -> bool:
        return self._state is RolloutState.RUNNING and not self._ready

    @property
    def is_final(self) -> bool:
        return self._state in FINAL_STATES

    @property
    def revision(self) -> int:
        """The revision of :meth:`routing_table`; it grows with every traffic change."""
        return self._revision

    @property
    def history(self) -> tuple[RolloutRecord, ...]:
        return tuple(self._history)

    # -- helpers
    def _error(self, op: str, hint: str) -> RolloutStateError:
        return RolloutStateError(op=op, model=self.plan.model, state=self._state.value, hint=hint)

    def _record(self, now: float, action: str, reason: str, numbers: dict[str, Any] | None = None) -> RolloutRecord:
        rec = RolloutRecord(now, self._step, self._percent, action, reason, self._state, dict(numbers or {}))
        if action == "hold" and self._history and self._history[-1].same_hold(rec):
            return rec
        if action in _TABLE_CHANGES:
            self._revision += 1
        self._history.append(rec)
        return rec

    def _n(self) -> str:
        return f"{self._step + 1}/{len(self.plan.stages)}"  # type: ignore[operator]

    def _enter_stage(self, now: float) -> None:
        self._step_started_at = now
        self._percent = self.plan.stages[self._step] if self._ready else 0.0  # type: ignore[index]

    def _share(self) -> Share:
        return Share(self._percent, self._mirror)

    def _stage_text(self) -> str:
        p = self.plan
        return p.rollout_strategy.describe(p.from_version, p.to_version, self._share())

    # -- transitions
    def start(self, now: float) -> RolloutRecord:
        """Begin the first stage.

        Raises:
            RolloutStateError: unless the rollout is PENDING.
        """
        now = moment(now)
        if self._state is not RolloutState.PENDING:
            raise self._error("start", "a rollout starts once; start a new rollout instead")
        self._state, self._step, self._started_at = RolloutState.RUNNING, 0, now
        self._enter_stage(now)
        if not self._ready:
            reason = f"deployed version {self.plan.to_version} at 0%; waiting for it to report ready"
        else:
            reason = self._stage_text()
        return self._record(now, "start", reason)

    def mark_ready(self, now: float) -> RolloutRecord | None:
        """The new version reported ready: its first stage starts (and its bake clock).

        Returns:
            The ``ready`` record, or None when nothing changed (already ready, final, or
            the plan does not wait for readiness).

        Raises:
            RolloutStateError: if the rollout has not started.
        """
        now = moment(now)
        if self._state is RolloutState.PENDING:
            raise self._error("mark ready", "call start(now) first")
        if not self.waiting_ready:
            return None
        self._ready = True
        self._enter_stage(now)
        waited = now - self._started_at  # type: ignore[operator]
        return self._record(
            now, "ready", f"version {self.plan.to_version} is ready; {self._stage_text()}", {"waited_s": waited}
        )

    def tick(self, now: float, verdict: GateVerdict | GateStatus | str | None = None) -> RolloutRecord | None:
        """Decide, from the clock and the gates: advance, promote, roll back, or hold.

        Args:
            now: the current time in seconds.
            verdict: the new version's :class:`GateVerdict` (or its status); None is
                allowed (as PASS) only when the plan has no gates.

        Returns:
            The decision (a ``hold`` identical to the last record is not appended again),
            or None once the rollout is PROMOTED or ROLLED_BACK.

        Raises:
            RolloutStateError: if the rollout has not started.
            InvalidInputError: on an invalid verdict.
        """
        now = moment(now)
        if self._state is RolloutState.PENDING:
            raise self._error("tick", "call start(now) first")
        if self.is_final:
            return None
        p = self.plan
        if not self._ready:  # no traffic yet, so the gates have nothing to say
            waited = max(0.0, now - self._started_at)  # type: ignore[operator]
            if p.ready_timeout_s is not None and waited >= p.ready_timeout_s:
                return self._finish(
                    now, "rollback",
                    f"version {p.to_version} did not report ready within {fmt(p.ready_timeout_s)}s",
                    {"waited_s": waited},
                )  # fmt: skip
            reason = f"waiting for version {p.to_version} to report ready"
            return self._record(now, "hold", reason, {"waited_s": waited})
        status, numbers, message = _verdict_parts(verdict, bool(p.gates))
        if status is GateStatus.FAIL:
            return self._finish(now, "rollback", f"gates failed: {message}", numbers)
        elapsed = max(0.0, now - self._step_started_at)  # type: ignore[operator]
        bake = p.bake_s[self._step]  # type: ignore[index]
        numbers = {**numbers, "elapsed_s": elapsed, "bake_s": bake}
        if status is GateStatus.INSUFFICIENT_DATA:
            return self._record(now, "hold", message, numbers)
        strategy, share = p.rollout_strategy, self._share()
        where = strategy.position(share)
        if self._state is RolloutState.HOLDING:
            return self._record(now, "hold", f"holding {where}; gates pass; waiting for promote or rollback", numbers)
        if elapsed < bake:
            return self._record(now, "hold", f"baking step {self._n()} {where} for {fmt(bake)}s; gates pass", numbers)
        baked = f"{strategy.stage_label(self._n(), p.to_version, share)} baked {fmt(bake)}s with gates passing"
        if self._step + 1 < len(p.stages):  # type: ignore[operator]
            self._step += 1  # type: ignore[operator]
            self._enter_stage(now)
            return self._record(now, "advance", f"{baked}; {self._stage_text()}", numbers)
        if self._percent == 100:
            retired = strategy.promote_note(p.from_version)
            return self._finish(now, "promote", f"{baked}; version {p.to_version} promoted{retired}", numbers)
        self._state = RolloutState.HOLDING
        return self._record(now, "hold", f"{baked}; holding until promote or rollback", numbers)

    def _finish(self, now: float, action: str, reason: str, numbers: dict[str, Any] | None = None) -> RolloutRecord:
        if action in ("promote", "manual_promote"):
            self._state, self._percent = RolloutState.PROMOTED, 100.0
        else:
            self._state, self._percent = RolloutState.ROLLED_BACK, 0.0
        return self._record(now, action, reason, numbers)

    def promote(self, now: float, reason: str = "promoted by operator") -> RolloutRecord:
        """Send all traffic to the new version now, and retire the old one.

        Raises:
            RolloutStateError: unless RUNNING or HOLDING with the new version ready.
        """
        now = moment(now)
        if self._state not in (RolloutState.RUNNING, RolloutState.HOLDING):
            raise self._error("promote", "only a running or holding rollout can be promoted")
        if not self._ready:
            raise self._error(
                "promote", f"version {self.plan.to_version} has not reported ready; wait for it or roll back"
            )
        return self._finish(now, "manual_promote", str(reason))

    def rollback(self, now: float, reason: str = "rolled back by operator") -> RolloutRecord:
        """Send all traffic back to the old version now.

        Raises:
            RolloutStateError: if the rollout is already PROMOTED or ROLLED_BACK.
        """
        now = moment(now)
        if self.is_final:
            raise self._error("roll back", "start a new rollout to go back to the old version")
        return self._finish(now, "manual_rollback", str(reason))

    def set_percent(self, p: float, *, now: float, reason: str = "set by operator") -> RolloutRecord:
        """Fix the new version's share of traffic (for ``shadow``, the mirrored share) and HOLD.

        The plan's strategy says what the percent applies to.

        Raises:
            RolloutStateError: unless RUNNING or HOLDING with the new version ready, or
                when the strategy has no percent to set (``recreate``).
            InvalidInputError: unless ``p`` is between 0 and 100 with at most two decimals.
        """
        now = moment(now)
        p = percent(p, "percent")
        try:
            share = self.plan.rollout_strategy.apply_percent(self._share(), p)
        except PercentRefused as refused:
            raise self._error("set the percent of", refused.hint) from None
        if self._state not in (RolloutState.RUNNING, RolloutState.HOLDING) or not self._ready:
            raise self._error("set the percent of", "only a running or holding rollout with a ready version")
        self._percent, self._mirror = share
        self._state = RolloutState.HOLDING
        return self._record(now, "set_percent", f"{reason}: {self._stage_text()}", {"percent": p})

    # -- routing
    def routing_table(self) -> RoutingTable:
        """The routing table of the current state (its ``revision`` is :attr:`revision`).

        PENDING and ROLLED_BACK route everything to the old version, PROMOTED to the new
        one; while running or holding, the plan's strategy gives the routes.
        """
        p, rev = self.plan, self._revision
        old, new = p.from_version, p.to_version
        if self._state in (RolloutState.PENDING, RolloutState.ROLLED_BACK):
            return p.table(Routing(((old, 100.0),)), revision=rev)
        if self._state is RolloutState.PROMOTED:
            return p.table(Routing(((new, 100.0),)), revision=rev)
        return p.table(p.rollout_strategy.routes(old, new, self._share()), revision=rev)

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the plan, the state and the history."""
        return {
            "plan": self.plan.to_dict(),
            "state": self._state.value,
            "step": self._step,
            "percent": self._percent,
            "mirror_percent": self._mirror,
            "ready": self._ready,
            "started_at": self._started_at,
            "step_started_at": self._step_started_at,
            "revision": self._revision,
            "history": [r.to_dict() for r in self._history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rollout:
        """Rebuild a rollout (e.g. after the controller restarts) from :meth:`to_dict` output.

        Raises:
            InvalidInputError: on an invalid dict.
        """
        keys = {
            "plan", "state", "step", "percent", "mirror_percent", "ready", "started_at", "step_started_at",
            "revision", "history",
        }  # fmt: skip
        if not isinstance(data, Mapping) or set(data) != keys:
            raise InvalidInputError(f"a rollout dict has exactly the keys {sorted(keys)}")
        r = cls(RolloutPlan.from_dict(data["plan"]), revision=data["revision"])
        try:
            r._state = RolloutState(data["state"])
        except ValueError:
            raise InvalidInputError(f"unknown rollout state {data['state']!r}") from None
        step = data["step"]
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(r.plan.stages)
        ):
            raise InvalidInputError(f"step must be None or a stage index of the plan, got {step!r}")
        r._step = step
        r._percent = percent(data["percent"], "percent")
        r._mirror = percent(data["mirror_percent"], "mirror_percent")
        r._ready = bool(data["ready"])
        r._started_at = None if data["started_at"] is None else moment(data["started_at"])
        r._step_started_at = None if data["step_started_at"] is None else moment(data["step_started_at"])
        r._history = [RolloutRecord.from_dict(h) for h in data["history"]]
        return r

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rollout):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        p = self.plan
        return (
            f"Rollout(model={p.model!r}, strategy={p.strategy!r}, {p.from_version}->{p.to_version}, "
            f"state={self._state.value}, step={self._step}, percent={fmt(self._percent)}, revision={self._revision})"
        )
