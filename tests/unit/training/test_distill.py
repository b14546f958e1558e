"""Knowledge distillation: soft targets, the replicated-row loss identity, students, trial metrics."""

from __future__ import annotations

import pickle
import statistics
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax, softmax
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from raymlops.core.errors import InvalidInputError
from raymlops.training.distill import (
    STUDENT_KINDS,
    DistillationConfig,
    distill,
    distillation_set,
    make_student,
    model_size_bytes,
    pareto_front,
    pick_best,
    single_row_latency_ms,
    soften,
    teacher_logits,
    train_hard,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


# ---------------------------------------------------------------------------- soften


def test_soften_from_logits_is_softmax_over_temperature():
    z = np.random.default_rng(0).normal(size=(20, 5)) * 3
    for t in (0.5, 1.0, 2.0, 7.0):
        np.testing.assert_allclose(soften(z, t), softmax(z / t, axis=1), rtol=1e-12, atol=1e-15)


def test_soften_from_probabilities_equals_soften_from_logits():
    z = np.random.default_rng(1).normal(size=(20, 4)) * 2
    p = softmax(z, axis=1)
    for t in (1.0, 2.0, 5.0):
        expected = p ** (1 / t) / (p ** (1 / t)).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(soften(p, t, output="proba"), expected, rtol=1e-10)
        np.testing.assert_allclose(soften(p, t, output="proba"), soften(z, t), rtol=1e-10)


def test_soften_is_stable_for_extreme_logits_and_never_returns_zero():
    z = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3]])
    q = soften(z, 1.0)
    assert np.all(np.isfinite(q)) and q.min() >= 1e-12 * 0.99
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    np.testing.assert_allclose(q[1, 1:], [0.5, 0.5], rtol=1e-9)
    q = soften(np.array([[1.0, 0.0, 0.0]]), 3.0, output="proba")  # zeros are clipped before the log
    assert q.min() > 0 and q.argmax() == 0


def test_soften_binary_decision_function_is_two_class_sigmoid():
    z = np.array([-2.0, 0.0, 3.0])
    q = soften(z, 1.0)
    np.testing.assert_allclose(q[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (([[0.5, 0.5]], 0.0), {}),
        (([[0.5, 0.5]], -1.0), {}),
        (([[0.5, 0.5]], float("nan")), {}),
        (([[0.5, 0.6]], 1.0), {"output": "proba"}),
        (([[1.5, -0.5]], 1.0), {"output": "proba"}),
        (([[np.nan, 0.0]], 1.0), {}),
        (([[1.0]], 1.0), {}),
        (([[0.5, 0.5]], 1.0), {"output": "probs"}),
    ],
)
def test_soften_rejects_bad_input(args, kwargs):
    with pytest.raises(InvalidInputError):
        soften(*args, **kwargs)


def test_teacher_logits_prefers_decision_function_and_falls_back_to_log_proba(iris):
    X, y = iris
    lr = LogisticRegression(max_iter=1000).fit(X, y)
    np.testing.assert_allclose(teacher_logits(lr, X), lr.decision_function(X))
    np.testing.assert_allclose(soften(teacher_logits(lr, X), 1.0), lr.predict_proba(X), rtol=1e-9)
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    np.testing.assert_allclose(teacher_logits(rf, X), np.log(np.clip(rf.predict_proba(X), 1e-12, 1)))
    np.testing.assert_allclose(teacher_logits(lr, X, method="predict_proba"), np.log(lr.predict_proba(X)))
    with pytest.raises(InvalidInputError, match="no decision_function"):
        teacher_logits(rf, X, method="decision_function")


def test_teacher_logits_of_a_binary_teacher_have_two_columns(iris):
    X, y = iris
    binary = y > 0
    lr = LogisticRegression(max_iter=1000).fit(X, binary)
    z = teacher_logits(lr, X)
    assert z.shape == (len(X), 2)
    np.testing.assert_allclose(soften(z, 1.0), lr.predict_proba(X), rtol=1e-9)


# ---------------------------------------------------------------------------- the loss identity


def _fixed_model_proba(X: np.ndarray, k: int) -> np.ndarray:
    """A fixed probabilistic model: a seeded random linear softmax."""
    W = np.random.default_rng(42).normal(size=(X.shape[1], k))
    return softmax(X @ W, axis=1)


def _weighted_loss_on_set(X, y, soft, classes, alpha, t, normalize=False):
    Xr, yr, w = distillation_set(X, y, soft, alpha=alpha, temperature=t, classes=classes, normalize=normalize)
    P = _fixed_model_proba(np.asarray(Xr), len(classes))
    cols = pd.Index(classes).get_indexer(yr)
    return float(np.sum(w * -np.log(P[np.arange(len(yr)), cols]))), (Xr, yr, w, P)


def _direct_loss(X, y, soft, classes, alpha, t):
    P = _fixed_model_proba(np.asarray(X), len(classes))
    codes = pd.Index(classes).get_indexer(y)
    ce_hard = -np.log(P[np.arange(len(y)), codes])
    ce_soft = -(soft * np.log(P)).sum(axis=1)
    return float(np.sum(alpha * ce_hard + (1 - alpha) * t**2 * ce_soft))


@settings(max_examples=60, deadline=None)
@given(
    alpha=st.floats(0.0, 1.0),
    t=st.floats(0.25, 10.0),
    n=st.integers(1, 30),
    seed=st.integers(0, 2**16),
)
def test_weighted_log_loss_on_the_distillation_set_is_the_distillation_loss(alpha, t, n, seed):
    rng = np.random.default_rng(seed)
    classes = np.array(["cat", "dog", "eel", "fox"])
    X = rng.normal(size=(n, 3))
    y = classes[rng.integers(0, 4, n)]
    soft = soften(rng.normal(size=(n, 4)) * 3, t)
    on_set, (Xr, yr, w, P) = _weighted_loss_on_set(X, y, soft, classes, alpha, t)
    direct = _direct_loss(X, y, soft, classes, alpha, t)
    assert on_set == pytest.approx(direct, rel=1e-9, abs=1e-12)
    # scikit-learn's log_loss is the weighted mean: the same loss over the total weight
    total = n * (alpha + (1 - alpha) * t**2)
    assert w.sum() == pytest.approx(total, rel=1e-9)
    assert log_loss(yr, P, sample_weight=w, labels=classes) == pytest.approx(direct / total, rel=1e-9)
    # normalised weights: the same loss divided by alpha + (1 - alpha) t^2
    on_normalised, _ = _weighted_loss_on_set(X, y, soft, classes, alpha, t, normalize=True)
    assert on_normalised == pytest.approx(direct / (alpha + (1 - alpha) * t**2), rel=1e-9)


def test_distillation_set_identity_holds_for_a_fitted_model_and_a_dataframe(iris):
    X, y = iris
    Xdf = pd.DataFrame(X, columns=list("abcd"), index=[f"r{i}" for i in range(len(X))])
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    soft = soften(teacher_logits(teacher, X), 2.0)
    model = LogisticRegression(C=0.1, max_iter=1000).fit(Xdf, y)
    Xr, yr, w = distillation_set(Xdf, y, soft, alpha=0.3, temperature=2.0, classes=teacher.classes_)
    assert isinstance(Xr, pd.DataFrame) and list(Xr.columns) == list("abcd") and Xr.index.equals(pd.RangeIndex(len(Xr)))
    P = model.predict_proba(Xr)
    on_set = np.sum(w * -np.log(P[np.arange(len(yr)), yr]))
    Pd = model.predict_proba(Xdf)
    direct = np.sum(0.3 * -np.log(Pd[np.arange(len(y)), y]) + 0.7 * 4.0 * -(soft * np.log(Pd)).sum(axis=1))
    assert on_set == pytest.approx(direct, rel=1e-9)


def test_distillation_set_rows_labels_and_zero_weights():
    X = np.arange(6.0).reshape(3, 2)
    soft = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    Xr, yr, w = distillation_set(X, [0, 1, 1], soft, alpha=1.0, temperature=3.0, classes=[0, 1])
    np.testing.assert_array_equal(Xr, X)  # alpha = 1: only the hard rows (soft weights are 0)
    assert yr.tolist() == [0, 1, 1] and w.tolist() == [1.0, 1.0, 1.0]
    Xr, yr, w = distillation_set(X, [0, 1, 1], soft, alpha=0.0, temperature=1.0, classes=[0, 1])
    assert len(Xr) == 6 and yr.tolist() == [0, 1, 0, 1, 0, 1]
    np.testing.assert_allclose(w, soft.ravel())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y": [0, 1, 2]}, "not teacher classes"),
        ({"y": [0, 1]}, "one label per row"),
        ({"soft": [[0.5, 0.5], [0.5, 0.5], [0.5, 0.6]]}, "probability rows"),
        ({"soft": [[1.0], [1.0], [1.0]]}, "shape"),
        ({"alpha": 1.5}, "alpha"),
        ({"temperature": 0}, "temperature"),
        ({"classes": [0, 0]}, "distinct"),
    ],
)
def test_distillation_set_rejects_bad_input(kwargs, match):
    args = {
        "X": np.zeros((3, 2)),
        "y": [0, 1, 1],
        "soft": [[0.5, 0.5]] * 3,
        "alpha": 0.5,
        "temperature": 2.0,
        "classes": [0, 1],
    } | kwargs
    with pytest.raises(InvalidInputError, match=match):
        distillation_set(args.pop("X"), args.pop("y"), args.pop("soft"), **args)


# ---------------------------------------------------------------------------- config and students


def test_config_is_validated_comparable_and_round_trips():
    c = DistillationConfig(temperature=3, alpha=0.2, student="mlp", capacity=8.0, student_params={"alpha": 0.01})
    assert c.capacity == 8 and isinstance(c.capacity, int) and c.temperature == 3.0
    assert c == DistillationConfig.from_dict(c.to_dict())
    assert c.to_dict() == {
        "temperature": 3.0,
        "alpha": 0.2,
        "student": "mlp",
        "capacity": 8,
        "student_params": {"alpha": 0.01},
        "normalize_weights": True,
        "teacher_output": "auto",
    }
    assert c.options(alpha=0.5) == DistillationConfig(
        temperature=3, alpha=0.5, student="mlp", capacity=8, student_params={"alpha": 0.01}
    )
    assert c.options(alpha=0.5) != c and c.alpha == 0.2
    assert "DistillationConfig(temperature=3.0, alpha=0.2, student='mlp', capacity=8" in repr(c)
    assert DistillationConfig(student="logreg").capacity == 1.0
    assert c.weight_scale == pytest.approx(0.2 + 0.8 * 9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 1.01}, "alpha"),
        ({"student": "svm"}, "student"),
        ({"student": "mlp", "capacity": 3.5}, "whole number"),
        ({"student": "mlp", "capacity": 0}, "whole number"),
        ({"student": "logreg", "capacity": -1.0}, "> 0"),
        ({"student_params": {"no_such_param": 1}}, "do not fit"),
        ({"teacher_output": "logits"}, "teacher_output"),
        ({"normalize_weights": "yes"}, "normalize_weights"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        DistillationConfig(**kwargs)


def test_config_is_keyword_only_and_from_dict_rejects_unknown_keys():
    with pytest.raises(TypeError):
        DistillationConfig(2.0)  # type: ignore[misc]
    with pytest.raises(InvalidInputError, match="unknown"):
        DistillationConfig.from_dict({"temperature": 2.0, "temprature": 3.0})


@pytest.mark.parametrize("kind, capacity", [("logreg", 0.5), ("mlp", 3), ("hgb", 5)])
def test_every_student_kind_distils_with_sample_weights(iris, kind, capacity):
    X, y = iris
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    config = DistillationConfig(temperature=2.0, alpha=0.2, student=kind, capacity=capacity)
    student = distill(teacher, X, y, config, seed=0)
    np.testing.assert_array_equal(student.classes_, teacher.classes_)
    assert (student.predict(X) == y).mean() > 0.8
    baseline = train_hard(X, y, config, seed=0)
    assert type(baseline) is type(student)
    assert repr(make_student(config, seed=0)) == repr(make_student(config, seed=0))
    assert set(STUDENT_KINDS) == {"logreg", "mlp", "hgb"}


def test_alpha_one_distils_exactly_the_hard_student(iris):
    X, y = iris
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    config = DistillationConfig(temperature=4.0, alpha=1.0, student="logreg", capacity=0.3)
    distilled, hard = distill(teacher, X, y, config), train_hard(X, y, config)
    np.testing.assert_allclose(distilled[-1].coef_, hard[-1].coef_, rtol=1e-6, atol=1e-8)


def test_distill_with_string_labels_and_a_dataframe(iris):
    X, y = iris
    Xdf = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(Xdf, names)
    student = distill(teacher, Xdf, names, DistillationConfig(student="logreg", temperature=2.0), seed=1)
    assert student.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert (student.predict(Xdf) == names).mean() > 0.9


def test_distill_rejects_labels_the_teacher_does_not_know_and_non_configs(iris):
    X, y = iris
    teacher = LogisticRegression(max_iter=1000).fit(X[y < 2], y[y < 2])
    with pytest.raises(InvalidInputError, match="not teacher classes"):
        distill(teacher, X, y, DistillationConfig(student="logreg"))
    with pytest.raises(InvalidInputError, match="DistillationConfig"):
        distill(teacher, X, y, {"temperature": 2.0})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- trial metrics


def test_model_size_is_the_pickle_length(iris):
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)
    assert model_size_bytes(model) == len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    big = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    assert model_size_bytes(big) > model_size_bytes(model)


def test_single_row_latency_is_a_positive_median(iris):
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)
    ms = single_row_latency_ms(model, X, repeats=20)
    assert 0 < ms < 1000
    assert single_row_latency_ms(model, pd.DataFrame(X).iloc[:3], repeats=5) > 0

    class Slow:
        def predict(self, X):
            time.sleep(0.002)
            return np.zeros(len(X))

    assert single_row_latency_ms(Slow(), X, repeats=5, warmup=0) >= 2.0
    with pytest.raises(InvalidInputError):
        single_row_latency_ms(model, X[:0])
    with pytest.raises(InvalidInputError):
        single_row_latency_ms(model, X, repeats=0)


def test_pareto_front_with_default_objectives():
    rows = [
        {"accuracy": 0.95, "latency_ms": 2.0, "size_bytes": 9000},  # most accurate
        {"accuracy": 0.90, "latency_ms": 0.5, "size_bytes": 3000},  # fastest and smallest
        {"accuracy": 0.90, "latency_ms": 0.6, "size_bytes": 3000},  # dominated by row 1
        {"accuracy": 0.93, "latency_ms": 1.0, "size_bytes": 12000},  # a trade-off
        {"accuracy": 0.90, "latency_ms": 0.5, "size_bytes": 3000},  # a copy of row 1
    ]
    assert pareto_front(rows) == [True, True, False, True, True]
    assert pareto_front(rows, {"accuracy": "max"}) == [True, False, False, False, False]
    assert pareto_front(rows, {"size_bytes": "min"}) == [False, True, True, False, True]
    assert pareto_front([]) == []


def test_pareto_front_and_pick_best_reject_bad_rows():
    with pytest.raises(InvalidInputError, match="latency_ms"):
        pareto_front([{"accuracy": 0.9, "size_bytes": 1}])
    with pytest.raises(InvalidInputError, match="direction"):
        pareto_front([{"accuracy": 0.9}], {"accuracy": "up"})
    with pytest.raises(InvalidInputError):
        pareto_front([{"accuracy": float("nan"), "latency_ms": 1.0, "size_bytes": 1}])
    with pytest.raises(InvalidInputError, match="latency_budget_ms"):
        pick_best([{"accuracy": 0.9}], latency_budget_ms="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="latency_ms"):
        pick_best([{"accuracy": 0.9}], latency_budget_ms=1.0)


def test_pick_best_within_the_latency_budget():
    rows = [
        {"trial": "a", "accuracy": 0.95, "latency_ms": 3.0},
        {"trial": "b", "accuracy": 0.91, "latency_ms": 0.9},
        {"trial": "c", "accuracy": 0.91, "latency_ms": 0.4},
        {"trial": "d", "accuracy": 0.80, "latency_ms": 0.1},
    ]
    assert pick_best(rows)["trial"] == "a"
    assert pick_best(rows, latency_budget_ms=1.0)["trial"] == "c"  # tie on accuracy: faster wins
    assert pick_best(rows, latency_budget_ms=0.1)["trial"] == "d"  # the budget is inclusive
    assert pick_best(rows, latency_budget_ms=0.05) is None
    assert pick_best([]) is None
    assert pick_best(rows, metric="latency_ms", mode="min")["trial"] == "d"


# ---------------------------------------------------------------------------- the required result


def test_distilled_student_beats_the_same_student_on_hard_labels_on_digits():
    """Distillation helps a capacity-limited student on digits, against a fair baseline.

    Setup: scikit-learn's bundled digits (1,797 8×8 images, 10 classes), a stratified
    30 % / 70 % train/test split per seed. Teacher: an MLP with 256 hidden units (Adam).
    Student: the ``"mlp"`` kind with 4 hidden units (L-BFGS, L2 ``alpha=1.0``), the same
    estimator, hyperparameters, seed and 539 training rows for both arms; the distilled
    arm uses t=3, alpha=0.1.

    Why this baseline is fair: with L2 1e-4 or 1e-2 the hard 4-unit student reaches only
    about 0.81 and 0.83 (measured over 3 seeds), so 1.0 is the hard student's best L2 of
    those three, not a handicap; weights are normalised, so the distilled student's
    regularisation is not weakened by the replicated rows either.

    Measured while writing this (5 seeds): hard 0.893 ± 0.011; distilled t=1 0.898 ± 0.009,
    t=2 0.909 ± 0.007, t=3 0.908 ± 0.003, t=4 0.901 ± 0.004. At t=2 and t=3 the
    distilled student won on all 5 seeds, but on some by only 5–8 of 1,258 test digits,
    a margin a different BLAS build could flip for a 4-unit network. So this test asserts
    the mean gain over 3 seeds (≥ 1 point; about 1.6 expected) and that the mean paired
    gain is larger than its own standard error, not a win on every seed.
    """
    X, y = load_digits(return_X_y=True)
    config = DistillationConfig(temperature=3.0, alpha=0.1, student="mlp", capacity=4)
    hard, soft, teacher_acc = [], [], []
    t0 = time.perf_counter()
    for seed in (0, 1, 2):
        Xtr, Xte, ytr, yte = train_test_split(X, y, train_size=0.3, stratify=y, random_state=seed)
        teacher = make_pipeline(StandardScaler(), MLPClassifier((256,), max_iter=1000, random_state=seed))
        teacher.fit(Xtr, ytr)
        teacher_acc.append(teacher.score(Xte, yte))
        hard.append(train_hard(Xtr, ytr, config, seed=seed).score(Xte, yte))
        student = distill(teacher, Xtr, ytr, config, seed=seed)
        soft.append(student.score(Xte, yte))
    elapsed = time.perf_counter() - t0
    gains = np.subtract(soft, hard)
    size_ratio = model_size_bytes(teacher) / model_size_bytes(student)
    latency_ratio = single_row_latency_ms(teacher, Xte, repeats=100) / single_row_latency_ms(student, Xte, repeats=100)

    def fmt(v):
        return f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}  {[round(x, 4) for x in v]}"

    print(
        f"\ndigits distillation (t=3, alpha=0.1, MLP 256 → MLP 4, 3 seeds, {elapsed:.1f} s)\n"
        f"  teacher   {fmt(teacher_acc)}\n  hard      {fmt(hard)}\n  distilled {fmt(soft)}\n"
        f"  paired gain {gains.mean():.4f} ± {gains.std(ddof=1):.4f}\n"
        f"  teacher/student size {size_ratio:.1f}x ({model_size_bytes(teacher)} / {model_size_bytes(student)} bytes), "
        f"single-row latency {latency_ratio:.2f}x"
    )
    assert statistics.mean(soft) > statistics.mean(hard) + 0.01
    assert gains.mean() > gains.std(ddof=1) / np.sqrt(len(gains))
    assert size_ratio > 10
