"""Rollout strategies as plug-ins: recreate, blue-green, canary, A/B, shadow.

Each strategy is one file implementing the small :class:`RolloutStrategy` base (its
default steps and step validation, whether it waits for readiness, its stages, its
routes while it runs, what promotion does to the old version, whether it mirrors
instead of splitting, whether the old version leaves at once, how an operator's percent
applies) and one line in :data:`STRATEGIES`. Plans, rollouts, routing tables, the
manager, the controller and the CLI consult the strategy object, never its name.

Example:
    >>> from raymlops.serving.strategies import STRATEGIES, Share
    >>> [(name, s.mirrors, s.recreates) for name, s in STRATEGIES.items()]
    [('recreate', False, True), ('blue-green', False, False), ('canary', False, False), ('ab', False, False), ('shadow', True, False)]
    >>> STRATEGIES["shadow"].routes(old=1, new=2, share=Share(percent=0.0, mirror=10.0)).shadow
    2
"""

from __future__ import annotations

from raymlops.serving.strategies.ab import ABStrategy
from raymlops.serving.strategies.base import BUCKETS, PercentRefused, RolloutStrategy, Routing, Share
from raymlops.serving.strategies.blue_green import BlueGreenStrategy
from raymlops.serving.strategies.canary import CanaryStrategy
from raymlops.serving.strategies.recreate import RecreateStrategy
from raymlops.serving.strategies.registry import DEFAULT_STEPS, STRATEGIES, register_strategy, strategy_for
from raymlops.serving.strategies.shadow import ShadowStrategy

__all__ = [
    "ABStrategy",
    "BUCKETS",
    "BlueGreenStrategy",
    "CanaryStrategy",
    "DEFAULT_STEPS",
    "PercentRefused",
    "RecreateStrategy",
    "RolloutStrategy",
    "Routing",
    "STRATEGIES",
    "Share",
    "ShadowStrategy",
    "register_strategy",
    "strategy_for",
]
