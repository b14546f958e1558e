"""Declared metrics: values against sklearn.metrics, directions, lookup and model scoring."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from raymlops.core.errors import InvalidInputError
from raymlops.training.metrics import (
    METRICS,
    Metric,
    default_metric,
    get_metric,
    is_better,
    model_task,
    predict_for,
    score,
    score_model,
)


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.choice(["ham", "spam"], n)
    p_spam = np.clip(np.where(y == "spam", 0.65, 0.35) + rng.normal(0, 0.2, n), 0.01, 0.99)
    proba = np.column_stack([1 - p_spam, p_spam])
    y_pred = np.where(p_spam > 0.5, "spam", "ham")
    return y, y_pred, proba


@pytest.fixture
def multiclass():
    rng = np.random.default_rng(1)
    n = 400
    classes = np.array(["bird", "cat", "dog"], dtype=object)
    y = rng.choice(classes, n)
    logits = rng.normal(size=(n, 3)) + 1.5 * (y[:, None] == classes[None, :])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_pred = classes[proba.argmax(axis=1)]
    return y, y_pred, proba, classes


def test_registry_declares_directions_and_tasks():
    expected = {
        "accuracy": (True, False, ("classification",)),
        "balanced_accuracy": (True, False, ("classification",)),
        "f1": (True, False, ("classification",)),
        "precision": (True, False, ("classification",)),
        "recall": (True, False, ("classification",)),
        "roc_auc": (True, True, ("classification",)),
        "log_loss": (False, True, ("classification",)),
        "rmse": (False, False, ("regression",)),
        "mae": (False, False, ("regression",)),
        "r2": (True, False, ("regression",)),
    }
    assert {n: (m.greater_is_better, m.needs_proba, m.tasks) for n, m in METRICS.items()} == expected
    assert all(isinstance(m, Metric) and m.name == n for n, m in METRICS.items())
    with pytest.raises(AttributeError):
        METRICS["accuracy"].greater_is_better = False  # frozen


def test_binary_metrics_match_sklearn_with_second_sorted_class_positive(binary):
    y, y_pred, proba = binary
    pos = "spam"  # sorted(["ham", "spam"])[1]
    assert score("accuracy", y, y_pred) == skm.accuracy_score(y, y_pred)
    assert score("balanced_accuracy", y, y_pred) == pytest.approx(skm.balanced_accuracy_score(y, y_pred), abs=1e-15)
    assert score("f1", y, y_pred) == skm.f1_score(y, y_pred, pos_label=pos)
    assert score("precision", y, y_pred) == skm.precision_score(y, y_pred, pos_label=pos)
    assert score("recall", y, y_pred) == skm.recall_score(y, y_pred, pos_label=pos)
    assert score("roc_auc", y, proba=proba) == skm.roc_auc_score(y == pos, proba[:, 1])
    assert score("log_loss", y, proba=proba) == skm.log_loss(y, proba, labels=["ham", "spam"])
    # a 1-D proba is the probability of the second class
    assert score("roc_auc", y, proba=proba[:, 1]) == score("roc_auc", y, proba=proba)
    assert score("log_loss", y, proba=proba[:, 1]) == pytest.approx(score("log_loss", y, proba=proba), rel=1e-12)


def test_binary_positive_class_follows_sorted_order_not_first_seen():
    y_true = np.array([1, 1, 0, 0, 1])
    y_pred = np.array([1, 0, 0, 1, 1])
    assert score("precision", y_true, y_pred) == skm.precision_score(y_true, y_pred, pos_label=1)
    yb_true, yb_pred = y_true.astype(bool), y_pred.astype(bool)
    assert score("recall", yb_true, yb_pred) == skm.recall_score(yb_true, yb_pred, pos_label=True)
    # pandas string columns (pandas 3 "str" dtype) work like object arrays
    s_true = pd.Series(np.where(y_true == 1, "yes", "no"))
    s_pred = pd.Series(np.where(y_pred == 1, "yes", "no"))
    assert score("f1", s_true, s_pred) == skm.f1_score(y_true, y_pred)


def test_multiclass_metrics_are_macro_and_ovr(multiclass):
    y, y_pred, proba, classes = multiclass
    assert score("f1", y, y_pred) == skm.f1_score(y, y_pred, average="macro")
    assert score("precision", y, y_pred) == skm.precision_score(y, y_pred, average="macro")
    assert score("recall", y, y_pred) == skm.recall_score(y, y_pred, average="macro")
    assert score("balanced_accuracy", y, y_pred) == pytest.approx(skm.balanced_accuracy_score(y, y_pred), abs=1e-15)
    assert score("roc_auc", y, proba=proba, classes=classes) == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=list(classes)), abs=1e-15
    )
    assert score("log_loss", y, proba=proba, classes=classes) == skm.log_loss(y, proba, labels=list(classes))


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(2)
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.3, size=200)
    assert score("rmse", y, pred) == skm.root_mean_squared_error(y, pred)
    assert score("mae", y, pred) == skm.mean_absolute_error(y, pred)
    assert score("r2", y, pred) == skm.r2_score(y, pred)
    assert score("rmse", pd.Series(y), list(pred)) == skm.root_mean_squared_error(y, pred)


def test_undefined_values_are_nan_without_warnings():
    # pytest turns warnings into errors, so these also prove no UndefinedMetricWarning
    assert math.isnan(score("roc_auc", ["a", "a"], proba=[0.2, 0.7], classes=["a", "b"]))
    assert math.isnan(score("r2", [1.0], [2.0]))
    # 0/0 is undefined (nan), not sklearn's default 0: no predicted positives -> no precision
    assert math.isnan(score("precision", ["a", "b"], ["a", "a"]))
    assert score("recall", ["a", "b"], ["a", "a"]) == 0.0  # a positive was missed: recall is 0
    # a slice without positives, all predicted negative: F1 undefined; predicted positives there: F1 0
    assert math.isnan(score("f1", [0, 0, 0], [0, 0, 0], classes=[0, 1]))
    assert score("f1", [0, 0, 0], [0, 1, 0], classes=[0, 1]) == 0.0
    # macro F1 leaves the undefined class out of the mean
    assert score("f1", ["a", "a", "b"], ["a", "a", "b"]) == 1.0
    # multiclass OvR leaves out classes absent from the rows
    classes = ["a", "b", "c"]
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    y = np.array(["a", "b", "a", "b"])
    expected = np.mean([skm.roc_auc_score(y == "a", proba[:, 0]), skm.roc_auc_score(y == "b", proba[:, 1])])
    assert score("roc_auc", y, proba=proba, classes=classes) == expected
    # a slice lacking a class still uses the fixed classes for log loss
    assert score("log_loss", y, proba=proba, classes=classes) == skm.log_loss(y, proba, labels=classes)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=40)
)
def test_label_metrics_match_sklearn_on_random_labels(pairs):
    y_true = np.array([t for t, _ in pairs], dtype=object)
    y_pred = np.array([p for _, p in pairs], dtype=object)
    labels = sorted(set(y_true) | set(y_pred))
    assert score("accuracy", y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    if len(labels) == 2:
        kw = {"average": "binary", "pos_label": labels[1]}
    else:
        kw = {"average": "macro"}
    assert score("f1", y_true, y_pred) == skm.f1_score(y_true, y_pred, zero_division=0.0, **kw)
    if len(labels) == 1:
        assert score("balanced_accuracy", y_true, y_pred) == 1.0
    elif set(y_pred) <= set(y_true):  # otherwise sklearn warns about y_pred-only classes
        assert score("balanced_accuracy", y_true, y_pred) == pytest.approx(
            skm.balanced_accuracy_score(y_true, y_pred), abs=1e-12
        )


def test_get_metric_unknown_name_lists_valid_names_by_task():
    with pytest.raises(InvalidInputError) as err:
        get_metric("acc")
    msg = str(err.value)
    assert "'acc'" in msg
    assert "classification: accuracy, balanced_accuracy, f1, precision, recall, roc_auc, log_loss" in msg
    assert "regression: rmse, mae, r2" in msg


def test_get_metric_of_another_task_says_which_apply():
    assert get_metric("r2", task="regression").name == "r2"
    with pytest.raises(InvalidInputError, match="applies to regression, not classification.*accuracy"):
        get_metric("rmse", task="classification")
    with pytest.raises(InvalidInputError, match="unknown task"):
        get_metric("rmse", task="ranking")


def test_default_metric():
    assert default_metric("classification") == "accuracy"
    assert default_metric("regression") == "rmse"
    with pytest.raises(InvalidInputError):
        default_metric("clustering")


def test_is_better_follows_direction_and_margin():
    assert is_better("accuracy", 0.91, 0.90)
    assert not is_better("accuracy", 0.90, 0.90)  # strict
    assert not is_better("accuracy", 0.91, 0.90, min_delta=0.02)
    assert is_better("log_loss", 0.30, 0.35)
    assert not is_better("log_loss", 0.35, 0.30)
    assert is_better("rmse", 1.0, 1.5, min_delta=0.4)
    assert not is_better("rmse", 1.2, 1.5, min_delta=0.4)
    assert is_better(get_metric("r2"), 0.5, 0.4)
    assert is_better("accuracy", 0.1, None) and is_better("rmse", 9.0, math.nan)
    assert not is_better("accuracy", math.nan, 0.5)
    with pytest.raises(InvalidInputError, match="min_delta"):
        is_better("accuracy", 0.9, 0.8, min_delta=-0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"metric": "roc_auc", "y_true": [0, 1]}, "needs class probabilities"),
        ({"metric": "accuracy", "y_true": [0, 1]}, "needs predictions"),
        ({"metric": "accuracy", "y_true": [0, 1], "y_pred": [0]}, "1 rows but y_true has 2"),
        ({"metric": "accuracy", "y_true": [], "y_pred": []}, "no rows"),
        ({"metric": "accuracy", "y_true": ["a", None], "y_pred": ["a", "a"]}, "missing value"),
        ({"metric": "accuracy", "y_true": np.array(["a", 1], dtype=object), "y_pred": ["a", "a"]}, "mixes label types"),
        (
            {"metric": "log_loss", "y_true": [0, 1, 2], "proba": [[0.5, 0.5]] * 3, "classes": [0, 1]},
            "not among the classes",
        ),
        ({"metric": "log_loss", "y_true": [0, 1], "proba": [[1.0, 0.0, 0.0]] * 2, "classes": [0, 1]}, "shape"),
        ({"metric": "log_loss", "y_true": [0, 1], "proba": [0.5, 0.5], "classes": [0, 1, 2]}, "1-D proba"),
        ({"metric": "rmse", "y_true": ["a", "b"], "y_pred": [1.0, 2.0]}, "must be numbers"),
        (
            {"metric": "f1", "y_true": ["a", "b"], "y_pred": ["a", "c"], "classes": ["a", "b"]},
            r"y_pred has labels \['c'\]",
        ),
    ],
)
def test_score_rejects_unusable_input(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        score(**kwargs)


@pytest.fixture
def frame():
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "color": rng.choice(["red", "blue"], n)})
    logit = 2 * df["x"] + (df["color"] == "red")
    df["label"] = np.where(logit + rng.logistic(size=n) > 0, "yes", "no")
    df["value"] = 3 * df["x"] + rng.normal(size=n)
    return df


def test_score_model_on_a_pipeline_with_string_labels(frame):
    X, y = frame[["x", "color"]], frame["label"]
    pre = make_column_transformer((StandardScaler(), ["x"]), (OneHotEncoder(), ["color"]))
    model = make_pipeline(pre, LogisticRegression()).fit(X, y)
    got = score_model(model, X, y, ["accuracy", "f1", "roc_auc", "log_loss"])
    assert list(got) == ["accuracy", "f1", "roc_auc", "log_loss"]
    pred, proba = model.predict(X), model.predict_proba(X)
    assert got["accuracy"] == skm.accuracy_score(y, pred)
    assert got["f1"] == skm.f1_score(y, pred, pos_label="yes")
    assert got["roc_auc"] == skm.roc_auc_score(y == "yes", proba[:, 1])
    assert got["log_loss"] == skm.log_loss(y, proba, labels=model.classes_)
    assert score_model(model, X, y, "accuracy") == {"accuracy": got["accuracy"]}


def test_score_model_regression(frame):
    model = LinearRegression().fit(frame[["x"]], frame["value"])
    got = score_model(model, frame[["x"]], frame["value"], ["rmse", "r2"])
    pred = model.predict(frame[["x"]])
    assert got == {"rmse": skm.root_mean_squared_error(frame["value"], pred), "r2": skm.r2_score(frame["value"], pred)}
    assert model_task(model) == "regression"


def test_score_model_calls_only_what_the_metrics_need(frame):
    calls = []

    class Spy(LogisticRegression):
        def predict(self, X):
            calls.append("predict")
            return super().predict(X)

        def predict_proba(self, X):
            calls.append("predict_proba")
            return super().predict_proba(X)

    model = Spy().fit(frame[["x"]], frame["label"])
    score_model(model, frame[["x"]], frame["label"], ["accuracy", "f1"])
    assert calls == ["predict"]
    calls.clear()
    score_model(model, frame[["x"]], frame["label"], ["roc_auc", "log_loss"])
    assert calls == ["predict_proba"]


def test_score_model_explains_unusable_models_and_metrics(frame):
    X, y = frame[["x"]], frame["label"]
    with pytest.raises(InvalidInputError, match="LinearSVC has no predict_proba, which roc_auc need"):
        score_model(LinearSVC().fit(X, y), X, y, ["accuracy", "roc_auc"])
    with pytest.raises(InvalidInputError, match="applies to regression, not classification"):
        score_model(LogisticRegression().fit(X, y), X, y, ["rmse"])
    with pytest.raises(InvalidInputError, match="not fitted"):
        score_model(LogisticRegression(), X, y, ["accuracy"])
    with pytest.raises(InvalidInputError, match="repeat"):
        score_model(LogisticRegression().fit(X, y), X, y, ["accuracy", "accuracy"])
    with pytest.raises(InvalidInputError, match="no metrics"):
        score_model(LogisticRegression().fit(X, y), X, y, [])
    model = LogisticRegression().fit(X, y)
    y_new = y.where(y != "yes", "maybe")
    with pytest.raises(InvalidInputError, match=r"\['maybe'\].*not among the classes"):
        score_model(model, X, y_new, ["accuracy"])


def test_predictions_score_on_a_subset(frame):
    X, y = frame[["x"]], frame["label"].to_numpy()
    model = LogisticRegression().fit(X, y)
    preds = predict_for(model, X, ["accuracy", "roc_auc"])
    assert preds.task == "classification" and list(preds.classes) == ["no", "yes"]
    rows = np.flatnonzero(frame["color"] == "red")
    assert preds.score("accuracy", y, rows=rows) == skm.accuracy_score(y[rows], preds.y_pred[rows])
    assert preds.score("roc_auc", y, rows=rows) == skm.roc_auc_score(y[rows] == "yes", preds.proba[rows, 1])
