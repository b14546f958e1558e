"""Search spaces for sweeps, from Python or YAML: the grammar and its checks.

A space maps a parameter to a distribution. In YAML (or a plain dict)::

    learning_rate: {loguniform: [0.01, 0.3]}
    max_leaf_nodes: {randint: [8, 64]}
    l2_regularization: {uniform: [0.0, 1.0]}
    max_depth: {choice: [null, 3, 6]}
    min_samples_leaf: {grid: [10, 20, 40]}
    early_stopping: false              # a constant

Python users may pass Ray Tune objects (``tune.uniform(...)``) directly: like any value
that is not a mapping, they are constants here.

This module is pure: :func:`check_space` validates a space into :class:`Distribution`
records and :func:`read_space` reads one from a file. Ray Tune's ``param_space`` is built
from them by :func:`raymlops.training.tune.parse_space` (and
:func:`~raymlops.training.tune.load_space` for a file).

Example:
    >>> space = check_space({"lr": {"loguniform": [0.01, 0.3]}, "leaves": {"grid": [8, 16]}, "fixed": 3})
    >>> space["lr"], space["leaves"], space["fixed"]
    (Distribution(kind='loguniform', args=(0.01, 0.3)), Distribution(kind='grid', args=(8, 16)), 3)
    >>> check_space({"lr": {"triangular": [0, 1]}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    raymlops.core.errors.InvalidInputError: search space entry 'lr': unknown distribution 'triangular'; ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from raymlops.core.errors import InvalidInputError

__all__ = ["DISTRIBUTIONS", "Distribution", "check_space", "read_space", "space_error"]

DISTRIBUTIONS = ("uniform", "loguniform", "randint", "qrandint", "choice", "grid", "normal")


@dataclass(frozen=True)
class Distribution:
    """One parameter's distribution, checked.

    Attributes:
        kind: one of :data:`DISTRIBUTIONS`.
        args: the values to choose from (``choice``, ``grid``), else ``(low, high)`` as
            floats (``uniform``, ``loguniform``; ``(mean, sd)`` for ``normal``) or ints
            (``randint``, ``qrandint``).
    """

    kind: str
    args: tuple[Any, ...]


def space_error(name: str, spec: Any, why: str) -> InvalidInputError:
    """The error for a bad entry ``name: spec`` of a search space, with an example of good ones."""
    return InvalidInputError(
        f"search space entry {name!r}: {why} (got {spec!r}); write e.g. "
        "{loguniform: [0.01, 0.3]}, {randint: [8, 64]}, {choice: [a, b]} or {grid: [1, 2]}"
    )


def _check_entry(name: str, spec: Mapping[str, Any]) -> Distribution:
    if len(spec) != 1:
        raise space_error(name, spec, "give exactly one distribution")
    ((kind, args),) = spec.items()
    if kind not in DISTRIBUTIONS:
        raise space_error(name, spec, f"unknown distribution {kind!r}; known: {', '.join(DISTRIBUTIONS)}")
    if not isinstance(args, (list, tuple)) or not args:
        raise space_error(name, spec, "the arguments must be a non-empty list")
    if kind in ("choice", "grid"):
        return Distribution(kind, tuple(args))
    if len(args) != 2:
        raise space_error(name, spec, "give [low, high]")
    lo, hi = args
    try:
        if kind == "normal":
            return Distribution(kind, (float(lo), float(hi)))
        if not lo < hi:
            raise space_error(name, spec, "low must be below high")
        if kind == "loguniform" and lo <= 0:
            raise space_error(name, spec, "loguniform needs low > 0")
        number = int if kind in ("randint", "qrandint") else float
        return Distribution(kind, (number(lo), number(hi)))
    except (TypeError, ValueError) as exc:
        raise space_error(name, spec, str(exc)) from None


def check_space(space: Mapping[str, Any]) -> dict[str, Distribution | Any]:
    """Check a search space: every mapping entry becomes a :class:`Distribution`.

    Args:
        space: parameter → ``{distribution: [args]}``, or any other value (a constant).

    Returns:
        Parameter → :class:`Distribution`, or the constant as given.

    Raises:
        InvalidInputError: ``space`` is not a mapping, or an entry names an unknown
            distribution or has bad arguments or bounds.
    """
    if not isinstance(space, Mapping):
        raise InvalidInputError(f"a search space is a mapping of parameter -> distribution, got {type(space).__name__}")
    return {name: _check_entry(name, spec) if isinstance(spec, Mapping) else spec for name, spec in space.items()}


def read_space(path: str) -> dict[str, Any]:
    """Read a YAML (or JSON) search space file and check it.

    Returns:
        The space as written in the file (check it with :func:`check_space`; build Tune's
        param space with :func:`raymlops.training.tune.parse_space`).

    Raises:
        InvalidInputError: an unreadable or empty file, YAML that does not parse, or a
            space :func:`check_space` refuses.
    """
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise InvalidInputError(f"cannot read search space {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"search space {path} does not parse as YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        raise InvalidInputError(f"search space {path} is empty: write one 'parameter: {{distribution: [args]}}' per line")
    check_space(data)
    return data
