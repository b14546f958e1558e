"""How to move a model from one version to another: :class:`RolloutPlan`.

Example:
    >>> plan = RolloutPlan(model="iris", strategy="blue-green", from_version=3, to_version=4)
    >>> plan.stages, plan.bake_s, plan.wait_ready, plan.salt
    ((100.0,), (300.0,), True, 'iris@4')
    >>> RolloutPlan.from_dict(plan.to_dict()) == plan
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.core.names import NAME_RE
from raymlops.serving._checks import percent, seconds, version
from raymlops.serving.gates import Gate, gate_from_dict
from raymlops.serving.routing import DEFAULT_STICKY_HEADER, RoutingTable
from raymlops.serving.strategies import RolloutStrategy, Routing, strategy_for

__all__ = ["RolloutPlan"]


@dataclass(frozen=True, kw_only=True)
class RolloutPlan:
    """How to move a model from one version to another.

    Args:
        model: the model name.
        strategy: the name of a registered strategy
            (:data:`~raymlops.serving.strategies.STRATEGIES`: ``recreate``,
            ``blue-green``, ``canary``, ``ab``, ``shadow``, ...).
        from_version: the version serving now.
        to_version: the new version.
        steps: the new version's percent at each step, strictly increasing, each above 0
            and at most 100 (default: the strategy's ``default_steps``). A last step of
            100 promotes after its bake; a last step below 100 is a fixed percent that
            HOLDs until promote or rollback. The strategy may restrict them
            (``recreate`` has exactly ``[100]``; ``shadow`` has no steps: its one stage
            mirrors traffic).
        bake_s: seconds each stage must run with passing gates before moving on: one
            number for every stage, or one per stage.
        gates: :class:`~raymlops.serving.gates.Gate` objects (or their dicts).
        sticky_header: the header holding the sticky key.
        salt: the routing hash salt; default ``"NAME@TO_VERSION"``, so each rollout
            draws its canary users independently.
        mirror_percent: for a mirroring strategy (``shadow``), the share of requests
            mirrored to the new version.
        wait_ready: whether the new version gets traffic only after it reports ready;
            default the strategy's ``waits_ready`` (True for ``blue-green``); a strategy
            that removes the old version at once (``recreate``) cannot wait.
        ready_timeout_s: roll back when the new version has not reported ready this many
            seconds after start; None waits forever.

    Raises:
        InvalidInputError: on any invalid field.
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
        strategy = strategy_for(self.strategy)
        old, new = version(self.from_version, "from_version"), version(self.to_version, "to_version")
        if old == new:
            raise InvalidInputError(f"from_version and to_version are both {old}: roll out a different version")
        steps = strategy.default_steps if self.steps is None else self.steps
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
            raise InvalidInputError(f"steps must be a list of percents such as [10, 50, 100], got {steps!r}")
        steps = tuple(percent(p, "a step", lo_open=True) for p in steps)
        if any(b <= a for a, b in zip(steps, steps[1:])):
            raise InvalidInputError(f"steps must be strictly increasing percents, got {list(steps)}")
        strategy.check_steps(steps)
        set_(self, "steps", steps)
        n_stages = len(self.stages)
        bake = self.bake_s
        if isinstance(bake, Sequence) and not isinstance(bake, (str, bytes)):
            bake = tuple(seconds(b, "bake_s") for b in bake)
            if len(bake) != n_stages:
                raise InvalidInputError(f"bake_s has {len(bake)} values for {n_stages} stage(s): give one per stage")
        else:
            bake = (seconds(bake, "bake_s"),) * n_stages
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
        set_(self, "mirror_percent", percent(self.mirror_percent, "mirror_percent"))
        wait = strategy.waits_ready if self.wait_ready is None else self.wait_ready
        if not isinstance(wait, bool):
            raise InvalidInputError(f"wait_ready must be True, False or None, got {wait!r}")
        if wait and strategy.recreates:
            raise InvalidInputError(
                f"a {strategy.name} rollout cannot wait for readiness: the old version is already gone"
            )
        set_(self, "wait_ready", wait)
        if self.ready_timeout_s is not None:
            set_(self, "ready_timeout_s", seconds(self.ready_timeout_s, "ready_timeout_s"))
        self.table(Routing(((old, 100.0),)))  # checks sticky_header and salt the way the router will

    @property
    def rollout_strategy(self) -> RolloutStrategy:
        """The registered strategy object named by :attr:`strategy`."""
        return strategy_for(self.strategy)

    @property
    def stages(self) -> tuple[float, ...]:
        """The new version's live percent at each stage (``(0.0,)`` for ``shadow``: mirror only)."""
        return self.rollout_strategy.stages(self.steps)  # type: ignore[arg-type]

    def table(self, routing: Routing, *, revision: int = 0) -> RoutingTable:
        """The routing table of this plan with the given routes (and shadow)."""
        return RoutingTable(
            model=self.model, strategy=self.strategy, routes=routing.routes, sticky_header=self.sticky_header,
            shadow=routing.shadow, mirror_percent=routing.mirror_percent, salt=self.salt,  # type: ignore[arg-type]
            revision=revision,
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
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInputError(f"unknown rollout plan key(s) {sorted(unknown)}; known keys: {sorted(known)}")
        missing = {"model", "strategy", "from_version", "to_version"} - set(data)
        if missing:
            raise InvalidInputError(f"a rollout plan needs {sorted(missing)}")
        return cls(**dict(data))
