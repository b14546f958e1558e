r"""Reading code for the cache key: normalised syntax trees, the names code loads, imports.

Pure helpers of :mod:`raymlops.pipelines.cache_key`: where a module's source is (found on
``sys.path`` without importing it, so a key never depends on what a process imported),
a function's decorator-free syntax tree, the global names and attribute chains it loads
(its own parameters and locals excluded), the modules a module imports, a code object's
signature (bytecode without line numbers), and the check that the source on disk is the
code in memory.

Example:
    >>> import ast
    >>> tree = ast.parse("def f(x):\n    y = helpers.clean(x)\n    return np.sum(y) + LIMIT")
    >>> names, chains = loaded_names(tree.body[0])
    >>> sorted(names), chains
    (['LIMIT', 'helpers', 'np'], {'helpers': {('clean',)}, 'np': {('sum',)}})
"""

from __future__ import annotations

import __future__
import ast
import functools
import hashlib
import inspect
import json
import os
import sys
import textwrap
import types
from typing import Any

from raymlops.core.errors import RaymlopsError

__all__ = [
    "FUTURE_FLAGS", "UncacheableError", "check_fresh", "code_signature", "find_module_file", "imported_names", "loaded_names",
    "local_names", "source_node",
]  # fmt: skip

FUTURE_FLAGS = functools.reduce(lambda a, f: a | getattr(__future__, f).compiler_flag, __future__.all_feature_names, 0)


class UncacheableError(RaymlopsError):
    """Something the step depends on cannot be hashed canonically: it runs uncached."""

    code = "uncacheable"


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()).hexdigest()


@functools.lru_cache(maxsize=4096)
def find_module_file_cached(name: str, path_key: tuple[str, ...]) -> str | None:
    parts = name.split(".")
    for entry in path_key:
        base = os.path.join(entry or ".", *parts)
        for cand in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(cand):
                return os.path.abspath(cand)
    return None


def find_module_file(name: str | None) -> str | None:
    """The source file of module ``name``: the imported one, else found on ``sys.path`` (no import)."""
    if not name:
        return None
    mod = sys.modules.get(name)
    f = getattr(mod, "__file__", None) if mod is not None else None
    if f and f.endswith(".py"):
        return os.path.abspath(f)
    return find_module_file_cached(name, tuple(sys.path))


def source_node(obj: Any) -> tuple[ast.AST | None, str | None]:
    """The function's or class's AST node (decorators removed), or None without source."""
    try:
        src = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None, None
    want = getattr(obj, "__name__", None)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == want:
            node.decorator_list = []
            return node, src
    return None, None


def loaded_names(node: ast.AST) -> tuple[set[str], dict[str, set[tuple[str, ...]]]]:
    """Names the code loads, and the attribute chains read off each (``helpers.clean``)."""
    names: set[str] = set()
    chains: dict[str, set[tuple[str, ...]]] = {}
    bare: set[str] = set()
    in_chain: set[int] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and id(n) not in in_chain:
            parts = []
            cur: ast.AST = n
            while isinstance(cur, ast.Attribute):
                in_chain.add(id(cur))
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name):
                in_chain.add(id(cur))
                chains.setdefault(cur.id, set()).add(tuple(reversed(parts)))
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            names.add(n.id)
            if id(n) not in in_chain:
                bare.add(n.id)
    local = local_names(node)
    names -= local
    # a name also used bare (passed around, getattr on it) is hashed whole
    return names, {k: v for k, v in chains.items() if k not in bare and k not in local}


def local_names(node: ast.AST) -> set[str]:
    """Names a function binds itself (parameters, assignments, imports, nested defs): not globals."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return set()
    a = node.args
    out = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)} | {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    declared: set[str] = set()
    for n in ast.walk(node):
        if n is node:
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out |= {(al.asname or al.name).split(".")[0] for al in n.names}
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            declared |= set(n.names)
    return out - declared


def imported_names(tree: ast.AST, pkg: str) -> list[str]:
    """Absolute names of the modules a module imports (anywhere in it, lazily too)."""
    out: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out += [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                parts = pkg.split(".")
                parent = ".".join(parts[: len(parts) - n.level + 1]) if n.level <= len(parts) else ""
                base = f"{parent}.{base}" if base else parent
            out.append(base)
            out += [f"{base}.{a.name}" for a in n.names]  # `from pkg import submodule`
    return sorted(set(o for o in out if o))


def code_signature(code: types.CodeType) -> str:
    """A digest of what a code object runs (no line numbers)."""
    consts = [code_signature(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return _sha([code.co_code.hex(), consts, list(code.co_names), list(code.co_varnames), code.co_flags & ~FUTURE_FLAGS])


FRESH_INDEX: dict[str, tuple[tuple[int, int], dict[str, set[str]]]] = {}


def check_fresh(fn: types.FunctionType) -> None:
    """Refuse a key when the source on disk is not the code in memory (edited after import).

    The module's current source is compiled whole (bytecode depends on module context:
    a name bound by ``import`` compiles differently) and the function's code object is
    compared with the live one, line numbers aside.
    """
    path = fn.__code__.co_filename
    try:
        st = os.stat(path)
    except OSError:
        return
    sig = (st.st_size, st.st_mtime_ns)
    hit = FRESH_INDEX.get(path)
    if hit is None or hit[0] != sig:
        try:
            with open(path, "rb") as f:
                code = compile(f.read(), path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OSError):
            return
        index: dict[str, set[str]] = {}
        todo = [code]
        while todo:
            c = todo.pop()
            index.setdefault(c.co_qualname, set()).add(code_signature(c))
            todo += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        hit = FRESH_INDEX[path] = (sig, index)
    known = hit[1].get(fn.__code__.co_qualname)
    if known and code_signature(fn.__code__) not in known:
        raise UncacheableError(
            f"the source of {fn.__module__}.{fn.__qualname__} in {path} changed after it was imported: the key "
            "would describe code that is not running; restart the process (or reload the module)"
        )
