"""Labeling functions: plain Python in a user file, vectorised over a pandas batch.

A labeling function (LF) takes a pandas DataFrame batch and returns one label per row,
``-1`` (``ABSTAIN``) where it has no opinion::

    from raymlops.labeling import labeling_function

    CLASSES = ["ham", "spam"]          # optional: lets LFs return class names

    @labeling_function()
    def has_link(df):
        return df["text"].str.contains("http").map({True: 1, False: -1})

    @labeling_function()
    def shouting(row):                 # a row-wise function works too
        return "spam" if row["text"].isupper() else -1

Whether a function is vectorised or row-wise is found on the first batch (it is
vectorised when it returns one value per row); pass ``rowwise=True`` or ``False`` to
say it. Row-wise functions run through a plain loop and are as slow as pandas
``apply``; the benchmark shows the gap.

Every failure is one line naming the function and the row: an exception (the first
row that raises is found by running the rows one by one), a wrong number of outputs,
a label that is not an integer class, ``-1`` or one of ``CLASSES``.

Example:
    >>> import pandas as pd
    >>> @labeling_function()
    ... def positive(df):
    ...     return (df["x"] > 0).astype(int) * 2 - 1   # 1 when positive, else abstain
    >>> positive.apply(pd.DataFrame({"x": [3, -1, 5]})).tolist()
    [1, -1, 1]
    >>> positive.name, positive.mode
    ('positive', 'vectorised')
"""

from __future__ import annotations

import hashlib
import sys
import traceback
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from raymlops.labeling.annotations import class_key
from raymlops.labeling.errors import LabelingFunctionError

__all__ = ["ABSTAIN", "LabelingFunction", "LFSet", "labeling_function", "load_lfs", "lfs_from_source"]

ABSTAIN = -1


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class LabelingFunction:
    """A labeling function (make one with :func:`labeling_function`).

    Args:
        fn: the function.
        name: its name in the label matrix (the function's name by default).
        rowwise: True for a function of one row, False for a batch, None to find out.
        resources: keyword arguments passed to every call.
    """

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, rowwise: bool | None = None, resources: dict[str, Any] | None = None):
        self.fn = fn
        self.name = name or fn.__name__
        self.rowwise = rowwise
        self.resources = dict(resources or {})

    def __repr__(self) -> str:
        return f"LabelingFunction({self.name!r}, mode={self.mode!r})"

    @property
    def mode(self) -> str:
        return {None: "unknown", True: "row-wise", False: "vectorised"}[self.rowwise]

    def __call__(self, batch: pd.DataFrame) -> Any:
        return self.fn(batch, **self.resources)

    def _fail(self, exc: BaseException, batch: pd.DataFrame, key: str | None) -> LabelingFunctionError:
        """The error naming the first row on which the function raises."""
        row = None
        for i in range(min(len(batch), 10_000)):
            try:
                if self.rowwise:
                    self.fn(batch.iloc[i], **self.resources)
                else:
                    self.fn(batch.iloc[i : i + 1], **self.resources)
            except Exception as row_exc:  # noqa: BLE001 - user code: any error is reported
                row, exc = i, row_exc
                break
        where = "on the batch" if row is None else f"on row {batch.index[row]}"
        if row is not None and key is not None and key in batch.columns:
            where += f" ({key}={_plain(batch[key].iloc[row])!r})"
        line = ""
        own = getattr(getattr(self.fn, "__code__", None), "co_filename", None)
        tb = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == own]
        if tb:
            line = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}"
        return LabelingFunctionError(f"labeling function {self.name!r} raised {_short(exc)} {where}{line}; fix the function")

    def _rowwise(self, batch: pd.DataFrame) -> list[Any]:
        fn, res = self.fn, self.resources
        if len(batch) == 0:
            return []
        return batch.apply(lambda row: fn(row, **res), axis=1, result_type="reduce").tolist()

    def raw(self, batch: pd.DataFrame, key: str | None = None) -> Any:
        """The function's outputs for ``batch`` (finding its mode on the first call)."""
        if self.rowwise is None:
            try:
                out = self.fn(batch, **self.resources)
                if _is_column(out, len(batch)):
                    self.rowwise = False
                    return out
            except Exception:  # noqa: BLE001 - maybe a row-wise function: try it so
                pass
            self.rowwise = True
        try:
            return self._rowwise(batch) if self.rowwise else self.fn(batch, **self.resources)
        except LabelingFunctionError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code: any error is reported
            raise self._fail(exc, batch, key) from None

    def apply(self, batch: pd.DataFrame, *, classes: Sequence[Any] | None = None, key: str | None = None) -> np.ndarray:
        """int32 labels for ``batch`` (``-1`` abstains), checked.

        Raises:
            LabelingFunctionError: the function raised, returned the wrong number of
                labels, or a label that is not a class.
        """
        out = self.raw(batch, key)
        if not _is_column(out, len(batch)):
            got = f"{len(out)} values" if hasattr(out, "__len__") and not isinstance(out, str) else f"a {type(out).__name__}"
            raise LabelingFunctionError(
                f"labeling function {self.name!r} returned {got} for a batch of {len(batch)} rows; "
                "return one label per row (-1 to abstain), or decorate a row-wise function with rowwise=True"
            )
        return _to_codes(self.name, out, batch, classes, key)


def _is_column(out: Any, n: int) -> bool:
    if isinstance(out, (pd.Series, pd.Index, np.ndarray, list, tuple, pd.api.extensions.ExtensionArray)):
        return len(out) == n and (not isinstance(out, np.ndarray) or out.ndim == 1)
    return False


def _to_codes(name: str, out: Any, batch: pd.DataFrame, classes: Sequence[Any] | None, key: str | None) -> np.ndarray:
    values = out.to_numpy() if isinstance(out, (pd.Series, pd.Index)) else np.asarray(out, dtype=object if isinstance(out, list) else None)
    k = len(classes) if classes is not None else None
    if values.dtype.kind in "iub":
        codes = values.astype(np.int64)
    else:
        index = {class_key(c): i for i, c in enumerate(classes or [])}
        codes = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values.tolist()):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                codes[i] = ABSTAIN
            elif isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()):
                codes[i] = int(v)
            elif class_key(v) in index:
                codes[i] = index[class_key(v)]
            else:
                raise _bad(name, batch, i, v, classes, key)
    bad = (codes < ABSTAIN) | ((codes >= k) if k is not None else False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _bad(name, batch, i, codes[i], classes, key)
    return codes.astype(np.int32)


def _bad(name: str, batch: pd.DataFrame, i: int, value: Any, classes: Sequence[Any] | None, key: str | None) -> LabelingFunctionError:
    where = f"row {batch.index[i]}" + (f" ({key}={_plain(batch[key].iloc[i])!r})" if key is not None and key in batch.columns else "")
    allowed = f"-1 or a class index 0..{len(classes) - 1} or one of {', '.join(map(str, classes))}" if classes else "-1 or a non-negative class index"
    return LabelingFunctionError(f"labeling function {name!r} returned {_plain(value)!r} on {where}; return {allowed}")


def labeling_function(name: str | None = None, *, rowwise: bool | None = None, resources: dict[str, Any] | None = None) -> Callable[[Callable[..., Any]], LabelingFunction]:
    """Decorator: make ``fn`` a :class:`LabelingFunction` (see the module docstring)."""

    def wrap(fn: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(fn, name=name, rowwise=rowwise, resources=resources)

    return wrap


@dataclass
class LFSet:
    """The labeling functions of one file, in the order they are defined.

    Attributes:
        lfs: the functions.
        classes: the file's ``CLASSES`` (or None: labels are class indices).
        source: the file's text (shipped to Ray workers; hashed for lineage).
        path: where it came from.
    """

    lfs: list[LabelingFunction]
    classes: list[Any] | None
    source: str
    path: str = "<memory>"
    sha256: str = field(default="")

    @property
    def names(self) -> list[str]:
        return [lf.name for lf in self.lfs]


def lfs_from_source(source: str, path: str = "<memory>") -> LFSet:
    """Load the labeling functions defined in Python ``source``.

    Raises:
        LabelingFunctionError: a syntax error, an error while the file runs, no labeling
            function in it, two functions with the same name.
    """
    digest = hashlib.sha256(source.encode()).hexdigest()
    mod_name = f"raymlops_lfs_{digest[:16]}"
    module = types.ModuleType(mod_name)
    module.__file__ = path
    fname = path.rsplit("/", 1)[-1]
    try:
        code = compile(source, path, "exec")
    except SyntaxError as exc:
        raise LabelingFunctionError(f"LF file {fname} line {exc.lineno}: SyntaxError: {exc.msg}; fix the file") from None
    sys.modules[mod_name] = module  # dataclasses and pickling look the module up
    try:
        exec(code, module.__dict__)  # noqa: S102 - the user's own labeling-function file
    except Exception as exc:  # noqa: BLE001 - user code: any error is reported
        tb = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
        at = f" line {tb[-1].lineno}" if tb else ""
        raise LabelingFunctionError(f"LF file {fname}{at} raised {_short(exc)} while loading; fix the file") from None
    lfs = [v for v in module.__dict__.values() if isinstance(v, LabelingFunction)]
    if not lfs:
        raise LabelingFunctionError(f"LF file {fname} defines no labeling function; decorate functions with @labeling_function()")
    seen: dict[str, int] = {}
    for lf in lfs:
        seen[lf.name] = seen.get(lf.name, 0) + 1
    dup = [n for n, c in seen.items() if c > 1]
    if dup:
        raise LabelingFunctionError(f"LF file {fname} has two labeling functions named {dup[0]!r}; give them distinct names")
    classes = module.__dict__.get("CLASSES")
    return LFSet(lfs=lfs, classes=list(classes) if classes is not None else None, source=source, path=path, sha256=digest)


def load_lfs(path: str) -> LFSet:
    """Load the labeling functions of the Python file at ``path`` (see :func:`lfs_from_source`)."""
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise LabelingFunctionError(f"cannot read LF file {path}: {exc.strerror}; pass the path of a .py file") from None
    return lfs_from_source(source, path)
