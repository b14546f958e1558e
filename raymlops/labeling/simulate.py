"""Simulated annotators with known truth, for tests, benchmarks and the demo.

No installable package ships a real crowd dataset with ground truth (crowd-kit and
peerannot download theirs), so aggregation is measured on seeded simulations:

- every worker has a confusion matrix whose rows are drawn from a Dirichlet centred
  on the worker's accuracy (drawn uniformly from ``accuracy_range``);
- ``spammer_share`` of the workers are spammers: one answer distribution for every
  true class (half answer uniformly at random, half favour one class);
- activity follows a power law: the worker of rank r is picked with probability
  proportional to ``r ** -activity_exponent``;
- every task gets a number of labels drawn from ``labels_per_task`` (count -> share),
  from distinct workers;
- ``gold_share`` of the tasks get a gold (true) label from subject-matter experts, and
  ``n_sme`` SME workers at ``sme_accuracy`` label ``sme_share`` of the tasks each.

``SPARSE`` is the regime where most tasks have at most three labels; ``DENSE`` has
three to five labels per task.

Example:
    >>> crowd = simulate_crowd(n_tasks=1000, n_workers=50, n_classes=3, seed=0)
    >>> crowd.annotations.columns.tolist(), len(crowd.gold), int(crowd.spammers.sum())
    (['task', 'worker', 'label'], 20, 8)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Crowd", "simulate_crowd", "simulate_lfs", "SPARSE", "DENSE"]

SPARSE = {1: 0.15, 2: 0.3, 3: 0.3, 4: 0.15, 5: 0.1}
DENSE = {3: 1 / 3, 4: 1 / 3, 5: 1 / 3}


@dataclass
class Crowd:
    """A simulated crowd: its labels, the truth and how every worker really behaves.

    Attributes:
        annotations: ``task, worker, label`` (ints; workers are ``w<i>``, SMEs ``sme<i>``).
        truth: true class per task (index = task id).
        gold: ``task, label`` for the gold tasks.
        confusions: (W, K, K) true confusion matrices ``[worker, true, observed]`` in
            the order of ``workers``.
        workers: worker ids.
        spammers: which workers are spammers.
        smes: SME worker ids.
    """

    annotations: pd.DataFrame
    truth: pd.Series
    gold: pd.DataFrame
    confusions: np.ndarray
    workers: np.ndarray
    spammers: np.ndarray
    smes: list[str]


def _confusions(rng: np.random.Generator, n: int, k: int, acc: np.ndarray, concentration: float) -> np.ndarray:
    out = np.empty((n, k, k))
    for c in range(k):
        alpha = np.full((n, k), 0.0)
        alpha += (concentration * (1 - acc) / max(k - 1, 1))[:, None]
        alpha[:, c] = concentration * acc
        g = rng.gamma(np.maximum(alpha, 1e-3))
        out[:, c, :] = g / g.sum(axis=1, keepdims=True)
    return out


def _distinct_draws(rng: np.random.Generator, counts: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each task i, ``counts[i]`` distinct workers drawn from ``p`` (vectorised)."""
    n, m = len(counts), int(counts.max()) + 4
    cand = rng.choice(len(p), size=(n, m), p=p)
    valid = np.ones((n, m), dtype=bool)
    for j in range(1, m):
        valid[:, j] = ~(cand[:, :j] == cand[:, j : j + 1]).any(axis=1)
    rank = np.cumsum(valid, axis=1)
    take = valid & (rank <= counts[:, None])
    rows, cols = np.nonzero(take)
    return rows, cand[rows, cols]


def simulate_crowd(
    *,
    n_tasks: int = 10_000,
    n_workers: int = 300,
    n_classes: int = 3,
    labels_per_task: dict[int, float] | None = None,
    accuracy_range: tuple[float, float] = (0.55, 0.9),
    concentration: float = 20.0,
    spammer_share: float = 0.15,
    activity_exponent: float = 1.0,
    gold_share: float = 0.02,
    n_sme: int = 3,
    sme_share: float = 0.01,
    sme_accuracy: float = 0.97,
    class_weights: np.ndarray | None = None,
    truth: np.ndarray | None = None,
    seed: int = 0,
) -> Crowd:
    """A seeded simulated crowd (see the module docstring).

    ``truth`` (class indices) labels a real dataset's rows instead of drawing classes;
    it sets ``n_tasks``.
    """
    rng = np.random.default_rng(seed)
    k = n_classes
    lpt = labels_per_task or SPARSE
    prior = np.asarray(class_weights, dtype=float) if class_weights is not None else np.ones(k)
    prior = prior / prior.sum()
    if truth is not None:
        truth = np.asarray(truth, dtype=np.int64)
        n_tasks = len(truth)
    else:
        truth = rng.choice(k, size=n_tasks, p=prior)

    acc = rng.uniform(*accuracy_range, size=n_workers)
    conf = _confusions(rng, n_workers, k, acc, concentration)
    spam = np.zeros(n_workers, dtype=bool)
    spam[rng.choice(n_workers, size=int(round(spammer_share * n_workers)), replace=False)] = True
    for i in np.flatnonzero(spam):
        row = np.full(k, 1.0 / k) if rng.random() < 0.5 else rng.dirichlet(np.full(k, 0.5))
        conf[i] = row[None, :]

    activity = np.arange(1, n_workers + 1, dtype=float) ** -activity_exponent
    activity = activity[rng.permutation(n_workers)]
    activity /= activity.sum()
    sizes, shares = np.array(list(lpt)), np.array(list(lpt.values()), dtype=float)
    counts = rng.choice(sizes, size=n_tasks, p=shares / shares.sum())
    counts = np.minimum(counts, n_workers)
    task, worker = _distinct_draws(rng, counts, activity)

    # answers: inverse-CDF sampling from each label's confusion row
    rows = conf[worker, truth[task]]
    u = rng.random(len(task))[:, None]
    label = np.minimum((rows.cumsum(axis=1) < u).sum(axis=1), k - 1)

    workers = np.array([f"w{i}" for i in range(n_workers)], dtype=object)
    frames = [pd.DataFrame({"task": task, "worker": workers[worker], "label": label})]
    smes = [f"sme{i}" for i in range(n_sme)]
    sme_conf = np.full((k, k), (1 - sme_accuracy) / max(k - 1, 1)) + np.eye(k) * (sme_accuracy - (1 - sme_accuracy) / max(k - 1, 1))
    for name in smes:
        t = rng.choice(n_tasks, size=max(1, int(round(sme_share * n_tasks))), replace=False)
        cum = sme_conf[truth[t]].cumsum(axis=1)
        lab = np.minimum((cum < rng.random(len(t))[:, None]).sum(axis=1), k - 1)
        frames.append(pd.DataFrame({"task": t, "worker": name, "label": lab}))
    ann = pd.concat(frames, ignore_index=True)
    ann = ann.iloc[rng.permutation(len(ann))].reset_index(drop=True)

    g = rng.choice(n_tasks, size=int(round(gold_share * n_tasks)), replace=False)
    gold = pd.DataFrame({"task": np.sort(g), "label": truth[np.sort(g)]})
    all_workers = np.concatenate([workers, np.array(smes, dtype=object)])
    all_conf = np.concatenate([conf, np.broadcast_to(sme_conf, (n_sme, k, k))]) if n_sme else conf
    return Crowd(
        annotations=ann,
        truth=pd.Series(truth, name="label"),
        gold=gold,
        confusions=all_conf,
        workers=all_workers,
        spammers=np.concatenate([spam, np.zeros(n_sme, dtype=bool)]),
        smes=smes,
    )


def simulate_lfs(
    *,
    n_rows: int = 10_000,
    accuracies: tuple[float, ...] = (0.95, 0.9, 0.85, 0.75, 0.65, 0.6, 0.55, 0.55),
    coverages: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6),
    n_classes: int = 2,
    correlated: tuple[int, int] | None = (6, 7),
    copy_rate: float = 0.9,
    class_weights: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic labeling-function votes with known, unequal accuracies.

    LF j votes on a row with probability ``coverages[j]``; a vote is right with
    probability ``accuracies[j]``, otherwise another class at random. With
    ``correlated=(a, b)`` LF b repeats LF a's vote on ``copy_rate`` of the rows a votes
    on (a correlated pair, which a model assuming independence double-counts).

    Returns:
        ``(L, y)``: (n_rows, m) votes with -1 for abstain, and the true classes.

    Example:
        >>> L, y = simulate_lfs(n_rows=5, seed=0)
        >>> L.shape, y.shape
        ((5, 8), (5,))
    """
    rng = np.random.default_rng(seed)
    k = n_classes
    prior = np.asarray(class_weights, dtype=float) if class_weights is not None else np.ones(k)
    y = rng.choice(k, size=n_rows, p=prior / prior.sum())
    m = len(accuracies)
    L = np.full((n_rows, m), -1, dtype=np.int32)
    for j, (acc, cov) in enumerate(zip(accuracies, coverages)):
        votes = rng.random(n_rows) < cov
        right = rng.random(n_rows) < acc
        wrong = (y + rng.integers(1, max(k, 2), n_rows)) % k
        L[votes, j] = np.where(right, y, wrong)[votes]
    if correlated is not None:
        a, b = correlated
        copy = (L[:, a] >= 0) & (rng.random(n_rows) < copy_rate)
        L[copy, b] = L[copy, a]
    return L, y
