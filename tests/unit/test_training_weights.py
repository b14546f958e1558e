"""Training accepts probabilistic labels as sample weights (`raymlops train --weight-col`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from raymlops.core.errors import InvalidInputError
from raymlops.training.models import fit_on_features
from raymlops.training.train import Prepared, _check_weights


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


@pytest.mark.parametrize("values, message", [([1.0, -0.5], "row 1: -0.5"), ([1.0, "high"], "row 1: 'high'"), ([1.0, None], "row 1: None")])
def test_bad_weights_name_the_row(values, message):
    with pytest.raises(InvalidInputError, match=message):
        _check_weights(pd.DataFrame({"w": values}), "w")


def test_missing_weight_column():
    with pytest.raises(InvalidInputError, match="weight column 'w' is not in the data"):
        _check_weights(pd.DataFrame({"x": [1]}), "w")
