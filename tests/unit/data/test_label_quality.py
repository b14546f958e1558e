"""Label issues: out-of-fold probabilities, cleanlab filtering, prune and relabel queue."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from raymlops.data.label_quality import (
    ISSUE_COLUMNS,
    encode_labels,
    find_label_issues,
    fit_fold,
    out_of_fold_probabilities,
    prune,
    relabel_queue,
)
from raymlops.core.errors import InvalidInputError


def _flip(y: np.ndarray, fraction: float, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``fraction`` of the labels to a different random class; return (noisy, flipped mask)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    idx = rng.choice(n, size=round(fraction * n), replace=False)
    noisy = y.copy()
    noisy[idx] = (y[idx] + rng.integers(1, n_classes, size=len(idx))) % n_classes
    flipped = np.zeros(n, dtype=bool)
    flipped[idx] = True
    return noisy, flipped


def _serialising_map(func, *iterables):
    """Like Ray: every call's function and arguments cross a pickle boundary."""
    calls = [pickle.dumps((func, args)) for args in zip(*iterables)]
    return [f(*a) for f, a in (pickle.loads(c) for c in calls)]


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=300, centers=[[0, 0], [5, 0], [0, 5]], random_state=1)
    labels = np.array(["ant", "bee", "cat"], dtype=object)[y]
    return X, labels


def test_digits_flipped_labels_are_found_with_precision_and_recall_over_0_8():
    # The required result: 5% of digits labels flipped to another class, default
    # estimator, serial map. Measured: 93 found, 85 of the 90 flipped: precision 0.914, recall 0.944, ~1.5 s.
    X, y = load_digits(return_X_y=True)
    noisy, flipped = _flip(y, 0.05, n_classes=10, seed=0)
    probs = out_of_fold_probabilities(X, noisy)
    issues = find_label_issues(noisy, probs)
    found = np.zeros(len(y), dtype=bool)
    found[issues["row_id"].to_numpy()] = True
    true_pos = (found & flipped).sum()
    precision, recall = true_pos / found.sum(), true_pos / flipped.sum()
    assert precision >= 0.8, precision
    assert recall >= 0.8, recall
    # the suggestion is mostly the original label
    hit = issues["row_id"].to_numpy()[flipped[issues["row_id"].to_numpy()]]
    assert (issues.set_index("row_id").loc[hit, "suggested_label"].to_numpy() == y[hit]).mean() > 0.9


def test_issues_frame_is_sorted_worst_first_with_decoded_labels(blobs):
    X, labels = blobs
    noisy = labels.copy()
    noisy[[0, 1, 2]] = ["cat", "ant", "bee"]
    noisy[0] = "bee" if labels[0] == "cat" else noisy[0]
    probs = out_of_fold_probabilities(X, noisy, estimator=LogisticRegression(), n_folds=3)
    issues = find_label_issues(noisy, probs)
    assert tuple(issues.columns) == ISSUE_COLUMNS
    assert issues["quality_score"].is_monotonic_increasing
    assert set(issues["row_id"]) >= {i for i in (0, 1, 2) if noisy[i] != labels[i]}
    assert set(issues["given_label"]) <= {"ant", "bee", "cat"}
    for _, row in issues.iterrows():
        assert row.suggested_label == labels[row.row_id]


def test_probability_columns_follow_sorted_labels(blobs):
    X, labels = blobs
    probs = out_of_fold_probabilities(X, labels, estimator=LogisticRegression(), n_folds=3)
    assert probs.shape == (len(labels), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    classes, codes = encode_labels(labels)
    assert classes.tolist() == ["ant", "bee", "cat"]
    assert (probs.argmax(axis=1) == codes).mean() > 0.95


def test_custom_map_fn_gives_the_serial_result(blobs):
    X, labels = blobs
    kwargs = dict(estimator=LogisticRegression(), n_folds=4, seed=3)
    serial = out_of_fold_probabilities(X, labels, **kwargs)
    calls = []

    def recording_map(func, *iterables):
        calls.append(func)
        return _serialising_map(func, *iterables)

    parallel = out_of_fold_probabilities(X, labels, map_fn=recording_map, **kwargs)
    np.testing.assert_array_equal(parallel, serial)
    assert calls == [fit_fold]


def test_seed_is_deterministic_and_changes_folds(blobs):
    X, labels = blobs
    a = out_of_fold_probabilities(X, labels, estimator=LogisticRegression(), seed=1)
    b = out_of_fold_probabilities(X, labels, estimator=LogisticRegression(), seed=1)
    c = out_of_fold_probabilities(X, labels, estimator=LogisticRegression(), seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dataframe_features_and_integer_row_ids(blobs):
    X, labels = blobs
    frame = pd.DataFrame(X, columns=["f0", "f1"], index=np.arange(1000, 1300))
    probs = out_of_fold_probabilities(frame, pd.Series(labels, index=frame.index), estimator=LogisticRegression())
    ids = np.arange(1000, 1300)
    noisy = labels.copy()
    noisy[5] = "ant" if labels[5] != "ant" else "bee"
    issues = find_label_issues(noisy, probs, row_ids=ids)
    assert issues["row_id"].isin(ids).all()


def test_fit_fold_is_pure_and_fills_missing_classes_with_zero():
    X = np.array([[0.0], [0.1], [5.0], [5.1]])
    est = LogisticRegression()
    out = fit_fold(X, np.array([0, 0, 2, 2]), np.array([[0.05], [5.05]]), est, n_classes=3)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    assert not hasattr(est, "classes_")  # the estimator passed in was not fitted


def test_explicit_classes_order():
    labels = np.array(["b", "a", "b"])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9]])  # columns: b, a
    issues = find_label_issues(labels, probs, classes=["b", "a"], filter_by="predicted_neq_given")
    # row 1 is "a" and column 1 (a) is its most probable: fine; row 2 is "b" but looks like "a"
    assert issues[["row_id", "given_label", "suggested_label"]].values.tolist() == [[2, "b", "a"]]


# ---------------------------------------------------------------------------- prune / queue


@pytest.fixture
def issues() -> pd.DataFrame:
    return pd.DataFrame(
        {"row_id": [2, 0], "given_label": ["x", "y"], "suggested_label": ["y", "x"], "quality_score": [0.01, 0.2]}
    )


def test_prune_drops_issue_rows_by_position_or_id(issues):
    df = pd.DataFrame({"uid": [10, 11, 12, 13], "v": [0.0, 1.0, 2.0, 3.0]}, index=list("abcd"))
    assert prune(df, issues).index.tolist() == ["b", "d"]
    by_id = prune(df, issues.assign(row_id=[12, 13]), id_column="uid")
    assert by_id["uid"].tolist() == [10, 11]
    with pytest.raises(InvalidInputError, match="row_id 7 is outside a frame of 4 rows"):
        prune(df, issues.assign(row_id=[7, 0]))
    with pytest.raises(InvalidInputError, match="id_column 'nope' not in the data"):
        prune(df, issues, id_column="nope")


@pytest.mark.parametrize("name", ["queue.csv", "sub/queue.parquet"])
def test_relabel_queue_round_trip(tmp_path, issues, name):
    df = pd.DataFrame({"text": ["p", "q", "r"], "label": ["y", "x", "x"]})
    path = relabel_queue(df, issues, tmp_path / name)
    back = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    assert list(back.columns) == [*ISSUE_COLUMNS, "reviewed_label", "text", "label"]
    assert back["row_id"].tolist() == [2, 0]
    assert back["text"].tolist() == ["r", "p"]
    assert back["reviewed_label"].isna().all()


def test_relabel_queue_errors(tmp_path, issues):
    df = pd.DataFrame({"quality_score": [1, 2, 3]})
    with pytest.raises(InvalidInputError, match=r"\.csv, \.parquet or \.pq"):
        relabel_queue(df, issues, tmp_path / "queue.xlsx")
    with pytest.raises(InvalidInputError, match="rename them first"):
        relabel_queue(df, issues, tmp_path / "queue.csv")


# ---------------------------------------------------------------------------- errors


def test_single_class_is_an_error():
    with pytest.raises(InvalidInputError, match="all 10 labels are 'a': .* at least 2 classes"):
        out_of_fold_probabilities(np.zeros((10, 2)), ["a"] * 10)


def test_rare_class_is_an_error_that_names_it():
    y = ["a"] * 20 + ["b"] * 3
    with pytest.raises(InvalidInputError, match=r"\('b', 3\).* fewer than 5 rows.* lower n_folds"):
        out_of_fold_probabilities(np.zeros((23, 2)), y)


def test_length_mismatch_and_bad_folds_are_errors():
    with pytest.raises(InvalidInputError, match="X has 4 rows but y has 3 labels"):
        out_of_fold_probabilities(np.zeros((4, 2)), [0, 1, 0])
    with pytest.raises(InvalidInputError, match="n_folds=1"):
        out_of_fold_probabilities(np.zeros((4, 2)), [0, 1, 0, 1], n_folds=1)


def test_missing_or_mixed_labels_are_errors():
    with pytest.raises(InvalidInputError, match="1 missing value"):
        encode_labels(["a", None, "b"])
    with pytest.raises(InvalidInputError, match="cannot be sorted"):
        encode_labels(np.array([1, "a"], dtype=object))


def test_estimator_without_probabilities_is_an_error(blobs):
    X, labels = blobs
    with pytest.raises(InvalidInputError, match="LinearSVC has no predict_proba"):
        out_of_fold_probabilities(X, labels, estimator=LinearSVC())


def test_pred_probs_shape_must_match():
    with pytest.raises(InvalidInputError, match="labels have 2 classes"):
        find_label_issues(["a", "b"], np.ones((2, 3)) / 3)
    with pytest.raises(InvalidInputError, match="3 rows but there are 2 labels"):
        find_label_issues(["a", "b"], np.ones((3, 2)) / 2)
    with pytest.raises(InvalidInputError, match="label 'c' is not in classes"):
        find_label_issues(["a", "c"], np.ones((2, 2)) / 2, classes=["a", "b"])
