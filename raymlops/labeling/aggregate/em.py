"""Dawid-Skene EM over shards of the long table: the E-step and the sufficient statistics.

A :class:`Shard` holds whole tasks (every label of each of its tasks), sorted by task,
as flat integer arrays. Its :meth:`Shard.step` runs the E-step for its tasks under the
current parameters and returns the M-step's sufficient statistics (:class:`Stats`):
soft confusion counts per worker and class counts. Statistics of shards add up, so
the EM loop (:class:`~raymlops.labeling.aggregate.dawid_skene.DawidSkene`) gets the
same numbers from one process holding one shard, from several shards in turn (bounded
memory at 10M labels), or from Ray Data tasks each holding some shards.

Everything is vectorised over the labels through one sparse incidence matrix per shard,
``B`` (tasks x (worker, observed label)), a CSR view of the task-sorted labels built
once: the E-step sums each task's ``log pi[worker, :, label]`` as ``B @ log_pi`` and the
M-step's ``worker x true x observed`` counts are ``B.T @ posteriors``. Memory is
O(labels); there is no tasks x workers matrix anywhere.

Example:
    >>> import numpy as np
    >>> shard = Shard.build(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1, 1, 0]), n_workers=2, n_classes=2)
    >>> shard.majority_posteriors().tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    >>> shard.init_stats().counts[0].tolist()   # worker 0: [true, observed] soft counts
    [[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Params", "Shard", "Stats", "make_shards", "FLOOR"]

FLOOR = 1e-10  # smallest probability: keeps logs finite (crowd-kit clips at the same value)


@dataclass
class Params:
    """Dawid-Skene parameters.

    Attributes:
        log_prior: (K,) log class probabilities.
        log_conf: (W, K, K) log confusions, ``[worker, true, observed]``, rows sum to 1;
            or (W, K, K + 1) when abstaining is an answer too (labeling functions): the
            last column is the probability of abstaining, and every worker is taken to
            have answered every task (the shard's tasks, plus those nobody labelled).
        weight: (W,) power on each worker's likelihood (1 = independent evidence), or None.
    """

    log_prior: np.ndarray
    log_conf: np.ndarray
    weight: np.ndarray | None = None


@dataclass
class Stats:
    """Sufficient statistics of the M-step; shards' statistics add up.

    Attributes:
        counts: (W, K, K) soft counts ``[worker, true, observed]``.
        class_counts: (K,) summed task posteriors.
        loglik: log-likelihood of the shard's labels (gold tasks: joint with their gold class).
    """

    counts: np.ndarray
    class_counts: np.ndarray
    loglik: float = 0.0

    def __add__(self, other: Stats) -> Stats:
        return Stats(self.counts + other.counts, self.class_counts + other.class_counts, self.loglik + other.loglik)

    @classmethod
    def zeros(cls, n_workers: int, n_classes: int) -> Stats:
        return cls(np.zeros((n_workers, n_classes, n_classes)), np.zeros(n_classes), 0.0)


class Shard:
    """Whole tasks of the annotation table, sorted by task (see the module docstring).

    Build with :meth:`build`. ``task_ids`` are the shard's global task codes; everything
    else is indexed by the local task position.
    """

    def __init__(
        self,
        task_ids: np.ndarray,
        starts: np.ndarray,
        sizes: np.ndarray,
        worker: np.ndarray,
        label: np.ndarray,
        gold: np.ndarray,
        n_workers: int,
        n_classes: int,
    ):
        self.task_ids = task_ids
        self.starts = starts
        self.sizes = sizes
        self.worker = worker
        self.label = label
        self.gold = gold
        self.n_workers = n_workers
        self.n_classes = n_classes
        dtype = np.int64 if n_workers * n_classes >= 2**31 else np.int32
        self.wl = worker.astype(dtype) * n_classes + label
        self._incidence: sp.csr_matrix | None = None

    def incidence(self, weight: np.ndarray | None = None) -> sp.csr_matrix:
        """(tasks, W*K) CSR: entry ``[t, w*K + l]`` is 1 (or ``weight[w]``) when worker w answered l on task t.

        The labels are sorted by task, so the CSR arrays are the shard's own (no copy of
        the structure); the unweighted matrix is kept for the next iteration.
        """
        if weight is None and self._incidence is not None:
            return self._incidence
        indptr = np.append(self.starts, self.n_labels) if self.n_tasks else np.zeros(1, dtype=np.int64)
        data = np.ones(self.n_labels) if weight is None else np.asarray(weight, dtype=float)[self.worker]
        b = sp.csr_matrix((data, self.wl, indptr), shape=(self.n_tasks, self.n_workers * self.n_classes))
        if weight is None:
            self._incidence = b
        return b

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_incidence": None}  # rebuilt where the shard lands (Ray tasks)

    @classmethod
    def build(
        cls,
        task: np.ndarray,
        worker: np.ndarray,
        label: np.ndarray,
        *,
        n_workers: int,
        n_classes: int,
        gold_task: np.ndarray | None = None,
        gold_label: np.ndarray | None = None,
    ) -> Shard:
        """A shard from global codes (in any order); gold is (task code, class code) pairs."""
        task = np.asarray(task)
        order = np.argsort(task, kind="stable")
        t = task[order]
        first = np.flatnonzero(np.r_[True, t[1:] != t[:-1]]) if len(t) else np.zeros(0, dtype=np.int64)
        task_ids, starts, sizes = t[first], first, np.diff(np.append(first, len(t)))
        gold = np.full(len(task_ids), -1, dtype=np.int32)
        if gold_task is not None and len(gold_task) and len(task_ids):
            pos = np.searchsorted(task_ids, gold_task)
            pos_c = np.minimum(pos, len(task_ids) - 1)
            hit = task_ids[pos_c] == gold_task
            gold[pos_c[hit]] = np.asarray(gold_label)[hit]
        return cls(
            task_ids=task_ids.astype(np.int64),
            starts=starts.astype(np.int64),
            sizes=sizes.astype(np.int64),
            worker=np.asarray(worker)[order].astype(np.int32),
            label=np.asarray(label)[order].astype(np.int32),
            gold=gold,
            n_workers=n_workers,
            n_classes=n_classes,
        )

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)

    @property
    def n_labels(self) -> int:
        return len(self.label)

    # ------------------------------------------------------------------ E-step
    def scores(self, params: Params) -> np.ndarray:
        """(n, K) unnormalised log posteriors: log prior + summed log confusions of each task's labels."""
        k = self.n_classes
        if self.n_labels == 0:
            return np.zeros((0, k))
        conf = params.log_conf
        abstain = None
        if conf.shape[2] == k + 1:  # a vote replaces that worker's abstain in the all-abstain baseline
            abstain = conf[:, :, k]
            conf = conf[:, :, :k] - abstain[:, :, None]
        by_observed = conf.transpose(0, 2, 1).reshape(-1, k)  # row w*K+obs -> log pi[w, :, obs]
        s = np.asarray(self.incidence(params.weight) @ by_observed)
        s += params.log_prior
        if abstain is not None:
            s += abstain.sum(axis=0) if params.weight is None else params.weight @ abstain
        return s

    def e_step(self, params: Params, *, clamp: bool = True) -> tuple[np.ndarray, float]:
        """Task posteriors (gold tasks fixed to their class when ``clamp``) and the log-likelihood."""
        s = self.scores(params)
        top = _row_max(s)[:, None]
        e = np.exp(s - top)
        z = (e @ np.ones(e.shape[1]))[:, None]  # row sums (a matmul: numpy's axis-1 sum is slow on few columns)
        post = e / z
        lse = (top + np.log(z)).ravel()
        g = self.gold >= 0
        if clamp and g.any():
            rows = np.flatnonzero(g)
            loglik = float(lse[~g].sum() + s[rows, self.gold[rows]].sum())
            post[rows] = 0.0
            post[rows, self.gold[rows]] = 1.0
        else:
            loglik = float(lse.sum())
        return post, loglik

    # ------------------------------------------------------------------ M-step statistics
    def m_stats(self, post: np.ndarray, loglik: float = 0.0) -> Stats:
        """Soft confusion and class counts from task posteriors ``post`` (n, K)."""
        k, w = self.n_classes, self.n_workers
        by_observed = np.asarray(self.incidence().T @ post)  # row w*K+obs -> soft counts of each true class
        counts = np.ascontiguousarray(by_observed.reshape(w, k, k).transpose(0, 2, 1))
        return Stats(counts, post.sum(axis=0), loglik)

    def step(self, params: Params) -> Stats:
        """One E-step under ``params``, then the statistics of the next M-step."""
        post, loglik = self.e_step(params)
        return self.m_stats(post, loglik)

    # ------------------------------------------------------------------ initialisation and reporting
    def majority_posteriors(self, weight: np.ndarray | None = None, *, clamp: bool = True) -> np.ndarray:
        """(n, K) vote shares per task (weighted by ``weight[worker]``), gold tasks fixed when ``clamp``."""
        k = self.n_classes
        observed = np.tile(np.eye(k), (self.n_workers, 1))  # row w*K+l -> one-hot of l
        votes = np.asarray(self.incidence(weight) @ observed, dtype=float)
        total = votes.sum(axis=1, keepdims=True)
        post = np.divide(votes, total, out=np.full_like(votes, 1.0 / k), where=total > 0)
        if clamp:
            g = np.flatnonzero(self.gold >= 0)
            post[g] = 0.0
            post[g, self.gold[g]] = 1.0
        return post

    def final(self, params: Params) -> tuple[np.ndarray, Stats, dict[int, int]]:
        """The last pass: clamped posteriors, their statistics, and the crowd's own guess on gold tasks."""
        raw, _ = self.e_step(params, clamp=False)
        preds = self.gold_predictions(raw)
        post, loglik = self.e_step(params)
        return post, self.m_stats(post, loglik), preds

    def gold_predictions(self, post: np.ndarray) -> dict[int, int]:
        """Global task code -> predicted class, for this shard's gold tasks, from unclamped ``post``."""
        g = np.flatnonzero(self.gold >= 0)
        return dict(zip(self.task_ids[g].tolist(), post[g].argmax(axis=1).tolist()))

    def init_stats(self, weight: np.ndarray | None = None) -> Stats:
        """Statistics from majority-vote posteriors (the EM's starting point)."""
        return self.m_stats(self.majority_posteriors(weight))

    def agreement(self, final: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per task: share of its labels equal to ``final`` (local); per worker: labels that agree."""
        eq = (self.label == np.repeat(final, self.sizes)).astype(np.float64)
        per_task = np.add.reduceat(eq, self.starts) / self.sizes if self.n_labels else np.zeros(0)
        per_worker = np.bincount(self.worker, weights=eq, minlength=self.n_workers)
        return per_task, per_worker

    def summary(self, post: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(agreement per task, labels per task, labels per worker, agreeing labels per worker) under ``post``."""
        per_task, agree_w = self.agreement(post.argmax(axis=1))
        return per_task, self.sizes, np.bincount(self.worker, minlength=self.n_workers), agree_w


def _row_max(a: np.ndarray) -> np.ndarray:
    """The maximum of each row of a tall matrix with few columns (column by column: faster than ``max(axis=1)``)."""
    out = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        np.maximum(out, a[:, j], out=out)
    return out


def make_shards(
    task: np.ndarray,
    worker: np.ndarray,
    label: np.ndarray,
    *,
    n_workers: int,
    n_classes: int,
    gold_task: np.ndarray | None = None,
    gold_label: np.ndarray | None = None,
    max_labels: int = 2_000_000,
) -> list[Shard]:
    """Split a table into shards of whole tasks with at most about ``max_labels`` labels each."""
    task = np.asarray(task)
    n = len(task)
    if n <= max_labels:
        return [
            Shard.build(task, worker, label, n_workers=n_workers, n_classes=n_classes, gold_task=gold_task, gold_label=gold_label)
        ]
    order = np.argsort(task, kind="stable")
    t = task[order]
    cuts = [0]
    while cuts[-1] + max_labels < n:
        c = int(np.searchsorted(t, t[cuts[-1] + max_labels], side="left"))
        cuts.append(c if c > cuts[-1] else int(np.searchsorted(t, t[cuts[-1]], side="right")))
    cuts.append(n)
    out = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        idx = order[a:b]
        out.append(
            Shard.build(task[idx], worker[idx], label[idx], n_workers=n_workers, n_classes=n_classes, gold_task=gold_task, gold_label=gold_label)
        )
    return out
