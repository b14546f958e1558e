from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.semi_supervised import LabelSpreading

from raymlops.core.errors import InvalidInputError
from raymlops.labeling import KNNLabelSpreading, SelfTraining
from raymlops.labeling.semi import KNNIndex, default_estimator


def test_self_training_adds_confident_pseudo_labels_with_their_round():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    rng = np.random.default_rng(0)
    lab = np.zeros(len(y), bool)
    lab[rng.choice(len(y), 40, replace=False)] = True
    seen = []

    def score(model, rows):
        seen.append(len(rows))
        return model.predict_proba(rows)

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    st = SelfTraining(est, threshold=0.95, max_iter=3).fit(X[lab], y[lab], X[~lab], score=score)
    p = st.pseudo_
    assert len(p) > 0 and (p["confidence"] >= 0.95).all()
    assert seen[0] == (~lab).sum() and p["round"].min() == 1
    truth = y[~lab].to_numpy()[p["row"].to_numpy()]
    assert (p["label"].to_numpy() == truth).mean() > 0.75


def test_self_training_needs_two_classes_and_a_probability_threshold():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(InvalidInputError, match="at least two"):
        SelfTraining().fit(X[:5], np.zeros(5), X[5:10])
    with pytest.raises(InvalidInputError, match="threshold 1.5"):
        SelfTraining(threshold=1.5).fit(X[:5], y[:5], X[5:10])


def test_default_estimator_handles_strings_and_few_rows():
    import pandas as pd

    X = pd.DataFrame({"a": np.arange(30.0), "c": ["x", "y", "z"] * 10})
    model = default_estimator(X).fit(X, np.arange(30) % 2)
    assert model.predict_proba(X).shape == (30, 2)


def test_label_spreading_matches_scikit_learn_knn_on_digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    yl = np.full(len(y), -1)
    idx = rng.choice(len(y), 90, replace=False)
    yl[idx] = y[idx]
    mask = yl == -1
    ours = KNNLabelSpreading(n_neighbors=7, alpha=0.2).fit(X, yl)
    theirs = LabelSpreading(kernel="knn", n_neighbors=7, alpha=0.2, max_iter=100).fit(X, yl)
    a = (ours.transduction_[mask] == y[mask]).mean()
    b = (theirs.transduction_[mask] == y[mask]).mean()
    assert a >= b - 0.02
    assert ours.predict(X[:50]).shape == (50,)


def test_partitioned_neighbour_search_finds_most_true_neighbours():
    X = np.random.default_rng(1).normal(size=(4000, 16)).astype(np.float32)
    exact, _ = KNNIndex(exact_below=10**9).fit(X).query(X[:300], 10)
    approx, _ = KNNIndex(exact_below=0, n_probe=6, seed=0).fit(X).query(X[:300], 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx)])
    assert recall > 0.4  # structureless Gaussian data is the hard case; clustered data does far better
    assert (approx[:, 0] == np.arange(300)).mean() > 0.99  # a row is its own nearest neighbour


def test_label_spreading_needs_a_label():
    with pytest.raises(InvalidInputError, match="no labelled row"):
        KNNLabelSpreading().fit(np.zeros((5, 2)), np.full(5, -1))
