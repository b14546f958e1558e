"""``blue-green``: the new version warms up at 0 %, then takes the traffic; the old stays warm.

The new version is deployed at 0 % and gets traffic only after it reports ready (a
``ready_timeout_s`` without it rolls back); then all traffic (or a schedule of percents)
moves to it while the old version stays deployed at 0 %, warm, for an instant switch
back. The old version is retired when the bake of the final step ends and the rollout
is promoted.

Example:
    >>> from raymlops.serving.strategies.base import Share
    >>> s = BlueGreenStrategy()
    >>> s.default_steps, s.waits_ready, s.routes(old=3, new=4, share=Share(100.0, 0.0)).routes
    ((100.0,), True, ((4, 100.0), (3, 0.0)))
"""

from __future__ import annotations

from raymlops.serving.strategies.base import RolloutStrategy

__all__ = ["BlueGreenStrategy"]


class BlueGreenStrategy(RolloutStrategy):
    """Switch all traffic to a ready new version, the old one kept warm until promotion."""

    name = "blue-green"
    default_steps = (100.0,)
    waits_ready = True
