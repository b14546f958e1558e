"""Finding a pipeline by name: a built-in (``retrain``) or ``FILE.py[:ATTR]``; parsing ``--param``.

A pipeline file defines either a :class:`~raymlops.pipelines.dag.Pipeline` (the
attribute ``pipeline`` by default) or a builder, a function ``f(params) -> Pipeline``
(``build`` by default) for pipelines whose shape depends on their parameters. A file is
loaded afresh on every call, and so are the project modules it imports (they are evicted
from ``sys.modules`` first), so a long-lived process such as the trigger actor runs the
code that is on disk now, the code the cache keys describe.

Example:
    >>> parse_param("steps=10,50,100"), parse_param("seed=3"), parse_param("name=iris"), parse_param("x=[1, 2]")
    (('steps', '10,50,100'), ('seed', 3), ('name', 'iris'), ('x', [1, 2]))
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.pipelines.cache_key import project_root
from raymlops.pipelines.dag import Pipeline
from raymlops.pipelines.retrain import build_retrain

__all__ = ["BUILTIN_PIPELINES", "describe_spec", "load_pipeline", "parse_param", "parse_params"]

BUILTIN_PIPELINES: dict[str, Callable[[Mapping[str, Any]], Pipeline]] = {
    "retrain": build_retrain,
}
"""Built-in pipelines by name: one line each."""


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``: the value as JSON when it parses (numbers, true, lists), else the string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidInputError(f"--param {text!r}: use KEY=VALUE, e.g. --param target=label")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def parse_params(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        k, v = parse_param(item)
        out[k] = v
    return out


def describe_spec(spec: Any) -> str:
    if isinstance(spec, Pipeline):
        return spec.name
    if isinstance(spec, str):
        return spec
    return getattr(spec, "__name__", repr(spec))


def _loaded_modules() -> list[tuple[str, Any]]:
    """A snapshot of ``sys.modules``: another thread may be importing while we copy (any
    import elsewhere in the process), which makes the copy raise; copy again."""
    while True:
        try:
            return list(sys.modules.items())
        except RuntimeError:  # dictionary changed size during iteration
            continue


# One pipeline file loads at a time in a process: a load drops the project's modules from
# sys.modules and imports them again, and a second load doing so meanwhile would remove a
# module the first is importing (KeyError from the import system). The trigger actor starts
# runs in threads, so loads can meet. Re-entrant: a pipeline file may load another.
_LOAD_LOCK = threading.RLock()


def _load_file(path: str, attr: str | None) -> Any:
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise InvalidInputError(f"pipeline file {path} does not exist; use a built-in ({', '.join(BUILTIN_PIPELINES)}) or FILE.py[:ATTR]")
    with _LOAD_LOCK:
        return _load_file_locked(path, attr)


def _load_file_locked(path: str, attr: str | None) -> Any:
    root = project_root(path)
    for name, mod in _loaded_modules():  # fresh project code, as on disk now
        f = getattr(mod, "__file__", None) or ""
        if f.startswith(root + os.sep) and not name.startswith("raymlops") and "site-packages" not in f:
            sys.modules.pop(name, None)
    modname = "pipeline_file_" + hashlib.sha1(path.encode()).hexdigest()[:10]
    spec = importlib.util.spec_from_file_location(modname, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    for p in (os.path.dirname(path), root):
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InvalidInputError(f"cannot load pipeline file {path}: {type(exc).__name__}: {exc}") from None
    for name in ([attr] if attr else ["pipeline", "build"]):
        if hasattr(module, name):
            return getattr(module, name)
    raise InvalidInputError(f"{path} defines no {attr or 'pipeline or build'}; name it with FILE.py:ATTR")


def load_pipeline(spec: Any, params: Mapping[str, Any]) -> tuple[Pipeline, dict[str, Any], bool]:
    """``(pipeline, parameters for its steps, whether unknown parameters are errors)``.

    Raises:
        InvalidInputError: an unknown name, a missing file or attribute.
    """
    obj = spec
    if isinstance(spec, str):
        if spec in BUILTIN_PIPELINES:
            obj = BUILTIN_PIPELINES[spec]
        elif ".py" in spec:
            path, _, attr = spec.partition(".py")
            obj = _load_file(path + ".py", attr.lstrip(":") or None)
        else:
            raise InvalidInputError(f"unknown pipeline {spec!r}: use a built-in ({', '.join(BUILTIN_PIPELINES)}) or FILE.py[:ATTR]")
    if isinstance(obj, Pipeline):
        return obj, dict(params), True
    if callable(obj):
        built = obj(dict(params))
        if not isinstance(built, Pipeline):
            raise InvalidInputError(f"{describe_spec(spec)} returned {type(built).__name__}, not a Pipeline")
        return built, {}, False
    raise InvalidInputError(f"{describe_spec(spec)} is a {type(obj).__name__}, not a Pipeline or a builder function")
