"""The long annotation table (``task, worker, label``), integer-coded for the aggregators.

Every aggregator works on three integer arrays of the same length (task, worker and
label codes) and the vocabularies that decode them. Nothing ever builds a dense
tasks x workers matrix: one row per label is all the memory a label costs
(12 bytes at int32), so 10M labels fit in about 120 MB.

Checks, each a one-line :class:`AnnotationsError` naming the row and column: a missing
column, an empty task, worker or label cell, a table without rows. A worker who
labelled the same task twice keeps the last label; the count of dropped repeats is
kept in ``duplicates``. Gold (SME) labels must use a class the annotations know
(:class:`GoldError` otherwise), unless the classes are given explicitly.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"task": ["a", "a", "b"], "worker": ["u", "v", "u"], "label": ["cat", "dog", "cat"]})
    >>> ann = Annotations.from_frame(df)
    >>> ann.n_tasks, ann.n_workers, ann.classes
    (2, 2, ['cat', 'dog'])
    >>> ann.task.tolist(), ann.label.tolist()
    ([0, 0, 1], [0, 1, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from raymlops.labeling.errors import AnnotationsError, GoldError

__all__ = ["Annotations", "Gold", "class_key", "sorted_classes"]


def class_key(value: Any) -> str:
    """How a class is matched across tables: ``1``, ``1.0`` and ``"1"`` are the same class."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def sorted_classes(values: Sequence[Any]) -> list[Any]:
    """Classes in their natural order (numbers numerically, otherwise as text), as plain Python values."""
    plain = [v.item() if isinstance(v, np.generic) else v for v in values]
    try:
        return sorted(set(plain))
    except TypeError:  # mixed types: order by their text
        return sorted(set(plain), key=class_key)


def _r(value: Any) -> str:
    """``repr`` of a cell without numpy's wrapper (``1``, not ``np.int64(1)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _check_columns(df: pd.DataFrame, cols: dict[str, str], what: str, error: type) -> None:
    for role, col in cols.items():
        if col not in df.columns:
            flag = {"task": "--task-col", "worker": "--worker-col", "label": "--label-col"}.get(role, "")
            hint = f"; pass {flag} COLUMN to name the {role} column" if flag else ""
            raise error(f"the {what} table has no column {col!r} (columns: {', '.join(map(str, df.columns))}){hint}")


def _blank(values: Any) -> np.ndarray:
    """Which of ``values`` are empty: missing, or text that is only whitespace."""
    s = pd.Series(values)
    empty = s.isna().to_numpy(copy=True)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        empty |= s.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    return empty


def _raise_empty(df: pd.DataFrame, cols: dict[str, str], role: str, empty: np.ndarray, what: str, error: type) -> None:
    """The one-line error for the first empty cell of ``role``'s column, if there is one."""
    if not empty.any():
        return
    col = cols[role]
    i = int(np.flatnonzero(empty)[0])
    extra = ""
    if role == "label" and "task" in cols:
        extra = f" (task {_r(df[cols['task']].iloc[i])} has no label there)"
    raise error(
        f"{what} row {i}: column {col!r} is empty{extra}; fill it in or drop the row "
        f"({int(empty.sum())} such row{'s' if empty.sum() != 1 else ''})"
    )


def _first_empty(df: pd.DataFrame, cols: dict[str, str], what: str, error: type) -> None:
    for role, col in cols.items():
        _raise_empty(df, cols, role, _blank(df[col]), what, error)


def _factorized(df: pd.DataFrame, cols: dict[str, str], what: str, error: type) -> dict[str, tuple[np.ndarray, Any]]:
    """Codes and distinct values of each column, in order, stopping at the first empty cell.

    Emptiness is decided on the distinct values (a few thousand workers, not a million
    rows): a missing cell gets code -1 from ``pd.factorize``, and a blank text is found
    among the distinct values.
    """
    out = {}
    for role, col in cols.items():
        codes, uniques = pd.factorize(df[col], sort=False)
        blank = _blank(uniques)
        empty = codes < 0
        if blank.any():
            empty |= blank[codes]
        _raise_empty(df, cols, role, empty, what, error)
        out[role] = (codes, uniques)
    return out


@dataclass
class Annotations:
    """Integer-coded annotations: ``task[i]`` gave ``label[i]`` from ``worker[i]``.

    Attributes:
        task, worker, label: int32 codes, one entry per label.
        tasks, workers: the original ids of the codes (``tasks[task[i]]``).
        classes: the class values (``classes[label[i]]``), in natural order.
        duplicates: repeated (task, worker) labels dropped (the last one is kept).
    """

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    tasks: np.ndarray
    workers: np.ndarray
    classes: list[Any]
    duplicates: int = 0
    columns: dict[str, str] = field(default_factory=lambda: {"task": "task", "worker": "worker", "label": "label"})

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_labels(self) -> int:
        return len(self.task)

    def class_index(self) -> dict[str, int]:
        """Class key -> code."""
        return {class_key(c): i for i, c in enumerate(self.classes)}

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        task_col: str = "task",
        worker_col: str = "worker",
        label_col: str = "label",
        classes: Sequence[Any] | None = None,
    ) -> Annotations:
        """Check and encode a long table of labels.

        Args:
            df: one row per label.
            task_col, worker_col, label_col: the column names.
            classes: every class, in order; by default the labels seen, sorted.

        Raises:
            AnnotationsError: a missing column, an empty cell, no rows, a label outside ``classes``.
        """
        cols = {"task": task_col, "worker": worker_col, "label": label_col}
        _check_columns(df, cols, "annotation", AnnotationsError)
        if len(df) == 0:
            raise AnnotationsError("the annotation table has no rows: there is nothing to aggregate")
        df = df.reset_index(drop=True)
        coded = _factorized(df, cols, "annotation", AnnotationsError)
        (task_codes, tasks), (worker_codes, workers), (label_codes, seen) = coded["task"], coded["worker"], coded["label"]
        keys = [class_key(v) for v in seen]
        if classes is None:
            classes = sorted_classes(list(seen))
            # the same class written two ways (1 and "1") is one class
            by_key = {class_key(c): c for c in classes}
            classes = [by_key[k] for k in dict.fromkeys(class_key(c) for c in classes)]
        index = {class_key(c): i for i, c in enumerate(classes)}
        unknown = [k for k in keys if k not in index]
        if unknown:
            i = int(np.flatnonzero(df[label_col].map(class_key).isin(unknown).to_numpy())[0])
            raise AnnotationsError(
                f"annotation row {i}: label {_r(df[label_col].iloc[i])} in column {label_col!r} is not one of the "
                f"classes {', '.join(map(str, classes))}; add it to the classes or fix the row"
            )
        remap = np.array([index[k] for k in keys], dtype=np.int32)
        label = remap[label_codes]
        task = task_codes.astype(np.int32)
        worker = worker_codes.astype(np.int32)
        # one label per (task, worker): keep the last one (a hash pass, no sort)
        pair = task.astype(np.int64) * max(len(workers), 1) + worker
        repeated = pd.Series(pair).duplicated(keep="last").to_numpy()
        duplicates = int(repeated.sum())
        if duplicates:
            keep = ~repeated
            task, worker, label = task[keep], worker[keep], label[keep]
        return cls(
            task=task,
            worker=worker,
            label=label,
            tasks=np.asarray(tasks, dtype=object),
            workers=np.asarray(workers, dtype=object),
            classes=list(classes),
            duplicates=int(duplicates),
            columns=cols,
        )

    @classmethod
    def from_codes(
        cls, task: np.ndarray, worker: np.ndarray, label: np.ndarray, *, n_tasks: int, n_workers: int, n_classes: int
    ) -> Annotations:
        """Annotations from integer arrays whose ids are their codes (a label matrix, a simulation)."""
        return cls(
            task=np.asarray(task, dtype=np.int32),
            worker=np.asarray(worker, dtype=np.int32),
            label=np.asarray(label, dtype=np.int32),
            tasks=np.arange(n_tasks),
            workers=np.arange(n_workers),
            classes=list(range(n_classes)),
        )

    def with_tasks(self, extra: Sequence[Any]) -> Annotations:
        """The same labels with more tasks in the vocabulary (gold tasks nobody labelled)."""
        known = set(self.tasks.tolist())
        new = [t for t in dict.fromkeys(extra) if t not in known]
        if not new:
            return self
        return replace(self, tasks=np.concatenate([self.tasks, np.asarray(new, dtype=object)]))

    def extend(self, df: pd.DataFrame) -> tuple[Annotations, np.ndarray]:
        """These annotations plus the rows of ``df`` (new tasks and workers get new codes).

        Returns:
            ``(combined, new_rows)``: ``new_rows`` are the positions of ``df``'s labels in
            ``combined``. A (task, worker) pair labelled again replaces its old label.

        Raises:
            AnnotationsError: as :meth:`from_frame`, and for a class not seen in the fit.
        """
        tc, wc, lc = self.columns["task"], self.columns["worker"], self.columns["label"]
        batch = Annotations.from_frame(df, task_col=tc, worker_col=wc, label_col=lc, classes=self.classes)
        t_index = {t: i for i, t in enumerate(self.tasks.tolist())}
        w_index = {w: i for i, w in enumerate(self.workers.tolist())}
        tasks, workers = list(self.tasks), list(self.workers)
        t_map = np.empty(batch.n_tasks, dtype=np.int32)
        for i, t in enumerate(batch.tasks.tolist()):
            if t not in t_index:
                t_index[t] = len(tasks)
                tasks.append(t)
            t_map[i] = t_index[t]
        w_map = np.empty(batch.n_workers, dtype=np.int32)
        for i, w in enumerate(batch.workers.tolist()):
            if w not in w_index:
                w_index[w] = len(workers)
                workers.append(w)
            w_map[i] = w_index[w]
        new_t, new_w = t_map[batch.task], w_map[batch.worker]
        n_w = max(len(workers), 1)
        old_pair = self.task.astype(np.int64) * n_w + self.worker
        replaced = np.isin(old_pair, new_t.astype(np.int64) * n_w + new_w)
        keep = ~replaced
        combined = Annotations(
            task=np.concatenate([self.task[keep], new_t]),
            worker=np.concatenate([self.worker[keep], new_w]),
            label=np.concatenate([self.label[keep], batch.label]),
            tasks=np.asarray(tasks, dtype=object),
            workers=np.asarray(workers, dtype=object),
            classes=self.classes,
            duplicates=self.duplicates + batch.duplicates + int(replaced.sum()),
            columns=self.columns,
        )
        return combined, np.arange(int(keep.sum()), combined.n_labels)


@dataclass
class Gold:
    """Gold labels from subject-matter experts, coded against an annotation table.

    Attributes:
        task: task codes (into ``Annotations.tasks``).
        label: class codes (into ``Annotations.classes``).
    """

    task: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.task)

    @classmethod
    def empty(cls) -> Gold:
        return cls(task=np.zeros(0, dtype=np.int32), label=np.zeros(0, dtype=np.int32))

    @classmethod
    def from_frame(
        cls, df: pd.DataFrame, annotations: Annotations, *, task_col: str = "task", label_col: str = "label"
    ) -> tuple[Gold, Annotations]:
        """Code ``df`` (task, label) against ``annotations``; gold tasks nobody labelled are added.

        Returns:
            ``(gold, annotations)`` with the annotations' task vocabulary extended if needed.

        Raises:
            GoldError: a missing column, an empty cell, a class the annotations do not have,
                one task with two different gold labels.
        """
        cols = {"task": task_col, "label": label_col}
        _check_columns(df, cols, "gold", GoldError)
        _first_empty(df, cols, "gold", GoldError)
        df = df.reset_index(drop=True)
        index = annotations.class_index()
        keys = df[label_col].map(class_key)
        bad = ~keys.isin(list(index)).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise GoldError(
                f"gold row {i}: label {_r(df[label_col].iloc[i])} of task {_r(df[task_col].iloc[i])} (column {label_col!r}) "
                f"is not a class of the annotations ({', '.join(map(str, annotations.classes))}); fix the gold row"
            )
        per_task = pd.DataFrame({"t": df[task_col], "k": keys}).drop_duplicates()
        clash = per_task["t"].duplicated(keep=False).to_numpy()
        if clash.any():
            t = per_task["t"].to_numpy()[clash][0]
            rows = np.flatnonzero((df[task_col] == t).to_numpy())
            raise GoldError(f"gold rows {rows.tolist()}: task {_r(t)} has different gold labels; keep one")
        annotations = annotations.with_tasks(per_task["t"].tolist())
        t_index = {t: i for i, t in enumerate(annotations.tasks.tolist())}
        task = np.array([t_index[t] for t in per_task["t"].tolist()], dtype=np.int32)
        label = np.array([index[k] for k in per_task["k"].tolist()], dtype=np.int32)
        return cls(task=task, label=label), annotations
