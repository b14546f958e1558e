from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from raymlops.core.errors import InvalidInputError
from raymlops.labeling import DawidSkene, diverse_batch, relabel_scores, select, unlabeled_scores
from raymlops.labeling.active import entropy, least_confidence, margin, quality_weight


def test_uncertainty_scores_order_rows_the_same_way_for_two_classes():
    p1 = np.linspace(0.5, 1.0, 11)
    p = np.stack([p1, 1 - p1], axis=1)
    for fn in (least_confidence, margin, entropy):
        s = fn(p)
        assert (np.diff(s) <= 1e-12).all(), fn.__name__


def test_select_returns_the_k_highest_scores_in_order():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=1000)
    idx, scores = select(p, k=10, strategy="entropy")
    assert (np.diff(scores) <= 0).all()
    assert set(idx) == set(np.argsort(-entropy(p))[:10])


def test_random_strategy_is_seeded():
    p = np.full((100, 2), 0.5)
    assert select(p, k=5, strategy="random", seed=1)[0].tolist() == select(p, k=5, strategy="random", seed=1)[0].tolist()
    assert select(p, k=5, strategy="random", seed=1)[0].tolist() != select(p, k=5, strategy="random", seed=2)[0].tolist()


def test_diverse_batch_spreads_over_clusters_where_top_k_does_not():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 10, (10, 8))
    X = np.concatenate([c + rng.normal(0, 0.5, (300, 8)) for c in centers])
    cluster = np.repeat(np.arange(10), 300)
    p1 = rng.uniform(0.51, 0.6, len(X))
    p1[:10] = 0.5  # the ten most uncertain rows are all in cluster 0
    p = np.stack([p1, 1 - p1], axis=1)
    top = select(p, k=10, strategy="margin")[0]
    div = select(p, k=10, strategy="diverse", X=X)[0]
    assert len(set(cluster[top])) == 1
    assert len(set(cluster[div])) >= 5 and len(set(div)) == 10


def test_unknown_strategy_and_diverse_without_features():
    with pytest.raises(InvalidInputError, match="unknown strategy 'badge'"):
        select(np.zeros((2, 2)), k=1, strategy="badge")
    with pytest.raises(InvalidInputError, match="needs the pool's numeric features"):
        select(np.zeros((2, 2)), k=1, strategy="diverse")


def test_relabel_scores_rank_like_cleanlabs_activelab():
    cleanlab = pytest.importorskip("cleanlab.multiannotator")  # a project dependency
    rng = np.random.default_rng(0)
    n, m, k = 200, 5, 3
    truth = rng.integers(0, k, n)
    acc = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    dense = np.full((n, m), np.nan)
    rows = []
    for i in range(n):
        for j in rng.choice(m, size=rng.integers(1, 4), replace=False):
            lab = truth[i] if rng.random() < acc[j] else rng.integers(0, k)
            dense[i, j] = lab
            rows.append((i, f"a{j}", int(lab)))
    pred = np.clip(np.eye(k)[truth] * 0.6 + rng.dirichlet(np.ones(k), n) * 0.4, 1e-3, 1)
    pred /= pred.sum(axis=1, keepdims=True)
    theirs, _ = cleanlab.get_active_learning_scores(pd.DataFrame(dense), pred)
    res = DawidSkene().fit(pd.DataFrame(rows, columns=["task", "worker", "label"])).result()
    post = res.tasks.sort_values("task")[[f"proba_{c}" for c in range(k)]].to_numpy()
    wacc = res.workers.set_index("worker")["accuracy"]
    weights = [quality_weight(wacc.loc[[f"a{j}" for j in np.flatnonzero(~np.isnan(dense[i]))]].to_numpy(), k) for i in range(n)]
    ours = relabel_scores(post, pred, annotator_weights=weights, classes=k)
    assert spearmanr(ours, theirs).statistic > 0.7
    low = set(np.argsort(ours)[:40]) & set(np.argsort(theirs)[:40])
    assert len(low) >= 20


def test_contested_single_label_tasks_come_before_unanimous_ones():
    post = np.array([[0.99, 0.01], [0.55, 0.45]])
    model = np.array([[0.95, 0.05], [0.5, 0.5]])
    s = relabel_scores(post, model, annotator_weights=[[0.8, 0.8, 0.8], [0.8]], classes=2)
    u = unlabeled_scores(np.array([[0.5, 0.5]]), model_weight=0.5, mean_annotator_weight=0.8)
    assert s[1] < s[0] and u[0] < s[0]
