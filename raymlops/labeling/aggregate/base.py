"""What every aggregation method shares: the fit signature and the result tables.

An aggregator is a scikit-learn style estimator: ``__init__`` stores keyword
arguments, :meth:`Aggregator.fit` takes an annotation table (and optionally gold
labels and the SME workers) and sets ``posteriors_``; :meth:`Aggregator.result`
builds the per-task and per-worker tables.

Per task: ``label`` (the most probable class), ``confidence`` (its posterior),
``n_labels``, ``agreement`` (share of the task's labels equal to ``label``), ``gold``
(an SME label fixed it) and ``proba_<class>``. Per worker: ``accuracy`` (expected share
of correct labels), ``n_labels``, ``agreement`` (share agreeing with the aggregate),
``spammer_score`` and ``spammer`` (labels independent of the truth), ``sme`` and the
``confusion`` matrix ``[true][observed]``.

The spammer score is Raykar and Yu's (JMLR 2012): the mean squared distance between
the rows of a worker's confusion matrix, scaled so that a perfect worker scores 1 and
a worker whose answer does not depend on the true class (random, or always the same
answer) scores 0. It is computed from the worker's soft counts alone (no prior), over
the true classes with at least one expected label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from raymlops.labeling.aggregate.em import Shard, make_shards
from raymlops.labeling.annotations import Annotations, Gold
from raymlops.labeling.errors import AnnotationsError

__all__ = ["AggregateResult", "Aggregator", "spammer_scores", "proba_column"]


def proba_column(cls: Any) -> str:
    """The name of the posterior column of class ``cls``."""
    return f"proba_{cls}"


def spammer_scores(counts: np.ndarray, *, min_evidence: float = 1.0) -> np.ndarray:
    """Raykar-Yu spammer score per worker from soft counts ``[worker, true, observed]``.

    Returns NaN for a worker with fewer than two true classes of evidence.

    Example:
        >>> perfect = np.eye(2)[None] * 10
        >>> constant = np.array([[[5.0, 0.0], [5.0, 0.0]]])
        >>> spammer_scores(np.concatenate([perfect, constant])).round(3).tolist()
        [1.0, 0.0]
    """
    w, k, _ = counts.shape
    rows = counts.sum(axis=2)
    conf = np.divide(counts, rows[:, :, None], out=np.zeros_like(counts), where=rows[:, :, None] > 0)
    seen = rows >= min_evidence
    out = np.full(w, np.nan)
    total = np.zeros(w)
    pairs = np.zeros(w)
    for a in range(k):
        for b in range(a + 1, k):
            both = seen[:, a] & seen[:, b]
            d = ((conf[:, a] - conf[:, b]) ** 2).sum(axis=1) / 2.0
            total += np.where(both, d, 0.0)
            pairs += both
    ok = pairs > 0
    out[ok] = total[ok] / pairs[ok]
    return out


@dataclass
class Summary:
    """Per-task and per-worker figures gathered from fitted shards (in process or on Ray).

    Attributes:
        post: (n_tasks, K) posteriors (NaN for a task in no shard).
        agreement: per task, the share of its labels equal to the aggregate.
        task_labels: labels per task.
        worker_labels, worker_agree: labels per worker, and how many agree with the aggregate.
    """

    post: np.ndarray
    agreement: np.ndarray
    task_labels: np.ndarray
    worker_labels: np.ndarray
    worker_agree: np.ndarray

    @classmethod
    def empty(cls, n_tasks: int, n_workers: int, n_classes: int) -> Summary:
        return cls(
            np.full((n_tasks, n_classes), np.nan), np.full(n_tasks, np.nan), np.zeros(n_tasks, dtype=np.int64),
            np.zeros(n_workers, dtype=np.int64), np.zeros(n_workers),
        )

    def add(self, shard: Shard, post: np.ndarray) -> None:
        """Fold in one shard's posteriors (local task order)."""
        self.add_parts(shard.task_ids, post, *shard.summary(post))

    def add_parts(self, task_ids: np.ndarray, post: np.ndarray, agreement: np.ndarray, sizes: np.ndarray, worker_labels: np.ndarray, worker_agree: np.ndarray) -> None:
        self.post[task_ids] = post
        self.agreement[task_ids] = agreement
        self.task_labels[task_ids] = sizes
        self.worker_labels += worker_labels
        self.worker_agree += worker_agree


@dataclass
class AggregateResult:
    """Aggregated labels: per-task and per-worker tables plus the run's figures."""

    method: str
    classes: list[Any]
    tasks: pd.DataFrame
    workers: pd.DataFrame
    iterations: int = 0
    converged: bool = True
    gold: dict[str, Any] = field(default_factory=lambda: {"tasks": 0, "accuracy": None})
    duplicates: int = 0

    def needs_labels(self, k: int = 20) -> list[Any]:
        """The ``k`` tasks that most need another label: lowest confidence, then fewest labels (gold excluded)."""
        t = self.tasks[~self.tasks["gold"]]
        order = np.lexsort((t["n_labels"].to_numpy(), t["confidence"].to_numpy()))
        return [_plain(v) for v in t["task"].to_numpy()[order[:k]]]

    def worst_workers(self, k: int = 5, *, min_labels: int = 1) -> pd.DataFrame:
        """The ``k`` workers with the lowest estimated accuracy among those with ``min_labels`` labels."""
        w = self.workers[self.workers["n_labels"] >= min_labels]
        return w.sort_values(["accuracy", "n_labels"], ascending=[True, False]).head(k)

    def to_dict(self, *, queue: int = 20) -> dict[str, Any]:
        return {
            "tasks": int(len(self.tasks)),
            "workers": int(len(self.workers)),
            "classes": [_plain(c) for c in self.classes],
            "method": self.method,
            "iterations": int(self.iterations),
            "converged": bool(self.converged),
            "gold": self.gold,
            "duplicates": int(self.duplicates),
            "spammers": int(self.workers["spammer"].sum()),
            "needs_labels": self.needs_labels(queue),
        }


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class Aggregator(BaseEstimator):
    """Base of the aggregation methods (see the module docstring)."""

    method = "base"

    def __init__(self, *, max_labels_per_shard: int = 2_000_000):
        self.max_labels_per_shard = max_labels_per_shard

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        annotations: Annotations | pd.DataFrame,
        gold: Gold | pd.DataFrame | None = None,
        *,
        sme: Iterable[Any] = (),
    ) -> Aggregator:
        """Aggregate ``annotations``; ``gold`` (task, label) fixes those tasks; ``sme`` names expert workers.

        Raises:
            AnnotationsError, GoldError: unusable tables; an SME worker that gave no label.
        """
        ann, g = self._prepare(annotations, gold)
        self.annotations_, self.gold_ = ann, g
        self.sme_ = self.sme_mask(ann, sme)
        shards = make_shards(
            ann.task, ann.worker, ann.label, n_workers=ann.n_workers, n_classes=ann.n_classes,
            gold_task=g.task, gold_label=g.label, max_labels=self.max_labels_per_shard,
        )
        self._fit_shards(shards)
        return self

    @staticmethod
    def _prepare(annotations: Annotations | pd.DataFrame, gold: Gold | pd.DataFrame | None) -> tuple[Annotations, Gold]:
        ann = annotations if isinstance(annotations, Annotations) else Annotations.from_frame(annotations)
        if gold is None:
            return ann, Gold.empty()
        if isinstance(gold, Gold):
            return ann, gold
        g, ann = Gold.from_frame(gold, ann, task_col=ann.columns["task"], label_col=ann.columns["label"])
        return ann, g

    @staticmethod
    def sme_mask(ann: Annotations, sme: Iterable[Any]) -> np.ndarray:
        """Which worker codes are SMEs; an SME who gave no label is an error."""
        mask = np.zeros(ann.n_workers, dtype=bool)
        index = {str(w): i for i, w in enumerate(ann.workers.tolist())}
        for w in sme:
            if str(w) not in index:
                raise AnnotationsError(
                    f"SME worker {w!r} gave no label in column {ann.columns['worker']!r}; "
                    "check the name (workers are matched as text)"
                )
            mask[index[str(w)]] = True
        return mask

    def _fit_shards(self, shards: Sequence[Shard]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ results
    def summarise(self, shards: Sequence[Shard], posts: Sequence[np.ndarray]) -> Summary:
        """The per-task and per-worker figures of fitted shards (see :class:`Summary`)."""
        ann = self.annotations_
        out = Summary.empty(ann.n_tasks, ann.n_workers, ann.n_classes)
        for s, p in zip(shards, posts):
            out.add(s, p)
        return out

    def _finish(
        self,
        summary: Summary,
        *,
        accuracy: np.ndarray | None,
        confusion: np.ndarray,
        counts: np.ndarray,
        crowd_pred: dict[int, int],
        iterations: int = 0,
        converged: bool = True,
    ) -> None:
        """Set ``posteriors_`` and ``result_``; ``accuracy`` defaults to agreement with the aggregate."""
        ann, g = self.annotations_, self.gold_
        post = summary.post
        post[g.task] = 0.0
        post[g.task, g.label] = 1.0
        final = np.nan_to_num(post, nan=-1.0).argmax(axis=1)
        n_w = summary.worker_labels
        agree_rate = np.divide(summary.worker_agree, n_w, out=np.full(len(n_w), np.nan), where=n_w > 0)
        if accuracy is None:
            accuracy = agree_rate
        is_gold = np.zeros(ann.n_tasks, dtype=bool)
        is_gold[g.task] = True
        classes = np.asarray(ann.classes, dtype=object)
        cols: dict[str, Any] = {
            "task": ann.tasks,
            "label": pd.array(classes[final].tolist()),
            "confidence": post[np.arange(ann.n_tasks), final],
            "n_labels": summary.task_labels,
            "agreement": summary.agreement,
            "gold": is_gold,
        }
        for i, c in enumerate(ann.classes):
            cols[proba_column(c)] = post[:, i]
        score = spammer_scores(counts)
        workers = pd.DataFrame(
            {
                "worker": ann.workers,
                "accuracy": accuracy,
                "n_labels": n_w,
                "agreement": agree_rate,
                "spammer_score": score,
                "spammer": (n_w >= getattr(self, "spammer_min_labels", 10)) & (np.nan_to_num(score, nan=1.0) < getattr(self, "spammer_threshold", 0.1)),
                "sme": self.sme_,
                "confusion": [c.tolist() for c in confusion],
            }
        )
        self.posteriors_ = post
        self.result_ = AggregateResult(
            method=self.method,
            classes=list(ann.classes),
            tasks=pd.DataFrame(cols),
            workers=workers,
            iterations=iterations,
            converged=converged,
            gold=self._gold_summary(crowd_pred),
            duplicates=ann.duplicates,
        )

    def _gold_summary(self, crowd_pred: dict[int, int]) -> dict[str, Any]:
        """Gold tasks, and how often the crowd alone (without the gold clamp) gets them right."""
        g = self.gold_
        if not len(g):
            return {"tasks": 0, "accuracy": None, "with_labels": 0}
        hits = [int(crowd_pred[t] == lab) for t, lab in zip(g.task.tolist(), g.label.tolist()) if t in crowd_pred]
        return {"tasks": int(len(g)), "accuracy": float(np.mean(hits)) if hits else None, "with_labels": len(hits)}

    @staticmethod
    def hard_confusion(shards: Sequence[Shard], summary: Summary, n_workers: int, n_classes: int) -> np.ndarray:
        """(W, K, K) confusion of every worker against the aggregated (hard) labels."""
        final = np.nan_to_num(summary.post, nan=-1.0).argmax(axis=1)
        hard = np.zeros((n_workers, n_classes, n_classes))
        for s in shards:
            hard += s.m_stats(np.eye(n_classes)[final[s.task_ids]]).counts
        rows = hard.sum(axis=2, keepdims=True)
        return np.divide(hard, rows, out=np.full_like(hard, 1.0 / n_classes), where=rows > 0)

    def result(self) -> AggregateResult:
        """Per-task and per-worker tables of the fit."""
        check_is_fitted(self, "posteriors_")
        return self.result_
