"""``recreate``: the old version goes, then the new one takes all traffic (with downtime).

One step to 100 %; the old version leaves the routing table at once (the controller
deletes its server before the new one starts and measures the downtime). A rollback
routes everything back to the old version.

Example:
    >>> s = RecreateStrategy()
    >>> s.routes(old=3, new=4, share=Share(100.0, 0.0)).routes
    ((4, 100.0),)
    >>> s.describe(old=3, new=4, share=Share(100.0, 0.0))
    'replaced version 3 with 4 (the old version is removed)'
"""

from __future__ import annotations

from raymlops.core.errors import InvalidInputError
from raymlops.serving.strategies.base import PercentRefused, RolloutStrategy, Routing, Share

__all__ = ["RecreateStrategy"]


class RecreateStrategy(RolloutStrategy):
    """Replace the old version: a single step to 100 %, the old version removed at once."""

    name = "recreate"
    default_steps = (100.0,)
    recreates = True
    one_route = True

    def check_steps(self, steps: tuple[float, ...]) -> None:
        if steps != (100.0,):
            raise InvalidInputError(f"a recreate rollout has the single step [100], got {list(steps)}")

    def routes(self, old: int, new: int, share: Share) -> Routing:
        return Routing(((new, 100.0),))

    def apply_percent(self, share: Share, p: float) -> Share:
        raise PercentRefused("a recreate rollout has one version; promote or roll back")

    def promote_note(self, old: int) -> str:
        return ""

    def describe(self, old: int, new: int, share: Share) -> str:
        return f"replaced version {old} with {new} (the old version is removed)"
