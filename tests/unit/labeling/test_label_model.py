from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from raymlops.core.errors import InvalidInputError
from raymlops.labeling import LabelModel, majority_vote
from raymlops.labeling.simulate import simulate_lfs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_at_least_as_accurate_as_majority_vote_with_unequal_accuracies_and_a_correlated_pair(seed):
    L, y = simulate_lfs(n_rows=8000, seed=seed)
    lm = LabelModel(cardinality=2).fit(L)
    pred = lm.predict(L)
    covered = pred >= 0
    mv = majority_vote(L, 2)
    assert (pred[covered] == y[covered]).mean() >= (mv[covered] == y[covered]).mean()
    assert lm.weights_[6] == lm.weights_[7] == 0.5 and (lm.weights_[:6] == 1).all()


def test_without_the_correlation_check_the_copied_pair_takes_over():
    L, y = simulate_lfs(n_rows=8000, seed=0)
    naive = LabelModel(cardinality=2, correlation=None).fit(L)
    assert naive.score(L, y) < LabelModel(cardinality=2).fit(L).score(L, y) - 0.1


def test_learned_accuracies_follow_the_true_ones():
    acc = (0.95, 0.85, 0.75, 0.65, 0.6)
    L, y = simulate_lfs(n_rows=20000, accuracies=acc, coverages=(0.5,) * 5, correlated=None, seed=4)
    lm = LabelModel(cardinality=2).fit(L)
    np.testing.assert_allclose(lm.accuracy_, acc, atol=0.03)


def test_rows_where_every_lf_abstains_get_no_label_and_are_counted():
    L = np.array([[0, -1], [-1, -1], [1, 1], [-1, -1], [0, 0]] * 20)
    lm = LabelModel(cardinality=2).fit(L)
    p = lm.predict_proba(L)
    assert lm.n_uncovered_ == 40
    assert np.isnan(p[1]).all() and (lm.predict(L)[[1, 3]] == -1).all()
    np.testing.assert_allclose(np.nansum(p, axis=1)[[0, 2, 4]], 1.0)


def test_unipolar_lfs_are_informative_through_their_abstains():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    pos = np.where((y == 1) & (rng.random(3000) < 0.6), 1, -1)  # only ever says 1
    neg = np.where((y == 0) & (rng.random(3000) < 0.6), 0, -1)  # only ever says 0
    pos2 = np.where((y == 1) & (rng.random(3000) < 0.5), 1, -1)
    L = np.stack([pos, neg, pos2], axis=1)
    lm = LabelModel(cardinality=2).fit(L)
    assert lm.score(L, y) > 0.99


def test_is_a_scikit_learn_estimator():
    L, y = simulate_lfs(n_rows=500, seed=0)
    lm = clone(LabelModel(cardinality=2, max_iter=20))
    assert lm.get_params()["max_iter"] == 20 and lm.fit(L).predict(L).shape == (500,)


def test_votes_outside_the_cardinality():
    with pytest.raises(InvalidInputError, match="voted class 3, but cardinality is 2"):
        LabelModel(cardinality=2).fit(np.array([[3, 0], [1, 0]]))


def test_all_abstain():
    with pytest.raises(InvalidInputError, match="every labeling function abstained"):
        LabelModel(cardinality=2).fit(np.full((4, 2), -1))
