"""Training accepts probabilistic labels as sample weights (`raymlops train --weight-col`)."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from raymlops.core.errors import InvalidInputError
from raymlops.training.models import fit_on_features
from raymlops.training.prepared import WEIGHT_REASON, Prepared, check_weights
from raymlops.training.train_tune import hgb_trainable


def test_weights_change_the_fit():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    y = pd.Series([0, 1, 0, 1])
    t = FunctionTransformer().fit(X)
    plain = fit_on_features(t, LogisticRegression(), X, y)
    heavy = fit_on_features(t, LogisticRegression(), X, y, sample_weight=[10.0, 1.0, 10.0, 1.0])
    assert heavy.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean() + 0.1


def test_weight_column_is_not_a_feature():
    df = pd.DataFrame({"x": [1.0, 2.0], "w": [0.5, 1.0], "y": [0, 1]})
    prep = Prepared(train=df, validation=df, test=df, transform=None, task="classification", target="y", artifacts={}, weight="w")
    X, _ = prep.xy("train")
    assert list(X.columns) == ["x"] and prep.weights("train").tolist() == [0.5, 1.0]


def test_weight_column_listed_as_excluded_is_dropped_once():
    df = pd.DataFrame({"x": [1.0, 2.0], "w": [0.5, 1.0], "y": [0, 1]})
    excluded = ({"column": "w", "reason": WEIGHT_REASON},)
    prep = Prepared(train=df, validation=df, test=df, transform=None, task="classification", target="y", artifacts={},
                    exclude=("w",), excluded=excluded, weight="w")
    assert list(prep.xy("test")[0].columns) == ["x"]
    assert prep.excluded_columns() == [{"column": "w", "reason": "the sample weight (--weight-col)"}]


def test_unweighted_prepared_data_has_no_weights():
    df = pd.DataFrame({"x": [1.0], "y": [0]})
    assert Prepared(train=df, validation=df, test=df, transform=None, task="classification", target="y", artifacts={}).weights("train") is None


@pytest.mark.parametrize("values, message", [([1.0, -0.5], "row 1: -0.5"), ([1.0, "high"], "row 1: 'high'"), ([1.0, None], "row 1: None")])
def test_bad_weights_name_the_row(values, message):
    with pytest.raises(InvalidInputError, match=message):
        check_weights(pd.DataFrame({"w": values}), "w")


def test_missing_weight_column():
    with pytest.raises(InvalidInputError, match="weight column 'w' is not in the data"):
        check_weights(pd.DataFrame({"x": [1]}), "w")


def test_the_tune_trainable_fits_with_the_weights(monkeypatch):
    """Every trial weights its rows: zero weight on one class leaves a model that never predicts it."""
    reported = []
    monkeypatch.setattr("raymlops.training.train_tune.report", lambda metrics, model: reported.append(model))
    X = pd.DataFrame({"x": [float(i % 10) for i in range(200)]}).to_numpy()
    y = (X[:, 0] >= 5).astype(int)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    hgb_trainable({"seed": 0}, data=data, task="classification", metric="accuracy")
    assert set(reported[-1].predict(X)) == {0, 1}
    reported.clear()
    hgb_trainable({"seed": 0}, data={**data, "w_train": (y == 0).astype(float)}, task="classification", metric="accuracy")
    assert set(reported[-1].predict(X)) == {0}
