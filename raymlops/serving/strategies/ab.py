"""``ab``: a fixed split (default 50 %), sticky by key, held until an operator decides.

After its bake the rollout HOLDs until promote or rollback; the status carries the A/B
significance test of feedback outcomes (:mod:`raymlops.serving.abtest`) to decide on.
Failing gates still roll back.

Example:
    >>> from raymlops.serving.strategies.base import Share
    >>> s = ABStrategy()
    >>> s.default_steps, s.ab_test, s.routes(old=3, new=4, share=Share(50.0, 0.0)).routes
    ((50.0,), True, ((4, 50.0), (3, 50.0)))
"""

from __future__ import annotations

from raymlops.serving.strategies.base import RolloutStrategy

__all__ = ["ABStrategy"]


class ABStrategy(RolloutStrategy):
    """Split traffic between two versions for an experiment; an operator decides the winner."""

    name = "ab"
    default_steps = (50.0,)
    ab_test = True
