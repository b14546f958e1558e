"""``shadow``: the old version answers everything; a share of requests is mirrored to the new one.

The one stage mirrors ``mirror_percent`` of requests to the new version, whose answers
are compared with the old one's and never returned. After the bake the rollout HOLDs;
promoting sends all traffic to the new version. ``set_percent`` changes the mirrored
share.

Example:
    >>> s = ShadowStrategy()
    >>> s.stages(()), s.routes(old=3, new=4, share=Share(0.0, 20.0))
    ((0.0,), Routing(routes=((3, 100.0),), shadow=4, mirror_percent=20.0))
    >>> s.apply_percent(Share(0.0, 20.0), 50.0)
    Share(percent=0.0, mirror=50.0)
"""

from __future__ import annotations

from raymlops.core.errors import InvalidInputError
from raymlops.serving._checks import fmt
from raymlops.serving.strategies.base import RolloutStrategy, Routing, Share

__all__ = ["ShadowStrategy"]


class ShadowStrategy(RolloutStrategy):
    """Mirror requests to the new version and compare its answers; no user sees them."""

    name = "shadow"
    default_steps = ()
    mirrors = True
    one_route = True

    def check_steps(self, steps: tuple[float, ...]) -> None:
        if steps:
            raise InvalidInputError(
                f"a shadow rollout has no steps (it mirrors traffic, then holds until promote), got {list(steps)}"
            )

    def stages(self, steps: tuple[float, ...]) -> tuple[float, ...]:
        return (0.0,)

    def routes(self, old: int, new: int, share: Share) -> Routing:
        return Routing(((old, 100.0),), shadow=new, mirror_percent=share.mirror)

    def apply_percent(self, share: Share, p: float) -> Share:
        return share._replace(mirror=p)

    def describe(self, old: int, new: int, share: Share) -> str:
        return f"mirroring {fmt(share.mirror)}% of requests to version {new}; version {old} answers all"

    def position(self, share: Share) -> str:
        return f"mirroring {fmt(share.mirror)}%"

    def stage_label(self, n: str, new: int, share: Share) -> str:
        return f"shadow of version {new}"
