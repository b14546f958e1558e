"""The base of rollout strategies: what a strategy decides, in a handful of members.

A strategy is a small stateless object. :class:`~raymlops.serving.rollout.RolloutPlan`
asks it for its default steps, to validate steps and for its stages;
:class:`~raymlops.serving.rollout.Rollout` asks it for the routes of a running rollout,
how an operator's percent applies and the words of its decision records;
:class:`~raymlops.serving.routing.RoutingTable` checks its route count; the manager,
the controller and the CLI read its flags. None of them compares strategy names, so a
new strategy is a subclass in its own file plus one line in
:data:`~raymlops.serving.strategies.STRATEGIES` (or a call to
:func:`~raymlops.serving.strategies.register_strategy`).

A subclass sets:

========================  ====================================================================
``name``                  the registry key, the ``strategy`` of plans and routing tables
``default_steps``         the new version's percent at each step when a plan gives none
``waits_ready``           default of ``RolloutPlan.wait_ready``: traffic only after ready
``mirrors``               the new version gets mirrored copies of requests, not a share
``recreates``             the old version leaves at once (so it cannot wait for readiness)
``one_route``             its routing tables route every request to one version
``ab_test``               its status reports the A/B significance test of feedback outcomes
========================  ====================================================================

and overrides, where the defaults (a sticky split between the new and the old version)
do not fit: :meth:`RolloutStrategy.check_steps`, :meth:`RolloutStrategy.stages`,
:meth:`RolloutStrategy.routes`, :meth:`RolloutStrategy.apply_percent`,
:meth:`RolloutStrategy.promote_note`, and the wording methods
:meth:`RolloutStrategy.describe`, :meth:`RolloutStrategy.position` and
:meth:`RolloutStrategy.stage_label`.

Example:
    >>> class Halves(RolloutStrategy):
    ...     name = "halves"
    ...     default_steps = (50.0, 100.0)
    >>> s = Halves()
    >>> s.routes(old=3, new=4, share=Share(percent=50.0, mirror=0.0))
    Routing(routes=((4, 50.0), (3, 50.0)), shadow=None, mirror_percent=0.0)
    >>> s.describe(old=3, new=4, share=Share(50.0, 0.0)), s.promote_note(old=3)
    ('version 4 gets 50% of traffic', ', version 3 retired')
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from raymlops.core.errors import InvalidInputError
from raymlops.serving._checks import fmt

__all__ = ["BUCKETS", "PercentRefused", "RolloutStrategy", "Routing", "Share"]

BUCKETS = 10_000
"""Number of routing hash buckets: percents have a resolution of 0.01."""


class Share(NamedTuple):
    """What a running rollout gives the new version: a ``percent`` of live traffic, a ``mirror`` share."""

    percent: float
    mirror: float


class Routing(NamedTuple):
    """The routes of a routing table, and the version that shadows them (with its mirrored share)."""

    routes: tuple[tuple[int, float], ...]
    shadow: int | None = None
    mirror_percent: float = 0.0


class PercentRefused(Exception):
    """A strategy that has no percent to set; ``hint`` says what to do instead."""

    def __init__(self, hint: str):
        super().__init__(hint)
        self.hint = hint


class RolloutStrategy:
    """How a rollout moves traffic from the old version to the new one (see the module docstring).

    The defaults describe a sticky split: at each step the new version gets the step's
    percent of traffic and the old version the rest; the old version stays deployed
    until promotion retires it.
    """

    name: ClassVar[str] = ""
    default_steps: ClassVar[tuple[float, ...]] = (100.0,)
    waits_ready: ClassVar[bool] = False
    mirrors: ClassVar[bool] = False
    recreates: ClassVar[bool] = False
    one_route: ClassVar[bool] = False
    ab_test: ClassVar[bool] = False

    # -- plan
    def check_steps(self, steps: tuple[float, ...]) -> None:
        """Refuse steps this strategy cannot run (they are already valid, increasing percents).

        Raises:
            InvalidInputError: here, when there is no step.
        """
        if not steps:
            raise InvalidInputError(f"a {self.name} rollout needs at least one step, e.g. [100]")

    def stages(self, steps: tuple[float, ...]) -> tuple[float, ...]:
        """The new version's live percent at each stage of the rollout (default: the steps)."""
        return steps

    # -- traffic
    def routes(self, old: int, new: int, share: Share) -> Routing:
        """The routes of a running (or holding) rollout: the new version first, then the old one."""
        cut = round(share.percent * 100)
        return Routing(((new, cut / 100), (old, (BUCKETS - cut) / 100)))

    def apply_percent(self, share: Share, p: float) -> Share:
        """The share after an operator sets the percent ``p`` (default: the new version's traffic).

        Raises:
            PercentRefused: when the strategy has no percent to set.
        """
        return share._replace(percent=p)

    def promote_note(self, old: int) -> str:
        """What promotion does to the old version, as a clause of the promote record."""
        return f", version {old} retired"

    # -- words of the decision records
    def describe(self, old: int, new: int, share: Share) -> str:
        """The traffic of the current stage, in words."""
        return f"version {new} gets {fmt(share.percent)}% of traffic"

    def position(self, share: Share) -> str:
        """Where the rollout stands, for hold records (``at 10%``)."""
        return f"at {fmt(share.percent)}%"

    def stage_label(self, n: str, new: int, share: Share) -> str:
        """The stage that baked, for records (``step 1/3 at 10%``); ``n`` is ``"i/len"``."""
        return f"step {n} {self.position(share)}"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash((type(self), self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
