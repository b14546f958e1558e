"""``canary``: the new version takes a growing share, sticky by key, with monotone buckets.

Steps such as 10, 50, 100 %: a user in the canary at 10 % stays in it at 50 % (see
:mod:`raymlops.serving.routing`); the old version stays deployed until promotion.

Example:
    >>> from raymlops.serving.strategies.base import Share
    >>> s = CanaryStrategy()
    >>> s.default_steps, s.routes(old=3, new=4, share=Share(10.0, 0.0)).routes
    ((10.0, 50.0, 100.0), ((4, 10.0), (3, 90.0)))
"""

from __future__ import annotations

from raymlops.serving.strategies.base import RolloutStrategy

__all__ = ["CanaryStrategy"]


class CanaryStrategy(RolloutStrategy):
    """Grow the new version's share step by step while its gates pass."""

    name = "canary"
    default_steps = (10.0, 50.0, 100.0)
