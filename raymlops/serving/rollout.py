"""The rollout state machine: from one model version to another, gated on live metrics.

A :class:`RolloutPlan` says how (strategy, steps, bake time, gates); a :class:`Rollout`
holds where the rollout is and every decision taken, and gives the
:class:`~raymlops.serving.routing.RoutingTable` for its current state. It is pure: the
controller actor calls :meth:`Rollout.tick` every gate interval with the clock and the
:class:`~raymlops.serving.gates.GateVerdict` of the new version's stats, pushes
:meth:`Rollout.routing_table` to the ingress replicas when its ``revision`` changes,
and stores :meth:`Rollout.to_dict` in the metadata store.

States and transitions::

    PENDING --start--> RUNNING(step 0) --tick: bake passed, gates PASS--> RUNNING(step i+1)
    RUNNING(last step at 100 %) --tick: bake passed, gates PASS--> PROMOTED
    RUNNING(last step below 100 %, or shadow) --tick: bake passed, gates PASS--> HOLDING
    RUNNING | HOLDING --tick: gates FAIL (at once, even mid-bake)--> ROLLED_BACK
    RUNNING | HOLDING --set_percent--> HOLDING
    RUNNING | HOLDING --promote--> PROMOTED;  PENDING | RUNNING | HOLDING --rollback--> ROLLED_BACK

``tick`` waits (action ``hold``) while gates report INSUFFICIENT_DATA, while the step's
bake time has not passed, and in HOLDING. PROMOTED and ROLLED_BACK are final.

Every decision is a :class:`RolloutRecord` ``{time, step, percent, action, reason, state,
numbers}`` appended to :attr:`Rollout.history`; ``action`` is one of :data:`ACTIONS`
(``start``, ``ready``, ``advance``, ``hold``, ``promote``, ``rollback``,
``manual_promote``, ``manual_rollback``, ``set_percent``). A ``hold`` identical to the
previous record (same step, percent, state and reason) is returned but not appended
again, so a controller ticking every few seconds does not grow the history.

Strategies (``percent`` is the new version's share of traffic):

* ``recreate``: one step to 100 %; the old version leaves the table at once (the shell
  measures the downtime). A rollback routes everything back to the old version.
* ``blue-green``: the new version is deployed at 0 % and gets traffic only after
  :meth:`Rollout.mark_ready` (a ``ready_timeout_s`` without it rolls back); then all
  traffic (or a schedule of percents) moves to it while the old version stays deployed at
  0 %, warm, for an instant switch back. It is retired (leaves the table) when the bake of
  the final step ends and the rollout is promoted.
* ``canary``: steps such as 10, 50, 100 %, sticky by key with monotone buckets (see
  :mod:`raymlops.serving.routing`); the old version stays deployed until promotion.
* ``ab``: a fixed split (default 50 %), sticky by key, that HOLDs after its bake until an
  operator promotes or rolls back (decide with :mod:`raymlops.serving.abtest`); failing
  gates still roll back.
* ``shadow``: the old version answers everything; ``mirror_percent`` of requests are also
  sent to the new one. After the bake it HOLDs; promoting sends all traffic to the new
  version. ``set_percent`` changes the mirror share.

Example:
    >>> from raymlops.serving.gates import GateStatus
    >>> plan = RolloutPlan(model="iris", strategy="canary", from_version=3, to_version=4, steps=[10, 100], bake_s=60)
    >>> r = Rollout(plan)
    >>> r.start(now=0).percent
    10.0
    >>> [(x.version, x.percent) for x in r.routing_table().routes]
    [(4, 10.0), (3, 90.0)]
    >>> r.tick(now=30, verdict=GateStatus.PASS).reason
    'baking step 1/2 at 10% for 60s; gates pass'
    >>> r.tick(now=60, verdict=GateStatus.PASS).action
    'advance'
    >>> rec = r.tick(now=70, verdict=GateStatus.FAIL)
    >>> rec.action, rec.state.value, r.routing_table().live_versions
    ('rollback', 'ROLLED_BACK', (3,))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from raymlops.core.errors import ConflictError, InvalidInputError
from raymlops.core.names import NAME_RE
from raymlops.serving.gates import Gate, GateStatus, GateVerdict, gate_from_dict
from raymlops.serving.routing import DEFAULT_STICKY_HEADER, STRATEGIES, RoutingTable

__all__ = [
    "ACTIONS",
    "DEFAULT_STEPS",
    "Rollout",
    "RolloutPlan",
    "RolloutRecord",
    "RolloutState",
    "RolloutStateError",
]

DEFAULT_STEPS: dict[str, tuple[float, ...]] = {
    "recreate": (100.0,),
    "blue-green": (100.0,),
    "canary": (10.0, 50.0, 100.0),
    "ab": (50.0,),
    "shadow": (),
}
"""The new version's percent at each step when a plan gives no ``steps``."""

ACTIONS = (
    "start", "ready", "advance", "hold", "promote", "rollback", "manual_promote", "manual_rollback", "set_percent",
)  # fmt: skip
"""Every action a :class:`RolloutRecord` can carry."""

_TABLE_CHANGES = frozenset(ACTIONS) - {"hold"}


class RolloutState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    HOLDING = "HOLDING"
    PROMOTED = "PROMOTED"
    ROLLED_BACK = "ROLLED_BACK"


_FINAL = (RolloutState.PROMOTED, RolloutState.ROLLED_BACK)


class RolloutStateError(ConflictError):
    """An operation the rollout's current state does not allow."""

    code = "rollout_state"
    template = "cannot {op} the rollout of {model!r} while it is {state}; {hint}"


# --------------------------------------------------------------------------- validation


def _version(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InvalidInputError(f"{what} must be a model version number (an integer >= 1), got {v!r}")
    return v


def _percent(p: Any, what: str, *, lo_open: bool = False) -> float:
    ok = not isinstance(p, bool) and isinstance(p, (int, float)) and math.isfinite(p) and 0 <= p <= 100
    if not ok or (lo_open and p == 0):
        bounds = "above 0 and at most 100" if lo_open else "between 0 and 100"
        raise InvalidInputError(f"{what} must be a number {bounds}, got {p!r}")
    cut = round(p * 100)
    if abs(p * 100 - cut) > 1e-6:
        raise InvalidInputError(f"{what} {p!r} has more than two decimals; percents have a resolution of 0.01")
    return cut / 100


def _seconds(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise InvalidInputError(f"{what} must be a non-negative number of seconds, got {v!r}")
    return float(v)


def _time(now: Any) -> float:
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise InvalidInputError(f"now must be a finite time in seconds (e.g. time.time()), got {now!r}")
    return float(now)


def _fmt(p: float) -> str:
    return f"{p:g}"


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, kw_only=True)
class RolloutPlan:
    """How to move a model from one version to another.

    Args:
        model: the model name.
        strategy: ``recreate``, ``blue-green``, ``canary``, ``ab`` or ``shadow``.
        from_version: the version serving now.
        to_version: the new version.
        steps: the new version's percent at each step, strictly increasing, each above 0
            and at most 100 (default per strategy, :data:`DEFAULT_STEPS`). A last step of
            100 promotes after its bake; a last step below 100 is a fixed percent that
            HOLDs until promote or rollback. ``recreate`` has exactly ``[100]``;
            ``shadow`` has no steps (its one stage mirrors traffic).
        bake_s: seconds each stage must run with passing gates before moving on: one
            number for every stage, or one per stage.
        gates: :class:`~raymlops.serving.gates.Gate` objects (or their dicts).
        sticky_header: the header holding the sticky key.
        salt: the routing hash salt; default ``"NAME@TO_VERSION"``, so each rollout
            draws its canary users independently.
        mirror_percent: for ``shadow``, the share of requests mirrored to the new version.
        wait_ready: whether the new version gets traffic only after it reports ready;
            default True for ``blue-green``, False otherwise (``recreate`` cannot wait).
        ready_timeout_s: roll back when the new version has not reported ready this many
            seconds after start; None waits forever.

    Raises:
        InvalidInputError: on any invalid field.

    Example:
        >>> plan = RolloutPlan(model="iris", strategy="blue-green", from_version=3, to_version=4)
        >>> plan.stages, plan.bake_s, plan.wait_ready, plan.salt
        ((100.0,), (300.0,), True, 'iris@4')
        >>> RolloutPlan.from_dict(plan.to_dict()) == plan
        True
    """

    model: str
    strategy: str
    from_version: int
    to_version: int
    steps: tuple[float, ...] | None = None
    bake_s: float | tuple[float, ...] = 300.0
    gates: tuple[Gate, ...] = ()
    sticky_header: str = DEFAULT_STICKY_HEADER
    salt: str | None = None
    mirror_percent: float = 100.0
    wait_ready: bool | None = None
    ready_timeout_s: float | None = 600.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.model, str) or not NAME_RE.match(self.model):
            raise InvalidInputError(
                f"invalid model name {self.model!r}: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        s = self.strategy
        if s not in STRATEGIES:
            raise InvalidInputError(f"unknown strategy {s!r}: use one of {', '.join(STRATEGIES)}")
        old, new = _version(self.from_version, "from_version"), _version(self.to_version, "to_version")
        if old == new:
            raise InvalidInputError(f"from_version and to_version are both {old}: roll out a different version")
        steps = DEFAULT_STEPS[s] if self.steps is None else self.steps
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
            raise InvalidInputError(f"steps must be a list of percents such as [10, 50, 100], got {steps!r}")
        steps = tuple(_percent(p, "a step", lo_open=True) for p in steps)
        if any(b <= a for a, b in zip(steps, steps[1:])):
            raise InvalidInputError(f"steps must be strictly increasing percents, got {list(steps)}")
        if s == "recreate" and steps != (100.0,):
            raise InvalidInputError(f"a recreate rollout has the single step [100], got {list(steps)}")
        if s == "shadow" and steps:
            raise InvalidInputError(
                f"a shadow rollout has no steps (it mirrors traffic, then holds until promote), got {list(steps)}"
            )
        if s not in ("shadow",) and not steps:
            raise InvalidInputError(f"a {s} rollout needs at least one step, e.g. [100]")
        set_(self, "steps", steps)
        n_stages = len(self.stages)
        bake = self.bake_s
        if isinstance(bake, Sequence) and not isinstance(bake, (str, bytes)):
            bake = tuple(_seconds(b, "bake_s") for b in bake)
            if len(bake) != n_stages:
                raise InvalidInputError(f"bake_s has {len(bake)} values for {n_stages} stage(s): give one per stage")
        else:
            bake = (_seconds(bake, "bake_s"),) * n_stages
        set_(self, "bake_s", bake)
        gates = self.gates
        if isinstance(gates, (str, bytes, Mapping)) or not isinstance(gates, Sequence):
            raise InvalidInputError(f"gates must be a list of gates, got {gates!r}")
        gates = tuple(g if isinstance(g, Gate) else gate_from_dict(g) for g in gates)
        names = [g.name for g in gates]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"gate names must be unique, got {names}; pass name=... to tell them apart")
        set_(self, "gates", gates)
        if not isinstance(self.sticky_header, str):
            raise InvalidInputError(f"sticky_header must be an HTTP header name, got {self.sticky_header!r}")
        set_(self, "sticky_header", self.sticky_header.lower())
        salt = f"{self.model}@{new}" if self.salt is None else self.salt
        if not isinstance(salt, str) or "\x1f" in salt:
            raise InvalidInputError(f"salt must be a string without '\\x1f', got {salt!r}")
        set_(self, "salt", salt)
        set_(self, "mirror_percent", _percent(self.mirror_percent, "mirror_percent"))
        wait = (s == "blue-green") if self.wait_ready is None else self.wait_ready
        if not isinstance(wait, bool):
            raise InvalidInputError(f"wait_ready must be True, False or None, got {wait!r}")
        if wait and s == "recreate":
            raise InvalidInputError("a recreate rollout cannot wait for readiness: the old version is already gone")
        set_(self, "wait_ready", wait)
        if self.ready_timeout_s is not None:
            set_(self, "ready_timeout_s", _seconds(self.ready_timeout_s, "ready_timeout_s"))
        self._table(((old, 100.0),))  # checks sticky_header and salt the way the router will

    @property
    def stages(self) -> tuple[float, ...]:
        """The new version's live percent at each stage (``(0.0,)`` for ``shadow``: mirror only)."""
        return (0.0,) if self.strategy == "shadow" else self.steps  # type: ignore[return-value]

    def _table(self, routes: Any, *, revision: int = 0, shadow: int | None = None, mirror: float = 0.0) -> RoutingTable:
        return RoutingTable(
            model=self.model, strategy=self.strategy, routes=routes, sticky_header=self.sticky_header,
            shadow=shadow, mirror_percent=mirror, salt=self.salt, revision=revision,  # type: ignore[arg-type]
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "model": self.model,
            "strategy": self.strategy,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "steps": list(self.steps or ()),
            "bake_s": list(self.bake_s),  # type: ignore[arg-type]
            "gates": [g.to_dict() for g in self.gates],
            "sticky_header": self.sticky_header,
            "salt": self.salt,
            "mirror_percent": self.mirror_percent,
            "wait_ready": self.wait_ready,
            "ready_timeout_s": self.ready_timeout_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RolloutPlan:
        """Rebuild a plan from :meth:`to_dict` output (missing optional keys take defaults).

        Raises:
            InvalidInputError: on unknown keys or invalid values.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"a rollout plan dict is a mapping, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise InvalidInputError(f"unknown rollout plan key(s) {sorted(unknown)}; known keys: {sorted(known)}")
        missing = {"model", "strategy", "from_version", "to_version"} - set(data)
        if missing:
            raise InvalidInputError(f"a rollout plan needs {sorted(missing)}")
        return cls(**dict(data))


# --------------------------------------------------------------------------- records


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

    def _same_hold(self, other: RolloutRecord) -> bool:
        return (self.action, self.step, self.percent, self.state, self.reason) == (
            other.action, other.step, other.percent, other.state, other.reason,
        )  # fmt: skip


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


# --------------------------------------------------------------------------- rollout


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
        return self._state in _FINAL

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
        if action == "hold" and self._history and self._history[-1]._same_hold(rec):
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

    def _stage_text(self) -> str:
        p = self.plan
        if p.strategy == "recreate":
            return f"replaced version {p.from_version} with {p.to_version} (the old version is removed)"
        if p.strategy == "shadow":
            return (
                f"mirroring {_fmt(self._mirror)}% of requests to version {p.to_version}; "
                f"version {p.from_version} answers all"
            )
        return f"version {p.to_version} gets {_fmt(self._percent)}% of traffic"

    # -- transitions
    def start(self, now: float) -> RolloutRecord:
        """Begin the first stage.

        Raises:
            RolloutStateError: unless the rollout is PENDING.
        """
        now = _time(now)
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
        now = _time(now)
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
        now = _time(now)
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
                    f"version {p.to_version} did not report ready within {_fmt(p.ready_timeout_s)}s",
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
        if self._state is RolloutState.HOLDING:
            what = f"mirroring {_fmt(self._mirror)}%" if p.strategy == "shadow" else f"at {_fmt(self._percent)}%"
            return self._record(now, "hold", f"holding {what}; gates pass; waiting for promote or rollback", numbers)
        if elapsed < bake:
            where = f"mirroring {_fmt(self._mirror)}%" if p.strategy == "shadow" else f"at {_fmt(self._percent)}%"
            return self._record(now, "hold", f"baking step {self._n()} {where} for {_fmt(bake)}s; gates pass", numbers)
        baked = f"step {self._n()} at {_fmt(self._percent)}% baked {_fmt(bake)}s with gates passing"
        if self._step + 1 < len(p.stages):  # type: ignore[operator]
            self._step += 1  # type: ignore[operator]
            self._enter_stage(now)
            return self._record(now, "advance", f"{baked}; {self._stage_text()}", numbers)
        if self._percent == 100:
            retired = "" if p.strategy == "recreate" else f", version {p.from_version} retired"
            return self._finish(now, "promote", f"{baked}; version {p.to_version} promoted{retired}", numbers)
        self._state = RolloutState.HOLDING
        if p.strategy == "shadow":
            baked = f"shadow of version {p.to_version} baked {_fmt(bake)}s with gates passing"
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
        now = _time(now)
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
        now = _time(now)
        if self.is_final:
            raise self._error("roll back", "start a new rollout to go back to the old version")
        return self._finish(now, "manual_rollback", str(reason))

    def set_percent(self, p: float, *, now: float, reason: str = "set by operator") -> RolloutRecord:
        """Fix the new version's share of traffic (for ``shadow``, the mirrored share) and HOLD.

        Raises:
            RolloutStateError: unless RUNNING or HOLDING with the new version ready, or
                for a ``recreate`` rollout.
            InvalidInputError: unless ``p`` is between 0 and 100 with at most two decimals.
        """
        now = _time(now)
        p = _percent(p, "percent")
        if self.plan.strategy == "recreate":
            raise self._error("set the percent of", "a recreate rollout has one version; promote or roll back")
        if self._state not in (RolloutState.RUNNING, RolloutState.HOLDING) or not self._ready:
            raise self._error("set the percent of", "only a running or holding rollout with a ready version")
        if self.plan.strategy == "shadow":
            self._mirror = p
        else:
            self._percent = p
        self._state = RolloutState.HOLDING
        return self._record(now, "set_percent", f"{reason}: {self._stage_text()}", {"percent": p})

    # -- routing
    def routing_table(self) -> RoutingTable:
        """The routing table of the current state (its ``revision`` is :attr:`revision`).

        PENDING and ROLLED_BACK route everything to the old version, PROMOTED to the new
        one; while running, see the module docstring for each strategy.
        """
        p, rev = self.plan, self._revision
        old, new = p.from_version, p.to_version
        if self._state in (RolloutState.PENDING, RolloutState.ROLLED_BACK):
            return p._table(((old, 100.0),), revision=rev)
        if self._state is RolloutState.PROMOTED or p.strategy == "recreate":
            return p._table(((new, 100.0),), revision=rev)
        if p.strategy == "shadow":
            return p._table(((old, 100.0),), revision=rev, shadow=new, mirror=self._mirror)
        cut = round(self._percent * 100)
        return p._table(((new, cut / 100), (old, (10_000 - cut) / 100)), revision=rev)

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
        r._percent = _percent(data["percent"], "percent")
        r._mirror = _percent(data["mirror_percent"], "mirror_percent")
        r._ready = bool(data["ready"])
        r._started_at = None if data["started_at"] is None else _time(data["started_at"])
        r._step_started_at = None if data["step_started_at"] is None else _time(data["step_started_at"])
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
            f"state={self._state.value}, step={self._step}, percent={_fmt(self._percent)}, revision={self._revision})"
        )
