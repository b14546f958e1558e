"""The cache key of a step: everything that can change what the step writes.

``sha256`` of the canonical JSON of:

* **code** — the step function's source, normalised through :mod:`ast`: the syntax tree
  without line numbers, decorators or comments. So a comment-only edit, a blank line or
  re-wrapped arguments keep the key (the code that runs is the same); any edit to what
  runs, docstrings included (a function can read its own ``__doc__``), changes it. The
  walk follows every name the function loads: functions, classes and modules defined
  under the project roots (the pipeline's project and raymlops itself) are hashed the
  same way, recursively (a module referenced as a whole brings its source and every
  project-local module it imports); names bound to plain values (globals and closure
  cells) bring their values; anything else (numpy, the standard library) is named.
  ZenML missed edited helpers (#1011) and Prefect missed closures and globals (#23062):
  both are in this key. A function whose source on disk no longer matches the code
  object in memory (edited after import) makes the key fail rather than lie.
* **params** — canonical JSON: dict keys sorted (their order does not matter), tuples
  and lists kept apart, numpy and pandas values by content.
* **inputs** — the *content* sha256 of every input artifact and file (TFX hashes
  artifact ids and uris, so an upstream re-run with identical bytes missed downstream;
  here it hits).
* **env** — the value of each declared environment variable (KFP ignored env, #14339).
* **packages** — the installed version of each declared distribution
  (``importlib.metadata``; KFP's mutable image tags, #13862).

A value that cannot be hashed canonically raises :class:`UncacheableError`: the step then
runs uncached, never with a partial key (Prefect #15861 cached on a partial key).

Example:
    >>> def scale(x, *, factor=2):
    ...     return x * factor  # a comment
    >>> k1 = step_key(scale, params={"a": 1, "b": [1, 2]}, roots=[])
    >>> k2 = step_key(scale, params={"b": [1, 2], "a": 1}, roots=[])
    >>> k1 == k2, k1 == step_key(scale, params={"a": 1, "b": (1, 2)}, roots=[])
    (True, False)
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import logging
import math
import os
import re
import sys
import sysconfig
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from raymlops.pipelines.source import (
    UncacheableError,
    check_fresh,
    code_signature,
    find_module_file,
    imported_names,
    loaded_names,
    source_node,
)
from raymlops.pipelines.step import Step

__all__ = ["KEY_VERSION", "CodeFingerprint", "UncacheableError", "canonical", "package_versions", "project_root", "step_key"]

KEY_VERSION = 1
_RAYMLOPS_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SITE = ("site-packages", "dist-packages")
_STDLIB = tuple({os.path.realpath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "platstdlib")})


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()).hexdigest()


class CodeFingerprint:
    """Walks code from a function and hashes what it reaches (see the module docstring).

    Args:
        roots: folders whose Python files are "project code" (hashed by source); the
            raymlops package is always one. Files under site-packages of other roots
            are not.
    """

    def __init__(self, roots: Sequence[str] = ()):
        self.roots = [os.path.realpath(r) for r in roots]
        self._own: dict[Any, Any] = {}  # memo of per-unit own content
        self._mod_src = _MOD_SRC

    # ------------------------------------------------------------------ locality
    def is_local_file(self, path: str | None) -> bool:
        if not path or not path.endswith(".py"):
            return False
        real = os.path.realpath(path)
        if real.startswith(_RAYMLOPS_ROOT + os.sep):
            return True
        if real.startswith(_STDLIB):
            return False
        for r in self.roots:
            if real.startswith(r + os.sep):
                rel = real[len(r) :]
                return not any(f"{os.sep}{s}{os.sep}" in rel for s in _SITE)
        return False

    def _local_module(self, mod: types.ModuleType) -> bool:
        return self.is_local_file(getattr(mod, "__file__", None))

    def _local_obj(self, obj: Any) -> bool:
        mod = sys.modules.get(getattr(obj, "__module__", None) or "")
        if mod is None:
            return False
        try:
            return self.is_local_file(inspect.getsourcefile(obj) or getattr(mod, "__file__", None))
        except TypeError:
            return self._local_module(mod)

    # ------------------------------------------------------------------ public
    def digest(self, fn: Any) -> str:
        """The digest of ``fn`` and everything project-local it reaches."""
        units: dict[str, Any] = {}
        self._walk(("fn", fn), units)
        return _sha(units)

    def local_modules(self, fn: Any) -> list[types.ModuleType]:
        """The project modules (outside raymlops) ``fn`` reaches: workers get them by value."""
        units: dict[str, Any] = {}
        self._walk(("fn", fn), units)
        out = []
        for uid in units:
            name = uid.split(":", 2)[1]
            mod = sys.modules.get(name)
            ours = name == "raymlops" or name.startswith("raymlops.")
            if mod is not None and not ours and self._local_module(mod) and mod not in out:
                out.append(mod)
        return out

    # ------------------------------------------------------------------ the walk
    def _walk(self, unit: tuple[str, Any], units: dict[str, Any]) -> str:
        kind, obj = unit
        uid = self._uid(kind, obj)
        if uid in units:
            return uid
        units[uid] = None  # placeholder: cycles stop here
        if kind == "mod":
            own, deps = self._module_own(obj)
            units[uid] = own
            for dep in deps:
                self._walk(("mod", dep), units)
            return uid
        own, refs = self._code_own(obj)
        resolved = {}
        for name, value in sorted(refs.items()):
            resolved[name] = self._describe(value, units, where=f"{uid} name {name!r}")
        units[uid] = {"own": own, "refs": resolved}
        return uid

    def _uid(self, kind: str, obj: Any) -> str:
        if kind == "mod":
            return f"mod:{obj}"
        return f"{kind}:{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"

    def _describe(self, value: Any, units: dict[str, Any], *, where: str) -> Any:
        """How a referenced object enters the key: a unit id (walked), a name, or its value."""
        if isinstance(value, types.ModuleType):
            return self._walk(("mod", value.__name__), units) if self._local_module(value) else f"module:{value.__name__}"
        if isinstance(value, Step):
            value = value.fn  # a step referenced from another step
        if isinstance(value, logging.Logger):
            return f"logger:{value.name}"
        if isinstance(value, functools.partial):
            return {
                "partial": self._describe(value.func, units, where=where),
                "args": self.canonical(value.args, units, where=where),
                "kwargs": self.canonical(value.keywords, units, where=where),
            }
        if isinstance(value, types.MethodType):
            return {"method": self._describe(value.__func__, units, where=where), "self": self.canonical(value.__self__, units, where=where)}
        if isinstance(value, (types.FunctionType, type)):
            mod = sys.modules.get(getattr(value, "__module__", None) or "")
            if mod is not None and mod.__name__.split(".")[0] == "raymlops" and getattr(mod, "__file__", None):
                # raymlops' own code: its modules' source (module state such as caches and
                # locks is runtime state, not configuration, so it is not walked)
                return self._walk(("mod", mod.__name__), units)
            if self._local_obj(value):
                return self._walk(("cls" if isinstance(value, type) else "fn", value), units)
            return f"ext:{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"
        if callable(value) and not isinstance(getattr(value, "__dict__", None), dict) and not _is_data(value):
            # builtins, ufuncs, C callables: named (their code is the package's, see ``packages``)
            return f"ext:{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
        return {"value": self.canonical(value, units, where=where)}

    # ------------------------------------------------------------------ own content
    def _module_own(self, name: str) -> tuple[str, list[str]]:
        """A module's normalised source and the project modules it imports (found on disk,
        not in ``sys.modules``: the key must not depend on what this process imported)."""
        path = find_module_file(name)
        if path is None:
            return f"missing:{name}", []
        st = os.stat(path)
        sig = (st.st_size, st.st_mtime_ns)
        cached = self._mod_src.get(path)
        if cached is None or cached[0] != sig:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
            pkg = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
            cached = self._mod_src[path] = (sig, _sha(ast.dump(tree, include_attributes=False)), imported_names(tree, pkg))
        deps = [n for n in cached[2] if n != name and self.is_local_file(find_module_file(n))]
        return cached[1], deps

    def _code_own(self, obj: Any) -> tuple[str, dict[str, Any]]:
        """The normalised source of a function or class, and the objects its names load."""
        memo = self._own.get(id(obj))
        if memo is not None and memo[0] is obj:
            return memo[1], memo[2]
        node, tree_src = source_node(obj)
        refs_pending: dict[str, Any] = {}
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            closure = dict(zip(code.co_freevars, (c.cell_contents if _cell_ok(c) else _EMPTY for c in obj.__closure__ or ())))
            scope = obj.__globals__
        else:
            closure, scope = {}, vars(sys.modules[obj.__module__])
        if node is None:  # no source (a lambda on a shared line, exec'd code): the bytecode
            own = code_signature(obj.__code__) if isinstance(obj, types.FunctionType) else repr(obj)
            names, chains = set(getattr(getattr(obj, "__code__", None), "co_names", ())), {}
        else:
            if isinstance(obj, types.FunctionType):
                check_fresh(obj)
            own = _sha(ast.dump(node, include_attributes=False))
            names, chains = loaded_names(node)
            pkg = getattr(sys.modules.get(getattr(obj, "__module__", "") or ""), "__package__", None) or ""
            for label, target in self._inner_imports(node, pkg):
                refs_pending.setdefault(label, target)
        refs: dict[str, Any] = dict(refs_pending)
        for name in names:
            if name in closure:
                value = closure[name]
            elif name in scope:
                value = scope[name]
            else:
                continue  # a builtin or a local variable
            if value is _EMPTY:
                continue
            if isinstance(value, types.ModuleType) and name in chains and self._local_module(value):
                for chain in chains[name]:  # helpers.clean(...): hash helpers.clean, not all of helpers
                    target: Any = value
                    for attr in chain:
                        if not isinstance(target, types.ModuleType) or not hasattr(target, attr):
                            break
                        target = getattr(target, attr)
                    refs[".".join((name, *chain))] = target
                continue
            refs[name] = value
        self._own[id(obj)] = (obj, own, refs)
        return own, refs

    def _inner_imports(self, node: ast.AST, package: str) -> list[tuple[str, Any]]:
        """Project modules imported inside the function body (``from helpers import f``)."""
        out = []
        for n in ast.walk(node):
            if isinstance(n, ast.Import):
                pairs = [(a.name, None) for a in n.names]
            elif isinstance(n, ast.ImportFrom):
                base = n.module or ""
                if n.level:
                    parts = package.split(".")
                    parent = ".".join(parts[: len(parts) - n.level + 1])
                    base = f"{parent}.{base}" if base else parent
                pairs = [(base, a.name) for a in n.names]
            else:
                continue
            for modname, attr in pairs:
                try:
                    spec = importlib.util.find_spec(modname)
                except (ImportError, ValueError):
                    continue
                if spec is None or not self.is_local_file(spec.origin):
                    continue
                mod = importlib.import_module(modname)
                target = getattr(mod, attr, mod) if attr else mod
                out.append((f"import:{modname}" + (f".{attr}" if attr else ""), target))
        return out

    # ------------------------------------------------------------------ values
    def canonical(self, value: Any, units: dict[str, Any] | None = None, *, where: str = "a parameter") -> Any:
        """``value`` as tagged JSON: equal values give equal JSON, different types differ."""
        try:
            return self._canonical(value, {} if units is None else units, where)
        except RecursionError:
            raise UncacheableError(f"{where} refers to itself (a cycle): it cannot be hashed canonically") from None

    def _canonical(self, value: Any, units: dict[str, Any], where: str) -> Any:
        c = functools.partial(self._canonical, units=units, where=where)
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return {"int": str(int(value))}
        if isinstance(value, (float, np.floating)):
            f = float(value)
            return {"float": repr(f) if math.isfinite(f) else str(f)}
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, bytes):
            return {"bytes": hashlib.sha256(value).hexdigest()}
        if isinstance(value, enum.Enum):
            return {"enum": f"{type(value).__module__}.{type(value).__qualname__}", "value": c(value.value)}
        if isinstance(value, (list, tuple)):
            return {type(value).__name__ if type(value) in (list, tuple) else "seq": [c(v) for v in value]}
        if isinstance(value, (set, frozenset)):
            items = [c(v) for v in value]
            return {"set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
        if isinstance(value, Mapping):
            pairs = [[c(k), c(v)] for k, v in value.items()]
            return {"dict": sorted(pairs, key=lambda p: json.dumps(p[0], sort_keys=True))}
        if isinstance(value, (PurePath, dt.date, dt.time, dt.timedelta, complex, range)):
            return {type(value).__name__: str(value)}
        if isinstance(value, re.Pattern):
            return {"regex": value.pattern if isinstance(value.pattern, str) else value.pattern.hex(), "flags": value.flags}
        if isinstance(value, (typing.TypeVar, types.GenericAlias)) or type(value).__module__ == "typing":
            return {"typing": repr(value)}
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                return {"ndarray": "object", "items": c(value.tolist())}
            arr = np.ascontiguousarray(value)
            return {"ndarray": str(arr.dtype), "shape": list(arr.shape), "sha256": hashlib.sha256(arr.view(np.uint8)).hexdigest()}
        if isinstance(value, (pd.DataFrame, pd.Series)):
            hashed = pd.util.hash_pandas_object(value, index=True).to_numpy()
            cols = [str(x) for x in value.columns] if isinstance(value, pd.DataFrame) else [str(value.name)]
            dtypes = [str(x) for x in (value.dtypes if isinstance(value, pd.DataFrame) else [value.dtype])]
            return {"pandas": type(value).__name__, "columns": cols, "dtypes": dtypes, "sha256": hashlib.sha256(hashed.tobytes()).hexdigest()}
        if isinstance(value, (types.FunctionType, type, types.ModuleType, functools.partial, types.MethodType)):
            return {"code": self._describe(value, units, where=where)}
        if dataclasses.is_dataclass(value):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return {"object": self._describe(type(value), units, where=where), "state": c(fields)}
        if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic
            return {"object": self._describe(type(value), units, where=where), "state": c(value.model_dump())}
        state = getattr(value, "__dict__", None)
        if isinstance(state, dict) and not isinstance(value, type):
            return {"object": self._describe(type(value), units, where=where), "state": c(state)}
        raise UncacheableError(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot be hashed canonically; "
            "pass plain values (numbers, strings, lists, dicts, arrays) or declare the step deterministic=False"
        )


_EMPTY = object()


_MOD_SRC: dict[str, tuple[tuple[int, int], str, list[str]]] = {}  # path -> (stat, source digest, imports)


def _cell_ok(cell: Any) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:  # an empty cell (a name assigned later)
        return False


def _is_data(value: Any) -> bool:
    return isinstance(value, (np.ndarray, pd.DataFrame, pd.Series)) or dataclasses.is_dataclass(value)


@functools.lru_cache(maxsize=512)
def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions(packages: Sequence[str], *, fresh: bool = False) -> dict[str, str | None]:
    """Installed version of each distribution (None when it is not installed)."""
    if fresh:
        _version.cache_clear()
    return {p: _version(p) for p in packages}


def step_key(
    fn: Any,
    *,
    params: Mapping[str, Any] | None = None,
    inputs: Mapping[str, str | Sequence[str]] | None = None,
    env: Mapping[str, str | None] | None = None,
    packages: Mapping[str, str | None] | None = None,
    outputs: Sequence[str] = (),
    roots: Sequence[str] = (),
    fingerprint: CodeFingerprint | None = None,
) -> str:
    """The cache key (hex sha256) of running ``fn`` with these parameters and input contents.

    Args:
        fn: the step function.
        params: parameter values.
        inputs: ``{parameter: content sha256 or list of them}`` of input artifacts and files.
        env: declared environment variables and their values (None: unset).
        packages: declared distributions and their versions.
        outputs: the declared output names.
        roots: project folders (see :class:`CodeFingerprint`).

    Raises:
        UncacheableError: a parameter, global or closure value cannot be hashed.
    """
    fp = fingerprint or CodeFingerprint(roots)
    return _sha(
        {
            "v": KEY_VERSION,
            "code": fp.digest(fn),
            "params": fp.canonical(dict(params or {}), where="a parameter"),
            "inputs": {k: list(v) if not isinstance(v, str) else v for k, v in sorted((inputs or {}).items())},
            "env": dict(sorted((env or {}).items())),
            "packages": dict(sorted((packages or {}).items())),
            "outputs": sorted(outputs),
        }
    )


def project_root(path: str) -> str:
    """The folder holding ``.git``, ``pyproject.toml`` or ``setup.py`` above ``path`` (else its folder)."""
    d = os.path.dirname(os.path.abspath(path))
    here = d
    while True:
        if any(os.path.exists(os.path.join(here, m)) for m in (".git", "pyproject.toml", "setup.py")):
            return here
        up = os.path.dirname(here)
        if up == here:
            return d
        here = up


def canonical(value: Any) -> Any:
    """Module-level shortcut of :meth:`CodeFingerprint.canonical` (no project roots)."""
    return CodeFingerprint().canonical(value)
