"""The registry of rollout strategies: :data:`STRATEGIES`, one line per strategy.

Example:
    >>> list(STRATEGIES)
    ['recreate', 'blue-green', 'canary', 'ab', 'shadow']
    >>> strategy_for("canary").default_steps, DEFAULT_STEPS["ab"]
    ((10.0, 50.0, 100.0), (50.0,))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from raymlops.core.errors import InvalidInputError
from raymlops.core.names import NAME_RE
from raymlops.serving.strategies.ab import ABStrategy
from raymlops.serving.strategies.base import RolloutStrategy
from raymlops.serving.strategies.blue_green import BlueGreenStrategy
from raymlops.serving.strategies.canary import CanaryStrategy
from raymlops.serving.strategies.recreate import RecreateStrategy
from raymlops.serving.strategies.shadow import ShadowStrategy

__all__ = ["DEFAULT_STEPS", "STRATEGIES", "register_strategy", "strategy_for"]

STRATEGIES: dict[str, RolloutStrategy] = {
    s.name: s
    for s in (
        RecreateStrategy(),
        BlueGreenStrategy(),
        CanaryStrategy(),
        ABStrategy(),
        ShadowStrategy(),
    )
}
"""The rollout strategies by name; a new strategy is a subclass and one line here."""


def strategy_for(name: object) -> RolloutStrategy:
    """The registered strategy called ``name``.

    Raises:
        InvalidInputError: when no strategy has that name.
    """
    strategy = STRATEGIES.get(name) if isinstance(name, str) else None
    if strategy is None:
        raise InvalidInputError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}")
    return strategy


def register_strategy(strategy: RolloutStrategy | type[RolloutStrategy]) -> RolloutStrategy | type[RolloutStrategy]:
    """Add a strategy (an instance, or a class, which is instantiated) to :data:`STRATEGIES`.

    Returns what it was given, so it also works as a class decorator.

    Raises:
        InvalidInputError: if it is not a :class:`RolloutStrategy`, its name is not a valid
            name, or another strategy has that name.
    """
    instance = strategy() if isinstance(strategy, type) and issubclass(strategy, RolloutStrategy) else strategy
    if not isinstance(instance, RolloutStrategy):
        raise InvalidInputError(f"a strategy is a RolloutStrategy subclass, got {strategy!r}")
    name = instance.name
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInputError(f"a strategy needs a name of letters, digits, '.', '_' or '-', got {name!r}")
    if name in STRATEGIES and STRATEGIES[name] != instance:
        raise InvalidInputError(f"a strategy named {name!r} is already registered: {STRATEGIES[name]!r}")
    STRATEGIES[name] = instance
    return strategy


class _DefaultSteps(Mapping[str, tuple[float, ...]]):
    """``{strategy name: default steps}``, read from :data:`STRATEGIES` at every access."""

    def __getitem__(self, name: str) -> tuple[float, ...]:
        return STRATEGIES[name].default_steps

    def __iter__(self) -> Iterator[str]:
        return iter(STRATEGIES)

    def __len__(self) -> int:
        return len(STRATEGIES)

    def __repr__(self) -> str:
        return repr(dict(self))


DEFAULT_STEPS: Mapping[str, tuple[float, ...]] = _DefaultSteps()
"""The new version's percent at each step when a plan gives no ``steps``, per strategy."""
