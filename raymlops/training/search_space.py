"""Search spaces for sweeps, from Python or YAML.

A space maps a parameter to a distribution. In YAML (or a plain dict)::

    learning_rate: {loguniform: [0.01, 0.3]}
    max_leaf_nodes: {randint: [8, 64]}
    l2_regularization: {uniform: [0.0, 1.0]}
    max_depth: {choice: [null, 3, 6]}
    min_samples_leaf: {grid: [10, 20, 40]}
    early_stopping: false              # a constant

Python users may pass Ray Tune objects (``tune.uniform(...)``) directly.

Example:
    >>> space = parse_space({"lr": {"loguniform": [0.01, 0.3]}, "leaves": {"grid": [8, 16]}, "fixed": 3})
    >>> type(space["lr"]).__name__, space["leaves"], space["fixed"]
    ('Float', {'grid_search': [8, 16]}, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["parse_space", "load_space", "DISTRIBUTIONS"]

DISTRIBUTIONS = ("uniform", "loguniform", "randint", "qrandint", "choice", "grid", "normal")


def _bad(name: str, spec: Any, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"search space entry {name!r}: {why} (got {spec!r}); write e.g. "
        "{loguniform: [0.01, 0.3]}, {randint: [8, 64]}, {choice: [a, b]} or {grid: [1, 2]}"
    )


def parse_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a dict of distributions into a Ray Tune ``param_space``.

    Raises:
        InvalidInputError: an entry names an unknown distribution or bad bounds.
    """
    from ray import tune

    if not isinstance(space, Mapping):
        raise InvalidInputError(f"a search space is a mapping of parameter -> distribution, got {type(space).__name__}")
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if not isinstance(spec, Mapping):
            out[name] = spec  # a constant, or a Tune object already
            continue
        if len(spec) != 1:
            raise _bad(name, spec, "give exactly one distribution")
        (dist, args), = spec.items()
        if dist not in DISTRIBUTIONS:
            raise _bad(name, spec, f"unknown distribution {dist!r}; known: {', '.join(DISTRIBUTIONS)}")
        if not isinstance(args, (list, tuple)) or not args:
            raise _bad(name, spec, "the arguments must be a non-empty list")
        try:
            if dist in ("choice", "grid"):
                out[name] = tune.choice(list(args)) if dist == "choice" else tune.grid_search(list(args))
                continue
            if len(args) != 2:
                raise _bad(name, spec, "give [low, high]")
            lo, hi = args
            if dist == "normal":
                out[name] = tune.randn(float(lo), float(hi))
                continue
            if not lo < hi:
                raise _bad(name, spec, "low must be below high")
            if dist == "loguniform" and lo <= 0:
                raise _bad(name, spec, "loguniform needs low > 0")
            out[name] = {
                "uniform": lambda: tune.uniform(float(lo), float(hi)),
                "loguniform": lambda: tune.loguniform(float(lo), float(hi)),
                "randint": lambda: tune.randint(int(lo), int(hi)),
                "qrandint": lambda: tune.qrandint(int(lo), int(hi)),
            }[dist]()
        except (TypeError, ValueError) as exc:
            raise _bad(name, spec, str(exc)) from None
    return out


def load_space(path: str) -> dict[str, Any]:
    """Read a YAML (or JSON) search space file and parse it."""
    import yaml

    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise InvalidInputError(f"cannot read search space {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"search space {path} does not parse as YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        raise InvalidInputError(f"search space {path} is empty: write one 'parameter: {{distribution: [args]}}' per line")
    return parse_space(data)
